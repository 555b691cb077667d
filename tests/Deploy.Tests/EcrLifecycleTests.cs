using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TestKit;

namespace Deploy.Tests;

/// <summary>The ECR lifecycle never deletes what an environment runs (issue 13, item 7). The policies are the ones
/// Terraform computes (deploy/terraform/modules/ecr-repository/lifecycle.tf evaluated by terraform console with the
/// inputs shared/main.tf passes); ECR's evaluation is played over a year of builds as AWS documents it ("Lifecycle
/// policy evaluation rules": rules by priority, an image whose tags a rule selects can never be expired by a later
/// rule, imageCountMoreThan keeps the newest N by push time, sinceImagePushed expires older than N days). The pins are
/// taken in the formats of the files that hold them: argocd/releases/&lt;env&gt;.yaml (chart versions, pinned by reviewed
/// commit), the image pins, and a rollback hold tagged keep-&lt;tag&gt; as the runbook does.</summary>
public sealed partial class EcrLifecycleTests
{
    private static readonly DateTimeOffset s_start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task NoPinnedChartOrImageEverExpiresWhileUnpinnedBuildsAndFailedScansDo()
    {
        var policies = await PoliciesAsync();
        Assert.Equal(["assets", "catalog", "charts/service"], policies.Keys.Order(StringComparer.Ordinal));
        var (images, charts, pins) = await HistoryAsync();
        var now = images.Max(i => i.Pushed).AddDays(1);

        var expiredCharts = Expired(policies["charts/service"], charts, now);
        foreach (var (environment, chartVersion, _) in pins)
            Assert.DoesNotContain(expiredCharts, c => c.Tags.Contains(chartVersion));
        foreach (var repository in new[] { "catalog", "assets" })
        {
            var expired = Expired(policies[repository], images, now);
            foreach (var (environment, _, tag) in pins)
                Assert.False(expired.Any(i => i.Tags.Contains(tag)), $"{repository}: {environment} runs {tag}, which the lifecycle expires");
            // The policy does clean up: old unpinned builds and builds whose scan never passed.
            Assert.Contains(expired, i => i.Tags.Contains(Build("develop", 1)));
            Assert.Contains(expired, i => i.Tags.All(t => t.StartsWith("candidate-", StringComparison.Ordinal)));
            Assert.DoesNotContain(expired, i => i.Tags.Contains(Build("develop", 400)));
        }
    }

    /// <summary>The hold's keep- tag is the one the protected rule selects, and a promotable tag is never mistaken for
    /// one the lifecycle deletes early.</summary>
    [Fact]
    public async Task TheRunbooksKeepTagIsProtectedAndCandidatesAreTheOnlyTagsExpiredByAge()
    {
        var policy = (await PoliciesAsync())["catalog"];
        var rules = Rules(policy);
        var runbook = await File.ReadAllTextAsync(Repo.PathOf("deploy", "runbooks", "release-rollback.md"));
        var keepTag = KeepTag().Match(runbook).Groups[1].Value;

        var first = rules[0];
        Assert.Equal("keep-prod-1a2b3c4", keepTag);
        Assert.True(Matches(first.Obj("selection"), [keepTag]), $"{keepTag} is not selected by the first rule");
        Assert.Equal("imageCountMoreThan", first.Str("selection.countType"));
        Assert.All(rules.Where(r => r.Str("selection.countType") == "sinceImagePushed" && r.Str("selection.tagStatus") == "tagged"),
            r => Assert.Equal(["candidate-*"], r.Arr("selection.tagPatternList").Select(p => p!.ToString())));
        var candidates = rules.Single(r => (r.Node("selection.tagPatternList") as JsonArray)?.Any(p => p!.ToString() == "candidate-*") == true);
        Assert.False(Matches(candidates.Obj("selection"), ["prod-1a2b3c4"]));
    }

    private sealed record Image(string Digest, HashSet<string> Tags, DateTimeOffset Pushed);

    /// <summary>A year of builds: develop 400, staging and prod 150, every tenth failing its scan (it keeps only its
    /// candidate- tag); each build publishes a chart version too. dev and staging run their branch's newest build,
    /// prod is held at its tenth (with the runbook's keep- tag), and every environment's chart is still its first build.</summary>
    private static async Task<(List<Image> Images, List<Image> Charts, List<(string Environment, string ChartVersion, string ImageTag)> Pins)> HistoryAsync()
    {
        var builds = new Dictionary<string, int> { ["develop"] = 400, ["staging"] = 150, ["prod"] = 150 };
        var images = new List<Image>();
        var charts = new List<Image>();
        foreach (var (branch, count) in builds)
        {
            for (var n = 1; n <= count; n++)
            {
                var pushed = s_start.AddHours(n * 365.0 * 24 / count);
                var tag = Build(branch, n);
                var tags = new HashSet<string> { "candidate-" + tag };
                if (n % 10 != 7) tags.Add(tag);
                images.Add(new Image($"sha256:{branch}{n}", tags, pushed));
                charts.Add(new Image($"sha256:chart-{branch}{n}", [$"{ChartVersion()}-{tag}"], pushed));
            }
        }
        images.Single(i => i.Tags.Contains(Build("prod", 10))).Tags.Add("keep-" + Build("prod", 10));

        var pins = new List<(string, string, string)>();
        foreach (var environment in GitOpsRepository.Environments)
        {
            var branch = environment == "dev" ? "develop" : environment;
            // The files' own formats, with a build's sha in place of the placeholder.
            var release = (await ChartRendering.YamlToJsonAsync(await File.ReadAllTextAsync(GitOpsRepository.WorkingTreePath($"argocd/releases/{environment}.yaml"))))[0]!.AsArray()[0]!;
            var chartPin = ChartPin().Match(release.Str("chartVersion")!);
            Assert.True(chartPin.Success, $"releases/{environment}.yaml: {release.Str("chartVersion")} is not <version>-<branch>-<sha>");
            var imagePin = (await ChartRendering.YamlToJsonAsync(await File.ReadAllTextAsync(Path.Combine(GitOpsRepository.PinsRoot, environment, "catalog.yaml"))))[0]!.Str("image.tag")!;
            Assert.Matches($"^{branch}-[0-9a-f]{{7}}$", imagePin);
            Assert.Equal(branch, chartPin.Groups["branch"].Value);
            var running = environment == "prod" ? 10 : builds[branch];
            Assert.Contains(images, i => i.Tags.Contains(Build(branch, running)));
            pins.Add((environment, $"{chartPin.Groups["version"].Value}-{Build(branch, 1)}", Build(branch, running)));
        }
        return (images, charts, pins);
    }

    private static string Build(string branch, int n) => $"{branch}-{n.ToString("x7", CultureInfo.InvariantCulture)}";

    private static string ChartVersion() =>
        Regex.Match(File.ReadAllText(Path.Combine(ChartRendering.ChartDirectory, "Chart.yaml")), @"(?m)^version:\s*""?([^""\s]+)").Groups[1].Value;

    /// <summary>ECR's evaluation of a lifecycle policy at <paramref name="now"/>: the images it expires.</summary>
    private static HashSet<Image> Expired(JsonObject policy, List<Image> images, DateTimeOffset now)
    {
        var claimed = new HashSet<Image>();
        var expired = new HashSet<Image>();
        foreach (var rule in Rules(policy))
        {
            var selection = rule.Obj("selection");
            Assert.Equal("expire", rule.Str("action.type"));
            var matched = images.Where(i => selection.Str("tagStatus") switch
            {
                "untagged" => i.Tags.Count == 0,
                "tagged" => i.Tags.Count > 0 && Matches(selection, i.Tags),
                _ => true,
            }).OrderByDescending(i => i.Pushed).ToList();
            var count = int.Parse(selection.Str("countNumber")!, CultureInfo.InvariantCulture);
            var candidates = selection.Str("countType") switch
            {
                "imageCountMoreThan" => matched.Skip(count),
                "sinceImagePushed" when selection.Str("countUnit") == "days" => matched.Where(i => i.Pushed < now.AddDays(-count)),
                var other => throw new NotSupportedException($"countType {other}"),
            };
            expired.UnionWith(candidates.Where(c => !claimed.Contains(c)));
            claimed.UnionWith(matched);
        }
        return expired;
    }

    /// <summary>tagPatternList: every pattern must match one of the image's tags; * matches any characters.</summary>
    private static bool Matches(JsonObject selection, IEnumerable<string> tags) =>
        selection.Arr("tagPatternList").All(p => tags.Any(t => Regex.IsMatch(t, "^" + Regex.Escape(p!.ToString()).Replace("\\*", ".*", StringComparison.Ordinal) + "$")));

    private static List<JsonObject> Rules(JsonObject policy) =>
        [.. policy.Arr("rules").Select(r => r!.AsObject()).OrderBy(r => int.Parse(r.Str("rulePriority")!, CultureInfo.InvariantCulture))];

    /// <summary>Each repository's lifecycle policy as Terraform computes it: shared/main.tf's local.repositories
    /// (evaluated with the variables' defaults) passed to the module's inputs the way its module call passes them,
    /// then the module's lifecycle.tf evaluated next to its variables.tf.</summary>
    private static async Task<Dictionary<string, JsonObject>> PoliciesAsync()
    {
        var tree = await TerraformTree.LoadRepositoryAsync();
        var shared = tree["shared"];
        var repositories = (await TerraformConsole.EvaluateAsync([SharedLocal(shared, "repositories")]))[0]!.AsObject();
        var call = shared.ModuleCalls.Single(c => c.Name == "ecr");
        var module = Repo.PathOf("deploy", "terraform", "modules", "ecr-repository");

        var policies = new Dictionary<string, JsonObject>();
        foreach (var (name, value) in repositories)
        {
            var inputs = new JsonObject { ["name"] = name, ["kms_key_arn"] = "arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-000000000000" };
            foreach (var (input, expression) in call.Body)
            {
                if (EachValue().Match(expression?.ToString() ?? "") is { Success: true } member) inputs[input] = value![member.Groups[1].Value]!.DeepClone();
            }
            var dir = Directory.CreateTempSubdirectory("ecr-lifecycle-");
            try
            {
                File.Copy(Path.Combine(module, "variables.tf"), Path.Combine(dir.FullName, "variables.tf"));
                File.Copy(Path.Combine(module, "lifecycle.tf"), Path.Combine(dir.FullName, "lifecycle.tf"));
                await File.WriteAllTextAsync(Path.Combine(dir.FullName, "terraform.tfvars.json"), inputs.ToJsonString());
                var policy = await TerraformConsole.EvaluateInAsync(dir.FullName, "local.lifecycle_policy");
                policies[name] = JsonNode.Parse(policy.GetValue<string>())!.AsObject();
            }
            finally
            {
                dir.Delete(recursive: true);
            }
        }
        return policies;
    }

    /// <summary>A local of the shared root as one expression: other locals inlined, variables as their defaults.</summary>
    private static string SharedLocal(TerraformConfig shared, string name)
    {
        var expression = TerraformConsole.Unwrap(shared.Locals[name]!.ToString());
        expression = LocalReference().Replace(expression, m => "(" + SharedLocal(shared, m.Groups[1].Value) + ")");
        return VariableReference().Replace(expression, m =>
        {
            var value = shared.Variables[m.Groups[1].Value]["default"]!.ToJsonString();
            return "jsondecode(\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("${", "$${", StringComparison.Ordinal) + "\")";
        });
    }

    [GeneratedRegex(@"^\$\{each\.value\.(\w+)\}$")]
    private static partial Regex EachValue();

    [GeneratedRegex(@"\blocal\.(\w+)\b")]
    private static partial Regex LocalReference();

    [GeneratedRegex(@"\bvar\.(\w+)\b")]
    private static partial Regex VariableReference();

    [GeneratedRegex(@"^(?<version>\d+\.\d+\.\d+)-(?<branch>[a-z0-9-]+)-[0-9a-f]{7}$")]
    private static partial Regex ChartPin();

    [GeneratedRegex(@"--image-tag (keep-[a-z0-9-]+)")]
    private static partial Regex KeepTag();
}
