using System.Globalization;
using Catalog.Api.Data;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using Platform;
using Platform.Data;

namespace Catalog.Api.Products;

public static class ProductsApi
{
    public static IEndpointRouteBuilder MapProductsApi(this IEndpointRouteBuilder endpoints)
    {
        var products = endpoints.MapGroup("/api/v1/products").WithTags("Products");
        products.MapGet("/{id:guid}", GetById).WithName("GetProduct");
        products.MapGet("/by-sku/{sku}", GetBySku).WithName("GetProductBySku");
        products.MapGet("", List).WithName("ListProducts");
        products.MapPost("", Create).WithName("CreateProduct").RequireAuthorization(PlatformPolicies.Write);
        products.MapPut("/{id:guid}", Update).WithName("UpdateProduct").RequireAuthorization(PlatformPolicies.Write);
        products.MapDelete("/{id:guid}", Archive).WithName("ArchiveProduct").RequireAuthorization(PlatformPolicies.Write);
        return endpoints;
    }

    public static async Task<Results<Ok<ProductResponse>, StatusCodeHttpResult, NotFound>> GetById(
        Guid id, HttpContext http, Database<CatalogDbContext> database, IOptions<CatalogOptions> options, CancellationToken ct)
    {
        var product = await database.QueryAsync(http.ReadFrom(), (connection, token) => ProductSql.ByIdAsync(connection, id, token), ct);
        return product is null ? TypedResults.NotFound() : Cacheable(http, product, options.Value);
    }

    public static async Task<Results<Ok<ProductResponse>, StatusCodeHttpResult, NotFound>> GetBySku(
        string sku, HttpContext http, Database<CatalogDbContext> database, IOptions<CatalogOptions> options, CancellationToken ct)
    {
        // A value no product can have is not looked up (and NUL bytes never reach PostgreSQL).
        if (!ProductRules.SkuPattern().IsMatch(sku)) return TypedResults.NotFound();
        var product = await database.QueryAsync(http.ReadFrom(), (connection, token) => ProductSql.BySkuAsync(connection, sku, token), ct);
        return product is null ? TypedResults.NotFound() : Cacheable(http, product, options.Value);
    }

    public static async Task<Results<Ok<ProductPage>, ProblemHttpResult>> List(
        HttpContext http, Database<CatalogDbContext> database, IOptions<CatalogOptions> options, CancellationToken ct,
        string? category = null, string? status = null, string? limit = null, string? cursor = null)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var page = PageRequest.Parse(limit, cursor, errors);
        var statusFilter = ProductRules.ParseStatus(status);
        if (status is not null && statusFilter is null) errors["status"] = ["status is one of draft, active, archived."];
        if (category is { Length: > ProductRules.ShortTextMaxLength } || (category is not null && !PlainText.IsValid(category)))
            errors["category"] = [$"At most {ProductRules.ShortTextMaxLength} printable characters."];
        if (errors.Count > 0) return PlatformResults.ValidationProblem(errors);

        var rows = await database.QueryAsync(http.ReadFrom(), (connection, token) =>
            ProductSql.PageAsync(connection, category, statusFilter, page.After, page.Fetch, token), ct);

        var (items, next) = page.Of(rows, p => p.Id);
        http.Response.CacheablePublicly(options.Value.PublicCacheMaxAge);
        return TypedResults.Ok(new ProductPage([.. items.Select(ProductResponse.From)], next));
    }

    public static async Task<Results<Created<ProductResponse>, ProblemHttpResult>> Create(
        ProductRequest request, HttpContext http, Database<CatalogDbContext> database, TimeProvider time, CancellationToken ct)
    {
        var errors = ProductRules.Validate(request);
        if (errors.Count > 0) return PlatformResults.ValidationProblem(errors);

        var now = time.GetUtcNow();
        var product = new Product { Id = Guid.CreateVersion7(now), CreatedAt = now, UpdatedAt = now };
        Apply(request, product);
        try
        {
            product.Version = await database.ExecuteAsync((connection, token) => ProductSql.InsertAsync(connection, product, token), ct);
        }
        catch (PostgresException e) when (IsDuplicateSku(e))
        {
            return DuplicateSku(request.Sku!);
        }
        http.Response.Headers.ETag = ETag(product);
        return TypedResults.Created($"/api/v1/products/{product.Id}", ProductResponse.From(product));
    }

    public static async Task<Results<Ok<ProductResponse>, ProblemHttpResult, NotFound>> Update(
        Guid id, ProductRequest request, HttpContext http, Database<CatalogDbContext> database, TimeProvider time, CancellationToken ct)
    {
        if (http.Request.Headers.IfMatch.Count == 0)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status428PreconditionRequired, title: "If-Match required",
                detail: "Send the ETag of the product you read in If-Match, so a concurrent change is not overwritten.");
        }
        var errors = ProductRules.Validate(request);
        if (errors.Count > 0) return PlatformResults.ValidationProblem(errors);
        var expected = ParseIfMatch(http.Request.Headers.IfMatch.ToString());

        try
        {
            var updated = await database.WriteAsync(async (db, token) =>
            {
                var product = await db.Products.FirstOrDefaultAsync(p => p.Id == id, token);
                if (product is null) return (Product?)null;
                if (expected is not null && !expected.Contains(product.Version)) throw new PreconditionFailedException();
                Apply(request, product);
                product.UpdatedAt = time.GetUtcNow();
                await db.SaveChangesAsync(token);
                return product;
            }, ct);
            if (updated is null) return TypedResults.NotFound();
            http.Response.Headers.ETag = ETag(updated);
            return TypedResults.Ok(ProductResponse.From(updated));
        }
        catch (Exception e) when (e is PreconditionFailedException or DbUpdateConcurrencyException)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status412PreconditionFailed, title: "Precondition failed",
                detail: "The product changed since you read it; read it again and retry with the new ETag.");
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException p && IsDuplicateSku(p))
        {
            return DuplicateSku(request.Sku!);
        }
    }

    /// <summary>Products are archived, never deleted: images, orders and history keep referring to them.</summary>
    public static async Task<Results<NoContent, NotFound>> Archive(
        Guid id, Database<CatalogDbContext> database, TimeProvider time, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var changed = await database.WriteAsync((db, token) => db.Products
            .Where(p => p.Id == id)
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.Status, ProductStatus.Archived).SetProperty(p => p.UpdatedAt, now), token), ct);
        return changed == 0 ? TypedResults.NotFound() : TypedResults.NoContent();
    }

    private static Results<Ok<ProductResponse>, StatusCodeHttpResult, NotFound> Cacheable(HttpContext http, Product product, CatalogOptions options)
    {
        var etag = ETag(product);
        http.Response.CacheablePublicly(options.PublicCacheMaxAge);
        http.Response.Headers.ETag = etag;
        if (http.Request.Headers.IfNoneMatch.Any(v => v is not null && (v.Contains(etag, StringComparison.Ordinal) || v.Trim() == "*")))
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        return TypedResults.Ok(ProductResponse.From(product));
    }

    private static void Apply(ProductRequest request, Product product)
    {
        product.Sku = request.Sku!;
        product.Name = request.Name!.Trim();
        product.Description = string.IsNullOrWhiteSpace(request.Description) ? null : request.Description;
        product.Brand = string.IsNullOrWhiteSpace(request.Brand) ? null : request.Brand.Trim();
        product.Category = request.Category!.Trim();
        product.Attributes = request.Attributes ?? [];
        product.Status = ProductRules.ParseStatus(request.Status) ?? ProductStatus.Draft;
    }

    private static string ETag(Product product) => $"\"{product.Version.ToString(CultureInfo.InvariantCulture)}\"";

    /// <summary>Versions listed in If-Match; null for "*" (any current version).</summary>
    private static HashSet<uint>? ParseIfMatch(string header)
    {
        if (header.Trim() == "*") return null;
        var versions = new HashSet<uint>();
        foreach (var tag in header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var value = tag.StartsWith("W/", StringComparison.Ordinal) ? tag[2..] : tag;
            if (uint.TryParse(value.Trim('"'), NumberStyles.None, CultureInfo.InvariantCulture, out var version)) versions.Add(version);
        }
        return versions;
    }

    private static bool IsDuplicateSku(PostgresException e) =>
        e is { SqlState: PostgresErrorCodes.UniqueViolation, ConstraintName: ProductRules.SkuUniqueIndex };

    private static ProblemHttpResult DuplicateSku(string sku) =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Duplicate SKU",
            detail: $"A product with SKU {sku} already exists.", extensions: new Dictionary<string, object?> { ["field"] = "sku" });

    private sealed class PreconditionFailedException : Exception;
}
