using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Platform;
using static TestKit.CatalogHttp;

namespace Catalog.Api.Tests;

/// <summary>What a client sending bad or conflicting requests gets: a problem document naming the field, and
/// nothing written. Runs against the service hosted in the test process (the same pipeline and handlers, in memory)
/// and the fixture's databases.</summary>
[Collection(CatalogCollection.Name)]
public sealed class ValidationTests(CatalogFixture fixture) : IDisposable
{
    private readonly HttpClient _api = fixture.InProcessClient();

    private HttpClient Api => _api;

    [Fact]
    public async Task ADuplicateSkuIsAConflictNamingTheFieldAnsweredWithoutARetry()
    {
        var sku = NewSku();
        await CreateAsync(Api, Product(sku));
        var retries = fixture.InProcess.Services.GetRequiredService<PlatformMetrics>().DbWriterRetries;
        var retriesBefore = PlatformMetrics.RetryReasons.All.Sum(reason => retries.WithLabels(reason).Value);

        using var duplicate = await Api.PostAsJsonAsync("api/v1/products", Product(sku));

        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        var problem = await ProblemAsync(duplicate);
        Assert.Equal("sku", problem.GetProperty("field").GetString());
        Assert.Equal(1, await RowsWithSkuAsync(sku));
        // 23505 is the statement's own answer: the same again on a retry.
        Assert.Equal(retriesBefore, PlatformMetrics.RetryReasons.All.Sum(reason => retries.WithLabels(reason).Value));
    }

    [Fact]
    public async Task InvalidFieldsAreEachReportedByName()
    {
        var sku = "bad sku!";
        using var response = await SendJsonAsync(Api, HttpMethod.Post, "api/v1/products",
            """{"sku":"bad sku!","name":"","category":null,"status":"gone","attributes":{"":"x"}}""");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await ProblemAsync(response);
        Assert.Matches("^[0-9a-f]{32}$", problem.GetProperty("traceId").GetString());
        Assert.Equal("/api/v1/products", problem.GetProperty("instance").GetString());
        var fields = FieldErrors(problem);
        Assert.Contains("sku", fields);
        Assert.Contains("name", fields);
        Assert.Contains("category", fields);
        Assert.Contains("status", fields);
        Assert.Contains(fields, f => f.StartsWith("attributes", StringComparison.Ordinal));
        Assert.Equal(0, await RowsWithSkuAsync(sku));
    }

    [Theory]
    [InlineData("SKU-OK-1", """{"sku":"SKU-OK-1","name":5,"category":"c"}""", "name")]
    [InlineData("SKU-OK-2", """{"sku":"SKU-OK-2","name":"n","category":"c","attributes":{"color":[1]}}""", "attributes.color")]
    [InlineData("SKU-OK-3", """{"sku":"SKU-OK-3","name":"n" """, "body")]
    [InlineData("SKU-OK-4", """{"sku":"SKU-OK-4","name":"\u0000","category":"c"}""", "name")]
    [InlineData("SKU-OK-5", """{"sku":"SKU-OK-5","name":"\ud800","category":"c"}""", "name")]
    public async Task MalformedBodiesAreFieldErrorsAndWriteNothing(string sku, string json, string field)
    {
        using var response = await SendJsonAsync(Api, HttpMethod.Post, "api/v1/products", json);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(field, FieldErrors(await ProblemAsync(response)));
        Assert.Equal(0, await RowsWithSkuAsync(sku));
    }

    [Fact]
    public async Task ABodyThatIsNotJsonIsAnUnsupportedMediaType()
    {
        using var response = await SendJsonAsync(Api, HttpMethod.Post, "api/v1/products", "sku=X", contentType: "application/x-www-form-urlencoded");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        await ProblemAsync(response);
    }

    [Fact]
    public async Task AnUpdateWithoutIfMatchIsRefusedWith428()
    {
        var id = (await CreateAsync(Api)).GetProperty("id").GetString();
        using var response = await Api.PutAsJsonAsync($"api/v1/products/{id}", Product());
        Assert.Equal((HttpStatusCode)428, response.StatusCode);
        await ProblemAsync(response);
    }

    [Fact]
    public async Task AnUpdateWithAStaleETagFailsWith412AndChangesNothing()
    {
        var sku = NewSku();
        using var created = await Api.PostAsJsonAsync("api/v1/products", Product(sku, name: "Original"));
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        var etag = created.Headers.ETag!;

        using var first = await SendJsonAsync(Api, HttpMethod.Put, $"api/v1/products/{id}", JsonSerializer.Serialize(Product(sku, name: "First")),
            r => r.Headers.IfMatch.Add(etag));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.NotEqual(etag, first.Headers.ETag);

        using var second = await SendJsonAsync(Api, HttpMethod.Put, $"api/v1/products/{id}", JsonSerializer.Serialize(Product(sku, name: "Second")),
            r => r.Headers.IfMatch.Add(etag));
        Assert.Equal(HttpStatusCode.PreconditionFailed, second.StatusCode);
        await ProblemAsync(second);
        Assert.Equal("First", await fixture.Cluster.Primary.ScalarAsync<string>($"SELECT name FROM catalog.products WHERE sku = '{sku}'", "catalog"));
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=101", "limit")]
    [InlineData("limit=99999999999999999999", "limit")]
    [InlineData("cursor=not-a-cursor", "cursor")]
    [InlineData("cursor=AAAAAAAAAAAAAAAAAAAAAA%3D%3D", "cursor")]
    [InlineData("status=deleted", "status")]
    public async Task BadListParametersAreFieldErrors(string query, string field)
    {
        using var response = await Api.GetAsync(new Uri("api/v1/products?" + query, UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(field, FieldErrors(await ProblemAsync(response)));
    }

    [Fact]
    public async Task UnknownProductsAndRoutesAreProblemDocuments()
    {
        using var product = await Api.GetAsync(new Uri($"api/v1/products/{Guid.CreateVersion7()}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, product.StatusCode);
        await ProblemAsync(product);

        using var route = await Api.GetAsync(new Uri("api/v1/nothing-here", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, route.StatusCode);
        await ProblemAsync(route);

        using var badId = await Api.GetAsync(new Uri("api/v1/products/not-a-guid", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, badId.StatusCode);
    }

    [Fact]
    public async Task TheOpenApiDocumentDescribesTheProductsApi()
    {
        var document = await Api.GetFromJsonAsync<JsonElement>("openapi/v1.json");
        var paths = document.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/api/v1/products", out _));
        Assert.True(paths.TryGetProperty("/api/v1/products/{id}", out _));
        Assert.True(paths.TryGetProperty("/api/v1/products/by-sku/{sku}", out _));
    }
    private Task<long> RowsWithSkuAsync(string sku) =>
        fixture.Cluster.Primary.ScalarAsync<long>($"SELECT count(*) FROM catalog.products WHERE sku = '{sku.Replace("'", "''", StringComparison.Ordinal)}'", "catalog");

    public void Dispose() => _api.Dispose();
}
