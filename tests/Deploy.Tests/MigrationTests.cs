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
        var (before, step1, step2) = await RenderAsync(service);
        var running = Single(before, "Rollout");

        foreach (var (step, rendered) in new[] { ("step 1", step1), ("step 2", step2) })
        {
            var rollout = rendered.Get("Rollout");
            // The ReplicaSet is named by the hash of spec.template (rollout/sync.go createDesiredReplicaSet): the same
            // template keeps the running ReplicaSet as the stable one, and a strategy change alone creates no pod.
            Assert.True(JsonNode.DeepEquals(running.Obj("spec.template"), rollout.Obj("spec.template")), $"{step} changes the pod template: the move would start a release");
            Assert.True(JsonNode.DeepEquals(running.Obj("spec.selector"), rollout.Obj("spec.selector")), $"{step} changes the Rollout's selector");
            // <name> stays what in-cluster clients call (Assets: http://catalog:8080), now as the stable Service.
            var stable = rendered.Get("Service", service);
            Assert.Equal(service, rollout.Str("spec.strategy.canary.stableService"));
            Assert.True(JsonNode.DeepEquals(Single(before, "Service", service).Obj("spec"), stable.Obj("spec")), $"{step} changes Service {service}");
        }
    }

    [Theory]
    [MemberData(nameof(Services))]
    public async Task StepOneKeepsUsersOnTheirTargetGroupWhileItRegistersPingAndPong(string service)
    {
        var (before, step1, _) = await RenderAsync(service);
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
        var (before, step1, step2) = await RenderAsync(service);
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
        var (_, step1, _) = await RenderAsync(service);
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

    [Fact]
    public async Task StepOneNeedsTheStableHash()
    {
        var (exitCode, output) = await ChartRendering.TemplateAsync("catalog", ChartRendering.ValuesFiles("catalog", "prod"), "migration.fromBlueGreen.enabled=true");

        Assert.NotEqual(0, exitCode);
        Assert.Contains("migration.fromBlueGreen.stablePodTemplateHash is required", output, StringComparison.Ordinal);
    }

    private static async Task<(IReadOnlyList<JsonObject> Before, ChartManifests Step1, ChartManifests Step2)> RenderAsync(string service)
    {
        var before = await GitOpsRepository.ParseAsync(await File.ReadAllTextAsync(Repo.PathOf("tests", "Deploy.Tests", "migration", $"blue-green-{service}-prod.yaml")));
        Assert.Equal("blueGreen", Assert.Single(before.Single(o => o.Str("kind") == "Rollout").Obj("spec.strategy")).Key);
        var values = ChartRendering.ValuesFiles(service, "prod");
        var step1 = await ChartRendering.RenderAsync(service, values, "migration.fromBlueGreen.enabled=true", $"migration.fromBlueGreen.stablePodTemplateHash={StableHash}");
        Assert.Empty(step1.SchemaErrors);
        return (before, step1, await ChartRendering.RenderAsync(service, "prod"));
    }

    private static JsonObject Single(IReadOnlyList<JsonObject> objects, string kind, string? name = null) =>
        Assert.Single(objects, o => o.Str("kind") == kind && (name is null || o.Str("metadata.name") == name));

    private static string WarmupHost(JsonObject ingress, JsonObject before)
    {
        var hostsBefore = before.Arr("spec.rules").Select(r => r!.Str("host")).ToHashSet();
        return Assert.Single(ingress.Arr("spec.rules").Select(r => r!.Str("host")!), h => !hostsBefore.Contains(h));
    }
}
