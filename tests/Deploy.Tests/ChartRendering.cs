using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using TestKit;

namespace Deploy.Tests;

/// <summary>The service chart as Helm renders it, every object parsed and validated strictly against its Kubernetes
/// or CRD schema (tests/Deploy.Tests/schema/validate.mjs).</summary>
public static class ChartRendering
{
    public const string Namespace = "studio";

    public static readonly string[] Services = ["catalog", "assets"];

    public static readonly string[] Environments = ["dev", "staging", "prod"];

    private static readonly ConcurrentDictionary<string, Lazy<Task<ChartManifests>>> s_rendered = new();

    public static string ChartDirectory => Repo.PathOf("deploy", "helm", "service");

    public static string SchemaScript(string name) => Repo.PathOf("tests", "Deploy.Tests", "schema", name);

    /// <summary>Every service × environment, as the GitOps content deploys them.</summary>
    public static TheoryData<string, string> Deployments()
    {
        var data = new TheoryData<string, string>();
        foreach (var service in Services)
            foreach (var environment in Environments) data.Add(service, environment);
        return data;
    }

    /// <summary>The chart's ci/*-values.yaml files (rendering cases beyond the real environments).</summary>
    public static TheoryData<string> CiValuesFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(ChartDirectory, "ci"), "*-values.yaml").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(file));
        return data;
    }

    /// <summary>A deployment's values as Argo CD passes them to Helm: its values files (<see cref="ArgoValueFiles"/>), then
    /// the Helm parameter image.tag (the image pin's tag, argocd/services.yaml), which Argo CD passes with --set after
    /// every values file; here a values file of that one key, last.</summary>
    public static string[] ValuesFiles(string service, string environment) =>
        [.. ArgoValueFiles(service, environment), s_tagFiles.GetOrAdd($"{environment}/{service}", _ => TagFile(PinnedTag(service, environment)))];

    /// <summary>The Application's valueFiles, in order: the service defaults, then the environment.</summary>
    public static string[] ArgoValueFiles(string service, string environment) =>
    [
        Repo.PathOf("deploy", "helm", "values", service + ".yaml"),
        Repo.PathOf("deploy", "gitops", "envs", environment, service + ".yaml"),
    ];

    /// <summary>The image tag of the pin Image Updater writes (deploy/image-pins/&lt;env&gt;/&lt;service&gt;.yaml, key image.tag).</summary>
    public static string PinnedTag(string service, string environment)
    {
        var pin = Repo.PathOf("deploy", "image-pins", environment, service + ".yaml");
        var match = System.Text.RegularExpressions.Regex.Match(File.ReadAllText(pin), @"(?m)^image:\s*\n(?:\s+.*\n)*?\s+tag:\s*""?([^""\s]+)");
        return match.Success ? match.Groups[1].Value : throw new InvalidOperationException($"{pin} has no image.tag");
    }

    private static readonly ConcurrentDictionary<string, string> s_tagFiles = new();

    private static string TagFile(string tag)
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("image-tag-").FullName, "image-tag.json");
        File.WriteAllText(file, new JsonObject { ["image"] = new JsonObject { ["tag"] = tag } }.ToJsonString());
        return file;
    }

    public static Task<ChartManifests> RenderAsync(string service, string environment) =>
        s_rendered.GetOrAdd($"{service}/{environment}", _ => new Lazy<Task<ChartManifests>>(() =>
            RenderAsync(service, ValuesFiles(service, environment)))).Value;

    public static Task<ChartManifests> RenderCiAsync(string ciValuesFile) =>
        s_rendered.GetOrAdd("ci/" + ciValuesFile, _ => new Lazy<Task<ChartManifests>>(() =>
            RenderAsync("catalog", [Path.Combine(ChartDirectory, "ci", ciValuesFile)]))).Value;

    /// <summary>Renders and validates; throws with Helm's message when the chart refuses the values.</summary>
    public static async Task<ChartManifests> RenderAsync(string release, IEnumerable<string> valuesFiles, params string[] set)
    {
        var (exitCode, yaml) = await TemplateAsync(release, valuesFiles, set);
        if (exitCode != 0) throw new InvalidOperationException($"helm template {release} failed:\n{yaml}");
        return await ValidateAsync(yaml);
    }

    /// <summary>Runs <c>helm template</c>: its exit code and its output (the manifests, or the error).</summary>
    public static Task<(int ExitCode, string Output)> TemplateAsync(string release, IEnumerable<string> valuesFiles, params string[] set) =>
        TemplateChartAsync(ChartDirectory, release, valuesFiles, set);

    /// <summary>Renders and validates a packaged chart (<see cref="PackageAsync"/>).</summary>
    public static async Task<ChartManifests> RenderChartAsync(string chart, string release, IEnumerable<string> valuesFiles, params string[] set)
    {
        var (exitCode, yaml) = await TemplateChartAsync(chart, release, valuesFiles, set);
        if (exitCode != 0) throw new InvalidOperationException($"helm template {release} {chart} failed:\n{yaml}");
        return await ValidateAsync(yaml);
    }

    /// <summary>The chart packaged as CodeBuild packages a build (buildspec.yml: helm package --version
    /// &lt;Chart.yaml version&gt;-&lt;tag&gt; --app-version &lt;tag&gt;), into a directory the caller deletes.</summary>
    public static async Task<string> PackageAsync(string version, string appVersion, string destination)
    {
        await Tool.RunAsync(DeployTools.Helm, ["package", ChartDirectory, "--version", version, "--app-version", appVersion, "--destination", destination]);
        var package = Path.Combine(destination, $"service-{version}.tgz");
        return File.Exists(package) ? package : throw new InvalidOperationException($"helm package wrote no {package}");
    }

    private static async Task<(int ExitCode, string Output)> TemplateChartAsync(string chart, string release, IEnumerable<string> valuesFiles, string[] set)
    {
        var args = new List<string> { "template", release, chart, "--namespace", Namespace };
        foreach (var file in valuesFiles) args.AddRange(["--values", file]);
        foreach (var value in set) args.AddRange(["--set", value]);
        return await Tool.RunRawAsync(DeployTools.Helm, args);
    }

    /// <summary>Parses a YAML stream of manifests and validates every object strictly (unknown fields rejected).</summary>
    public static async Task<ChartManifests> ValidateAsync(string yaml)
    {
        var (exitCode, output) = await Tool.RunRawAsync(DeployTools.Node,
            [SchemaScript("validate.mjs"), "--modules", DeployTools.NodeModules], stdin: yaml);
        JsonObject result;
        try
        {
            result = JsonNode.Parse(output)!.AsObject();
        }
        catch (JsonException)
        {
            throw new InvalidOperationException($"validate.mjs exited {exitCode} without a result:\n{output}");
        }
        var documents = result["documents"]!.AsArray().Select(d => d!.AsObject()).ToList();
        var errors = result["errors"]!.AsArray().Select(e => e!.GetValue<string>()).ToList();
        return new ChartManifests(documents, errors);
    }

    /// <summary>YAML (one or more documents) as JSON, parsed by the same YAML library as the manifests.</summary>
    public static async Task<JsonArray> YamlToJsonAsync(string yaml)
    {
        var json = await Tool.RunAsync(DeployTools.Node, [SchemaScript("yaml-to-json.mjs"), "--modules", DeployTools.NodeModules], stdin: yaml);
        return JsonNode.Parse(json)!.AsArray();
    }
}

/// <summary>Rendered objects and the schema violations found in them.</summary>
public sealed record ChartManifests(IReadOnlyList<JsonObject> Documents, IReadOnlyList<string> SchemaErrors)
{
    public IEnumerable<JsonObject> OfKind(string kind) => Documents.Where(d => d.Str("kind") == kind);

    public JsonObject Get(string kind, string? name = null)
    {
        var matches = OfKind(kind).Where(d => name is null || d.Str("metadata.name") == name).ToList();
        return matches.Count == 1
            ? matches[0]
            : throw new InvalidOperationException($"expected one {kind}{(name is null ? "" : " " + name)}, found {matches.Count}");
    }

    /// <summary>Every pod template: the Rollout's, the hook Jobs', and the analysis Job's.</summary>
    public IEnumerable<(string Owner, JsonObject Template)> PodTemplates()
    {
        foreach (var rollout in OfKind("Rollout")) yield return ($"Rollout/{rollout.Str("metadata.name")}", rollout.Obj("spec.template"));
        foreach (var job in OfKind("Job")) yield return ($"Job/{job.Str("metadata.name")}", job.Obj("spec.template"));
        foreach (var template in OfKind("AnalysisTemplate"))
        {
            foreach (var metric in template.Arr("spec.metrics").Select(m => m!.AsObject()).Where(m => m.Node("provider.job") is not null))
                yield return ($"AnalysisTemplate/{template.Str("metadata.name")}/{metric.Str("name")}", metric.Obj("provider.job.spec.template"));
        }
    }

    /// <summary>The ConfigMap's data as environment variables.</summary>
    public Dictionary<string, string> ConfigMapData(string name) =>
        Get("ConfigMap", name).Obj("data").ToDictionary(p => p.Key, p => p.Value!.GetValue<string>());
}

/// <summary>Dotted-path access into JSON documents (a.b.c; no array indexes).</summary>
public static class ChartJson
{
    public static JsonNode? Node(this JsonNode node, string path)
    {
        JsonNode? current = node;
        foreach (var part in path.Split('.'))
            current = current is JsonObject o && o.TryGetPropertyValue(part, out var next) ? next : null;
        return current;
    }

    public static string? Str(this JsonNode node, string path) => node.Node(path) is JsonValue v ? v.ToString() : null;

    public static JsonObject Obj(this JsonNode node, string path) =>
        node.Node(path) as JsonObject ?? throw new InvalidOperationException($"{path} is not an object in {Describe(node)}");

    public static JsonArray Arr(this JsonNode node, string path) =>
        node.Node(path) as JsonArray ?? throw new InvalidOperationException($"{path} is not a list in {Describe(node)}");

    public static Dictionary<string, string> Annotations(this JsonNode node) =>
        (node.Node("metadata.annotations") as JsonObject)?.ToDictionary(p => p.Key, p => p.Value!.ToString()) ?? [];

    public static Dictionary<string, string> Labels(this JsonNode node) =>
        (node.Node("metadata.labels") as JsonObject)?.ToDictionary(p => p.Key, p => p.Value!.ToString()) ?? [];

    private static string Describe(JsonNode node) => $"{node.Str("kind") ?? "object"}/{node.Str("metadata.name") ?? "?"}";
}
