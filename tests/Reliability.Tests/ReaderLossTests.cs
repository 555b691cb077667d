using TestKit;
using Xunit.Abstractions;

namespace Reliability.Tests;

/// <summary>The reader endpoint is lost under read load, by stopping and by stalling: no read fails.</summary>
public sealed class ReaderLossTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("stopped")]
    [InlineData("stalled")]
    public async Task NoReadFailsWhenTheStandbyIsLost(string how)
    {
        await using var environment = await CatalogEnvironment.StartAsync(new CatalogEnvironmentOptions { Forwarders = true });
        var id = (await CatalogHttp.CreateAsync(environment.Service.Api)).GetProperty("id").GetString();
        await environment.Cluster.WaitForReplayAsync();

        await using var reads = Load.Reads(environment.Service.Api, $"api/v1/products/{id}", workers: 6);
        await Load.RunForAsync(TimeSpan.FromSeconds(1));
        if (how == "stopped") await environment.Cluster.Standby!.StopAsync("immediate");
        else environment.Reader!.Stall();
        await Load.RunForAsync(TimeSpan.FromSeconds(4));
        await reads.StopAsync();

        var fallbacks = await environment.Service.MetricAsync("db_reader_fallbacks_total");
        Figures.Record(output, $"standby {how} under read load",
            $"{reads.Succeeded} reads succeeded, {reads.Failures.Count} failed, {fallbacks} served by the writer, p99 {reads.Percentile(99):0} ms, max {reads.Percentile(100):0} ms");
        Assert.Empty(reads.Failures);
        Assert.True(fallbacks > 0);
        // Only the reads in flight when the reader went away may wait for ReaderTimeout; a thread pool starved by
        // Npgsql's blocking cancellation made every read wait seconds (p99 4 s before Hosting:MinWorkerThreads).
        Assert.True(reads.Percentile(99) < 1500, $"p99 {reads.Percentile(99):0} ms: reads kept waiting after the reader was marked down");
    }
}
