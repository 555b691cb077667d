using System.Data;
using Catalog.Api.Data;
using Dapper;
using Npgsql;

namespace Catalog.Api.Products;

/// <summary>The reads, on a connection of the endpoint Database.QueryAsync chose (Dapper). EF Core's query pipeline
/// cost about a third of a read's CPU and four times its allocations; the table, its mapping and its migrations stay
/// EF Core's (CatalogDbContext), and writes go through it.</summary>
internal static class ProductQueries
{
    /// <summary>Every column of catalog.products, named as <see cref="Product"/> names them.</summary>
    private const string Select =
        "SELECT id, sku, name, description, brand, category, attributes, status, created_at AS CreatedAt, updated_at AS UpdatedAt, xmin AS Version " +
        "FROM " + CatalogDbContext.Schema + ".products";

    static ProductQueries() => SqlMapper.AddTypeHandler(new AttributesHandler());

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

    /// <summary>The jsonb attribute map, with the source-generated serializer (as EF Core's value converter).</summary>
    private sealed class AttributesHandler : SqlMapper.TypeHandler<Dictionary<string, string>>
    {
        public override Dictionary<string, string> Parse(object value) => AttributesJson.Read((string)value);

        public override void SetValue(IDbDataParameter parameter, Dictionary<string, string>? value) =>
            throw new NotSupportedException("products are written through EF Core");
    }
}
