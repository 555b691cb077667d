using System.Text.Json.Nodes;
using TestKit;

namespace Deploy.Tests;

/// <summary>deploy/terraform as data: every directory holding .tf files and every .tfvars file, parsed by
/// @cdktf/hcl2json (tests/Deploy.Tests/hcl/tojson.mjs). No provider can be downloaded here, so `terraform validate`
/// cannot run; the policy tests reason over this parse instead.</summary>
public sealed class TerraformTree
{
    private static readonly Lazy<Task<TerraformTree>> s_repository = new(() => LoadAsync(Root));

    private TerraformTree(IReadOnlyDictionary<string, TerraformConfig> directories, IReadOnlyDictionary<string, JsonObject> tfvars)
    {
        Directories = directories;
        Tfvars = tfvars;
    }

    public static string Root => Repo.PathOf("deploy", "terraform");

    /// <summary>Directories by path relative to the tree's root, e.g. modules/eks or environment.</summary>
    public IReadOnlyDictionary<string, TerraformConfig> Directories { get; }

    /// <summary>.tfvars files by path relative to the tree's root, e.g. environment/envs/prod.tfvars.</summary>
    public IReadOnlyDictionary<string, JsonObject> Tfvars { get; }

    public TerraformConfig this[string directory] =>
        Directories.TryGetValue(directory, out var config) ? config : throw new KeyNotFoundException($"deploy/terraform/{directory} has no .tf files");

    public IEnumerable<TerraformConfig> Modules => Directories.Values.Where(d => d.Path.StartsWith("modules/", StringComparison.Ordinal));

    /// <summary>Root modules: the directories Terraform is run in (everything outside modules/).</summary>
    public IEnumerable<TerraformConfig> Roots => Directories.Values.Where(d => !d.Path.StartsWith("modules/", StringComparison.Ordinal));

    /// <summary>The repository's deploy/terraform, parsed once per test run.</summary>
    public static Task<TerraformTree> LoadRepositoryAsync() => s_repository.Value;

    public static async Task<TerraformTree> LoadAsync(string root)
    {
        var json = await HclJson.RunAsync("terraform", root);
        var tree = json.AsObject();
        return new TerraformTree(
            tree["directories"]!.AsObject().ToDictionary(p => p.Key, p => new TerraformConfig(p.Key, p.Value!.AsObject())),
            tree["tfvars"]!.AsObject().ToDictionary(p => p.Key, p => p.Value!.AsObject()));
    }

    /// <summary>A throwaway tree of one directory holding <paramref name="hcl"/> as main.tf, for negative tests.</summary>
    public static async Task<TerraformConfig> ParseSnippetAsync(string hcl)
    {
        var dir = Directory.CreateTempSubdirectory("tf-snippet-");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir.FullName, "main.tf"), hcl);
            var tree = await LoadAsync(dir.FullName);
            return tree["."];
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}

/// <summary>One directory's configuration in hcl2json's shape: blocks are arrays of bodies, nested blocks too.</summary>
public sealed class TerraformConfig(string path, JsonObject json)
{
    public string Path { get; } = path;

    public JsonObject Json { get; } = json;

    public IEnumerable<TerraformBlock> Resources(string type) => Labelled("resource", type);

    public IEnumerable<TerraformBlock> AllResources() => AllLabelled("resource");

    public IEnumerable<TerraformBlock> Data(string type) => Labelled("data", type);

    public IEnumerable<TerraformBlock> AllData() => AllLabelled("data");

    public IEnumerable<TerraformBlock> ModuleCalls =>
        Json["module"]?.AsObject().SelectMany(m => Bodies(m.Value).Select(b => new TerraformBlock("module", m.Key, b))) ?? [];

    public IReadOnlyDictionary<string, JsonObject> Variables =>
        Json["variable"]?.AsObject().ToDictionary(v => v.Key, v => Bodies(v.Value).Single()) ?? [];

    public IReadOnlyDictionary<string, JsonObject> Outputs =>
        Json["output"]?.AsObject().ToDictionary(v => v.Key, v => Bodies(v.Value).Single()) ?? [];

    /// <summary>All locals blocks of the directory merged.</summary>
    public JsonObject Locals
    {
        get
        {
            var merged = new JsonObject();
            foreach (var block in Bodies(Json["locals"]))
            {
                foreach (var (key, value) in block)
                    merged[key] = value?.DeepClone();
            }
            return merged;
        }
    }

    /// <summary>The terraform { } settings block, or null.</summary>
    public JsonObject? Settings => Bodies(Json["terraform"]).FirstOrDefault();

    public static bool IsModuleSource(TerraformBlock call, string module) =>
        call.Text("source") is { } source && source.TrimEnd('/').EndsWith("/modules/" + module, StringComparison.Ordinal)
        || call.Text("source") == "../" + module;

    private IEnumerable<TerraformBlock> Labelled(string kind, string type) =>
        Json[kind]?[type]?.AsObject().SelectMany(r => Bodies(r.Value).Select(b => new TerraformBlock(type, r.Key, b))) ?? [];

    private IEnumerable<TerraformBlock> AllLabelled(string kind) =>
        Json[kind]?.AsObject().SelectMany(t => Labelled(kind, t.Key)) ?? [];

    internal static IEnumerable<JsonObject> Bodies(JsonNode? node) => node is JsonArray array ? array.Select(b => b!.AsObject()) : [];

    public override string ToString() => Path;
}

/// <summary>A labelled block (resource, data source, module call) and its body.</summary>
public sealed record TerraformBlock(string Type, string Name, JsonObject Body)
{
    public string Address => $"{Type}.{Name}";

    public JsonNode? this[string attribute] => Body[attribute];

    public string? Text(string attribute) => Body[attribute] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    public bool? Flag(string attribute) => Body[attribute] is JsonValue value && value.TryGetValue<bool>(out var flag) ? flag : null;

    /// <summary>The first nested block of that name, e.g. vpc_config.</summary>
    public JsonObject? Nested(string block) => TerraformConfig.Bodies(Body[block]).FirstOrDefault();

    public IEnumerable<JsonObject> NestedAll(string block) => TerraformConfig.Bodies(Body[block]);

    public override string ToString() => Address;
}

public static class HclJson
{
    private static readonly string s_script = Repo.PathOf("tests", "Deploy.Tests", "hcl", "tojson.mjs");

    /// <summary>Runs tojson.mjs in one of its modes (terraform, hcl, yaml) and parses what it prints.</summary>
    public static async Task<JsonNode> RunAsync(string mode, params string[] arguments)
    {
        var output = await Tool.RunAsync(DeployTools.Node, [s_script, DeployTools.NodeModules, mode, .. arguments], timeout: TimeSpan.FromMinutes(2));
        return JsonNode.Parse(output) ?? throw new InvalidOperationException($"tojson.mjs {mode} printed nothing");
    }

    /// <summary>Every YAML document of a file, parsed by the yaml package (multi-document files give several).</summary>
    public static async Task<JsonArray> YamlDocumentsAsync(string file) =>
        (await RunAsync("yaml", file))[file]!.AsArray();

    public static async Task<JsonArray> YamlDocumentsOfTextAsync(string yaml)
    {
        var file = Path.Combine(Path.GetTempPath(), $"yaml-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, yaml);
        try
        {
            return await YamlDocumentsAsync(file);
        }
        finally
        {
            File.Delete(file);
        }
    }
}

/// <summary>Evaluates Terraform expressions with the real Terraform language (terraform console in an empty
/// directory: functions and operators only, no providers needed). Variable validations are run by
/// TerraformValidation (terraform plan), never by evaluating their conditions here.</summary>
public static class TerraformConsole
{
    /// <summary>Each expression's value as JSON; null where the expression failed to evaluate.</summary>
    public static async Task<JsonNode?[]> EvaluateAsync(IReadOnlyList<string> expressions)
    {
        var dir = Directory.CreateTempSubdirectory("tf-console-");
        try
        {
            // Expressions go into locals (they may span lines; piped console input is read as one line), wrapped in
            // try() so one that fails to evaluate yields null instead of failing the others.
            var locals = expressions.Select((e, i) => $"  e{i} = try({e}, null)");
            await File.WriteAllTextAsync(Path.Combine(dir.FullName, "main.tf"), "locals {\n" + string.Join("\n", locals) + "\n}\n");
            var json = await EvaluateInAsync(dir.FullName, "jsonencode([" + string.Join(", ", expressions.Select((_, i) => $"local.e{i}")) + "])");
            return JsonNode.Parse(json.GetValue<string>())!.AsArray().ToArray();
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>One expression evaluated by terraform console in a directory of .tf files without providers (and
    /// its terraform.tfvars.json, if any): its value as terraform prints it, parsed as JSON.</summary>
    public static async Task<JsonNode> EvaluateInAsync(string directory, string expression)
    {
        var cliConfig = Path.Combine(directory, "terraformrc");
        await File.WriteAllTextAsync(cliConfig, "");
        var (exitCode, output) = await Tool.RunRawAsync(DeployTools.Terraform, ["console", "-no-color"], directory,
            new Dictionary<string, string> { ["TF_CLI_CONFIG_FILE"] = cliConfig, ["TF_IN_AUTOMATION"] = "1" }, stdin: expression + "\n");
        if (exitCode != 0) throw new InvalidOperationException($"terraform console failed on {expression}:\n{output}");
        return JsonNode.Parse(output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last().Trim())!;
    }

    /// <summary>hcl2json renders expressions as "${...}" template strings.</summary>
    public static string Unwrap(string expression) =>
        expression.StartsWith("${", StringComparison.Ordinal) && expression.EndsWith('}') ? expression[2..^1] : expression;
}
