using System.Text.Json.Nodes;
using TestKit;

namespace Deploy.Tests;

/// <summary>A measurement as Argo Rollouts judges it: the query's instant-vector values and the metric's conditions.</summary>
public sealed record Measurement(IReadOnlyList<string> Values, string? SuccessCondition, string? FailureCondition);

/// <summary>Argo Rollouts' verdict on measurements, from the expression engine the controller embeds
/// (github.com/antonmedv/expr), compiled here from analysis/evaluate.go against Debian's golang-github-antonmedv-expr-dev
/// (v1.8.9; Argo Rollouts v1.8 pins v1.15.5 of the same library, and the chart's conditions use nothing newer:
/// len, indexing, comparison, &amp;&amp;). A missing Go toolchain or library fails the test with what to install.</summary>
public static class AnalysisJudge
{
    private const string GoPath = "/usr/share/gocode";
    private const string InstallHint = "Install Debian's golang-go and golang-github-antonmedv-expr-dev (apt-get install golang-go golang-github-antonmedv-expr-dev). Run ./test.sh, which installs them (tools/deps.sh).";

    private static readonly Lazy<Task<string>> s_binary = new(BuildAsync);

    public static async Task<IReadOnlyList<(string Phase, string? Error)>> JudgeAsync(IReadOnlyList<Measurement> measurements)
    {
        var input = new JsonArray([.. measurements.Select(m => (JsonNode)new JsonObject
        {
            ["values"] = new JsonArray([.. m.Values.Select(v => (JsonNode)v)]),
            ["successCondition"] = m.SuccessCondition ?? "",
            ["failureCondition"] = m.FailureCondition ?? "",
        })]);
        var output = await Tool.RunAsync(await s_binary.Value, [], stdin: input.ToJsonString());
        var verdicts = JsonNode.Parse(output)!.AsArray();
        Assert.Equal(measurements.Count, verdicts.Count);
        return [.. verdicts.Select(v => (v!.Str("phase")!, v!.Str("error")))];
    }

    public static async Task<string> JudgeAsync(Measurement measurement)
    {
        var (phase, error) = (await JudgeAsync([measurement]))[0];
        return error is null ? phase : $"{phase}: {error}";
    }

    private static async Task<string> BuildAsync()
    {
        var go = Tool.Find("go", InstallHint);
        if (!Directory.Exists(Path.Combine(GoPath, "src", "github.com", "antonmedv", "expr")))
            throw new InvalidOperationException($"{GoPath}/src/github.com/antonmedv/expr is missing. {InstallHint}");
        var output = Repo.PathOf(".tools", "analysis-judge");
        Directory.CreateDirectory(output);
        var binary = Path.Combine(output, "evaluate");
        // GOPATH mode, offline: the library comes from the Debian package, nothing is downloaded.
        await Tool.RunAsync(go, ["build", "-o", binary, Repo.PathOf("tests", "Deploy.Tests", "analysis", "evaluate.go")],
            environment: new Dictionary<string, string>
            {
                ["GO111MODULE"] = "off",
                ["GOPATH"] = GoPath,
                ["GOFLAGS"] = "",
                ["GOPROXY"] = "off",
                ["GOCACHE"] = Path.Combine(output, "cache"),
            },
            timeout: TimeSpan.FromMinutes(3));
        return binary;
    }
}
