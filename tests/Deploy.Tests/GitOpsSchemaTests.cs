using System.Text.Json.Nodes;
using TestKit;

namespace Deploy.Tests;

/// <summary>Every object of the GitOps repository, as Argo CD would apply it, is valid against its schema, with
/// unknown fields rejected: Argo CD's own objects, the platform's Applications, and everything the repository's
/// charts render for each environment.</summary>
public sealed class GitOpsSchemaTests
{
    [Fact]
    public async Task ArgoCdObjectsAndTheBootstrapClusterSecretsAreValid()
    {
        var objects = (await GitOpsRepository.ArgoCdObjectsAsync()).ToList();
        foreach (var file in Directory.GetFiles(Path.Combine(GitOpsRepository.Root, "argocd", "bootstrap"), "*.yaml"))
            objects.AddRange(await GitOpsRepository.ParseAsync(await File.ReadAllTextAsync(file)));

        var errors = await GitOpsRepository.SchemaErrorsAsync(objects);

        Assert.Empty(errors);
        Assert.Equal(["AppProject", "ApplicationSet", "ImageUpdater", "Secret"], objects.Select(o => o.Str("kind")!).Distinct().Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(GitOpsRepository.EnvironmentData), MemberType = typeof(GitOpsRepository))]
    public async Task ThePlatformsApplicationsAreValid(string environment)
    {
        var applications = await GitOpsRepository.PlatformApplicationsAsync(environment);

        var errors = await GitOpsRepository.SchemaErrorsAsync(applications);

        Assert.Empty(errors);
        Assert.True(applications.Count >= 15, $"only {applications.Count} Applications rendered");
        Assert.All(applications, a => Assert.Equal("Application", a.Str("kind")));
    }

    [Theory]
    [MemberData(nameof(GitOpsRepository.EnvironmentData), MemberType = typeof(GitOpsRepository))]
    public async Task EverythingTheRepositorysOwnChartsRenderIsValid(string environment)
    {
        var objects = await GitOpsRepository.LocalObjectsAsync(environment);

        var errors = await GitOpsRepository.SchemaErrorsAsync(objects);

        Assert.Empty(errors);
        var kinds = objects.Select(o => o.Str("kind")).ToHashSet();
        foreach (var kind in new[] { "ClusterIssuer", "Certificate", "ClusterSecretStore", "ExternalSecret", "ECRAuthorizationToken", "Password", "Elasticsearch", "Kibana", "CronJob", "StorageClass", "ImageUpdater", "ApplicationSet" })
            Assert.Contains(kind, kinds);
    }

    [Theory]
    [InlineData("ImageUpdater", "spec.commonUpdateSettings", "updateStrategyy")]
    [InlineData("ExternalSecret", "spec.target", "creationPolicyy")]
    [InlineData("ClusterSecretStore", "spec.provider.vault.auth.kubernetes", "serviceAccount")]
    [InlineData("Elasticsearch", "spec.auth", "fileRealms")]
    [InlineData("ApplicationSet", "spec.template.spec", "destinations")]
    [InlineData("CronJob", "spec.jobTemplate.spec.template.spec", "serviceAccout")]
    public async Task AMisspeltFieldIsRejected(string kind, string path, string misspelt)
    {
        var objects = (await GitOpsRepository.LocalObjectsAsync("dev")).Where(o => o.Str("kind") == kind).ToList();
        var broken = objects[0].DeepClone().AsObject();
        broken.Obj(path)[misspelt] = "x";

        var errors = await GitOpsRepository.SchemaErrorsAsync([broken]);

        Assert.Contains(errors, e => e.Contains(misspelt, StringComparison.Ordinal));
        Assert.Empty(await GitOpsRepository.SchemaErrorsAsync([objects[0]]));
    }

    [Fact]
    public async Task AKindWithoutASchemaIsRejectedNotPassed()
    {
        var unknown = JsonNode.Parse("""{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {}}""")!.AsObject();

        var errors = await GitOpsRepository.SchemaErrorsAsync([unknown]);

        Assert.Contains(errors, e => e.Contains("no schema", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnExternalSecretWithNoSourceOrAMalformedIntervalIsRejected()
    {
        var secret = (await GitOpsRepository.LocalObjectsAsync("dev")).First(o => o.Str("kind") == "ExternalSecret").DeepClone().AsObject();
        secret.Obj("spec").Remove("data");
        secret.Obj("spec").Remove("dataFrom");
        secret.Obj("spec")["refreshInterval"] = "six hours";

        var errors = await GitOpsRepository.SchemaErrorsAsync([secret]);

        Assert.Contains(errors, e => e.Contains("/spec/refreshInterval", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("must have required property 'data'", StringComparison.Ordinal));
    }

    [Fact]
    public void EveryCrdSchemaSaysWhereItComesFrom()
    {
        var schemas = Directory.GetFiles(Repo.PathOf("tests", "Deploy.Tests", "schema", "crds"), "*.json", SearchOption.AllDirectories);

        Assert.True(schemas.Length >= 7, $"only {schemas.Length} CRD schemas");
        Assert.All(schemas, file =>
        {
            var schema = JsonNode.Parse(File.ReadAllText(file))!;
            Assert.False(string.IsNullOrWhiteSpace(schema["$comment"]?.ToString()), $"{file} has no $comment naming its source");
            Assert.Equal(false, (bool?)schema["additionalProperties"]);
        });
    }
}
