using System.Data;
using Catalog.Api.Data;
using Dapper;
using Npgsql;
using NpgsqlTypes;

namespace Catalog.Api.Products;

/// <summary>The hot statements (Dapper), on a connection the platform's Database chose: the reads on the endpoint
/// Database.QueryAsync routed them to, the insert in Database.ExecuteAsync's transaction on the writer. EF Core's query
/// pipeline cost about a third of a read's CPU and four times its allocations, its SaveChanges pipeline 60 % of a
/// create's. The table, its mapping and its migrations stay EF Core's (CatalogDbContext), and so do the writes that
/// read before they change (update with its concurrency token).</summary>
internal static class ProductSql
{
    /// <summary>Every column of catalog.products, named as <see cref="Product"/> names them.</summary>
    private const string Select =
        "SELECT id, sku, name, description, brand, category, attributes, status, created_at AS CreatedAt, updated_at AS UpdatedAt, xmin AS Version " +
        "FROM " + CatalogDbContext.Schema + ".products";

    static ProductSql() => SqlMapper.AddTypeHandler(new AttributesHandler());

    public static Task<Product?> ByIdAsync(NpgsqlConnection connection, Guid id, CancellationToken ct) =>
        connection.QuerySingleOrDefaultAsync<Product>(new CommandDefinition(Select + " WHERE id = @id", new { id }, cancellationToken: ct));

    public static Task<Product?> BySkuAsync(NpgsqlConnection connection, string sku, CancellationToken ct) =>
        connection.QuerySingleOrDefaultAsync<Product>(new CommandDefinition(Select + " WHERE sku = @sku", new { sku }, cancellationToken: ct));

    /// <summary>One keyset page in id order, optionally of one category and status (each filter has its index).</summary>
    public static async Task<IReadOnlyList<Product>> PageAsync(NpgsqlConnection connection, string? category, ProductStatus? status,
        Guid? after, int fetch, CancellationToken ct)
    {
        var sql = Select + " WHERE true" +
                  (category is null ? "" : " AND category = @category") +
                  (status is null ? "" : " AND status = @status") +
                  (after is null ? "" : " AND id > @after") +
                  " ORDER BY id LIMIT @fetch";
        var rows = await connection.QueryAsync<Product>(new CommandDefinition(sql,
            new { category, status = status is { } s ? ProductRules.StatusName(s) : null, after, fetch }, cancellationToken: ct));
        return rows.AsList();
    }

    /// <summary>Inserts a new product; answers its version (xmin), the ETag. A duplicate SKU fails with the unique
    /// violation of <see cref="ProductRules.SkuUniqueIndex"/>.</summary>
    public static Task<uint> InsertAsync(NpgsqlConnection connection, Product p, CancellationToken ct) =>
        connection.ExecuteScalarAsync<uint>(new CommandDefinition(
            "INSERT INTO " + CatalogDbContext.Schema + ".products (id, sku, name, description, brand, category, attributes, status, created_at, updated_at) " +
            "VALUES (@Id, @Sku, @Name, @Description, @Brand, @Category, @Attributes, @status, @CreatedAt, @UpdatedAt) RETURNING xmin",
            new { p.Id, p.Sku, p.Name, p.Description, p.Brand, p.Category, p.Attributes, status = ProductRules.StatusName(p.Status), p.CreatedAt, p.UpdatedAt },
            cancellationToken: ct));

    /// <summary>The jsonb attribute map, with the source-generated serializer (as EF Core's value converter).</summary>
    private sealed class AttributesHandler : SqlMapper.TypeHandler<Dictionary<string, string>>
    {
        public override Dictionary<string, string> Parse(object value) => AttributesJson.Read((string)value);

        public override void SetValue(IDbDataParameter parameter, Dictionary<string, string>? value)
        {
            ((NpgsqlParameter)parameter).NpgsqlDbType = NpgsqlDbType.Jsonb;
            parameter.Value = AttributesJson.Write(value ?? []);
        }
    }
}
