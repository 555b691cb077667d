using System.Text.Json.Nodes;
using TestKit;

namespace Deploy.Tests;

/// <summary>The services' ApplicationSet (argocd/services.yaml) generating one Application as its controller does:
/// the generators' parameters restated from argo-cd's source (applicationset/generators: clusters.go, the cluster
/// Secret's name, server and metadata; git.go generateParamsFromGitFile with goTemplate, a file's YAML keys as they
/// are plus path; matrix.go GenerateParams, the second generator's paths rendered with the first's parameters and the
/// first's parameters merged over the second's, recursively as mergo.Merge WithOverride does), and every template
/// string rendered by Go's text/template with the ApplicationSet's goTemplateOptions (applicationset/render.go).</summary>
public static class ApplicationSetRendering
{
    private const string InstallHint = "Install Debian's golang-go (apt-get install golang-go). Run ./test.sh, which installs it (tools/deps.sh).";

    private static readonly Lazy<Task<string>> s_binary = new(BuildAsync);

    /// <summary>The Application generated for a service in an environment, with the pin file's content given as YAML
    /// (the file in deploy/image-pins when null); null when the controller would generate none for it.</summary>
    public static async Task<JsonObject?> GenerateAsync(string environment, string service, string? pinYaml = null)
    {
        var set = await GitOpsRepository.ApplicationSetAsync("services");
        var options = set.Arr("spec.goTemplateOptions").Select(o => o!.ToString()).ToArray();
        Assert.Equal("true", set.Str("spec.goTemplate"));
        var outer = Assert.Single(set.Arr("spec.generators"))!.Arr("matrix.generators");
        var inner = outer[0]!.Arr("matrix.generators");

        // clusters: the environment's cluster Secret (argocd/bootstrap), selected by its environment label.
        var secret = (await GitOpsRepository.ParseAsync(await File.ReadAllTextAsync(Path.Combine(GitOpsRepository.Root, "argocd", "bootstrap", $"in-cluster-{environment}.yaml"))))[0];
        var expression = Assert.Single(inner[0]!.Arr("clusters.selector.matchExpressions"))!;
        Assert.Contains(secret.Labels()[expression.Str("key")!], expression.Arr("values").Select(v => v!.ToString()));
        var cluster = new JsonObject
        {
            ["name"] = secret.Str("stringData.name"),
            ["nameNormalized"] = secret.Str("stringData.name"),
            ["server"] = secret.Str("stringData.server"),
            ["metadata"] = new JsonObject { ["labels"] = secret.Obj("metadata.labels").DeepClone(), ["annotations"] = new JsonObject() },
        };

        // git files of the GitOps repository: the environment's releases, one parameter set per list item.
        var releasesPath = await RenderStringAsync(inner[1]!.Arr("git.files")[0]!.Str("path")!, cluster, options);
        var releases = (await ChartRendering.YamlToJsonAsync(await File.ReadAllTextAsync(GitOpsRepository.WorkingTreePath(releasesPath))))[0]!.AsArray();
        var release = releases.Select(r => r!.AsObject()).SingleOrDefault(r => r.Str("service") == service);
        if (release is null) return null;
        var first = Merge(WithPath(release, releasesPath), cluster);

        // git files of the pins repository, at the path rendered with the first generator's parameters.
        var pins = outer[1]!.Obj("git");
        Assert.Equal(GitOpsRepository.PinsRepoUrl, pins.Str("repoURL"));
        var pinPath = await RenderStringAsync(pins.Arr("files")[0]!.Str("path")!, first, options);
        var pinFile = Path.Combine(GitOpsRepository.PinsRoot, pinPath);
        pinYaml ??= File.Exists(pinFile) ? await File.ReadAllTextAsync(pinFile) : null;
        if (pinYaml is null) return null;
        var pin = (await ChartRendering.YamlToJsonAsync(pinYaml))[0] as JsonObject ?? new JsonObject();
        var parameters = Merge(WithPath(pin, pinPath), first);

        var (exitCode, output) = await RenderAsync(set.Obj("spec.template"), parameters, options);
        return exitCode == 0 ? JsonNode.Parse(output)!.AsObject() : null;
    }

    /// <summary>The pin file the generator reads for a service in an environment (path in the pins repository).</summary>
    public static async Task<string> PinPathAsync(string environment, string service)
    {
        var set = await GitOpsRepository.ApplicationSetAsync("services");
        var options = set.Arr("spec.goTemplateOptions").Select(o => o!.ToString()).ToArray();
        var path = Assert.Single(set.Arr("spec.generators"))!.Arr("matrix.generators")[1]!.Arr("git.files")[0]!.Str("path")!;
        var parameters = new JsonObject { ["service"] = service, ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["environment"] = environment } } };
        return await RenderStringAsync(path, parameters, options);
    }

    private static async Task<string> RenderStringAsync(string text, JsonObject parameters, string[] options)
    {
        var (exitCode, output) = await RenderAsync(new JsonObject { ["s"] = text }, parameters, options);
        Assert.True(exitCode == 0, output);
        return JsonNode.Parse(output)!.Str("s")!;
    }

    private static async Task<(int ExitCode, string Output)> RenderAsync(JsonNode template, JsonObject parameters, string[] options)
    {
        var request = new JsonObject { ["template"] = template.DeepClone(), ["params"] = parameters.DeepClone(), ["options"] = new JsonArray([.. options.Select(o => (JsonNode)o)]) };
        return await Tool.RunRawAsync(await s_binary.Value, [], stdin: request.ToJsonString());
    }

    /// <summary>git.go: with goTemplate, the file's keys plus path (path, basename, filename, ... segments).</summary>
    private static JsonObject WithPath(JsonObject content, string file)
    {
        var result = content.DeepClone().AsObject();
        var directory = Path.GetDirectoryName(file)!.Replace('\\', '/');
        result["path"] = new JsonObject
        {
            ["path"] = directory,
            ["basename"] = Path.GetFileName(directory),
            ["filename"] = Path.GetFileName(file),
            ["segments"] = new JsonArray([.. directory.Split('/').Select(s => (JsonNode)s)]),
        };
        return result;
    }

    /// <summary>matrix.go: the second generator's parameters, then the first's merged over them.</summary>
    private static JsonObject Merge(JsonObject second, JsonObject first)
    {
        var result = second.DeepClone().AsObject();
        foreach (var (key, value) in first)
        {
            if (result[key] is JsonObject existing && value is JsonObject nested) result[key] = Merge(existing, nested);
            else result[key] = value?.DeepClone();
        }
        return result;
    }

    private static async Task<string> BuildAsync()
    {
        var go = Tool.Find("go", InstallHint);
        var output = Repo.PathOf(".tools", "applicationset-render");
        Directory.CreateDirectory(output);
        var binary = Path.Combine(output, "render");
        await Tool.RunAsync(go, ["build", "-o", binary, Repo.PathOf("tests", "Deploy.Tests", "applicationset", "render.go")],
            environment: new Dictionary<string, string>
            {
                ["GO111MODULE"] = "off",
                ["GOPATH"] = Path.Combine(output, "gopath"),
                ["GOFLAGS"] = "",
                ["GOPROXY"] = "off",
                ["GOCACHE"] = Path.Combine(output, "cache"),
            },
            timeout: TimeSpan.FromMinutes(3));
        return binary;
    }
}
