using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using TestKit;
using Xunit.Abstractions;

namespace Deploy.Tests;

/// <summary>The README's Quick start promise, run as written: <c>./run.sh</c> brings the workload up, then the
/// "Try the Catalog API" and "Try the upload flow" blocks run verbatim. Only the path of run.env differs: the test
/// keeps its state (and its ports) away from a developer's own <c>.local</c>.</summary>
public sealed partial class ReadmeWalkthroughTests(ITestOutputHelper output)
{
    private static readonly string[] s_portVariables =
        ["PG_PRIMARY_PORT", "PG_STANDBY_PORT", "CATALOG_PORT", "CATALOG_MANAGEMENT_PORT", "ASSETS_PORT", "ASSETS_MANAGEMENT_PORT", "S3_PORT"];

    [Fact]
    public async Task RunShThenTheReadmesCurlExamplesWorkAsWritten()
    {
        var scratch = Directory.CreateTempSubdirectory("run-sh-");
        // run.sh hands its PostgreSQL directories to the postgres user (CI runs as root), who must reach them.
        File.SetUnixFileMode(scratch.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
            UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var state = Path.Combine(scratch.FullName, "state");
        var environment = s_portVariables.ToDictionary(v => v, _ => Ports.Free().ToString(CultureInfo.InvariantCulture));
        environment["RUN_STATE_DIR"] = state;
        var runEnv = Path.Combine(state, "run.env");

        Script? run = null;
        try
        {
            run = new Script(Repo.PathOf("run.sh"), [], environment);
            var deadline = DateTime.UtcNow.AddMinutes(4);
            while (!(File.Exists(runEnv) && run.Output.Contains("Ctrl-C", StringComparison.Ordinal)))
            {
                Assert.False(run.Process.HasExited, $"./run.sh exited with {(run.Process.HasExited ? run.Process.ExitCode : 0)} before the workload was up:\n{run.Output}");
                Assert.True(DateTime.UtcNow < deadline, $"./run.sh did not bring the workload up within 4 minutes:\n{run.Output}");
                await Task.Delay(500);
            }

            var catalog = await RunReadmeBlockAsync("### Try the Catalog API", runEnv, environment);
            Assert.Contains("HTTP/1.1 201 Created", catalog, StringComparison.Ordinal);
            Assert.Contains("X-Read-Your-Writes: ", catalog, StringComparison.Ordinal);
            Assert.Matches("""\{"id":"[0-9a-f-]{36}","sku":"CAM-\d+","name":"Field camera",""", catalog);
            Assert.Contains("""{"items":[""", catalog, StringComparison.Ordinal);
            Assert.Contains("Cache-Control: public, max-age=30", catalog, StringComparison.Ordinal);
            Assert.Equal(2, StatusLines(catalog).Count(s => s == "HTTP/1.1 200 OK"));
            Assert.Contains("HTTP/1.1 204 No Content", catalog, StringComparison.Ordinal);
            Assert.Contains("""
                "errors":{"sku":[
                """, catalog, StringComparison.Ordinal);
            Assert.Contains("""{"status":"Healthy",""", catalog, StringComparison.Ordinal);
            Assert.Matches("""(?m)^db_reads_total\{role="reader"\} [1-9]""", catalog);

            var upload = await RunReadmeBlockAsync("### Try the upload flow", runEnv, environment);
            Assert.Contains("\"status\":\"pending\"", upload, StringComparison.Ordinal);
            Assert.Contains("\"status\":\"available\"", upload, StringComparison.Ordinal);
            Assert.Matches("(?m)^identical$", upload);
            Assert.Contains("""
                "errors":{"fileName":[
                """, upload, StringComparison.Ordinal);
            Assert.Equal(["HTTP/1.1 200 OK", "HTTP/1.1 409 Conflict", "HTTP/1.1 204 No Content", "HTTP/1.1 404 Not Found"], StatusLines(upload));
            Assert.Contains("dependency_up{dependency=\"s3\"} 1", upload, StringComparison.Ordinal);
            Assert.Contains("dependency_up{dependency=\"catalog\"} 1", upload, StringComparison.Ordinal);
        }
        finally
        {
            if (run is not null)
            {
                await Tool.RunRawAsync(Repo.PathOf("run.sh"), ["stop"], environment: environment);
                run.Process.Kill(entireProcessTree: true);
                run.Dispose();
            }
            scratch.Delete(recursive: true);
        }
    }

    /// <summary>Runs the first bash block after the README heading, as written, with run.env read from the test's state.</summary>
    private async Task<string> RunReadmeBlockAsync(string heading, string runEnv, Dictionary<string, string> environment)
    {
        var readme = await File.ReadAllTextAsync(Repo.PathOf("README.md"));
        var at = readme.IndexOf("\n" + heading + "\n", StringComparison.Ordinal);
        Assert.True(at >= 0, $"README.md has no heading {heading}");
        var block = BashBlock().Match(readme, at).Groups[1].Value;
        Assert.Contains("source .local/run.env", block, StringComparison.Ordinal);
        var (_, result) = await Tool.RunRawAsync("bash", ["-c", block.Replace("source .local/run.env", $"source '{runEnv}'", StringComparison.Ordinal)],
            environment: environment, timeout: TimeSpan.FromMinutes(2));
        output.WriteLine($"--- {heading}\n{result}");
        return result;
    }

    /// <summary>HTTP status lines (curl -si … | head -1), in order.</summary>
    private static List<string> StatusLines(string text) =>
        [.. text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.StartsWith("HTTP/1.1 ", StringComparison.Ordinal))
            .Where(l => !l.StartsWith("HTTP/1.1 201", StringComparison.Ordinal))];

    [GeneratedRegex(@"```bash\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex BashBlock();

    /// <summary>./run.sh in the foreground (it runs until stopped), its stdout and stderr collected together as they come.</summary>
    private sealed class Script : IDisposable
    {
        private readonly StringBuilder _output = new();

        public Script(string file, string[] args, Dictionary<string, string> environment)
        {
            var info = new ProcessStartInfo(file)
            {
                WorkingDirectory = Repo.Root,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in args) info.ArgumentList.Add(arg);
            foreach (var (key, value) in environment) info.Environment[key] = value;
            Process = new Process { StartInfo = info };
            Process.OutputDataReceived += (_, e) => Append(e.Data);
            Process.ErrorDataReceived += (_, e) => Append(e.Data);
            Process.Start();
            Process.BeginOutputReadLine();
            Process.BeginErrorReadLine();
        }

        public Process Process { get; }

        public string Output
        {
            get { lock (_output) return _output.ToString(); }
        }

        private void Append(string? line)
        {
            if (line is null) return;
            lock (_output) _output.Append(line).Append('\n');
        }

        public void Dispose() => Process.Dispose();
    }
}
