using System.Text.Json.Nodes;
using TestKit;

namespace Deploy.Tests;

/// <summary>Moving a running environment from the chart's former blueGreen Rollout to the ping-pong canary without an
/// outage (deploy/runbooks/release-migrate-to-ping-pong.md): the objects the last blueGreen chart rendered for prod
/// (tests/Deploy.Tests/migration/, from the commit named in each file) against what this chart renders for step 1
/// (migration.fromBlueGreen) and step 2 (the final shape).</summary>
public sealed class MigrationTests
{
    private const string StableHash = "6f8d9c7b5a";

    public static TheoryData<string> Services() => [.. ChartRendering.Services];

    [Theory]
    [MemberData(nameof(Services))]
    public async Task NeitherStepStartsNewPodsNorMovesInClusterClients(string service)
    {
        var move = await RenderAsync(service);
        var running = Single(move.Before, "Rollout");

        foreach (var (step, rendered) in new[] { ("step 1", move.Step1), ("step 2", move.Step2) })
        {
            var rollout = rendered.Get("Rollout");
            // The ReplicaSet is named by the hash of spec.template (rollout/sync.go createDesiredReplicaSet): the same
            // template keeps the running ReplicaSet as the stable one, and a strategy change alone creates no pod.
            Assert.True(JsonNode.DeepEquals(running.Obj("spec.template"), rollout.Obj("spec.template")),
                $"{step} changes the pod template: the move would start a release\n{Difference(running.Obj("spec.template"), rollout.Obj("spec.template"))}");
            Assert.True(JsonNode.DeepEquals(running.Obj("spec.selector"), rollout.Obj("spec.selector")), $"{step} changes the Rollout's selector");
            // <name> stays what in-cluster clients call (Assets: http://catalog:8080), now as the stable Service.
            var stable = rendered.Get("Service", service);
            Assert.Equal(service, rollout.Str("spec.strategy.canary.stableService"));
            Assert.True(JsonNode.DeepEquals(Single(move.Before, "Service", service).Obj("spec"), stable.Obj("spec")), $"{step} changes Service {service}");
            // The restated checksum hides no configuration change: the pods' environment is the same ConfigMap data.
            Assert.True(JsonNode.DeepEquals(Single(move.Before, "ConfigMap", service).Obj("data"), rendered.Get("ConfigMap", service).Obj("data")), $"{step} changes the pods' configuration");
        }
    }

    /// <summary>The builds differ as real builds do (chart 0.1.0-prod-1a2b3c4 before, another build's chart for the
    /// move): without the restated label and checksum the move's first sync would create a ReplicaSet, whose pods
    /// <c>&lt;name&gt;</c>'s selector then reaches without the ALB's readiness gate. Once the move is done, the restated
    /// values go and the template changes in exactly those two entries, an ordinary ping-pong release.</summary>
    [Theory]
    [MemberData(nameof(Services))]
    public async Task OnlyTheRestatedChartLabelAndChecksumKeepTheRunningTemplate(string service)
    {
        var move = await RenderAsync(service);
        var running = Single(move.Before, "Rollout").Obj("spec.template");
        var unrestated = move.Unrestated.Get("Rollout").Obj("spec.template");
        var after = move.After.Get("Rollout").Obj("spec.template");

        Assert.False(JsonNode.DeepEquals(running, unrestated), "the fixture and this chart render the same template without the restated values: the test no longer tells");
        foreach (var template in new[] { unrestated, after })
        {
            Assert.True(JsonNode.DeepEquals(Without(running, "helm.sh/chart", "checksum/config"), Without(template, "helm.sh/chart", "checksum/config")),
                Difference(Without(running, "helm.sh/chart", "checksum/config"), Without(template, "helm.sh/chart", "checksum/config")));
            Assert.Null(template.Node("metadata.labels")!["helm.sh/chart"]);
        }
        Assert.True(JsonNode.DeepEquals(unrestated, after));
    }

    /// <summary>From now on a chart build alone never starts a release: the same image and values under two chart
    /// versions (every build has its own, buildspec.yml) render the same pod template; the chart label stays on the
    /// other objects.</summary>
    [Theory]
    [MemberData(nameof(Services))]
    public async Task MovingTheChartPinAloneChangesNoPodTemplate(string service)
    {
        var packages = await Packages.Value;
        var values = ChartRendering.ValuesFiles(service, "prod");
        var first = await ChartRendering.RenderChartAsync(packages.Next, service, values, $"image.tag={RunningBuild}");
        var second = await ChartRendering.RenderChartAsync(packages.Later, service, values, $"image.tag={RunningBuild}");

        Assert.True(JsonNode.DeepEquals(first.Get("Rollout").Obj("spec.template"), second.Get("Rollout").Obj("spec.template")),
            Difference(first.Get("Rollout").Obj("spec.template"), second.Get("Rollout").Obj("spec.template")));
        Assert.Equal($"service-0.1.0-{NextChartBuild}", first.Get("Rollout").Labels()["helm.sh/chart"]);
        Assert.Equal($"service-0.1.0-{LaterChartBuild}", second.Get("Rollout").Labels()["helm.sh/chart"]);
        Assert.Equal($"service-0.1.0-{LaterChartBuild}", second.Get("ConfigMap", service).Labels()["helm.sh/chart"]);
    }

    [Theory]
    [MemberData(nameof(Services))]
    public async Task StepOneKeepsUsersOnTheirTargetGroupWhileItRegistersPingAndPong(string service)
    {
        var move = await RenderAsync(service);
        var (before, step1) = (move.Before, move.Step1);
        var ingressBefore = Single(before, "Ingress", service);
        var ingress = step1.Get("Ingress", service);
        var canary = step1.Get("Rollout").Obj("spec.strategy.canary");
        var root = canary.Str("trafficRouting.alb.rootService")!;
        var warmupHost = WarmupHost(ingress, ingressBefore);

        // The public rules are exactly the ones before: same hosts, paths and backend (the stable Service, port http),
        // hence the same target group; no annotation changed, only the forward action was added.
        var rules = ingress.Arr("spec.rules").Select(r => r!.AsObject()).ToList();
        var publicRules = rules.Where(r => r.Str("host") != warmupHost).ToList();
        Assert.True(JsonNode.DeepEquals(ingressBefore.Node("spec.rules"), new JsonArray([.. publicRules.Select(r => r.DeepClone())])), "step 1 changes the public rules");
        Assert.All(ingressBefore.Annotations(), a => Assert.Equal(a.Value, ingress.Annotations().GetValueOrDefault(a.Key)));
        Assert.Equal([$"alb.ingress.kubernetes.io/actions.{root}"], ingress.Annotations().Keys.Except(ingressBefore.Annotations().Keys));

        // One more rule, on a host no client sends, forwards to the root action: the AWS Load Balancer Controller
        // creates the ping and pong target groups and registers the running pods in them.
        var warmup = Assert.Single(rules, r => r.Str("host") == warmupHost);
        Assert.EndsWith(".invalid", warmupHost, StringComparison.Ordinal);
        Assert.Equal((root, "use-annotation"), (warmup.Arr("http.paths")[0]!.Str("backend.service.name"), warmup.Arr("http.paths")[0]!.Str("backend.service.port.name")));
        // Argo Rollouts accepts the Ingress (a rule with the root service, validateAlbIngress) from step 1 on.
        Assert.Contains(rules.SelectMany(r => r.Arr("http.paths")), p => p!.Str("backend.service.name") == root);

        // Pong holds the stable role first (no status.canary.stablePingPong yet) and the controller never sets the
        // stable one's selector (argo-rollouts #5006): step 1 pins it to the running ReplicaSet.
        var pong = step1.Get("Service", canary.Str("pingPong.pongService"));
        var ping = step1.Get("Service", canary.Str("pingPong.pingService"));
        Assert.Equal(StableHash, pong.Str("spec.selector.rollouts-pod-template-hash"));
        Assert.Null(ping.Node("spec.selector.rollouts-pod-template-hash"));
    }

    [Theory]
    [MemberData(nameof(Services))]
    public async Task StepTwoSwitchesUsersToTheTargetGroupsStepOneRegistered(string service)
    {
        var move = await RenderAsync(service);
        var (before, step1, step2) = (move.Before, move.Step1, move.Step2);
        var ingressBefore = Single(before, "Ingress", service);
        var ingress1 = step1.Get("Ingress", service);
        var ingress2 = step2.Get("Ingress", service);
        var root = step2.Get("Rollout").Str("spec.strategy.canary.trafficRouting.alb.rootService")!;

        // Same hosts and paths as before, now all to the root action.
        var paths = ingress2.Arr("spec.rules").SelectMany(r => r!.Arr("http.paths").Select(p => (Host: r!.Str("host"), Path: p!.Str("path"), Service: p!.Str("backend.service.name"), Port: p!.Str("backend.service.port.name")))).ToList();
        var pathsBefore = ingressBefore.Arr("spec.rules").SelectMany(r => r!.Arr("http.paths").Select(p => (Host: r!.Str("host"), Path: p!.Str("path")))).ToList();
        Assert.Equal(pathsBefore, paths.Select(p => (p.Host, p.Path)));
        Assert.All(paths, p => Assert.Equal((root, "use-annotation"), (p.Service, p.Port)));
        // A target group is the controller's per (namespace, Ingress, Service, port) (Argo Rollouts' and the AWS
        // Load Balancer Controller's resource ID: <namespace>/<ingress>-<service>:<port>): same Ingress, same action,
        // same target-group settings, so step 2 forwards to the target groups step 1 created and registered.
        Assert.Equal(ingress1.Str("metadata.name"), ingress2.Str("metadata.name"));
        var action = $"alb.ingress.kubernetes.io/actions.{root}";
        Assert.Equal(ingress1.Annotations()[action], ingress2.Annotations()[action]);
        Assert.Equal(ingress1.Annotations().Where(a => a.Key != action), ingress2.Annotations().Where(a => a.Key != action));
        Assert.Equal(ingressBefore.Annotations(), ingress2.Annotations().Where(a => a.Key != action).ToDictionary());
        // The pin on pong's selector leaves Git; Argo CD keeps the live value (ignoreDifferences with
        // RespectIgnoreDifferences on the Services' hash, tested in ReleaseStrategyTests), until the first promotion.
        Assert.Null(step2.Get("Service", step2.Get("Rollout").Str("spec.strategy.canary.pingPong.pongService")).Node("spec.selector.rollouts-pod-template-hash"));
        // The preview Service is gone; nothing routed to it in prod.
        Assert.Contains(before, o => o.Str("kind") == "Service" && o.Str("metadata.name") == service + "-preview");
        Assert.DoesNotContain(before, o => o.Str("kind") == "Ingress" && o.Str("metadata.name") != service);
        Assert.Throws<InvalidOperationException>(() => step2.Get("Service", service + "-preview"));
    }

    /// <summary>The first release after the move, played through the controller (ReleaseStrategyTests.PingPongController):
    /// with step 1's pin the stable role (pong) keeps selecting only the running pods while the new ones start, and the
    /// release then goes as any other; without it pong would select the new pods too, and users would reach them
    /// before their analysis.</summary>
    [Theory]
    [MemberData(nameof(Services))]
    public async Task TheFirstReleaseAfterTheMoveKeepsUsersOffTheNewPodsUntilSetWeight100(string service)
    {
        var step1 = (await RenderAsync(service)).Step1;
        var canary = step1.Get("Rollout").Obj("spec.strategy.canary");
        var created = new[] { canary.Str("pingPong.pingService")!, canary.Str("pingPong.pongService")! }
            .ToDictionary(s => s, s => step1.Get("Service", s).Str("spec.selector.rollouts-pod-template-hash"));
        const string Next = "7c9e8d6b4f";

        var controller = new ReleaseStrategyTests.PingPongController(canary);
        controller.Adopt(StableHash, created);
        var release = controller.Release(Next);

        Assert.Equal(canary.Str("pingPong.pongService"), release.StableRole);
        Assert.Equal(StableHash, release.DuringAnalysis[release.StableRole]);
        Assert.Equal(Next, release.AtPodCreation[release.CanaryRole]);

        var unpinned = new ReleaseStrategyTests.PingPongController(canary);
        unpinned.Adopt(StableHash, created.ToDictionary(c => c.Key, _ => (string?)null));
        Assert.Null(unpinned.Release(Next).DuringAnalysis[release.StableRole]);
    }

    /// <summary>Step 1 on an Ingress that already exists: Argo CD applies it with the live value of the ignored action
    /// annotation (RespectIgnoreDifferences: controller/sync.go normalizeTargetResources copies live ignored fields into
    /// the target), i.e. without it, until Argo Rollouts writes it (rollout/trafficrouting/alb/alb.go SetWeight). The
    /// controller, as the platform renders it from the real chart, then answers the warm-up rule with a fixed 503
    /// (pkg/ingress/enhanced_backend_builder.go buildActionViaAnnotation) instead of failing the whole group's model.</summary>
    [Fact]
    public async Task AWarmUpRuleWithoutItsActionYetAnswers503InsteadOfStoppingTheIngressGroup()
    {
        var render = await PlatformRendering.RenderAsync("prod");
        var controller = Assert.Single(render.AddOn("aws-load-balancer-controller").Objects, o => o.Kind == "Deployment");
        var args = controller.Json.Arr("spec.template.spec.containers")[0]!.Arr("args").Select(a => a!.ToString());

        Assert.Contains("--tolerate-non-existent-backend-action=true", args);
    }

    [Fact]
    public async Task StepOneNeedsTheStableHash()
    {
        var (exitCode, output) = await ChartRendering.TemplateAsync("catalog", ChartRendering.ValuesFiles("catalog", "prod"), "migration.fromBlueGreen.enabled=true");

        Assert.NotEqual(0, exitCode);
        Assert.Contains("migration.fromBlueGreen.stablePodTemplateHash is required", output, StringComparison.Ordinal);
    }

    /// <summary>The build prod runs before the move (the fixture's image and chart), and two later chart builds.</summary>
    private const string RunningBuild = "prod-1a2b3c4";
    private const string NextChartBuild = "prod-5d6e7f8";
    private const string LaterChartBuild = "prod-9a8b7c6";

    private sealed record Move(IReadOnlyList<JsonObject> Before, ChartManifests Step1, ChartManifests Step2, ChartManifests After, ChartManifests Unrestated);

    private static readonly Lazy<Task<(string Next, string Later)>> Packages = new(async () =>
    {
        // Deleted with the process' temporary files; the packages are small and shared by every test here.
        var destination = Directory.CreateTempSubdirectory("migration-charts-").FullName;
        return (await ChartRendering.PackageAsync($"0.1.0-{NextChartBuild}", NextChartBuild, destination),
                await ChartRendering.PackageAsync($"0.1.0-{LaterChartBuild}", LaterChartBuild, destination));
    });

    /// <summary>The runbook's commits, rendered from the next chart build with prod's values and the held image:
    /// step 1 (migration.fromBlueGreen with the hash, and the running template's chart label and checksum as
    /// kubectl prints them), step 2 (the hash gone, the restated values kept), after (the block gone), and step 1 as
    /// it would be without the restated values.</summary>
    private static Task<Move> RenderAsync(string service) =>
        s_moves.GetOrAdd(service, s => new Lazy<Task<Move>>(() => RenderMoveAsync(s))).Value;

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<Task<Move>>> s_moves = new();

    private static async Task<Move> RenderMoveAsync(string service)
    {
        var before = await GitOpsRepository.ParseAsync(await File.ReadAllTextAsync(Repo.PathOf("tests", "Deploy.Tests", "migration", $"blue-green-{service}-prod.yaml")));
        var running = before.Single(o => o.Str("kind") == "Rollout");
        Assert.Equal("blueGreen", Assert.Single(running.Obj("spec.strategy")).Key);
        Assert.Equal($"service-0.1.0-{RunningBuild}", running.Obj("spec.template").Labels()["helm.sh/chart"]);
        var restated = new JsonObject
        {
            ["podTemplateLabels"] = new JsonObject { ["helm.sh/chart"] = running.Obj("spec.template").Labels()["helm.sh/chart"] },
            ["podTemplateAnnotations"] = new JsonObject { ["checksum/config"] = running.Obj("spec.template").Annotations()["checksum/config"] },
        };
        var step1Values = restated.DeepClone().AsObject();
        step1Values["enabled"] = true;
        step1Values["stablePodTemplateHash"] = StableHash;

        var (next, _) = await Packages.Value;
        var values = ChartRendering.ValuesFiles(service, "prod");
        var hold = $"image.tag={RunningBuild}";
        async Task<ChartManifests> Render(JsonObject? migration)
        {
            var file = Path.GetTempFileName();
            try
            {
                await File.WriteAllTextAsync(file, new JsonObject { ["migration"] = new JsonObject { ["fromBlueGreen"] = migration ?? new JsonObject() } }.ToJsonString());
                var rendered = await ChartRendering.RenderChartAsync(next, service, [.. values, file], hold);
                Assert.Empty(rendered.SchemaErrors);
                return rendered;
            }
            finally
            {
                File.Delete(file);
            }
        }
        var unrestated = new JsonObject { ["enabled"] = true, ["stablePodTemplateHash"] = StableHash };
        return new Move(before, await Render(step1Values), await Render(restated), await Render(null), await Render(unrestated));
    }

    private static JsonObject Without(JsonObject template, string label, string annotation)
    {
        var copy = template.DeepClone().AsObject();
        copy.Obj("metadata.labels").Remove(label);
        copy.Obj("metadata.annotations").Remove(annotation);
        return copy;
    }

    private static string Difference(JsonObject expected, JsonObject actual)
    {
        var a = expected.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }).Split('\n');
        var b = actual.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }).Split('\n');
        return "only before: " + string.Join(" | ", a.Except(b).Select(l => l.Trim())) + "\nonly after: " + string.Join(" | ", b.Except(a).Select(l => l.Trim()));
    }

    private static JsonObject Single(IReadOnlyList<JsonObject> objects, string kind, string? name = null) =>
        Assert.Single(objects, o => o.Str("kind") == kind && (name is null || o.Str("metadata.name") == name));

    private static string WarmupHost(JsonObject ingress, JsonObject before)
    {
        var hostsBefore = before.Arr("spec.rules").Select(r => r!.Str("host")).ToHashSet();
        return Assert.Single(ingress.Arr("spec.rules").Select(r => r!.Str("host")!), h => !hostsBefore.Contains(h));
    }
}
