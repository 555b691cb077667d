using System.Net;
using TestKit;
using static Assets.Api.Tests.AssetsHttp;

namespace Assets.Api.Tests;

/// <summary>Writes need a valid token with assets:write for the assets audience; reads are anonymous. A refused
/// write writes nothing. Against Assets hosted in the test process: auth is the pipeline's, not the process's.</summary>
[Collection(AssetsCollection.Name)]
public sealed class AuthTests(AssetsFixture fixture)
{
    public static TheoryData<string, string?, int> RefusedTokens => new()
    {
        { "no token", null, 401 },
        { "garbage", "not.a.jwt", 401 },
        { "bad signature", Tokens.Create("assets:write", "assets", key: Convert.ToBase64String(new byte[32])), 401 },
        { "expired", Tokens.Create("assets:write", "assets", lifetime: TimeSpan.FromMinutes(-10)), 401 },
        { "wrong audience", Tokens.Create("assets:write", "catalog"), 401 },
        { "missing scope", Tokens.Create("assets:read", "assets"), 403 },
        { "other service's scope", Tokens.Create("catalog:write", "assets"), 403 },
    };

    [Theory]
    [MemberData(nameof(RefusedTokens))]
    public async Task CreatingWithoutAValidScopedTokenIsRefusedAndWritesNothing(string why, string? token, int status)
    {
        var productId = await fixture.CreateProductAsync();
        using var api = Client(token);

        using var response = await PostCreateAsync(api, productId, Request(Image()));

        Assert.True(status == (int)response.StatusCode, $"{why}: expected {status}, got {(int)response.StatusCode}");
        await ProblemAsync(response);
        Assert.Equal(0, await fixture.AssetRowsAsync(productId));
    }

    [Fact]
    public async Task CompletingAndDeletingNeedTheWriteScopeToo()
    {
        var productId = await fixture.CreateProductAsync();
        // Created through the process: presigning takes the AWS SDK's credentials from the environment.
        var (created, _) = await UploadAsync(fixture.Assets.Api, productId, Image());
        using var anonymous = Client(token: null);
        using var readOnly = Client(Tokens.Create("assets:read", "assets"));

        using (var complete = await CompleteAsync(anonymous, created.Id)) Assert.Equal(HttpStatusCode.Unauthorized, complete.StatusCode);
        using (var delete = await anonymous.DeleteAsync(new Uri($"api/v1/assets/{created.Id}", UriKind.Relative)))
            Assert.Equal(HttpStatusCode.Unauthorized, delete.StatusCode);
        using (var delete = await readOnly.DeleteAsync(new Uri($"api/v1/assets/{created.Id}", UriKind.Relative)))
            Assert.Equal(HttpStatusCode.Forbidden, delete.StatusCode);
        Assert.Equal(1, await fixture.AssetRowsAsync(productId));
    }

    [Fact]
    public async Task ReadsNeedNoToken()
    {
        using var api = Client(token: null);
        using var response = await api.GetAsync(new Uri($"api/v1/products/{Guid.CreateVersion7()}/assets", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private HttpClient Client(string? token) => fixture.InProcessClient(token);
}
