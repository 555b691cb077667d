using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform;
using TestKit;
using Xunit.Abstractions;
using static TestKit.CatalogHttp;

namespace Catalog.Api.Tests;

/// <summary>Every write is one transaction: killed sessions before COMMIT are retried and applied once; a session
/// killed while COMMIT awaits its answer is an unknown outcome, never replayed. On the shared environment: each test
/// restores what it changes, and the collection runs one test at a time.</summary>
[Collection(CatalogCollection.Name)]
public sealed class WriteTransactionTests(CatalogFixture fixture, ITestOutputHelper output)
{
    private ServiceProcess Service => fixture.Service;

    private PostgresServer Primary => fixture.Cluster.Primary;

    [Fact]
    public async Task WritesOnPooledConnectionsTheServerTerminatedAreRetriedWithoutAFailure()
    {
        var service = Service;
        var primary = Primary;
        var retriesBefore = await service.MetricAsync("db_writer_retries_total", "reason=\"connection\"");
        var unknownBefore = await service.MetricAsync("db_write_unknown_outcomes_total");
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

        var retried = await service.MetricAsync("db_writer_retries_total", "reason=\"connection\"") - retriesBefore;
        var unknown = await service.MetricAsync("db_write_unknown_outcomes_total") - unknownBefore;
        Figures.Record(output, "idle pooled writer connections terminated", $"{idle} terminated; {responses.Count(r => r.StatusCode == HttpStatusCode.Created)} of {skus.Count} writes created, " +
            $"{retried} retried, {unknown} unknown outcomes");
        Assert.True(idle >= 2, $"only {idle} idle pooled connections to terminate");
        Assert.All(responses, r => Assert.True(r.StatusCode == HttpStatusCode.Created, $"{(int)r.StatusCode}: {r.Body}"));
        Assert.Equal(0, unknown);
        Assert.True(retried >= 1, "no write met a terminated connection");
        Assert.Equal(skus.Count, await primary.ScalarAsync<long>($"SELECT count(*) FROM catalog.products WHERE sku = ANY(ARRAY['{string.Join("','", skus)}'])", "catalog"));
    }

    [Fact]
    public async Task WritesOnPooledConnectionsTheServerEndedForIdlingAreRetriedWithoutAFailure()
    {
        // A host whose writer sessions end after one idle second (idle_session_timeout, as a server or a proxy in
        // front of it may be set): PostgreSQL ends such a session with FATAL 57P05, which a pooled connection only
        // reads when it is next used, before COMMIT. Set for this host's sessions only, so the shared service and the
        // reader are untouched.
        var primary = Primary;
        await using var host = fixture.InProcessWith(new Dictionary<string, string>
        {
            ["Database__Writer"] = primary.ServiceConnectionString("catalog") + ";Options=-c idle_session_timeout=1000",
        });
        using var api = host.CreateClient();
        api.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", CatalogEnvironment.WriteToken);
        var metrics = host.Services.GetRequiredService<PlatformMetrics>();
        // Other users of the pool (the background writer check, every 5 s) may draw the ended sessions first: one
        // ./test.sh run saw 16 of 16 created and 0 retried, so the case was not tested. Each round is checked in full;
        // a round in which no write was retried is run again, at most three times.
        var retried = 0.0;
        var skus = new List<string>();
        for (var round = 1; round <= 3 && retried == 0; round++)
        {
            // Fill the host's pool: connections opened at once are distinct sessions, idle in the pool once closed.
            var pool = host.Services.GetRequiredService<Platform.Data.DataSources>().Writer;
            var connections = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => pool.OpenConnectionAsync().AsTask()));
            var pids = connections.Select(c => c.ProcessID).ToList();
            foreach (var connection in connections) await connection.DisposeAsync();
            await Poll.UntilAsync(async () => await primary.ScalarAsync<long>(
                    $"SELECT count(*) FROM pg_stat_activity WHERE pid IN ({string.Join(',', pids)})") == 0,
                TimeSpan.FromSeconds(30), "the server to end the host's idle writer sessions");

            var retriesBefore = metrics.DbWriterRetries.WithLabels(PlatformMetrics.RetryReasons.Connection).Value;
            var roundSkus = Enumerable.Range(0, 16).Select(_ => NewSku()).ToList();
            skus.AddRange(roundSkus);
            var responses = await Task.WhenAll(roundSkus.Select(async sku =>
            {
                using var response = await api.PostAsJsonAsync("api/v1/products", Product(sku));
                return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
            }));

            retried = metrics.DbWriterRetries.WithLabels(PlatformMetrics.RetryReasons.Connection).Value - retriesBefore;
            Figures.Record(output, "pooled writer sessions ended by idle_session_timeout", $"round {round}: {pids.Count} ended; " +
                $"{responses.Count(r => r.StatusCode == HttpStatusCode.Created)} of {roundSkus.Count} writes created, {retried} retried");
            Assert.All(responses, r => Assert.True(r.StatusCode == HttpStatusCode.Created, $"{(int)r.StatusCode}: {r.Body}"));
        }
        Assert.True(retried >= 1, "in three rounds no write met a session the server had ended");
        Assert.Equal(0, metrics.DbWriteUnknownOutcomes.Value);
        Assert.Equal(skus.Count, await primary.ScalarAsync<long>($"SELECT count(*) FROM catalog.products WHERE sku = ANY(ARRAY['{string.Join("','", skus)}'])", "catalog"));
    }

    [Fact]
    public async Task AnExhaustedPoolIsAnswered503AtOnceAndLeavesThePoolAsItIs()
    {
        // One pooled writer connection, held by a write waiting on a lock: the next write finds the pool exhausted.
        var primary = Primary;
        await using var host = fixture.InProcessWith(new Dictionary<string, string>
        {
            ["Database__MaxPoolSize"] = "1",
            ["Database__WriterConnectTimeout"] = "00:00:01",
            // Far above the pool's one-second wait: a retried exhaustion would answer only after it.
            ["Database__WriterRetryBudget"] = "00:00:30",
        });
        using var api = host.CreateClient();
        api.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", CatalogEnvironment.WriteToken);
        var metrics = host.Services.GetRequiredService<PlatformMetrics>();
        await CreateAsync(api);
        var retriesBefore = PlatformMetrics.RetryReasons.All.Sum(reason => metrics.DbWriterRetries.WithLabels(reason).Value);

        await using var locker = new NpgsqlConnection(primary.AdminConnectionString("catalog"));
        await locker.OpenAsync();
        await using var transaction = await locker.BeginTransactionAsync();
        await using (var command = new NpgsqlCommand("LOCK TABLE catalog.products IN ACCESS EXCLUSIVE MODE", locker, transaction))
            await command.ExecuteNonQueryAsync();
        var held = api.PostAsJsonAsync("api/v1/products", Product());
        var pid = await WaitingBackendAsync(primary, "Lock");

        var clock = Stopwatch.StartNew();
        using (var exhausted = await api.PostAsJsonAsync("api/v1/products", Product()))
        {
            clock.Stop();
            Figures.Record(output, "writer pool exhausted", $"503 after {clock.ElapsedMilliseconds} ms (connect timeout 1 s, retry budget 30 s)");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, exhausted.StatusCode);
            Assert.NotNull(exhausted.Headers.RetryAfter);
            var problem = await ProblemAsync(exhausted);
            Assert.Equal("writer", problem.GetProperty("dependency").GetString());
            Assert.False(problem.GetProperty("outcomeUnknown").GetBoolean());
        }
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(10));
        await transaction.RollbackAsync();
        using (var response = await held)
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);

        // The pool was not cleared: the held connection went back to it and serves the next write.
        await CreateAsync(api);
        Assert.Equal(1, await primary.ScalarAsync<long>($"SELECT count(*) FROM pg_stat_activity WHERE pid = {pid}"));
        Assert.Equal(retriesBefore, PlatformMetrics.RetryReasons.All.Sum(reason => metrics.DbWriterRetries.WithLabels(reason).Value));
    }

    /// <summary>The two ways a write reaches the writer: a create is one statement on a raw connection
    /// (Database.ExecuteAsync), an update a unit of work on an EF Core context (Database.WriteAsync). Both must keep
    /// the same transaction semantics.</summary>
    public static TheoryData<string> WritePaths => ["create", "update"];

    [Theory]
    [MemberData(nameof(WritePaths))]
    public async Task AWriteWhoseSessionIsTerminatedBeforeCommitIsRetriedAndAppliedOnce(string path)
    {
        var primary = Primary;
        var sku = NewSku();
        var send = await PrepareWriteAsync(Service.Api, path, sku);
        var unknownBefore = await Service.MetricAsync("db_write_unknown_outcomes_total");

        // Hold a lock so the INSERT is sent and waits inside the server, then kill that session: its transaction never
        // reached COMMIT, so nothing committed and the service runs the write again.
        await using var locker = new NpgsqlConnection(primary.AdminConnectionString("catalog"));
        await locker.OpenAsync();
        await using var transaction = await locker.BeginTransactionAsync();
        await using (var command = new NpgsqlCommand("LOCK TABLE catalog.products IN ACCESS EXCLUSIVE MODE", locker, transaction))
            await command.ExecuteNonQueryAsync();

        var retriesBefore = await Service.MetricAsync("db_writer_retries_total", "reason=\"connection\"");
        var write = send(CancellationToken.None);
        var pid = await WaitingBackendAsync(primary, "Lock");
        await primary.ExecuteAsync($"SELECT pg_terminate_backend({pid})");
        await Poll.UntilAsync(async () => write.IsCompleted || await Service.MetricAsync("db_writer_retries_total", "reason=\"connection\"") > retriesBefore,
            TimeSpan.FromSeconds(30), "the write to be retried");
        await transaction.RollbackAsync();

        using var response = await write;
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        Assert.Equal(unknownBefore, await Service.MetricAsync("db_write_unknown_outcomes_total"));
        Assert.Equal(1, await primary.ScalarAsync<long>($"SELECT count(*) FROM catalog.products WHERE sku = '{sku}'", "catalog"));
    }

    [Theory]
    [MemberData(nameof(WritePaths))]
    public async Task AWriteWhoseConnectionIsLostDuringCommitIsAnUnknownOutcomeAndNeverReplayed(string path)
    {
        var primary = Primary;
        var sku = NewSku();
        var send = await PrepareWriteAsync(Service.Api, path, sku);
        var unknownBefore = await Service.MetricAsync("db_write_unknown_outcomes_total");
        var retriesBefore = await Service.MetricAsync("db_writer_retries_total");

        // Waiting for a synchronous standby that never confirms, the primary holds every COMMIT. Killing the session
        // then ends it with FATAL after COMMIT was sent: PostgreSQL warns that the transaction has already committed
        // locally. The client cannot know that; the service must say so and not run the write again.
        await primary.ExecuteAsync("ALTER SYSTEM SET synchronous_standby_names = 'nobody'");
        await primary.ExecuteAsync("SELECT pg_reload_conf()");
        try
        {
            await Poll.UntilAsync(async () => await primary.ScalarAsync<string>("SHOW synchronous_standby_names") == "nobody", TimeSpan.FromSeconds(10),
                "synchronous_standby_names to apply");
            var write = send(CancellationToken.None);
            var pid = await WaitingBackendAsync(primary, "IPC' AND wait_event = 'SyncRep");
            await primary.ExecuteAsync($"SELECT pg_terminate_backend({pid})");

            using var response = await write;
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            var problem = await ProblemAsync(response);
            Assert.True(problem.GetProperty("outcomeUnknown").GetBoolean());
            Assert.Equal("writer", problem.GetProperty("dependency").GetString());
            Assert.Equal(unknownBefore + 1, await Service.MetricAsync("db_write_unknown_outcomes_total"));
            Assert.Equal(retriesBefore, await Service.MetricAsync("db_writer_retries_total"));
        }
        finally
        {
            await primary.ExecuteAsync("ALTER SYSTEM RESET synchronous_standby_names");
            await primary.ExecuteAsync("SELECT pg_reload_conf()");
        }
        // It did commit locally, once.
        Assert.Equal(1, await primary.ScalarAsync<long>($"SELECT count(*) FROM catalog.products WHERE sku = '{sku}'", "catalog"));
    }

    [Theory]
    [MemberData(nameof(WritePaths))]
    public async Task AClientHangingUpWhileCommitWaitsLeavesTheWriteCommittedAndKnown(string path)
    {
        var primary = Primary;
        var sku = NewSku();
        // In-process, the client's cancellation aborts the request (RequestAborted) before Cancel returns, so what the
        // request's token would do to COMMIT has happened by the time the test looks.
        using var api = fixture.InProcessClient();
        var metrics = fixture.InProcess.Services.GetRequiredService<PlatformMetrics>();
        await CreateAsync(api);
        var send = await PrepareWriteAsync(api, path, sku);
        var unknownBefore = metrics.DbWriteUnknownOutcomes.Value;
        var retriesBefore = PlatformMetrics.RetryReasons.All.Sum(reason => metrics.DbWriterRetries.WithLabels(reason).Value);

        // Waiting for a synchronous standby that never confirms, the primary holds every COMMIT.
        await primary.ExecuteAsync("ALTER SYSTEM SET synchronous_standby_names = 'nobody'");
        await primary.ExecuteAsync("SELECT pg_reload_conf()");
        int pid;
        Task<HttpResponseMessage> write;
        using var hangUp = new CancellationTokenSource();
        try
        {
            await Poll.UntilAsync(async () => await primary.ScalarAsync<string>("SHOW synchronous_standby_names") == "nobody", TimeSpan.FromSeconds(10),
                "synchronous_standby_names to apply");
            write = send(hangUp.Token);
            pid = await WaitingBackendAsync(primary, "IPC' AND wait_event = 'SyncRep");
            await hangUp.CancelAsync();

            // Had COMMIT been given the request's token, Npgsql would have sent a cancel request: PostgreSQL stops the
            // wait ("canceling wait for synchronous replication due to user request") with the transaction committed
            // locally but unconfirmed by the standby.
            Assert.Equal("SyncRep", await primary.ScalarAsync<string>($"SELECT coalesce(max(wait_event), 'none') FROM pg_stat_activity WHERE pid = {pid}"));
        }
        finally
        {
            await primary.ExecuteAsync("ALTER SYSTEM RESET synchronous_standby_names");
            await primary.ExecuteAsync("SELECT pg_reload_conf()");
        }

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => write);
        await Poll.UntilAsync(async () => await primary.ScalarAsync<long>($"SELECT count(*) FROM catalog.products WHERE sku = '{sku}'", "catalog") == 1,
            TimeSpan.FromSeconds(10), "the write to commit once the standby is released");
        await Poll.UntilAsync(async () => await primary.ScalarAsync<string>($"SELECT coalesce(max(state), 'gone') FROM pg_stat_activity WHERE pid = {pid}") == "idle",
            TimeSpan.FromSeconds(10), "the write's session to return to the pool");
        Assert.Equal(unknownBefore, metrics.DbWriteUnknownOutcomes.Value);
        Assert.Equal(retriesBefore, PlatformMetrics.RetryReasons.All.Sum(reason => metrics.DbWriterRetries.WithLabels(reason).Value));
        Assert.DoesNotContain("canceling wait for synchronous replication", primary.ReadLog(), StringComparison.Ordinal);
    }

    /// <summary>A write that leaves exactly one product with SKU <paramref name="sku"/> once applied: a create of it, or
    /// an update of an existing product (If-Match: any version) that gives it that SKU.</summary>
    private static async Task<Func<CancellationToken, Task<HttpResponseMessage>>> PrepareWriteAsync(HttpClient api, string path, string sku)
    {
        if (path == "create") return ct => api.PostAsJsonAsync("api/v1/products", Product(sku), ct);
        var id = (await CreateAsync(api)).GetProperty("id").GetString();
        return ct =>
        {
            var request = new HttpRequestMessage(HttpMethod.Put, $"api/v1/products/{id}") { Content = JsonContent.Create(Product(sku)) };
            request.Headers.IfMatch.Add(System.Net.Http.Headers.EntityTagHeaderValue.Any);
            return api.SendAsync(request, ct);
        };
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
}
