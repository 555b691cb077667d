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

        const int workers = 6;
        await using var reads = Load.Reads(environment.Service.Api, $"api/v1/products/{id}", workers);
        await Load.RunForAsync(TimeSpan.FromSeconds(1));
        if (how == "stopped") await environment.Cluster.Standby!.StopAsync("immediate");
        else environment.Reader!.Stall();
        await Load.RunForAsync(TimeSpan.FromSeconds(4));
        await reads.StopAsync();

        var fallbacks = await environment.Service.MetricAsync("db_reader_fallbacks_total");
        var slow = reads.SlowerThan(1000);
        Figures.Record(output, $"standby {how} under read load",
            $"{reads.Succeeded} reads succeeded, {reads.Failures.Count} failed, {fallbacks} served by the writer, {slow} slower than 1 s, p99 {reads.Percentile(99):0} ms, max {reads.Percentile(100):0} ms");
        Assert.Empty(reads.Failures);
        Assert.True(fallbacks > 0);
        // Only the reads in flight when the reader went away may wait, and no longer than ReaderTimeout (2 s by
        // default; 1 s margin). When Npgsql itself timed out or cancelled commands on the stalled server, its
        // synchronous cancellation blocked thread-pool threads: those reads waited 5 s and the pod served almost
        // nothing meanwhile. The router now abandons a stalled attempt instead.
        Assert.True(slow <= 2 * workers, $"{slow} reads took over 1 s: reads kept waiting after the reader was marked down");
        Assert.True(reads.Percentile(100) < 3000, $"slowest read {reads.Percentile(100):0} ms: a stalled reader held reads beyond Database:ReaderTimeout");
    }
}
