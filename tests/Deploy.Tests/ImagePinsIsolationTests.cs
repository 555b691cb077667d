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

        // No project lets an Application source the pins; the services' ApplicationSet's generator alone reads them.
        Assert.All(projects.Values, p => Assert.DoesNotContain(GitOpsRepository.PinsRepoUrl, p.Arr("spec.sourceRepos").Select(r => r!.ToString())));
        Assert.DoesNotContain("*", projects["platform"].Arr("spec.sourceRepos").Select(r => r!.ToString()));
        Assert.Empty(projects["studio"].Arr("spec.clusterResourceWhitelist"));
        Assert.Equal([ChartRendering.Namespace], projects["studio"].Arr("spec.destinations").Select(d => d!.Str("namespace")));
        Assert.All(await GitOpsRepository.PlatformApplicationsAsync(environment), a =>
            Assert.DoesNotContain(GitOpsRepository.Sources(a), s => s.Str("repoURL") == GitOpsRepository.PinsRepoUrl));
        foreach (var set in objects.Where(o => o.Str("kind") == "ApplicationSet"))
        {
            var sources = (set.Node("spec.template.spec.sources") as JsonArray)?.Select(s => s!.AsObject()) ?? [set.Obj("spec.template.spec.source")];
            Assert.DoesNotContain(sources, s => s.Str("repoURL") == GitOpsRepository.PinsRepoUrl);
            var readsPins = set.Arr("spec.generators").ToJsonString().Contains(GitOpsRepository.PinsRepoUrl, StringComparison.Ordinal);
            Assert.Equal(set.Str("metadata.name") == "services", readsPins);
            if (readsPins) Assert.Equal("studio", set.Str("spec.template.spec.project"));
        }
    }

    /// <summary>Issue 13.6: a pin contributes its image tag and nothing else. A pin that also sets chart values
    /// (analysis off, an environment variable, an egress rule, another repository), or keys named like the other
    /// generators' parameters, generates the same Application, byte for byte; another tag changes the image.tag
    /// parameter alone; a pin without a tag generates no Application (missingkey=error). The generation is the
    /// ApplicationSet controller's (<see cref="ApplicationSetRendering"/>), the chart render Argo CD's (values files,
    /// then the parameter).</summary>
    [Theory]
    [MemberData(nameof(ChartRendering.Deployments), MemberType = typeof(ChartRendering))]
    public async Task APinContributesItsImageTagAndNothingElse(string service, string environment)
    {
        var pinFile = Path.Combine(GitOpsRepository.PinsRoot, environment, service + ".yaml");
        var pinText = await File.ReadAllTextAsync(pinFile);
        var pin = (await ChartRendering.YamlToJsonAsync(pinText))[0]!.AsObject();
        var application = await ApplicationSetRendering.GenerateAsync(environment, service, pinText);
        Assert.NotNull(application);

        var chart = application.Arr("spec.sources").Select(s => s!.AsObject()).Single(s => s.Str("chart") is not null);
        var parameter = Assert.Single(chart.Arr("helm.parameters"))!;
        Assert.Equal(("image.tag", pin.Str("image.tag"), "true"), (parameter.Str("name"), parameter.Str("value"), parameter.Str("forceString")));
        Assert.DoesNotContain(chart.Arr("helm.valueFiles"), f => !f!.ToString().StartsWith("$values/", StringComparison.Ordinal));

        var hostile = pin.DeepClone().AsObject();
        hostile.Obj("image")["repository"] = "attacker.example/catalog";
        hostile.Obj("image")["pullPolicy"] = "Always";
        hostile["analysis"] = new JsonObject { ["enabled"] = false };
        hostile["env"] = new JsonObject { ["Auth__Authority"] = "https://attacker.example" };
        hostile["networkPolicy"] = new JsonObject { ["extraEgress"] = new JsonArray(new JsonObject { ["to"] = new JsonArray(new JsonObject { ["ipBlock"] = new JsonObject { ["cidr"] = "0.0.0.0/0" } }) }) };
        hostile["service"] = service == "catalog" ? "assets" : "catalog";
        hostile["chartVersion"] = "0.0.1-attacker";
        hostile["server"] = "https://attacker.example";
        hostile["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["environment"] = "prod" } };
        hostile["values"] = new JsonObject { ["image"] = "x" };
        var fromHostile = await ApplicationSetRendering.GenerateAsync(environment, service, hostile.ToJsonString());
        Assert.True(JsonNode.DeepEquals(application, fromHostile), $"a pin with more than a tag changes the Application:\n{fromHostile?.ToJsonString()}");

        var retagged = pin.DeepClone().AsObject();
        retagged.Obj("image")["tag"] = "prod-abcdef1";
        var fromRetagged = (await ApplicationSetRendering.GenerateAsync(environment, service, retagged.ToJsonString()))!;
        fromRetagged.Arr("spec.sources").Select(s => s!.AsObject()).Single(s => s.Str("chart") is not null).Arr("helm.parameters")[0]!.AsObject()["value"] = pin.Str("image.tag");
        Assert.True(JsonNode.DeepEquals(application, fromRetagged));

        Assert.Null(await ApplicationSetRendering.GenerateAsync(environment, service, "image:\n  repository: attacker.example/catalog\nanalysis:\n  enabled: false\n"));

        // Argo CD's render of that Application: the values files, then --set image.tag; the image is the
        // environment's repository at the pin's tag.
        var rendered = await ChartRendering.RenderAsync(service, environment);
        var repository = (await ChartRendering.YamlToJsonAsync(await File.ReadAllTextAsync(ChartRendering.ArgoValueFiles(service, environment)[1])))[0]!.Str("image.repository");
        Assert.Equal($"{repository}:{pin.Str("image.tag")}", rendered.Get("Rollout").Arr("spec.template.spec.containers")[0]!.Str("image"));
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
