using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TestKit;

namespace Deploy.Tests;

/// <summary>Names Terraform shares with the GitOps repository (deploy/gitops): the add-ons' IRSA roles and the
/// namespace/service account each is installed with, the KMS aliases, and the image repositories and tags Image
/// Updater follows.</summary>
public sealed partial class TerraformGitOpsContractTests
{
    private static readonly string[] s_environments = ["dev", "staging", "prod"];

    [Fact]
    public async Task EveryAddonRoleTrustsTheNamespaceAndServiceAccountThePlatformInstallsItWith()
    {
        var tree = await TerraformTree.LoadRepositoryAsync();
        var eks = tree["modules/eks"];
        var addons = eks.Locals["addon_service_accounts"]!.AsObject();
        // EKS managed add-ons get their role from Terraform itself (aws_eks_addon), not from the GitOps platform.
        var managedByEks = eks.Resources("aws_eks_addon").SelectMany(a => Strings(a.Body)).SelectMany(text => AddonRoleReference().Matches(text).Select(m => m.Groups[1].Value)).ToHashSet();
        Assert.NotEmpty(managedByEks);

        foreach (var env in s_environments)
        {
            var (manifest, applications) = await RenderPlatformAsync(env);
            var referenced = RoleName(env).Matches(manifest).Select(m => m.Groups[1].Value).ToHashSet();

            Assert.All(referenced, key => Assert.True(addons.ContainsKey(key), $"{env}: the platform uses role studio-{env}-{key}, which Terraform does not create"));
            Assert.All(addons.Select(a => a.Key).Except(managedByEks), key => Assert.True(referenced.Contains(key), $"{env}: no platform Application uses the {key} role"));

            var checkedAccounts = 0;
            foreach (var application in applications)
            {
                foreach (var source in Sources(application))
                {
                    if (source["helm"]?["valuesObject"] is not JsonObject valuesObject) continue;
                    foreach (var (path, roleArn) in RoleAnnotations(valuesObject, []))
                    {
                        var key = RoleName(env).Match(roleArn).Groups[1].Value;
                        var expected = addons[key]!;
                        var name = Lookup(valuesObject, path)?["name"]?.ToString();
                        foreach (var file in source["helm"]?["valueFiles"]?.AsArray().Select(f => f!.ToString()) ?? [])
                        {
                            var values = (await HclJson.YamlDocumentsAsync(Repo.PathOf("deploy", "gitops", file.Replace("$values/", "", StringComparison.Ordinal))))[0];
                            name ??= Lookup(values, path)?["name"]?.ToString();
                        }

                        Assert.Equal(expected["namespace"]!.ToString(), application["spec"]!["destination"]!["namespace"]!.ToString());
                        Assert.True(expected["service_account"]!.ToString() == name, $"{env}: {application["metadata"]!["name"]} runs {key} as service account {name ?? "(chart default)"}, the role trusts {expected["service_account"]}");
                        checkedAccounts++;
                    }
                }
            }

            Assert.True(checkedAccounts >= 5, $"{env}: expected the platform's charts to annotate at least five add-on service accounts, found {checkedAccounts}");
        }
    }

    [Fact]
    public async Task ThePlatformUsesTheKmsKeysTheEnvironmentCreates()
    {
        var tree = await TerraformTree.LoadRepositoryAsync();
        var aliases = tree["modules/environment"].ModuleCalls
            .Where(c => TerraformConfig.IsModuleSource(c, "kms-key"))
            .Select(c => c.Text("alias")!).ToList();

        foreach (var env in s_environments)
        {
            var (manifest, _) = await RenderPlatformAsync(env);
            var used = KmsAlias().Matches(manifest).Select(m => m.Groups[1].Value).Distinct().ToList();

            Assert.NotEmpty(used);
            Assert.All(used, alias => Assert.Contains(alias.Replace($"studio-{env}/", "${local.name}/", StringComparison.Ordinal), aliases));
        }
    }

    [Fact]
    public async Task ImageUpdaterFollowsTheRepositoriesAndTagsThePipelinePushes()
    {
        var tree = await TerraformTree.LoadRepositoryAsync();
        var repositories = tree["shared"].Locals["repositories"]!.AsObject().Select(r => r.Key).ToHashSet();
        var branches = tree["modules/pipeline"].Variables["branches"]["default"]!.AsObject().ToDictionary(b => b.Value!.ToString(), b => b.Key);
        var buildspec = await BuildspecFile.LoadAsync();
        var updaters = (await HclJson.YamlDocumentsAsync(Repo.PathOf("deploy", "gitops", "argocd", "image-updater.yaml")))
            .OfType<JsonObject>().Where(d => d["kind"]?.ToString() == "ImageUpdater").ToList();

        Assert.Equal(s_environments.Length, updaters.Count);
        foreach (var env in s_environments)
        {
            var updater = Assert.Single(updaters, u => u["metadata"]!["name"]!.ToString().EndsWith($"-{env}", StringComparison.Ordinal));
            var allowTags = updater["spec"]!["commonUpdateSettings"]!["allowTags"]!.ToString();
            Assert.StartsWith("regexp:", allowTags, StringComparison.Ordinal);
            var pattern = new Regex(allowTags["regexp:".Length..]);

            // The tag this environment's branch pipeline produces is allowed; the other branches' are not.
            foreach (var (otherEnv, branch) in branches)
            {
                var tag = await ImageTagAsync(buildspec, branch);
                Assert.True(pattern.IsMatch(tag) == (otherEnv == env), $"{env} allowTags {pattern} vs {branch}'s tag {tag}");
            }

            var images = updater["spec"]!["applicationRefs"]!.AsArray().SelectMany(a => a!["images"]!.AsArray()).Select(i => i!["imageName"]!.ToString()).ToList();
            Assert.Equal(buildspec.Services.Select(s => s.Repository).Order(), images.Select(i => EcrRepository().Match(i).Groups[1].Value).Order());
            Assert.All(images, image => Assert.Contains(EcrRepository().Match(image).Groups[1].Value, repositories));
        }
    }

    private static async Task<string> ImageTagAsync(BuildspecFile buildspec, string branch)
    {
        var script = buildspec.Command("pre_build", "IMAGE_TAG=") + "\necho \"IMAGE_TAG=$IMAGE_TAG\"";
        using var run = await buildspec.RunAsync(script, new Dictionary<string, string>
        {
            ["BRANCH"] = branch,
            ["COMMIT_ID"] = "89abcdef0123456789abcdef0123456789abcdef",
            ["PUSH"] = "true",
        });
        Assert.True(run.ExitCode == 0, run.Output);
        return run.Output.Split('\n').Last(l => l.StartsWith("IMAGE_TAG=", StringComparison.Ordinal))["IMAGE_TAG=".Length..].Trim();
    }

    private static async Task<(string Manifest, List<JsonObject> Applications)> RenderPlatformAsync(string env)
    {
        var chart = Repo.PathOf("deploy", "gitops", "platform");
        var manifest = await Tool.RunAsync(DeployTools.Helm, ["template", "platform", chart, "--values", Path.Combine(chart, "envs", $"{env}.yaml")]);
        var documents = await HclJson.YamlDocumentsOfTextAsync(manifest);
        return (manifest, documents.OfType<JsonObject>().Where(d => d["kind"]?.ToString() == "Application").ToList());
    }

    private static IEnumerable<JsonObject> Sources(JsonObject application) =>
        application["spec"]!["sources"] is JsonArray sources ? sources.OfType<JsonObject>()
        : application["spec"]!["source"] is JsonObject source ? [source] : [];

    /// <summary>Paths (from the values root) of every object whose annotations carry an IRSA role.</summary>
    private static IEnumerable<(string[] Path, string RoleArn)> RoleAnnotations(JsonObject node, string[] path)
    {
        if (node["annotations"]?["eks.amazonaws.com/role-arn"]?.ToString() is { } roleArn) yield return (path, roleArn);
        foreach (var (key, child) in node)
        {
            if (child is not JsonObject obj) continue;
            foreach (var found in RoleAnnotations(obj, [.. path, key])) yield return found;
        }
    }

    private static IEnumerable<string> Strings(JsonNode? node) => node switch
    {
        JsonObject obj => obj.SelectMany(p => Strings(p.Value)),
        JsonArray array => array.SelectMany(Strings),
        JsonValue value when value.TryGetValue<string>(out var text) => [text],
        _ => [],
    };

    private static JsonNode? Lookup(JsonNode? node, string[] path) => path.Aggregate(node, (current, key) => current?[key]);

    private static Regex RoleName(string env) => new($@":role/studio-{env}-([a-z0-9-]+)");

    [GeneratedRegex(@"module\.addon_irsa\[""([a-z0-9-]+)""\]")]
    private static partial Regex AddonRoleReference();

    [GeneratedRegex(@"alias/(studio-[a-z]+/[a-z0-9-]+)")]
    private static partial Regex KmsAlias();

    [GeneratedRegex(@"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/([a-z0-9/_.-]+)$")]
    private static partial Regex EcrRepository();
}
