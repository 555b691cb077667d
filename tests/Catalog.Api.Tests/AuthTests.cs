using System.Net;
using System.Net.Http.Json;
using TestKit;
using static TestKit.CatalogHttp;

namespace Catalog.Api.Tests;

/// <summary>Writes need a valid token with the write scope; reads are anonymous. A refused write writes nothing.
/// Against the in-process service: auth is the pipeline's, not the process's.</summary>
[Collection(CatalogCollection.Name)]
public sealed class AuthTests(CatalogFixture fixture)
{
    public static TheoryData<string, string?, int> RefusedTokens => new()
    {
        { "no token", null, 401 },
        { "garbage", "not.a.jwt", 401 },
        { "bad signature", Tokens.Create("catalog:write", "catalog", key: Convert.ToBase64String(new byte[32])), 401 },
        { "expired", Tokens.Create("catalog:write", "catalog", lifetime: TimeSpan.FromMinutes(-10)), 401 },
        { "wrong audience", Tokens.Create("catalog:write", "assets"), 401 },
        { "wrong issuer", Tokens.Create("catalog:write", "catalog", issuer: "someone-else"), 401 },
        { "unknown client id", Tokens.Create("catalog:write", "", clientId: "stranger"), 401 },
        { "missing scope", Tokens.Create("catalog:read", "catalog"), 403 },
        { "other service's scope", Tokens.Create("assets:write", "catalog"), 403 },
    };

    [Theory]
    [MemberData(nameof(RefusedTokens))]
    public async Task WritesWithoutAValidScopedTokenAreRefusedAndWriteNothing(string why, string? token, int status)
    {
        var sku = NewSku();
        using var api = fixture.InProcessClient(token);

        using var response = await api.PostAsJsonAsync("api/v1/products", Product(sku));

        Assert.True(status == (int)response.StatusCode, $"{why}: expected {status}, got {(int)response.StatusCode}");
        await ProblemAsync(response);
        if (status == 401) Assert.Contains("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, await fixture.Cluster.Primary.ScalarAsync<long>($"SELECT count(*) FROM catalog.products WHERE sku = '{sku}'", "catalog"));
    }

    [Fact]
    public async Task ACognitoStyleTokenWithAnAcceptedClientIdAndNoAudienceMayWrite()
    {
        using var api = fixture.InProcessClient(Tokens.Create("openid catalog:write", "", clientId: CatalogFixture.MachineClientId));
        using var response = await api.PostAsJsonAsync("api/v1/products", Product());
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task ReadsNeedNoToken()
    {
        using var api = fixture.InProcessClient(token: null);
        using var response = await api.GetAsync(new Uri("api/v1/products?limit=1", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task TheDevTokenCommandMintsATokenTheServiceAccepts()
    {
        var settings = CatalogEnvironment.Configuration("Host=127.0.0.1;Database=catalog", "", fixture.Environment.Secrets.Path);
        var (exitCode, stdout, stderr) = await ServiceProcess.RunCommandAsync(CatalogEnvironment.Project, settings, TimeSpan.FromSeconds(60), "dev-token");
        Assert.True(exitCode == 0, stderr);

        using var api = fixture.InProcessClient(stdout.Trim());
        using var response = await api.PostAsJsonAsync("api/v1/products", Product());
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }
}
