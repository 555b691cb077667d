using TestKit;

namespace Catalog.Api.Tests;

/// <summary>A primary + standby, migrated by the real <c>migrate</c> command as the migrator role, and a running
/// Catalog connected as the least-privilege app role: writer through the primary, reader through the standby.</summary>
public sealed class CatalogFixture : IAsyncLifetime
{
    public const string Project = "Catalog.Api";

    public PostgresCluster Cluster { get; private set; } = null!;

    public SecretsDirectory Secrets { get; } = new();

    public ServiceProcess Service { get; private set; } = null!;

    public static string WriteToken { get; } = Tokens.Create("catalog:write", "catalog");

    public async Task InitializeAsync()
    {
        Cluster = await PostgresCluster.StartAsync();
        await MigrateAsync(Cluster);
        Secrets.WriteDatabase("catalog_app", PostgresCluster.DevPassword("catalog_app"));
        Service = ServiceProcess.Start(Project, Environment(Cluster.Primary.ServiceConnectionString("catalog"), Cluster.Standby!.ServiceConnectionString("catalog"), Secrets.Path));
        await Service.WaitReadyAsync();
        Service.UseToken(WriteToken);
    }

    /// <summary>Configuration a Catalog gets in every test: what the chart sets, with local ports and a test key.</summary>
    public static Dictionary<string, string> Environment(string writer, string reader, string secretsDirectory) => new()
    {
        ["Database__Writer"] = writer,
        ["Database__Reader"] = reader,
        ["Secrets__Directory"] = secretsDirectory,
        ["Auth__SigningKey"] = Tokens.SigningKey,
    };

    /// <summary>Runs <c>Catalog.Api migrate</c> with the migrator's credentials, as the pre-upgrade Job does.</summary>
    public static async Task MigrateAsync(PostgresCluster cluster)
    {
        using var migratorSecrets = new SecretsDirectory();
        migratorSecrets.WriteDatabase("catalog_migrator", PostgresCluster.DevPassword("catalog_migrator"));
        var (exitCode, stdout, stderr) = await ServiceProcess.RunCommandAsync(Project,
            Environment(cluster.Primary.ServiceConnectionString("catalog"), "", migratorSecrets.Path), TimeSpan.FromSeconds(90), "migrate");
        if (exitCode != 0) throw new InvalidOperationException($"migrate exited {exitCode}:\n{stderr}\n{stdout}");
    }

    public async Task DisposeAsync()
    {
        if (Service is not null) await Service.DisposeAsync();
        if (Cluster is not null) await Cluster.DisposeAsync();
        Secrets.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class CatalogCollection : ICollectionFixture<CatalogFixture>
{
    public const string Name = "catalog";
}
