using Npgsql;
using TestKit;
using Xunit.Abstractions;
using static TestKit.CatalogHttp;

namespace Catalog.Api.Tests;

/// <summary>Vault's database static roles rotate the password in place. The service must pick the new password up
/// from the re-rendered secrets file with no restart and no failed request, even when the old sessions are then
/// terminated so the old password really is gone.</summary>
public sealed class CredentialRotationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task RotatingThePasswordUnderLoadFailsNoRequest()
    {
        await using var environment = await CatalogEnvironment.StartAsync();
        var service = environment.Service;
        var cluster = environment.Cluster;
        var id = (await CreateAsync(service.Api)).GetProperty("id").GetString();
        await cluster.WaitForReplayAsync();

        var acknowledged = new List<string>();
        await using var reads = Load.Reads(service.Api, $"api/v1/products/{id}", workers: 3);
        await using var writes = Load.Writes(service.Api, acknowledged, workers: 2);
        await Load.RunForAsync(TimeSpan.FromSeconds(1));

        const string SessionsSql = "SELECT coalesce(array_agg(pid), '{}') FROM pg_stat_activity WHERE usename = 'catalog_app'";
        var oldPrimarySessions = await cluster.Primary.ScalarAsync<int[]>(SessionsSql);
        var oldStandbySessions = await cluster.Standby!.ScalarAsync<int[]>(SessionsSql);
        var newPassword = "rotated-" + Guid.NewGuid().ToString("N");
        await cluster.Primary.ExecuteAsync($"ALTER ROLE catalog_app PASSWORD '{newPassword}'");
        environment.Secrets.WriteDatabase("catalog_app", newPassword);
        await Poll.UntilAsync(async () => await service.MetricAsync("secrets_reloads_total", "outcome=\"success\"") >= 1,
            TimeSpan.FromSeconds(10), "the secrets reload");
        await Load.RunForAsync(TimeSpan.FromSeconds(1));

        // Vault does not kill sessions, but an operator (or a security incident) might: afterwards only the new
        // password can open a connection.
        await cluster.Primary.ExecuteAsync($"SELECT pg_terminate_backend(pid) FROM unnest(ARRAY[{string.Join(',', oldPrimarySessions.DefaultIfEmpty(0))}]) AS pid");
        await cluster.Standby.ExecuteAsync($"SELECT pg_terminate_backend(pid) FROM unnest(ARRAY[{string.Join(',', oldStandbySessions.DefaultIfEmpty(0))}]) AS pid");
        await Load.RunForAsync(TimeSpan.FromSeconds(2));
        await reads.StopAsync();
        await writes.StopAsync();

        Figures.Record(output, "credential rotation under load", $"{reads.Succeeded} reads and {writes.Succeeded} writes succeeded, " +
            $"{reads.Failures.Count + writes.Failures.Count} failed; {oldPrimarySessions.Length + oldStandbySessions.Length} old sessions terminated, old password refused");
        Assert.Empty(reads.Failures);
        Assert.Empty(writes.Failures);
        Assert.True(writes.Succeeded > 5 && reads.Succeeded > 20, $"too little load ran: {writes.Succeeded} writes, {reads.Succeeded} reads");
        Assert.NotEmpty(oldPrimarySessions);

        var oldPassword = PostgresCluster.DevPassword("catalog_app");
        await using var stale = new NpgsqlConnection($"Host=127.0.0.1;Port={cluster.Primary.Port};Database=catalog;Username=catalog_app;Password={oldPassword};Pooling=false");
        var refused = await Assert.ThrowsAsync<PostgresException>(() => stale.OpenAsync());
        Assert.Equal(PostgresErrorCodes.InvalidPassword, refused.SqlState);
        Assert.True(await cluster.Primary.ScalarAsync<long>("SELECT count(*) FROM pg_stat_activity WHERE usename = 'catalog_app'") > 0);
        Assert.DoesNotContain(service.StdoutLines, line => line.Contains(newPassword, StringComparison.Ordinal) || line.Contains(oldPassword, StringComparison.Ordinal));
    }
}
