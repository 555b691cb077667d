namespace Deploy.Tests;

/// <summary>The layers that exist once per environment (environment, edge, vault) are one root each, with a tfvars and
/// a backend file per environment. They replaced byte-identical copies under envs/&lt;env&gt;/ and envs/&lt;env&gt;/edge/
/// without moving any state: every environment keeps the state key and the resource addresses it had.</summary>
public sealed class TerraformLayoutTests
{
    public static readonly string[] PerEnvironmentRoots = ["environment", "edge", "vault"];

    private static readonly string[] s_environments = ["dev", "staging", "prod"];

    /// <summary>The keys the states were written under before the roots were merged (envs/&lt;env&gt;/versions.tf and
    /// envs/&lt;env&gt;/edge/versions.tf set them literally; vault/ already had a backend file per environment). A state
    /// read under another key would be empty, and Terraform would plan to create the environment a second time.</summary>
    public static string StateKey(string root, string env) => root switch
    {
        "environment" => $"envs/{env}/terraform.tfstate",
        "edge" => $"envs/{env}/edge/terraform.tfstate",
        "vault" => $"vault/{env}/terraform.tfstate",
        _ => throw new ArgumentOutOfRangeException(nameof(root), root, null),
    };

    [Fact]
    public async Task EveryEnvironmentKeepsTheStateKeyItHad()
    {
        var tree = await TerraformTree.LoadRepositoryAsync();

        foreach (var root in PerEnvironmentRoots)
        {
            // The key comes from the per-environment file alone: a key in versions.tf would send every environment to one state.
            var backend = tree[root].Settings?["backend"]?["s3"]?[0]?.AsObject();
            Assert.NotNull(backend);
            Assert.False(backend.ContainsKey("key"), $"{root}/versions.tf sets the state key: it belongs in envs/<env>.s3.tfbackend");

            foreach (var env in s_environments)
            {
                var file = Path.Combine(TerraformTree.Root, root, "envs", env + ".s3.tfbackend");
                Assert.True(File.Exists(file), $"{root} has no envs/{env}.s3.tfbackend");
                var settings = (await HclJson.RunAsync("hcl", file)).AsObject();
                Assert.Equal(["key"], settings.Select(s => s.Key));
                Assert.Equal(StateKey(root, env), settings["key"]!.ToString());
                Assert.Equal(env, tree.Tfvars[$"{root}/envs/{env}.tfvars"]["environment"]?.ToString());
            }
        }
    }

    /// <summary>Every address in a state is rooted at one of the root's top-level blocks; they are the blocks each
    /// envs/&lt;env&gt; (and envs/&lt;env&gt;/edge) root declared, under the same names, so every resource in every state keeps
    /// its address and no moved block or state mv is needed.</summary>
    [Fact]
    public async Task EveryResourceKeepsTheAddressItHad()
    {
        var tree = await TerraformTree.LoadRepositoryAsync();

        Assert.Equal(["module.environment"], TopLevelAddresses(tree["environment"]));
        Assert.Equal(["data.aws_route53_zone.this", "data.aws_secretsmanager_secret.origin", "module.api_cdn", "module.certificate"], TopLevelAddresses(tree["edge"]));
        Assert.True(TerraformConfig.IsModuleSource(Assert.Single(tree["environment"].ModuleCalls), "environment"));
        foreach (var root in new[] { "environment", "edge" })
        {
            Assert.Null(tree[root].Json["moved"]);
            Assert.Null(tree[root].Json["removed"]);
            // The environment comes from the tfvars only; nothing in the root may branch on anything else.
            Assert.DoesNotContain("terraform.workspace", tree[root].Json.ToJsonString(), StringComparison.Ordinal);
        }
        Assert.DoesNotContain(tree.Directories.Keys, d => d.StartsWith("envs", StringComparison.Ordinal));
    }

    private static IEnumerable<string> TopLevelAddresses(TerraformConfig config) =>
        config.AllResources().Select(r => r.Address)
            .Concat(config.AllData().Select(d => "data." + d.Address))
            .Concat(config.ModuleCalls.Select(m => "module." + m.Name))
            .Order(StringComparer.Ordinal);
}
