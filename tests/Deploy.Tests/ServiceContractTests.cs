using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using TestKit;

namespace Deploy.Tests;

/// <summary>What the chart assumes about the service, checked against the real service: metric names, probe and
/// scrape paths and ports, drain timings, and the keys of the Vault-rendered secrets file.</summary>
[Collection(ServiceContractCollection.Name)]
public sealed class ServiceContractTests(ServiceContractFixture fixture)
{
    /// <summary>Series a rule, the analysis or the dashboard may use although no service exposes them.</summary>
    internal static readonly string[] OtherExporters =
    [
        // kube-state-metrics: container restarts and pod readiness (ServicePodRestarting, ServicePodNotReady).
        "kube_pod_container_status_restarts_total",
        "kube_pod_status_ready",
        // Prometheus itself, one per scrape target: the pod alerts join kube-state-metrics' series on it.
        "up",
    ];

    [Fact]
    public async Task EveryMetricTheRulesTheAnalysisAndTheDashboardUseIsInARealScrape()
    {
        await SendTrafficAsync();
        // dependency_up has its first samples when the background checks first report (a second after start), not before.
        await Poll.UntilAsync(async () => PromQl.SampleNames(await fixture.Process.MetricsAsync()).Contains("dependency_up"),
            TimeSpan.FromSeconds(20), "the first dependency report");
        var scraped = PromQl.SampleNames(await fixture.Process.MetricsAsync());
        // Recording rules' outputs exist only inside Prometheus; their inputs are checked like any other use.
        var recorded = await PrometheusRuleFile.RecordedNamesAsync();
        var used = new Dictionary<string, IReadOnlySet<string>>
        {
            ["rules"] = PromQl.MetricNames((await PrometheusRuleFile.RulesAsync()).Select(r => r.Str("expr")!)),
            ["analysis"] = PromQl.MetricNames(fixture.Chart.OfKind("AnalysisTemplate").SelectMany(t => t.Arr("spec.metrics"))
                .Select(m => m!.Str("provider.prometheus.query")).OfType<string>()),
            ["dashboard"] = DashboardMetricNames(),
        };

        Assert.All(used, u => Assert.NotEmpty(u.Value));
        var missing = used.SelectMany(u => u.Value.Where(n => !scraped.Contains(n) && !recorded.Contains(n) && !OtherExporters.Contains(n))
            .Select(n => $"{n} ({u.Key})")).ToList();
        Assert.True(missing.Count == 0, $"not in Catalog's /metrics: {string.Join(", ", missing)}\nscraped: {PromQl.Describe(scraped)}");
        var allUsed = used.Values.SelectMany(n => n).ToHashSet();
        Assert.All(OtherExporters, n => Assert.True(allUsed.Contains(n), $"{n} is allow-listed but nothing uses it"));
        Assert.All(OtherExporters, n => Assert.DoesNotContain(n, scraped));
    }

    [Fact]
    public async Task TheLabelsAndTheLatencyBoundaryTheRulesSelectOnExist()
    {
        await SendTrafficAsync();
        var metrics = await fixture.Process.MetricsAsync();
        var requests = metrics.Split('\n').Where(l => l.StartsWith("http_request_duration_seconds_bucket{", StringComparison.Ordinal)).ToList();

        Assert.Contains(requests, l => l.Contains("le=\"0.5\"", StringComparison.Ordinal));
        Assert.All(requests, l => Assert.Matches("code=\"\\d{3}\".*method=\"[A-Z]+\".*route=\"", l));
        Assert.Contains("db_reads_total{role=\"reader\"}", metrics, StringComparison.Ordinal);
        Assert.Contains("npgsql_db_client_connection_count{db_client_connection_pool_name=\"writer\",db_client_connection_state=\"used\"}", metrics, StringComparison.Ordinal);
        Assert.Contains("secrets_reloads_total{outcome=\"failure\"}", metrics, StringComparison.Ordinal);
        Assert.Contains("dependency_up{dependency=\"reader\"}", metrics, StringComparison.Ordinal);
    }

    /// <summary>Labels the Prometheus Operator attaches to every series it scrapes through a PodMonitor (its
    /// relabelings add <c>endpoint</c>, <c>namespace</c>, <c>pod</c>, <c>container</c>, <c>service</c>; Prometheus adds
    /// <c>job</c> and <c>instance</c>). An application label with one of these names is renamed <c>exported_*</c> by
    /// Prometheus (honor_labels is false), so a query grouping by it silently groups by the target's value.</summary>
    private static readonly string[] s_targetLabels = ["job", "instance", "endpoint", "namespace", "pod", "service", "container"];

    [Fact]
    public async Task NoMetricLabelOfTheServiceClashesWithATargetLabel()
    {
        await SendTrafficAsync();
        var labels = (await fixture.Process.MetricsAsync()).Split('\n')
            .Where(l => l.Length > 0 && l[0] != '#' && l.Contains('{', StringComparison.Ordinal))
            .SelectMany(l => System.Text.RegularExpressions.Regex.Matches(l[(l.IndexOf('{', StringComparison.Ordinal) + 1)..l.LastIndexOf('}')], "(?:^|,)([a-zA-Z_][a-zA-Z0-9_]*)=\"")
                .Select(m => m.Groups[1].Value))
            .ToHashSet(StringComparer.Ordinal);

        Assert.Contains("route", labels);
        Assert.Empty(labels.Intersect(s_targetLabels));
    }

    /// <summary>An answer the exception handler makes (a body that does not bind: 400; a database that does not
    /// answer: 503) is counted with its own status and route. With the request metrics inside the exception handler
    /// they counted it as a 200 (the status while the exception passed through them), so neither the release analysis
    /// nor the error-budget alerts saw a database outage (issue 13: the real-Prometheus analysis found it).</summary>
    [Fact]
    public async Task AnAnswerOfTheExceptionHandlerIsCountedWithItsStatusAndRoute()
    {
        fixture.Process.UseToken(Tokens.Create("catalog/write", "catalog"));
        using var body = new StringContent("{\"name\": ", System.Text.Encoding.UTF8, "application/json");
        using var response = await fixture.Process.Api.PostAsync(new Uri("api/v1/products", UriKind.Relative), body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);

        var metrics = await fixture.Process.MetricsAsync();

        Assert.True(PrometheusText.Sum(metrics, "http_request_duration_seconds_count", "code=\"400\"", "method=\"POST\"", "route=\"/api/v1/products/\"") >= 1,
            string.Join('\n', metrics.Split('\n').Where(l => l.StartsWith("http_request_duration_seconds_count", StringComparison.Ordinal))));
    }

    [Fact]
    public async Task TheRolloutsProbesTheAlbHealthCheckAndTheScrapeAnswerOnTheManagementPortOnly()
    {
        var container = fixture.Chart.Get("Rollout").Arr("spec.template.spec.containers")[0]!;
        var ports = container.Arr("ports").ToDictionary(p => p!.Str("name")!, p => int.Parse(p!.Str("containerPort")!, CultureInfo.InvariantCulture));
        var config = fixture.Chart.ConfigMapData(ServiceContractFixture.Service);
        var paths = new List<string>();
        foreach (var probe in new[] { "startupProbe", "livenessProbe", "readinessProbe" })
        {
            Assert.Equal("management", container.Str(probe + ".httpGet.port"));
            paths.Add(container.Str(probe + ".httpGet.path")!);
        }
        paths.Add(fixture.Chart.Get("Ingress").Annotations()["alb.ingress.kubernetes.io/healthcheck-path"]);
        paths.Add(fixture.Chart.Get("PodMonitor").Arr("spec.podMetricsEndpoints")[0]!.Str("path")!);

        // The chart's ports are the service's own (appsettings.json), and what the container declares.
        using var settings = JsonDocument.Parse(await File.ReadAllTextAsync(Repo.PathOf("src", "Catalog.Api", "appsettings.json")));
        var hosting = settings.RootElement.GetProperty("Hosting");
        Assert.Equal(hosting.GetProperty("ManagementPort").GetInt32(), ports["management"]);
        Assert.Equal(hosting.GetProperty("ApiPort").GetInt32(), ports["http"]);
        Assert.Equal(ports["management"].ToString(CultureInfo.InvariantCulture), config["Hosting__ManagementPort"]);
        Assert.Equal(ports["http"].ToString(CultureInfo.InvariantCulture), config["Hosting__ApiPort"]);
        Assert.Equal(ports["management"].ToString(CultureInfo.InvariantCulture), fixture.Chart.Get("Ingress").Annotations()["alb.ingress.kubernetes.io/healthcheck-port"]);

        foreach (var path in paths.Distinct())
        {
            using var management = await fixture.Process.Management.GetAsync(new Uri(path.TrimStart('/'), UriKind.Relative));
            Assert.True(management.StatusCode == HttpStatusCode.OK, $"{path} answered {management.StatusCode} on the management port");
            using var api = await fixture.Process.Api.GetAsync(new Uri(path.TrimStart('/'), UriKind.Relative));
            Assert.True(api.StatusCode == HttpStatusCode.NotFound, $"{path} answered {api.StatusCode} on the API port");
        }
    }

    [Theory]
    [MemberData(nameof(ChartRendering.Deployments), MemberType = typeof(ChartRendering))]
    public async Task DrainTimingsAgreeWithTheServicesShutdownAndTheAlb(string service, string environment)
    {
        var rendered = await ChartRendering.RenderAsync(service, environment);
        var config = rendered.ConfigMapData(service);
        var rollout = rendered.Get("Rollout");
        var drainDelay = TimeSpan.Parse(config["Shutdown__DrainDelay"], CultureInfo.InvariantCulture).TotalSeconds;
        var timeout = TimeSpan.Parse(config["Shutdown__Timeout"], CultureInfo.InvariantCulture).TotalSeconds;
        var preStop = Seconds(rollout, "spec.template.spec.containers", "lifecycle.preStop.sleep.seconds");
        var grace = double.Parse(rollout.Str("spec.template.spec.terminationGracePeriodSeconds")!, CultureInfo.InvariantCulture);
        var scaleDownDelay = double.Parse(rollout.Str("spec.strategy.canary.scaleDownDelaySeconds")!, CultureInfo.InvariantCulture);
        var abortScaleDownDelay = double.Parse(rollout.Str("spec.strategy.canary.abortScaleDownDelaySeconds")!, CultureInfo.InvariantCulture);
        var deregistration = double.Parse(rendered.Get("Ingress").Annotations()["alb.ingress.kubernetes.io/target-group-attributes"]
            .Split(',').Single(a => a.StartsWith("deregistration_delay.timeout_seconds=", StringComparison.Ordinal)).Split('=')[1], CultureInfo.InvariantCulture);

        Assert.True(drainDelay > 0 && timeout > 0 && preStop > 0);
        Assert.True(grace > preStop + drainDelay + timeout, $"terminationGracePeriodSeconds {grace} <= preStop {preStop} + drain {drainDelay} + timeout {timeout}");
        Assert.True(deregistration >= timeout, $"the ALB cuts in-flight requests after {deregistration} s, the service allows {timeout} s");
        Assert.True(deregistration <= preStop + drainDelay + timeout, "the ALB keeps a deregistering target longer than the pod lives");
        Assert.True(scaleDownDelay >= deregistration + preStop, "the previous stack is scaled down before the ALB finished deregistering it");
        Assert.True(abortScaleDownDelay >= deregistration + preStop, "an aborted release is scaled down before the ALB finished deregistering it");
        // Nothing scales the previous stack down while the release is judged (dynamicStableScale would, with the weight).
        Assert.Equal("false", rollout.Str("spec.strategy.canary.dynamicStableScale"));
    }

    [Fact]
    public async Task TheServiceDrainsForTheChartsDrainDelayAfterSigtermThenStopsWithinItsTimeout()
    {
        var config = fixture.Chart.ConfigMapData(ServiceContractFixture.Service);
        var drainDelay = TimeSpan.Parse(config["Shutdown__DrainDelay"], CultureInfo.InvariantCulture);
        var timeout = TimeSpan.Parse(config["Shutdown__Timeout"], CultureInfo.InvariantCulture);
        await using var service = fixture.Start(fixture.Secrets.Path);
        await service.WaitReadyAsync();

        var stopwatch = Stopwatch.StartNew();
        var exit = service.TerminateAsync(drainDelay + timeout + TimeSpan.FromSeconds(10));
        await WaitUntilAsync(async () => (await StatusAsync(service.Management, "health/ready")) == HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(3));
        var servingWhileDraining = await StatusAsync(service.Api, "api/v1/products");
        var exitCode = await exit;

        Assert.Equal(HttpStatusCode.OK, servingWhileDraining);
        Assert.Equal(0, exitCode);
        Assert.True(stopwatch.Elapsed >= drainDelay - TimeSpan.FromMilliseconds(200), $"stopped after {stopwatch.Elapsed}, before the drain delay {drainDelay}");
        Assert.True(stopwatch.Elapsed < drainDelay + timeout, $"took {stopwatch.Elapsed}, beyond drain delay + timeout");
    }

    [Fact]
    public void TheVaultTemplatesRenderExactlyTheKeysTheServiceBindsWithAnyPasswordEscaped()
    {
        var templates = new[] { fixture.Chart.Get("Rollout").Obj("spec.template"), fixture.Chart.Get("Job", "catalog-migrator").Obj("spec.template") };
        const string Hostile = "p\"a\\s{{s}}\n'w\u00e9\u0000rd";

        foreach (var template in templates)
        {
            var (_, render) = VaultTemplate.Parse(template.Annotations()["vault.hashicorp.com/agent-inject-template-database.json"]);
            using var rendered = JsonDocument.Parse(render(new Dictionary<string, string> { ["username"] = "u", ["password"] = Hostile }));
            var keys = rendered.RootElement.EnumerateObject()
                .SelectMany(section => section.Value.EnumerateObject().Select(k => $"{section.Name}:{k.Name}")).ToList();
            Assert.Equal(["Database:Username", "Database:Password"], keys);
            Assert.Equal(Hostile, rendered.RootElement.GetProperty("Database").GetProperty("Password").GetString());
        }
        // The service under test was started with nothing but the rendered file as credentials, and is ready.
        Assert.True(File.Exists(Path.Combine(fixture.Secrets.Path, "database.json")));
    }

    [Fact]
    public void TheTemplateRendererRefusesWhatItCannotProve()
    {
        Assert.Throws<NotSupportedException>(() => VaultTemplate.Parse("""{{ with secret "database/static-creds/x" }}{{ .Data.username }}{{ end }}"""));
        Assert.Throws<NotSupportedException>(() => VaultTemplate.Parse("""{"Database":{}}"""));
    }

    [Fact]
    public async Task ASecretsFileWithOtherKeysLeavesTheServiceUnstarted()
    {
        using var wrong = new SecretsDirectory();
        wrong.Write("database.json", JsonSerializer.Serialize(new { Database = new { User = "catalog_app", Pass = PostgresCluster.DevPassword("catalog_app") } }));
        await using var service = fixture.Start(wrong.Path);

        var started = await TryWaitAsync(() => service.WaitForAsync("/health/startup", TimeSpan.FromSeconds(6)));

        Assert.False(started, "Catalog started without Database:Username/Database:Password: the key check above proves nothing");
    }

    [Fact]
    public async Task ThePrePromotionSmokeJobPassesWithOnlyItsRenderedArgumentsAndEnvironment()
    {
        var smoke = fixture.Chart.Get("AnalysisTemplate", ServiceContractFixture.Service + "-smoke").Arr("spec.metrics").Single(m => m!.Str("name") == "smoke")!;
        var container = smoke.Arr("provider.job.spec.template.spec.containers")[0]!;
        var args = container.Arr("args").Select(a => a!.GetValue<string>()).ToArray();
        // The Job has no Vault identity and no ConfigMap: what it renders is all smoke gets in the cluster.
        var environment = container.Node("env") is JsonArray env
            ? env.ToDictionary(e => e!.Str("name")!, e => e!.Str("value") ?? throw new InvalidOperationException($"smoke env {e!.Str("name")} is not a literal value"))
            : [];
        Assert.Null(container.Node("envFrom"));

        // It calls the canary Service on the API port; here the chart-configured Catalog of the fixture stands in.
        var at = Array.IndexOf(args, "--base-url");
        Assert.True(at >= 0 && at + 1 < args.Length, $"the smoke Job passes no --base-url: {string.Join(' ', args)}");
        var target = new Uri(args[at + 1]);
        var canary = fixture.Chart.Get("Service", target.Host);
        Assert.Equal(fixture.Chart.Get("Rollout").Str("spec.strategy.canary.canaryService"), canary.Str("metadata.name"));
        Assert.Contains(canary.Arr("spec.ports"), p => p!.Str("port") == target.Port.ToString(CultureInfo.InvariantCulture));
        args[at + 1] = fixture.Process.Api.BaseAddress!.ToString();

        fixture.Process.UseToken(Tokens.Create("catalog/write", "catalog"));
        await CatalogHttp.CreateAsync(fixture.Process.Api);
        var (exitCode, stdout, stderr) = await ServiceProcess.RunCommandAsync(ServiceContractFixture.Project, environment, TimeSpan.FromSeconds(90), args);
        Assert.True(exitCode == 0, $"smoke {string.Join(' ', args)} exited {exitCode}:\n{stderr}\n{stdout}");
        Assert.Contains(" 0 failed", stdout, StringComparison.Ordinal);
    }

    private async Task SendTrafficAsync()
    {
        using var list = await fixture.Process.Api.GetAsync(new Uri("api/v1/products", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        fixture.Process.UseToken(Tokens.Create("catalog/write", "catalog"));
        var created = await CatalogHttp.CreateAsync(fixture.Process.Api);
        // Answered by the reader, which may not have replayed the insert yet: any answer is traffic on the route.
        using var read = await fixture.Process.Api.GetAsync(new Uri($"api/v1/products/{created.GetProperty("id").GetString()}", UriKind.Relative));
        Assert.Contains(read.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.NotFound });
    }

    internal static HashSet<string> DashboardMetricNames()
    {
        var dashboard = JsonNode.Parse(File.ReadAllText(Repo.PathOf("deploy", "helm", "service", "files", "grafana", "service-overview.json")))!;
        var expressions = dashboard.Arr("panels").Where(p => p!.Node("targets") is JsonArray)
            .SelectMany(p => p!.Arr("targets")).Select(t => t!.Str("expr")!)
            .Concat(dashboard.Arr("annotations.list").Select(a => a!.Str("expr")).OfType<string>()).ToList();
        var names = PromQl.MetricNames(expressions).ToHashSet();
        foreach (var variable in dashboard.Arr("templating.list").Select(v => v!.Str("definition")).OfType<string>())
            names.UnionWith(PromQl.LabelValuesMetrics(variable));
        return names;
    }

    private static double Seconds(JsonObject rollout, string containers, string path) =>
        double.Parse(rollout.Arr(containers)[0]!.Str(path)!, CultureInfo.InvariantCulture);

    private static async Task<HttpStatusCode?> StatusAsync(HttpClient client, string path)
    {
        try
        {
            using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
            return response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not met within " + timeout);
            await Task.Delay(50);
        }
    }

    private static async Task<bool> TryWaitAsync(Func<Task> wait)
    {
        try
        {
            await wait();
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
