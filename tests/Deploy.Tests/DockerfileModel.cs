using System.Text.Json;
using System.Text.RegularExpressions;
using TestKit;

namespace Deploy.Tests;

/// <summary>One instruction of a Dockerfile, continuation lines joined.</summary>
public sealed record DockerInstruction(string Keyword, string Arguments)
{
    /// <summary>Flags such as --from=build, and the remaining words.</summary>
    public (IReadOnlyDictionary<string, string> Flags, IReadOnlyList<string> Words) Split()
    {
        var flags = new Dictionary<string, string>(StringComparer.Ordinal);
        var words = new List<string>();
        foreach (var word in Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (words.Count == 0 && word.StartsWith("--", StringComparison.Ordinal))
            {
                var parts = word[2..].Split('=', 2);
                flags[parts[0]] = parts.Length == 2 ? parts[1] : "";
            }
            else
            {
                words.Add(word);
            }
        }
        return (flags, words);
    }
}

/// <summary>A build stage: FROM image [AS name] and its instructions.</summary>
public sealed record DockerStage(string Image, string? Name, IReadOnlyList<DockerInstruction> Instructions)
{
    public IEnumerable<DockerInstruction> All(string keyword) =>
        Instructions.Where(i => string.Equals(i.Keyword, keyword, StringComparison.OrdinalIgnoreCase));
}

/// <summary>The repository's Dockerfile read into stages, enough to check its contract and to replay its build stage
/// outside Docker. Supports what the project's Dockerfile uses: comments, line continuations, FROM ... AS.</summary>
public sealed class DockerfileModel
{
    private DockerfileModel(IReadOnlyList<DockerStage> stages) => Stages = stages;

    public IReadOnlyList<DockerStage> Stages { get; }

    public DockerStage Runtime => Stages[^1];

    public static DockerfileModel Load() => Parse(File.ReadAllText(Repo.PathOf("Dockerfile")));

    public static DockerfileModel Parse(string text)
    {
        var stages = new List<DockerStage>();
        (string Image, string? Name, List<DockerInstruction> Instructions)? current = null;
        foreach (var (keyword, arguments) in Instructions(text))
        {
            if (keyword == "FROM")
            {
                if (current is { } done) stages.Add(new DockerStage(done.Image, done.Name, done.Instructions));
                var words = arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(w => !w.StartsWith("--", StringComparison.Ordinal)).ToArray();
                var name = words.Length == 3 && words[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? words[2] : null;
                current = (words[0], name, []);
            }
            else if (current is { } stage)
            {
                stage.Instructions.Add(new DockerInstruction(keyword, arguments));
            }
            else if (keyword != "ARG")
            {
                throw new FormatException($"{keyword} before the first FROM");
            }
        }
        if (current is { } last) stages.Add(new DockerStage(last.Image, last.Name, last.Instructions));
        if (stages.Count == 0) throw new FormatException("no FROM instruction");
        return new DockerfileModel(stages);
    }

    /// <summary>The base of the runtime stage: the runtime's native dependencies only, since the publish is
    /// self-contained (Directory.Build.props).</summary>
    public const string RuntimeDepsImage = "mcr.microsoft.com/dotnet/runtime-deps:";

    public DockerStage Stage(string name) =>
        Stages.SingleOrDefault(s => s.Name == name) ?? throw new InvalidOperationException($"no stage named {name}");

    /// <summary>What the Dockerfile promises every image it builds; one message per broken promise.</summary>
    public IEnumerable<string> ContractViolations(DockerIgnore context)
    {
        var runtime = Runtime;
        if (!runtime.Image.StartsWith(RuntimeDepsImage, StringComparison.Ordinal) || !runtime.Image.Contains("chiseled", StringComparison.Ordinal))
            yield return $"runtime stage is {runtime.Image}, not a chiseled runtime-deps image ({RuntimeDepsImage}*-chiseled) for the self-contained publish";

        var user = runtime.All("USER").LastOrDefault()?.Arguments.Trim();
        if (user is null)
            yield return "runtime stage sets no USER: the container would run as the base image's default";
        else if (!(user is "$APP_UID" or "${APP_UID}" || (int.TryParse(user, out var uid) && uid != 0)))
            yield return $"USER {user} is not a numeric non-root user (Kubernetes' runAsNonRoot needs a number)";

        var exposed = runtime.All("EXPOSE").SelectMany(e => e.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Select(p => p.Split('/')[0]).ToHashSet();
        foreach (var port in new[] { "8080", "8081" })
            if (!exposed.Contains(port)) yield return $"port {port} is not EXPOSEd by the runtime stage";

        var entrypoint = runtime.All("ENTRYPOINT").LastOrDefault()?.Arguments.Trim();
        if (entrypoint is null || !entrypoint.StartsWith('[') || JsonSerializer.Deserialize<string[]>(entrypoint) is not ["/app/service"])
            yield return $"ENTRYPOINT is {entrypoint ?? "missing"}, not [\"/app/service\"] (exec form, the renamed apphost)";

        var declaresService = Stages.Any(s => s.All("ARG").Any(a => a.Arguments.Split('=')[0].Trim() == "SERVICE"));
        var usesService = Stages.Any(s => s.All("RUN").Any(r => Regex.IsMatch(r.Arguments, @"\$\{?SERVICE\b")));
        if (!declaresService || !usesService)
            yield return "ARG SERVICE must be declared and used by a RUN (it selects the project under src/)";

        // The OCI labels carry what CI passes as build args (buildspec.yml). An ARG declared before FROM, or in
        // another stage, is empty in the runtime stage: it must be declared there.
        var runtimeArgs = runtime.All("ARG").Select(a => a.Arguments.Split('=')[0].Trim()).ToHashSet(StringComparer.Ordinal);
        var labels = runtime.All("LABEL")
            .SelectMany(l => Regex.Matches(l.Arguments, """([\w.\-]+)=("[^"]*"|\S+)""").Select(m => (Key: m.Groups[1].Value, Value: m.Groups[2].Value.Trim('"'))))
            .ToDictionary(l => l.Key, l => l.Value, StringComparer.Ordinal);
        foreach (var (label, arg) in new[] { ("source", "SOURCE"), ("revision", "REVISION"), ("version", "VERSION") })
        {
            var key = $"org.opencontainers.image.{label}";
            if (!labels.TryGetValue(key, out var value) || !Regex.IsMatch(value, $$"""^\$\{?{{arg}}\}?$"""))
                yield return $"LABEL {key} is {(value is null ? "missing" : value)}, not ${arg} from the build arg";
            else if (!runtimeArgs.Contains(arg))
                yield return $"ARG {arg} is not declared in the runtime stage, so LABEL {key} would be empty";
        }

        foreach (var stage in Stages)
        {
            foreach (var copy in stage.All("COPY").Concat(stage.All("ADD")))
            {
                var (flags, words) = copy.Split();
                if (flags.ContainsKey("from")) continue;
                foreach (var source in words.Take(words.Count - 1))
                {
                    var relative = source.TrimEnd('/');
                    var path = Repo.PathOf(relative);
                    if (!File.Exists(path) && !Directory.Exists(path))
                        yield return $"COPY source {source} does not exist in the repository";
                    else if (context.Excludes(relative))
                        yield return $"COPY source {source} is excluded from the build context by .dockerignore";
                }
            }
        }
    }

    private static IEnumerable<(string Keyword, string Arguments)> Instructions(string text)
    {
        var pending = "";
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (pending.Length == 0 && (line.TrimStart().StartsWith('#') || line.Trim().Length == 0)) continue;
            if (pending.Length > 0 && line.TrimStart().StartsWith('#')) continue;
            if (line.EndsWith('\\'))
            {
                pending += line[..^1] + " ";
                continue;
            }
            var full = (pending + line).Trim();
            pending = "";
            var space = full.IndexOf(' ', StringComparison.Ordinal);
            yield return space < 0 ? (full.ToUpperInvariant(), "") : (full[..space].ToUpperInvariant(), full[(space + 1)..].Trim());
        }
    }
}

/// <summary>.dockerignore semantics as Docker applies them: patterns in order, the last match wins, "!" re-includes,
/// "**" spans directories, and a path is excluded when it or one of its parent directories matches.</summary>
public sealed class DockerIgnore
{
    private readonly List<(Regex Pattern, bool Include)> _rules;

    private DockerIgnore(List<(Regex Pattern, bool Include)> rules) => _rules = rules;

    public static DockerIgnore Load() => Parse(File.ReadAllText(Repo.PathOf(".dockerignore")));

    public static DockerIgnore Parse(string text)
    {
        var rules = new List<(Regex, bool)>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var include = line.StartsWith('!');
            var pattern = (include ? line[1..] : line).Trim().TrimStart('/').TrimEnd('/');
            rules.Add((new Regex("^" + ToRegex(pattern) + "$", RegexOptions.CultureInvariant), include));
        }
        return new DockerIgnore(rules);
    }

    /// <summary>Whether a repository-relative path (forward slashes) is left out of the build context.</summary>
    public bool Excludes(string relativePath)
    {
        var path = relativePath.Replace('\\', '/').Trim('/');
        var candidates = new List<string>();
        for (var end = path.IndexOf('/', StringComparison.Ordinal); end > 0; end = path.IndexOf('/', end + 1))
            candidates.Add(path[..end]);
        candidates.Add(path);

        var excluded = false;
        foreach (var (pattern, include) in _rules)
            if (candidates.Any(pattern.IsMatch)) excluded = !include;
        return excluded;
    }

    private static string ToRegex(string pattern)
    {
        var regex = new System.Text.StringBuilder();
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '*' && i + 1 < pattern.Length && pattern[i + 1] == '*')
            {
                i++;
                if (i + 1 < pattern.Length && pattern[i + 1] == '/')
                {
                    i++;
                    regex.Append("(.*/)?");
                }
                else
                {
                    regex.Append(".*");
                }
            }
            else if (c == '*')
            {
                regex.Append("[^/]*");
            }
            else if (c == '?')
            {
                regex.Append("[^/]");
            }
            else
            {
                regex.Append(Regex.Escape(c.ToString()));
            }
        }
        return regex.ToString();
    }
}
