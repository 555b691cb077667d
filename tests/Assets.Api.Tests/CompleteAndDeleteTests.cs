using System.Net;
using Npgsql;
using TestKit;
using static Assets.Api.Tests.AssetsHttp;

namespace Assets.Api.Tests;

/// <summary>Complete and delete decide a write from a read, so they read the asset from the writer: a client completes
/// or deletes right after creating, before the reader has replayed the row. Runs against the service hosted in the
/// test process on the fixture's databases, store and Catalog.</summary>
[Collection(AssetsCollection.Name)]
public sealed class CompleteAndDeleteTests(AssetsFixture fixture)
{
    private readonly HttpClient _api = fixture.InProcessClient(AssetsFixture.WriteToken);

    [Fact]
    public async Task CompleteAndDeleteFindAnAssetTheReaderHasNotReplayed()
    {
        var productId = await fixture.CreateProductAsync();
        // Catalog answers Assets' product check from its reader: the product must be there before replay stops.
        await fixture.Cluster.WaitForReplayAsync();
        await fixture.Cluster.PauseReplayAsync();
        try
        {
            var bytes = Image();
            var completed = await CreateAsync(_api, productId, Request(bytes));
            using (var put = await PutAsync(completed, bytes)) Assert.Equal(HttpStatusCode.OK, put.StatusCode);
            // The reader does not have it: a plain read (no read-your-writes token) is answered from there.
            using (var read = await _api.GetAsync(new Uri($"api/v1/assets/{completed.Id}", UriKind.Relative)))
                Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
            using (var complete = await CompleteAsync(_api, completed.Id))
            {
                Assert.Equal(HttpStatusCode.OK, complete.StatusCode);
                Assert.Equal("available", AssetsFixture.Json(await complete.Content.ReadAsStringAsync()).GetProperty("status").GetString());
            }

            var deleted = await CreateAsync(_api, productId, Request(Image()));
            using (var delete = await _api.DeleteAsync(new Uri($"api/v1/assets/{deleted.Id}", UriKind.Relative)))
                Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
            Assert.Equal(1, await fixture.AssetRowsAsync(productId));
        }
        finally
        {
            await fixture.Cluster.ResumeReplayAsync();
        }
    }

    [Fact]
    public async Task CompletingAnAssetDeletedAfterItWasReadAnswers404()
    {
        var productId = await fixture.CreateProductAsync();
        var bytes = Image();
        var created = await CreateAsync(_api, productId, Request(bytes));
        using (var put = await PutAsync(created, bytes)) Assert.Equal(HttpStatusCode.OK, put.StatusCode);

        // A row lock lets complete read the asset (reads do not wait for it) and holds its UPDATE; the asset is
        // deleted meanwhile, so the UPDATE finds no row.
        var primary = fixture.Cluster.Primary;
        await using var other = new NpgsqlConnection(primary.AdminConnectionString("assets"));
        await other.OpenAsync();
        await using var transaction = await other.BeginTransactionAsync();
        await using (var command = new NpgsqlCommand($"SELECT 1 FROM assets.assets WHERE id = '{created.Id}' FOR UPDATE", other, transaction))
            await command.ExecuteNonQueryAsync();
        var complete = CompleteAsync(_api, created.Id);
        await Poll.UntilAsync(async () => complete.IsCompleted || await primary.ScalarAsync<long>(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'assets-writer' AND wait_event_type = 'Lock'") > 0,
            TimeSpan.FromSeconds(10), "complete's UPDATE to wait for the row");
        await using (var command = new NpgsqlCommand($"DELETE FROM assets.assets WHERE id = '{created.Id}'", other, transaction))
            await command.ExecuteNonQueryAsync();
        await transaction.CommitAsync();

        using var response = await complete;
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(0, await fixture.AssetRowsAsync(productId));
    }
}
