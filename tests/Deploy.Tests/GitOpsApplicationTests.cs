using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Deploy.Tests;

/// <summary>What Argo CD's Applications point at exists, is pinned and is allowed; the services' ApplicationSet
/// generates the Applications the chart tests render; sync waves put every operator before what needs it.</summary>
public sealed partial class GitOpsApplicationTests
{
    [Theory]
    [MemberData(nameof(GitOpsRepository.EnvironmentData), MemberType = typeof(GitOpsRepository))]
    public async Task EveryPlatformSourceExistsHereOrIsAPinnedChartOfAnAllowedRepository(string environment)
    {
        var platform = (await GitOpsRepository.ArgoCdObjectsAsync()).Single(o => o.Str("kind") == "AppProject" && o.Str("metadata.name") == "platform");
        var allowed = platform.Arr("spec.sourceRepos").Select(r => r!.ToString()).ToHashSet();

        foreach (var application in await GitOpsRepository.PlatformApplicationsAsync(environment))
        {
            var name = application.Str("metadata.name");
            Assert.Equal("platform", application.Str("spec.project"));
            Assert.Equal("https://kubernetes.default.svc", application.Str("spec.destination.server"));
            foreach (var source in GitOpsRepository.Sources(application))
            {
                var repoUrl = source.Str("repoURL")!;
                Assert.True(allowed.Contains(repoUrl), $"{name}: {repoUrl} is not among the platform project's sourceRepos");
                if (repoUrl == GitOpsRepository.RepoUrl)
                {
                    Assert.Equal("main", source.Str("targetRevision"));
                    if (source.Str("path") is { } path)
                        Assert.True(Directory.Exists(GitOpsRepository.WorkingTreePath(path)), $"{name}: path {path} does not exist");
                    else
                        Assert.Equal("values", source.Str("ref"));
                }
                else
                {
                    Assert.False(string.IsNullOrEmpty(source.Str("chart")), $"{name}: {repoUrl} is used without a chart");
                    Assert.Matches(PinnedVersion(), source.Str("targetRevision"));
                }
                foreach (var file in (source.Node("helm.valueFiles") as JsonArray ?? []).Select(f => f!.ToString()))
                {
                    Assert.StartsWith("$values/", file, StringComparison.Ordinal);
                    Assert.True(File.Exists(GitOpsRepository.WorkingTreePath(file["$values/".Length..])), $"{name}: values file {file} does not exist");
                    Assert.Contains(GitOpsRepository.Sources(application), s => s.Str("ref") == "values" && s.Str("repoURL") == GitOpsRepository.RepoUrl);
                }
            }
        }
    }

    [Fact]
    public async Task EveryValuesFileOfThePlatformIsUsedByAnApplication()
    {
        var used = new HashSet<string>();
        foreach (var environment in GitOpsRepository.Environments)
        {
            var sources = (await GitOpsRepository.PlatformApplicationsAsync(environment)).SelectMany(GitOpsRepository.Sources);
            used.UnionWith(sources.SelectMany(s => s.Node("helm.valueFiles") as JsonArray ?? [])
                .Select(f => Path.GetFullPath(GitOpsRepository.WorkingTreePath(f!.ToString()["$values/".Length..]))));
        }

        var files = Directory.GetFiles(Path.Combine(GitOpsRepository.Root, "platform", "values"), "*.yaml").Select(Path.GetFullPath);

        Assert.All(files, file => Assert.Contains(file, used));
    }

    /// <summary>The Applications as the ApplicationSet controller generates them (<see cref="ApplicationSetRendering"/>:
    /// the generators' parameters, Go's text/template), validated against the Application schema.</summary>
    [Fact]
    public async Task TheServicesApplicationSetGeneratesOneApplicationPerServiceAndEnvironmentFromFilesThatExist()
    {
        var chartVersion = ChartVersion();
        var generated = new List<JsonObject>();

        foreach (var environment in GitOpsRepository.Environments)
        {
            var branch = BranchOf(environment);
            foreach (var service in ChartRendering.Services)
            {
                var application = await ApplicationSetRendering.GenerateAsync(environment, service);
                Assert.True(application is not null, $"no Application for {service} in {environment}");
                generated.Add(application);

                Assert.Equal($"{service}-{environment}", application.Str("metadata.name"));
                Assert.Equal("studio", application.Str("spec.project"));
                Assert.Equal(ChartRendering.Namespace, application.Str("spec.destination.namespace"));
                var sources = application.Arr("spec.sources").Select(s => s!.AsObject()).ToList();
                var chart = sources.Single(s => s.Str("chart") is not null);
                Assert.Matches($@"^{Regex.Escape(chartVersion)}-{branch}-[0-9a-f]{{7}}$", chart.Str("targetRevision"));
                Assert.Equal($"{GitOpsRepository.Registry}/charts", chart.Str("repoURL"));
                Assert.Equal("service", chart.Str("chart"));
                Assert.Equal(service, chart.Str("helm.releaseName"));
                Assert.Equal(GitOpsRepository.RepoUrl, sources.Single(s => s.Str("ref") == "values").Str("repoURL"));

                // Argo CD passes exactly the files and the parameter the chart tests render every deployment with.
                var valueFiles = chart.Arr("helm.valueFiles").Select(f => Path.GetFullPath(GitOpsRepository.ValueFilePath(f!.ToString()))).ToList();
                Assert.Equal(ChartRendering.ArgoValueFiles(service, environment).Select(Path.GetFullPath), valueFiles);
                Assert.All(valueFiles, f => Assert.True(File.Exists(f), $"{f} does not exist"));
                var parameter = Assert.Single(chart.Arr("helm.parameters"))!;
                Assert.Equal(("image.tag", ChartRendering.PinnedTag(service, environment)), (parameter.Str("name"), parameter.Str("value")));
            }
        }

        Assert.Equal(6, generated.Select(a => a.Str("metadata.name")).Distinct().Count());
        var applications = generated.Select(a => new JsonObject { ["apiVersion"] = "argoproj.io/v1alpha1", ["kind"] = "Application", ["metadata"] = a["metadata"]!.DeepClone(), ["spec"] = a["spec"]!.DeepClone() });
        Assert.Empty(await GitOpsRepository.SchemaErrorsAsync(applications));
    }

    [Fact]
    public async Task ProdWaitsForAPersonToSyncWhileDevAndStagingFollowGit()
    {
        var set = await GitOpsRepository.ApplicationSetAsync("services");
        var patch = set.Str("spec.templatePatch")!;

        Assert.Null(set.Node("spec.template.spec.syncPolicy.automated"));
        Assert.Contains("""{{- if ne (index .metadata.labels "environment") "prod" }}""", patch, StringComparison.Ordinal);
        var automated = (await ChartRendering.YamlToJsonAsync(IfBlock().Match(patch).Groups[1].Value))[0]!.Obj("spec.syncPolicy.automated");
        Assert.Equal("true", automated.Str("prune"));
        Assert.Equal("true", automated.Str("selfHeal"));
    }

    [Fact]
    public async Task TheServicesProjectOnlyDeploysTheChartAndValuesIntoStudioWithNothingClusterWide()
    {
        var studio = (await GitOpsRepository.ArgoCdObjectsAsync()).Single(o => o.Str("kind") == "AppProject" && o.Str("metadata.name") == "studio");

        Assert.Equal([GitOpsRepository.RepoUrl, $"{GitOpsRepository.Registry}/charts"], studio.Arr("spec.sourceRepos").Select(r => r!.ToString()));
        var destination = Assert.Single(studio.Arr("spec.destinations"))!;
        Assert.Equal(ChartRendering.Namespace, destination.Str("namespace"));
        Assert.Equal("https://kubernetes.default.svc", destination.Str("server"));
        Assert.Empty(studio.Arr("spec.clusterResourceWhitelist"));
        var set = await GitOpsRepository.ApplicationSetAsync("services");
        Assert.Contains("CreateNamespace=false", set.Arr("spec.template.spec.syncPolicy.syncOptions").Select(o => o!.ToString()));
    }

    [Fact]
    public async Task EveryEnvironmentsClusterIsRegisteredWithTheLabelTheGeneratorsSelect()
    {
        foreach (var set in (await GitOpsRepository.ArgoCdObjectsAsync()).Where(o => o.Str("kind") == "ApplicationSet"))
        {
            var generator = set.Arr("spec.generators")[0]!;
            // The clusters generator, first at any depth of matrix nesting (services: matrix(matrix(clusters, releases), pins)).
            var clusters = generator;
            while (clusters.Node("clusters") is null) clusters = clusters.Arr("matrix.generators")[0]!;
            clusters = clusters.Node("clusters")!;
            var expression = Assert.Single(clusters.Arr("selector.matchExpressions"))!;
            Assert.Equal("environment", expression.Str("key"));
            Assert.Equal(GitOpsRepository.Environments, expression.Arr("values").Select(v => v!.ToString()));
        }

        foreach (var environment in GitOpsRepository.Environments)
        {
            var secret = (await GitOpsRepository.ParseAsync(await File.ReadAllTextAsync(Path.Combine(GitOpsRepository.Root, "argocd", "bootstrap", $"in-cluster-{environment}.yaml"))))[0];
            Assert.Equal(environment, secret.Labels()["environment"]);
            Assert.Equal("cluster", secret.Labels()["argocd.argoproj.io/secret-type"]);
            Assert.Equal("https://kubernetes.default.svc", secret.Str("stringData.server"));
        }
    }

    [Theory]
    [MemberData(nameof(GitOpsRepository.EnvironmentData), MemberType = typeof(GitOpsRepository))]
    public async Task EveryCustomResourceComesInALaterWaveThanTheApplicationInstallingItsDefinition(string environment)
    {
        var applications = await GitOpsRepository.PlatformApplicationsAsync(environment);
        var wave = applications.ToDictionary(a => a.Str("metadata.name")!, GitOpsRepository.Wave);
        // API group => the Application whose chart installs its CRDs (argoproj.io's Application kinds come with
        // Argo CD itself, installed at bootstrap before any wave).
        var definedBy = new Dictionary<string, string>
        {
            ["cert-manager.io"] = "cert-manager",
            ["trust.cert-manager.io"] = "trust-manager",
            ["external-secrets.io"] = "external-secrets",
            ["generators.external-secrets.io"] = "external-secrets",
            ["elasticsearch.k8s.elastic.co"] = "eck-operator",
            ["kibana.k8s.elastic.co"] = "eck-operator",
            ["monitoring.coreos.com"] = "prometheus-operator-crds",
            ["argocd-image-updater.argoproj.io"] = "argocd-image-updater",
        };
        var checkedResources = 0;

        foreach (var application in applications)
        {
            foreach (var source in GitOpsRepository.Sources(application).Where(s => s.Str("repoURL") == GitOpsRepository.RepoUrl && s.Str("path") is not null))
            {
                foreach (var resource in await GitOpsRepository.RenderSourceAsync(application, source))
                {
                    var group = resource.Str("apiVersion")!.Split('/') is [var g, _] ? g : "";
                    if (!group.Contains('.', StringComparison.Ordinal) || group.EndsWith(".k8s.io", StringComparison.Ordinal) || group == "argoproj.io") continue;
                    Assert.True(definedBy.TryGetValue(group, out var provider), $"{application.Str("metadata.name")}: no Application is known to install {group}");
                    Assert.True(wave[provider] < GitOpsRepository.Wave(application),
                        $"{application.Str("metadata.name")} (wave {GitOpsRepository.Wave(application)}) creates {resource.Str("kind")} before {provider} (wave {wave[provider]}) installs {group}");
                    checkedResources++;
                }
            }

            // An upstream chart asked for a ServiceMonitor/PodMonitor needs the Prometheus Operator's CRDs first.
            foreach (var file in GitOpsRepository.Sources(application).SelectMany(s => s.Node("helm.valueFiles") as JsonArray ?? []).Select(f => f!.ToString()))
            {
                var values = await File.ReadAllTextAsync(GitOpsRepository.WorkingTreePath(file["$values/".Length..]));
                if (MonitorEnabled().IsMatch(values))
                    Assert.True(wave["prometheus-operator-crds"] < GitOpsRepository.Wave(application), $"{application.Str("metadata.name")} enables a monitor before the CRDs exist");
            }
        }

        Assert.True(checkedResources >= 15, $"only {checkedResources} custom resources checked");
    }

    [Theory]
    [MemberData(nameof(GitOpsRepository.EnvironmentData), MemberType = typeof(GitOpsRepository))]
    public async Task SecretsCertificatesAndTheRdsBundleExistBeforeTheAddOnsThatMountThem(string environment)
    {
        var wave = (await GitOpsRepository.PlatformApplicationsAsync(environment)).ToDictionary(a => a.Str("metadata.name")!, GitOpsRepository.Wave);
        (string Before, string After)[] order =
        [
            ("namespaces", "platform-secrets"),
            ("namespaces", "pki"),
            ("namespaces", "rds-ca-bundle"),
            ("pki", "vault"),
            ("trust-manager", "pki"),
            ("vault", "vault-backup"),
            ("rds-ca-bundle", "vault"),
            ("vault", "platform-secrets"),
            ("platform-secrets", "argocd"),
            ("platform-secrets", "argocd-image-updater"),
            ("platform-secrets", "kube-prometheus-stack"),
            ("observability", "fluent-bit"),
            ("observability", "jaeger"),
            ("storage", "vault"),
            ("argocd-image-updater", "argocd-config"),
            ("argo-rollouts", "argocd-config"),
            ("aws-load-balancer-controller", "argocd-config"),
        ];

        Assert.All(order, pair => Assert.True(wave[pair.Before] < wave[pair.After], $"{pair.Before} (wave {wave[pair.Before]}) must come before {pair.After} (wave {wave[pair.After]})"));
    }

    private static string ChartVersion() =>
        ChartVersionLine().Match(File.ReadAllText(Path.Combine(ChartRendering.ChartDirectory, "Chart.yaml"))).Groups[1].Value;

    private static string BranchOf(string environment) => environment == "dev" ? "develop" : environment;

    /// <summary>The Go-template expressions the ApplicationSet uses, replaced in every string as the generators
    /// would; an expression the test does not know stays in place and fails it.</summary>
    internal static JsonNode Substitute(JsonNode template, string environment, Dictionary<string, string> parameters)
    {
        if (template is JsonObject obj)
        {
            foreach (var key in obj.Select(p => p.Key).ToList())
            {
                if (obj[key] is JsonValue value) obj[key] = Substitute(value, environment, parameters);
                else if (obj[key] is { } child) Substitute(child, environment, parameters);
            }
            return obj;
        }
        if (template is JsonArray array)
        {
            for (var i = 0; i < array.Count; i++)
            {
                if (array[i] is JsonValue value) array[i] = Substitute(value, environment, parameters);
                else if (array[i] is { } child) Substitute(child, environment, parameters);
            }
            return array;
        }
        if (template.GetValueKind() != System.Text.Json.JsonValueKind.String) return template.DeepClone();
        var text = template.ToString()
            .Replace("""{{ index .metadata.labels "environment" }}""", environment, StringComparison.Ordinal)
            .Replace("{{ .server }}", "https://kubernetes.default.svc", StringComparison.Ordinal);
        foreach (var (key, value) in parameters) text = text.Replace($"{{{{ .{key} }}}}", value, StringComparison.Ordinal);
        Assert.DoesNotContain("{{", text, StringComparison.Ordinal);
        return JsonValue.Create(text);
    }

    [GeneratedRegex(@"^v?\d+\.\d+\.\d+$")]
    private static partial Regex PinnedVersion();

    [GeneratedRegex(@"(?m)^version:\s*""?([^""\s]+)")]
    private static partial Regex ChartVersionLine();

    [GeneratedRegex(@"(?s)\{\{- if [^}]*\}\}\n(.*?)\{\{- end \}\}")]
    private static partial Regex IfBlock();

    [GeneratedRegex(@"(?m)^\s*(serviceMonitor|servicemonitor|podMonitor):\s*\n\s+enabled: true")]
    private static partial Regex MonitorEnabled();
}
