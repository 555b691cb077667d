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

    /// <summary>Runs shell text with the buildspec's variables plus <paramref name="environment"/>, docker, helm and
    /// the aws CLI replaced by scripts that log their arguments to the returned call list and act on a stand-in ECR
    /// (<see cref="FakeEcr"/>) in the run's scratch directory, which <paramref name="registry"/> may prepare.</summary>
    public async Task<BuildspecRun> RunAsync(string script, IDictionary<string, string> environment, string? workingDirectory = null,
        Action<FakeEcr>? registry = null)
    {
        var dir = Directory.CreateTempSubdirectory("buildspec-");
        var stubs = Directory.CreateDirectory(System.IO.Path.Combine(dir.FullName, "bin")).FullName;
        var calls = System.IO.Path.Combine(dir.FullName, "calls.log");
        var ecr = new FakeEcr(Directory.CreateDirectory(System.IO.Path.Combine(dir.FullName, "ecr")).FullName);
        registry?.Invoke(ecr);
        foreach (var (name, body) in FakeEcr.Stubs) await WriteStubAsync(stubs, name, body);

        var env = new Dictionary<string, string>(Variables)
        {
            ["PATH"] = stubs + ":" + Environment.GetEnvironmentVariable("PATH"),
            ["CALLS"] = calls,
            ["ECR_STATE"] = ecr.Root,
            ["AWS_REGION"] = "eu-west-1",
        };
        foreach (var (key, value) in environment) env[key] = value;
        var work = workingDirectory ?? Directory.CreateDirectory(System.IO.Path.Combine(dir.FullName, "src")).FullName;
        var (exitCode, output) = await Tool.RunRawAsync("bash", ["-c", script], work, env);
        var logged = File.Exists(calls) ? await File.ReadAllLinesAsync(calls) : [];
        return new BuildspecRun(exitCode, output, logged, work, dir, ecr);
    }

    private static async Task WriteStubAsync(string directory, string name, string body)
    {
        var path = System.IO.Path.Combine(directory, name);
        await File.WriteAllTextAsync(path, "#!/bin/bash\n" + body + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    private static BuildspecFile Parse(JsonArray documents) =>
        new(documents.Single()?.AsObject() ?? throw new InvalidOperationException("buildspec.yml is empty"));
}

public sealed record BuildspecRun(int ExitCode, string Output, string[] Calls, string WorkingDirectory, DirectoryInfo Scratch, FakeEcr Ecr) : IDisposable
{
    public void Dispose() => Scratch.Delete(recursive: true);
}

/// <summary>A stand-in for ECR as the buildspec uses it, kept in files: repositories with immutable tags
/// (<c>docker push</c> or <c>helm push</c> of an existing tag fails, as ECR answers "tag invalid ... immutable";
/// <c>put-image</c> of an existing tag fails with ImageAlreadyExistsException or ImageTagAlreadyExistsException),
/// images by digest with their manifest, scan findings per digest (none unless set), put-image and describe-images
/// failures to inject, and batch-delete-image refused as CI's role refuses it. The aws, docker and helm stubs act on it; each logs its command line to $CALLS.</summary>
public sealed class FakeEcr(string root)
{
    public string Root { get; } = root;

    /// <summary>An image pushed earlier (e.g. by a run that failed half-way), under these tags.</summary>
    public string Add(string repository, string digestSeed, params string[] tags)
    {
        var digest = "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(digestSeed)));
        var images = Directory.CreateDirectory(System.IO.Path.Combine(Dir(repository), "images", digest)).FullName;
        File.WriteAllText(System.IO.Path.Combine(images, "manifest"), "manifest " + digest);
        foreach (var tag in tags) SetTag(repository, tag, digest);
        return digest;
    }

    public void Findings(string repository, string digest, string severityCountsJson) =>
        File.WriteAllText(System.IO.Path.Combine(Directory.CreateDirectory(System.IO.Path.Combine(Dir(repository), "findings")).FullName, digest), severityCountsJson);

    /// <summary>The scan findings of every image of the repository, including ones pushed during the run.</summary>
    public void FindingsForEveryImage(string repository, string severityCountsJson) => Findings(repository, "_any", severityCountsJson);

    public void FailPutImage(string repository) => File.WriteAllText(System.IO.Path.Combine(Root, "fail-put-image-" + repository.Replace('/', '_')), "");

    /// <summary>describe-images on this repository answers AccessDenied (a role without the permission, a wrong
    /// account): the build must not take it for a missing tag.</summary>
    public void DenyDescribeImages(string repository) => File.WriteAllText(System.IO.Path.Combine(Root, "deny-describe-images-" + repository.Replace('/', '_')), "");

    public string? Digest(string repository, string tag)
    {
        var file = System.IO.Path.Combine(Dir(repository), "tags", tag);
        return File.Exists(file) ? File.ReadAllText(file).Trim() : null;
    }

    public IReadOnlyList<string> Tags(string repository)
    {
        var tags = System.IO.Path.Combine(Dir(repository), "tags");
        return Directory.Exists(tags) ? [.. Directory.GetFiles(tags).Select(System.IO.Path.GetFileName).Order(StringComparer.Ordinal)!] : [];
    }

    private void SetTag(string repository, string tag, string digest) =>
        File.WriteAllText(System.IO.Path.Combine(Directory.CreateDirectory(System.IO.Path.Combine(Dir(repository), "tags")).FullName, tag), digest);

    private string Dir(string repository) => System.IO.Path.Combine(Root, repository.Replace('/', '_'));

    internal static readonly (string Name, string Body)[] Stubs =
    [
        ("aws", """
            echo "aws $*" >> "$CALLS"
            [ "$1" = ecr ] || exit 0
            cmd=$2; shift 2
            repo=""; tag=""; digest=""; manifest=""
            while [ $# -gt 0 ]; do
              case "$1" in
                --repository-name) repo=$2; shift 2 ;;
                --image-tag) tag=$2; shift 2 ;;
                --image-ids|--image-id) case "$2" in imageTag=*) tag=${2#imageTag=} ;; imageDigest=*) digest=${2#imageDigest=} ;; esac; shift 2 ;;
                --image-manifest) manifest=$2; shift 2 ;;
                *) shift ;;
              esac
            done
            dir="$ECR_STATE/${repo//\//_}"
            case "$cmd" in
              get-login-password) echo token ;;
              describe-images)
                [ -f "$ECR_STATE/deny-describe-images-${repo//\//_}" ] && { echo "An error occurred (AccessDeniedException) when calling the DescribeImages operation" >&2; exit 254; }
                [ -f "$dir/tags/$tag" ] || { echo "An error occurred (ImageNotFoundException): $repo:$tag" >&2; exit 254; }
                cat "$dir/tags/$tag" ;;
              wait) [ -d "$dir/images/$digest" ] || { echo "Waiter ImageScanComplete failed: no image $digest" >&2; exit 255; } ;;
              describe-image-scan-findings) cat "$dir/findings/$digest" 2>/dev/null || cat "$dir/findings/_any" 2>/dev/null || echo '{}' ;;
              batch-get-image) cat "$dir/images/$digest/manifest" ;;
              put-image)
                [ -f "$ECR_STATE/fail-put-image-${repo//\//_}" ] && { echo "An error occurred (ServerException)" >&2; exit 254; }
                found=""
                for image in "$dir"/images/*/; do [ "$(cat "$image/manifest")" = "$manifest" ] && found=$(basename "$image"); done
                [ -n "$found" ] || { echo "An error occurred (InvalidParameterException): unknown manifest" >&2; exit 254; }
                if [ -f "$dir/tags/$tag" ]; then
                  if [ "$(cat "$dir/tags/$tag")" = "$found" ]; then echo "An error occurred (ImageAlreadyExistsException)" >&2
                  else echo "An error occurred (ImageTagAlreadyExistsException)" >&2; fi
                  exit 254
                fi
                echo "$found" > "$dir/tags/$tag"; echo '{"image":{}}' ;;
              batch-delete-image) echo "An error occurred (AccessDeniedException): CI's role may not call ecr:BatchDeleteImage" >&2; exit 254 ;;
            esac
            """),
        ("docker", """
            echo "docker $*" >> "$CALLS"
            if [ "$1" = push ]; then
              ref=$2; path=${ref#*/}; repo=${path%:*}; tag=${ref##*:}; dir="$ECR_STATE/${repo//\//_}"
              [ -f "$dir/tags/$tag" ] && { echo "tag invalid: The image tag '$tag' already exists in the '$repo' repository and cannot be overwritten because the repository is immutable." >&2; exit 1; }
              digest="sha256:$(printf '%s' "$ref $RANDOM$RANDOM" | sha256sum | cut -c1-64)"
              mkdir -p "$dir/tags" "$dir/images/$digest"; echo "manifest $digest" > "$dir/images/$digest/manifest"; echo "$digest" > "$dir/tags/$tag"
            fi
            """),
        ("dotnet", """
            echo "dotnet $*" >> "$CALLS"
            """),
        ("helm", """
            echo "helm $*" >> "$CALLS"
            if [ "$1" = push ]; then
              file=$(basename "$2" .tgz); version=${file#service-}; dir="$ECR_STATE/charts_service"
              [ -f "$dir/tags/$version" ] && { echo "Error: unexpected status: 400 Bad Request (tag invalid: immutable)" >&2; exit 1; }
              digest="sha256:$(printf '%s' "$version $RANDOM" | sha256sum | cut -c1-64)"
              mkdir -p "$dir/tags" "$dir/images/$digest"; echo "chart $digest" > "$dir/images/$digest/manifest"; echo "$digest" > "$dir/tags/$version"
              echo "Pushed: $3/service:$version"; echo "Digest: $digest"
            fi
            """),
    ];
}
