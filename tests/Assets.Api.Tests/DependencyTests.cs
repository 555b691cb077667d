using System.Diagnostics;
using System.Net;
using TestKit;
using Xunit.Abstractions;
using static Assets.Api.Tests.AssetsHttp;

namespace Assets.Api.Tests;

/// <summary>Catalog and S3 are shared dependencies: when one is down the requests that need it answer 503 with
/// Retry-After (never 500), everything else keeps working, and readiness stays 200 with the dependency Degraded.</summary>
[Collection(AssetsCollection.Name)]
public sealed class DependencyTests(AssetsFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task DependencyUpReportsCatalogAndS3()
    {
        await Poll.UntilAsync(async () =>
                await fixture.Assets.MetricAsync("dependency_up", "dependency=\"catalog\"") == 1 &&
                await fixture.Assets.MetricAsync("dependency_up", "dependency=\"s3\"") == 1,
            TimeSpan.FromSeconds(20), "dependency_up{dependency=\"catalog\"|\"s3\"} to be 1");
        var metrics = await fixture.Assets.MetricsAsync();
        Assert.Contains("dependency_up{dependency=\"writer\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("dependency_up{dependency=\"reader\"} 1", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithCatalogDownCreatingAnswers503WithRetryAfterAndWritesNothing()
    {
        await using var assets = fixture.StartAssets(new Dictionary<string, string> { ["CatalogClient__BaseUrl"] = $"http://127.0.0.1:{Ports.Free()}/" });
        await assets.WaitReadyAsync();
        var productId = await fixture.CreateProductAsync();

        var durations = new List<double>();
        for (var i = 0; i < 8; i++)
        {
            var started = Stopwatch.StartNew();
            using var response = await PostCreateAsync(assets.Api, productId, Request(Image()));
            durations.Add(started.Elapsed.TotalMilliseconds);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero, "503 without Retry-After");
            Assert.Equal("catalog", (await ProblemAsync(response)).GetProperty("dependency").GetString());
        }
        Assert.Equal(0, await fixture.AssetRowsAsync(productId));
        Figures.Record(output, nameof(WithCatalogDownCreatingAnswers503WithRetryAfterAndWritesNothing),
            $"first 503 after {durations[0]:0} ms (connection refused, 2 retries); 503 with the circuit open after {durations[^1]:0} ms");

        await AssertReadyButDegradedAsync(assets, "catalog");
        using var list = await assets.Api.GetAsync(new Uri($"api/v1/products/{productId}/assets", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);

        // An outage is not a bug: its 503s are logged at Warning, the request lines included, never at Error (during a
        // failover every failed request would otherwise page whoever alerts on error logs).
        await Poll.UntilAsync(() => RequestLines(assets, 503).Count == 8, TimeSpan.FromSeconds(10), "the 503s' request lines");
        Assert.All(RequestLines(assets, 503), level => Assert.Equal("warn", level));
        Assert.DoesNotContain(assets.LogDocuments(), log => log!.RootElement.GetProperty("log").GetProperty("level").GetString() is "error" or "fatal");
    }

    /// <summary>Levels of the request lines that answered <paramref name="status"/>.</summary>
    private static List<string> RequestLines(ServiceProcess service, int status) =>
        [.. service.LogDocuments().Select(d => d!.RootElement)
            .Where(log => log.TryGetProperty("http", out var http) && http.TryGetProperty("response", out var response) &&
                          response.TryGetProperty("status_code", out var code) && code.GetInt32() == status)
            .Select(log => log.GetProperty("log").GetProperty("level").GetString()!)];

    [Fact]
    public async Task ADependencyOutageLogsOneWarningAndItsEndOneInformationLine()
    {
        await using var catalog = new TcpForwarder(fixture.Catalog.ApiPort);
        await using var assets = fixture.StartAssets(new Dictionary<string, string> { ["CatalogClient__BaseUrl"] = $"http://127.0.0.1:{catalog.Port}/" });
        await assets.WaitReadyAsync();
        await DependencyUpAsync(assets, "catalog", 1);

        catalog.Refuse();
        await DependencyUpAsync(assets, "catalog", 0);
        // Several probes while it is down (/health/ready runs the checks too): none is logged.
        for (var i = 0; i < 3; i++)
            using (await assets.Management.GetAsync(new Uri("health/ready", UriKind.Relative))) { }
        catalog.Resume();
        await DependencyUpAsync(assets, "catalog", 1);
        await Poll.UntilAsync(() => Transitions(assets).Any(t => t.Level == "info"), TimeSpan.FromSeconds(10), "the line saying Catalog is back");

        var transitions = Transitions(assets);
        Assert.Collection(transitions,
            down =>
            {
                Assert.Equal("warn", down.Level);
                Assert.Contains("Catalog unreachable", down.Message, StringComparison.Ordinal);
            },
            up => Assert.Equal("info", up.Level));
        Assert.DoesNotContain(assets.LogDocuments(), log => log!.RootElement.GetProperty("message").GetString()!.StartsWith("Health check", StringComparison.Ordinal));
    }

    private static IReadOnlyList<(string Level, string Message)> Transitions(ServiceProcess service) =>
        [.. service.LogDocuments().Select(d => d!.RootElement)
            .Where(log => log.GetProperty("message").GetString()!.StartsWith("Dependency catalog", StringComparison.Ordinal))
            .Select(log => (log.GetProperty("log").GetProperty("level").GetString()!, log.GetProperty("message").GetString()!))];

    private static Task DependencyUpAsync(ServiceProcess service, string dependency, int up) =>
        Poll.UntilAsync(async () => await service.MetricAsync("dependency_up", $"dependency=\"{dependency}\"") == up,
            TimeSpan.FromSeconds(20), $"dependency_up{{dependency=\"{dependency}\"}} to be {up}");

    [Fact]
    public async Task WithS3DownTheEndpointsThatNeedItAnswer503WhileReadinessStays200()
    {
        var productId = await fixture.CreateProductAsync();
        var (created, _) = await UploadAsync(fixture.Assets.Api, productId, Image());
        var pending = await CreateAsync(fixture.Assets.Api, productId, Request(Image()));
        await fixture.Cluster.WaitForReplayAsync();
        await using var assets = fixture.StartAssets(new Dictionary<string, string> { ["Storage__ServiceUrl"] = $"http://127.0.0.1:{Ports.Free()}" });
        await assets.WaitReadyAsync();

        using (var complete = await CompleteAsync(assets.Api, pending.Id)) await AssertStorageUnavailableAsync(complete);
        using (var delete = await assets.Api.DeleteAsync(new Uri($"api/v1/assets/{created.Id}", UriKind.Relative))) await AssertStorageUnavailableAsync(delete);
        Assert.Equal(2, await fixture.AssetRowsAsync(productId));

        // Metadata reads and presigning need no round trip to S3.
        using (var get = await assets.Api.GetAsync(new Uri($"api/v1/assets/{created.Id}", UriKind.Relative))) Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        await AssertReadyButDegradedAsync(assets, "s3");
    }

    private static async Task AssertStorageUnavailableAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero, "503 without Retry-After");
        Assert.Equal("s3", (await ProblemAsync(response)).GetProperty("dependency").GetString());
    }

    private static async Task AssertReadyButDegradedAsync(ServiceProcess assets, string dependency)
    {
        await Poll.UntilAsync(async () => await assets.MetricsAsync() is var text &&
                text.Contains($"dependency_up{{dependency=\"{dependency}\"}} 0", StringComparison.Ordinal),
            TimeSpan.FromSeconds(20), $"dependency_up{{dependency=\"{dependency}\"}} to be 0");
        using var ready = await assets.Management.GetAsync(new Uri("health/ready", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var body = AssetsFixture.Json(await ready.Content.ReadAsStringAsync());
        Assert.Equal("Degraded", body.GetProperty("status").GetString());
        Assert.Equal("Degraded", body.GetProperty("checks").GetProperty(dependency).GetProperty("status").GetString());
    }
}
