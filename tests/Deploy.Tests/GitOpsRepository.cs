using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TestKit;

namespace Deploy.Tests;

/// <summary>The GitOps repository (deploy/gitops, plus the services' defaults deploy/helm/values as services/) the
/// way Argo CD reads it: the platform app-of-apps rendered per environment, the sources of each Application rendered
/// with the values the Application passes, and every object validated strictly against its schema.</summary>
public static partial class GitOpsRepository
{
    public static readonly string[] Environments = ["dev", "staging", "prod"];

    /// <summary>The GitOps repository as Argo CD's Applications name it (projects.yaml allows exactly it).</summary>
    public const string RepoUrl = "ssh://APKAREADERKEYEXAMPLE@git-codecommit.eu-west-1.amazonaws.com/v1/repos/studio-gitops";

    public const string Registry = "111122223333.dkr.ecr.eu-west-1.amazonaws.com";

    /// <summary>The image pins repository (deploy/image-pins), as Argo CD reads it and Image Updater writes it.</summary>
    public const string PinsRepoUrl = "ssh://APKAREADERKEYEXAMPLE@git-codecommit.eu-west-1.amazonaws.com/v1/repos/studio-image-pins";

    public static string PinsRoot => Repo.PathOf("deploy", "image-pins");

    /// <summary>Working-tree path of an Application's values file: "$values/..." in this repository, "$pins/..." in the
    /// image pins repository.</summary>
    public static string ValueFilePath(string valueFile) =>
        valueFile.StartsWith("$pins/", StringComparison.Ordinal) ? Path.Combine(PinsRoot, valueFile["$pins/".Length..])
        : valueFile.StartsWith("$values/", StringComparison.Ordinal) ? WorkingTreePath(valueFile["$values/".Length..])
        : throw new InvalidOperationException($"{valueFile} is neither $values/ nor $pins/");

    private static readonly ConcurrentDictionary<string, Lazy<Task<IReadOnlyList<JsonObject>>>> s_cache = new();

    public static string Root => Repo.PathOf("deploy", "gitops");

    public static TheoryData<string> EnvironmentData() => [.. Environments];

    /// <summary>Working-tree path of a path in the GitOps repository ("/envs/dev/catalog.yaml", "platform/values/x.yaml").
    /// services/ holds the app repository's deploy/helm/values, pushed with deploy/gitops (README "GitOps").</summary>
    public static string WorkingTreePath(string gitOpsPath)
    {
        var path = gitOpsPath.TrimStart('/');
        return path.StartsWith("services/", StringComparison.Ordinal)
            ? Repo.PathOf("deploy", "helm", "values", path["services/".Length..])
            : Path.Combine(Root, path);
    }

    /// <summary>The platform chart (app-of-apps) rendered with an environment's values: its Applications.</summary>
    public static Task<IReadOnlyList<JsonObject>> PlatformApplicationsAsync(string environment) => Cached("platform/" + environment, async () =>
    {
        var chart = Path.Combine(Root, "platform");
        var yaml = await Tool.RunAsync(DeployTools.Helm, ["template", "platform", chart, "--namespace", "argocd", "--values", Path.Combine(chart, "envs", environment + ".yaml")]);
        return await ParseAsync(yaml);
    });

    /// <summary>argocd/*.yaml: what the Application argocd-config syncs (directory, not recursive).</summary>
    public static Task<IReadOnlyList<JsonObject>> ArgoCdObjectsAsync() => Cached("argocd", async () =>
    {
        var files = Directory.GetFiles(Path.Combine(Root, "argocd"), "*.yaml").Order(StringComparer.Ordinal);
        return await ParseAsync(string.Join("\n---\n", files.Select(File.ReadAllText)));
    });

    public static async Task<JsonObject> ApplicationSetAsync(string name) =>
        (await ArgoCdObjectsAsync()).Single(o => o.Str("kind") == "ApplicationSet" && o.Str("metadata.name") == name);

    public static async Task<JsonObject> ApplicationAsync(string environment, string name) =>
        (await PlatformApplicationsAsync(environment)).Single(a => a.Str("metadata.name") == name);

    public static IEnumerable<JsonObject> Sources(JsonObject application) =>
        application.Node("spec.sources") is JsonArray sources ? sources.Select(s => s!.AsObject()) : [application.Obj("spec.source")];

    public static int Wave(JsonObject application) =>
        int.Parse(application.Annotations().GetValueOrDefault("argocd.argoproj.io/sync-wave", "0"), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Every object an environment's platform creates from this repository: the sources of its Applications
    /// that point here (local charts and the argocd/ directory), rendered as Argo CD renders them.</summary>
    public static Task<IReadOnlyList<JsonObject>> LocalObjectsAsync(string environment) => Cached("local/" + environment, async () =>
    {
        var objects = new List<JsonObject>();
        foreach (var application in await PlatformApplicationsAsync(environment))
        {
            foreach (var source in Sources(application).Where(s => s.Str("repoURL") == RepoUrl && s.Str("path") is not null))
                objects.AddRange(await RenderSourceAsync(application, source));
        }
        return objects;
    });

    /// <summary>The objects of one Application source in this repository: helm template of the chart at its path,
    /// with its valueFiles and valuesObject; the YAML files of a plain directory.</summary>
    public static async Task<IReadOnlyList<JsonObject>> RenderSourceAsync(JsonObject application, JsonObject source)
    {
        var directory = WorkingTreePath(source.Str("path")!);
        if (!File.Exists(Path.Combine(directory, "Chart.yaml")))
            return await ParseAsync(string.Join("\n---\n", Directory.GetFiles(directory, "*.yaml").Order(StringComparer.Ordinal).Select(File.ReadAllText)));

        var release = source.Str("helm.releaseName") ?? application.Str("metadata.name")!;
        var args = new List<string> { "template", release, directory, "--namespace", application.Str("spec.destination.namespace")! };
        foreach (var file in (source.Node("helm.valueFiles") as JsonArray ?? []).Select(f => f!.ToString()))
            args.AddRange(["--values", Path.Combine(directory, file)]);
        var valuesObject = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(valuesObject, (source.Node("helm.valuesObject") ?? new JsonObject()).ToJsonString());
            args.AddRange(["--values", valuesObject]);
            return await ParseAsync(await Tool.RunAsync(DeployTools.Helm, args));
        }
        finally
        {
            File.Delete(valuesObject);
        }
    }

    /// <summary>YAML documents (one or more) as JSON objects; empty documents dropped.</summary>
    public static async Task<IReadOnlyList<JsonObject>> ParseAsync(string yaml) =>
        [.. (await ChartRendering.YamlToJsonAsync(yaml)).OfType<JsonObject>()];

    /// <summary>Strict schema violations of the objects: Kubernetes and @kubernetes-models CRDs through
    /// schema/validate.mjs, the CRDs no package ships (Image Updater, External Secrets, ECK) through the JSON Schemas
    /// of schema/crds/ (schema/crds/validate.mjs). A kind with neither is a violation.</summary>
    public static async Task<IReadOnlyList<string>> SchemaErrorsAsync(IEnumerable<JsonObject> objects)
    {
        var (custom, packaged) = objects.Aggregate((Custom: new JsonArray(), Packaged: new List<string>()), (split, o) =>
        {
            if (File.Exists(CrdSchema(o.Str("apiVersion") ?? "", o.Str("kind") ?? ""))) split.Custom.Add(o.DeepClone());
            else split.Packaged.Add(o.ToJsonString());
            return split;
        });
        var errors = new List<string>();
        if (packaged.Count > 0)
        {
            // valuesObject is a chart's values: free-form in the Application CRD (x-kubernetes-preserve-unknown-fields),
            // so validate.mjs never reads into it; the charts themselves judge those values (LocalObjectsAsync).
            var result = await ChartRendering.ValidateAsync(string.Join("\n---\n", packaged));
            errors.AddRange(result.SchemaErrors.Where(e => !FreeFormValues().IsMatch(e)));
        }
        if (custom.Count > 0)
        {
            var (_, output) = await Tool.RunRawAsync(DeployTools.Node,
                [Repo.PathOf("tests", "Deploy.Tests", "schema", "crds", "validate.mjs"), "--modules", DeployTools.NodeModules], stdin: custom.ToJsonString());
            var result = JsonNode.Parse(output) as JsonObject ?? throw new InvalidOperationException($"crds/validate.mjs printed no result:\n{output}");
            errors.AddRange(result["errors"]!.AsArray().Select(e => e!.ToString()));
        }
        return errors;
    }

    public static string CrdSchema(string apiVersion, string kind) =>
        Path.Combine([Repo.PathOf("tests", "Deploy.Tests", "schema", "crds"), .. apiVersion.Split('/'), kind + ".json"]);

    private static Task<IReadOnlyList<JsonObject>> Cached(string key, Func<Task<IReadOnlyList<JsonObject>>> load) =>
        s_cache.GetOrAdd(key, _ => new Lazy<Task<IReadOnlyList<JsonObject>>>(load)).Value;

    [GeneratedRegex(@"^Application/[^:]+: /spec/(source|sources/\d+)/helm/valuesObject/.*: unknown field \(not in the Application schema\)$")]
    private static partial Regex FreeFormValues();
}
