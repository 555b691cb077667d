using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TestKit;

namespace Deploy.Tests;

/// <summary>Has Terraform itself evaluate the <c>validation</c> blocks of module variables against what callers pass.
///
/// No provider can be downloaded here, so the real roots cannot be planned. A root without providers can be: this
/// builds one per real root, in which every module is a stand-in made of
/// <list type="bullet">
/// <item>the module's own <c>variables.tf</c>, copied byte for byte (types, defaults, validations);</item>
/// <item>the module's locals, module calls and outputs as the HCL parser read them, written back as Terraform's JSON
/// syntax (where "${...}" strings are expressions, exactly what @cdktf/hcl2json emits), with every reference to a
/// resource, data source or ephemeral resource of the module replaced by a value Terraform knows only after apply
/// (<c>jsondecode(timestamp())</c>: unknown during plan, of any type).</item>
/// </list>
/// Then <c>terraform init &amp;&amp; terraform plan -var-file=&lt;the environment's tfvars&gt;</c> evaluates every argument
/// of every module call and runs every validation whose inputs are known. An input that depends on a resource is
/// unknown and Terraform defers its validation to apply: those arguments are listed (Run.UncheckedArguments),
/// never silently counted as checked.</summary>
public static partial class TerraformValidation
{
    /// <summary>The stand-in for every value that exists only once a resource does.</summary>
    private const string Unknown = "local.standin_unknown";

    public sealed record Diagnostic(string Severity, string Summary, string Detail, string File, string Context)
    {
        public override string ToString() => $"{Severity}: {Summary} ({File}, {Context}): {Detail}";
    }

    /// <summary>An argument of a module call that Terraform cannot know during plan, for a variable that has validations.</summary>
    public sealed record UncheckedArgument(string Caller, string Call, string Module, string Argument)
    {
        public override string ToString() => $"{Caller}: module.{Call}.{Argument} ({Module})";
    }

    public sealed record Run(string Root, string? VarFile, IReadOnlyList<Diagnostic> Diagnostics, IReadOnlyList<UncheckedArgument> Unchecked,
        IReadOnlyList<string> ModulesInstantiated, string Output)
    {
        public IEnumerable<Diagnostic> Errors => Diagnostics.Where(d => d.Severity == "error");

        public IEnumerable<Diagnostic> Warnings => Diagnostics.Where(d => d.Severity == "warning");
    }

    /// <summary>Plans the stand-in of a real root (e.g. "environment") with one of its tfvars files (relative to the root).
    /// Terraform may stop after the first failing validation, so a failing run shows at least one error, not all.</summary>
    public static async Task<Run> PlanRootAsync(TerraformTree tree, string treeRoot, string root, string? varFile)
    {
        var dir = Directory.CreateTempSubdirectory("tf-validate-");
        try
        {
            var uncheckedArguments = new List<UncheckedArgument>();
            var instantiated = new List<string>();
            await WriteStandInAsync(tree, treeRoot, root, dir.FullName, isRoot: true, uncheckedArguments, instantiated, new HashSet<string>());
            var args = new List<string> { "plan", "-input=false", "-no-color", "-json", "-lock=false" };
            if (varFile is not null) args.Add("-var-file=" + Path.Combine(treeRoot, root, varFile));
            var (diagnostics, output) = await InitAndPlanAsync(dir.FullName, args);
            return new Run(root, varFile, diagnostics, uncheckedArguments, instantiated, output);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>Whether a module's variables accept each case: every case is one call of the module (its variables.tf in
    /// <paramref name="moduleDirectory"/>), with the given arguments as HCL expressions and every other variable
    /// without a default unknown. True where Terraform's plan raised no error. One plan per case: Terraform stops
    /// evaluating once a validation has failed, so one failing call could hide another's result.</summary>
    public static async Task<bool[]> AcceptsAsync(string moduleDirectory, IReadOnlyList<IReadOnlyDictionary<string, string>> cases)
    {
        var dir = Directory.CreateTempSubdirectory("tf-accepts-");
        try
        {
            var module = Path.Combine(dir.FullName, "module");
            Directory.CreateDirectory(module);
            File.Copy(Path.Combine(moduleDirectory, "variables.tf"), Path.Combine(module, "variables.tf"));
            var required = RequiredVariables(await File.ReadAllTextAsync(Path.Combine(moduleDirectory, "variables.tf")));
            await File.WriteAllTextAsync(Path.Combine(dir.FullName, "unknown.tf"), "locals {\n  standin_unknown = jsondecode(timestamp())\n}\n");
            var accepted = new bool[cases.Count];
            for (var i = 0; i < cases.Count; i++)
            {
                // The same call name every time: init installs the module once, each plan sees one case.
                var arguments = cases[i].Select(a => $"  {a.Key} = {a.Value}")
                    .Concat(required.Where(r => !cases[i].ContainsKey(r)).Select(r => $"  {r} = {Unknown}"));
                await File.WriteAllTextAsync(Path.Combine(dir.FullName, "case.tf"),
                    $"module \"case\" {{\n  source = \"./module\"\n{string.Join("\n", arguments)}\n}}\n");
                if (i == 0) await InitAsync(dir.FullName);
                var (diagnostics, output) = await PlanAsync(dir.FullName, ["plan", "-input=false", "-no-color", "-json", "-lock=false"]);
                if (diagnostics.Any(d => d.Severity == "error" && d.File != "case.tf"))
                    throw new InvalidOperationException($"terraform plan of case {i} failed outside the module call:\n{output}");
                accepted[i] = !diagnostics.Any(d => d.Severity == "error");
            }
            return accepted;
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static async Task<(IReadOnlyList<Diagnostic>, string)> InitAndPlanAsync(string dir, List<string> planArgs)
    {
        await InitAsync(dir);
        return await PlanAsync(dir, planArgs);
    }

    private static Dictionary<string, string> Environment(string dir) =>
        new() { ["TF_CLI_CONFIG_FILE"] = Path.Combine(dir, ".terraformrc"), ["TF_IN_AUTOMATION"] = "1", ["CHECKPOINT_DISABLE"] = "1" };

    private static async Task InitAsync(string dir)
    {
        await File.WriteAllTextAsync(Path.Combine(dir, ".terraformrc"), "");
        var init = await Tool.RunRawAsync(DeployTools.Terraform, ["init", "-input=false", "-no-color", "-backend=false"], dir, Environment(dir));
        if (init.ExitCode != 0) throw new InvalidOperationException($"terraform init of the stand-in root failed:\n{init.Output}");
    }

    /// <summary>terraform plan -json: its diagnostics (Terraform stops at the first failing validation of a walk).</summary>
    private static async Task<(IReadOnlyList<Diagnostic>, string)> PlanAsync(string dir, List<string> planArgs)
    {
        var (_, output) = await Tool.RunRawAsync(DeployTools.Terraform, planArgs, dir, Environment(dir));
        var diagnostics = new List<Diagnostic>();
        foreach (var line in output.Split('\n').Where(l => l.StartsWith('{')))
        {
            if (JsonNode.Parse(line) is not JsonObject message || message["diagnostic"] is not JsonObject d) continue;
            diagnostics.Add(new Diagnostic(d.Str("severity")!, d.Str("summary")!, d["detail"]?.ToString() ?? "",
                d.Node("range")?["filename"]?.ToString() ?? "", d.Node("snippet")?["context"]?.ToString() ?? ""));
        }
        if (!output.Contains("\"type\":\"change_summary\"", StringComparison.Ordinal) && diagnostics.All(d => d.Severity != "error"))
            throw new InvalidOperationException($"terraform plan neither planned nor reported an error:\n{output}");
        return (diagnostics, output);
    }

    /// <summary>Writes the stand-in of the configuration at <paramref name="path"/> (a key of the tree) into <paramref name="dir"/>,
    /// and the stand-ins of the modules it calls into sibling directories.</summary>
    private static async Task WriteStandInAsync(TerraformTree tree, string treeRoot, string path, string dir, bool isRoot,
        List<UncheckedArgument> uncheckedArguments, List<string> instantiated, HashSet<string> written)
    {
        var config = tree[path];
        var source = Path.Combine(treeRoot, path);
        Directory.CreateDirectory(dir);
        await AssertVariablesLiveInVariablesTfAsync(source, path);
        if (File.Exists(Path.Combine(source, "variables.tf")))
            File.Copy(Path.Combine(source, "variables.tf"), Path.Combine(dir, "variables.tf"));

        var replacements = Replacements(config);
        var locals = new JsonObject { ["standin_unknown"] = "${jsondecode(timestamp())}" };
        foreach (var (name, value) in config.Locals) locals[name] = Rewrite(value!, replacements);
        var unknownLocals = UnknownLocals(locals);

        var modules = new JsonObject();
        foreach (var call in config.ModuleCalls)
        {
            var modulePath = ModulePath(path, call.Text("source")!);
            var moduleConfig = tree[modulePath];
            var standIn = StandInDirectory(modulePath);
            var body = new JsonObject { ["source"] = isRoot ? "./" + standIn : "../" + standIn };
            foreach (var (argument, value) in call.Body)
            {
                if (argument is "source" or "providers" or "depends_on" or "version") continue;
                var rewritten = Rewrite(value!, replacements);
                body[argument] = rewritten;
                if (argument is "count" or "for_each") continue;
                if (moduleConfig.Variables.TryGetValue(argument, out var variable) && variable["validation"] is not null
                    && IsUnknown(rewritten, unknownLocals, ModuleOutputsUnknown(tree, path)))
                {
                    uncheckedArguments.Add(new UncheckedArgument(path, call.Name, modulePath, argument));
                }
            }
            modules[call.Name] = body;
            instantiated.Add($"{path} -> module.{call.Name} ({modulePath})");
            var root = isRoot ? dir : Path.GetDirectoryName(dir)!;
            if (written.Add(modulePath))
                await WriteStandInAsync(tree, treeRoot, modulePath, Path.Combine(root, standIn), isRoot: false, uncheckedArguments, instantiated, written);
        }

        var document = new JsonObject { ["locals"] = locals };
        if (modules.Count > 0) document["module"] = modules;
        if (!isRoot && config.Outputs.Count > 0)
        {
            var outputs = new JsonObject();
            foreach (var (name, output) in config.Outputs)
            {
                var body = new JsonObject { ["value"] = Rewrite(output["value"]!, replacements) };
                if (output["sensitive"] is { } sensitive) body["sensitive"] = sensitive.DeepClone();
                outputs[name] = body;
            }
            document["output"] = outputs;
        }
        await File.WriteAllTextAsync(Path.Combine(dir, "standin.tf.json"), document.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>Copying variables.tf is only the whole truth when every variable is declared there (the module convention).</summary>
    private static async Task AssertVariablesLiveInVariablesTfAsync(string source, string path)
    {
        foreach (var file in Directory.GetFiles(source, "*.tf").Where(f => Path.GetFileName(f) != "variables.tf"))
        {
            if (VariableBlock().IsMatch(await File.ReadAllTextAsync(file)))
                throw new InvalidOperationException($"{path}/{Path.GetFileName(file)} declares a variable: variables belong in variables.tf");
        }
    }

    private static string ModulePath(string caller, string source)
    {
        var full = Path.GetFullPath(Path.Combine("/", caller, source));
        return full.TrimStart('/');
    }

    private static string StandInDirectory(string modulePath) => "standin-" + modulePath.Replace('/', '-');

    /// <summary>References to the configuration's resources, data sources and ephemeral resources, each replaced by the
    /// unknown stand-in (an attribute or index of an unknown value is unknown).</summary>
    private static List<(Regex Pattern, string Replacement)> Replacements(TerraformConfig config)
    {
        var references = config.AllResources().Select(r => $"{r.Type}.{r.Name}")
            .Concat(config.AllData().Select(d => $"data.{d.Type}.{d.Name}"))
            .Concat(config.Json["ephemeral"]?.AsObject().SelectMany(t => t.Value!.AsObject().Select(n => $"ephemeral.{t.Key}.{n.Key}")) ?? []);
        return [.. references.OrderByDescending(r => r.Length).Select(r => (new Regex($@"(?<![\w.-]){Regex.Escape(r)}(?![\w-])"), Unknown))];
    }

    private static JsonNode Rewrite(JsonNode node, List<(Regex Pattern, string Replacement)> replacements) => node switch
    {
        JsonObject o => new JsonObject(o.Select(p => KeyValuePair.Create(p.Key, p.Value is null ? null : (JsonNode?)Rewrite(p.Value, replacements)))),
        JsonArray a => new JsonArray([.. a.Select(i => i is null ? null : Rewrite(i, replacements))]),
        JsonValue v when v.GetValueKind() == JsonValueKind.String =>
            JsonValue.Create(replacements.Aggregate(v.GetValue<string>(), (text, r) => r.Pattern.Replace(text, r.Replacement))),
        _ => node.DeepClone(),
    };

    private static HashSet<string> UnknownLocals(JsonObject locals)
    {
        var unknown = new HashSet<string> { "standin_unknown" };
        bool changed;
        do
        {
            changed = false;
            foreach (var (name, value) in locals)
            {
                if (!unknown.Contains(name) && IsUnknown(value!, unknown, _ => false)) changed |= unknown.Add(name);
            }
        }
        while (changed);
        return unknown;
    }

    /// <summary>Whether an expression refers to something known only after apply: the unknown stand-in, a local derived
    /// from it, or a module output that is.</summary>
    private static bool IsUnknown(JsonNode expression, HashSet<string> unknownLocals, Func<string, bool> moduleOutputUnknown)
    {
        var text = expression.ToJsonString();
        return LocalReference().Matches(text).Any(m => unknownLocals.Contains(m.Groups[1].Value))
               || ModuleReference().Matches(text).Any(m => moduleOutputUnknown(m.Groups[1].Value + "." + m.Groups[2].Value));
    }

    /// <summary>module.&lt;call&gt;.&lt;output&gt; of the configuration at <paramref name="path"/> is unknown when the output's
    /// expression is (inside the module, every var.* taken as known).</summary>
    private static Func<string, bool> ModuleOutputsUnknown(TerraformTree tree, string path) => reference =>
    {
        var (callName, output) = (reference.Split('.')[0], reference.Split('.')[1]);
        var call = tree[path].ModuleCalls.FirstOrDefault(c => c.Name == callName);
        if (call is null) return true;
        var modulePath = ModulePath(path, call.Text("source")!);
        var module = tree[modulePath];
        if (!module.Outputs.TryGetValue(output, out var declared)) return true;
        var replacements = Replacements(module);
        var locals = new JsonObject { ["standin_unknown"] = "${jsondecode(timestamp())}" };
        foreach (var (name, value) in module.Locals) locals[name] = Rewrite(value!, replacements);
        return IsUnknown(Rewrite(declared["value"]!, replacements), UnknownLocals(locals), ModuleOutputsUnknown(tree, modulePath));
    };

    private static List<string> RequiredVariables(string variablesTf) =>
        [.. VariableBlockBody().Matches(variablesTf).Where(m => !DefaultAttribute().IsMatch(m.Groups[2].Value)).Select(m => m.Groups[1].Value)];

    [GeneratedRegex(@"(?m)^variable\s+""")]
    private static partial Regex VariableBlock();

    [GeneratedRegex(@"(?ms)^variable\s+""([\w-]+)""\s*\{(.*?)^\}")]
    private static partial Regex VariableBlockBody();

    [GeneratedRegex(@"(?m)^  default\s*=")]
    private static partial Regex DefaultAttribute();

    [GeneratedRegex(@"\blocal\.([\w-]+)")]
    private static partial Regex LocalReference();

    [GeneratedRegex(@"\bmodule\.([\w-]+)(?:\[[^\]]*\])?\.([\w-]+)")]
    private static partial Regex ModuleReference();
}
