using Assets.Api.CatalogClient;
using Assets.Api.Data;
using Assets.Api.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform;
using Platform.Data;

namespace Assets.Api.Assets;

public static class AssetsApi
{
    public static IEndpointRouteBuilder MapAssetsApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/v1").WithTags("Assets")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        api.MapPost("/products/{productId:guid}/assets", Create).WithName("CreateAsset").RequireAuthorization(PlatformPolicies.Write);
        api.MapGet("/products/{productId:guid}/assets", List).WithName("ListAssets");
        api.MapGet("/assets/{id:guid}", Get).WithName("GetAsset");
        api.MapPost("/assets/{id:guid}/complete", Complete).WithName("CompleteAsset").RequireAuthorization(PlatformPolicies.Write);
        api.MapDelete("/assets/{id:guid}", Delete).WithName("DeleteAsset").RequireAuthorization(PlatformPolicies.Write);
        return endpoints;
    }

    /// <summary>Step 1 of an upload: records a pending asset and answers with a presigned PUT for the bytes. An unknown
    /// product is 404 (not 422): the product is named by the URL, so the resource addressed does not exist and no
    /// change to the body could make the request succeed.</summary>
    public static async Task<Results<Created<CreatedAsset>, ProblemHttpResult>> Create(
        Guid productId, CreateAssetRequest request, Database<AssetsDbContext> database, CatalogApiClient catalog,
        ObjectStorage storage, IOptionsMonitor<StorageOptions> options, TimeProvider time, CancellationToken ct)
    {
        var (errors, contentType, sha256) = AssetRules.Validate(request, options.CurrentValue.MaxSizeBytes);
        if (errors.Count > 0) return PlatformResults.ValidationProblem(errors);

        if (!await catalog.ProductExistsAsync(productId, ct))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Product not found",
                detail: $"Catalog has no product {productId}.", extensions: new Dictionary<string, object?> { ["field"] = "productId" });
        }

        var now = time.GetUtcNow();
        var id = Guid.CreateVersion7(now);
        var asset = new Asset
        {
            Id = id,
            ProductId = productId,
            ObjectKey = AssetRules.ObjectKey(productId, id),
            FileName = request.FileName!,
            ContentType = contentType,
            SizeBytes = request.SizeBytes!.Value,
            Sha256 = sha256,
            CreatedAt = now,
            UpdatedAt = now,
        };
        // Presigned before the row is written, so a failure to presign (credentials unavailable) leaves nothing behind.
        var upload = await storage.PresignUploadAsync(asset.ObjectKey, asset.ContentType, asset.SizeBytes, asset.Sha256);
        await database.WriteAsync(async (db, token) =>
        {
            db.Assets.Add(asset);
            return await db.SaveChangesAsync(token);
        }, ct);
        return TypedResults.Created($"/api/v1/assets/{id}",
            new CreatedAsset(AssetResponse.From(asset), new UploadInstructions(upload.Method, upload.Url, upload.Headers, upload.ExpiresAt)));
    }

    /// <summary>Step 3: checks the object S3 holds against what was declared, then makes the asset available.
    /// Repeating it on an available asset answers the same.</summary>
    public static async Task<Results<Ok<AssetResponse>, ProblemHttpResult, NotFound>> Complete(
        Guid id, Database<AssetsDbContext> database, ObjectStorage storage, TimeProvider time, CancellationToken ct)
    {
        // From the writer: the client usually completes right after creating, before the reader has replayed the row.
        var asset = await database.QueryAsync(ReadFrom.Writer, (connection, token) => AssetQueries.ByIdAsync(connection, id, token), ct);
        if (asset is null) return TypedResults.NotFound();

        var stored = await storage.HeadAsync(asset.ObjectKey, ct);
        if (stored is null)
        {
            return Conflict("Not uploaded", "S3 has no object for this asset yet: PUT the bytes to the upload URL first.");
        }
        if (stored.SizeBytes != asset.SizeBytes || !string.Equals(stored.ContentType, asset.ContentType, StringComparison.OrdinalIgnoreCase))
        {
            return Conflict("Upload differs from the declaration",
                $"S3 holds {stored.SizeBytes} bytes of {stored.ContentType ?? "no type"}; declared were {asset.SizeBytes} bytes of {asset.ContentType}. " +
                "Upload the declared file again, or delete this asset and create a new one.");
        }

        if (asset.Status != AssetStatus.Available)
        {
            var now = time.GetUtcNow();
            var updated = await database.WriteAsync((db, token) => db.Assets
                .Where(a => a.Id == id && a.Status == AssetStatus.Pending)
                .ExecuteUpdateAsync(s => s.SetProperty(a => a.Status, AssetStatus.Available).SetProperty(a => a.UpdatedAt, now), token), ct);
            if (updated == 0)
            {
                // Deleted (or completed by another request) since it was read: answer what the writer holds now.
                asset = await database.QueryAsync(ReadFrom.Writer, (connection, token) => AssetQueries.ByIdAsync(connection, id, token), ct);
                if (asset is null) return TypedResults.NotFound();
            }
            else
            {
                asset.Status = AssetStatus.Available;
                asset.UpdatedAt = now;
            }
        }
        return TypedResults.Ok(AssetResponse.From(asset, await storage.DownloadUrlAsync(asset.ObjectKey)));
    }

    public static async Task<Results<Ok<AssetResponse>, NotFound>> Get(
        Guid id, HttpContext http, Database<AssetsDbContext> database, ObjectStorage storage, IOptionsMonitor<StorageOptions> options, CancellationToken ct)
    {
        var asset = await database.QueryAsync(http.ReadFrom(), (connection, token) => AssetQueries.ByIdAsync(connection, id, token), ct);
        if (asset is null) return TypedResults.NotFound();
        SetCaching(http, options.CurrentValue);
        return TypedResults.Ok(await WithDownloadAsync(asset, storage));
    }

    public static async Task<Results<Ok<AssetPage>, ProblemHttpResult>> List(
        Guid productId, HttpContext http, Database<AssetsDbContext> database, ObjectStorage storage, IOptionsMonitor<StorageOptions> options,
        CancellationToken ct, string? limit = null, string? cursor = null)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var page = PageRequest.Parse(limit, cursor, errors);
        if (errors.Count > 0) return PlatformResults.ValidationProblem(errors);

        var rows = await database.QueryAsync(http.ReadFrom(), (connection, token) =>
            AssetQueries.PageAsync(connection, productId, page.After, page.Fetch, token), ct);

        var (items, next) = page.Of(rows, a => a.Id);
        var responses = new List<AssetResponse>(items.Count);
        foreach (var asset in items) responses.Add(await WithDownloadAsync(asset, storage));
        SetCaching(http, options.CurrentValue);
        return TypedResults.Ok(new AssetPage(responses, next));
    }

    /// <summary>Deletes the object, then the row: if S3 is down nothing changes (503), and a delete repeated after a
    /// failure between the two steps finishes the job, since deleting a missing object succeeds.</summary>
    public static async Task<Results<NoContent, NotFound>> Delete(
        Guid id, Database<AssetsDbContext> database, ObjectStorage storage, CancellationToken ct)
    {
        // From the writer, like complete: the asset may have been created a moment ago.
        var asset = await database.QueryAsync(ReadFrom.Writer, (connection, token) => AssetQueries.ByIdAsync(connection, id, token), ct);
        if (asset is null) return TypedResults.NotFound();
        await storage.DeleteAsync(asset.ObjectKey, ct);
        await database.WriteAsync((db, token) => db.Assets.Where(a => a.Id == id).ExecuteDeleteAsync(token), ct);
        return TypedResults.NoContent();
    }

    /// <summary>Only available assets have something to download.</summary>
    private static async Task<AssetResponse> WithDownloadAsync(Asset asset, ObjectStorage storage) =>
        asset.Status == AssetStatus.Available ? AssetResponse.From(asset, await storage.DownloadUrlAsync(asset.ObjectKey)) : AssetResponse.From(asset);

    /// <summary>Presigned URLs are short-lived credentials: responses carrying them are never stored by shared caches.
    /// CDN URLs are stable, so those responses may be cached for Storage:PublicCacheMaxAge like Catalog's.</summary>
    private static void SetCaching(HttpContext http, StorageOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.CdnBaseUrl)) http.Response.Headers.CacheControl = "private, no-store";
        else http.Response.CacheablePublicly(options.PublicCacheMaxAge);
    }

    private static ProblemHttpResult Conflict(string title, string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: title, detail: detail);
}
