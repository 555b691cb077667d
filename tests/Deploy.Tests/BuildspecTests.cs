using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TestKit;

namespace Deploy.Tests;

/// <summary>buildspec.yml, parsed and partly executed: the tag scheme, what is built and published, what pull
/// requests may do, and that CodeBuild's reports and cache point at what ./test.sh and the SDK write.</summary>
public sealed partial class BuildspecTests
{
    private const string Commit = "0123456789abcdef0123456789abcdef01234567";
    private const string Registry = "111122223333.dkr.ecr.eu-west-1.amazonaws.com";

    [Fact]
    public async Task EveryPhaseAbortsTheBuildOnFailure()
    {
        var buildspec = await BuildspecFile.LoadAsync();

        Assert.Equal("0.2", buildspec.Json["version"]?.ToString());
        Assert.Equal(["install", "pre_build", "build", "post_build"], buildspec.PhaseNames);
        Assert.All(buildspec.PhaseNames, phase => Assert.Equal("ABORT", buildspec.Phase(phase)["on-failure"]?.ToString()));
        Assert.Equal("bash", buildspec.Json["env"]?["shell"]?.ToString());
    }

    [Fact]
    public async Task EveryCommandIsAStringBashCanParse()
    {
        var buildspec = await BuildspecFile.LoadAsync();

        Assert.Empty(await buildspec.CommandViolationsAsync());
    }

    [Fact]
    public async Task AnUnquotedColonInACommandIsCaught()
    {
        var broken = await BuildspecFile.ParseTextAsync("""
            version: 0.2
            phases:
              build:
                commands:
                  - echo "Build failed: nothing is published"
                  - if [ -n "$X" ] then; fi
            """);

        var violations = await broken.CommandViolationsAsync();

        Assert.Contains(violations, v => v.Contains("is not a string", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Contains("bash cannot parse", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("develop")]
    [InlineData("staging")]
    [InlineData("prod")]
    public async Task PipelineBuildsAreTaggedWithTheBranchAndTheShortSha(string branch)
    {
        var run = await RunTagAsync(new() { ["BRANCH"] = branch, ["COMMIT_ID"] = Commit, ["PUSH"] = "true" });

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal($"{branch}-0123456", ImageTag(run));
        Assert.Matches(PipelineTag(), ImageTag(run));
    }

    [Fact]
    public async Task PullRequestBuildsTagTheirSourceBranchWithoutPushing()
    {
        // What the EventBridge target passes: the PR's source reference and commit, PUSH=false.
        var run = await RunTagAsync(new() { ["BRANCH"] = "refs/heads/feature/Login_Fix", ["COMMIT_ID"] = Commit, ["PUSH"] = "false" });

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal("feature-login-fix-0123456", ImageTag(run));
    }

    [Fact]
    public async Task WebhookBuildsTakeTheBranchFromTheHeadRef()
    {
        var run = await RunTagAsync(new()
        {
            ["CODEBUILD_WEBHOOK_HEAD_REF"] = "refs/heads/develop",
            ["CODEBUILD_RESOLVED_SOURCE_VERSION"] = Commit,
            ["PUSH"] = "false",
        });

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal("develop-0123456", ImageTag(run));
    }

    [Fact]
    public async Task WithoutPipelineVariablesTheTagComesFromGit()
    {
        var git = Tool.Find("git", "Install git (apt-get install git).");
        var repo = Directory.CreateTempSubdirectory("buildspec-git-");
        try
        {
            var env = new Dictionary<string, string> { ["GIT_AUTHOR_NAME"] = "t", ["GIT_AUTHOR_EMAIL"] = "t@example.com", ["GIT_COMMITTER_NAME"] = "t", ["GIT_COMMITTER_EMAIL"] = "t@example.com" };
            await Tool.RunAsync(git, ["init", "--quiet", "--initial-branch=staging"], repo.FullName, env);
            await Tool.RunAsync(git, ["commit", "--quiet", "--allow-empty", "-m", "first"], repo.FullName, env);
            var sha = (await Tool.RunAsync(git, ["rev-parse", "HEAD"], repo.FullName)).Trim();

            var run = await RunTagAsync(new() { ["PUSH"] = "false" }, repo.FullName);

            Assert.True(run.ExitCode == 0, run.Output);
            Assert.Equal($"staging-{sha[..7]}", ImageTag(run));
        }
        finally
        {
            repo.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task OnlyTheBranchPipelinesMayPublish()
    {
        var run = await RunTagAsync(new() { ["BRANCH"] = "feature/x", ["COMMIT_ID"] = Commit, ["PUSH"] = "true" });

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("Refusing to publish", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EachServiceImageIsBuiltWithItsProjectAndOciLabels()
    {
        var buildspec = await BuildspecFile.LoadAsync();
        var env = BuildEnvironment("develop-0123456", push: true);

        using var run = await buildspec.RunAsync(buildspec.Command("build", "docker build"), env);

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal(buildspec.Services.Count, run.Calls.Length);
        foreach (var (repository, project) in buildspec.Services)
        {
            var call = Assert.Single(run.Calls, c => c.Contains($"SERVICE={project} ", StringComparison.Ordinal));
            Assert.Contains("SOURCE=https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/studio-services ", call, StringComparison.Ordinal);
            Assert.Contains($"REVISION={Commit} ", call, StringComparison.Ordinal);
            Assert.Contains("VERSION=develop-0123456 ", call, StringComparison.Ordinal);
            Assert.Contains($"--tag {Registry}/{repository}:develop-0123456 ", call, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task EveryServiceProjectIsOneTheDockerfileBuilds()
    {
        var buildspec = await BuildspecFile.LoadAsync();
        var dockerfile = await File.ReadAllTextAsync(Repo.PathOf("Dockerfile"));

        Assert.Equal(["catalog", "assets"], buildspec.Services.Select(s => s.Repository));
        Assert.All(buildspec.Services, s => Assert.Contains($"COPY src/{s.Project}/{s.Project}.csproj", dockerfile, StringComparison.Ordinal));
    }

    [Fact]
    public async Task PublishingPushesEveryImageAndTheChartAndRecordsTheirDigests()
    {
        var buildspec = await BuildspecFile.LoadAsync();
        var env = BuildEnvironment("prod-0123456", push: true);

        using var run = await buildspec.RunAsync(PostBuild(buildspec), env);

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Contains($"docker push {Registry}/catalog:candidate-prod-0123456", run.Calls);
        Assert.Contains($"docker push {Registry}/assets:candidate-prod-0123456", run.Calls);
        Assert.Contains($"helm push dist/service-0.1.0-prod-0123456.tgz oci://{Registry}/charts", run.Calls);

        var images = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(run.WorkingDirectory, "images.json")))!;
        Assert.Equal("prod-0123456", images["tag"]?.ToString());
        Assert.Equal(Commit, images["commit"]?.ToString());
        foreach (var repository in new[] { "catalog", "assets" })
        {
            Assert.Equal(run.Ecr.Digest(repository, "candidate-prod-0123456"), run.Ecr.Digest(repository, "prod-0123456"));
            Assert.Equal($"{Registry}/{repository}@{run.Ecr.Digest(repository, "prod-0123456")}", images["images"]?[repository]?.ToString());
        }
        Assert.Equal($"oci://{Registry}/charts/service", images["chart"]?["reference"]?.ToString());
        Assert.Equal(run.Ecr.Digest("charts/service", "0.1.0-prod-0123456"), images["chart"]?["digest"]?.ToString());
        Assert.Equal(["images.json"], buildspec.Json["artifacts"]?["files"]?.AsArray().Select(f => f!.ToString()));
    }

    [Fact]
    public async Task PullRequestBuildsPublishNothing()
    {
        var buildspec = await BuildspecFile.LoadAsync();

        using var run = await buildspec.RunAsync(PostBuild(buildspec), BuildEnvironment("feature-x-0123456", push: false));

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Empty(run.Calls);
        Assert.False(File.Exists(Path.Combine(run.WorkingDirectory, "images.json")));
    }

    [Fact]
    public async Task AFailedBuildPublishesNothing()
    {
        var buildspec = await BuildspecFile.LoadAsync();
        var env = BuildEnvironment("develop-0123456", push: true);
        env["CODEBUILD_BUILD_SUCCEEDING"] = "0";

        using var run = await buildspec.RunAsync(PostBuild(buildspec), env);

        Assert.NotEqual(0, run.ExitCode);
        Assert.Empty(run.Calls);
    }

    [Fact]
    public async Task TheTestReportReadsTheJUnitFilesTestShWrites()
    {
        var buildspec = await BuildspecFile.LoadAsync();
        var testSh = await File.ReadAllTextAsync(Repo.PathOf("test.sh"));
        var resultsDirectory = ResultsDirectory().Match(testSh);
        var junit = JunitLogFile().Match(testSh);
        Assert.True(resultsDirectory.Success && junit.Success, "test.sh no longer passes --results-directory and a junit LogFilePath");

        var report = Assert.Single(buildspec.Json["reports"]!.AsObject()).Value!;
        Assert.Equal("JUNITXML", report["file-format"]?.ToString());
        Assert.Equal(resultsDirectory.Groups[1].Value, report["base-directory"]?.ToString());
        Assert.Equal(junit.Groups[1].Value, report["base-directory"]?.ToString());
        Assert.Equal(["*.junit.xml"], report["files"]?.AsArray().Select(f => f!.ToString()));
        Assert.Contains("./test.sh", buildspec.Phase("build")["commands"]!.AsArray().Select(c => c!.ToString()));
    }

    [Fact]
    public async Task TheSdkComesFromGlobalJsonAndNuGetPackagesAreCached()
    {
        var buildspec = await BuildspecFile.LoadAsync();

        Assert.Contains(buildspec.Phase("install")["commands"]!.AsArray(), c => c!.ToString().Contains("--jsonfile global.json", StringComparison.Ordinal));
        Assert.Contains("/root/.nuget/packages/**/*", buildspec.Json["cache"]?["paths"]?.AsArray().Select(p => p!.ToString()) ?? []);
    }

    [Fact]
    public async Task ThePublishingBranchesAreTheBranchesThatHaveAPipeline()
    {
        var buildspec = await BuildspecFile.LoadAsync();
        var tree = await TerraformTree.LoadRepositoryAsync();
        var branches = tree["modules/pipeline"].Variables["branches"]["default"]!.AsObject().Select(b => b.Key);

        Assert.Equal(branches.Order(), buildspec.Variables["PUSH_BRANCHES"].Split(' ').Order());
    }

    private static async Task<BuildspecRun> RunTagAsync(Dictionary<string, string> env, string? workingDirectory = null)
    {
        var buildspec = await BuildspecFile.LoadAsync();
        var script = buildspec.Command("pre_build", "IMAGE_TAG=") + "\necho \"IMAGE_TAG=$IMAGE_TAG\"";
        var run = await buildspec.RunAsync(script, env, workingDirectory);
        run.Dispose();
        return run;
    }

    private static string ImageTag(BuildspecRun run) =>
        run.Output.Split('\n').Last(l => l.StartsWith("IMAGE_TAG=", StringComparison.Ordinal))["IMAGE_TAG=".Length..].Trim();

    internal static string PostBuild(BuildspecFile buildspec) =>
        string.Join("\n", buildspec.Phase("post_build")["commands"]!.AsArray().Select(c => c!.ToString()));

    internal static Dictionary<string, string> BuildEnvironment(string tag, bool push) => new()
    {
        ["PUSH"] = push ? "true" : "false",
        ["IMAGE_TAG"] = tag,
        ["COMMIT"] = Commit,
        ["CHART_VERSION"] = "0.1.0-" + tag,
        ["ECR_REGISTRY"] = Registry,
        ["SOURCE_URL"] = "https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/studio-services",
        ["CODEBUILD_BUILD_SUCCEEDING"] = "1",
    };

    [GeneratedRegex(@"^(develop|staging|prod)-[0-9a-f]{7}$")]
    private static partial Regex PipelineTag();

    [GeneratedRegex(@"--results-directory\s+(\S+)")]
    private static partial Regex ResultsDirectory();

    [GeneratedRegex(@"LogFilePath=\$PWD/([^/\s""]+)/\{assembly\}\.junit\.xml")]
    private static partial Regex JunitLogFile();
}
