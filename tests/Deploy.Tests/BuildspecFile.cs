using System.Text.Json.Nodes;
using TestKit;

namespace Deploy.Tests;

/// <summary>buildspec.yml as data, and a way to run its shell commands the way CodeBuild does (bash, the
/// buildspec's variables in the environment) with docker and helm replaced by recorders.</summary>
public sealed class BuildspecFile(JsonObject json)
{
    public static string Path => Repo.PathOf("buildspec.yml");

    public JsonObject Json { get; } = json;

    public static async Task<BuildspecFile> LoadAsync() => Parse(await HclJson.YamlDocumentsAsync(Path));

    public static async Task<BuildspecFile> ParseTextAsync(string yaml) => Parse(await HclJson.YamlDocumentsOfTextAsync(yaml));

    public IReadOnlyDictionary<string, string> Variables =>
        Json["env"]?["variables"]?.AsObject().ToDictionary(v => v.Key, v => v.Value!.ToString()) ?? [];

    public IEnumerable<string> PhaseNames => Json["phases"]!.AsObject().Select(p => p.Key);

    public JsonObject Phase(string name) => Json["phases"]![name]!.AsObject();

    public IEnumerable<(string Phase, JsonNode? Command)> Commands =>
        Json["phases"]!.AsObject().SelectMany(p => (p.Value!["commands"]?.AsArray() ?? []).Select(c => (p.Key, c)));

    /// <summary>The one command of a phase containing the text.</summary>
    public string Command(string phase, string containing) =>
        Commands.Where(c => c.Phase == phase && c.Command is JsonValue && c.Command.ToString().Contains(containing, StringComparison.Ordinal))
            .Select(c => c.Command!.ToString()).Single();

    /// <summary>SERVICES: "&lt;ECR repository&gt;=&lt;project&gt; ..."</summary>
    public IReadOnlyList<(string Repository, string Project)> Services =>
        Variables["SERVICES"].Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(s => s.Split('=')).Select(p => (p[0], p[1])).ToList();

    /// <summary>Commands YAML did not read as plain strings (an unquoted "a: b" becomes a mapping and CodeBuild
    /// rejects the buildspec), and commands bash cannot parse.</summary>
    public async Task<List<string>> CommandViolationsAsync()
    {
        var violations = new List<string>();
        foreach (var (phase, command) in Commands)
        {
            if (command is not JsonValue value || !value.TryGetValue<string>(out var text))
            {
                violations.Add($"{phase}: {command?.ToJsonString()} is not a string (quote commands containing ': ')");
                continue;
            }

            var (exitCode, output) = await Tool.RunRawAsync("bash", ["-n", "-c", text]);
            if (exitCode != 0) violations.Add($"{phase}: bash cannot parse `{text}`: {output}");
        }

        return violations;
    }

    /// <summary>Runs shell text with the buildspec's variables plus <paramref name="environment"/>, docker and helm
    /// replaced by scripts that log their arguments to the returned call list.</summary>
    public async Task<BuildspecRun> RunAsync(string script, IDictionary<string, string> environment, string? workingDirectory = null)
    {
        var dir = Directory.CreateTempSubdirectory("buildspec-");
        var stubs = Directory.CreateDirectory(System.IO.Path.Combine(dir.FullName, "bin")).FullName;
        var calls = System.IO.Path.Combine(dir.FullName, "calls.log");
        await WriteStubAsync(stubs, "docker", """
            echo "docker $*" >> "$CALLS"
            if [ "$1" = inspect ]; then for last; do :; done; echo "${last%:*}@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"; fi
            """);
        await WriteStubAsync(stubs, "helm", """
            echo "helm $*" >> "$CALLS"
            if [ "$1" = push ]; then echo "Pushed: $3"; echo "Digest: sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"; fi
            """);

        var env = new Dictionary<string, string>(Variables)
        {
            ["PATH"] = stubs + ":" + Environment.GetEnvironmentVariable("PATH"),
            ["CALLS"] = calls,
        };
        foreach (var (key, value) in environment) env[key] = value;
        var work = workingDirectory ?? Directory.CreateDirectory(System.IO.Path.Combine(dir.FullName, "src")).FullName;
        var (exitCode, output) = await Tool.RunRawAsync("bash", ["-c", script], work, env);
        var logged = File.Exists(calls) ? await File.ReadAllLinesAsync(calls) : [];
        return new BuildspecRun(exitCode, output, logged, work, dir);
    }

    private static async Task WriteStubAsync(string directory, string name, string body)
    {
        var path = System.IO.Path.Combine(directory, name);
        await File.WriteAllTextAsync(path, "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    private static BuildspecFile Parse(JsonArray documents) =>
        new(documents.Single()?.AsObject() ?? throw new InvalidOperationException("buildspec.yml is empty"));
}

public sealed record BuildspecRun(int ExitCode, string Output, string[] Calls, string WorkingDirectory, DirectoryInfo Scratch) : IDisposable
{
    public void Dispose() => Scratch.Delete(recursive: true);
}
