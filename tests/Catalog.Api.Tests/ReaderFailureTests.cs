using System.Diagnostics;
using System.Net;
using Xunit.Abstractions;
using static TestKit.CatalogHttp;

using TestKit;

namespace Catalog.Api.Tests;

/// <summary>The reader endpoint failing must never fail a read: reads fall back to the writer within a bound, the
/// fallback is counted and logged once per transition, and reads return to the reader when it answers again.</summary>
public sealed class ReaderFailureTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ReadsSucceedWhileTheStandbyIsStoppedAndReturnToItWhenItIsBack()
    {
        await using var environment = await CatalogEnvironment.StartAsync();
        var service = environment.Service;
        var id = (await CreateAsync(service.Api)).GetProperty("id").GetString();
        await environment.Cluster.WaitForReplayAsync();

        await using (var load = Load.Reads(service.Api, $"api/v1/products/{id}"))
        {
            await Load.RunForAsync(TimeSpan.FromSeconds(1));
            await environment.Cluster.Standby!.StopAsync("immediate");
            await Load.RunForAsync(TimeSpan.FromSeconds(3));
            await load.StopAsync();
            output.WriteLine($"standby stopped: {load.Succeeded} reads succeeded, {load.Failures.Count} failed");
            Assert.Empty(load.Failures);
            Assert.True(load.Succeeded > 20, $"only {load.Succeeded} reads ran");
        }
        Assert.True(await service.MetricAsync("db_reader_fallbacks_total") > 0);
        Assert.Single(service.StdoutLines, line => line.Contains("Reader endpoint unavailable", StringComparison.Ordinal));

        await environment.Cluster.Standby!.StartAsync();
        var readerBefore = await service.MetricAsync("db_reads_total", "role=\"reader\"");
        await Poll.UntilAsync(async () =>
        {
            using var response = await service.Api.GetAsync(new Uri($"api/v1/products/{id}", UriKind.Relative));
            return await service.MetricAsync("db_reads_total", "role=\"reader\"") > readerBefore;
        }, TimeSpan.FromSeconds(20), "reads to return to the reader");
        Assert.Single(service.StdoutLines, line => line.Contains("Reader endpoint answers again", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AStalledReaderDelaysReadsByAtMostTheReaderTimeoutOnce()
    {
        await using var environment = await CatalogEnvironment.StartAsync(new CatalogEnvironmentOptions { Forwarders = true });
        var service = environment.Service;
        var id = (await CreateAsync(service.Api)).GetProperty("id").GetString();
        await environment.Cluster.WaitForReplayAsync();
        using (var warm = await service.Api.GetAsync(new Uri($"api/v1/products/{id}", UriKind.Relative)))
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);

        // Accepts connections, holds every byte: the reader neither answers nor refuses.
        environment.Reader!.Stall();
        var first = Stopwatch.StartNew();
        using (var response = await service.Api.GetAsync(new Uri($"api/v1/products/{id}", UriKind.Relative)))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        first.Stop();

        var next = Stopwatch.StartNew();
        for (var i = 0; i < 10; i++)
        {
            using var response = await service.Api.GetAsync(new Uri($"api/v1/products/{id}", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        next.Stop();

        Figures.Record(output, "stalled reader, single client", $"first read {first.ElapsedMilliseconds} ms (ReaderTimeout 2 s), next 10 reads {next.ElapsedMilliseconds} ms in all");
        Assert.InRange(first.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(4.5));
        Assert.InRange(next.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(2));
        Assert.True(await service.MetricAsync("db_reader_fallbacks_total", "reason=\"marked_down\"") >= 10);
    }
}
