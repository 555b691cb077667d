namespace Deploy.Tests;

/// <summary>Terraform itself evaluates every module variable's validation blocks against the values every caller
/// passes, for every environment (TerraformValidation: stand-in roots without providers, terraform plan). A value a
/// validation refuses would stop the real plan; here it fails the test with Terraform's own message.</summary>
public sealed class TerraformValidationTests
{
    /// <summary>Every root and the variables file of each environment it is applied with.</summary>
    public static TheoryData<string, string?> RootsAndVarFiles() => new()
    {
        { "bootstrap", "terraform.tfvars" },
        { "shared", "terraform.tfvars" },
        { "environment", "envs/dev.tfvars" },
        { "environment", "envs/staging.tfvars" },
        { "environment", "envs/prod.tfvars" },
        { "edge", "envs/dev.tfvars" },
        { "edge", "envs/staging.tfvars" },
        { "edge", "envs/prod.tfvars" },
        { "vault", "envs/dev.tfvars" },
        { "vault", "envs/staging.tfvars" },
        { "vault", "envs/prod.tfvars" },
    };

    /// <summary>Arguments for a validated variable whose value comes from a resource, a data source or another module's
    /// output: unknown during plan, so Terraform defers their validation to apply and this test cannot check them.</summary>
    public static readonly string[] CheckedOnlyAtApply =
    [
        // The cluster's OIDC issuer exists once EKS has created the cluster.
        "modules/eks: module.addon_irsa.oidc_issuer (modules/irsa-role)",
        "modules/environment: module.assets_irsa.oidc_issuer (modules/irsa-role)",
    ];

    [Theory]
    [MemberData(nameof(RootsAndVarFiles))]
    public async Task EveryValidationAcceptsWhatEveryCallerPasses(string root, string? varFile)
    {
        var tree = await TerraformTree.LoadRepositoryAsync();

        var run = await TerraformValidation.PlanRootAsync(tree, TerraformTree.Root, root, varFile);

        Assert.True(!run.Errors.Any(), $"{root} with {varFile}:\n{string.Join("\n", run.Errors)}");
        // A tfvars entry the root does not declare is a typo Terraform only warns about.
        Assert.True(!run.Warnings.Any(), $"{root} with {varFile}:\n{string.Join("\n", run.Warnings)}");
    }

    [Fact]
    public async Task EveryModuleWithValidationsIsCheckedAndWhatIsNotIsListed()
    {
        var tree = await TerraformTree.LoadRepositoryAsync();
        var instantiated = new HashSet<string>();
        var uncheckedArguments = new HashSet<string>();

        foreach (var (root, varFile) in RootsAndVarFiles().Select(r => ((string)r[0], (string?)r[1])))
        {
            var run = await TerraformValidation.PlanRootAsync(tree, TerraformTree.Root, root, varFile);
            instantiated.UnionWith(run.ModulesInstantiated);
            uncheckedArguments.UnionWith(run.Unchecked.Select(u => u.ToString()));
        }

        var validated = tree.Modules.Where(m => m.Variables.Values.Any(v => v["validation"] is not null)).Select(m => m.Path);
        Assert.All(validated, module => Assert.Contains(instantiated, i => i.EndsWith($"({module})", StringComparison.Ordinal)));
        Assert.Equal(CheckedOnlyAtApply.Order(StringComparer.Ordinal), uncheckedArguments.Order(StringComparer.Ordinal));
    }

    /// <summary>The backup bucket's rule as dev and staging had it (transition and expiration both at 30 days), in a copy
    /// of the tree: the s3-bucket module's validation refuses it for dev and staging, as S3 itself would, and prod's
    /// 30/365 passes. This is the break the validation test exists to catch.</summary>
    [Fact]
    public async Task TheFormerBackupRuleOfDevAndStagingIsRejected()
    {
        var copy = Directory.CreateTempSubdirectory("tf-broken-");
        try
        {
            CopyTree(TerraformTree.Root, copy.FullName);
            var main = Path.Combine(copy.FullName, "modules", "environment", "main.tf");
            var text = await File.ReadAllTextAsync(main);
            const string Fixed = "transition_days = var.environment == \"prod\" ? 30 : null";
            Assert.Contains(Fixed, text, StringComparison.Ordinal);
            await File.WriteAllTextAsync(main, text.Replace(Fixed, "transition_days = 30", StringComparison.Ordinal));
            var tree = await TerraformTree.LoadAsync(copy.FullName);

            foreach (var env in new[] { "dev", "staging", "prod" })
            {
                var run = await TerraformValidation.PlanRootAsync(tree, copy.FullName, "environment", $"envs/{env}.tfvars");

                if (env == "prod")
                {
                    Assert.Empty(run.Errors);
                }
                else
                {
                    var error = Assert.Single(run.Errors);
                    Assert.Equal("module.backups_bucket", error.Context);
                    Assert.StartsWith("A rule's expiration_days must come after its transition_days.", error.Detail, StringComparison.Ordinal);
                }
            }
        }
        finally
        {
            copy.Delete(recursive: true);
        }
    }

    private static void CopyTree(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories).Where(f => !f.Contains("/.terraform", StringComparison.Ordinal)))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
