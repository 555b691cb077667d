using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Deploy.Tests;

/// <summary>Platform secrets come from Vault (or are minted: ECR tokens, generated passwords) through External
/// Secrets, never from Git, and every identity involved is the one Terraform authorises.</summary>
public sealed partial class GitOpsSecretsTests
{
    [Fact]
    public async Task NoSecretObjectInTheRepositoryHoldsACredential()
    {
        var objects = (await GitOpsRepository.ArgoCdObjectsAsync()).ToList();
        foreach (var file in Directory.GetFiles(Path.Combine(GitOpsRepository.Root, "argocd", "bootstrap"), "*.yaml"))
            objects.AddRange(await GitOpsRepository.ParseAsync(await File.ReadAllTextAsync(file)));
        foreach (var environment in GitOpsRepository.Environments) objects.AddRange(await GitOpsRepository.LocalObjectsAsync(environment));

        var secrets = objects.Where(o => o.Str("kind") == "Secret").ToList();

        Assert.NotEmpty(secrets);
        Assert.All(secrets, secret =>
        {
            var keys = (secret.Node("stringData") as JsonObject ?? []).Select(p => p.Key).Concat((secret.Node("data") as JsonObject ?? []).Select(p => p.Key));
            // Cluster registrations (Argo CD reaches the local API with its own service account) and role definitions.
            Assert.All(keys, key => Assert.Contains(key, new[] { "name", "server", "config", "roles.yml" }));
            Assert.DoesNotMatch(CredentialInClusterConfig(), secret.Str("stringData.config") ?? "");
        });
    }

    [Fact]
    public void NoFileOfTheGitOpsRepositoryContainsSomethingShapedLikeACredential()
    {
        var files = Directory.GetFiles(GitOpsRepository.Root, "*", SearchOption.AllDirectories);

        Assert.NotEmpty(files);
        Assert.All(files, file => Assert.DoesNotMatch(CredentialShape(), File.ReadAllText(file)));
    }

    [Theory]
    [InlineData("-----BEGIN OPENSSH PRIVATE KEY-----")]
    [InlineData("aws_secret: AKIAIOSFODNN7EXAMPLE")]
    [InlineData("url: https://hooks.slack.com/services/T000/B000/XXXX")]
    [InlineData("token: 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1")]
    [InlineData("token: xoxb-123456-abcdef")]
    public void TheCredentialShapesAreRecognised(string text) => Assert.Matches(CredentialShape(), text);

    [Theory]
    [MemberData(nameof(GitOpsRepository.EnvironmentData), MemberType = typeof(GitOpsRepository))]
    public async Task TheSecretStoreLogsIntoVaultWithTheRoleTerraformBindsToExternalSecrets(string environment)
    {
        var vault = (await TerraformTree.LoadRepositoryAsync())["vault"];
        var role = vault.Resources("vault_kubernetes_auth_backend_role").Single(r => r.Name == "external_secrets");
        var mount = vault.Resources("vault_mount").Single(r => r.Name == "platform");
        var authPath = vault.Resources("vault_auth_backend").Single(r => r.Name == "kubernetes").Text("path");
        var store = (await GitOpsRepository.LocalObjectsAsync(environment)).Single(o => o.Str("kind") == "ClusterSecretStore").Obj("spec.provider.vault");
        var operatorApp = await GitOpsRepository.ApplicationAsync(environment, "external-secrets");
        var valuesFile = GitOpsRepository.Sources(operatorApp).SelectMany(s => s.Node("helm.valueFiles") as JsonArray ?? []).Single()!.ToString();
        var values = (await ChartRendering.YamlToJsonAsync(await File.ReadAllTextAsync(GitOpsRepository.WorkingTreePath(valuesFile["$values/".Length..]))))[0]!;

        Assert.Equal(mount.Text("path"), store.Str("path"));
        Assert.Equal("v2", store.Str("version"));
        Assert.Equal("2", mount.Body["options"]?["version"]?.ToString());
        Assert.Equal(role.Text("role_name"), store.Str("auth.kubernetes.role"));
        Assert.Equal(authPath, store.Str("auth.kubernetes.mountPath"));
        Assert.Equal([store.Str("auth.kubernetes.serviceAccountRef.name")], role["bound_service_account_names"]!.AsArray().Select(n => n!.ToString()));
        Assert.Equal([store.Str("auth.kubernetes.serviceAccountRef.namespace")], role["bound_service_account_namespaces"]!.AsArray().Select(n => n!.ToString()));
        Assert.Equal(store.Str("auth.kubernetes.serviceAccountRef.name"), values.Str("serviceAccount.name"));
        Assert.Equal(store.Str("auth.kubernetes.serviceAccountRef.namespace"), operatorApp.Str("spec.destination.namespace"));
        // TLS to Vault is verified with the private CA that issued Vault's certificate.
        Assert.StartsWith("https://", store.Str("server"), StringComparison.Ordinal);
        Assert.Equal("vault-server-tls", store.Str("caProvider.name"));
    }

    [Theory]
    [MemberData(nameof(GitOpsRepository.EnvironmentData), MemberType = typeof(GitOpsRepository))]
    public async Task EveryExternalSecretReadsTheVaultStoreOrAGeneratorThatExists(string environment)
    {
        var objects = await GitOpsRepository.LocalObjectsAsync(environment);
        var stores = objects.Where(o => o.Str("kind") == "ClusterSecretStore").Select(o => o.Str("metadata.name")).ToHashSet();
        var externalSecrets = objects.Where(o => o.Str("kind") == "ExternalSecret").ToList();

        Assert.True(externalSecrets.Count >= 8, $"only {externalSecrets.Count} ExternalSecrets");
        Assert.All(externalSecrets, secret =>
        {
            var name = secret.Str("metadata.name");
            if (secret.Node("spec.secretStoreRef") is { } storeRef)
            {
                Assert.Equal("ClusterSecretStore", storeRef.Str("kind"));
                Assert.Contains(storeRef.Str("name"), stores);
            }
            foreach (var generatorRef in (secret.Node("spec.dataFrom") as JsonArray ?? []).Select(d => d!.Node("sourceRef.generatorRef")).OfType<JsonObject>())
                Assert.Single(objects, o => o.Str("kind") == generatorRef.Str("kind") && o.Str("metadata.name") == generatorRef.Str("name") && o.Str("metadata.namespace") == secret.Str("metadata.namespace"));
            Assert.True(secret.Node("spec.secretStoreRef") is not null || secret.Node("spec.dataFrom") is not null, $"{name} reads nothing");
        });
    }

    [Fact]
    public async Task TheGitKeysAreReadFromTheVaultPathsTerraformTellsOperatorsToStoreThemAt()
    {
        var shared = (await TerraformTree.LoadRepositoryAsync())["shared"];
        var reader = VaultPath().Match(shared.Variables["gitops_reader_ssh_public_key"]["description"]!.ToString()).Groups[1].Value;
        var writer = VaultPath().Match(shared.Variables["gitops_writer_ssh_public_key"]["description"]!.ToString()).Groups[1].Value;
        var secrets = (await GitOpsRepository.LocalObjectsAsync("prod")).Where(o => o.Str("kind") == "ExternalSecret").ToList();

        Assert.Equal(reader, KeyOf(secrets, "argocd-repo-gitops"));
        Assert.Equal(writer, KeyOf(secrets, "argocd-image-updater-git"));
        var repository = secrets.Single(s => s.Str("metadata.name") == "argocd-repo-gitops");
        Assert.Equal("repository", repository.Obj("spec.target.template.metadata.labels")["argocd.argoproj.io/secret-type"]!.ToString());
        Assert.Equal(GitOpsRepository.RepoUrl, repository.Str("spec.target.template.data.url"));
    }

    [Theory]
    [MemberData(nameof(GitOpsRepository.EnvironmentData), MemberType = typeof(GitOpsRepository))]
    public async Task ArgoCdHasCredentialsForEveryPrivateRepositoryItsApplicationsUse(string environment)
    {
        var services = await GitOpsRepository.ApplicationSetAsync("services");
        var used = services.Arr("spec.template.spec.sources").Select(s => s!.Str("repoURL")!).ToHashSet();
        // The git generators' repositories too (the releases files, the image pins): the controller reads them with
        // the same repository credentials.
        used.UnionWith(System.Text.RegularExpressions.Regex.Matches(services.Arr("spec.generators").ToJsonString(), "\"repoURL\":\"([^\"]+)\"").Select(m => m.Groups[1].Value));
        used.UnionWith((await GitOpsRepository.PlatformApplicationsAsync(environment)).SelectMany(GitOpsRepository.Sources)
            .Select(s => s.Str("repoURL")!).Where(url => !url.StartsWith("https://", StringComparison.Ordinal)));
        var repositories = (await GitOpsRepository.LocalObjectsAsync(environment))
            .Where(o => o.Str("kind") == "ExternalSecret" && o.Node("spec.target.template.metadata.labels") is JsonObject labels
                && labels["argocd.argoproj.io/secret-type"]?.ToString() == "repository")
            .ToDictionary(o => o.Str("spec.target.template.data.url")!, o => o.Obj("spec.target.template.data"));

        Assert.Equal(used.Order(StringComparer.Ordinal), repositories.Keys.Order(StringComparer.Ordinal));
        var charts = repositories[$"{GitOpsRepository.Registry}/charts"];
        Assert.Equal("helm", charts.Str("type"));
        Assert.Equal("true", charts.Str("enableOCI"));
        Assert.Equal("git", repositories[GitOpsRepository.RepoUrl].Str("type"));
        Assert.Equal("git", repositories[GitOpsRepository.PinsRepoUrl].Str("type"));
    }

    [Theory]
    [MemberData(nameof(GitOpsRepository.EnvironmentData), MemberType = typeof(GitOpsRepository))]
    public async Task EveryIrsaServiceAccountTheRepositoryRendersIsOneTerraformsRoleTrusts(string environment)
    {
        var addons = (await TerraformTree.LoadRepositoryAsync())["modules/eks"].Locals["addon_service_accounts"]!.AsObject();
        var accounts = (await GitOpsRepository.LocalObjectsAsync(environment))
            .Where(o => o.Str("kind") == "ServiceAccount" && o.Annotations().ContainsKey("eks.amazonaws.com/role-arn")).ToList();

        Assert.Equal(["argocd-backup", "argocd-ecr-token", "argocd-image-updater", "elasticsearch", "vault-snapshot"], accounts.Select(a => a.Str("metadata.name")!).Order(StringComparer.Ordinal));
        Assert.All(accounts, account =>
        {
            var key = RoleKey(environment).Match(account.Annotations()["eks.amazonaws.com/role-arn"]).Groups[1].Value;
            var expected = addons[key] ?? throw new Xunit.Sdk.XunitException($"Terraform has no role {key}");
            Assert.Equal(expected["namespace"]!.ToString(), account.Str("metadata.namespace"));
            Assert.Equal(expected["service_account"]!.ToString(), account.Str("metadata.name"));
        });
    }

    private static string? KeyOf(IEnumerable<JsonObject> secrets, string name) =>
        secrets.Single(s => s.Str("metadata.name") == name).Arr("spec.data").Single()!.Str("remoteRef.key");

    private static Regex RoleKey(string environment) => new($@"^arn:aws:iam::\d{{12}}:role/studio-{environment}-([a-z0-9-]+)$");

    [GeneratedRegex(@"Vault, platform/([a-z0-9/-]+)\)")]
    private static partial Regex VaultPath();

    [GeneratedRegex("bearerToken|password|keyData|certData|awsAuthConfig")]
    private static partial Regex CredentialInClusterConfig();

    [GeneratedRegex(@"-----BEGIN [A-Z ]*PRIVATE KEY-----|\bAKIA[0-9A-Z]{16}\b|hooks\.slack\.com/services/|\b\d{8,10}:[A-Za-z0-9_-]{35}\b|\bxox[abpr]-")]
    private static partial Regex CredentialShape();
}
