using System.Net;
using TestKit;

namespace Deploy.Tests;

/// <summary>The real Assets, configured from the chart's rendered prod ConfigMaps (only what points at AWS replaced by
/// local equivalents: PostgreSQL, s3rver for S3, a real Catalog), with credentials from the chart's Vault template.</summary>
public sealed class AssetsContractFixture : IAsyncLifetime
{
    public const string Service = "assets";
    public const string Project = "Assets.Api";

    public ChartManifests Chart { get; private set; } = null!;

    public CatalogEnvironment Catalog { get; private set; } = null!;

    public S3Server S3 { get; private set; } = null!;

    public SecretsDirectory Secrets { get; } = new();

    public ServiceProcess Process { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Chart = await ChartRendering.RenderAsync(Service, "prod");
        var chartEnvironment = Chart.ConfigMapData(Service);
        S3 = await S3Server.StartAsync(chartEnvironment["Storage__Bucket"]);
        Catalog = await CatalogEnvironment.StartAsync();

        using var migratorSecrets = new SecretsDirectory();
        migratorSecrets.Write("database.json", ServiceContractFixture.RenderVaultTemplate(Chart.Get("Job", Service + "-migrator").Obj("spec.template")));
        var (exitCode, stdout, stderr) = await ServiceProcess.RunCommandAsync(Project,
            Environment(Chart.ConfigMapData(Service + "-migrator"), migratorSecrets.Path), TimeSpan.FromSeconds(90), "migrate");
        if (exitCode != 0) throw new InvalidOperationException($"migrate with the chart's migrator configuration exited {exitCode}:\n{stderr}\n{stdout}");

        Secrets.Write("database.json", ServiceContractFixture.RenderVaultTemplate(Chart.Get("Rollout").Obj("spec.template")));
        Process = ServiceProcess.Start(Project, Environment(chartEnvironment, Secrets.Path));
        await Process.WaitReadyAsync();
    }

    private Dictionary<string, string> Environment(Dictionary<string, string> chart, string secretsDirectory)
    {
        string[] local = ["Database__Writer", "Database__Reader", "Database__RootCertificate", "Secrets__Directory", "Hosting__ApiPort",
            "Hosting__ManagementPort", "Auth__Authority", "OTEL_EXPORTER_OTLP_ENDPOINT", "CatalogClient__BaseUrl", "Storage__KmsKeyId"];
        var environment = chart.Where(e => !local.Contains(e.Key)).ToDictionary(e => e.Key, e => e.Value);
        environment["Database__Writer"] = Catalog.Cluster.Primary.ServiceConnectionString(Service);
        if (chart.ContainsKey("Database__Reader")) environment["Database__Reader"] = Catalog.Cluster.Standby!.ServiceConnectionString(Service);
        environment["Secrets__Directory"] = secretsDirectory;
        environment["Auth__SigningKey"] = Tokens.SigningKey;
        if (chart.ContainsKey("CatalogClient__BaseUrl")) environment["CatalogClient__BaseUrl"] = Catalog.Service.Api.BaseAddress!.ToString().TrimEnd('/');
        // The migrator's ConfigMap has no storage settings (migrate never touches S3); the service's has them all.
        if (chart.TryGetValue("Storage__Bucket", out var bucket))
            foreach (var (key, value) in S3.ServiceSettings(bucket)) environment[key] = value;
        return environment;
    }

    public async Task DisposeAsync()
    {
        if (Process is not null) await Process.DisposeAsync();
        if (Catalog is not null) await Catalog.DisposeAsync();
        if (S3 is not null) await S3.DisposeAsync();
        Secrets.Dispose();
    }
}

public sealed class ServiceContractAssetsTests(AssetsContractFixture fixture) : IClassFixture<AssetsContractFixture>
{
    [Fact]
    public async Task AssetsStartsFromTheChartsConfigurationAndReportsItsDependencies()
    {
        Assert.Equal(HttpStatusCode.OK, (await fixture.Process.Management.GetAsync(new Uri("health/ready", UriKind.Relative))).StatusCode);
        await WaitUntilAsync(async () =>
            await fixture.Process.MetricAsync("dependency_up", "dependency=\"catalog\"") == 1 &&
            await fixture.Process.MetricAsync("dependency_up", "dependency=\"s3\"") == 1, TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task EveryMetricTheRulesTheAnalysisAndTheDashboardUseIsInAssetsScrapeToo()
    {
        using (await fixture.Process.Api.GetAsync(new Uri($"api/v1/products/{Guid.CreateVersion7()}/assets", UriKind.Relative))) { }
        // dependency_up has its first samples when the background checks first report (a second after start), not before:
        // an unknown state is not exported as down.
        await WaitUntilAsync(async () => PromQl.SampleNames(await fixture.Process.MetricsAsync()).Contains("dependency_up"), TimeSpan.FromSeconds(20));
        var scraped = PromQl.SampleNames(await fixture.Process.MetricsAsync());
        var recorded = await PrometheusRuleFile.RecordedNamesAsync();
        var used = PromQl.MetricNames((await PrometheusRuleFile.RulesAsync()).Select(r => r.Str("expr")!))
            .Concat(PromQl.MetricNames(fixture.Chart.OfKind("AnalysisTemplate").SelectMany(t => t.Arr("spec.metrics")).Select(m => m!.Str("provider.prometheus.query")).OfType<string>()))
            .Concat(ServiceContractTests.DashboardMetricNames())
            .ToHashSet();
        var missing = used.Where(n => !scraped.Contains(n) && !recorded.Contains(n) && !ServiceContractTests.OtherExporters.Contains(n)).ToList();
        Assert.True(missing.Count == 0, $"not in Assets' /metrics: {string.Join(", ", missing)}");
    }

    [Fact]
    public async Task TheProbesAndTheScrapeAnswerOnTheManagementPortOnly()
    {
        foreach (var probe in fixture.Chart.Get("Rollout").Arr("spec.template.spec.containers")[0]!.AsObject()
                     .Where(p => p.Key.EndsWith("Probe", StringComparison.Ordinal)).Select(p => p.Value!.AsObject().Str("httpGet.path")!))
        {
            using var management = await fixture.Process.Management.GetAsync(new Uri(probe.TrimStart('/'), UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, management.StatusCode);
            using var api = await fixture.Process.Api.GetAsync(new Uri(probe.TrimStart('/'), UriKind.Relative));
            Assert.Equal(HttpStatusCode.NotFound, api.StatusCode);
        }
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not met within " + timeout);
            await Task.Delay(100);
        }
    }
}
