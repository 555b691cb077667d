using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TestKit;

namespace Deploy.Tests;

/// <summary>docker-compose.yml resolved once by docker-compose itself.</summary>
public sealed class ComposeFixture : IAsyncLifetime
{
    public JsonObject Compose { get; private set; } = null!;

    public async Task InitializeAsync() => Compose = await ComposeFile.ResolveAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>A copy to break on purpose.</summary>
    public JsonObject Mutable() => Compose.DeepClone().AsObject();
}

public sealed class ComposeTests(ComposeFixture fixture) : IClassFixture<ComposeFixture>
{
    private static readonly string[] s_loggingServices = ["elasticsearch", "kibana", "kibana-init", "fluent-bit"];

    private JsonObject Compose => fixture.Compose;

    [Theory]
    [InlineData("")]
    [InlineData("logging")]
    public async Task DockerComposeAcceptsTheFile(string profile)
    {
        var (exitCode, output) = await ComposeFile.ValidateAsync(ComposeFile.Path, profile.Length == 0 ? [] : [profile]);

        Assert.True(exitCode == 0, output);
    }

    [Fact]
    public async Task DockerComposeRejectsAnUnknownDependencyCondition()
    {
        var broken = Path.Combine(Path.GetTempPath(), $"compose-{Guid.NewGuid():N}.yml");
        await File.WriteAllTextAsync(broken, (await File.ReadAllTextAsync(ComposeFile.Path))
            .Replace("condition: service_completed_successfully", "condition: service_finished", StringComparison.Ordinal));
        try
        {
            var (exitCode, output) = await ComposeFile.ValidateAsync(broken);

            Assert.NotEqual(0, exitCode);
            Assert.Contains("service_finished", output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(broken);
        }
    }

    [Fact]
    public void TheServiceContainersRunTheDockerfileImageOnTheContractPorts()
    {
        var violations = ComposeContract.ServiceContainerViolations(Compose).ToList();

        Assert.True(violations.Count == 0, string.Join('\n', violations));
    }

    [Fact]
    public void AServiceWithoutItsManagementPortOrMigrationIsReported()
    {
        var broken = fixture.Mutable();
        broken.Service("catalog")["ports"] = new JsonArray("127.0.0.1:8080:8080/tcp");
        broken.Service("catalog")["depends_on"]!.AsObject().Remove("catalog-migrate");

        var violations = ComposeContract.ServiceContainerViolations(broken).ToList();

        Assert.Contains("catalog does not publish container port 8081", violations);
        Assert.Contains("catalog must wait for catalog-migrate to complete successfully", violations);
    }

    private static IEnumerable<(string Where, string Text)> ComposeConfigFiles() =>
        Directory.EnumerateFiles(Repo.PathOf("deploy", "compose"), "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".yml", StringComparison.Ordinal) || f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".conf", StringComparison.Ordinal))
            .Select(f => (Path.GetRelativePath(Repo.Root, f), File.ReadAllText(f)));

    [Fact]
    public void EveryAddressOneContainerGivesAnotherNamesAServiceAndAPortItPublishes()
    {
        var files = ComposeConfigFiles().ToList();
        var addresses = files.SelectMany(f => ComposeContract.Addresses(f.Text)).Select(a => a.Host).ToHashSet();
        // The check has something to check: the scrape targets, the datasources and the log output are all found.
        Assert.Superset(new HashSet<string> { "catalog", "assets", "prometheus", "jaeger", "elasticsearch" }, addresses);

        var violations = ComposeContract.AddressViolations(Compose, files).ToList();

        Assert.True(violations.Count == 0, string.Join('\n', violations));
    }

    [Fact]
    public void ARenamedServiceOrAMovedPortBreaksTheAddressesThatNameIt()
    {
        var broken = fixture.Mutable();
        broken.Service("assets")["environment"]!["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://tracing:4317";
        broken.Service("catalog")["environment"]!["Database__Reader"] = "Host=postgres-replica;Port=5433;Database=catalog";
        broken.Service("elasticsearch")["ports"] = new JsonArray("127.0.0.1:9201:9201");

        var violations = ComposeContract.AddressViolations(broken, ComposeConfigFiles()).ToList();

        Assert.Contains(violations, v => v.StartsWith("assets: OTEL_EXPORTER_OTLP_ENDPOINT points at tracing:4317, but no compose service is called tracing", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.StartsWith("catalog: Database__Reader points at postgres-replica:5433, a port postgres-replica does not publish", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.StartsWith("deploy/compose/fluent-bit/fluent-bit.conf points at elasticsearch:9200", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.StartsWith("deploy/compose/grafana/provisioning/datasources/datasources.yml points at elasticsearch:9200", StringComparison.Ordinal));
    }

    [Fact]
    public void EveryEnvironmentVariableOfTheServicesIsAConfigurationKeyTheyBind()
    {
        var violations = ComposeContract.EnvironmentViolations(Compose, ConfigurationKeys.For).ToList();

        Assert.True(violations.Count == 0, string.Join('\n', violations));
    }

    [Fact]
    public void AMisspelledKeyOrACredentialInTheEnvironmentIsReported()
    {
        var broken = fixture.Mutable();
        var environment = broken.Service("catalog")["environment"]!.AsObject();
        environment["Database__Wrtier"] = "Host=postgres-primary;Database=catalog";
        environment["Database__Reader"] = "Host=postgres-replica;Database=catalog;Username=catalog_app;Password=x";

        var violations = ComposeContract.EnvironmentViolations(broken, ConfigurationKeys.For).ToList();

        Assert.Contains(violations, v => v.StartsWith("catalog: Database__Wrtier is not a configuration key", StringComparison.Ordinal));
        Assert.Contains("catalog: Database__Reader carries database credentials; they come only from Vault (/vault/secrets)", violations);
    }

    [Fact]
    public void TheBoundKeysComeFromTheOptionClassesAndAppsettings()
    {
        var keys = ConfigurationKeys.For("Catalog.Api");

        Assert.True(keys.Binds("Database__Writer"));
        Assert.True(keys.Binds("Auth__Audiences__0"));
        Assert.True(keys.Binds("Catalog__PublicCacheMaxAge"));
        Assert.True(keys.Binds("OTEL_EXPORTER_OTLP_ENDPOINT"));
        Assert.False(keys.Binds("Database__Wrtier"));
        Assert.False(keys.Binds("Storage__Bucket"));
    }

    [Fact]
    public void EachServiceContainerReadsTheCredentialsOfItsOwnVaultRole()
    {
        var violations = ComposeContract.SecretsWiringViolations(Compose).ToList();

        Assert.True(violations.Count == 0, string.Join('\n', violations));
    }

    [Fact]
    public void AServiceGivenAnotherRolesCredentialsIsReported()
    {
        var broken = fixture.Mutable();
        broken.Service("vault-agent-catalog")["environment"]!["DB_ROLE"] = "catalog-migrator";

        var violations = ComposeContract.SecretsWiringViolations(broken).ToList();

        Assert.Contains("catalog gets the credentials of catalog-migrator from vault-agent-catalog; it must get catalog-app's", violations);
    }

    [Fact]
    public async Task VaultInitConfiguresTheIdentitiesAndRolesOfTheClusterAndNoOthers()
    {
        var script = await File.ReadAllTextAsync(Repo.PathOf("deploy", "compose", "vault", "init.sh"));
        var workloads = Regex.Match(script, "^WORKLOADS=\"([^\"]*)\"", RegexOptions.Multiline).Groups[1].Value
            .Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(w => w.Split('=')).Select(w => (Identity: w[0], Role: w[1]));

        var rendered = Compose.Services().Where(s => s.Key.StartsWith("vault-agent-", StringComparison.Ordinal))
            .Select(s => s.Value!.AsObject().Environment()["DB_ROLE"]);

        Assert.Equal(ComposeContract.ServiceContainers.Select(c => (c.Identity, c.Role)).Order(), workloads.Order());
        Assert.Equal(ComposeContract.ServiceContainers.Select(c => c.Role).Order(), rendered.Order());
        Assert.Equal(await ClusterWorkloadRolesAsync(), workloads.Order());
    }

    /// <summary>workload_roles of deploy/terraform/vault/main.tf: Kubernetes auth role (service account) => static role.</summary>
    private static async Task<IEnumerable<(string Identity, string Role)>> ClusterWorkloadRolesAsync()
    {
        var main = await File.ReadAllTextAsync(Repo.PathOf("deploy", "terraform", "vault", "main.tf"));
        var block = Regex.Match(main, @"workload_roles\s*=\s*\{(?<body>[^}]*)\}");
        Assert.True(block.Success, "deploy/terraform/vault/main.tf has no workload_roles map");
        return Regex.Matches(block.Groups["body"].Value, @"^\s*""?(?<identity>[\w-]+)""?\s*=\s*""(?<role>[\w-]+)""", RegexOptions.Multiline)
            .Select(m => (m.Groups["identity"].Value, m.Groups["role"].Value)).Order();
    }

    [Fact]
    public void EveryMountedHostPathExists()
    {
        var violations = ComposeContract.MountViolations(Compose).ToList();

        Assert.True(violations.Count == 0, string.Join('\n', violations));
    }

    [Fact]
    public void AMountOfAMissingFileIsReported()
    {
        var broken = fixture.Mutable();
        broken.Service("prometheus")["volumes"]!.AsArray().Add($"{Repo.PathOf("deploy", "compose", "prometheus", "missing.yml")}:/etc/prometheus/missing.yml:ro");

        var violations = ComposeContract.MountViolations(broken).ToList();

        Assert.Contains($"prometheus mounts {Path.Combine("deploy", "compose", "prometheus", "missing.yml")}, which does not exist", violations);
    }

    [Fact]
    public void TheSharedFilesAreMountedFromTheChart()
    {
        var violations = ComposeContract.ChartFileViolations(Compose).ToList();

        Assert.True(violations.Count == 0, string.Join('\n', violations));
        Assert.True(File.Exists(Repo.PathOf(ComposeContract.ChartFiles, "vault", "database.json.ctmpl")));
        Assert.True(File.Exists(Repo.PathOf(ComposeContract.ChartFiles, "prometheus", "service.rules.yml")));
        Assert.True(File.Exists(Repo.PathOf(ComposeContract.ChartFiles, "grafana", "service-overview.json")));
    }

    [Fact]
    public void AnAgentWithItsOwnTemplateIsReported()
    {
        var broken = fixture.Mutable();
        broken.Service("vault-agent-assets")["volumes"] = new JsonArray(
            $"{Repo.PathOf("deploy", "compose", "vault")}:/vault/compose:ro",
            $"{Repo.PathOf("deploy", "compose", "vault", "database.json.ctmpl")}:/vault/templates/database.json.ctmpl:ro");

        var violations = ComposeContract.ChartFileViolations(broken).ToList();

        Assert.Contains(violations, v => v.StartsWith("vault-agent-assets must mount the chart's", StringComparison.Ordinal));
    }

    [Fact]
    public void EveryServiceThatKeepsRunningHasAHealthcheck()
    {
        var violations = ComposeContract.HealthcheckViolations(Compose).ToList();

        Assert.True(violations.Count == 0, string.Join('\n', violations));
        Assert.All(ComposeContract.Services, s =>
            Assert.Equal(ComposeContract.ServiceHealthcheck, Compose.Service(s.Service)["healthcheck"]!["test"].Strings()));
    }

    [Fact]
    public void AServiceWithoutAHealthcheckIsReported()
    {
        var broken = fixture.Mutable();
        broken.Service("postgres-primary").Remove("healthcheck");

        var violations = ComposeContract.HealthcheckViolations(broken).ToList();

        Assert.Contains("postgres-primary keeps running but has no healthcheck", violations);
        Assert.Contains("postgres-replica waits for postgres-primary to be healthy, but postgres-primary has no healthcheck", violations);
    }

    [Fact]
    public void TheLoggingStackIsAnOptionalProfile()
    {
        var violations = ComposeContract.ProfileViolations(Compose, s_loggingServices).ToList();

        Assert.True(violations.Count == 0, string.Join('\n', violations));
    }

    [Fact]
    public void AServiceDependingOnTheLoggingProfileIsReported()
    {
        var broken = fixture.Mutable();
        broken.Service("catalog")["depends_on"]!["fluent-bit"] = new JsonObject { ["condition"] = "service_started" };

        var violations = ComposeContract.ProfileViolations(broken, s_loggingServices).ToList();

        Assert.Contains("catalog depends on fluent-bit, which only runs with the logging profile", violations);
    }

    [Fact]
    public async Task TheServicesShipTheirLogsToTheFluentBitInput()
    {
        var fluentBit = Compose.Service("fluent-bit");
        var published = fluentBit["ports"]!.AsArray().Select(p => p is JsonObject o ? o["published"]!.ToString() : p!.ToString().Split(':')[^2]).ToList();
        var config = await File.ReadAllTextAsync(Repo.PathOf("deploy", "compose", "fluent-bit", "fluent-bit.conf"));
        var inputPort = Regex.Match(config, @"\[INPUT\][^\[]*Name\s+forward[^\[]*Port\s+(\d+)").Groups[1].Value;
        var matches = Regex.Matches(config, @"^\s*Match\s+(\S+)", RegexOptions.Multiline).Select(m => m.Groups[1].Value).Distinct().ToList();

        foreach (var (name, _, _, _) in ComposeContract.ServiceContainers)
        {
            var logging = Compose.Service(name)["logging"]!;
            Assert.Equal("fluentd", logging["driver"]!.ToString());
            var address = logging["options"]!["fluentd-address"]!.ToString();
            Assert.Equal(inputPort, address.Split(':')[^1]);
            Assert.Contains(address.Split(':')[^1], published);
            var tag = logging["options"]!["tag"]!.ToString();
            Assert.All(matches, match => Assert.StartsWith(match.TrimEnd('*'), tag, StringComparison.Ordinal));
        }
        Assert.Equal("24224", inputPort);
    }

    [Fact]
    public async Task PrometheusScrapesBothServicesManagementPortsWithTheirServiceLabel()
    {
        var prometheus = (JsonObject)await Yaml.LoadAsync(Repo.PathOf("deploy", "compose", "prometheus", "prometheus.yml"));

        var targets = prometheus["scrape_configs"]!.AsArray()
            .SelectMany(job => job!["static_configs"]!.AsArray().Select(c => (
                Job: job["job_name"]!.ToString(),
                Path: job["metrics_path"]?.ToString() ?? "/metrics",
                Targets: c!["targets"].Strings(),
                Service: c["labels"]?["service"]?.ToString())))
            .ToList();

        foreach (var (service, _) in ComposeContract.Services)
        {
            var scrape = Assert.Single(targets, t => t.Service == service);
            Assert.Equal(service, scrape.Job);
            Assert.Equal("/metrics", scrape.Path);
            Assert.Equal([$"{service}:8081"], scrape.Targets);
        }
    }

    [Fact]
    public async Task PrometheusLoadsTheChartRulesWhereComposeMountsThem()
    {
        var mount = Compose.Service("prometheus").Mounts().Single(m => m.Source == Repo.PathOf(ComposeContract.ChartFiles, "prometheus", "service.rules.yml"));
        var config = Compose.Service("prometheus").Mounts().Single(m => m.Target == "/etc/prometheus/prometheus.yml");
        // Lay out the container's /etc/prometheus as compose mounts it, then let promtool load config and rules.
        var etc = Directory.CreateTempSubdirectory("compose-prometheus-").FullName;
        try
        {
            File.Copy(config.Source, Path.Combine(etc, "prometheus.yml"));
            var rules = Path.Combine(etc, Path.GetRelativePath("/etc/prometheus", mount.Target));
            Directory.CreateDirectory(Path.GetDirectoryName(rules)!);
            File.Copy(mount.Source, rules);

            var output = await Tool.RunAsync(DeployTools.Promtool, ["check", "config", Path.Combine(etc, "prometheus.yml")]);

            var found = Regex.Match(output, @"Checking .*service\.rules\.yml\s+SUCCESS: (\d+) rules found");
            Assert.True(found.Success, output);
            Assert.True(int.Parse(found.Groups[1].Value, CultureInfo.InvariantCulture) > 0, output);
        }
        finally
        {
            Directory.Delete(etc, recursive: true);
        }
    }

    [Fact]
    public async Task GrafanaProvisionsTheChartDashboardsAndTheThreeDatasources()
    {
        var provisioning = Compose.Service("grafana").Mounts().Single(m => m.Target == "/etc/grafana/provisioning");
        var dashboards = Compose.Service("grafana").Mounts().Single(m => m.Source == Repo.PathOf(ComposeContract.ChartFiles, "grafana"));
        var providers = await Yaml.LoadAsync(Path.Combine(provisioning.Source, "dashboards", "dashboards.yml"));
        var datasources = await Yaml.LoadAsync(Path.Combine(provisioning.Source, "datasources", "datasources.yml"));

        Assert.Equal(dashboards.Target, Assert.Single(providers["providers"]!.AsArray())!["options"]!["path"]!.ToString());
        Assert.Equal(["elasticsearch", "jaeger", "prometheus"], datasources["datasources"]!.AsArray().Select(d => d!["type"]!.ToString()).Order());
        var urls = datasources["datasources"]!.AsArray().Select(d => new Uri(d!["url"]!.ToString())).ToList();
        Assert.All(urls, url => Assert.True(Compose.Services().ContainsKey(url.Host), $"datasource {url} names no compose service"));
    }

    [Fact]
    public async Task ComposesLatencyExemplarsAreStoredAndLinkToJaegerAsInTheCluster()
    {
        // Prometheus keeps exemplars, with the image's own arguments (its configuration file and data path) kept.
        var prometheus = Compose.Service("prometheus");
        var command = prometheus["command"].Strings();
        Assert.Contains("--enable-feature=exemplar-storage", command);
        var configuration = prometheus.Mounts().Single(m => m.Source == Repo.PathOf("deploy", "compose", "prometheus", "prometheus.yml"));
        Assert.Contains("--config.file=" + configuration.Target, command);
        Assert.Contains("--storage.tsdb.path=/prometheus", command);

        // Grafana's Prometheus datasource links an exemplar's trace_id to its Jaeger datasource, by uid.
        var provisioning = Compose.Service("grafana").Mounts().Single(m => m.Target == "/etc/grafana/provisioning");
        var datasources = (await Yaml.LoadAsync(Path.Combine(provisioning.Source, "datasources", "datasources.yml")))["datasources"]!.AsArray()
            .Select(d => d!.AsObject()).ToList();
        var destination = Assert.Single(datasources.Single(d => d["type"]!.ToString() == "prometheus")["jsonData"]!["exemplarTraceIdDestinations"]!.AsArray())!;
        Assert.Equal("trace_id", destination["name"]!.ToString());
        Assert.Equal("jaeger", datasources.Single(d => d["uid"]!.ToString() == destination["datasourceUid"]!.ToString())["type"]!.ToString());
    }
}
