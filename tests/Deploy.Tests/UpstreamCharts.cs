using System.Collections.Concurrent;
using TestKit;

namespace Deploy.Tests;

/// <summary>The upstream Helm charts the platform's Applications install, at the versions they pin. Read from
/// <c>../shared/upstream-charts/&lt;chart&gt;-&lt;version&gt;/</c> beside the repository (or UPSTREAM_CHARTS_DIR) when there, as
/// unpacked charts with their dependencies; otherwise pulled with <c>helm pull</c> from the Application's repository
/// into .tools/charts/ (a machine with network). With neither, the test fails naming the chart.</summary>
public static class UpstreamCharts
{
    public const string DirectoryVariable = "UPSTREAM_CHARTS_DIR";

    private static readonly ConcurrentDictionary<string, Lazy<Task<string>>> s_located = new();

    /// <summary>Where vendored charts are looked for: UPSTREAM_CHARTS_DIR, else ../shared/upstream-charts.</summary>
    public static string SharedDirectory =>
        Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } configured
            ? configured
            : Path.Combine(Path.GetDirectoryName(Repo.Root)!, "shared", "upstream-charts");

    public static Task<string> LocateAsync(string repoUrl, string chart, string version) =>
        s_located.GetOrAdd($"{chart}-{version}", _ => new Lazy<Task<string>>(() => LocateOnceAsync(repoUrl, chart, version))).Value;

    private static async Task<string> LocateOnceAsync(string repoUrl, string chart, string version)
    {
        var shared = Path.Combine(SharedDirectory, $"{chart}-{version}");
        if (File.Exists(Path.Combine(shared, "Chart.yaml"))) return shared;

        var pulled = Repo.PathOf(".tools", "charts", $"{chart}-{version}");
        if (File.Exists(Path.Combine(pulled, chart, "Chart.yaml"))) return Path.Combine(pulled, chart);
        var staging = pulled + ".partial";
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        Directory.CreateDirectory(staging);
        var (exitCode, output) = await Tool.RunRawAsync(DeployTools.Helm,
            ["pull", chart, "--repo", repoUrl, "--version", version, "--untar", "--untardir", staging], timeout: TimeSpan.FromMinutes(3));
        if (exitCode != 0)
        {
            Directory.Delete(staging, recursive: true);
            throw new InvalidOperationException(
                $"The chart {chart} {version} (Application source {repoUrl}) is missing: {shared} does not exist and helm pull failed:\n{output}\n" +
                $"Unpack the chart there (see ../shared/upstream-charts/MANIFEST.md), point {DirectoryVariable} at a directory holding {chart}-{version}/, or run where helm can reach {repoUrl}.");
        }
        // A pulled chart carries its dependencies as archives; unpack them as the vendored copies are, so the key
        // check can read their values and templates (helm renders either form).
        while (Directory.GetFiles(staging, "*.tgz", SearchOption.AllDirectories) is [var archive, ..])
        {
            await Tool.RunAsync("tar", ["-xzf", archive, "-C", Path.GetDirectoryName(archive)!]);
            File.Delete(archive);
        }
        Directory.Move(staging, pulled);
        return Path.Combine(pulled, chart);
    }
}
