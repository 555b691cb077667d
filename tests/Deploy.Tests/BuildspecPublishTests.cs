using System.Text.Json.Nodes;

namespace Deploy.Tests;

/// <summary>buildspec.yml's publishing (issue 13, item 8), run against a stand-in ECR with ECR's immutable-tag rules
/// (<see cref="FakeEcr"/>): a tag Image Updater can pick appears only after every image's scan passed, both services'
/// tags appear once a run (or a re-run after a partial push) finishes, and nothing is ever deleted; and the optional
/// SonarQube step runs exactly when its server and token are configured.</summary>
public sealed class BuildspecPublishTests
{
    private const string Registry = "111122223333.dkr.ecr.eu-west-1.amazonaws.com";
    private const string Tag = "prod-0123456";
    private static readonly string[] s_repositories = ["catalog", "assets"];

    [Fact]
    public async Task APromotableTagAppearsOnlyAfterEveryImagesScanCompletedClean()
    {
        var buildspec = await BuildspecFile.LoadAsync();

        using var run = await buildspec.RunAsync(BuildspecTests.PostBuild(buildspec), BuildspecTests.BuildEnvironment(Tag, push: true));

        Assert.True(run.ExitCode == 0, run.Output);
        var calls = run.Calls.ToList();
        var firstPromotion = calls.FindIndex(c => c.StartsWith("aws ecr put-image", StringComparison.Ordinal));
        foreach (var repository in s_repositories)
        {
            var digest = run.Ecr.Digest(repository, "candidate-" + Tag)!;
            Assert.True(calls.FindIndex(c => c == $"docker push {Registry}/{repository}:candidate-{Tag}") < firstPromotion);
            var wait = calls.FindIndex(c => c.StartsWith($"aws ecr wait image-scan-complete --repository-name {repository} --image-id imageDigest={digest}", StringComparison.Ordinal));
            var findings = calls.FindIndex(c => c.StartsWith($"aws ecr describe-image-scan-findings --repository-name {repository} --image-id imageDigest={digest}", StringComparison.Ordinal));
            Assert.InRange(wait, 0, firstPromotion - 1);
            Assert.InRange(findings, wait + 1, firstPromotion - 1);
            Assert.Equal(digest, run.Ecr.Digest(repository, Tag));
            // Nothing ever pushed under the promotable tag: it is added to the scanned image's manifest.
            Assert.DoesNotContain($"docker push {Registry}/{repository}:{Tag}", calls);
        }
        Assert.True(calls.FindIndex(c => c.StartsWith("helm push", StringComparison.Ordinal)) > calls.FindLastIndex(c => c.StartsWith("aws ecr put-image", StringComparison.Ordinal)));
        NeverDeletes(run);
    }

    [Theory]
    [InlineData("""{"CRITICAL": 1, "LOW": 3}""", false)]
    [InlineData("""{"HIGH": 2}""", false)]
    [InlineData("""{"MEDIUM": 4, "LOW": 9, "INFORMATIONAL": 1}""", true)]
    public async Task ABlockingScanFindingLeavesNoPromotableTagAndNoChart(string assetsFindings, bool publishes)
    {
        var buildspec = await BuildspecFile.LoadAsync();

        using var run = await buildspec.RunAsync(BuildspecTests.PostBuild(buildspec), BuildspecTests.BuildEnvironment(Tag, push: true),
            registry: ecr => ecr.FindingsForEveryImage("assets", assetsFindings));

        Assert.True((run.ExitCode == 0) == publishes, run.Output);
        Assert.All(s_repositories, r => Assert.Equal(publishes, run.Ecr.Digest(r, Tag) is not null));
        Assert.Equal(publishes, run.Calls.Any(c => c.StartsWith("helm push", StringComparison.Ordinal)));
        // The candidates stay (the lifecycle expires them), invisible to Image Updater.
        Assert.All(s_repositories, r => Assert.NotNull(run.Ecr.Digest(r, "candidate-" + Tag)));
        NeverDeletes(run);
    }

    /// <summary>No rollback: a tag this run added stays (Image Updater may already have pinned it), the run fails, and a
    /// re-run adds the rest (ReRunningAfterAPartialPushPublishesWhatTheRegistryHolds, "both candidates, catalog tagged").
    /// The stand-in ECR refuses BatchDeleteImage as CI's role does (CiCanNeitherDeleteNorExpireImages).</summary>
    [Fact]
    public async Task WhenOneServicesTagCannotBeAddedTheOtherStaysAndTheBuildAsksForARerun()
    {
        var buildspec = await BuildspecFile.LoadAsync();

        using var run = await buildspec.RunAsync(BuildspecTests.PostBuild(buildspec), BuildspecTests.BuildEnvironment(Tag, push: true),
            registry: ecr => ecr.FailPutImage("assets"));

        Assert.NotEqual(0, run.ExitCode);
        Assert.Equal(run.Ecr.Digest("catalog", "candidate-" + Tag), run.Ecr.Digest("catalog", Tag));
        Assert.Null(run.Ecr.Digest("assets", Tag));
        NeverDeletes(run);
        Assert.DoesNotContain(run.Calls, c => c.StartsWith("helm push", StringComparison.Ordinal));
        Assert.Contains("re-run the build", run.Output, StringComparison.Ordinal);
    }

    /// <summary>Only ImageNotFoundException means "no such tag": an error that says nothing about the tag (here
    /// AccessDenied on describe-images) stops the build before it pushes anything over what may exist.</summary>
    [Fact]
    public async Task AnErrorReadingTheRegistryIsNotTakenForAMissingTag()
    {
        var buildspec = await BuildspecFile.LoadAsync();

        using var run = await buildspec.RunAsync(BuildspecTests.PostBuild(buildspec), BuildspecTests.BuildEnvironment(Tag, push: true),
            registry: ecr => ecr.DenyDescribeImages("assets"));

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("AccessDeniedException", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(run.Calls, c => c.StartsWith($"docker push {Registry}/assets:", StringComparison.Ordinal));
        Assert.DoesNotContain(run.Calls, c => c.StartsWith("aws ecr put-image", StringComparison.Ordinal));
    }

    /// <summary>Every role of the pipeline module (the CodeBuild roles, CodePipeline's, EventBridge's), every statement
    /// of every policy attached to them (static and dynamic), evaluated as IAM matches actions (case-insensitive, * and ? wildcards): nothing lets CI delete an image
    /// or a tag (BatchDeleteImage deletes the image with its last tag: AWS ECR API reference), delete a repository, or
    /// rewrite the lifecycle that keeps pinned charts and keep-* holds, on any repository including charts/service.</summary>
    [Fact]
    public async Task CiCanNeitherDeleteNorExpireImages()
    {
        var pipeline = (await TerraformTree.LoadRepositoryAsync())["modules/pipeline"];
        var attached = pipeline.Resources("aws_iam_role_policy").Select(p => TerraformConsole.Unwrap(p.Text("policy")!)).ToList();
        var documents = pipeline.Data("aws_iam_policy_document").Where(d => attached.Any(a => a.StartsWith($"data.aws_iam_policy_document.{d.Name}", StringComparison.Ordinal))).ToList();
        // The CodeBuild roles' (codebuild_common, push) and the pipeline's and EventBridge's: nothing of CI may.
        Assert.Subset(documents.Select(d => d.Name).ToHashSet(), new HashSet<string> { "codebuild_common", "push" });
        var statements = documents.SelectMany(d => d.NestedAll("statement")
            .Concat(TerraformConfig.Bodies(d.Body["dynamic"]?["statement"]).SelectMany(dynamic => TerraformConfig.Bodies(dynamic["content"])))).ToList();
        Assert.Contains(statements, s => s["actions"]!.AsArray().Any(a => a!.ToString() == "ecr:PutImage"));

        foreach (var action in new[] { "ecr:BatchDeleteImage", "ecr:DeleteRepository", "ecr:PutLifecyclePolicy", "ecr:DeleteLifecyclePolicy", "ecr:SetRepositoryPolicy" })
        {
            var allowing = statements.Where(s => (s["effect"]?.ToString() ?? "Allow") == "Allow"
                && (s["actions"] as JsonArray ?? []).Any(a => IamWildcard(a!.ToString(), action))).ToList();
            Assert.True(allowing.Count == 0, $"CI's role may {action}: {string.Join(", ", allowing.Select(s => s["sid"]))}");
            Assert.All(statements, s => Assert.Null(s["not_actions"]));
        }
    }

    private static bool IamWildcard(string pattern, string action) =>
        System.Text.RegularExpressions.Regex.IsMatch(action, "^" + System.Text.RegularExpressions.Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal) + "$",
            System.Text.RegularExpressions.RegexOptions.IgnoreCase);

    private static void NeverDeletes(BuildspecRun run) =>
        Assert.DoesNotContain(run.Calls, c => c.StartsWith("aws ecr batch-delete-image", StringComparison.Ordinal));

    public static TheoryData<string> PartialPushes() => ["catalog candidate", "both candidates, catalog tagged", "everything"];

    /// <summary>A build re-run after it stopped half-way (a timeout, a lost agent) rebuilds images with other digests
    /// than the ones already pushed; immutable tags cannot take them. The re-run uses what the registry holds.</summary>
    [Theory]
    [MemberData(nameof(PartialPushes))]
    public async Task ReRunningAfterAPartialPushPublishesWhatTheRegistryHolds(string earlier)
    {
        var buildspec = await BuildspecFile.LoadAsync();
        var pushed = new Dictionary<string, string>();

        using var run = await buildspec.RunAsync(BuildspecTests.PostBuild(buildspec), BuildspecTests.BuildEnvironment(Tag, push: true), registry: ecr =>
        {
            pushed["catalog"] = ecr.Add("catalog", "earlier catalog", earlier == "catalog candidate" ? ["candidate-" + Tag] : ["candidate-" + Tag, Tag]);
            if (earlier != "catalog candidate") pushed["assets"] = ecr.Add("assets", "earlier assets", earlier == "everything" ? ["candidate-" + Tag, Tag] : ["candidate-" + Tag]);
            if (earlier == "everything") ecr.Add("charts/service", "earlier chart", "0.1.0-" + Tag);
        });

        Assert.True(run.ExitCode == 0, run.Output);
        var images = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(run.WorkingDirectory, "images.json")))!;
        foreach (var repository in s_repositories)
        {
            var digest = run.Ecr.Digest(repository, Tag);
            Assert.NotNull(digest);
            Assert.Equal($"{Registry}/{repository}@{digest}", images["images"]![repository]!.ToString());
            if (pushed.TryGetValue(repository, out var earlierDigest))
            {
                Assert.Equal(earlierDigest, digest);
                Assert.DoesNotContain(run.Calls, c => c.StartsWith($"docker push {Registry}/{repository}:", StringComparison.Ordinal));
            }
        }
        Assert.Equal(earlier == "everything", !run.Calls.Any(c => c.StartsWith("helm push", StringComparison.Ordinal)));
        Assert.Equal(run.Ecr.Digest("charts/service", "0.1.0-" + Tag), images["chart"]!["digest"]!.ToString());
        NeverDeletes(run);
    }

    [Fact]
    public async Task SonarQubeAnalysesTheBuildWhenConfiguredAndIsSkippedOtherwise()
    {
        var buildspec = await BuildspecFile.LoadAsync();
        var script = buildspec.Command("pre_build", "SONAR_HOST_URL") + "\n" + buildspec.Command("build", "SONAR_HOST_URL");
        var work = Directory.CreateTempSubdirectory("sonar-work-");
        try
        {
            // The scanner the tool install would put there, logging like the other stubs.
            var scanner = Path.Combine(Directory.CreateDirectory(Path.Combine(work.FullName, ".tools", "sonar")).FullName, "dotnet-sonarscanner");
            await File.WriteAllTextAsync(scanner, "#!/bin/bash\necho \"dotnet-sonarscanner $*\" >> \"$CALLS\"\n");
            File.SetUnixFileMode(scanner, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var configured = new Dictionary<string, string> { ["IMAGE_TAG"] = Tag, ["SONAR_HOST_URL"] = "https://sonar.example.com", ["SONAR_TOKEN"] = "squ_test" };

            using var analysed = await buildspec.RunAsync(script, configured, work.FullName);
            using var skipped = await buildspec.RunAsync(script, new Dictionary<string, string> { ["IMAGE_TAG"] = Tag }, work.FullName);

            Assert.True(analysed.ExitCode == 0, analysed.Output);
            Assert.Equal(
                [
                    $"dotnet tool update --tool-path .tools/sonar dotnet-sonarscanner --version {buildspec.Variables["SONAR_SCANNER_VERSION"]}",
                    $"dotnet-sonarscanner begin /k:studio-services /v:{Tag} /d:sonar.host.url=https://sonar.example.com /d:sonar.token=squ_test /d:sonar.cs.vstest.reportsPaths=TestResults/*.trx",
                    "dotnet-sonarscanner end /d:sonar.token=squ_test",
                ], analysed.Calls);
            Assert.True(skipped.ExitCode == 0, skipped.Output);
            Assert.Empty(skipped.Calls);
            Assert.Contains("Static analysis skipped: SonarQube is not configured", skipped.Output, StringComparison.Ordinal);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    /// <summary>The pipeline hands the step its server and token (the token from Secrets Manager, never in plain
    /// text), under the names the buildspec reads, only when var.sonarqube is set.</summary>
    [Fact]
    public async Task ThePipelinePassesTheSonarQubeServerAndASecretToken()
    {
        var pipeline = (await TerraformTree.LoadRepositoryAsync())["modules/pipeline"];
        var variables = TerraformConsole.Unwrap(pipeline.Locals["sonarqube_variables"]!.ToString());

        Assert.Contains("var.sonarqube == null ? {} :", variables, StringComparison.Ordinal);
        Assert.Matches(@"SONAR_TOKEN\s*=\s*\{\s*type\s*=\s*""SECRETS_MANAGER""", variables);
        Assert.Matches(@"SONAR_HOST_URL\s*=\s*\{\s*type\s*=\s*""PLAINTEXT""", variables);
        Assert.Null(pipeline.Variables["sonarqube"]["default"]);
    }
}
