using System.Net;
using TestKit;
using static TestKit.CatalogHttp;

namespace Catalog.Api.Tests;

/// <summary>How the service's connections and schema come and go: physical connections are replaced within
/// Database:ConnectionLifetime (so an endpoint's DNS change reaches them), and the schema is migrated at start-up only
/// when Database:MigrateOnStartup says so (the migration Job does it otherwise).</summary>
public sealed class DatabaseLifecycleTests
{
    [Fact]
    public async Task PooledConnectionsAreReplacedOnceTheyOutliveTheConnectionLifetime()
    {
        await using var environment = await CatalogEnvironment.StartAsync(new CatalogEnvironmentOptions
        {
            Settings = new Dictionary<string, string> { ["Database__ConnectionLifetime"] = "00:00:01" },
        });
        var id = (await CreateAsync(environment.Service.Api)).GetProperty("id").GetString();
        await environment.Cluster.WaitForReplayAsync();

        await ReadForAsync(environment.Service.Api, id!, TimeSpan.FromSeconds(1));
        var before = await BackendsAsync(environment.Cluster.Standby!, "catalog-reader");
        Assert.NotEmpty(before);
        // Steady traffic: connections go back to the pool and out again, and one older than the lifetime is closed
        // instead of being handed out (the default, 60 s, would keep every one of them).
        await ReadForAsync(environment.Service.Api, id!, TimeSpan.FromSeconds(4));
        var after = await BackendsAsync(environment.Cluster.Standby!, "catalog-reader");

        Assert.NotEmpty(after);
        Assert.Empty(before.Intersect(after));
    }

    [Fact]
    public async Task TheSchemaIsMigratedAtStartupOnlyWhenMigrateOnStartupIsSet()
    {
        await using var cluster = await PostgresCluster.StartAsync(new PostgresClusterOptions { WithStandby = false });
        using var secrets = new SecretsDirectory();
        // The migrator's credentials, so that only the setting decides (the app role could not create tables anyway).
        secrets.WriteDatabase("catalog_migrator", PostgresCluster.DevPassword("catalog_migrator"));
        var configuration = CatalogEnvironment.Configuration(cluster.Primary.ServiceConnectionString("catalog"), "", secrets.Path);

        await using (var unmigrated = ServiceProcess.Start(CatalogEnvironment.Project, configuration))
        {
            // Started means the writer answered: by then a migration at start-up would have run.
            await unmigrated.WaitForAsync("/health/startup", TimeSpan.FromSeconds(60));
            Assert.Equal("", await cluster.Primary.ScalarAsync<string>("SELECT coalesce(to_regclass('catalog.products')::text, '')", "catalog"));
        }

        configuration["Database__MigrateOnStartup"] = "true";
        await using var migrating = ServiceProcess.Start(CatalogEnvironment.Project, configuration);
        await migrating.WaitReadyAsync();
        Assert.Equal("catalog.products", await cluster.Primary.ScalarAsync<string>("SELECT coalesce(to_regclass('catalog.products')::text, '')", "catalog"));
        using var list = await migrating.Api.GetAsync(new Uri("api/v1/products", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
    }

    private static async Task ReadForAsync(HttpClient api, string id, TimeSpan duration)
    {
        var until = DateTime.UtcNow + duration;
        while (DateTime.UtcNow < until)
        {
            await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
            {
                using var response = await api.GetAsync(new Uri($"api/v1/products/{id}", UriKind.Relative));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }));
            await Task.Delay(50);
        }
    }

    private static async Task<HashSet<int>> BackendsAsync(PostgresServer server, string applicationName)
    {
        var pids = await server.ScalarAsync<string>(
            $"SELECT coalesce(string_agg(pid::text, ','), '') FROM pg_stat_activity WHERE application_name = '{applicationName}'");
        return [.. pids.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse)];
    }
}
