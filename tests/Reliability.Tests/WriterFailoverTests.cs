using System.Diagnostics;
using TestKit;
using Xunit.Abstractions;

namespace Reliability.Tests;

/// <summary>The Aurora writer fails over under steady writes. The cluster endpoint is a TCP forwarder; replication
/// is synchronous because Aurora acknowledges a commit only once it is durable on a storage quorum.</summary>
public sealed class WriterFailoverTests(ITestOutputHelper output)
{
    /// <summary>What the issue's failover run did: HAProxy is the cluster endpoint, eight clients write, the primary's
    /// postmaster is killed and the synchronous standby promoted. Every write runs in an explicit transaction, so one
    /// that started after the crash either never reached COMMIT on the dead primary (nothing committed: retried) or
    /// committed on the new one: none may answer "outcome unknown". Only a COMMIT in flight at the crash can.</summary>
    [Fact]
    public async Task AFailoverBehindTheClusterEndpointLosesNoAcknowledgedWriteAndLeavesNoLaterWriteInDoubt()
    {
        await using var environment = await CatalogEnvironment.StartAsync(new CatalogEnvironmentOptions
        {
            Cluster = new PostgresClusterOptions { SynchronousStandby = true },
            ClusterEndpoint = true,
        });
        var service = environment.Service;
        var acknowledged = new List<string>();
        await using var writes = Load.Writes(service.Api, acknowledged, workers: 8);
        await Load.RunForAsync(TimeSpan.FromSeconds(2));
        var logLinesBefore = service.StdoutLines.Count;

        await environment.Cluster.Primary.KillAsync();
        // The crash is complete when no process of the old writer runs any more (an instance failure stops them all
        // at once; a killed postmaster's backends finish their current statement first, and a COMMIT among them is
        // in doubt whenever its request started).
        await environment.Cluster.Primary.WaitForOrphansAsync(TimeSpan.FromSeconds(10));
        var crash = Stopwatch.GetTimestamp();
        await environment.Cluster.FailoverAsync();
        var promoted = Stopwatch.GetTimestamp();
        await Load.RunForAsync(TimeSpan.FromSeconds(4));
        await writes.StopAsync();

        var recovery = writes.FirstSuccessAfter(promoted);
        var present = await environment.Cluster.Primary.ScalarAsync<long>(
            $"SELECT count(*) FROM catalog.products WHERE sku = ANY(ARRAY['{string.Join("','", acknowledged)}'])", "catalog");
        var unknown = writes.Samples.Where(s => s.Body?.Contains("\"outcomeUnknown\":true", StringComparison.Ordinal) == true).ToList();
        var unknownStartedAfterCrash = unknown.Count(s => s.Started > crash);
        var errorLines = service.LogDocuments().Skip(logLinesBefore)
            .Where(d => d?.RootElement.GetProperty("log").GetProperty("level").GetString() == "error").Select(d => d!.RootElement).ToList();
        var efErrorLines = errorLines.Count(l => l.GetProperty("log").TryGetProperty("logger", out var logger) &&
                                                 logger.GetString()!.StartsWith("Microsoft.EntityFrameworkCore", StringComparison.Ordinal));
        Figures.Record(output, "writer failover behind HAProxy (8 writers, postmaster killed)",
            $"writes succeeded again {recovery?.TotalMilliseconds:0} ms after the new primary accepted connections " +
            $"(promotion took {Stopwatch.GetElapsedTime(crash, promoted).TotalMilliseconds:0} ms); " +
            $"{writes.Failures.Count} writes failed, {unknown.Count} answered outcomeUnknown ({unknownStartedAfterCrash} of them started after the crash); " +
            $"{errorLines.Count} error log lines after the crash ({efErrorLines} from EF Core); " +
            $"{acknowledged.Count} acknowledged, {present} present, {acknowledged.Count - present} lost");

        Assert.True(acknowledged.Count > 20, $"only {acknowledged.Count} writes were acknowledged");
        Assert.Equal(acknowledged.Count, present);
        Assert.NotNull(recovery);
        Assert.True(recovery < TimeSpan.FromSeconds(3), $"writes took {recovery} to recover after the new writer accepted connections (goal 3 s)");
        Assert.Equal(0, unknownStartedAfterCrash);
        // A write retried to success logs no error; a failed request logs one (its request line).
        Assert.Equal(0, efErrorLines);
        Assert.True(errorLines.Count <= writes.Failures.Count, $"{errorLines.Count} error lines for {writes.Failures.Count} failed requests");
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
