namespace TestKit;

/// <summary>A real primary + standby, migrated by the real <c>migrate</c> command as the migrator role, and a
/// running Catalog connected as the least-privilege app role. With <see cref="CatalogEnvironmentOptions.Forwarders"/>
/// the writer and reader endpoints are TCP forwarders the test can stall, refuse or repoint, as DNS endpoints move.</summary>
public sealed class CatalogEnvironment : IAsyncDisposable
{
    public const string Project = "Catalog.Api";

    private CatalogEnvironment(PostgresCluster cluster, SecretsDirectory secrets, TcpForwarder? writer, TcpForwarder? reader, HaproxyEndpoint? clusterEndpoint)
    {
        Cluster = cluster;
        Secrets = secrets;
        Writer = writer;
        Reader = reader;
        ClusterEndpoint = clusterEndpoint;
    }

    public PostgresCluster Cluster { get; }

    public SecretsDirectory Secrets { get; }

    public TcpForwarder? Writer { get; }

    public TcpForwarder? Reader { get; }

    /// <summary>HAProxy in front of primary and standby, the service's writer endpoint (with <see cref="CatalogEnvironmentOptions.ClusterEndpoint"/>).</summary>
    public HaproxyEndpoint? ClusterEndpoint { get; }

    public ServiceProcess Service { get; private set; } = null!;

    public static string WriteToken { get; } = Tokens.Create("catalog:write", "catalog");

    public static async Task<CatalogEnvironment> StartAsync(CatalogEnvironmentOptions? options = null)
    {
        options ??= new CatalogEnvironmentOptions();
        var cluster = await PostgresCluster.StartAsync(options.Cluster);
        try
        {
            await MigrateAsync(cluster.Primary.ServiceConnectionString("catalog"));
            var writer = options.Forwarders ? new TcpForwarder(cluster.Primary.Port) : null;
            var reader = options.Forwarders && cluster.Standby is not null ? new TcpForwarder(cluster.Standby.Port) : null;
            var clusterEndpoint = options.ClusterEndpoint ? await HaproxyEndpoint.StartAsync(cluster.Primary.Port, cluster.Standby!.Port) : null;
            var secrets = new SecretsDirectory();
            secrets.WriteDatabase("catalog_app", PostgresCluster.DevPassword("catalog_app"));
            var environment = new CatalogEnvironment(cluster, secrets, writer, reader, clusterEndpoint);
            var configuration = Configuration(
                clusterEndpoint?.ConnectionString("catalog") ?? writer?.ConnectionString("catalog") ?? cluster.Primary.ServiceConnectionString("catalog"),
                reader?.ConnectionString("catalog") ?? cluster.Standby?.ServiceConnectionString("catalog") ?? "",
                secrets.Path);
            foreach (var (key, value) in options.Settings) configuration[key] = value;
            environment.Service = ServiceProcess.Start(Project, configuration);
            if (options.WaitReady) await environment.Service.WaitReadyAsync();
            environment.Service.UseToken(WriteToken);
            return environment;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Configuration a Catalog gets in every test: what the chart sets, with local ports and a test key.</summary>
    public static Dictionary<string, string> Configuration(string writer, string reader, string secretsDirectory) => new()
    {
        ["Database__Writer"] = writer,
        ["Database__Reader"] = reader,
        ["Secrets__Directory"] = secretsDirectory,
        ["Auth__SigningKey"] = Tokens.SigningKey,
    };

    /// <summary>Runs <c>Catalog.Api migrate</c> with the migrator's credentials, as the pre-upgrade Job does.</summary>
    public static async Task MigrateAsync(string writer)
    {
        using var migratorSecrets = new SecretsDirectory();
        migratorSecrets.WriteDatabase("catalog_migrator", PostgresCluster.DevPassword("catalog_migrator"));
        var (exitCode, stdout, stderr) = await ServiceProcess.RunCommandAsync(Project, Configuration(writer, "", migratorSecrets.Path),
            TimeSpan.FromSeconds(90), "migrate");
        if (exitCode != 0) throw new InvalidOperationException($"migrate exited {exitCode}:\n{stderr}\n{stdout}");
    }

    /// <summary>Restarts the service with extra settings against the same databases.</summary>
    public async Task RestartAsync(IDictionary<string, string> settings)
    {
        await RestartWithoutWaitingAsync(settings);
        await Service.WaitReadyAsync();
    }

    public async Task RestartWithoutWaitingAsync(IDictionary<string, string>? settings = null)
    {
        await Service.DisposeAsync();
        var configuration = Configuration(
            ClusterEndpoint?.ConnectionString("catalog") ?? Writer?.ConnectionString("catalog") ?? Cluster.Primary.ServiceConnectionString("catalog"),
            Reader?.ConnectionString("catalog") ?? Cluster.Standby?.ServiceConnectionString("catalog") ?? "",
            Secrets.Path);
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) configuration[key] = value;
        Service = ServiceProcess.Start(Project, configuration);
        Service.UseToken(WriteToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (Service is not null) await Service.DisposeAsync();
        if (Writer is not null) await Writer.DisposeAsync();
        if (Reader is not null) await Reader.DisposeAsync();
        if (ClusterEndpoint is not null) await ClusterEndpoint.DisposeAsync();
        await Cluster.DisposeAsync();
        Secrets.Dispose();
    }
}

public sealed record CatalogEnvironmentOptions
{
    public PostgresClusterOptions Cluster { get; init; } = new();

    /// <summary>Put TCP forwarders in front of the writer and the reader.</summary>
    public bool Forwarders { get; init; }

    /// <summary>Reach the writer through HAProxy in front of primary and standby (the cluster endpoint); the reader
    /// endpoint is the standby itself.</summary>
    public bool ClusterEndpoint { get; init; }

    /// <summary>Extra configuration (environment variables) for the service.</summary>
    public Dictionary<string, string> Settings { get; init; } = [];

    public bool WaitReady { get; init; } = true;
}
