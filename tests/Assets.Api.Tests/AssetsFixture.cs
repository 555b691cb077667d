using System.Text.Json;
using TestKit;

namespace Assets.Api.Tests;

/// <summary>One set of real components for the whole suite: a PostgreSQL primary + standby (bootstrapped with
/// deploy/postgres/bootstrap.sql), s3rver, an OTLP receiver, a migrated Catalog and a migrated Assets, both running as
/// their least-privilege roles and exporting traces. Tests that break a dependency start their own short-lived Assets.</summary>
public sealed class AssetsFixture : IAsyncLifetime
{
    public const string Project = "Assets.Api";
    public const string Bucket = "assets";

    /// <summary>What a client of Assets holds: the write scope, for the assets audience.</summary>
    public static string WriteToken { get; } = Tokens.Create("assets:write", "assets");

    private readonly SemaphoreSlim _alternateLock = new(1, 1);
    private ServiceProcess? _alternate;

    public PostgresCluster Cluster { get; private set; } = null!;

    public S3Server S3 { get; private set; } = null!;

    public OtlpReceiver Otlp { get; private set; } = null!;

    public ServiceProcess Catalog { get; private set; } = null!;

    public ServiceProcess Assets { get; private set; } = null!;

    /// <summary>Assets hosted in the test process against the same databases, store and Catalog: the tier for
    /// validation, problem documents and auth, which need no process of their own.</summary>
    public InProcessService<Program> InProcess { get; private set; } = null!;

    public SecretsDirectory CatalogSecrets { get; } = new();

    public SecretsDirectory AssetsSecrets { get; } = new();

    public async Task InitializeAsync()
    {
        var s3 = S3Server.StartAsync(Bucket);
        Cluster = await PostgresCluster.StartAsync();
        S3 = await s3;
        Otlp = new OtlpReceiver();

        await Task.WhenAll(CatalogEnvironment.MigrateAsync(Cluster.Primary.ServiceConnectionString("catalog")), MigrateAsync());
        CatalogSecrets.WriteDatabase("catalog_app", PostgresCluster.DevPassword("catalog_app"));
        AssetsSecrets.WriteDatabase("assets_app", PostgresCluster.DevPassword("assets_app"));

        var catalogSettings = CatalogEnvironment.Configuration(Cluster.Primary.ServiceConnectionString("catalog"),
            Cluster.Standby!.ServiceConnectionString("catalog"), CatalogSecrets.Path);
        foreach (var (key, value) in Otlp.ServiceSettings()) catalogSettings[key] = value;
        Catalog = ServiceProcess.Start(CatalogEnvironment.Project, catalogSettings);
        Catalog.UseToken(CatalogEnvironment.WriteToken);
        Assets = StartAssets();
        // The AWS SDK finds credentials in the process environment (as a pod's IRSA variables): for the host in this
        // process, that is the test process's.
        foreach (var (key, value) in S3.ServiceSettings(Bucket).Where(s => s.Key.StartsWith("AWS_", StringComparison.Ordinal)))
            Environment.SetEnvironmentVariable(key, value);
        InProcess = new InProcessService<Program>(AssetsSettings());
        await Task.WhenAll(Catalog.WaitReadyAsync(), Assets.WaitReadyAsync());
    }

    /// <summary>A client of the in-process Assets; with a token when one is given.</summary>
    public HttpClient InProcessClient(string? token)
    {
        var client = InProcess.CreateClient();
        if (token is not null) client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>What the chart gives Assets, with this machine's endpoints; <paramref name="overrides"/> win.</summary>
    public Dictionary<string, string> AssetsSettings(IDictionary<string, string>? overrides = null)
    {
        var settings = new Dictionary<string, string>
        {
            ["Database__Writer"] = Cluster.Primary.ServiceConnectionString("assets"),
            ["Database__Reader"] = Cluster.Standby!.ServiceConnectionString("assets"),
            ["Secrets__Directory"] = AssetsSecrets.Path,
            ["Auth__SigningKey"] = Tokens.SigningKey,
            ["CatalogClient__BaseUrl"] = Catalog.Api.BaseAddress!.ToString(),
        };
        foreach (var (key, value) in S3.ServiceSettings(Bucket)) settings[key] = value;
        foreach (var (key, value) in Otlp.ServiceSettings()) settings[key] = value;
        foreach (var (key, value) in overrides ?? new Dictionary<string, string>()) settings[key] = value;
        return settings;
    }

    /// <summary>Starts another Assets against the same databases, store and Catalog (not waited for).</summary>
    public ServiceProcess StartAssets(IDictionary<string, string>? overrides = null)
    {
        var service = ServiceProcess.Start(Project, AssetsSettings(overrides));
        service.UseToken(WriteToken);
        return service;
    }

    /// <summary>An Assets whose upload URLs live one second and whose downloads come from a CDN (cached two minutes),
    /// started on first use.</summary>
    public async Task<ServiceProcess> ShortLivedUrlsWithCdnAsync()
    {
        await _alternateLock.WaitAsync();
        try
        {
            if (_alternate is null)
            {
                _alternate = StartAssets(new Dictionary<string, string>
                {
                    ["Storage__UploadUrlExpiry"] = "00:00:01",
                    ["Storage__CdnBaseUrl"] = CdnBaseUrl,
                    ["Storage__PublicCacheMaxAge"] = "00:02:00",
                });
                await _alternate.WaitReadyAsync();
            }
            return _alternate;
        }
        finally
        {
            _alternateLock.Release();
        }
    }

    public const string CdnBaseUrl = "https://media.example.test/";

    /// <summary>Runs <c>Assets.Api migrate</c> as the migrator role, as the pre-upgrade Job does.</summary>
    public async Task<string> MigrateAsync()
    {
        using var secrets = new SecretsDirectory();
        secrets.WriteDatabase("assets_migrator", PostgresCluster.DevPassword("assets_migrator"));
        var (exitCode, stdout, stderr) = await ServiceProcess.RunCommandAsync(Project, new Dictionary<string, string>
        {
            ["Database__Writer"] = Cluster.Primary.ServiceConnectionString("assets"),
            ["Secrets__Directory"] = secrets.Path,
        }, TimeSpan.FromSeconds(90), "migrate");
        if (exitCode != 0) throw new InvalidOperationException($"Assets.Api migrate exited {exitCode}:\n{stderr}\n{stdout}");
        return stdout;
    }

    /// <summary>A new active product in Catalog; returns its id.</summary>
    public async Task<Guid> CreateProductAsync()
    {
        var product = await CatalogHttp.CreateAsync(Catalog.Api);
        return product.GetProperty("id").GetGuid();
    }

    /// <summary>Rows of a product's assets on the writer (what really got written).</summary>
    public Task<long> AssetRowsAsync(Guid productId) =>
        Cluster.Primary.ScalarAsync<long>($"SELECT count(*) FROM assets.assets WHERE product_id = '{productId}'", "assets");

    public static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();

    public async Task DisposeAsync()
    {
        if (InProcess is not null) await InProcess.DisposeAsync();
        if (_alternate is not null) await _alternate.DisposeAsync();
        if (Assets is not null) await Assets.DisposeAsync();
        if (Catalog is not null) await Catalog.DisposeAsync();
        if (Otlp is not null) await Otlp.DisposeAsync();
        if (S3 is not null) await S3.DisposeAsync();
        if (Cluster is not null) await Cluster.DisposeAsync();
        CatalogSecrets.Dispose();
        AssetsSecrets.Dispose();
        _alternateLock.Dispose();
    }
}

/// <summary>Every test class shares the fixture and runs one at a time: some tests change process-wide
/// environment variables (the AWS credential chain reads them), which child processes would otherwise inherit.</summary>
[CollectionDefinition(Name)]
public sealed class AssetsCollection : ICollectionFixture<AssetsFixture>
{
    public const string Name = "assets";
}
