using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Deploy.Tests;

/// <summary>Image Updater writes each environment's new tag into a file and key that exist, of Applications the
/// services' ApplicationSet generates, with credentials that exist and never outlive ECR's 12-hour tokens. (The tag
/// patterns against the tags buildspec.yml produces, and the image names against Terraform's ECR repositories, are
/// TerraformGitOpsContractTests.ImageUpdaterFollowsTheRepositoriesAndTagsThePipelinePushes.)</summary>
public sealed partial class GitOpsImageUpdaterTests
{
    private static readonly TimeSpan s_ecrTokenLifetime = TimeSpan.FromHours(12);

    [Fact]
    public async Task EveryWriteBackTargetIsTheEnvironmentsPinAndHoldsTheImageKeys()
    {
        var targets = 0;
        foreach (var (environment, reference) in await ApplicationRefsAsync())
        {
            var service = reference.Str("namePattern")![..^(environment.Length + 1)];
            Assert.Equal($"{service}-{environment}", reference.Str("namePattern"));
            var image = Assert.Single(reference.Arr("images"))!;
            var gitConfig = reference.Obj("writeBackConfig.gitConfig");

            // helmvalues:<path in the write-back repository>: the pin whose tag the services' ApplicationSet passes to
            // Helm (ImagePinsIsolationTests.APinContributesItsImageTagAndNothingElse).
            Assert.Equal($"helmvalues:/{environment}/{service}.yaml", gitConfig.Str("writeBackTarget"));
            var file = Path.Combine(GitOpsRepository.PinsRoot, environment, service + ".yaml");
            Assert.Equal(await ApplicationSetRendering.PinPathAsync(environment, service), $"{environment}/{service}.yaml");
            var values = (await ChartRendering.YamlToJsonAsync(await File.ReadAllTextAsync(file)))[0]!;
            Assert.Equal(image.Str("imageName"), values.Str(image.Str("manifestTargets.helm.name")!));
            Assert.Matches(TagPattern(environment), values.Str(image.Str("manifestTargets.helm.tag")!));
            // Keys the chart reads: the write-back lands where the Rollout's image comes from.
            Assert.Equal("image.repository", image.Str("manifestTargets.helm.name"));
            Assert.Equal("image.tag", image.Str("manifestTargets.helm.tag"));
            targets++;
        }

        Assert.Equal(6, targets);
    }

    [Fact]
    public async Task EveryUpdaterMatchesAnApplicationTheServicesApplicationSetGenerates()
    {
        var set = await GitOpsRepository.ApplicationSetAsync("services");
        Assert.Equal("""{{ .service }}-{{ index .metadata.labels "environment" }}""", set.Str("spec.template.metadata.name"));

        foreach (var (environment, reference) in await ApplicationRefsAsync())
        {
            var releases = await ChartRendering.YamlToJsonAsync(await File.ReadAllTextAsync(GitOpsRepository.WorkingTreePath($"argocd/releases/{environment}.yaml")));
            Assert.Contains(reference.Str("namePattern"), releases[0]!.AsArray().Select(r => $"{r!.Str("service")}-{environment}"));
        }
    }

    [Fact]
    public async Task WriteBackPushesToTheImagePinsRepositoryOnTheBranchTerraformLetsTheWriterKeyPush()
    {
        var tree = await TerraformTree.LoadRepositoryAsync();
        var pins = tree["shared"].Resources("aws_codecommit_repository").Single(r => r.Name == "image_pins");
        var secrets = (await GitOpsRepository.LocalObjectsAsync("dev")).Where(o => o.Str("kind") == "ExternalSecret").ToList();

        foreach (var (environment, reference) in await ApplicationRefsAsync())
        {
            var writeBack = reference.Obj("writeBackConfig");
            Assert.Equal(pins.Text("default_branch"), writeBack.Str("gitConfig.branch"));
            // The pins repository the Applications read, with the writer's SSH key ID instead of the reader's.
            Assert.Equal(GitOpsRepository.PinsRepoUrl.Replace("APKAREADERKEYEXAMPLE", "APKAWRITERKEYEXAMPLE", StringComparison.Ordinal), writeBack.Str("gitConfig.repository"));
            Assert.EndsWith("/" + tree["shared"].Variables["image_pins_repository_name"]["default"]!.ToString(), writeBack.Str("gitConfig.repository"), StringComparison.Ordinal);
            var secretRef = GitSecret().Match(writeBack.Str("method")!);
            Assert.True(secretRef.Success, $"{environment}: write-back method {writeBack.Str("method")} names no Secret");
            var secret = Assert.Single(secrets, s => s.Str("metadata.namespace") == secretRef.Groups[1].Value && s.Str("spec.target.name") == secretRef.Groups[2].Value);
            Assert.Contains("sshPrivateKey", secret.Arr("spec.data").Select(d => d!.Str("secretKey")));
        }
    }

    [Theory]
    [MemberData(nameof(GitOpsRepository.EnvironmentData), MemberType = typeof(GitOpsRepository))]
    public async Task EcrCredentialsComeFromAnIrsaRoleAndAreNeverOlderThanTheTokensLife(string environment)
    {
        var application = await GitOpsRepository.ApplicationAsync(environment, "argocd-image-updater");
        var valuesFile = GitOpsRepository.Sources(application).SelectMany(s => s.Node("helm.valueFiles") as JsonArray ?? []).Single()!.ToString();
        var values = (await ChartRendering.YamlToJsonAsync(await File.ReadAllTextAsync(GitOpsRepository.WorkingTreePath(valuesFile["$values/".Length..]))))[0]!;
        var registry = Assert.Single(values.Arr("config.registries"))!;
        var objects = await GitOpsRepository.LocalObjectsAsync(environment);

        Assert.Equal(GitOpsRepository.Registry, registry.Str("prefix"));
        var credentials = SecretField().Match(registry.Str("credentials")!);
        Assert.True(credentials.Success, $"registry credentials {registry.Str("credentials")} are not secret:<namespace>/<name>#<field>");
        var secret = objects.Single(o => o.Str("kind") == "ExternalSecret" && o.Str("metadata.namespace") == credentials.Groups[1].Value && o.Str("spec.target.name") == credentials.Groups[2].Value);
        Assert.NotNull(secret.Node($"spec.target.template.data.{credentials.Groups[3].Value}"));

        // A token is at most refreshInterval old when Image Updater reads the Secret, then used for credsexpire.
        var generatorRef = Assert.Single(secret.Arr("spec.dataFrom"))!.Obj("sourceRef.generatorRef");
        Assert.Equal("ECRAuthorizationToken", generatorRef.Str("kind"));
        var oldest = Duration(secret.Str("spec.refreshInterval")!) + Duration(registry.Str("credsexpire")!);
        Assert.True(oldest <= s_ecrTokenLifetime * 0.75, $"a token may be {oldest} old; ECR tokens live {s_ecrTokenLifetime}");

        var generator = objects.Single(o => o.Str("kind") == "ECRAuthorizationToken" && o.Str("metadata.name") == generatorRef.Str("name") && o.Str("metadata.namespace") == "argocd");
        var account = objects.Single(o => o.Str("kind") == "ServiceAccount" && o.Str("metadata.namespace") == "argocd" && o.Str("metadata.name") == generator.Str("spec.auth.jwt.serviceAccountRef.name"));
        Assert.Equal(values.Str("serviceAccount.name"), account.Str("metadata.name"));
        Assert.Equal($"arn:aws:iam::111122223333:role/studio-{environment}-argocd-image-updater", account.Annotations()["eks.amazonaws.com/role-arn"]);
    }

    [Fact]
    public void TheDurationsTheTestsReadAreTheOnesKubernetesAndGoWrite()
    {
        Assert.Equal(TimeSpan.FromHours(6), Duration("6h"));
        Assert.Equal(TimeSpan.FromMinutes(90), Duration("1h30m"));
        Assert.Throws<FormatException>(() => Duration("six hours"));
    }

    private static async Task<List<(string Environment, JsonObject Reference)>> ApplicationRefsAsync()
    {
        var updaters = (await GitOpsRepository.ArgoCdObjectsAsync()).Where(o => o.Str("kind") == "ImageUpdater").ToList();
        Assert.Equal(GitOpsRepository.Environments.Length, updaters.Count);
        return [.. updaters.SelectMany(u =>
        {
            var environment = u.Str("metadata.name")!["services-".Length..];
            Assert.Contains(environment, GitOpsRepository.Environments);
            Assert.Equal("newest-build", u.Str("spec.commonUpdateSettings.updateStrategy"));
            return u.Arr("spec.applicationRefs").Select(r => (environment, r!.AsObject()));
        })];
    }

    private static Regex TagPattern(string environment) =>
        new($"^{(environment == "dev" ? "develop" : environment)}-[0-9a-f]{{7}}$");

    private static TimeSpan Duration(string text)
    {
        var parts = DurationPart().Matches(text);
        if (parts.Count == 0 || string.Concat(parts.Select(p => p.Value)) != text) throw new FormatException($"not a duration: {text}");
        return parts.Aggregate(TimeSpan.Zero, (sum, p) =>
        {
            var amount = double.Parse(p.Groups[1].Value, CultureInfo.InvariantCulture);
            return sum + (p.Groups[2].Value switch { "h" => TimeSpan.FromHours(amount), "m" => TimeSpan.FromMinutes(amount), _ => TimeSpan.FromSeconds(amount) });
        });
    }

    [GeneratedRegex(@"^git:secret:([a-z0-9-]+)/([a-z0-9-]+)$")]
    private static partial Regex GitSecret();

    [GeneratedRegex(@"^secret:([a-z0-9-]+)/([a-z0-9-]+)#([A-Za-z0-9_.-]+)$")]
    private static partial Regex SecretField();

    [GeneratedRegex(@"(\d+(?:\.\d+)?)(h|m|s)")]
    private static partial Regex DurationPart();
}
