using System.Text.Json.Nodes;

namespace Deploy.Tests;

/// <summary>Image Updater's write-back key changes image pins only (issue 13, item 6). CodeCommit's IAM cannot scope a
/// push by path, and the GitOps repository feeds the platform project, which may create cluster-scoped objects: so the
/// pins live in their own repository, the key may push only there (one branch), and only the services' Applications
/// read it, as a values file of the chart in namespace studio.</summary>
public sealed class ImagePinsIsolationTests
{
    private const string Account = "111122223333";
    private static readonly string s_pinsArn = $"arn:aws:codecommit:eu-west-1:{Account}:studio-image-pins";
    private static readonly string s_gitOpsArn = $"arn:aws:codecommit:eu-west-1:{Account}:studio-gitops";
    private static readonly string s_appArn = $"arn:aws:codecommit:eu-west-1:{Account}:studio-services";

    /// <summary>The writer's and reader's policies evaluated as IAM does (an explicit Deny wins, otherwise an Allow
    /// must match; CodeCommit's documented branch restriction: a GitPush carries codecommit:References, the refs it
    /// updates, and the Null check leaves other requests alone), over the pushes and pulls the keys could attempt.</summary>
    [Fact]
    public async Task TheWriterKeyCanPushOnlyThePinsBranchAndReadNothingElse()
    {
        var shared = (await TerraformTree.LoadRepositoryAsync())["shared"];
        var writer = Statements(shared, "gitops_writer");
        var reader = Statements(shared, "gitops_reader");

        Assert.True(Allows(writer, "codecommit:GitPush", s_pinsArn, "refs/heads/main"));
        Assert.True(Allows(writer, "codecommit:GitPull", s_pinsArn));
        Assert.False(Allows(writer, "codecommit:GitPush", s_pinsArn, "refs/heads/other"), "the writer may push another branch of the pins");
        Assert.False(Allows(writer, "codecommit:GitPush", s_pinsArn, "refs/heads/main", "refs/tags/v1"), "a push that also moves another ref goes through");
        foreach (var repository in new[] { s_gitOpsArn, s_appArn })
        {
            Assert.False(Allows(writer, "codecommit:GitPush", repository, "refs/heads/main"), $"the writer may push to {repository}");
            Assert.False(Allows(writer, "codecommit:GitPull", repository), $"the writer may read {repository}");
        }

        Assert.True(Allows(reader, "codecommit:GitPull", s_gitOpsArn));
        Assert.True(Allows(reader, "codecommit:GitPull", s_pinsArn));
        Assert.False(Allows(reader, "codecommit:GitPush", s_gitOpsArn, "refs/heads/main"));
        Assert.False(Allows(reader, "codecommit:GitPush", s_pinsArn, "refs/heads/main"));
    }

    [Theory]
    [MemberData(nameof(GitOpsRepository.EnvironmentData), MemberType = typeof(GitOpsRepository))]
    public async Task NothingInThePinsRepositoryReachesThePlatformOrAnythingClusterWide(string environment)
    {
        var objects = await GitOpsRepository.ArgoCdObjectsAsync();
        var projects = objects.Where(o => o.Str("kind") == "AppProject").ToDictionary(p => p.Str("metadata.name")!);
        var readers = projects.Where(p => p.Value.Arr("spec.sourceRepos").Any(r => r!.ToString() == GitOpsRepository.PinsRepoUrl)).Select(p => p.Key).ToList();

        // Only the studio project may read the pins: namespace studio, nothing cluster-scoped, no quota or limits.
        Assert.Equal(["studio"], readers);
        Assert.Empty(projects["studio"].Arr("spec.clusterResourceWhitelist"));
        Assert.Equal([ChartRendering.Namespace], projects["studio"].Arr("spec.destinations").Select(d => d!.Str("namespace")));
        Assert.DoesNotContain("*", projects["platform"].Arr("spec.sourceRepos").Select(r => r!.ToString()));

        // No platform Application, and no ApplicationSet but the services', has a pins source.
        Assert.All(await GitOpsRepository.PlatformApplicationsAsync(environment), a =>
            Assert.DoesNotContain(GitOpsRepository.Sources(a), s => s.Str("repoURL") == GitOpsRepository.PinsRepoUrl));
        foreach (var set in objects.Where(o => o.Str("kind") == "ApplicationSet"))
        {
            var sources = (set.Node("spec.template.spec.sources") as JsonArray)?.Select(s => s!.AsObject()) ?? [set.Obj("spec.template.spec.source")];
            var pins = sources.Where(s => s.Str("repoURL") == GitOpsRepository.PinsRepoUrl).ToList();
            if (set.Str("metadata.name") != "services")
            {
                Assert.Empty(pins);
                continue;
            }
            // In the services' Applications the pins are values only: a ref, no path (no manifests), no chart.
            var pinSource = Assert.Single(pins);
            Assert.Equal(["ref", "repoURL", "targetRevision"], pinSource.Select(p => p.Key).Order(StringComparer.Ordinal));
            Assert.Equal("studio", set.Str("spec.template.spec.project"));
            Assert.Equal("pins", pinSource.Str("ref"));
        }
    }

    /// <summary>A pin can only decide what the files after it leave open: Argo CD passes it first, the service's and the
    /// environment's values files override it. The pins hold exactly the keys Image Updater writes; the repository it
    /// writes is overridden by the environment's, and nothing after the pin sets the tag.</summary>
    [Theory]
    [MemberData(nameof(ChartRendering.Deployments), MemberType = typeof(ChartRendering))]
    public async Task APinDecidesTheImageTagAndNothingElse(string service, string environment)
    {
        var files = ChartRendering.ValuesFiles(service, environment);
        Assert.Equal(Path.Combine(GitOpsRepository.PinsRoot, environment, service + ".yaml"), files[0]);
        var pin = (await ChartRendering.YamlToJsonAsync(await File.ReadAllTextAsync(files[0])))[0]!.AsObject();
        var later = new List<JsonObject>();
        foreach (var file in files[1..]) later.Add((await ChartRendering.YamlToJsonAsync(await File.ReadAllTextAsync(file)))[0]!.AsObject());

        Assert.Equal(["image"], pin.Select(p => p.Key));
        Assert.Equal(["repository", "tag"], pin.Obj("image").Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Contains(later, v => v.Str("image.repository") == pin.Str("image.repository"));
        Assert.All(later, v => Assert.Null(v.Node("image.tag")));
        var rendered = await ChartRendering.RenderAsync(service, environment);
        Assert.Equal($"{pin.Str("image.repository")}:{pin.Str("image.tag")}", rendered.Get("Rollout").Arr("spec.template.spec.containers")[0]!.Str("image"));
    }

    private sealed record Statement(bool Allow, IReadOnlyList<string> Actions, IReadOnlyList<string> Resources, IReadOnlyList<(string Test, string Variable, IReadOnlyList<string> Values)> Conditions);

    /// <summary>The statements of a policy document of the shared root, with the repositories' ARNs and default branch
    /// put in for the Terraform references (the three CodeCommit repositories of shared/main.tf).</summary>
    private static List<Statement> Statements(TerraformConfig shared, string document)
    {
        var repositories = shared.Resources("aws_codecommit_repository").Select(r => r.Name).ToHashSet();
        Assert.Equal(["app", "gitops", "image_pins"], repositories.Order(StringComparer.Ordinal));
        string Resolve(string text) => text
            .Replace("${aws_codecommit_repository.image_pins.arn}", s_pinsArn, StringComparison.Ordinal)
            .Replace("${aws_codecommit_repository.gitops.arn}", s_gitOpsArn, StringComparison.Ordinal)
            .Replace("${aws_codecommit_repository.app.arn}", s_appArn, StringComparison.Ordinal)
            .Replace("${aws_codecommit_repository.image_pins.default_branch}", shared.Resources("aws_codecommit_repository").Single(r => r.Name == "image_pins").Text("default_branch"), StringComparison.Ordinal);
        var policy = shared.Data("aws_iam_policy_document").Single(d => d.Name == document);
        return [.. policy.NestedAll("statement").Select(s => new Statement(
            (s["effect"]?.ToString() ?? "Allow") == "Allow",
            [.. s["actions"]!.AsArray().Select(a => a!.ToString())],
            [.. s["resources"]!.AsArray().Select(r => Resolve(r!.ToString()))],
            [.. TerraformConfig.Bodies(s["condition"]).Select(c => (c["test"]!.ToString(), c["variable"]!.ToString(),
                (IReadOnlyList<string>)[.. c["values"]!.AsArray().Select(v => Resolve(v!.ToString()))]))]))];
    }

    private static bool Allows(List<Statement> statements, string action, string resource, params string[] references)
    {
        var matching = statements.Where(s => s.Actions.Any(a => Wildcard(a, action)) && s.Resources.Any(r => Wildcard(r, resource))
            && s.Conditions.All(c => Holds(c, references))).ToList();
        Assert.All(statements.SelectMany(s => s.Resources), r => Assert.DoesNotContain("${", r, StringComparison.Ordinal));
        return !matching.Any(s => !s.Allow) && matching.Any(s => s.Allow);
    }

    /// <summary>IAM condition operators the policies use, for the multi-valued key codecommit:References: the
    /// ...IfExists form is true when the key is absent, and a negated operator is true when any value fails it.</summary>
    private static bool Holds((string Test, string Variable, IReadOnlyList<string> Values) condition, string[] references)
    {
        Assert.Equal("codecommit:References", condition.Variable);
        var present = references.Length > 0;
        return condition.Test switch
        {
            "Null" => present == (condition.Values.Single() == "false"),
            "StringNotEqualsIfExists" => !present || references.Any(r => !condition.Values.Contains(r)),
            var other => throw new NotSupportedException($"condition operator {other} is not evaluated here"),
        };
    }

    private static bool Wildcard(string pattern, string value) =>
        System.Text.RegularExpressions.Regex.IsMatch(value, "^" + System.Text.RegularExpressions.Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal) + "$");
}
