using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TestKit;

namespace Deploy.Tests;

/// <summary>The daily Argo CD export and its restore runbook (deploy/runbooks/argocd-backup-restore.md), walked
/// through in dry-run form: the sample export the runbook shows is what the CronJob writes and applies as-is, the
/// job can read no Secret, and it writes where Terraform lets it.</summary>
public sealed partial class GitOpsBackupTests
{
    private static readonly string s_runbook = Repo.PathOf("deploy", "runbooks", "argocd-backup-restore.md");

    private static readonly string[] s_strippedFields =
        ["status", "operation", "metadata.uid", "metadata.resourceVersion", "metadata.generation", "metadata.creationTimestamp", "metadata.managedFields", "metadata.ownerReferences"];

    [Fact]
    public async Task TheRunbooksSampleExportIsValidStrictlyAndAppliesAsIs()
    {
        var export = await SampleExportAsync();
        var items = export.Arr("items").Select(i => i!.AsObject()).ToList();

        Assert.Equal("List", export.Str("kind"));
        Assert.Empty(await GitOpsRepository.SchemaErrorsAsync(items));
        Assert.All(items, item => Assert.All(s_strippedFields, field => Assert.Null(item.Node(field))));
        Assert.All(items, item => Assert.Equal("argocd", item.Str("metadata.namespace")));
    }

    [Fact]
    public async Task TheSampleExportHasOnlyWhatTheCronJobExportsAndNoSecret()
    {
        var (cronJob, _) = await BackupAsync("dev");
        var script = cronJob.Arr("spec.jobTemplate.spec.template.spec.containers")[0]!.Arr("args")[0]!.ToString();
        var exportedKinds = ExportedKinds().Matches(script).Select(m => m.Groups[1].Value).ToHashSet();
        var configMaps = ConfigMapList().Match(script).Groups[1].Value.Split(' ');
        var items = (await SampleExportAsync()).Arr("items").Select(i => i!.AsObject()).ToList();

        Assert.Equal(["applications", "applicationsets", "appprojects"], exportedKinds.Order(StringComparer.Ordinal));
        Assert.Equal(["AppProject", "ApplicationSet", "Application", "ConfigMap"], items.Select(i => i.Str("kind")!).Distinct());
        Assert.All(items.Where(i => i.Str("kind") == "ConfigMap"), c => Assert.Contains(c.Str("metadata.name"), configMaps));
        Assert.DoesNotContain(items, i => i.Str("kind") == "Secret");
        // Every field the runbook says is stripped is stripped by the CronJob's jq program.
        Assert.All(s_strippedFields, field => Assert.Contains("." + field, script, StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheCronJobsJqProgramTurnsWhatKubectlPrintsIntoTheRunbooksSampleExport()
    {
        var (cronJob, _) = await BackupAsync("dev");
        var script = cronJob.Arr("spec.jobTemplate.spec.template.spec.containers")[0]!.Arr("args")[0]!.ToString();
        var program = JqProgram().Match(script);
        Assert.True(program.Success, "the CronJob's script has no jq --slurp '…' program");
        var expected = await SampleExportAsync();

        // What the two kubectl calls print: Lists of the live objects, with everything the cluster adds to them.
        var live = expected.Arr("items").Select(i => Live(i!.AsObject())).ToList();
        var argo = new JsonObject { ["apiVersion"] = "v1", ["kind"] = "List", ["items"] = new JsonArray([.. live.Where(i => i.Str("kind") != "ConfigMap")]) };
        var configMaps = new JsonObject { ["apiVersion"] = "v1", ["kind"] = "List", ["items"] = new JsonArray([.. live.Where(i => i.Str("kind") == "ConfigMap")]) };
        var output = await Tool.RunAsync(Tool.Find("jq", "Install jq (apt install jq): the CronJob's export program runs through it."),
            ["--slurp", program.Groups[1].Value], stdin: argo.ToJsonString() + "\n" + configMaps.ToJsonString());

        Assert.True(JsonNode.DeepEquals(expected, JsonNode.Parse(output)), $"jq exported:\n{output}\nthe runbook shows:\n{expected}");
    }

    /// <summary>An exported object as the API server returns it: status, server-set metadata, last-applied annotation.</summary>
    private static JsonObject Live(JsonObject exported)
    {
        var live = exported.DeepClone().AsObject();
        var metadata = live["metadata"]!.AsObject();
        metadata["uid"] = Guid.NewGuid().ToString();
        metadata["resourceVersion"] = "12345";
        metadata["generation"] = 3;
        metadata["creationTimestamp"] = "2026-11-01T00:00:00Z";
        metadata["managedFields"] = new JsonArray(new JsonObject { ["manager"] = "argocd-controller", ["operation"] = "Update" });
        metadata["ownerReferences"] = new JsonArray(new JsonObject { ["kind"] = "ApplicationSet", ["name"] = "services" });
        var annotations = metadata["annotations"] as JsonObject ?? [];
        annotations["kubectl.kubernetes.io/last-applied-configuration"] = exported.ToJsonString();
        metadata["annotations"] = annotations;
        live["status"] = new JsonObject { ["sync"] = new JsonObject { ["status"] = "Synced" } };
        live["operation"] = new JsonObject { ["sync"] = new JsonObject { ["revision"] = "abc" } };
        return live;
    }

    [Theory]
    [MemberData(nameof(GitOpsRepository.EnvironmentData), MemberType = typeof(GitOpsRepository))]
    public async Task TheBackupJobReadsNoSecretAndWritesOnlyWhereTerraformLetsIt(string environment)
    {
        var (cronJob, objects) = await BackupAsync(environment);
        var tree = await TerraformTree.LoadRepositoryAsync();
        var addon = tree["modules/eks"].Locals["addon_service_accounts"]!["argocd-backup"]!;
        var policy = tree["modules/eks"].Data("aws_iam_policy_document").Single(d => d.Name == "argocd_backup").NestedAll("statement").Single(s => s["sid"]!.ToString() == "WriteExports");
        var bucket = tree["modules/environment"].ModuleCalls.Single(c => c.Name == "backups_bucket").Text("bucket")!;
        var pod = cronJob.Obj("spec.jobTemplate.spec.template.spec");
        var script = pod.Arr("containers")[0]!.Arr("args")[0]!.ToString();
        var env = pod.Arr("containers")[0]!.Arr("env").ToDictionary(e => e!.Str("name")!, e => e!.Str("value"));

        Assert.Equal(addon["service_account"]!.ToString(), pod.Str("serviceAccountName"));
        Assert.Equal(addon["namespace"]!.ToString(), cronJob.Str("metadata.namespace"));
        Assert.Equal(bucket.Replace("${local.name}", $"studio-{environment}", StringComparison.Ordinal).Replace("${local.account}", "111122223333", StringComparison.Ordinal), env["BUCKET"]);
        Assert.Equal(["${var.backup_bucket_arn}/argocd/*"], policy["resources"]!.AsArray().Select(r => r!.ToString()));
        Assert.Contains("s3://$BUCKET/argocd/", script, StringComparison.Ordinal);
        Assert.Matches(Daily(), cronJob.Str("spec.schedule"));

        var rules = objects.Where(o => o.Str("kind") == "Role").SelectMany(r => r.Arr("rules")).Select(r => r!.AsObject()).ToList();
        Assert.DoesNotContain(objects, o => o.Str("kind") is "ClusterRole" or "ClusterRoleBinding");
        Assert.All(rules, rule =>
        {
            Assert.DoesNotContain("secrets", rule.Arr("resources").Select(r => r!.ToString()));
            Assert.DoesNotContain("*", rule.Arr("resources").Select(r => r!.ToString()));
            Assert.All(rule.Arr("verbs").Select(v => v!.ToString()), verb => Assert.Contains(verb, new[] { "get", "list" }));
        });
    }

    private static async Task<(JsonObject CronJob, IReadOnlyList<JsonObject> Objects)> BackupAsync(string environment)
    {
        var application = await GitOpsRepository.ApplicationAsync(environment, "argocd-backup");
        var objects = await GitOpsRepository.RenderSourceAsync(application, GitOpsRepository.Sources(application).Single());
        return (objects.Single(o => o.Str("kind") == "CronJob"), objects);
    }

    private static async Task<JsonObject> SampleExportAsync()
    {
        var page = await File.ReadAllTextAsync(s_runbook);
        var block = SampleBlock().Match(page);
        Assert.True(block.Success, "the runbook has no sample export (a yaml block under \"What an export looks like\")");
        return (await ChartRendering.YamlToJsonAsync(block.Groups[1].Value))[0]!.AsObject();
    }

    [GeneratedRegex(@"(?s)jq --slurp '(.*?)' \|")]
    private static partial Regex JqProgram();

    [GeneratedRegex(@"(?s)## What an export looks like\n.*?```yaml\n(.*?)```")]
    private static partial Regex SampleBlock();

    [GeneratedRegex(@"\b(applications|applicationsets|appprojects)\.argoproj\.io\b")]
    private static partial Regex ExportedKinds();

    [GeneratedRegex(@"get configmap ([a-z0-9 -]+?) --ignore-not-found")]
    private static partial Regex ConfigMapList();

    [GeneratedRegex(@"^\d{1,2} \d{1,2} \* \* \*$")]
    private static partial Regex Daily();
}
