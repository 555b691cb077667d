using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using static TestKit.CatalogHttp;


namespace Catalog.Api.Tests;

[Collection(CatalogCollection.Name)]
public sealed class ProductsApiTests(CatalogFixture fixture)
{
    private HttpClient Api => fixture.Service.Api;

    [Fact]
    public async Task ACreatedProductCanBeReadBackByIdAndBySku()
    {
        var sku = NewSku();
        using var created = await Api.PostAsJsonAsync("api/v1/products", Product(sku));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        var id = body.GetProperty("id").GetString()!;
        Assert.Equal($"/api/v1/products/{id}", created.Headers.Location!.OriginalString);
        Assert.Equal(7, Guid.Parse(id).Version);
        Assert.NotNull(created.Headers.ETag);
        Assert.True(created.Headers.Contains("X-Read-Your-Writes"));

        await fixture.Cluster.WaitForReplayAsync();
        using var byId = await Api.GetAsync(new Uri($"api/v1/products/{id}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, byId.StatusCode);
        var product = await byId.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(sku, product.GetProperty("sku").GetString());
        Assert.Equal("red", product.GetProperty("attributes").GetProperty("color").GetString());
        Assert.Equal("active", product.GetProperty("status").GetString());
        Assert.Equal("public, max-age=30", byId.Headers.CacheControl!.ToString());
        Assert.Equal(created.Headers.ETag, byId.Headers.ETag);

        using var bySku = await Api.GetAsync(new Uri($"api/v1/products/by-sku/{sku}", UriKind.Relative));
        Assert.Equal(id, (await bySku.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString());
    }

    [Fact]
    public async Task AReadWithTheCurrentETagAnswersNotModified()
    {
        var created = await CreateAsync(Api);
        var (id, sku) = (created.GetProperty("id").GetString(), created.GetProperty("sku").GetString());
        await fixture.Cluster.WaitForReplayAsync();
        foreach (var path in new[] { $"api/v1/products/{id}", $"api/v1/products/by-sku/{sku}" })
        {
            using var first = await Api.GetAsync(new Uri(path, UriKind.Relative));
            using var again = await GetAsync(Api, path, h => h.IfNoneMatch.Add(first.Headers.ETag!));
            Assert.Equal(HttpStatusCode.NotModified, again.StatusCode);
            Assert.Empty(await again.Content.ReadAsByteArrayAsync());
            Assert.Equal(first.Headers.ETag, again.Headers.ETag);
        }
    }

    [Fact]
    public async Task ABodyOverTheLimitIsRefusedWith413()
    {
        var huge = JsonSerializer.Serialize(new { sku = NewSku(), name = "n", category = "c", description = new string('x', 2_000_000) });
        // As curl does for large bodies: the server refuses on Content-Length before the body is sent. Without it the
        // 413 races the upload and the client may only see its write fail (the hostile-input test covers that case).
        using var response = await SendJsonAsync(Api, HttpMethod.Post, "api/v1/products", huge, r => r.Headers.ExpectContinue = true);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        await ProblemAsync(response);
    }

    [Fact]
    public async Task DeletingArchivesTheProduct()
    {
        var id = (await CreateAsync(Api)).GetProperty("id").GetString();
        using var deleted = await Api.DeleteAsync(new Uri($"api/v1/products/{id}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal("archived", await fixture.Cluster.Primary.ScalarAsync<string>($"SELECT status FROM catalog.products WHERE id = '{id}'", "catalog"));

        using var missing = await Api.DeleteAsync(new Uri($"api/v1/products/{Guid.CreateVersion7()}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        await ProblemAsync(missing);
    }

    [Fact]
    public async Task PagesWalkEveryProductOfACategoryOnceInCreationOrder()
    {
        var category = "cat-" + Guid.NewGuid().ToString("N")[..8];
        var ids = new List<string>();
        for (var i = 0; i < 7; i++) ids.Add((await CreateAsync(Api, Product(category: category))).GetProperty("id").GetString()!);
        await CreateAsync(Api, Product(category: category, status: "draft"));
        await fixture.Cluster.WaitForReplayAsync();

        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var url = $"api/v1/products?category={category}&status=active&limit=3" + (cursor is null ? "" : $"&cursor={cursor}");
            var page = await Api.GetFromJsonAsync<JsonElement>(url);
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(p => p.GetProperty("id").GetString()!));
            cursor = page.GetProperty("nextCursor").GetString();
            pages++;
        }
        while (cursor is not null && pages < 10);

        Assert.Equal(ids, seen);
        Assert.Equal(3, pages);
    }

    [Fact]
    public async Task AnUnexpectedDatabaseErrorIsA500WithoutInternals()
    {
        // Take the app role's rights away: the query fails inside the database in a way no handler expects.
        await fixture.Cluster.Primary.ExecuteAsync("REVOKE SELECT ON catalog.products FROM catalog_app", "catalog");
        try
        {
            await fixture.Cluster.WaitForReplayAsync();
            using var response = await Api.GetAsync(new Uri($"api/v1/products/{Guid.CreateVersion7()}", UriKind.Relative));
            Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
            var text = await response.Content.ReadAsStringAsync();
            var problem = await ProblemAsync(response);
            Assert.True(problem.TryGetProperty("traceId", out _));
            Assert.DoesNotContain("permission", text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("Npgsql", text, StringComparison.Ordinal);
            Assert.DoesNotContain(" at ", text, StringComparison.Ordinal);
        }
        finally
        {
            await fixture.Cluster.Primary.ExecuteAsync("GRANT SELECT ON catalog.products TO catalog_app", "catalog");
        }
    }

    private Task<long> RowsWithSkuAsync(string sku) =>
        fixture.Cluster.Primary.ScalarAsync<long>($"SELECT count(*) FROM catalog.products WHERE sku = '{sku.Replace("'", "''", StringComparison.Ordinal)}'", "catalog");
}
