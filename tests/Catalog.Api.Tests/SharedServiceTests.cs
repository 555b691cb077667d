using System.Net;
using TestKit;

namespace Catalog.Api.Tests;

/// <summary>Ports, the healthcheck command and configured caching, on the collection's shared environment: none of
/// them changes it, so none needs a cluster of its own.</summary>
[Collection(CatalogCollection.Name)]
public sealed class SharedServiceTests(CatalogFixture fixture)
{
    [Fact]
    public async Task ManagementPathsAnswerOnlyOnTheManagementPortWhateverTheHostHeader()
    {
        var service = fixture.Service;
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(service.Api, "metrics"));
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(service.Api, "health/ready"));
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(service.Management, "api/v1/products"));

        using var spoofed = new HttpRequestMessage(HttpMethod.Get, "metrics");
        spoofed.Headers.Host = $"127.0.0.1:{service.ManagementPort}";
        using var response = await service.Api.SendAsync(spoofed);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task TheHealthcheckCommandReportsReadinessAsItsExitCode()
    {
        var environment = fixture.Environment;
        var settings = new Dictionary<string, string>
        {
            ["Hosting__ManagementPort"] = environment.Service.ManagementPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Secrets__Directory"] = environment.Secrets.Path,
            ["Database__Writer"] = "Host=127.0.0.1;Database=catalog",
            ["Auth__SigningKey"] = TestKit.Tokens.SigningKey,
        };
        var (ready, _, readyError) = await TestKit.ServiceProcess.RunCommandAsync(CatalogEnvironment.Project, settings, TimeSpan.FromSeconds(60), "healthcheck");
        Assert.True(ready == 0, readyError);

        settings["Hosting__ManagementPort"] = TestKit.Ports.Free().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var (down, _, downError) = await TestKit.ServiceProcess.RunCommandAsync(CatalogEnvironment.Project, settings, TimeSpan.FromSeconds(60), "healthcheck");
        Assert.Equal(1, down);
        Assert.Contains("healthcheck", downError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PublicReadsAreCacheableForTheConfiguredMaxAge()
    {
        // The service hosted in the test process with the setting, on the fixture's databases: no cluster of its own.
        await using var catalog = fixture.InProcessWith(new Dictionary<string, string> { ["Catalog__PublicCacheMaxAge"] = "00:05:00" });
        using var api = catalog.CreateClient();
        var id = (await CatalogHttp.CreateAsync(fixture.Service.Api)).GetProperty("id").GetString();
        await fixture.Cluster.WaitForReplayAsync();

        foreach (var path in new[] { $"api/v1/products/{id}", "api/v1/products?limit=5" })
        {
            using var response = await api.GetAsync(new Uri(path, UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("public, max-age=300", response.Headers.CacheControl?.ToString());
        }
    }

    private static async Task<HttpStatusCode> StatusAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
        return response.StatusCode;
    }
}
