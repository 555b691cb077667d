using System.Diagnostics;
using TestKit;
using Xunit.Abstractions;

namespace Reliability.Tests;

/// <summary>The Aurora writer fails over under steady writes. The cluster endpoint is a TCP forwarder; replication
/// is synchronous because Aurora acknowledges a commit only once it is durable on a storage quorum.</summary>
public sealed class WriterFailoverTests(ITestOutputHelper output)
{
    [Fact]
    public async Task WritesResumeSecondsAfterTheNewPrimaryAcceptsConnectionsAndNoAcknowledgedWriteIsLost()
    {
        await using var environment = await CatalogEnvironment.StartAsync(new CatalogEnvironmentOptions
        {
            Cluster = new PostgresClusterOptions { SynchronousStandby = true },
            Forwarders = true,
        });
        var acknowledged = new List<string>();
        await using var writes = Load.Writes(environment.Service.Api, acknowledged, workers: 4);
        await Load.RunForAsync(TimeSpan.FromSeconds(2));

        var crash = Stopwatch.GetTimestamp();
        await environment.Cluster.Primary.StopAsync("immediate");
        await environment.Cluster.FailoverAsync();
        var promoted = Stopwatch.GetTimestamp();
        environment.Writer!.Repoint(environment.Cluster.Primary.Port);
        environment.Reader!.Repoint(environment.Cluster.Primary.Port);
        await Load.RunForAsync(TimeSpan.FromSeconds(4));
        await writes.StopAsync();

        var recovery = writes.FirstSuccessAfter(promoted);
        var present = await environment.Cluster.Primary.ScalarAsync<long>(
            $"SELECT count(*) FROM catalog.products WHERE sku = ANY(ARRAY['{string.Join("','", acknowledged)}'])", "catalog");
        Figures.Record(output, "writer failover",
            $"writes succeeded again {recovery?.TotalMilliseconds:0} ms after the new primary accepted connections " +
            $"(promotion took {Stopwatch.GetElapsedTime(crash, promoted).TotalMilliseconds:0} ms); " +
            $"{writes.Failures.Count} writes failed during the outage; {acknowledged.Count} acknowledged, {present} present, {acknowledged.Count - present} lost");

        Assert.NotNull(recovery);
        Assert.True(recovery < TimeSpan.FromSeconds(10), $"writes took {recovery} to recover (goal 3 s)");
        Assert.Equal(acknowledged.Count, present);
        Assert.True(acknowledged.Count > 20, $"only {acknowledged.Count} writes were acknowledged");
    }

    [Fact]
    public async Task AnOldWriterThatTurnedReadOnlyCostsOneRetryAndNoFailedRequest()
    {
        await using var environment = await CatalogEnvironment.StartAsync(new CatalogEnvironmentOptions { Forwarders = true });
        var cluster = environment.Cluster;
        var oldWriter = cluster.Primary;
        var acknowledged = new List<string>();
        await using var writes = Load.Writes(environment.Service.Api, acknowledged, workers: 3);
        await Load.RunForAsync(TimeSpan.FromSeconds(1));

        // The standby becomes the writer; the old one stays reachable but read-only, and the pooled connections
        // still talk to it (DNS moved, the sockets did not): they answer SQLSTATE 25006.
        await cluster.FailoverAsync();
        await oldWriter.SetReadOnlyAsync(true);
        environment.Writer!.Repoint(cluster.Primary.Port, cutExisting: false);
        environment.Reader!.Repoint(cluster.Primary.Port, cutExisting: false);
        await Load.RunForAsync(TimeSpan.FromSeconds(3));
        await writes.StopAsync();

        var retries = await environment.Service.MetricAsync("db_writer_retries_total", "reason=\"read_only\"");
        Figures.Record(output, "old writer read-only (25006)",
            $"{writes.Succeeded} writes succeeded, {writes.Failures.Count} failed, {retries} retried after 25006, p99 {writes.Percentile(99):0} ms");
        Assert.Empty(writes.Failures);
        Assert.True(retries >= 1, "no write met the read-only old writer");
        await oldWriter.StopAsync();
    }
}
