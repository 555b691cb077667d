using System.Net;
using TestKit;
using Xunit.Abstractions;

namespace Reliability.Tests;

/// <summary>SIGTERM under load: readiness fails at once, the load balancer (here: the load generator, which stops
/// sending once it sees readiness fail, after a propagation lag) drains the pod, nothing fails, exit 0.</summary>
public sealed class ShutdownTests(ITestOutputHelper output)
{
    [Fact]
    public async Task SigtermUnderLoadFailsNoRequestAndExitsZero()
    {
        await using var environment = await CatalogEnvironment.StartAsync(new CatalogEnvironmentOptions
        {
            Settings = new() { ["Shutdown__DrainDelay"] = "00:00:03" },
        });
        var service = environment.Service;
        var id = (await CatalogHttp.CreateAsync(service.Api)).GetProperty("id").GetString();
        var acknowledged = new List<string>();
        await using var reads = Load.Reads(service.Api, $"api/v1/products/{id}", workers: 4);
        await using var writes = Load.Writes(service.Api, acknowledged, workers: 2);
        await Load.RunForAsync(TimeSpan.FromSeconds(1));

        var exit = service.TerminateAsync();
        while ((await service.Management.GetAsync(new Uri("health/ready", UriKind.Relative))).StatusCode == HttpStatusCode.OK)
            await Task.Delay(20);
        // Endpoint removal and ALB deregistration take a moment to reach every sender.
        await Load.RunForAsync(TimeSpan.FromSeconds(1.5));
        await reads.StopAsync();
        await writes.StopAsync();
        var exitCode = await exit;

        Figures.Record(output, "SIGTERM under load",
            $"{reads.Succeeded + writes.Succeeded} requests succeeded, {reads.Failures.Count + writes.Failures.Count} failed, exit code {exitCode}");
        Assert.Empty(reads.Failures);
        Assert.Empty(writes.Failures);
        Assert.Equal(0, exitCode);
    }
}
