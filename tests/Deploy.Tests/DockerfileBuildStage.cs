using System.Diagnostics;
using System.Text;
using TestKit;

namespace Deploy.Tests;

/// <summary>Replays the Dockerfile's build stage on this machine, instruction by instruction: the same files copied
/// (after .dockerignore), the same build args, the same RUN commands in the same shell. The output is what the
/// runtime stage copies into /app, so a test can run exactly what the image would run without Docker.</summary>
public static class DockerfileBuildStage
{
    /// <summary>Runs the build stage in a fresh directory under <paramref name="workRoot"/> and returns the directory
    /// the runtime stage copies (COPY --from=build ...).</summary>
    public static async Task<string> RunAsync(IReadOnlyDictionary<string, string> buildArgs, string workRoot)
    {
        var dockerfile = DockerfileModel.Load();
        var context = DockerIgnore.Load();
        var build = dockerfile.Stage("build");
        var root = Path.Combine(workRoot, "build");
        Directory.CreateDirectory(root);
        string? workdir = null;
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);

        foreach (var instruction in build.Instructions)
        {
            switch (instruction.Keyword)
            {
                case "WORKDIR":
                    if (workdir is not null && workdir != instruction.Arguments)
                        throw new NotSupportedException("the replay maps one WORKDIR to its directory; the build stage changes it");
                    workdir = instruction.Arguments;
                    break;
                case "ARG":
                    var parts = instruction.Arguments.Split('=', 2);
                    environment[parts[0]] = buildArgs.TryGetValue(parts[0], out var value) ? value : parts.Length == 2 ? parts[1].Trim('"') : "";
                    break;
                case "COPY":
                    Copy(instruction, InContext(root, workdir, instruction.Split().Words[^1]), context);
                    break;
                case "RUN":
                    await RunShellAsync(instruction.Arguments, root, environment);
                    break;
                default:
                    throw new NotSupportedException($"{instruction.Keyword} in the build stage: teach {nameof(DockerfileBuildStage)} what Docker does with it");
            }
        }

        var output = dockerfile.Runtime.All("COPY").Single(c => c.Split().Flags.TryGetValue("from", out var from) && from == "build");
        return InContext(root, workdir, output.Split().Words[0]);
    }

    private static string InContext(string root, string? workdir, string containerPath)
    {
        if (workdir is null) throw new NotSupportedException("the build stage needs a WORKDIR before copying or building");
        var relative = containerPath.StartsWith('/') ? Path.GetRelativePath(workdir, containerPath) : containerPath;
        if (relative.StartsWith("..", StringComparison.Ordinal))
            throw new NotSupportedException($"{containerPath} is outside the build stage's WORKDIR {workdir}");
        return Path.Combine(root, relative);
    }

    private static void Copy(DockerInstruction copy, string destination, DockerIgnore context)
    {
        var (flags, words) = copy.Split();
        if (flags.ContainsKey("from")) throw new NotSupportedException("COPY --from in the build stage");
        var sources = words.Take(words.Count - 1).ToList();
        var intoDirectory = words[^1].EndsWith('/') || sources.Count > 1;
        foreach (var source in sources)
        {
            var relative = source.TrimEnd('/');
            var path = Repo.PathOf(relative);
            if (Directory.Exists(path))
            {
                // Docker copies a directory's contents, not the directory itself.
                foreach (var file in Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories))
                {
                    var fromRoot = Path.GetRelativePath(Repo.Root, file).Replace('\\', '/');
                    if (context.Excludes(fromRoot)) continue;
                    var target = Path.Combine(destination, Path.GetRelativePath(path, file));
                    Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                    File.Copy(file, target, overwrite: true);
                }
            }
            else
            {
                if (context.Excludes(relative)) throw new InvalidOperationException($"COPY {source}: excluded by .dockerignore");
                var target = intoDirectory ? Path.Combine(destination, Path.GetFileName(relative)) : destination;
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(path, target, overwrite: true);
            }
        }
    }

    /// <summary>RUN in its shell form, as the classic builder runs it: /bin/sh -c, build args in the environment.</summary>
    private static async Task RunShellAsync(string command, string workingDirectory, IDictionary<string, string> buildArgs)
    {
        var info = new ProcessStartInfo("/bin/sh")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(command);
        // `dotnet test` leaves MSBuild's own variables in the test process; a docker build has none of them.
        foreach (var inherited in info.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
            info.Environment.Remove(inherited);
        // No build servers left running after the test, so nothing outlives it or locks files.
        info.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        info.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        info.Environment["UseSharedCompilation"] = "false";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in buildArgs) info.Environment[key] = value;

        using var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start /bin/sh");
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"RUN {command} did not finish within 10 minutes:\n{output}");
        }
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"RUN {command} exited {process.ExitCode}:\n{output}");
    }
}
