using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TestKit;

namespace Deploy.Tests;

/// <summary>Nothing lost on a bad day, as the rendered platform and Terraform wire it: Vault's raft snapshots and
/// Elasticsearch's snapshots go to the backup bucket under exactly the prefixes their roles may write, retention keeps
/// Elasticsearch's disks from filling, fluent-bit buffers on disk, and the restore runbook's commands name what the
/// backup writes. No cluster or AWS account here: the jobs' scripts are not run; what they name is checked against
/// what exists.</summary>
public sealed partial class PlatformDurabilityTests
{
    private static readonly string s_vaultRunbook = Repo.PathOf("deploy", "runbooks", "vault-snapshot-restore.md");

    [Theory]
    [MemberData(nameof(GitOpsRepository.EnvironmentData), MemberType = typeof(GitOpsRepository))]
    public async Task VaultIsSnapshottedHourlyToTheBackupBucketWithRolesThatAllowNothingElse(string environment)
    {
        var render = await PlatformRendering.RenderAsync(environment);
        var tree = await TerraformTree.LoadRepositoryAsync();
        var cronJob = Assert.Single(render.LocalObjects, o => o.Kind == "CronJob" && o.Name == "vault-snapshot");
        var pod = cronJob.Json.Obj("spec.jobTemplate.spec.template.spec");
        var snapshot = Assert.Single(pod.Arr("initContainers"))!.AsObject();
        var upload = Assert.Single(pod.Arr("containers"))!.AsObject();
        var account = tree["modules/eks"].Locals["addon_service_accounts"]!["vault-snapshot"]!;

        // Taken by the servers' own Vault, as the Kubernetes-auth role Terraform limits to reading the snapshot.
        var servers = render.AddOn("vault").Objects.Single(o => o.Kind == "StatefulSet" && o.Name == "vault");
        Assert.Equal(PlatformContracts.Containers(servers.Json.Obj("spec.template")).Single(c => c.Str("name") == "vault").Str("image"), snapshot.Str("image"));
        var script = snapshot.Arr("args")[0]!.ToString();
        Assert.Contains("vault operator raft snapshot save /snapshots/vault.snap", script, StringComparison.Ordinal);
        Assert.Contains("vault token revoke -self", script, StringComparison.Ordinal);
        var role = Assert.Single(tree["vault"].Resources("vault_kubernetes_auth_backend_role"), r => r.Name == "raft_snapshot");
        Assert.Contains($"role={role.Text("role_name")}", script, StringComparison.Ordinal);
        Assert.Equal([pod.Str("serviceAccountName")], role["bound_service_account_names"]!.AsArray().Select(n => n!.ToString()));
        Assert.Equal([cronJob.Namespace], role["bound_service_account_namespaces"]!.AsArray().Select(n => n!.ToString()));
        var policy = Assert.Single(tree["vault"].Resources("vault_policy"), p => p.Name == "raft_snapshot").Text("policy")!;
        Assert.Equal(["sys/storage/raft/snapshot"], VaultPolicyPath().Matches(policy).Select(m => m.Groups[1].Value));
        Assert.Contains("capabilities = [\"read\"]", policy, StringComparison.Ordinal);

        // Uploaded with the IRSA role of the same service account, which may only put objects under vault/.
        Assert.Equal(account["service_account"]!.ToString(), pod.Str("serviceAccountName"));
        Assert.Equal(account["namespace"]!.ToString(), cronJob.Namespace);
        var env = upload.Arr("env").ToDictionary(e => e!.Str("name")!, e => e!.Str("value"));
        Assert.Equal(BackupBucket(tree, environment), env["BUCKET"]);
        Assert.Contains("s3://$BUCKET/$key", upload.Arr("args")[0]!.ToString(), StringComparison.Ordinal);
        Assert.Contains("key=\"vault/", upload.Arr("args")[0]!.ToString(), StringComparison.Ordinal);
        var write = IamStatements(tree, "vault_snapshot");
        Assert.Equal(["s3:AbortMultipartUpload", "s3:PutObject"], write["WriteSnapshots"].Actions);
        Assert.Equal(["${var.backup_bucket_arn}/vault/*"], write["WriteSnapshots"].Resources);
        Assert.Matches(Hourly(), cronJob.Json.Str("spec.schedule"));
        Assert.Equal("Forbid", cronJob.Json.Str("spec.concurrencyPolicy"));

        // Kept by the bucket's lifecycle, which S3 and the module accept (TerraformValidationTests plans it).
        Assert.Contains(BackupRules(tree), r => r["prefix"]?.ToString() == "vault/" && r["expiration_days"] is not null);
    }

    [Fact]
    public async Task TheRestoreRunbookNamesWhatTheSnapshotJobWritesAndRotatesEveryStaticRole()
    {
        var page = await File.ReadAllTextAsync(s_vaultRunbook);
        var render = await PlatformRendering.RenderAsync("prod");
        var tree = await TerraformTree.LoadRepositoryAsync();
        var cronJob = Assert.Single(render.LocalObjects, o => o.Kind == "CronJob" && o.Name == "vault-snapshot");
        var commands = ShellBlocks().Matches(page).SelectMany(b => b.Groups[1].Value.Split('\n')).Select(l => l.Trim()).ToList();

        Assert.Contains($"kubectl -n {cronJob.Namespace} create job --from=cronjob/{cronJob.Name} vault-snapshot-manual", commands);
        Assert.Contains(commands, c => c.StartsWith($"kubectl -n {cronJob.Namespace} get cronjob {cronJob.Name}", StringComparison.Ordinal));
        // The S3 paths are the CronJob's: the bucket pattern Terraform names, the vault/ prefix, a .snap per run.
        Assert.All(commands.Where(c => c.StartsWith("aws s3", StringComparison.Ordinal)), c => Assert.Contains("s3://studio-<env>-backups-<account>/vault/", c, StringComparison.Ordinal));
        Assert.Contains(commands, c => c.StartsWith("aws s3 cp s3://studio-<env>-backups-<account>/vault/<time>.snap vault.snap", StringComparison.Ordinal));
        Assert.Matches(@"\.snap""", Assert.Single(cronJob.Json.Arr("spec.jobTemplate.spec.template.spec.containers"))!.Arr("args")[0]!.ToString());
        // The restore goes to the active node, whose Service the vault chart renders and whose name the listener's
        // certificate carries.
        Assert.Contains("vault operator raft snapshot restore -force vault.snap", commands);
        Assert.Contains("kubectl -n vault port-forward svc/vault-active 8200 &", commands);
        Assert.Contains(render.AddOn("vault").Objects, o => o.Kind == "Service" && o.Name == "vault-active");
        var certificate = render.OfKind("Certificate").Single(c => c.Name == "vault-server-tls");
        Assert.Contains("vault-active.vault.svc", certificate.Json.Arr("spec.dnsNames").Select(n => n!.ToString()));
        Assert.Contains("VAULT_TLS_SERVER_NAME=vault-active.vault.svc", page, StringComparison.Ordinal);
        // Every static role is rotated after a restore, and only those.
        var rotated = RotateRole().Matches(page).Select(m => m.Groups[1].Value).Order(StringComparer.Ordinal);
        Assert.Equal(tree["vault"].Locals["static_roles"]!.AsObject().Select(r => r.Key).Order(StringComparer.Ordinal), rotated);
        Assert.Contains(commands, c => c == $"vault write -f {tree["vault"].Resources("vault_database_secrets_mount").Single().Text("path")}/rotate-role/catalog-app");
        // Restoring needs more than the snapshot role has: the runbook asks for a root token, not for vault-snapshot.
        Assert.DoesNotContain("snapshot-force", tree["vault"].Resources("vault_policy").Single(p => p.Name == "raft_snapshot").Text("policy"), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(GitOpsRepository.EnvironmentData), MemberType = typeof(GitOpsRepository))]
    public async Task ElasticsearchKeepsEachIndexFamilyForItsDaysAndSnapshotsToTheBackupBucket(string environment)
    {
        var render = await PlatformRendering.RenderAsync(environment);
        var tree = await TerraformTree.LoadRepositoryAsync();
        var platform = await PlatformValuesAsync(environment);
        var setup = render.LocalObjects.Single(o => o.Kind == "ConfigMap" && o.Name == "elasticsearch-setup").Json.Obj("data");
        var body = (string file) => JsonNode.Parse(setup[file]!.ToString())!;
        var nodes = int.Parse(platform.Str("elasticsearch.nodes")!, System.Globalization.CultureInfo.InvariantCulture);

        // Every family fluent-bit writes gets a delete-after-N-days policy and a template attaching it to new indices.
        var fluentBit = GitOpsObservabilityTests.Sections(render.AddOn("fluent-bit").Values.Str("config.outputs")!);
        var families = fluentBit.Where(s => s.Name == "OUTPUT" && s["Name"] == "es").Select(s => s["Logstash_Prefix"]!).ToList();
        Assert.Equal(["platform", "services"], families.Order(StringComparer.Ordinal));
        foreach (var family in families)
        {
            Assert.Equal($"{platform.Str($"elasticsearch.retentionDays.{family}")}d", body($"ilm-{family}.json").Str("policy.phases.delete.min_age"));
            Assert.NotNull(body($"ilm-{family}.json").Node("policy.phases.delete.actions.delete"));
            var template = body($"template-{family}.json");
            Assert.Equal([$"{family}-*"], template.Arr("index_patterns").Select(p => p!.ToString()));
            var settings = template.Obj("template").Obj("settings");
            Assert.Equal(family, settings["index.lifecycle.name"]!.ToString());
            Assert.Equal(nodes > 1 ? 1 : 0, settings["index.number_of_replicas"]!.GetValue<int>());
        }

        // Traces: Jaeger's index cleaner, with Jaeger's own index prefix and the same days; replicas alike.
        var jaeger = render.AddOn("jaeger").Values;
        Assert.Equal(platform.Str("elasticsearch.retentionDays.traces"), jaeger.Str("esIndexCleaner.numberOfDays"));
        Assert.Equal("true", jaeger.Str("esIndexCleaner.enabled"));
        var store = jaeger.Obj("userconfig").Obj("extensions").Obj("jaeger_storage").Obj("backends").Obj("primary_store").Obj("elasticsearch");
        Assert.All(new[] { "spans", "services" }, kind => Assert.Equal(nodes > 1 ? "1" : "0", store.Str($"indices.{kind}.replicas")));
        var cronJob = Assert.Single(render.AddOn("jaeger").Objects, o => o.Kind == "CronJob" && o.Name == "jaeger-es-index-cleaner");
        var container = cronJob.Json.Arr("spec.jobTemplate.spec.template.spec.containers")[0]!;
        var cleaner = JaegerIndexCleaner.Read(container, jaeger.Arr("esIndexCleaner.extraEnv").Select(e => e!.Str("name")!));
        Assert.Equal(store.Str("auth.basic.username"), cleaner.Username);
        // The indices Jaeger writes today and retentionDays + 1 days ago, as userconfig names them, and one of another
        // family: the cleaner queries and deletes exactly the old Jaeger ones.
        var today = DateTime.UtcNow.Date;
        var written = new[] { "spans", "services" }.SelectMany(kind => new[] { today, today.AddDays(-cleaner.Days - 1) }.Select(day =>
            (Name: JaegerIndexCleaner.IndexName(store.Str("indices.index_prefix"), kind == "spans" ? "jaeger-span-" : "jaeger-service-", store.Str($"indices.{kind}.date_layout")!, day), Created: day))).ToList();
        written.Add(($"services-{today.AddDays(-90):yyyy.MM.dd}", today.AddDays(-90)));
        var deleted = cleaner.Delete(written, DateTime.UtcNow);
        Assert.Equal(written.Where(i => i.Created < today && i.Name.Contains("jaeger-", StringComparison.Ordinal)).Select(i => i.Name).Order(), deleted.Order());
        Assert.Equal(4, written.Count(i => i.Name.StartsWith("jaeger-jaeger-", StringComparison.Ordinal)));

        // Snapshots: the repository is the backup bucket under elasticsearch/, the prefix the nodes' IRSA role may use;
        // SLM snapshots into it and expires them itself, so no S3 rule may delete files under that prefix.
        var repository = body("repository-s3-backups.json");
        Assert.Equal("s3", repository.Str("type"));
        Assert.Equal(BackupBucket(tree, environment), repository.Str("settings.bucket"));
        var statements = IamStatements(tree, "elasticsearch_snapshots");
        Assert.Equal([$"${{var.backup_bucket_arn}}/{repository.Str("settings.base_path")}/*"], statements["ReadWriteRepository"].Resources);
        var slm = body("slm-daily.json");
        Assert.Equal("s3-backups", slm.Str("repository"));
        Assert.Equal(platform.Str("elasticsearch.snapshots.expireAfter"), slm.Str("retention.expire_after"));
        Assert.DoesNotContain(BackupRules(tree), r => r["prefix"]?.ToString()?.StartsWith("elasticsearch", StringComparison.Ordinal) == true);
        var elasticsearch = render.LocalObjects.Single(o => o.Kind == "Elasticsearch");
        var esPod = elasticsearch.Json.Arr("spec.nodeSets")[0]!.Obj("podTemplate.spec");
        var account = tree["modules/eks"].Locals["addon_service_accounts"]!["elasticsearch"]!;
        Assert.Equal(account["service_account"]!.ToString(), esPod.Str("serviceAccountName"));
        Assert.Equal(account["namespace"]!.ToString(), elasticsearch.Namespace);
        Assert.Contains("/usr/share/elasticsearch/config/repository-s3/aws-web-identity-token-file", esPod.Arr("initContainers")[0]!.Arr("args")[0]!.ToString(), StringComparison.Ordinal);

        // The setup Job writes every file of its ConfigMap, as a user whose role cannot manage security or read documents.
        var job = render.LocalObjects.Single(o => o.Kind == "Job" && o.Name == "elasticsearch-setup");
        var script = Assert.Single(job.Json.Arr("spec.template.spec.containers"))!.Arr("args")[0]!.ToString();
        foreach (var endpoint in new[] { "_ilm/policy/$family", "_index_template/$family", "_snapshot/s3-backups", "_slm/policy/daily" })
            Assert.Contains(endpoint, script, StringComparison.Ordinal);
        Assert.Equal("PostSync", job.Json.Annotations()["argocd.argoproj.io/hook"]);
        var setupRole = (await ChartRendering.YamlToJsonAsync(RolesYaml(render)))[0]!.Obj("platform_setup");
        Assert.DoesNotContain(setupRole.Arr("cluster").Select(p => p!.ToString()), p => p is "all" or "manage_security" or "manage_api_key");
        Assert.All(setupRole.Arr("indices").SelectMany(i => i!.Arr("privileges")).Select(p => p!.ToString()), p => Assert.Equal("manage_ilm", p));
    }

    /// <summary>fluent-bit, in the cluster and in compose: lines are buffered in files (storage.type filesystem), on a
    /// volume that outlives the container, and retried without limit, so back-pressure or a restart loses none
    /// (https://docs.fluentbit.io/manual/administration/buffering-and-storage).</summary>
    [Theory]
    [MemberData(nameof(GitOpsRepository.EnvironmentData), MemberType = typeof(GitOpsRepository))]
    public async Task FluentBitBuffersOnTheNodesDiskAndRetriesUntilDelivered(string environment)
    {
        var render = await PlatformRendering.RenderAsync(environment);
        var values = render.AddOn("fluent-bit").Values;
        var cluster = GitOpsObservabilityTests.Sections(string.Concat(new[] { "service", "inputs", "outputs" }.Select(k => values.Str("config." + k) + "\n")));
        var compose = GitOpsObservabilityTests.Sections(await File.ReadAllTextAsync(Repo.PathOf("deploy", "compose", "fluent-bit", "fluent-bit.conf")));

        foreach (var (config, where) in new[] { (cluster, "cluster"), (compose, "compose") })
        {
            var service = Assert.Single(config, s => s.Name == "SERVICE");
            Assert.False(string.IsNullOrEmpty(service["storage.path"]), $"{where}: no storage.path");
            Assert.All(config.Where(s => s.Name == "INPUT"), i => Assert.True(i["storage.type"] == "filesystem", $"{where}: input {i["Tag"] ?? i["Name"]} buffers in memory only"));
            Assert.All(config.Where(s => s.Name == "OUTPUT"), o =>
            {
                Assert.True(o["Retry_Limit"] == "no_limits", $"{where}: output {o["Match"]} gives up after {o["Retry_Limit"]} retries");
                Assert.False(string.IsNullOrEmpty(o["storage.total_limit_size"]), $"{where}: output {o["Match"]} has no bound on its buffer");
                Assert.Equal("On", o["Generate_ID"]);
            });
        }

        // The storage path is on a hostPath volume of the DaemonSet: a new pod on the node finds the chunks.
        var daemonSet = render.AddOn("fluent-bit").Objects.Single(o => o.Kind == "DaemonSet");
        var storagePath = Assert.Single(cluster, s => s.Name == "SERVICE")["storage.path"]!;
        var container = PlatformContracts.Containers(daemonSet.Json.Obj("spec.template")).Single(c => c.Str("name") == "fluent-bit");
        var mount = container.Arr("volumeMounts").Select(m => m!.AsObject()).Single(m => storagePath.StartsWith(m.Str("mountPath")! + "/", StringComparison.Ordinal));
        var volume = daemonSet.Json.Arr("spec.template.spec.volumes").Single(v => v!.Str("name") == mount.Str("name"))!;
        Assert.NotNull(volume.Node("hostPath.path"));
        Assert.NotEqual("true", mount.Str("readOnly"));

        // compose: on a named volume.
        var composeStorage = Assert.Single(compose, s => s.Name == "SERVICE")["storage.path"]!;
        Assert.Contains($"fluent-bit-buffer:{composeStorage.TrimEnd('/')[..composeStorage.TrimEnd('/').LastIndexOf('/')]}", await File.ReadAllTextAsync(Repo.PathOf("docker-compose.yml")), StringComparison.Ordinal);
    }

    private static string RolesYaml(PlatformRender render) =>
        render.LocalObjects.Single(o => o.Kind == "Secret" && o.Name == "elasticsearch-roles").Json.Obj("stringData")["roles.yml"]!.ToString();

    private static async Task<JsonNode> PlatformValuesAsync(string environment)
    {
        var values = (await ChartRendering.YamlToJsonAsync(await File.ReadAllTextAsync(Path.Combine(GitOpsRepository.Root, "platform", "values.yaml"))))[0]!.AsObject();
        var overrides = (await ChartRendering.YamlToJsonAsync(await File.ReadAllTextAsync(Path.Combine(GitOpsRepository.Root, "platform", "envs", environment + ".yaml"))))[0]!.AsObject();
        PlatformRendering.Merge(values, overrides);
        return values;
    }

    /// <summary>The backup bucket's name as Terraform builds it (modules/environment), with the documentation account.</summary>
    private static string BackupBucket(TerraformTree tree, string environment) =>
        tree["modules/environment"].ModuleCalls.Single(c => c.Name == "backups_bucket").Text("bucket")!
            .Replace("${local.name}", $"studio-{environment}", StringComparison.Ordinal).Replace("${local.account}", "111122223333", StringComparison.Ordinal);

    private static List<JsonObject> BackupRules(TerraformTree tree) =>
        [.. tree["modules/environment"].ModuleCalls.Single(c => c.Name == "backups_bucket")["lifecycle_rules"]!.AsArray().Select(r => r!.AsObject())];

    private static Dictionary<string, (List<string> Actions, List<string> Resources)> IamStatements(TerraformTree tree, string document) =>
        tree["modules/eks"].Data("aws_iam_policy_document").Single(d => d.Name == document).NestedAll("statement")
            .ToDictionary(s => s["sid"]!.ToString(), s => (
                s["actions"]!.AsArray().Select(a => a!.ToString()).Order(StringComparer.Ordinal).ToList(),
                s["resources"]!.AsArray().Select(r => r!.ToString()).ToList()));

    [GeneratedRegex(@"path ""([^""]+)""")]
    private static partial Regex VaultPolicyPath();

    [GeneratedRegex(@"^\d{1,2} \* \* \* \*$")]
    private static partial Regex Hourly();

    [GeneratedRegex(@"(?s)```sh\n(.*?)```")]
    private static partial Regex ShellBlocks();

    [GeneratedRegex(@"vault write -f database/rotate-role/([a-z-]+)")]
    private static partial Regex RotateRole();
}
