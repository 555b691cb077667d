using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TestKit;

namespace Deploy.Tests;

/// <summary>Names Terraform shares with the chart and the pipeline, checked against `helm template` of every service
/// and environment: the service accounts and Vault roles the chart renders, the images it deploys and the pipeline
/// pushes, and the ALB its Ingresses create.</summary>
public sealed partial class TerraformChartContractTests
{
    private static readonly string[] s_services = ["catalog", "assets"];
    private static readonly string[] s_environments = ["dev", "staging", "prod"];

    [Fact]
    public async Task EveryEcrRepositoryHoldsWhatThePipelinePushesAndTheEnvironmentsRead()
    {
        var tree = await TerraformTree.LoadRepositoryAsync();
        var buildspec = await BuildspecFile.LoadAsync();
        var chart = await ChartName();

        var repositories = tree["shared"].Locals["repositories"]!.AsObject().Select(r => r.Key).Order().ToList();
        var pushed = buildspec.Services.Select(s => s.Repository).Append($"{buildspec.Variables["CHART_REPOSITORY"]}/{chart}").Order();
        var read = tree["modules/environment"].Data("aws_ecr_repository").Single().Text("for_each")!;

        Assert.Equal(repositories, pushed);
        Assert.All(repositories, r => Assert.Contains($"\"{r}\"", read, StringComparison.Ordinal));
    }

    [Fact]
    public async Task EveryServiceImageTheChartDeploysIsAnEcrRepository()
    {
        var tree = await TerraformTree.LoadRepositoryAsync();
        var repositories = tree["shared"].Locals["repositories"]!.AsObject().Select(r => r.Key).ToHashSet();

        foreach (var service in s_services)
        {
            foreach (var env in s_environments)
            {
                var rendered = await TerraformChartRendering.RenderAsync(service, env);
                var images = rendered.PodTemplates.SelectMany(p => p.Images).Distinct().ToList();
                Assert.NotEmpty(images);
                Assert.All(images, image =>
                {
                    var repository = EcrRepository().Match(image);
                    Assert.True(repository.Success, $"{service}/{env}: {image} is not an image in this account's ECR");
                    Assert.Contains(repository.Groups[1].Value, repositories);
                });
                Assert.Contains(images, image => EcrRepository().Match(image).Groups[1].Value == service);
            }
        }
    }

    [Fact]
    public async Task EveryWorkloadIrsaTrustPolicyNamesAServiceAccountTheChartRenders()
    {
        var tree = await TerraformTree.LoadRepositoryAsync();
        var workloadBindings = tree.Directories.Values.SelectMany(d => TerraformPolicy.IrsaBindings(d).Bindings).Where(b => !b.FromAddonMap).ToList();
        Assert.NotEmpty(workloadBindings);

        foreach (var env in s_environments)
        {
            var rendered = new List<TerraformChartRendering>();
            foreach (var service in s_services) rendered.Add(await TerraformChartRendering.RenderAsync(service, env));
            var accounts = rendered.SelectMany(r => r.ServiceAccounts).ToList();

            Assert.All(workloadBindings, binding => Assert.Contains(accounts, a => a.Namespace == binding.Namespace && a.Name == binding.ServiceAccount));
            // The role annotation, where an environment sets it, names the role Terraform creates for that account.
            Assert.All(accounts.Where(a => a.RoleArn is not null), account =>
            {
                Assert.Contains(workloadBindings, b => b.ServiceAccount == account.Name);
                Assert.EndsWith($":role/studio-{env}-{account.Name}", account.RoleArn, StringComparison.Ordinal);
            });
        }
    }

    [Fact]
    public async Task VaultRolesMatchTheChartsServiceAccountsAndVaultAnnotations()
    {
        var vault = await TerraformVaultRoles.LoadAsync();
        var used = new HashSet<string>();

        foreach (var env in s_environments)
        {
            foreach (var service in s_services)
            {
                var rendered = await TerraformChartRendering.RenderAsync(service, env);
                foreach (var pod in rendered.PodTemplates.Where(p => p.VaultRole is not null))
                {
                    Assert.True(vault.Roles.TryGetValue(pod.VaultRole!, out var role), $"{service}/{env}: {pod.Owner} logs in as Vault role {pod.VaultRole}, which Terraform does not create");
                    Assert.Equal(role.ServiceAccount, pod.ServiceAccount);
                    Assert.Equal(TerraformChartRendering.Namespace, role.Namespace);
                    Assert.Equal($"database/static-creds/{role.StaticRole}", pod.VaultSecretPath);
                    used.Add(pod.VaultRole!);
                }
            }
        }

        Assert.Equal(vault.Roles.Keys.Order(), used.Order());
    }

    [Fact]
    public async Task TheEdgeLooksTheAlbUpByTheChartsIngressGroup()
    {
        var tree = await TerraformTree.LoadRepositoryAsync();

        foreach (var env in s_environments)
        {
            var group = tree.Tfvars[$"edge/envs/{env}.tfvars"]["ingress_group"]!.ToString();
            var hostnames = tree.Tfvars[$"environment/envs/{env}.tfvars"]["api_hostnames"]!.AsArray().Select(h => h!.ToString()).ToList();
            Assert.Equal(hostnames, tree.Tfvars[$"edge/envs/{env}.tfvars"]["api_hostnames"]!.AsArray().Select(h => h!.ToString()));

            foreach (var service in s_services)
            {
                var rendered = await TerraformChartRendering.RenderAsync(service, env);
                var ingress = Assert.Single(rendered.Documents, d => d["kind"]?.ToString() == "Ingress" && d["metadata"]?["annotations"]?["alb.ingress.kubernetes.io/scheme"]?.ToString() == "internet-facing");
                Assert.Equal(group, ingress["metadata"]!["annotations"]!["alb.ingress.kubernetes.io/group.name"]?.ToString());
                Assert.All(ingress["spec"]!["rules"]!.AsArray(), rule => Assert.Contains(rule!["host"]!.ToString(), hostnames));
            }
        }
    }

    [Fact]
    public async Task TheEnvironmentValuesUseTheNamesAndAddressesTerraformCreates()
    {
        var tree = await TerraformTree.LoadRepositoryAsync();
        var network = tree["modules/network"].Locals;
        var environment = tree["modules/environment"];
        Assert.Equal("studio-${var.environment}", environment.Locals["name"]?.ToString());
        Assert.Equal("${local.name}-assets-${local.account}", Assert.Single(environment.ModuleCalls, c => c.Name == "assets_bucket").Text("bucket"));
        Assert.Equal("${local.name}-origin", Assert.Single(tree["modules/origin-protection"].Resources("aws_wafv2_web_acl")).Text("name")?.Replace("var.name", "local.name", StringComparison.Ordinal));
        var scopes = Assert.Single(environment.ModuleCalls, c => c.Name == "cognito")["resource_servers"]!.AsObject()
            .SelectMany(server => server.Value!.AsObject().Select(scope => $"{server.Key}/{scope.Key}")).ToList();

        foreach (var env in s_environments)
        {
            var tfvars = tree.Tfvars[$"environment/envs/{env}.tfvars"];
            var vpc = tfvars["vpc_cidr"]!.ToString();
            var azs = "[" + string.Join(", ", tfvars["azs"]!.AsArray().Select(a => $"\"{a}\"")) + "]";
            string PerAz(string local) => $"[for az in {azs} : ({TerraformConsole.Unwrap(network[local]!.ToString())
                .Replace("local.az_index", $"{{ for index, az in {azs} : az => index }}", StringComparison.Ordinal)
                .Replace("var.cidr", $"\"{vpc}\"", StringComparison.Ordinal)})[az]]";
            var cidrs = await TerraformConsole.EvaluateAsync([PerAz("public_cidrs"), PerAz("database_cidrs")]);
            Assert.All(tfvars["machine_clients"]!.AsObject(), client => Assert.All(client.Value!["scopes"]!.AsArray(), scope => Assert.Contains(scope!.ToString(), scopes)));

            foreach (var service in s_services)
            {
                var values = (await HclJson.YamlDocumentsAsync(Repo.PathOf("deploy", "gitops", "envs", env, $"{service}.yaml")))[0]!;
                var defaults = (await HclJson.YamlDocumentsAsync(Repo.PathOf("deploy", "helm", "values", $"{service}.yaml")))[0]!;
                var where = $"deploy/gitops/envs/{env}/{service}.yaml";

                Assert.True(vpc == values["vpcCidr"]?.ToString(), $"{where}: vpcCidr is not the VPC's {vpc}");
                Assert.True(JsonNode.DeepEquals(cidrs[0], values["networkPolicy"]?["loadBalancerCidrs"]), $"{where}: loadBalancerCidrs are not the public subnets {cidrs[0]!.ToJsonString()}");
                Assert.True(JsonNode.DeepEquals(cidrs[1], values["networkPolicy"]?["databaseCidrs"]), $"{where}: databaseCidrs are not the database subnets {cidrs[1]!.ToJsonString()}");
                Assert.Contains(defaults["auth"]?["writeScope"]?.ToString(), scopes);
                Assert.StartsWith($"Host=studio-{env}.cluster-", values["database"]?["writer"]?.ToString(), StringComparison.Ordinal);
                Assert.StartsWith($"Host=studio-{env}.cluster-ro-", values["database"]?["reader"]?.ToString(), StringComparison.Ordinal);
                Assert.All(new[] { "writer", "reader" }, endpoint => Assert.Contains($";Database={service};SSL Mode=VerifyFull", values["database"]?[endpoint]?.ToString(), StringComparison.Ordinal));
                Assert.Contains($":regional/webacl/studio-{env}-origin/", values["ingress"]?["wafv2AclArn"]?.ToString(), StringComparison.Ordinal);
                if (service == "assets")
                {
                    Assert.Matches($"^studio-{env}-assets-[0-9]{{12}}$", values["env"]?["Storage__Bucket"]?.ToString());
                    Assert.Equal($"https://{tfvars["media_hostname"]}", values["env"]?["Storage__CdnBaseUrl"]?.ToString());
                }
            }
        }
    }

    private static async Task<string> ChartName()
    {
        var chart = Repo.PathOf("deploy", "helm", "service", "Chart.yaml");
        Assert.True(File.Exists(chart), "deploy/helm/service/Chart.yaml is missing (the chart the pipeline publishes)");
        return (await HclJson.YamlDocumentsAsync(chart))[0]!["name"]!.ToString();
    }

    [GeneratedRegex(@"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/([a-z0-9/_.-]+):")]
    private static partial Regex EcrRepository();
}

/// <summary>The chart rendered for one service and environment as Argo CD renders it: release = service name,
/// namespace studio, the service's values then the environment's GitOps values.</summary>
public sealed class TerraformChartRendering
{
    public const string Namespace = "studio";

    private static readonly ConcurrentDictionary<(string, string), Lazy<Task<TerraformChartRendering>>> s_cache = new();

    private TerraformChartRendering(JsonArray documents) => Documents = documents.OfType<JsonObject>().ToList();

    public IReadOnlyList<JsonObject> Documents { get; }

    private static string NamespaceOf(JsonObject document) => document["metadata"]?["namespace"]?.ToString() ?? Namespace;

    public IEnumerable<(string Namespace, string Name, string? RoleArn)> ServiceAccounts =>
        Documents.Where(d => d["kind"]?.ToString() == "ServiceAccount")
            .Select(d => (NamespaceOf(d), d["metadata"]!["name"]!.ToString(), d["metadata"]?["annotations"]?["eks.amazonaws.com/role-arn"]?.ToString()));

    /// <summary>Every pod template in the rendering (Rollout, Jobs, AnalysisTemplate jobs), wherever it is nested.</summary>
    public IEnumerable<TerraformPodTemplate> PodTemplates => Documents.SelectMany(d => FindPodTemplates(d, $"{d["kind"]}/{d["metadata"]?["name"]}"));

    public static Task<TerraformChartRendering> RenderAsync(string service, string environment) =>
        s_cache.GetOrAdd((service, environment), key => new Lazy<Task<TerraformChartRendering>>(() => RenderCoreAsync(key.Item1, key.Item2))).Value;

    private static async Task<TerraformChartRendering> RenderCoreAsync(string service, string environment)
    {
        var chart = Repo.PathOf("deploy", "helm", "service");
        var values = ChartRendering.ValuesFiles(service, environment);
        foreach (var required in values.Prepend(Path.Combine(chart, "Chart.yaml")))
        {
            Assert.True(File.Exists(required), $"{Path.GetRelativePath(Repo.Root, required)} is missing: the chart and its values must exist to cross-check Terraform's names");
        }

        var manifest = await Tool.RunAsync(DeployTools.Helm,
            ["template", service, chart, "--namespace", Namespace, .. values.SelectMany(v => new[] { "--values", v })]);
        return new TerraformChartRendering(await HclJson.YamlDocumentsOfTextAsync(manifest));
    }

    private static IEnumerable<TerraformPodTemplate> FindPodTemplates(JsonNode? node, string owner)
    {
        if (node is JsonObject obj)
        {
            if (obj["spec"]?["containers"] is JsonArray containers)
            {
                var annotations = obj["metadata"]?["annotations"];
                yield return new TerraformPodTemplate(owner,
                    obj["spec"]!["serviceAccountName"]?.ToString(),
                    annotations?["vault.hashicorp.com/role"]?.ToString(),
                    annotations?["vault.hashicorp.com/agent-inject-secret-database.json"]?.ToString(),
                    containers.Concat(obj["spec"]!["initContainers"]?.AsArray() ?? []).Select(c => c!["image"]!.ToString()).ToList());
            }

            foreach (var (_, child) in obj)
            {
                foreach (var template in FindPodTemplates(child, owner)) yield return template;
            }
        }
        else if (node is JsonArray array)
        {
            foreach (var child in array)
            {
                foreach (var template in FindPodTemplates(child, owner)) yield return template;
            }
        }
    }
}

public sealed record TerraformPodTemplate(string Owner, string? ServiceAccount, string? VaultRole, string? VaultSecretPath, IReadOnlyList<string> Images);
