using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TestKit;

namespace Deploy.Tests;

/// <summary>The cluster's add-ons fit the service chart and ship logs the way compose does (deploy/compose/fluent-bit).
/// fluent-bit is not packaged for this machine, so neither pipeline runs here: these tests prove the two
/// configurations agree, and the service tests prove the ECS JSON lines they parse.</summary>
public sealed partial class GitOpsObservabilityTests
{
    [Fact]
    public async Task TheServicesLogsGoThroughTheSameParserAndTimestampHandlingAsInCompose()
    {
        var compose = Sections(await File.ReadAllTextAsync(Repo.PathOf("deploy", "compose", "fluent-bit", "fluent-bit.conf"))
            + await File.ReadAllTextAsync(Repo.PathOf("deploy", "compose", "fluent-bit", "parsers.conf")));
        var values = await ValuesAsync("fluent-bit");
        var cluster = Sections(string.Concat(new[] { "inputs", "filters", "outputs", "customParsers" }.Select(k => values.Str("config." + k))));

        // The JSON line replaces the runtime's `log` string, the service's fields land at the top level as written.
        var composeParser = compose.Single(s => s.Name == "FILTER" && s["Name"] == "parser");
        var clusterParser = cluster.Single(s => s.Name == "FILTER" && s["Name"] == "parser" && s["Match"] == "studio.*");
        foreach (var key in new[] { "Key_Name", "Parser", "Reserve_Data", "Preserve_Key" }) Assert.Equal(composeParser[key], clusterParser[key]);
        var parser = Assert.Single(cluster, s => s.Name == "PARSER" && s["Name"] == clusterParser["Parser"]);
        Assert.Equal(compose.Single(s => s.Name == "PARSER" && s["Name"] == composeParser["Parser"]).Settings, parser.Settings);
        Assert.DoesNotContain("Time_Key", parser.Settings.Keys);

        // A line that is not JSON becomes the message, so `log` is an object in every services-* document.
        var fallback = cluster.Single(s => s.Name == "FILTER" && s["Name"] == "modify" && s["Match"] == "studio.*");
        Assert.Equal("Key_does_not_exist message", fallback["Condition"]);
        Assert.Equal("log message", fallback["Rename"]);

        // No second @timestamp: the output's own time field is event.created, as in compose.
        var composeOutput = compose.Single(s => s.Name == "OUTPUT");
        var clusterOutput = cluster.Single(s => s.Name == "OUTPUT" && s["Match"] == "studio.*");
        foreach (var key in new[] { "Logstash_Format", "Logstash_Prefix", "Time_Key", "Replace_Dots", "Suppress_Type_Name", "Generate_ID" })
            Assert.Equal(composeOutput[key], clusterOutput[key]);
        Assert.NotEqual("@timestamp", clusterOutput["Time_Key"]);

        // The kubernetes filter adds metadata without merging the line (that is the parser's job).
        Assert.All(cluster.Where(s => s["Name"] == "kubernetes"), k => Assert.Equal("Off", k["Merge_Log"]));
        Assert.Equal("cri", cluster.Single(s => s.Name == "INPUT" && s["Tag"] == "studio.*")["multiline.parser"]);
    }

    [Fact]
    public async Task TheClusterRunsTheSameFluentBitAndElasticsearchVersionsAsCompose()
    {
        var compose = await File.ReadAllTextAsync(Repo.PathOf("docker-compose.yml"));
        var platform = (await ChartRendering.YamlToJsonAsync(await File.ReadAllTextAsync(Path.Combine(GitOpsRepository.Root, "platform", "values.yaml"))))[0]!;

        Assert.Equal(ComposeImageTag().Match(compose).Groups[1].Value, (await ValuesAsync("fluent-bit")).Str("image.tag"));
        Assert.Equal(ElasticsearchTag().Match(compose).Groups[1].Value, platform.Str("elasticsearch.version"));
    }

    [Fact]
    public async Task RolloutsVerifiesTargetGroupsAndPodsGetReadinessGatesBecauseTheChartTargetsPodIps()
    {
        var rendered = await ChartRendering.RenderAsync("catalog", "prod");
        var ingress = rendered.OfKind("Ingress").First();
        var namespaces = await GitOpsRepository.LocalObjectsAsync("prod");

        Assert.Equal("ip", ingress.Annotations()["alb.ingress.kubernetes.io/target-type"]);
        Assert.Contains("--aws-verify-target-group", (await ValuesAsync("argo-rollouts")).Arr("controller.extraArgs").Select(a => a!.ToString()));
        var studio = namespaces.Single(o => o.Str("kind") == "Namespace" && o.Str("metadata.name") == ChartRendering.Namespace);
        Assert.Equal("enabled", studio.Labels()["elbv2.k8s.aws/pod-readiness-gate-inject"]);
    }

    [Fact]
    public async Task PrometheusAndGrafanaPickUpWhatTheChartRenders()
    {
        var rendered = await ChartRendering.RenderAsync("assets", "staging");
        var values = await ValuesAsync("kube-prometheus-stack");
        var dashboard = rendered.OfKind("ConfigMap").Single(c => c.Labels().ContainsKey(values.Str("grafana.sidecar.dashboards.label")!));

        Assert.Equal(values.Str("grafana.sidecar.dashboards.labelValue"), dashboard.Labels()[values.Str("grafana.sidecar.dashboards.label")!]);
        Assert.Equal("ALL", values.Str("grafana.sidecar.dashboards.searchNamespace"));
        Assert.True(dashboard.Annotations().ContainsKey(values.Str("grafana.sidecar.dashboards.folderAnnotation")!));
        // Every PodMonitor and PrometheusRule, whatever its labels, in every namespace.
        foreach (var selector in new[] { "podMonitor", "serviceMonitor", "rule", "probe" })
            Assert.Equal("false", values.Str($"prometheus.prometheusSpec.{selector}SelectorNilUsesHelmValues"));
        Assert.NotEmpty(rendered.OfKind("PodMonitor"));
        Assert.NotEmpty(rendered.OfKind("PrometheusRule"));
        // The analysis queries the Prometheus this release creates.
        var address = rendered.OfKind("AnalysisTemplate").SelectMany(t => t.Arr("spec.metrics")).Select(m => m!.Str("provider.prometheus.address")).First(a => a is not null);
        Assert.Equal("http://kube-prometheus-stack-prometheus.monitoring.svc.cluster.local:9090", address);
        var application = await GitOpsRepository.ApplicationAsync("staging", "kube-prometheus-stack");
        Assert.Equal("monitoring", application.Str("spec.destination.namespace"));
        Assert.Equal("kube-prometheus-stack", GitOpsRepository.Sources(application).First().Str("helm.releaseName"));
    }

    [Fact]
    public async Task TheClustersLatencyPanelsShowExemplarsThatOpenTheirTraceInJaeger()
    {
        var render = await PlatformRendering.RenderAsync("prod");
        var stack = render.AddOn("kube-prometheus-stack");

        // The Prometheus the operator runs keeps exemplars (scraped as OpenMetrics once the feature is on).
        var prometheus = stack.Objects.Single(o => o.Kind == "Prometheus").Json;
        Assert.Contains("exemplar-storage", prometheus.Arr("spec.enableFeatures").Select(f => f!.ToString()));
        Assert.True(prometheus.Node("spec.exemplars.maxSize")!.GetValue<int>() > 0);

        // The provisioned Prometheus datasource sends an exemplar's trace_id to the provisioned Jaeger datasource.
        var provisioning = stack.Objects.Single(o => o.Kind == "ConfigMap" && o.Name.EndsWith("-grafana-datasource", StringComparison.Ordinal));
        var datasources = (await ChartRendering.YamlToJsonAsync(provisioning.Json.Obj("data")["datasource.yaml"]!.ToString()))
            .Single()!.Arr("datasources").Select(d => d!.AsObject()).ToList();
        var defaultPrometheus = datasources.Single(d => d.Str("type") == "prometheus" && d["isDefault"]?.GetValue<bool>() == true);
        var destination = Assert.Single(defaultPrometheus.Arr("jsonData.exemplarTraceIdDestinations"))!.AsObject();
        Assert.Equal("trace_id", destination.Str("name"));
        var jaeger = datasources.Single(d => d.Str("uid") == destination.Str("datasourceUid"));
        Assert.Equal("jaeger", jaeger.Str("type"));
        Assert.Contains(render.All, o => o.Kind == "Service" && new Uri(jaeger.Str("url")!).Host.StartsWith(o.Name + "." + o.Namespace + ".", StringComparison.Ordinal));

        // The chart's dashboard, as the sidecar loads it: every panel on the request-latency buckets asks for exemplars.
        var dashboards = render.ServiceObjects.Where(o => o.Kind == "ConfigMap" && o.Json.Labels().ContainsKey(stack.Values.Str("grafana.sidecar.dashboards.label")!)).ToList();
        Assert.NotEmpty(dashboards);
        foreach (var map in dashboards)
        {
            foreach (var json in map.Json.Obj("data").Select(d => JsonNode.Parse(d.Value!.ToString())!))
            {
                var latency = json.Arr("panels").SelectMany(p => p!["targets"] as JsonArray ?? [])
                    .Where(t => t!.Str("expr")?.Contains("http_request_duration_seconds_bucket", StringComparison.Ordinal) == true).ToList();
                Assert.NotEmpty(latency);
                Assert.All(latency, t => Assert.True(t!["exemplar"]?.GetValue<bool>() == true, $"{t!.Str("expr")} shows no exemplars"));
            }
        }
    }

    [Theory]
    [MemberData(nameof(ChartRendering.Deployments), MemberType = typeof(ChartRendering))]
    public async Task TheNetworkPolicyOpensExactlyTheNamespacesThePlatformInstallsInto(string service, string environment)
    {
        var rendered = await ChartRendering.RenderAsync(service, environment);
        var policy = rendered.OfKind("NetworkPolicy").Single(p => p.Arr("spec.policyTypes").Count == 2 && p.Node("spec.ingress") is JsonArray ingress && ingress.Count > 1);

        // Namespace a rule admits, by the port it opens: a NetworkPolicy naming a namespace nothing runs in blocks
        // scrapes, secrets or traces without any error in the service's logs.
        static string NamespaceFor(JsonArray rules, string peers, int port) => rules
            .Where(r => r!.Arr("ports").Any(p => p!.Str("port") == port.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            .SelectMany(r => r!.Arr(peers)).Select(p => p!.Node("namespaceSelector")?["matchLabels"]?["kubernetes.io/metadata.name"]?.ToString())
            .Single(n => n is not null)!;
        var ingressRules = policy.Arr("spec.ingress");
        var egressRules = policy.Arr("spec.egress");

        var prometheus = await GitOpsRepository.ApplicationAsync(environment, "kube-prometheus-stack");
        Assert.Equal(prometheus.Str("spec.destination.namespace"), NamespaceFor(ingressRules, "from", 8081));
        var vault = await GitOpsRepository.ApplicationAsync(environment, "vault");
        Assert.Equal(vault.Str("spec.destination.namespace"), NamespaceFor(egressRules, "to", 8200));
        var jaeger = await GitOpsRepository.ApplicationAsync(environment, "jaeger");
        Assert.Equal(jaeger.Str("spec.destination.namespace"), NamespaceFor(egressRules, "to", 4317));
    }

    [Fact]
    public async Task TheOtlpEndpointTheServicesUseLeadsToJaeger()
    {
        var rendered = await ChartRendering.RenderAsync("catalog", "dev");
        var endpoint = new Uri(rendered.ConfigMapData(rendered.OfKind("ConfigMap").First(c => c.Node("data.OTEL_EXPORTER_OTLP_ENDPOINT") is not null).Str("metadata.name")!)["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var objects = await GitOpsRepository.LocalObjectsAsync("dev");
        var jaeger = await GitOpsRepository.ApplicationAsync("dev", "jaeger");

        var name = endpoint.Host.Split('.');
        var service = objects.Single(o => o.Str("kind") == "Service" && o.Str("metadata.name") == name[0] && o.Str("metadata.namespace") == name[1]);
        Assert.Equal($"{GitOpsRepository.Sources(jaeger).First().Str("helm.releaseName")}.{jaeger.Str("spec.destination.namespace")}.svc.cluster.local", service.Str("spec.externalName"));
        Assert.Contains(endpoint.Port, service.Arr("spec.ports").Select(p => int.Parse(p!.Str("port")!, System.Globalization.CultureInfo.InvariantCulture)));
        var receivers = (await ValuesAsync("jaeger")).Obj("userconfig.receivers.otlp.protocols");
        Assert.Equal($"0.0.0.0:{endpoint.Port}", receivers.Str("grpc.endpoint"));
    }

    private static async Task<JsonNode> ValuesAsync(string addon) =>
        (await ChartRendering.YamlToJsonAsync(await File.ReadAllTextAsync(Path.Combine(GitOpsRepository.Root, "platform", "values", addon + ".yaml"))))[0]!;

    /// <summary>fluent-bit's classic configuration: [SECTION] headers followed by "Key Value" lines.</summary>
    internal static List<Section> Sections(string config)
    {
        var sections = new List<Section>();
        foreach (var line in config.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')))
        {
            if (line.StartsWith('[')) sections.Add(new Section(line.Trim('[', ']'), []));
            else sections[^1].Settings[line.Split(' ', 2)[0]] = line.Split(' ', 2)[1].Trim();
        }
        return sections;
    }

    internal sealed record Section(string Name, Dictionary<string, string> Settings)
    {
        public string? this[string key] => Settings.GetValueOrDefault(key);
    }

    [GeneratedRegex(@"image: fluent/fluent-bit:([0-9.]+)")]
    private static partial Regex ComposeImageTag();

    [GeneratedRegex(@"image: docker\.elastic\.co/elasticsearch/elasticsearch:([0-9.]+)")]
    private static partial Regex ElasticsearchTag();
}
