using System.Diagnostics;
using System.Text;

namespace TestKit;

/// <summary>Runs a command line tool and returns its output; throws with the output when it fails.</summary>
public static class Tool
{
    public static async Task<string> RunAsync(string file, IEnumerable<string> args, string? workingDirectory = null,
        IDictionary<string, string>? environment = null, TimeSpan? timeout = null, bool check = true, string? stdin = null)
    {
        var result = await RunRawAsync(file, args, workingDirectory, environment, timeout, stdin);
        if (check && result.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {result.ExitCode}:\n{result.Output}");
        return result.Output;
    }

    public static async Task<(int ExitCode, string Output)> RunRawAsync(string file, IEnumerable<string> args, string? workingDirectory = null,
        IDictionary<string, string>? environment = null, TimeSpan? timeout = null, string? stdin = null)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Repo.Root,
        };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        if (environment is not null)
            foreach (var (key, value) in environment) info.Environment[key] = value;

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {file}");
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {timeout ?? TimeSpan.FromMinutes(2)}:\n{output}");
        }
        process.WaitForExit();
        lock (output) return (process.ExitCode, output.ToString());
    }

    /// <summary>Finds an executable on PATH or in the given directories; fails with what to install.</summary>
    public static string Find(string name, string installHint, params string[] extraDirectories)
    {
        var candidates = extraDirectories
            .Concat((Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            .Select(dir => Path.Combine(dir, name));
        return candidates.FirstOrDefault(File.Exists)
               ?? throw new InvalidOperationException($"{name} not found. {installHint}");
    }
}
