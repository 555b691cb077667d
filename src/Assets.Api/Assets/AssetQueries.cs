using Assets.Api.Data;
using Dapper;
using Npgsql;

namespace Assets.Api.Assets;

/// <summary>The reads, on a connection of the endpoint Database.QueryAsync chose (Dapper), as Catalog's: the table,
/// its mapping and its migrations stay EF Core's (AssetsDbContext), and writes go through it.</summary>
internal static class AssetQueries
{
    /// <summary>Every column of assets.assets, named as <see cref="Asset"/> names them.</summary>
    private const string Select =
        "SELECT id, product_id AS ProductId, object_key AS ObjectKey, file_name AS FileName, content_type AS ContentType, " +
        "size_bytes AS SizeBytes, sha256, status, created_at AS CreatedAt, updated_at AS UpdatedAt FROM " + AssetsDbContext.Schema + ".assets";

    public static Task<Asset?> ByIdAsync(NpgsqlConnection connection, Guid id, CancellationToken ct) =>
        connection.QuerySingleOrDefaultAsync<Asset>(new CommandDefinition(Select + " WHERE id = @id", new { id }, cancellationToken: ct));

    /// <summary>One keyset page of a product's assets in id order.</summary>
    public static async Task<IReadOnlyList<Asset>> PageAsync(NpgsqlConnection connection, Guid productId, Guid? after, int fetch, CancellationToken ct)
    {
        var sql = Select + " WHERE product_id = @productId" + (after is null ? "" : " AND id > @after") + " ORDER BY id LIMIT @fetch";
        var rows = await connection.QueryAsync<Asset>(new CommandDefinition(sql, new { productId, after, fetch }, cancellationToken: ct));
        return rows.AsList();
    }
}
