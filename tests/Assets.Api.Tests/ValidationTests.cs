using System.Net;
using TestKit;
using static Assets.Api.Tests.AssetsHttp;

namespace Assets.Api.Tests;

/// <summary>Bad input is answered 400 with problem details naming the field, and nothing is written. Against Assets
/// hosted in the test process (the same pipeline and handlers, in memory) and the fixture's databases and Catalog.</summary>
[Collection(AssetsCollection.Name)]
public sealed class ValidationTests(AssetsFixture fixture) : IDisposable
{
    private readonly HttpClient _api = fixture.InProcessClient(AssetsFixture.WriteToken);

    public static TheoryData<string, string, string> BadBodies => new()
    {
        { "not JSON", "fileName=a.png", "body" },
        { "truncated JSON", """{"fileName": "a.png", "contentType": """, "contentType" },
        { "size of the wrong type", """{"fileName": "a.png", "contentType": "image/png", "sizeBytes": "ten"}""", "sizeBytes" },
        { "SVG", """{"fileName": "a.svg", "contentType": "image/svg+xml", "sizeBytes": 10}""", "contentType" },
        { "no content type", """{"fileName": "a.png", "sizeBytes": 10}""", "contentType" },
        { "too large", """{"fileName": "a.png", "contentType": "image/png", "sizeBytes": 52428801}""", "sizeBytes" },
        { "empty", """{"fileName": "a.png", "contentType": "image/png", "sizeBytes": 0}""", "sizeBytes" },
        { "no size", """{"fileName": "a.png", "contentType": "image/png"}""", "sizeBytes" },
        { "bad digest", """{"fileName": "a.png", "contentType": "image/png", "sizeBytes": 10, "sha256": "not-a-digest"}""", "sha256" },
        { "no file name", """{"contentType": "image/png", "sizeBytes": 10}""", "fileName" },
        { "traversal", """{"fileName": "../../etc/passwd", "contentType": "image/png", "sizeBytes": 10}""", "fileName" },
        { "path", """{"fileName": "photos/a.png", "contentType": "image/png", "sizeBytes": 10}""", "fileName" },
        { "windows path", """{"fileName": "C:\\photos\\a.png", "contentType": "image/png", "sizeBytes": 10}""", "fileName" },
        { "dot dot", """{"fileName": "..", "contentType": "image/png", "sizeBytes": 10}""", "fileName" },
        { "NUL", """{"fileName": "a\u0000.png", "contentType": "image/png", "sizeBytes": 10}""", "fileName" },
        { "line break", """{"fileName": "a\n.png", "contentType": "image/png", "sizeBytes": 10}""", "fileName" },
        { "bidi override", """{"fileName": "gnp\u202E.exe", "contentType": "image/png", "sizeBytes": 10}""", "fileName" },
        { "lone surrogate", """{"fileName": "a\ud800.png", "contentType": "image/png", "sizeBytes": 10}""", "fileName" },
        { "too long", $$"""{"fileName": "{{new string('a', 252)}}.png", "contentType": "image/png", "sizeBytes": 10}""", "fileName" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task BadUploadRequestsAreRefusedNamingTheFieldAndWriteNothing(string why, string json, string field)
    {
        var productId = await fixture.CreateProductAsync();

        using var response = await CatalogHttp.SendJsonAsync(_api, HttpMethod.Post, $"api/v1/products/{productId}/assets", json);

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{why}: expected 400, got {(int)response.StatusCode}");
        var problem = await ProblemAsync(response);
        Assert.Contains(field, CatalogHttp.FieldErrors(problem));
        Assert.Equal(0, await fixture.AssetRowsAsync(productId));
    }

    [Fact]
    public async Task ABodyThatIsNotJsonIsRefusedWith415()
    {
        var productId = await fixture.CreateProductAsync();
        using var response = await CatalogHttp.SendJsonAsync(_api, HttpMethod.Post, $"api/v1/products/{productId}/assets",
            "fileName=a.png", contentType: "application/x-www-form-urlencoded");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        await ProblemAsync(response);
        Assert.Equal(0, await fixture.AssetRowsAsync(productId));
    }

    [Theory]
    [InlineData("cursor=not-a-cursor", "cursor")]
    [InlineData("cursor=AAAAAAAAAAAAAAAAAAAAA%00", "cursor")]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=101", "limit")]
    [InlineData("limit=ten", "limit")]
    public async Task BadListParametersAreRefusedNamingTheParameter(string query, string field)
    {
        using var response = await GetAsync(_api, $"api/v1/products/{Guid.CreateVersion7()}/assets?{query}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(field, CatalogHttp.FieldErrors(await ProblemAsync(response)));
    }

    [Fact]
    public async Task AHexOrBase64DigestIsAcceptedAndStoredAsBase64()
    {
        var productId = await fixture.CreateProductAsync();
        var bytes = Image();
        var base64 = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(bytes));

        // Through the process: creating presigns, and the AWS SDK takes its credentials from the environment.
        var fromHex = await CreateAsync(fixture.Assets.Api, productId, Request(bytes));
        var fromBase64 = await CreateAsync(fixture.Assets.Api, productId, new { fileName = "a.png", contentType = "IMAGE/PNG", sizeBytes = bytes.Length, sha256 = base64 });

        Assert.Equal(base64, fromHex.Body.GetProperty("asset").GetProperty("sha256").GetString());
        Assert.Equal(base64, fromBase64.Body.GetProperty("asset").GetProperty("sha256").GetString());
        Assert.Equal("image/png", fromBase64.Body.GetProperty("asset").GetProperty("contentType").GetString());
    }

    public void Dispose() => _api.Dispose();
}
