using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using static TestKit.CatalogHttp;


namespace Catalog.Api.Tests;

/// <summary>Writes go to the primary, reads to the standby, and a client that just wrote reads its own write even
/// when the standby lags.</summary>
[Collection(CatalogCollection.Name)]
public sealed class ReadRoutingTests(CatalogFixture fixture)
{
    [Fact]
    public async Task WritesReachThePrimaryAndReadsAreServedByTheStandby()
    {
        var writerCommandsBefore = await fixture.Service.MetricAsync("db_command_duration_seconds_count", "role=\"writer\"");
        var id = (await CreateAsync(fixture.Service.Api)).GetProperty("id").GetString();
        Assert.Equal(1, await fixture.Cluster.Primary.ScalarAsync<long>($"SELECT count(*) FROM catalog.products WHERE id = '{id}'", "catalog"));
        // The create's INSERT is timed as the writer's one command (db_command_duration_seconds, the dashboards' and
        // alerts' database latency), whichever data-access path runs it.
        Assert.Equal(1, await fixture.Service.MetricAsync("db_command_duration_seconds_count", "role=\"writer\"") - writerCommandsBefore);
        await fixture.Cluster.WaitForReplayAsync();

        var readerCommandsBefore = await fixture.Service.MetricAsync("db_command_duration_seconds_count", "role=\"reader\"");
        var readerBefore = await fixture.Service.MetricAsync("db_reads_total", "role=\"reader\"");
        var writerBefore = await fixture.Service.MetricAsync("db_reads_total", "role=\"writer\"");
        for (var i = 0; i < 5; i++)
        {
            using var response = await fixture.Service.Api.GetAsync(new Uri($"api/v1/products/{id}", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        using (var list = await fixture.Service.Api.GetAsync(new Uri("api/v1/products?limit=5", UriKind.Relative)))
            Assert.Equal(HttpStatusCode.OK, list.StatusCode);

        Assert.Equal(6, await fixture.Service.MetricAsync("db_reads_total", "role=\"reader\"") - readerBefore);
        Assert.Equal(6, await fixture.Service.MetricAsync("db_command_duration_seconds_count", "role=\"reader\"") - readerCommandsBefore);
        Assert.Equal(0, await fixture.Service.MetricAsync("db_reads_total", "role=\"writer\"") - writerBefore);
    }

    [Fact]
    public async Task AClientReadsItsOwnWriteWhileTheStandbyLagsAndOthersSeeTheStandby()
    {
        await fixture.Cluster.PauseReplayAsync();
        try
        {
            using var created = await fixture.Service.Api.PostAsJsonAsync("api/v1/products", Product());
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
            var token = Assert.Single(created.Headers.GetValues("X-Read-Your-Writes"));
            var pinsBefore = await fixture.Service.MetricAsync("db_read_your_writes_pins_total");

            using var own = await GetAsync(fixture.Service.Api, $"api/v1/products/{id}", h => h.Add("X-Read-Your-Writes", token));
            Assert.Equal(HttpStatusCode.OK, own.StatusCode);
            Assert.True(own.Headers.CacheControl is { Private: true, NoStore: true, Public: false }, own.Headers.CacheControl?.ToString());

            using var others = await fixture.Service.Api.GetAsync(new Uri($"api/v1/products/{id}", UriKind.Relative));
            Assert.Equal(HttpStatusCode.NotFound, others.StatusCode);

            // A token older than the window is ignored: the read goes to the (stale) standby again.
            var old = DateTimeOffset.UtcNow.AddSeconds(-5).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
            using var expired = await GetAsync(fixture.Service.Api, $"api/v1/products/{id}", h => h.Add("X-Read-Your-Writes", old));
            Assert.Equal(HttpStatusCode.NotFound, expired.StatusCode);

            Assert.Equal(1, await fixture.Service.MetricAsync("db_read_your_writes_pins_total") - pinsBefore);
        }
        finally
        {
            await fixture.Cluster.ResumeReplayAsync();
        }
    }
}
