using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit.Abstractions;

using TestKit;

namespace Catalog.Api.Tests;

/// <summary>Probe semantics: liveness never looks outside the process; start-up waits for the writer; readiness
/// fails only for pod-local reasons (a shared database outage is Degraded, so every pod does not leave the load
/// balancer at once); SIGTERM turns readiness off while requests are still served.</summary>
public sealed class HealthTests(ITestOutputHelper output)
{
    [Fact]
    public async Task StartupWaitsForTheWriterWhileLivenessPasses()
    {
        await using var environment = await CatalogEnvironment.StartAsync(new CatalogEnvironmentOptions { Forwarders = true, WaitReady = false });
        environment.Writer!.Refuse();
        await environment.RestartWithoutWaitingAsync();
        var service = environment.Service;
        await service.WaitForAsync("/health/live", TimeSpan.FromSeconds(30));

        // The start-up gate has tried the writer (and logged that it waits) before the probes are asked.
        await Poll.UntilAsync(() => service.StdoutLines.Any(l => l.Contains("Waiting for the writer to answer", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(30), "the start-up gate to try the writer");
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(service.Management, "health/live"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await StatusAsync(service.Management, "health/startup"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await StatusAsync(service.Management, "health/ready"));

        environment.Writer.Resume();
        await service.WaitForAsync("/health/startup", TimeSpan.FromSeconds(15));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(service.Management, "health/ready"));
    }

    [Fact]
    public async Task ADatabaseOutageIsDegradedNotUnready()
    {
        await using var environment = await CatalogEnvironment.StartAsync(new CatalogEnvironmentOptions { Forwarders = true });
        var service = environment.Service;
        await Poll.UntilAsync(async () => await service.MetricAsync("dependency_up", "dependency=\"writer\"") == 1, TimeSpan.FromSeconds(15), "dependency_up{dependency=\"writer\"} to be 1");

        environment.Writer!.Refuse();
        environment.Reader!.Refuse();
        using var ready = await service.Management.GetAsync(new Uri("health/ready", UriKind.Relative));
        var body = await ready.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("Degraded", body.GetProperty("status").GetString());
        Assert.Equal("Degraded", body.GetProperty("checks").GetProperty("writer").GetProperty("status").GetString());
        Assert.Equal("Healthy", body.GetProperty("checks").GetProperty("local").GetProperty("status").GetString());

        // The background publisher keeps dependency_up current without anybody probing.
        await Poll.UntilAsync(async () => await service.MetricAsync("dependency_up", "dependency=\"writer\"") == 0, TimeSpan.FromSeconds(15), "dependency_up{dependency=\"writer\"} to be 0");
        Assert.Equal(0, await service.MetricAsync("dependency_up", "dependency=\"reader\""));
    }

    [Fact]
    public async Task AStalledWriterIsReportedDegradedWithinTheCheckTimeout()
    {
        await using var environment = await CatalogEnvironment.StartAsync(new CatalogEnvironmentOptions { Forwarders = true });
        var service = environment.Service;
        await Poll.UntilAsync(async () => await service.MetricAsync("dependency_up", "dependency=\"writer\"") == 1, TimeSpan.FromSeconds(15), "dependency_up{dependency=\"writer\"} to be 1");

        // Accepts and holds every byte: the check is abandoned after 2 s, not cancelled (Npgsql's cancellation would
        // block a thread on the stalled server), so readiness still answers promptly and stays 200.
        environment.Writer!.Stall();
        var clock = Stopwatch.StartNew();
        using var ready = await service.Management.GetAsync(new Uri("health/ready", UriKind.Relative));
        var elapsed = clock.Elapsed;
        var body = await ready.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var writer = body.GetProperty("checks").GetProperty("writer");
        Assert.Equal("Degraded", writer.GetProperty("status").GetString());
        Assert.Equal("no answer within 2 s", writer.GetProperty("description").GetString());
        Assert.InRange(elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(5));
        environment.Writer.Resume();
    }

    [Fact]
    public async Task SigtermFailsReadinessAtOnceKeepsServingThroughTheDrainDelayAndExitsZero()
    {
        await using var environment = await CatalogEnvironment.StartAsync(new CatalogEnvironmentOptions
        {
            Settings = new() { ["Shutdown__DrainDelay"] = "00:00:03" },
        });
        var service = environment.Service;
        var stopping = service.TerminateAsync();
        var clock = Stopwatch.StartNew();
        await Poll.UntilAsync(async () => await StatusAsync(service.Management, "health/ready") == HttpStatusCode.ServiceUnavailable,
            TimeSpan.FromSeconds(2), "readiness to fail");
        var unreadyAfter = clock.ElapsedMilliseconds;

        var served = 0;
        while (clock.Elapsed < TimeSpan.FromSeconds(2.5))
        {
            using var response = await service.Api.GetAsync(new Uri("api/v1/products?limit=1", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            served++;
        }
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(service.Management, "health/live"));
        var exitCode = await stopping;
        Figures.Record(output, "SIGTERM drain, single client", $"unready after {unreadyAfter} ms, {served} requests served during the 3 s drain, exit {exitCode} after {clock.ElapsedMilliseconds} ms");
        Assert.Equal(0, exitCode);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(15));
    }

    private static async Task<HttpStatusCode> StatusAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
        return response.StatusCode;
    }
}
