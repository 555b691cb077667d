using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Deploy.Tests;

/// <summary>The architecture's promises as checks over parsed HCL. Each returns what is wrong, so a test asserts an
/// empty list and a negative test feeds a deliberately wrong snippet and asserts the complaint.</summary>
public static partial class TerraformPolicy
{
    /// <summary>A NAT gateway per AZ: the gateways are created once per AZ (for_each over an AZ-keyed collection), each
    /// sits in its own AZ's public subnet, and every private route table sends its default route to its own AZ's one.</summary>
    public static IEnumerable<string> NatGatewayPerAz(TerraformConfig config)
    {
        var gateways = config.Resources("aws_nat_gateway").ToList();
        if (gateways.Count == 0) yield return $"{config}: no aws_nat_gateway";
        foreach (var gateway in gateways)
        {
            if (!IteratesOverAzs(config, gateway))
                yield return $"{config}: {gateway} is not created once per AZ (for_each over var.azs or a map derived from it)";
            if (gateway.Text("subnet_id") is not { } subnet || !subnet.Contains("aws_subnet.public[each.key]", StringComparison.Ordinal))
                yield return $"{config}: {gateway} is not placed in the public subnet of its own AZ (aws_subnet.public[each.key])";
        }

        var natRoutes = config.Resources("aws_route").Where(r => r.Text("nat_gateway_id") is not null).ToList();
        if (natRoutes.Count == 0) yield return $"{config}: no route sends private traffic to a NAT gateway";
        foreach (var route in natRoutes)
        {
            if (!IteratesOverAzs(config, route))
                yield return $"{config}: {route} is not one route per AZ";
            if (!route.Text("nat_gateway_id")!.Contains("[each.key]", StringComparison.Ordinal))
                yield return $"{config}: {route} does not use its own AZ's NAT gateway ([each.key])";
        }
    }

    /// <summary>Public, private and database subnets in every AZ; database subnets have no route out of the VPC and
    /// no subnet hands out public addresses.</summary>
    public static IEnumerable<string> SubnetsPerAz(TerraformConfig config)
    {
        foreach (var tier in new[] { "public", "private", "database" })
        {
            var subnet = config.Resources("aws_subnet").FirstOrDefault(s => s.Name == tier);
            if (subnet is null) yield return $"{config}: no aws_subnet.{tier}";
            else if (!IteratesOverAzs(config, subnet)) yield return $"{config}: aws_subnet.{tier} is not created in every AZ";
            if (subnet?.Flag("map_public_ip_on_launch") == true) yield return $"{config}: aws_subnet.{tier} gives instances public addresses";
        }

        foreach (var route in config.Resources("aws_route"))
        {
            if (route.Text("route_table_id")?.Contains("aws_route_table.database", StringComparison.Ordinal) == true)
                yield return $"{config}: {route} gives the database subnets a route out of the VPC";
        }
    }

    /// <summary>The EKS API is reachable from inside the VPC only.</summary>
    public static IEnumerable<string> EksEndpointPrivate(TerraformConfig config)
    {
        foreach (var cluster in config.Resources("aws_eks_cluster"))
        {
            var vpc = cluster.Nested("vpc_config");
            if (vpc?["endpoint_public_access"]?.GetValue<bool>() != false)
                yield return $"{config}: {cluster} must set endpoint_public_access = false";
            if (vpc?["endpoint_private_access"]?.GetValue<bool>() != true)
                yield return $"{config}: {cluster} must set endpoint_private_access = true";
        }
    }

    /// <summary>Aurora: encrypted with a customer key, TLS forced, not public, master secret managed by RDS,
    /// deletion protection and retention from validated variables, instances observable, alarms to SNS.</summary>
    public static IEnumerable<string> AuroraHardening(TerraformConfig config)
    {
        var clusters = config.Resources("aws_rds_cluster").ToList();
        if (clusters.Count == 0) yield return $"{config}: no aws_rds_cluster";
        foreach (var cluster in clusters)
        {
            if (cluster.Flag("storage_encrypted") != true) yield return $"{config}: {cluster} must set storage_encrypted = true";
            if (cluster.Text("kms_key_id") is null) yield return $"{config}: {cluster} must encrypt with a customer-managed key (kms_key_id)";
            if (cluster.Flag("manage_master_user_password") != true) yield return $"{config}: {cluster} must let RDS manage the master password in Secrets Manager";
            if (cluster.Text("deletion_protection") != "${var.deletion_protection}") yield return $"{config}: {cluster} must take deletion_protection from var.deletion_protection";
            if (cluster.Text("backup_retention_period") != "${var.backup_retention_period}") yield return $"{config}: {cluster} must take backup_retention_period from the validated variable";
            if (cluster["enabled_cloudwatch_logs_exports"]?.AsArray().Any(e => e!.ToString() == "postgresql") != true) yield return $"{config}: {cluster} must export the postgresql log";
            var group = cluster.Text("db_cluster_parameter_group_name");
            var parameterGroup = config.Resources("aws_rds_cluster_parameter_group").FirstOrDefault(g => group?.Contains($"aws_rds_cluster_parameter_group.{g.Name}.", StringComparison.Ordinal) == true);
            if (parameterGroup is null) yield return $"{config}: {cluster} does not use a parameter group of this configuration";
            else if (!parameterGroup.NestedAll("parameter").Any(p => p["name"]?.ToString() == "rds.force_ssl" && p["value"]?.ToString() == "1"))
                yield return $"{config}: {parameterGroup} must set rds.force_ssl = 1";
        }

        var instances = config.Resources("aws_rds_cluster_instance").ToList();
        if (instances.Count == 0) yield return $"{config}: no aws_rds_cluster_instance";
        foreach (var instance in instances)
        {
            if (instance.Flag("publicly_accessible") != false) yield return $"{config}: {instance} must set publicly_accessible = false";
            if (instance.Flag("performance_insights_enabled") != true) yield return $"{config}: {instance} must enable Performance Insights";
            if (instance.Text("monitoring_role_arn") is null) yield return $"{config}: {instance} must have Enhanced Monitoring";
            if (instance.Text("availability_zone") is null) yield return $"{config}: {instance} must be placed in a chosen AZ";
        }

        var alarmed = config.Resources("aws_cloudwatch_metric_alarm")
            .Where(a => a["alarm_actions"] is JsonArray { Count: > 0 })
            .Select(a => a.Text("metric_name")).ToHashSet();
        foreach (var metric in new[] { "CPUUtilization", "DatabaseConnections", "AuroraReplicaLag", "FreeableMemory" })
            if (!alarmed.Contains(metric)) yield return $"{config}: no alarm on {metric} notifying SNS";
    }

    /// <summary>Every bucket blocks public access, keeps versions, and encrypts with SSE-KMS by default.</summary>
    public static IEnumerable<string> BucketHardening(TerraformConfig config)
    {
        foreach (var bucket in config.Resources("aws_s3_bucket"))
        {
            var reference = $"aws_s3_bucket.{bucket.Name}.";
            TerraformBlock? For(string type) => config.Resources(type).FirstOrDefault(r => r.Text("bucket")?.Contains(reference, StringComparison.Ordinal) == true);

            var block = For("aws_s3_bucket_public_access_block");
            if (block is null || new[] { "block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets" }.Any(flag => block.Flag(flag) != true))
                yield return $"{config}: {bucket} needs a public access block with all four settings true";

            var versioning = For("aws_s3_bucket_versioning");
            if (versioning?.Nested("versioning_configuration")?["status"]?.ToString() != "Enabled")
                yield return $"{config}: {bucket} needs versioning Enabled";

            var sse = For("aws_s3_bucket_server_side_encryption_configuration")?.Nested("rule")?["apply_server_side_encryption_by_default"]?.AsArray()[0];
            if (sse?["sse_algorithm"]?.ToString() != "aws:kms" || sse["kms_master_key_id"] is null)
                yield return $"{config}: {bucket} needs default SSE-KMS encryption with a customer-managed key";

            if (For("aws_s3_bucket_lifecycle_configuration") is null)
                yield return $"{config}: {bucket} needs lifecycle rules";
        }
    }

    /// <summary>Every repository scans on push, has immutable tags and a lifecycle policy.</summary>
    public static IEnumerable<string> EcrHardening(TerraformConfig config)
    {
        foreach (var repository in config.Resources("aws_ecr_repository"))
        {
            if (repository.Text("image_tag_mutability") != "IMMUTABLE")
                yield return $"{config}: {repository} must have IMMUTABLE tags";
            if (repository.Nested("image_scanning_configuration")?["scan_on_push"]?.GetValue<bool>() != true)
                yield return $"{config}: {repository} must scan on push";
            if (!config.Resources("aws_ecr_lifecycle_policy").Any(p => p.Text("repository")?.Contains($"aws_ecr_repository.{repository.Name}.", StringComparison.Ordinal) == true))
                yield return $"{config}: {repository} has no lifecycle policy";
        }
    }

    /// <summary>Variables typed and described; outputs described.</summary>
    public static IEnumerable<string> Documented(TerraformConfig config)
    {
        foreach (var (name, variable) in config.Variables)
        {
            if (variable["type"] is null) yield return $"{config}: variable {name} has no type";
            if (string.IsNullOrWhiteSpace(variable["description"]?.ToString())) yield return $"{config}: variable {name} has no description";
        }

        foreach (var (name, output) in config.Outputs)
            if (string.IsNullOrWhiteSpace(output["description"]?.ToString())) yield return $"{config}: output {name} has no description";
    }

    /// <summary>The IRSA role module's trust policy admits exactly one service account: StringEquals on
    /// system:serviceaccount:&lt;namespace&gt;:&lt;name&gt; and the STS audience.</summary>
    public static IEnumerable<string> IrsaTrustPolicyIsExact(TerraformConfig irsaModule)
    {
        var statements = irsaModule.Data("aws_iam_policy_document")
            .SelectMany(d => d.NestedAll("statement"))
            .Where(s => s["actions"]?.AsArray().Any(a => a!.ToString() == "sts:AssumeRoleWithWebIdentity") == true)
            .ToList();
        if (statements.Count != 1) yield return $"{irsaModule}: expected one AssumeRoleWithWebIdentity statement, found {statements.Count}";
        foreach (var statement in statements)
        {
            var conditions = TerraformConfig.Bodies(statement["condition"]).ToList();
            var sub = conditions.FirstOrDefault(c => c["variable"]?.ToString().EndsWith(":sub", StringComparison.Ordinal) == true);
            if (sub?["test"]?.ToString() != "StringEquals"
                || sub["values"]?.AsArray().Select(v => v!.ToString()).SequenceEqual(["system:serviceaccount:${var.namespace}:${var.service_account}"]) != true)
            {
                yield return $"{irsaModule}: the sub condition must be StringEquals system:serviceaccount:${{var.namespace}}:${{var.service_account}}";
            }
            var aud = conditions.FirstOrDefault(c => c["variable"]?.ToString().EndsWith(":aud", StringComparison.Ordinal) == true);
            if (aud?["values"]?.AsArray().Select(v => v!.ToString()).SequenceEqual(["sts.amazonaws.com"]) != true)
                yield return $"{irsaModule}: the aud condition must be sts.amazonaws.com";
        }
    }

    /// <summary>Web-identity trust is only granted through the IRSA role module, whose calls can be checked.</summary>
    public static IEnumerable<string> WebIdentityTrustOnlyInIrsaModule(TerraformConfig config)
    {
        if (config.Path == "modules/irsa-role") yield break;
        foreach (var document in config.Data("aws_iam_policy_document"))
        {
            if (document.NestedAll("statement").Any(s => s["actions"]?.AsArray().Any(a => a!.ToString().Contains("AssumeRoleWithWebIdentity", StringComparison.Ordinal)) == true))
                yield return $"{config}: {document} grants web-identity trust outside modules/irsa-role";
        }
    }

    /// <summary>The service account each IRSA role module call trusts. Calls name their service account literally,
    /// or iterate over a local map whose entries have namespace and service_account (the add-on map of the
    /// cluster module); anything else cannot be checked and is reported.</summary>
    public static (List<TerraformIrsaBinding> Bindings, List<string> Violations) IrsaBindings(TerraformConfig config)
    {
        var bindings = new List<TerraformIrsaBinding>();
        var violations = new List<string>();
        foreach (var call in config.ModuleCalls.Where(c => TerraformConfig.IsModuleSource(c, "irsa-role")))
        {
            var (ns, sa) = (call.Text("namespace"), call.Text("service_account"));
            if (ns is not null && sa is not null && !ns.Contains("${", StringComparison.Ordinal) && !sa.Contains("${", StringComparison.Ordinal))
            {
                bindings.Add(new TerraformIrsaBinding(config.Path, call.Name, ns, sa, FromAddonMap: false));
                continue;
            }

            var map = call.Text("for_each") is { } forEach && LocalReference().Match(forEach) is { Success: true } match
                ? config.Locals[match.Groups[1].Value] as JsonObject
                : null;
            if (map is null || ns != "${each.value.namespace}" || sa != "${each.value.service_account}")
            {
                violations.Add($"{config}: module.{call.Name} trusts a service account that cannot be resolved statically (name it literally or iterate over a local map)");
                continue;
            }

            foreach (var (key, entry) in map)
                bindings.Add(new TerraformIrsaBinding(config.Path, $"{call.Name}[\"{key}\"]", entry!["namespace"]!.ToString(), entry["service_account"]!.ToString(), FromAddonMap: true));
        }

        return (bindings, violations);
    }

    /// <summary>Every root keeps its state in S3 with locking and encryption (the bootstrap root, which creates the
    /// bucket, excepted), and pins its providers.</summary>
    public static IEnumerable<string> RootSettings(TerraformConfig root)
    {
        var settings = root.Settings;
        if (settings is null)
        {
            yield return $"{root}: no terraform {{}} block";
            yield break;
        }

        var providers = TerraformConfig.Bodies(settings["required_providers"]).SelectMany(p => p).ToList();
        if (providers.Count == 0) yield return $"{root}: no required_providers";
        foreach (var (name, provider) in providers)
        {
            if (provider?["version"]?.ToString() is not { } version || !version.StartsWith("~>", StringComparison.Ordinal))
                yield return $"{root}: provider {name} is not pinned with ~>";
        }

        if (root.Path == "bootstrap") yield break;
        var s3 = settings["backend"]?["s3"]?.AsArray()[0];
        if (s3 is null)
        {
            yield return $"{root}: state is not kept in the S3 backend";
            yield break;
        }

        if (s3["use_lockfile"]?.GetValue<bool>() != true) yield return $"{root}: the S3 backend must lock (use_lockfile = true)";
        if (s3["encrypt"]?.GetValue<bool>() != true) yield return $"{root}: the S3 backend must encrypt the state";
    }

    /// <summary>Reusable modules declare the Terraform version and minimum provider versions they need and take tags.</summary>
    public static IEnumerable<string> ModuleSettings(TerraformConfig module)
    {
        var settings = module.Settings;
        if (settings?["required_version"] is null) yield return $"{module}: no required_version";
        var providers = TerraformConfig.Bodies(settings?["required_providers"]).SelectMany(p => p).ToList();
        if (providers.Count == 0 || providers.Any(p => p.Value?["version"] is null)) yield return $"{module}: providers without a version constraint";
        if (!module.Variables.ContainsKey("tags")) yield return $"{module}: no tags variable";
        foreach (var resource in module.AllResources().Where(r => r["tags"] is not null))
        {
            if (resource.Text("tags") is not { } tags || !TagsReference().IsMatch(tags))
                yield return $"{module}: {resource} does not apply var.tags";
        }
        foreach (var call in module.ModuleCalls)
        {
            if (call.Text("tags") is not { } tags || !TagsReference().IsMatch(tags))
                yield return $"{module}: module.{call.Name} is not given var.tags";
        }
    }

    [GeneratedRegex(@"^\$\{local\.([A-Za-z0-9_]+)\}$")]
    private static partial Regex LocalReference();

    [GeneratedRegex(@"\b(var|local)\.tags\b")]
    private static partial Regex TagsReference();

    /// <summary>Whether a resource's for_each iterates over the AZs: var.azs itself, or locals derived from it.</summary>
    private static bool IteratesOverAzs(TerraformConfig config, TerraformBlock block) =>
        block.Text("for_each") is { } forEach && DerivesFromAzs(config, forEach, depth: 0);

    private static bool DerivesFromAzs(TerraformConfig config, string expression, int depth)
    {
        if (expression.Contains("var.azs", StringComparison.Ordinal)) return true;
        if (depth > 5) return false;
        var locals = config.Locals;
        return AnyLocal().Matches(expression).Any(m => locals[m.Groups[1].Value] is { } value && DerivesFromAzs(config, value.ToJsonString(), depth + 1));
    }

    [GeneratedRegex(@"\blocal\.([A-Za-z0-9_]+)")]
    private static partial Regex AnyLocal();
}

/// <summary>An IRSA role's trusted service account and where the trust is declared.</summary>
public sealed record TerraformIrsaBinding(string Directory, string Call, string Namespace, string ServiceAccount, bool FromAddonMap)
{
    public override string ToString() => $"{Directory} module.{Call}: {Namespace}/{ServiceAccount}";
}
