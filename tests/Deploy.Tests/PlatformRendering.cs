using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using TestKit;

namespace Deploy.Tests;

/// <summary>One object the cluster would hold, with the namespace Argo CD applies it in (its own, or its
/// Application's destination) and where it comes from.</summary>
public sealed record RenderedObject(JsonObject Json, string Namespace, string Source)
{
    public string Kind => Json.Str("kind") ?? "";

    public string Name => Json.Str("metadata.name") ?? "";

    public string ApiVersion => Json.Str("apiVersion") ?? "";

    public override string ToString() => $"{Kind} {Namespace}/{Name} ({Source})";
}

/// <summary>An upstream chart as one Application installs it.</summary>
public sealed record AddOnRender(string Application, string Chart, string Version, string ChartDirectory, string Release, string Namespace,
    IReadOnlyList<string> ValueFiles, JsonObject ValuesObject, JsonObject Values, string? Error, IReadOnlyList<RenderedObject> Objects);

/// <summary>Everything one environment's platform puts into the cluster, rendered as Argo CD renders it: the platform
/// app-of-apps, every upstream chart it names (at the pinned version, from UpstreamCharts) with the Application's
/// valueFiles then its valuesObject, the repository's own charts, and the services' chart.</summary>
public sealed record PlatformRender(string Environment, string KubeVersion, IReadOnlyList<JsonObject> Applications, IReadOnlyList<AddOnRender> AddOns,
    IReadOnlyList<RenderedObject> LocalObjects, IReadOnlyList<RenderedObject> ServiceObjects, IReadOnlyList<string> ApiVersions, TimeSpan Elapsed)
{
    public IEnumerable<RenderedObject> All => AddOns.SelectMany(a => a.Objects).Concat(LocalObjects).Concat(ServiceObjects);

    public IEnumerable<RenderedObject> OfKind(string kind) => All.Where(o => o.Kind == kind);

    public AddOnRender AddOn(string application) => AddOns.Single(a => a.Application == application);
}

public static partial class PlatformRendering
{
    private static readonly ConcurrentDictionary<string, Lazy<Task<PlatformRender>>> s_rendered = new();

    /// <summary>Each environment is rendered once per test run; every test reads the same result.</summary>
    public static Task<PlatformRender> RenderAsync(string environment) =>
        s_rendered.GetOrAdd(environment, _ => new Lazy<Task<PlatformRender>>(() => RenderOnceAsync(environment))).Value;

    /// <summary>The Kubernetes version of the environment's cluster (Terraform's kubernetes_version): helm's --kube-version,
    /// as Argo CD passes the cluster's.</summary>
    public static async Task<string> KubeVersionAsync(string environment) =>
        (await TerraformTree.LoadRepositoryAsync()).Tfvars[$"environment/envs/{environment}.tfvars"]["kubernetes_version"]!.ToString();

    private static async Task<PlatformRender> RenderOnceAsync(string environment)
    {
        var clock = Stopwatch.StartNew();
        var kubeVersion = await KubeVersionAsync(environment);
        var applications = await GitOpsRepository.PlatformApplicationsAsync(environment);

        var local = new List<RenderedObject>();
        foreach (var application in applications)
        {
            foreach (var source in GitOpsRepository.Sources(application).Where(s => s.Str("repoURL") == GitOpsRepository.RepoUrl && s.Str("path") is not null))
                local.AddRange(Place(await GitOpsRepository.RenderSourceAsync(application, source), application.Str("spec.destination.namespace")!, $"{application.Str("metadata.name")} ({source.Str("path")})"));
        }
        var services = new List<RenderedObject>();
        foreach (var service in ChartRendering.Services)
            services.AddRange(Place((await ChartRendering.RenderAsync(service, environment)).Documents, ChartRendering.Namespace, $"service chart ({service}, {environment})"));

        // Pass 1 without API versions finds the CRDs and APIServices the platform itself installs; they are the API
        // versions Argo CD would pass once those are in the cluster. Pass 2 re-renders the charts whose templates ask.
        var sources = applications.SelectMany(a => GitOpsRepository.Sources(a).Where(s => s.Str("chart") is not null).Select(s => (Application: a, Source: s))).ToList();
        var first = await Task.WhenAll(sources.Select(s => RenderAddOnAsync(s.Application, s.Source, kubeVersion, [])));
        var apiVersions = ApiVersionsServed(first.SelectMany(a => a.Objects).Concat(local));
        var addOns = new List<AddOnRender>();
        foreach (var (render, (application, source)) in first.Zip(sources))
        {
            addOns.Add(render.Error is null && await AsksForApiVersionsAsync(render.ChartDirectory)
                ? await RenderAddOnAsync(application, source, kubeVersion, apiVersions)
                : render);
        }
        return new PlatformRender(environment, kubeVersion, applications, addOns, local, services, apiVersions, clock.Elapsed);
    }

    /// <summary>helm template of one upstream chart source as Argo CD runs it: release name, destination namespace,
    /// the valueFiles in order and then valuesObject (Argo CD writes it to a file passed last, so it wins),
    /// --include-crds (Argo CD's default), the cluster's Kubernetes and API versions.</summary>
    public static async Task<AddOnRender> RenderAddOnAsync(JsonObject application, JsonObject source, string kubeVersion, IReadOnlyList<string> apiVersions,
        JsonObject? valuesOverride = null)
    {
        var name = application.Str("metadata.name")!;
        var chart = source.Str("chart")!;
        var version = source.Str("targetRevision")!;
        var release = source.Str("helm.releaseName") ?? name;
        var ns = application.Str("spec.destination.namespace")!;
        var directory = await UpstreamCharts.LocateAsync(source.Str("repoURL")!, chart, version);
        var valueFiles = (source.Node("helm.valueFiles") as JsonArray ?? []).Select(f => GitOpsRepository.WorkingTreePath(f!.ToString()["$values/".Length..])).ToList();
        var valuesObject = source.Node("helm.valuesObject")?.DeepClone().AsObject() ?? [];

        var layered = new JsonObject();
        foreach (var file in valueFiles)
        {
            if ((await ChartRendering.YamlToJsonAsync(await File.ReadAllTextAsync(file))).FirstOrDefault() is JsonObject values) Merge(layered, values);
        }
        Merge(layered, valuesObject);
        var effective = valuesOverride ?? layered;

        var valuesFile = Path.Combine(Path.GetTempPath(), $"values-{Guid.NewGuid():N}.json");
        try
        {
            var args = new List<string> { "template", release, directory, "--namespace", ns, "--include-crds", "--kube-version", kubeVersion };
            if (valuesOverride is null)
            {
                foreach (var file in valueFiles) args.AddRange(["--values", file]);
                await File.WriteAllTextAsync(valuesFile, valuesObject.ToJsonString());
            }
            else
            {
                await File.WriteAllTextAsync(valuesFile, valuesOverride.ToJsonString());
            }
            args.AddRange(["--values", valuesFile]);
            foreach (var apiVersion in apiVersions) args.AddRange(["--api-versions", apiVersion]);
            var (exitCode, output) = await Tool.RunRawAsync(DeployTools.Helm, args);
            if (exitCode != 0)
                return new AddOnRender(name, chart, version, directory, release, ns, valueFiles, valuesObject, effective, output.Trim(), []);
            var objects = await ParseAsync(output);
            return new AddOnRender(name, chart, version, directory, release, ns, valueFiles, valuesObject, effective, null, Place(objects, ns, $"{name} ({chart} {version})"));
        }
        finally
        {
            File.Delete(valuesFile);
        }
    }

    /// <summary>group/version and group/version/Kind of every CRD version served, and group/version of every APIService.</summary>
    public static List<string> ApiVersionsServed(IEnumerable<RenderedObject> objects)
    {
        var versions = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var crd in objects.Where(o => o.Kind == "CustomResourceDefinition"))
        {
            foreach (var version in crd.Json.Arr("spec.versions").Where(v => v!["served"]?.GetValue<bool>() != false))
            {
                versions.Add($"{crd.Json.Str("spec.group")}/{version!["name"]}");
                versions.Add($"{crd.Json.Str("spec.group")}/{version["name"]}/{crd.Json.Str("spec.names.kind")}");
            }
        }
        foreach (var service in objects.Where(o => o.Kind == "APIService"))
            versions.Add($"{service.Json.Str("spec.group")}/{service.Json.Str("spec.version")}");
        return [.. versions];
    }

    private static readonly ConcurrentDictionary<string, bool> s_asks = new();

    /// <summary>Whether any template of the chart (or of its subcharts) looks at .Capabilities.APIVersions.</summary>
    private static async Task<bool> AsksForApiVersionsAsync(string chartDirectory)
    {
        if (s_asks.TryGetValue(chartDirectory, out var asks)) return asks;
        foreach (var file in Directory.GetFiles(chartDirectory, "*", SearchOption.AllDirectories).Where(f => f.Contains($"{Path.DirectorySeparatorChar}templates{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
        {
            if ((await File.ReadAllTextAsync(file)).Contains("Capabilities.APIVersions", StringComparison.Ordinal)) return s_asks[chartDirectory] = true;
        }
        return s_asks[chartDirectory] = false;
    }

    /// <summary>Objects with the namespace they land in; List objects (kubectl's wrapper) are unwrapped as the API does.</summary>
    private static List<RenderedObject> Place(IEnumerable<JsonObject> objects, string ns, string source) =>
        [.. objects.SelectMany(o => o.Str("kind") == "List" ? o.Arr("items").Select(i => i!.AsObject()) : [o])
            .Select(o => new RenderedObject(o, o.Str("metadata.namespace") ?? ns, source))];

    private static readonly ConcurrentDictionary<string, Lazy<Task<JsonObject?>>> s_documents = new();

    /// <summary>The documents of a helm template output as JSON. Each document is parsed once per test run, whatever
    /// render it appears in: the CRDs, most of the bytes, come out the same for every environment and both passes.</summary>
    private static async Task<List<JsonObject>> ParseAsync(string output)
    {
        var documents = DocumentSeparator().Split(output).Where(d => d.Trim().Length > 0).ToList();
        var fresh = new Dictionary<string, TaskCompletionSource<JsonObject?>>();
        var tasks = new List<Task<JsonObject?>>();
        foreach (var document in documents)
        {
            var key = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(document)));
            var source = new TaskCompletionSource<JsonObject?>(TaskCreationOptions.RunContinuationsAsynchronously);
            var entry = s_documents.GetOrAdd(key, _ => new Lazy<Task<JsonObject?>>(() =>
            {
                fresh[document] = source;
                return source.Task;
            }));
            tasks.Add(entry.Value);
        }
        if (fresh.Count > 0)
        {
            try
            {
                var json = await Tool.RunAsync(DeployTools.Node, [ChartRendering.SchemaScript("yaml-to-json.mjs"), "--modules", DeployTools.NodeModules, "--keep-empty"],
                    stdin: string.Join("\n---\n", fresh.Keys));
                var parsed = JsonNode.Parse(json)!.AsArray();
                if (parsed.Count != fresh.Count) throw new InvalidOperationException($"yaml-to-json returned {parsed.Count} documents for {fresh.Count}");
                foreach (var (source, value) in fresh.Values.Zip(parsed)) source.SetResult(value as JsonObject);
            }
            catch (Exception e)
            {
                foreach (var source in fresh.Values) source.TrySetException(e);
                throw;
            }
        }
        return [.. (await Task.WhenAll(tasks)).OfType<JsonObject>().Select(o => o.DeepClone().AsObject())];
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"(?m)^---[ \t]*$\n?")]
    private static partial System.Text.RegularExpressions.Regex DocumentSeparator();

    /// <summary>Helm's merge of values files: maps merge key by key, anything else is replaced.</summary>
    public static void Merge(JsonObject into, JsonObject from)
    {
        foreach (var (key, value) in from)
        {
            if (value is JsonObject map && into[key] is JsonObject existing) Merge(existing, map);
            else into[key] = value?.DeepClone();
        }
    }
}
