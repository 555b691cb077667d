using System.Text.Json.Nodes;
using TestKit;

namespace Deploy.Tests;

/// <summary>deploy/terraform keeps the architecture's promises: checked over the parsed HCL (no provider can be
/// downloaded here, so no plan), with variable validations evaluated by Terraform itself.</summary>
public sealed class TerraformPolicyTests
{
    private static readonly string[] s_environments = ["dev", "staging", "prod"];

    [Fact]
    public async Task EveryFileIsFormattedAsTerraformFmtWrites()
    {
        var (exitCode, output) = await TerraformFmtCheckAsync(TerraformTree.Root);

        Assert.True(exitCode == 0, $"terraform fmt -check -recursive deploy/terraform lists unformatted files (run terraform fmt -recursive):\n{output}");
    }

    [Fact]
    public async Task TheLayoutHasModulesASharedRootAndOneRootPerLayerWithAFilePerEnvironment()
    {
        var tree = await TerraformTree.LoadRepositoryAsync();

        Assert.Equal(["bootstrap", "edge", "environment", "shared", "vault"], tree.Roots.Select(r => r.Path).Order(StringComparer.Ordinal));
        Assert.All(s_environments, env =>
        {
            foreach (var layer in TerraformLayoutTests.PerEnvironmentRoots)
                Assert.Contains($"{layer}/envs/{env}.tfvars", tree.Tfvars.Keys);
        });
        foreach (var module in tree.Modules)
        {
            foreach (var file in new[] { "main.tf", "variables.tf", "outputs.tf", "versions.tf" })
                Assert.True(File.Exists(Path.Combine(TerraformTree.Root, module.Path, file)), $"{module} has no {file}");
        }
    }

    [Fact]
    public async Task EveryVariableIsTypedAndDescribedAndEveryOutputDescribed()
    {
        var tree = await TerraformTree.LoadRepositoryAsync();

        Assert.Empty(tree.Directories.Values.SelectMany(TerraformPolicy.Documented));
    }

    [Fact]
    public async Task EveryModuleDeclaresItsVersionsAndAppliesTags()
    {
        var tree = await TerraformTree.LoadRepositoryAsync();

        Assert.Empty(tree.Modules.SelectMany(TerraformPolicy.ModuleSettings));
    }

    [Fact]
    public async Task EveryRootKeepsLockedEncryptedStateInS3AndPinsItsProviders()
    {
        var tree = await TerraformTree.LoadRepositoryAsync();

        Assert.Empty(tree.Roots.SelectMany(TerraformPolicy.RootSettings));
        Assert.All(tree.Roots.Where(r => r.Path != "bootstrap"), root =>
            Assert.NotNull(root.Settings?["backend"]?["s3"]));
    }

    [Fact]
    public async Task EveryAzHasItsOwnNatGateway()
    {
        var tree = await TerraformTree.LoadRepositoryAsync();

        Assert.Empty(TerraformPolicy.NatGatewayPerAz(tree["modules/network"]));
    }

    [Fact]
    public async Task PublicPrivateAndDatabaseSubnetsSpanTheAzs()
    {
        var tree = await TerraformTree.LoadRepositoryAsync();

        Assert.Empty(TerraformPolicy.SubnetsPerAz(tree["modules/network"]));
    }

    [Fact]
    public async Task EveryEnvironmentSpansThreeDistinctAzs()
    {
        var tree = await TerraformTree.LoadRepositoryAsync();
        var accepted = await TerraformValidation.AcceptsAsync(ModuleDirectory("network"), [
            Azs("a", "b", "c"),
            Azs("a", "b"),
            Azs("a", "a", "b"),
            Azs("a", "b", "c", "d"),
        ]);

        Assert.Equal([true, false, false, false], accepted);
        Assert.All(s_environments, env =>
        {
            var values = tree.Tfvars[$"environment/envs/{env}.tfvars"]["azs"]!.AsArray().Select(a => a!.ToString()).ToList();
            Assert.Equal(3, values.Distinct().Count());
            Assert.Equal(values.Count, values.Distinct().Count());
        });
    }

    [Fact]
    public async Task ImagePullsTokenExchangeAndS3StayInsideTheVpc()
    {
        var tree = await TerraformTree.LoadRepositoryAsync();
        var network = tree["modules/network"];

        // ECR (API and layers), STS (the IRSA token exchange) and CloudWatch Logs over interface endpoints in the
        // private subnets, with private DNS so the SDKs' default endpoints resolve to them.
        var endpoints = network.Variables["interface_endpoints"]["default"]!.AsArray().Select(e => e!.ToString()).ToHashSet();
        Assert.Superset(new HashSet<string> { "ecr.api", "ecr.dkr", "sts", "logs" }, endpoints);
        Assert.DoesNotContain(tree.Directories.Values.SelectMany(d => d.ModuleCalls), c => c.Body.ContainsKey("interface_endpoints"));
        var interfaceEndpoint = Assert.Single(network.Resources("aws_vpc_endpoint"), e => e.Text("vpc_endpoint_type") == "Interface");
        Assert.True(interfaceEndpoint.Flag("private_dns_enabled"));
        Assert.Contains("aws_subnet.private", interfaceEndpoint["subnet_ids"]!.ToJsonString(), StringComparison.Ordinal);

        // S3 through the free gateway endpoint, on the route tables of the pods' and the databases' subnets.
        var s3 = Assert.Single(network.Resources("aws_vpc_endpoint"), e => e.Text("vpc_endpoint_type") == "Gateway");
        Assert.EndsWith(".s3", s3.Text("service_name"), StringComparison.Ordinal);
        var routes = s3["route_table_ids"]!.ToJsonString();
        Assert.Contains("aws_route_table.private", routes, StringComparison.Ordinal);
        Assert.Contains("aws_route_table.database", routes, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheBastionHasNoInboundRuleNoPublicAddressAndOnlySsmRights()
    {
        var tree = await TerraformTree.LoadRepositoryAsync();
        var bastion = tree["modules/bastion"];

        var instance = Assert.Single(bastion.Resources("aws_instance"));
        Assert.False(instance.Flag("associate_public_ip_address"));
        Assert.Null(instance["key_name"]);
        Assert.Equal("required", instance.Nested("metadata_options")!["http_tokens"]?.ToString());
        Assert.True(instance.Nested("root_block_device")!["encrypted"]?.GetValue<bool>());
        Assert.Empty(bastion.Resources("aws_vpc_security_group_ingress_rule"));
        Assert.Null(Assert.Single(bastion.Resources("aws_security_group"))["ingress"]);
        var attachment = Assert.Single(bastion.Resources("aws_iam_role_policy_attachment"));
        Assert.EndsWith(":iam::aws:policy/AmazonSSMManagedInstanceCore", attachment.Text("policy_arn"), StringComparison.Ordinal);
        Assert.Empty(bastion.Resources("aws_iam_role_policy"));

        var call = Assert.Single(tree["modules/environment"].ModuleCalls, c => c.Name == "bastion");
        Assert.Contains("private_subnet_ids", call.Text("subnet_id"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CloudFrontCachesOnlyWhatTheOriginAllowsAndKeysOnTheReadYourWritesToken()
    {
        var tree = await TerraformTree.LoadRepositoryAsync();
        var cdn = tree["modules/api-cdn"];

        // Cache-Control from the service decides (default and minimum TTL 0); a pinned read answers private, no-store.
        var policy = Assert.Single(cdn.Resources("aws_cloudfront_cache_policy"));
        Assert.Equal("0", policy["default_ttl"]!.ToString());
        Assert.Equal("0", policy["min_ttl"]!.ToString());
        var key = policy.Nested("parameters_in_cache_key_and_forwarded_to_origin")!.ToJsonString();
        Assert.Contains("\"query_string_behavior\":\"all\"", key, StringComparison.Ordinal);
        Assert.Contains("${var.read_your_writes_header}", key, StringComparison.Ordinal);
        Assert.Contains("\"Authorization\"", key, StringComparison.Ordinal);

        // The header CloudFront keys on is the one the platform reads and writes.
        var platform = File.ReadAllText(Repo.PathOf("src", "Platform", "ReadYourWrites.cs"));
        var header = System.Text.RegularExpressions.Regex.Match(platform, "const string Header = \"([^\"]+)\"").Groups[1].Value;
        Assert.Equal(header, cdn.Variables["read_your_writes_header"]["default"]!.ToString());
        Assert.DoesNotContain(tree.Directories.Values.SelectMany(d => d.ModuleCalls), c => c.Body.ContainsKey("read_your_writes_header"));

        var distribution = Assert.Single(cdn.Resources("aws_cloudfront_distribution"));
        var behaviour = distribution.Nested("default_cache_behavior")!;
        Assert.Equal(["GET", "HEAD"], behaviour["cached_methods"]!.AsArray().Select(m => m!.ToString()));
        Assert.Equal("https-only", behaviour["viewer_protocol_policy"]!.ToString());
        // Errors are never cached beyond what the origin says: a 503 during a failover is not served to everyone.
        Assert.Contains("\"error_caching_min_ttl\":0", distribution["dynamic"]!.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheEksApiEndpointIsPrivateOnly()
    {
        var tree = await TerraformTree.LoadRepositoryAsync();

        Assert.Single(tree.Directories.Values.SelectMany(d => d.Resources("aws_eks_cluster")));
        Assert.Empty(tree.Directories.Values.SelectMany(TerraformPolicy.EksEndpointPrivate));
    }

    [Fact]
    public async Task NodeGroupsSpanEveryAzAndPodsGetAwsAccessThroughTheClustersOidcProvider()
    {
        var tree = await TerraformTree.LoadRepositoryAsync();
        var eks = tree["modules/eks"];

        // One managed node group per (group, AZ), each pinned to its AZ's private subnet: the autoscaler can grow the
        // AZ where a pending pod's EBS volume lives.
        var expansion = eks.Locals["node_groups"]!.ToString();
        Assert.Contains("for az, subnet_id in var.subnet_ids", expansion, StringComparison.Ordinal);
        var nodeGroup = Assert.Single(eks.Resources("aws_eks_node_group"));
        Assert.Equal("${local.node_groups}", nodeGroup.Text("for_each"));
        Assert.Equal("[\"${each.value.subnet_id}\"]", nodeGroup["subnet_ids"]!.ToJsonString());
        var call = Assert.Single(tree["modules/environment"].ModuleCalls, c => TerraformConfig.IsModuleSource(c, "eks"));
        Assert.Equal("${module.network.private_subnet_ids}", call.Text("subnet_ids"));

        // IRSA: the cluster's own issuer, trusted for STS only.
        var oidc = Assert.Single(eks.Resources("aws_iam_openid_connect_provider"));
        Assert.Equal("${aws_eks_cluster.this.identity[0].oidc[0].issuer}", oidc.Text("url"));
        Assert.Equal("[\"sts.amazonaws.com\"]", oidc["client_id_list"]!.ToJsonString());

        // Managed add-ons after the nodes: DNS and the EBS CSI driver with its own IRSA role (gp3 volumes for Prometheus,
        // Alertmanager, Elasticsearch and Vault).
        var addons = Assert.Single(eks.Resources("aws_eks_addon"), a => a.Name == "this")["for_each"]!.AsObject();
        Assert.Equal(["aws-ebs-csi-driver", "coredns"], addons.Select(a => a.Key).Order(StringComparer.Ordinal));
        Assert.Equal("${module.addon_irsa[\"ebs-csi\"].arn}", addons["aws-ebs-csi-driver"]!.ToString());
    }

    /// <summary>With bootstrap_self_managed_addons = false EKS installs no networking itself. A node is Ready once the
    /// VPC CNI runs on it, and the CNI reaches the API server through the kubernetes Service, which kube-proxy
    /// programs: both DaemonSets must exist before the node groups. CoreDNS and the EBS CSI controller are
    /// Deployments that need nodes, so they come after.</summary>
    [Fact]
    public async Task NetworkingAddOnsComeBeforeTheNodesAndTheDeploymentsAfterThem()
    {
        var eks = (await TerraformTree.LoadRepositoryAsync())["modules/eks"];
        var addons = eks.Resources("aws_eks_addon").ToList();
        var nodeGroup = Assert.Single(eks.Resources("aws_eks_node_group"));
        var nodesWaitFor = nodeGroup["depends_on"]!.AsArray().Select(d => d!.ToString()).ToList();

        Assert.False(Assert.Single(eks.Resources("aws_eks_cluster")).Flag("bootstrap_self_managed_addons"));
        foreach (var name in new[] { "vpc-cni", "kube-proxy" })
        {
            var addon = Assert.Single(addons, a => a.Text("addon_name") == name);
            Assert.Contains($"${{aws_eks_addon.{addon.Name}}}", nodesWaitFor);
            Assert.Null(addon["depends_on"]);
        }
        var afterNodes = Assert.Single(addons, a => a.Name == "this");
        Assert.Equal(["${aws_eks_node_group.this}"], afterNodes["depends_on"]!.AsArray().Select(d => d!.ToString()));
        Assert.Equal("${each.key}", afterNodes.Text("addon_name"));
        // The move keeps the existing kube-proxy add-on instead of deleting and recreating it.
        var moved = Assert.Single(eks.Json["moved"]!.AsArray());
        Assert.Equal("${aws_eks_addon.this[\"kube-proxy\"]}", moved!["from"]!.ToString());
        Assert.Equal("${aws_eks_addon.kube_proxy}", moved["to"]!.ToString());
    }

    /// <summary>engine_version "16.6" with auto_minor_version_upgrade drifted once AWS upgraded the minor version, and the
    /// next apply asked RDS for a downgrade, which it refuses ("Cannot upgrade aurora-postgresql from 16.8 to 16.6").
    /// The AWS provider keeps a configured version that is a prefix of the running one (compareActualEngineVersion,
    /// internal/service/rds/verify.go: configured "8.0", running "8.0.27" stays "8.0"), so the module takes the major
    /// version only and refuses a minor.</summary>
    [Fact]
    public async Task AuroraTakesTheMajorVersionSoMinorUpgradesNeitherDriftNorFail()
    {
        var tree = await TerraformTree.LoadRepositoryAsync();
        var aurora = tree["modules/aurora-postgresql"];

        var accepted = await TerraformValidation.AcceptsAsync(ModuleDirectory("aurora-postgresql"), [
            new Dictionary<string, string> { ["engine_version"] = "\"16\"" },
            new Dictionary<string, string> { ["engine_version"] = "\"16.6\"" },
        ]);

        Assert.Equal([true, false], accepted);
        Assert.Equal("16", aurora.Variables["engine_version"]["default"]!.ToString());
        Assert.Equal("${var.engine_version}", Assert.Single(aurora.Resources("aws_rds_cluster")).Text("engine_version"));
        Assert.All(aurora.Resources("aws_rds_cluster_instance"), instance =>
        {
            Assert.True(instance.Flag("auto_minor_version_upgrade"));
            Assert.Equal("${aws_rds_cluster.this.engine_version}", instance.Text("engine_version"));
        });
        Assert.DoesNotContain(tree.Directories.Values.SelectMany(d => d.ModuleCalls),
            call => TerraformConfig.IsModuleSource(call, "aurora-postgresql") && call.Body.ContainsKey("engine_version"));
    }

    [Fact]
    public async Task EveryBranchHasItsOwnPipeline()
    {
        var tree = await TerraformTree.LoadRepositoryAsync();
        var pipeline = Assert.Single(tree["modules/pipeline"].Resources("aws_codepipeline"));

        Assert.Equal("${var.branches}", pipeline.Text("for_each"));
        Assert.Contains("each.key", pipeline.Text("name"), StringComparison.Ordinal);
        Assert.Contains("each.key", pipeline.Body.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheVpcCniEnforcesNetworkPolicies()
    {
        var tree = await TerraformTree.LoadRepositoryAsync();
        var cni = Assert.Single(tree["modules/eks"].Resources("aws_eks_addon"), a => a.Text("addon_name") == "vpc-cni");

        var configuration = await TerraformConsole.EvaluateAsync([TerraformConsole.Unwrap(cni.Text("configuration_values")!)]);

        Assert.Equal("true", JsonNode.Parse(configuration[0]!.GetValue<string>())!["enableNetworkPolicy"]?.ToString());
    }

    [Fact]
    public async Task AuroraIsEncryptedPrivateTlsOnlyObservedAndAlarmed()
    {
        var tree = await TerraformTree.LoadRepositoryAsync();

        Assert.Empty(TerraformPolicy.AuroraHardening(tree["modules/aurora-postgresql"]));
    }

    [Fact]
    public async Task AuroraAdmitsPostgreSqlFromTheClusterAndTheBastionOnly()
    {
        var tree = await TerraformTree.LoadRepositoryAsync();
        var aurora = tree["modules/aurora-postgresql"];

        // Ingress only by security-group reference, on the PostgreSQL port: never a CIDR, never another port.
        var ingress = Assert.Single(aurora.Resources("aws_vpc_security_group_ingress_rule"));
        Assert.Equal("${var.allowed_security_group_ids}", ingress.Text("for_each"));
        Assert.Equal("${each.value}", ingress.Text("referenced_security_group_id"));
        Assert.Null(ingress["cidr_ipv4"]);
        Assert.Equal("${local.port}", ingress.Text("from_port"));
        Assert.Equal("${local.port}", ingress.Text("to_port"));
        Assert.Null(Assert.Single(aurora.Resources("aws_security_group"))["ingress"]);

        var call = Assert.Single(tree["modules/environment"].ModuleCalls, c => TerraformConfig.IsModuleSource(c, "aurora-postgresql"));
        var allowed = call["allowed_security_group_ids"]!.AsObject();
        Assert.Equal(["bastion", "eks-nodes"], allowed.Select(a => a.Key).Order(StringComparer.Ordinal));
        Assert.Equal("${module.eks.cluster_security_group_id}", allowed["eks-nodes"]!.ToString());
        Assert.Equal("${module.bastion.security_group_id}", allowed["bastion"]!.ToString());
    }

    [Fact]
    public async Task AuroraReadersAreNeverInTheWritersAz()
    {
        var tree = await TerraformTree.LoadRepositoryAsync();
        var aurora = tree["modules/aurora-postgresql"];
        var environment = tree["modules/environment"];

        // The module refuses a reader in the writer's AZ...
        var accepted = await TerraformValidation.AcceptsAsync(ModuleDirectory("aurora-postgresql"), [
            new Dictionary<string, string> { ["reader_availability_zones"] = """["b", "c"]""", ["writer_availability_zone"] = "\"a\"" },
            new Dictionary<string, string> { ["reader_availability_zones"] = """["b", "a"]""", ["writer_availability_zone"] = "\"a\"" },
            new Dictionary<string, string> { ["reader_availability_zones"] = "[]", ["writer_availability_zone"] = "\"a\"" },
        ]);
        Assert.Equal([true, false, false], accepted);
        Assert.Equal("${var.writer_availability_zone}", Assert.Single(aurora.Resources("aws_rds_cluster_instance"), i => i.Name == "writer").Text("availability_zone"));
        Assert.Contains("var.reader_availability_zones", aurora.Locals["readers"]!.ToString(), StringComparison.Ordinal);

        // ...and the environment places them: writer in the first AZ, readers spread over the other two.
        var writer = TerraformConsole.Unwrap(environment.Locals["writer_az"]!.ToString());
        var readers = TerraformConsole.Unwrap(environment.Locals["reader_azs"]!.ToString());
        foreach (var count in new[] { 1, 2, 3, 5 })
        {
            var values = await TerraformConsole.EvaluateAsync([
                writer.Replace("var.azs", """["z1", "z2", "z3"]""", StringComparison.Ordinal),
                readers.Replace("var.azs", """["z1", "z2", "z3"]""", StringComparison.Ordinal).Replace("var.aurora_reader_count", count.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal),
            ]);
            var readerAzs = values[1]!.AsArray().Select(a => a!.ToString()).ToList();
            Assert.Equal("z1", values[0]!.ToString());
            Assert.Equal(count, readerAzs.Count);
            Assert.DoesNotContain("z1", readerAzs);
            Assert.Equal(Math.Min(count, 2), readerAzs.Distinct().Count());
        }
    }

    [Fact]
    public async Task BackupRetentionIsValidatedToAuroras1To35Days()
    {
        var tree = await TerraformTree.LoadRepositoryAsync();
        var cases = new[] { 0, 1, 35, 36 };

        foreach (var (directory, variable) in new[] { ("modules/aurora-postgresql", "backup_retention_period"), ("modules/environment", "backup_retention_days") })
        {
            var accepted = await TerraformValidation.AcceptsAsync(Path.Combine(TerraformTree.Root, directory),
                cases.Select(days => (IReadOnlyDictionary<string, string>)new Dictionary<string, string> { [variable] = days.ToString(System.Globalization.CultureInfo.InvariantCulture) }).ToList());

            Assert.True(accepted.SequenceEqual([false, true, true, false]), $"{directory} var.{variable} accepts {string.Join(", ", cases.Zip(accepted).Where(c => c.Second).Select(c => c.First))}");
        }

        Assert.All(s_environments, env => Assert.InRange(tree.Tfvars[$"environment/envs/{env}.tfvars"]["backup_retention_days"]!.GetValue<int>(), 1, 35));
    }

    [Fact]
    public async Task ProdKeepsDeletionProtectionOn()
    {
        var tree = await TerraformTree.LoadRepositoryAsync();
        var environment = tree["modules/environment"];

        var accepted = await TerraformValidation.AcceptsAsync(ModuleDirectory("environment"), [
            new Dictionary<string, string> { ["environment"] = "\"prod\"", ["deletion_protection"] = "false" },
            new Dictionary<string, string> { ["environment"] = "\"prod\"", ["deletion_protection"] = "true" },
            new Dictionary<string, string> { ["environment"] = "\"dev\"", ["deletion_protection"] = "false" },
        ]);

        Assert.Equal([false, true, true], accepted);
        Assert.True(tree.Tfvars["environment/envs/prod.tfvars"]["deletion_protection"]!.GetValue<bool>());
        Assert.Equal("${var.deletion_protection}", Assert.Single(environment.ModuleCalls, c => c.Name == "aurora").Text("deletion_protection"));
        Assert.Equal("${var.deletion_protection}", Assert.Single(tree["modules/aurora-postgresql"].Resources("aws_rds_cluster")).Text("deletion_protection"));
        Assert.Equal("${var.deletion_protection}", Assert.Single(tree["environment"].ModuleCalls).Text("deletion_protection"));
    }

    [Fact]
    public async Task EveryBucketBlocksPublicAccessKeepsVersionsAndEncryptsWithKms()
    {
        var tree = await TerraformTree.LoadRepositoryAsync();

        Assert.Empty(tree.Directories.Values.SelectMany(TerraformPolicy.BucketHardening));
        // Buckets are made by the hardened module only, so every bucket call inherits the checks above.
        Assert.Equal(["modules/s3-bucket"], tree.Directories.Values.Where(d => d.Resources("aws_s3_bucket").Any()).Select(d => d.Path));
        var bucketCalls = tree.Directories.Values.SelectMany(d => d.ModuleCalls.Where(c => TerraformConfig.IsModuleSource(c, "s3-bucket"))).ToList();
        Assert.True(bucketCalls.Count >= 4, "expected the state, artifact, assets and backup buckets");
        Assert.All(bucketCalls, call => Assert.NotNull(call.Text("kms_key_arn")));
    }

    [Fact]
    public async Task EveryEcrRepositoryScansOnPushKeepsTagsImmutableAndExpiresOldImages()
    {
        var tree = await TerraformTree.LoadRepositoryAsync();

        Assert.NotEmpty(tree.Directories.Values.SelectMany(d => d.Resources("aws_ecr_repository")));
        Assert.Empty(tree.Directories.Values.SelectMany(TerraformPolicy.EcrHardening));
    }

    [Fact]
    public async Task EveryIrsaTrustPolicyNamesExactlyOneServiceAccount()
    {
        var tree = await TerraformTree.LoadRepositoryAsync();
        var bindings = tree.Directories.Values.Select(TerraformPolicy.IrsaBindings).ToList();

        Assert.Empty(TerraformPolicy.IrsaTrustPolicyIsExact(tree["modules/irsa-role"]));
        Assert.Empty(tree.Directories.Values.SelectMany(TerraformPolicy.WebIdentityTrustOnlyInIrsaModule));
        Assert.Empty(bindings.SelectMany(b => b.Violations));
        // Only Assets calls AWS among the workloads: one role in namespace studio, for its own service account.
        var workload = Assert.Single(bindings.SelectMany(b => b.Bindings), b => b.Namespace == "studio");
        Assert.Equal("assets", workload.ServiceAccount);
    }

    [Fact]
    public async Task TheAssetsRoleReachesItsBucketPrefixAndKeyOnly()
    {
        var tree = await TerraformTree.LoadRepositoryAsync();
        var environment = tree["modules/environment"];
        var call = Assert.Single(environment.ModuleCalls, c => c.Name == "assets_irsa");
        var policy = Assert.Single(environment.Data("aws_iam_policy_document"), d => call["inline_policies"]!.ToJsonString().Contains($"data.aws_iam_policy_document.{d.Name}.json", StringComparison.Ordinal));

        var statements = policy.NestedAll("statement").ToList();
        var actions = statements.SelectMany(s => s["actions"]!.AsArray().Select(a => a!.ToString())).Order();
        Assert.Equal(["kms:Decrypt", "kms:GenerateDataKey", "s3:DeleteObject", "s3:GetObject", "s3:PutObject"], actions);
        Assert.All(statements, s => Assert.DoesNotContain(s["resources"]!.AsArray(), r => r!.ToString() == "*"));
        Assert.Contains(statements, s => s["resources"]!.ToJsonString().Contains("module.assets_bucket.arn", StringComparison.Ordinal));
        Assert.Contains(statements, s => s["resources"]!.ToJsonString().Contains("module.assets_key.key_arn", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PullRequestBuildsCannotPushAndBranchPipelinesListenToTheAppRepositoryOnly()
    {
        var tree = await TerraformTree.LoadRepositoryAsync();
        var pipeline = tree["modules/pipeline"];

        var target = Assert.Single(pipeline.Resources("aws_cloudwatch_event_target"), t => t.Name == "pull_request");
        var input = target.Nested("input_transformer")!["input_template"]!.ToString();
        Assert.Contains("""{"name": "PUSH", "value": "false", "type": "PLAINTEXT"}""", input, StringComparison.Ordinal);
        var project = Assert.Single(pipeline.Resources("aws_codebuild_project"), p => p.Name == "pull_request");
        var variables = project.Nested("environment")!["dynamic"]!["environment_variable"]![0]!["for_each"]!.ToString();
        Assert.Contains("PUSH = \"false\"", variables, StringComparison.Ordinal);

        // The push policy is attached to the branch pipelines' role only.
        var push = Assert.Single(pipeline.Resources("aws_iam_role_policy"), p => p.Text("policy")?.Contains("aws_iam_policy_document.push", StringComparison.Ordinal) == true);
        Assert.Equal("${aws_iam_role.codebuild[\"build\"].id}", push.Text("role"));
        Assert.DoesNotContain("ecr:PutImage", pipeline.Data("aws_iam_policy_document").Single(d => d.Name == "codebuild_common").Body.ToJsonString(), StringComparison.Ordinal);

        // Every trigger names the application repository; the GitOps repository never appears in the pipeline.
        Assert.All(pipeline.Resources("aws_cloudwatch_event_rule"), rule => Assert.Contains("local.repository.arn", rule.Text("event_pattern"), StringComparison.Ordinal));
        var call = Assert.Single(tree["shared"].ModuleCalls, c => c.Name == "pipeline");
        Assert.Equal("${aws_codecommit_repository.app.repository_name}", call.Text("repository_name"));
    }

    private static string ModuleDirectory(string module) => Path.Combine(TerraformTree.Root, "modules", module);

    private static Dictionary<string, string> Azs(params string[] azs) =>
        new() { ["azs"] = "[" + string.Join(", ", azs.Select(a => $"\"{a}\"")) + "]" };

    internal static async Task<(int ExitCode, string Output)> TerraformFmtCheckAsync(string directory)
    {
        var cliConfig = Path.GetTempFileName();
        try
        {
            return await Tool.RunRawAsync(DeployTools.Terraform, ["fmt", "-check", "-recursive", "-no-color", directory], Repo.Root,
                new Dictionary<string, string> { ["TF_CLI_CONFIG_FILE"] = cliConfig });
        }
        finally
        {
            File.Delete(cliConfig);
        }
    }
}
