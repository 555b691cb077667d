using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Npgsql;
using Xunit.Abstractions;
using static TestKit.CatalogHttp;

using TestKit;

namespace Catalog.Api.Tests;

/// <summary>Every write is one transaction, retried exactly when it did not commit: a failure before COMMIT was
/// sent (refused or lost connection, read-only server) is retried; a connection lost after COMMIT was sent surfaces
/// as an unknown outcome and is never replayed.</summary>
public sealed class WriterFailureTests(ITestOutputHelper output)
{
    [Fact]
    public async Task AWriteRefusedAsReadOnlyIsRetriedUntilTheWriterAcceptsIt()
    {
        await using var environment = await CatalogEnvironment.StartAsync();
        var primary = environment.Cluster.Primary;
        // What the old writer does after an Aurora failover: it stays reachable, and its sessions (pooled ones
        // included) are now read-only, so every write answers SQLSTATE 25006.
        await primary.SetReadOnlyAsync(true);
        var sku = NewSku();
        var write = environment.Service.Api.PostAsJsonAsync("api/v1/products", Product(sku));
        // Restored only once the write has met the read-only writer: a fixed delay let a write that was merely slow
        // (a loaded machine) arrive after the restore and pass without any retry.
        await RetriedAsync(environment, "read_only", write);
        await primary.SetReadOnlyAsync(false);

        using var response = await write;
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(1, await primary.ScalarAsync<long>($"SELECT count(*) FROM catalog.products WHERE sku = '{sku}'", "catalog"));
    }

    [Fact]
    public async Task AWriteIsRetriedWhileTheWriterRefusesConnectionsAndFailsWith503AfterTheBudget()
    {
        await using var environment = await CatalogEnvironment.StartAsync(new CatalogEnvironmentOptions
        {
            Forwarders = true,
            // Long enough that a loaded machine still resumes the writer within it; the 503 below waits it out.
            Settings = new() { ["Database__WriterRetryBudget"] = "00:00:05" },
        });
        environment.Writer!.Refuse();
        var recovered = environment.Service.Api.PostAsJsonAsync("api/v1/products", Product());
        await RetriedAsync(environment, "connection", recovered);
        environment.Writer.Resume();
        using (var response = await recovered)
            Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");

        environment.Writer.Refuse();
        var clock = Stopwatch.StartNew();
        using var refused = await environment.Service.Api.PostAsJsonAsync("api/v1/products", Product());
        Figures.Record(output, "writer refusing connections", $"503 + Retry-After after {clock.ElapsedMilliseconds} ms (WriterRetryBudget 5 s in this test)");
        Assert.True(refused.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)refused.StatusCode}: {await refused.Content.ReadAsStringAsync()}");
        Assert.NotNull(refused.Headers.RetryAfter);
        var problem = await ProblemAsync(refused);
        Assert.False(problem.GetProperty("outcomeUnknown").GetBoolean());
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(3.5), TimeSpan.FromSeconds(9));
    }

    [Fact]
    public async Task WritesOnPooledConnectionsTheServerTerminatedAreRetriedWithoutAFailure()
    {
        await using var environment = await CatalogEnvironment.StartAsync(new CatalogEnvironmentOptions { Cluster = new PostgresClusterOptions { WithStandby = false } });
        var service = environment.Service;
        var primary = environment.Cluster.Primary;
        // Fill the pool: concurrent writes leave several idle connections behind.
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => CreateAsync(service.Api)));
        var idle = await primary.ScalarAsync<long>("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'catalog-writer' AND state = 'idle'");

        // What a primary that goes away does to a pool: every idle connection is terminated (57P01) under it.
        await primary.ExecuteAsync("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'catalog-writer' AND state = 'idle'");
        var skus = Enumerable.Range(0, 16).Select(_ => NewSku()).ToList();
        var responses = await Task.WhenAll(skus.Select(async sku =>
        {
            using var response = await service.Api.PostAsJsonAsync("api/v1/products", Product(sku));
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        }));

        Figures.Record(output, "idle pooled writer connections terminated", $"{idle} terminated; {responses.Count(r => r.StatusCode == HttpStatusCode.Created)} of {skus.Count} writes created, " +
            $"{await service.MetricAsync("db_writer_retries_total", "reason=\"connection\"")} retried, {await service.MetricAsync("db_write_unknown_outcomes_total")} unknown outcomes");
        Assert.True(idle >= 2, $"only {idle} idle pooled connections to terminate");
        Assert.All(responses, r => Assert.True(r.StatusCode == HttpStatusCode.Created, $"{(int)r.StatusCode}: {r.Body}"));
        Assert.Equal(0, await service.MetricAsync("db_write_unknown_outcomes_total"));
        Assert.True(await service.MetricAsync("db_writer_retries_total", "reason=\"connection\"") >= 1, "no write met a terminated connection");
        Assert.Equal(skus.Count, await primary.ScalarAsync<long>($"SELECT count(*) FROM catalog.products WHERE sku = ANY(ARRAY['{string.Join("','", skus)}'])", "catalog"));
    }

    [Fact]
    public async Task AWriteWhoseSessionIsTerminatedBeforeCommitIsRetriedAndAppliedOnce()
    {
        await using var environment = await CatalogEnvironment.StartAsync(new CatalogEnvironmentOptions { Cluster = new PostgresClusterOptions { WithStandby = false } });
        var primary = environment.Cluster.Primary;
        var sku = NewSku();

        // Hold a lock so the INSERT is sent and waits inside the server, then kill that session: its transaction never
        // reached COMMIT, so nothing committed and the service runs the write again.
        await using var locker = new NpgsqlConnection(primary.AdminConnectionString("catalog"));
        await locker.OpenAsync();
        await using var transaction = await locker.BeginTransactionAsync();
        await using (var command = new NpgsqlCommand("LOCK TABLE catalog.products IN ACCESS EXCLUSIVE MODE", locker, transaction))
            await command.ExecuteNonQueryAsync();

        var write = environment.Service.Api.PostAsJsonAsync("api/v1/products", Product(sku));
        var pid = await WaitingBackendAsync(primary, "Lock");
        await primary.ExecuteAsync($"SELECT pg_terminate_backend({pid})");
        await RetriedAsync(environment, "connection", write);
        await transaction.RollbackAsync();

        using var response = await write;
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(0, await environment.Service.MetricAsync("db_write_unknown_outcomes_total"));
        Assert.Equal(1, await primary.ScalarAsync<long>($"SELECT count(*) FROM catalog.products WHERE sku = '{sku}'", "catalog"));
    }

    [Fact]
    public async Task AWriteWhoseConnectionIsLostDuringCommitIsAnUnknownOutcomeAndNeverReplayed()
    {
        await using var environment = await CatalogEnvironment.StartAsync(new CatalogEnvironmentOptions { Cluster = new PostgresClusterOptions { SynchronousStandby = true } });
        var primary = environment.Cluster.Primary;
        var sku = NewSku();

        // With its synchronous standby gone, the primary holds every COMMIT until the standby confirms it. Killing the
        // session then ends it with FATAL after COMMIT was sent: PostgreSQL warns that the transaction has already
        // committed locally. The client cannot know that; the service must say so and not run the write again.
        await environment.Cluster.Standby!.StopAsync("immediate");
        var write = environment.Service.Api.PostAsJsonAsync("api/v1/products", Product(sku));
        var pid = await WaitingBackendAsync(primary, "IPC' AND wait_event = 'SyncRep");
        await primary.ExecuteAsync($"SELECT pg_terminate_backend({pid})");

        using var response = await write;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var problem = await ProblemAsync(response);
        Assert.True(problem.GetProperty("outcomeUnknown").GetBoolean());
        Assert.Equal("writer", problem.GetProperty("dependency").GetString());
        Assert.Equal(1, await environment.Service.MetricAsync("db_write_unknown_outcomes_total"));
        Assert.Equal(0, await environment.Service.MetricAsync("db_writer_retries_total"));
        // It did commit locally, once.
        await primary.ExecuteAsync("ALTER SYSTEM RESET synchronous_standby_names");
        await primary.ExecuteAsync("SELECT pg_reload_conf()");
        Assert.Equal(1, await primary.ScalarAsync<long>($"SELECT count(*) FROM catalog.products WHERE sku = '{sku}'", "catalog"));
    }

    /// <summary>The pid of the service's writer session waiting on <paramref name="waitEventType"/>.</summary>
    private static async Task<int> WaitingBackendAsync(PostgresServer primary, string waitEventType)
    {
        var pid = 0;
        await Poll.UntilAsync(async () =>
        {
            pid = await primary.ScalarAsync<int>(
                $"SELECT coalesce(max(pid), 0) FROM pg_stat_activity WHERE application_name = 'catalog-writer' AND wait_event_type = '{waitEventType}'");
            return pid != 0;
        }, TimeSpan.FromSeconds(10), $"a writer session waiting on {waitEventType}");
        return pid;
    }

    /// <summary>Waits until the service has retried a write for <paramref name="reason"/> while it is still pending.</summary>
    private static async Task RetriedAsync(CatalogEnvironment environment, string reason, Task<HttpResponseMessage> write)
    {
        await Poll.UntilAsync(async () =>
                write.IsCompleted || await environment.Service.MetricAsync("db_writer_retries_total", $"reason=\"{reason}\"") >= 1,
            TimeSpan.FromSeconds(30), $"a writer retry ({reason})");
        Assert.False(write.IsCompleted, $"the write finished before any retry ({reason}): {(write.IsCompletedSuccessfully ? (int)write.Result.StatusCode : -1)}");
    }
}
