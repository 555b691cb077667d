using System.Text.Json.Nodes;
using TestKit;

namespace Deploy.Tests;

/// <summary>The service chart, rendered for every service × environment: what each object must say for releases
/// behind the ALB, Vault, migrations, monitoring and network isolation to work together (the release strategy itself:
/// ReleaseStrategyTests).</summary>
public sealed class ChartTests
{
    [Theory]
    [MemberData(nameof(ChartRendering.Deployments), MemberType = typeof(ChartRendering))]
    public async Task HelmLintPassesStrictlyForEveryServiceAndEnvironment(string service, string environment)
    {
        var args = new List<string> { "lint", ChartRendering.ChartDirectory, "--strict", "--namespace", ChartRendering.Namespace };
        foreach (var file in ChartRendering.ValuesFiles(service, environment)) args.AddRange(["--values", file]);

        var (exitCode, output) = await Tool.RunRawAsync(DeployTools.Helm, args);

        Assert.True(exitCode == 0, output);
    }

    [Theory]
    [MemberData(nameof(ChartRendering.CiValuesFiles), MemberType = typeof(ChartRendering))]
    public async Task EveryCiValuesFileLintsAndRenders(string ciValuesFile)
    {
        var (exitCode, output) = await Tool.RunRawAsync(DeployTools.Helm,
            ["lint", ChartRendering.ChartDirectory, "--strict", "--values", Path.Combine(ChartRendering.ChartDirectory, "ci", ciValuesFile)]);
        Assert.True(exitCode == 0, output);

        var rendered = await ChartRendering.RenderCiAsync(ciValuesFile);

        Assert.Single(rendered.OfKind("Rollout"));
    }

    [Theory]
    [MemberData(nameof(ChartRendering.Deployments), MemberType = typeof(ChartRendering))]
    public async Task TheAnalysisSmokesTheCanaryServiceWithTheReleasesImageThenJudgesItsOwnMetrics(string service, string environment)
    {
        var rendered = await ChartRendering.RenderAsync(service, environment);
        var image = rendered.Get("Rollout").Arr("spec.template.spec.containers")[0]!.Str("image");
        var pre = rendered.Get("AnalysisTemplate", service + "-pre-promotion").Arr("spec.metrics").Select(m => m!.AsObject()).ToList();
        var post = rendered.Get("AnalysisTemplate", service + "-post-promotion").Arr("spec.metrics").Select(m => m!.AsObject()).ToList();

        var smoke = Assert.Single(rendered.Get("AnalysisTemplate", service + "-smoke").Arr("spec.metrics"))!;
        var container = smoke.Arr("provider.job.spec.template.spec.containers")[0]!;
        Assert.Equal(image, container.Str("image"));
        var args = container.Arr("args").Select(a => a!.ToString()).ToList();
        Assert.Equal("smoke", args[0]);
        Assert.Equal($"http://{service}-canary:8080", args[args.IndexOf("--base-url") + 1]);
        Assert.True(int.Parse(args[args.IndexOf("--iterations") + 1]) >= 50, "too few smoke iterations to judge a success rate");

        var queries = pre.Concat(post).ToList();
        Assert.Equal(4, queries.Count);
        Assert.All(queries, metric =>
        {
            Assert.NotNull(metric.Str("initialDelay"));
            Assert.NotNull(metric.Node("provider.prometheus"));
            Assert.StartsWith("len(result) > 0 && ", metric.Str("successCondition") ?? metric.Str("failureCondition"), StringComparison.Ordinal);
            var query = metric.Str("provider.prometheus.query")!;
            Assert.Contains($"service=\"{service}\"", query, StringComparison.Ordinal);
            Assert.Contains("rollouts_pod_template_hash=\"{{args.canary-hash}}\"", query, StringComparison.Ordinal);
            Assert.Contains(") > 0)", query, StringComparison.Ordinal);
            // A range selector would make the verdict depend on Prometheus' version and on increase()'s first sample.
            Assert.DoesNotMatch(@"\[[0-9]+[smh]\]", query);
        });
        // After setWeight 100 bad traffic fails; no traffic is a question for a person in prod (both conditions:
        // Inconclusive pauses) and a pass where nobody would answer it (dev, staging: failureCondition only).
        Assert.All(post, metric => Assert.StartsWith("len(result) > 0 && ", metric.Str("failureCondition"), StringComparison.Ordinal));
        var pauses = rendered.Get("Rollout").Arr("spec.strategy.canary.steps").Any(step => step!.Node("pause") is not null);
        Assert.Equal(environment == "prod", pauses);
        Assert.All(post, metric => Assert.Equal(pauses, metric.Str("successCondition") is not null));
        Assert.All(pre, metric => Assert.Null(metric.Str("failureCondition")));
        Assert.All(pre, metric => Assert.NotNull(metric.Str("successCondition")));
    }

    [Theory]
    [MemberData(nameof(ChartRendering.Deployments), MemberType = typeof(ChartRendering))]
    public async Task TheIngressRoutesOnlyTheApiPortAndHealthChecksReadinessOnTheManagementPort(string service, string environment)
    {
        var rendered = await ChartRendering.RenderAsync(service, environment);
        var ingress = rendered.Get("Ingress", service);
        var annotations = ingress.Annotations();

        Assert.Equal("ip", annotations["alb.ingress.kubernetes.io/target-type"]);
        Assert.Equal("studio", annotations["alb.ingress.kubernetes.io/group.name"]);
        Assert.Equal("8081", annotations["alb.ingress.kubernetes.io/healthcheck-port"]);
        Assert.Equal("/health/ready", annotations["alb.ingress.kubernetes.io/healthcheck-path"]);
        Assert.Equal("[{\"HTTPS\":443}]", annotations["alb.ingress.kubernetes.io/listen-ports"]);
        Assert.StartsWith("arn:aws:acm:", annotations["alb.ingress.kubernetes.io/certificate-arn"], StringComparison.Ordinal);
        Assert.StartsWith("arn:aws:wafv2:", annotations["alb.ingress.kubernetes.io/wafv2-acl-arn"], StringComparison.Ordinal);

        var container = rendered.Get("Rollout").Arr("spec.template.spec.containers")[0]!;
        var containerPorts = container.Arr("ports").ToDictionary(p => p!.Str("name")!, p => int.Parse(p!.Str("containerPort")!));
        Assert.Equal(8080, containerPorts["http"]);
        Assert.Equal(8081, containerPorts["management"]);
        // Every rule forwards to the action Argo Rollouts weights; the action's target groups are Services whose
        // port reaches the API port.
        var backends = ingress.Arr("spec.rules").SelectMany(r => r!.Arr("http.paths")).Select(p => p!.Obj("backend.service")).ToList();
        Assert.NotEmpty(backends);
        Assert.All(backends, b => Assert.Equal(("use-annotation", $"{service}-root"), (b.Str("port.name"), b.Str("name"))));
        var action = JsonNode.Parse(annotations[$"alb.ingress.kubernetes.io/actions.{service}-root"])!;
        var targetGroups = action.Arr("ForwardConfig.TargetGroups").Select(t => t!).ToList();
        Assert.Equal(2, targetGroups.Count);
        foreach (var group in targetGroups)
        {
            var target = rendered.Get("Service", group.Str("ServiceName"));
            var port = target.Arr("spec.ports").Single(p => p!.Str("port") == group.Str("ServicePort"))!;
            Assert.Equal(8080, containerPorts[port.Str("targetPort")!]);
        }
        // No Service exposes the management port: only the pod IP (kubelet, ALB health check, Prometheus) reaches it.
        Assert.All(rendered.OfKind("Service"), s => Assert.DoesNotContain(s.Arr("spec.ports"), p => p!.Str("targetPort") == "management" || p!.Str("port") == "8081"));
    }

    [Theory]
    [MemberData(nameof(ChartRendering.Deployments), MemberType = typeof(ChartRendering))]
    public async Task ProbesUseTheManagementPortsHealthPaths(string service, string environment)
    {
        var rendered = await ChartRendering.RenderAsync(service, environment);
        var container = rendered.Get("Rollout").Arr("spec.template.spec.containers")[0]!;

        Assert.Equal("/health/startup", container.Str("startupProbe.httpGet.path"));
        Assert.Equal("/health/live", container.Str("livenessProbe.httpGet.path"));
        Assert.Equal("/health/ready", container.Str("readinessProbe.httpGet.path"));
        foreach (var probe in new[] { "startupProbe", "livenessProbe", "readinessProbe" })
            Assert.Equal("management", container.Str(probe + ".httpGet.port"));
        Assert.NotNull(container.Node("lifecycle.preStop.sleep.seconds"));
        Assert.NotNull(container.Node("resources.requests.cpu"));
        Assert.NotNull(container.Node("resources.limits.memory"));
    }

    [Theory]
    [MemberData(nameof(ChartRendering.Deployments), MemberType = typeof(ChartRendering))]
    public async Task EveryPodRunsAsTheAppUserOnAReadOnlyRootWithoutCapabilities(string service, string environment)
    {
        var rendered = await ChartRendering.RenderAsync(service, environment);
        var templates = rendered.PodTemplates().ToList();

        Assert.Equal(3, templates.Count);
        foreach (var (owner, template) in templates)
        {
            var pod = template.Obj("spec.securityContext");
            Assert.True(pod.Str("runAsNonRoot") == "true", owner);
            Assert.True(pod.Str("runAsUser") == "1654", owner);
            Assert.True(pod.Str("seccompProfile.type") == "RuntimeDefault", owner);
            foreach (var container in template.Arr("spec.containers").Select(c => c!))
            {
                var security = container.Obj("securityContext");
                Assert.True(security.Str("readOnlyRootFilesystem") == "true", owner);
                Assert.True(security.Str("allowPrivilegeEscalation") == "false", owner);
                Assert.True(security.Arr("capabilities.drop").Select(c => c!.ToString()).SequenceEqual(["ALL"]), owner);
                Assert.True(container.Arr("volumeMounts").Any(m => m!.Str("mountPath") == "/tmp"), $"{owner}: no writable /tmp");
            }
        }
    }

    [Theory]
    [MemberData(nameof(ChartRendering.Deployments), MemberType = typeof(ChartRendering))]
    public async Task TheMigrationRunsAsAHookBeforeThePodsWithTheMigratorsIdentity(string service, string environment)
    {
        var rendered = await ChartRendering.RenderAsync(service, environment);
        var migrator = service + "-migrator";
        var job = rendered.Get("Job", migrator);
        var hooks = rendered.Documents.Where(d => d.Annotations().ContainsKey("helm.sh/hook")).ToList();

        Assert.All(hooks, h => Assert.Equal("pre-install,pre-upgrade", h.Annotations()["helm.sh/hook"]));
        Assert.All(hooks, h => Assert.Equal("before-hook-creation", h.Annotations()["helm.sh/hook-delete-policy"]));
        var jobWeight = int.Parse(job.Annotations()["helm.sh/hook-weight"]);
        foreach (var (kind, name) in new[] { ("ServiceAccount", migrator), ("ConfigMap", migrator), ("NetworkPolicy", migrator) })
            Assert.True(int.Parse(rendered.Get(kind, name).Annotations()["helm.sh/hook-weight"]) < jobWeight, $"{kind} {name} must exist before the Job");

        var pod = job.Obj("spec.template");
        Assert.Equal(migrator, pod.Str("spec.serviceAccountName"));
        Assert.Equal("Never", pod.Str("spec.restartPolicy"));
        var container = pod.Arr("spec.containers")[0]!;
        Assert.Equal(["migrate"], container.Arr("args").Select(a => a!.ToString()));
        Assert.Equal(migrator, container.Arr("envFrom")[0]!.Str("configMapRef.name"));
        var vault = pod.Annotations();
        Assert.Equal(migrator, vault["vault.hashicorp.com/role"]);
        Assert.Equal("true", vault["vault.hashicorp.com/agent-pre-populate-only"]);
        Assert.Equal($"database/static-creds/{service}-migrator", vault["vault.hashicorp.com/agent-inject-secret-database.json"]);
        Assert.Contains($"database/static-creds/{service}-migrator", vault["vault.hashicorp.com/agent-inject-template-database.json"], StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(ChartRendering.Deployments), MemberType = typeof(ChartRendering))]
    public async Task ServicePodsGetTheirOwnStaticRoleFromVaultAndTheRdsCaBundle(string service, string environment)
    {
        var rendered = await ChartRendering.RenderAsync(service, environment);
        var pod = rendered.Get("Rollout").Obj("spec.template");
        var annotations = pod.Annotations();
        var config = rendered.ConfigMapData(service);

        Assert.Equal(service, pod.Str("spec.serviceAccountName"));
        rendered.Get("ServiceAccount", service);
        Assert.Equal("true", annotations["vault.hashicorp.com/agent-inject"]);
        Assert.Equal(service, annotations["vault.hashicorp.com/role"]);
        Assert.Equal($"database/static-creds/{service}-app", annotations["vault.hashicorp.com/agent-inject-secret-database.json"]);
        var template = annotations["vault.hashicorp.com/agent-inject-template-database.json"];
        Assert.Contains($"{{{{- with secret \"database/static-creds/{service}-app\" -}}}}", template, StringComparison.Ordinal);
        Assert.DoesNotContain("__DB_ROLE__", template, StringComparison.Ordinal);
        Assert.Equal("0400", annotations["vault.hashicorp.com/agent-inject-perms-database.json"]);
        Assert.Equal("true", annotations["vault.hashicorp.com/agent-run-as-same-user"]);
        Assert.Equal("true", annotations["vault.hashicorp.com/agent-cache-enable"]);
        Assert.False(annotations.ContainsKey("vault.hashicorp.com/agent-pre-populate-only"), "service pods keep the sidecar: it re-renders rotated passwords");
        Assert.Equal(annotations["vault.hashicorp.com/secret-volume-path"], config["Secrets__Directory"]);

        Assert.Contains("SSL Mode=VerifyFull", config["Database__Writer"], StringComparison.Ordinal);
        Assert.DoesNotContain("Password", config["Database__Writer"], StringComparison.OrdinalIgnoreCase);
        var caMount = pod.Arr("spec.containers")[0]!.Arr("volumeMounts").Single(m => m!.Str("name") == "rds-ca")!;
        var caVolume = pod.Arr("spec.volumes").Single(v => v!.Str("name") == "rds-ca")!;
        var caKey = caVolume.Arr("configMap.items")[0]!.Str("path");
        Assert.Equal($"{caMount.Str("mountPath")}/{caKey}", config["Database__RootCertificate"]);
    }

    [Theory]
    [MemberData(nameof(ChartRendering.Deployments), MemberType = typeof(ChartRendering))]
    public async Task OnlyAssetsHasAnAwsRole(string service, string environment)
    {
        var rendered = await ChartRendering.RenderAsync(service, environment);
        var annotations = rendered.Get("ServiceAccount", service).Annotations();

        if (service == "assets") Assert.StartsWith("arn:aws:iam::", annotations["eks.amazonaws.com/role-arn"], StringComparison.Ordinal);
        else Assert.False(annotations.ContainsKey("eks.amazonaws.com/role-arn"));
    }

    [Theory]
    [MemberData(nameof(ChartRendering.Deployments), MemberType = typeof(ChartRendering))]
    public async Task EachApiPodIsScrapedOnceWithItsRolloutHashAndNoJobPodIsSelected(string service, string environment)
    {
        var rendered = await ChartRendering.RenderAsync(service, environment);

        Assert.Empty(rendered.OfKind("ServiceMonitor"));
        var monitor = rendered.Get("PodMonitor");
        var endpoint = monitor.Arr("spec.podMetricsEndpoints").Single()!;
        Assert.Equal("management", endpoint.Str("port"));
        Assert.Equal("/metrics", endpoint.Str("path"));
        var relabelings = endpoint.Arr("relabelings").Select(r => r!).ToList();
        Assert.Contains(relabelings, r => r.Str("targetLabel") == "rollouts_pod_template_hash"
            && r.Arr("sourceLabels")[0]!.ToString() == "__meta_kubernetes_pod_label_rollouts_pod_template_hash");
        Assert.Contains(relabelings, r => r.Str("targetLabel") == "service" && r.Str("replacement") == service);

        var selector = monitor.Obj("spec.selector.matchLabels").ToDictionary(p => p.Key, p => p.Value!.ToString());
        foreach (var (owner, template) in rendered.PodTemplates())
        {
            var selected = selector.All(s => template.Labels().GetValueOrDefault(s.Key) == s.Value);
            Assert.True(selected == owner.StartsWith("Rollout/", StringComparison.Ordinal), $"{owner} selected: {selected}");
        }
        foreach (var selecting in rendered.OfKind("PodDisruptionBudget").Concat(rendered.OfKind("Service")))
        {
            var labels = (selecting.Node("spec.selector.matchLabels") ?? selecting.Obj("spec.selector")).AsObject();
            Assert.Equal(selector, labels.ToDictionary(p => p.Key, p => p.Value!.ToString()));
        }
    }

    [Theory]
    [MemberData(nameof(ChartRendering.Deployments), MemberType = typeof(ChartRendering))]
    public async Task TheHpaScalesTheRolloutAndPodsSpreadAcrossZones(string service, string environment)
    {
        var rendered = await ChartRendering.RenderAsync(service, environment);
        var hpa = rendered.Get("HorizontalPodAutoscaler");
        var rollout = rendered.Get("Rollout");

        Assert.Equal("argoproj.io/v1alpha1", hpa.Str("spec.scaleTargetRef.apiVersion"));
        Assert.Equal("Rollout", hpa.Str("spec.scaleTargetRef.kind"));
        Assert.Equal(service, hpa.Str("spec.scaleTargetRef.name"));
        Assert.True(int.Parse(hpa.Str("spec.minReplicas")!) >= 2);
        Assert.Equal("cpu", hpa.Arr("spec.metrics")[0]!.Str("resource.name"));
        Assert.Null(rollout.Node("spec.replicas"));
        var zoneSpread = rollout.Arr("spec.template.spec.topologySpreadConstraints").Single(c => c!.Str("topologyKey") == "topology.kubernetes.io/zone")!;
        Assert.Equal("DoNotSchedule", zoneSpread.Str("whenUnsatisfiable"));
        Assert.Equal("1", rendered.Get("PodDisruptionBudget").Str("spec.maxUnavailable"));
    }

    [Theory]
    [MemberData(nameof(ChartRendering.Deployments), MemberType = typeof(ChartRendering))]
    public async Task NetworkPoliciesDenyEverythingThenAllowOnlyTheNeededPaths(string service, string environment)
    {
        var rendered = await ChartRendering.RenderAsync(service, environment);
        var deny = rendered.Get("NetworkPolicy", service + "-default-deny");
        Assert.Equal(["Ingress", "Egress"], deny.Arr("spec.policyTypes").Select(t => t!.ToString()));
        Assert.Null(deny.Node("spec.ingress"));
        Assert.Null(deny.Node("spec.egress"));

        var api = rendered.Get("NetworkPolicy", service);
        var ingressPorts = api.Arr("spec.ingress").SelectMany(r => r!.Arr("ports")).Select(p => p!.Str("port")).Distinct().Order().ToList();
        Assert.Equal(["8080", "8081"], ingressPorts);
        var managementSources = api.Arr("spec.ingress").Where(r => r!.Arr("ports").Any(p => p!.Str("port") == "8081")).SelectMany(r => r!.Arr("from")).ToList();
        Assert.All(managementSources, from => Assert.True(from!.Node("ipBlock") is not null || from!.Node("namespaceSelector") is not null,
            $"the management port is open to {from!.ToJsonString()}"));

        var egressPorts = api.Arr("spec.egress").SelectMany(r => r!.Arr("ports")).Select(p => p!.Str("port")).Distinct().Order().ToList();
        Assert.Equal(service == "assets" ? ["4317", "4318", "443", "53", "5432", "8080", "8200"] : ["4317", "4318", "443", "53", "5432", "8200"], egressPorts);

        var podPeers = api.Arr("spec.ingress").SelectMany(r => r!.Arr("from")).Select(f => f!.Node("podSelector.matchLabels")).OfType<JsonObject>().ToList();
        Assert.Equal(service == "catalog", podPeers.Any(p => p["app.kubernetes.io/name"]?.ToString() == "assets" && p["app.kubernetes.io/component"]?.ToString() == "api"));
        Assert.Contains(podPeers, p => p["app.kubernetes.io/name"]?.ToString() == service && p["app.kubernetes.io/component"]?.ToString() == "smoke");
    }

    [Theory]
    [InlineData("dev")]
    [InlineData("staging")]
    [InlineData("prod")]
    public async Task AssetsRoutesUnderProductsAreMatchedBeforeCatalogsProductsPrefix(string environment)
    {
        var catalog = (await ChartRendering.RenderAsync("catalog", environment)).Get("Ingress", "catalog");
        var assets = (await ChartRendering.RenderAsync("assets", environment)).Get("Ingress", "assets");

        static List<string> Paths(JsonObject ingress) =>
            ingress.Arr("spec.rules").SelectMany(r => r!.Arr("http.paths")).Select(p => p!.Str("path")!).ToList();
        static int Order(JsonObject ingress) => int.Parse(ingress.Annotations()["alb.ingress.kubernetes.io/group.order"]);
        Assert.Contains("/api/v1/products", Paths(catalog));
        Assert.Contains("/api/v1/products/*/assets", Paths(assets));
        Assert.True(Order(assets) < Order(catalog), "the ALB would send /api/v1/products/{id}/assets to Catalog");
    }

    [Fact]
    public async Task AConfigurationChangeRollsOutANewColour()
    {
        var values = ChartRendering.ValuesFiles("catalog", "dev");
        var before = await ChartRendering.RenderAsync("catalog", values);
        var after = await ChartRendering.RenderAsync("catalog", values, "logLevel=Debug");

        string Checksum(ChartManifests m) => m.Get("Rollout").Obj("spec.template").Annotations()["checksum/config"];
        Assert.NotEqual(Checksum(before), Checksum(after));
        Assert.Equal("Debug", after.ConfigMapData("catalog")["Logging__Level"]);
    }

    [Fact]
    public async Task TheChartRefusesDrainTimingsThatWouldCutRequests()
    {
        var values = ChartRendering.ValuesFiles("catalog", "prod");

        var (shortGrace, graceMessage) = await ChartRendering.TemplateAsync("catalog", values, "terminationGracePeriodSeconds=30");
        var (shortDelay, delayMessage) = await ChartRendering.TemplateAsync("catalog", values, "rollout.scaleDownDelaySeconds=20");
        var (shortAbortDelay, abortDelayMessage) = await ChartRendering.TemplateAsync("catalog", values, "rollout.abortScaleDownDelaySeconds=20");
        var (longDeregistration, deregistrationMessage) = await ChartRendering.TemplateAsync("catalog", values, "ingress.deregistrationDelaySeconds=300");

        Assert.NotEqual(0, shortGrace);
        Assert.Contains("terminationGracePeriodSeconds (30) must exceed", graceMessage, StringComparison.Ordinal);
        Assert.NotEqual(0, shortDelay);
        Assert.Contains("rollout.scaleDownDelaySeconds (20) must be at least", delayMessage, StringComparison.Ordinal);
        Assert.NotEqual(0, shortAbortDelay);
        Assert.Contains("rollout.abortScaleDownDelaySeconds (20) must be at least", abortDelayMessage, StringComparison.Ordinal);
        Assert.NotEqual(0, longDeregistration);
        Assert.Contains("ingress.deregistrationDelaySeconds (300) must be between", deregistrationMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheValuesSchemaRejectsUnknownAndMistypedValues()
    {
        var values = ChartRendering.ValuesFiles("catalog", "dev");

        var (unknown, unknownMessage) = await ChartRendering.TemplateAsync("catalog", values, "rollout.autoPromotion=true");
        var (mistyped, mistypedMessage) = await ChartRendering.TemplateAsync("catalog", values, "shutdown.drainDelaySeconds=five");

        Assert.NotEqual(0, unknown);
        Assert.Contains("autoPromotion", unknownMessage, StringComparison.Ordinal);
        Assert.NotEqual(0, mistyped);
        Assert.Contains("drainDelaySeconds", mistypedMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EachReleaseGetsItsOwnDashboardAndRuleGroups()
    {
        var catalog = await ChartRendering.RenderAsync("catalog", "prod");
        var assets = await ChartRendering.RenderAsync("assets", "prod");

        JsonObject Dashboard(ChartManifests m)
        {
            var map = m.Get("ConfigMap", m.Get("Rollout").Str("metadata.name") + "-dashboard");
            Assert.Equal("1", map.Labels()["grafana_dashboard"]);
            return JsonNode.Parse(map.Obj("data").Single().Value!.ToString())!.AsObject();
        }
        Assert.NotEqual(Dashboard(catalog).Str("uid"), Dashboard(assets).Str("uid"));
        Assert.NotEqual(Dashboard(catalog).Str("title"), Dashboard(assets).Str("title"));

        static IEnumerable<string> Groups(ChartManifests m) => m.Get("PrometheusRule").Arr("spec.groups").Select(g => g!.Str("name")!);
        Assert.Empty(Groups(catalog).Intersect(Groups(assets)));
        Assert.All(Groups(catalog), g => Assert.StartsWith("catalog-", g, StringComparison.Ordinal));
    }
}
