using TestKit;
using Xunit.Abstractions;

namespace Reliability.Tests;

/// <summary>Telemetry is never on the request path: an OTLP collector that is down costs no request.</summary>
public sealed class DownstreamTests(ITestOutputHelper output)
{
    [Fact]
    public async Task AnUnreachableTraceCollectorFailsNoRequest()
    {
        await using var environment = await CatalogEnvironment.StartAsync(new CatalogEnvironmentOptions
        {
            Cluster = new PostgresClusterOptions { WithStandby = false },
            Settings = new()
            {
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{Ports.Free()}",
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            },
        });
        var acknowledged = new List<string>();
        await using var writes = Load.Writes(environment.Service.Api, acknowledged, workers: 2);
        await Load.RunForAsync(TimeSpan.FromSeconds(4));
        await writes.StopAsync();

        Figures.Record(output, "OTLP collector down", $"{writes.Succeeded} writes succeeded, {writes.Failures.Count} failed, p99 {writes.Percentile(99):0} ms");
        Assert.Empty(writes.Failures);
        Assert.True(writes.Succeeded > 20);
    }
}
