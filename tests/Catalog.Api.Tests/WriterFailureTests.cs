using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
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


    /// <summary>Waits until the service has retried a write for <paramref name="reason"/> while it is still pending.</summary>
    private static async Task RetriedAsync(CatalogEnvironment environment, string reason, Task<HttpResponseMessage> write)
    {
        await Poll.UntilAsync(async () =>
                write.IsCompleted || await environment.Service.MetricAsync("db_writer_retries_total", $"reason=\"{reason}\"") >= 1,
            TimeSpan.FromSeconds(30), $"a writer retry ({reason})");
        Assert.False(write.IsCompleted, $"the write finished before any retry ({reason}): {(write.IsCompletedSuccessfully ? (int)write.Result.StatusCode : -1)}");
    }
}
