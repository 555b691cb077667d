using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Deploy.Tests;

/// <summary>Blue-green semantics on the ALB with the ping-pong canary (design §6, chart README "Releases behind the
/// ALB"). No Argo Rollouts controller, AWS Load Balancer Controller or ALB runs here, so the rendered objects are held
/// to the CRD schemas (ChartRendering validates every object strictly), to the checks the controller itself makes
/// (pkg/apis/rollouts/validation, v1.8.3, the version argo-rollouts chart 2.40.2 installs) and to its documented
/// behaviour, cited per test from its source (github.com/argoproj/argo-rollouts at v1.8.3).</summary>
public sealed class ReleaseStrategyTests
{
    [Theory]
    [MemberData(nameof(ChartRendering.Deployments), MemberType = typeof(ChartRendering))]
    public async Task EachReleaseIsAFullSizeStackAtWeightZeroJudgedThenGivenAllTrafficAtOnceWhileThePreviousStaysFullSize(string service, string environment)
    {
        var rendered = await ChartRendering.RenderAsync(service, environment);
        var canary = rendered.Get("Rollout").Obj("spec.strategy.canary");
        var steps = canary.Arr("steps").Select(s => s!.AsObject()).ToList();
        string Kind(JsonObject step) => Assert.Single(step).Key;

        // Full size before any weight: setCanaryScale 100 % of spec.replicas with no setWeight before it (weight 0).
        Assert.Equal("setCanaryScale", Kind(steps[0]));
        Assert.Equal("100", steps[0].Str("setCanaryScale.weight"));
        Assert.Null(steps[0].Node("setCanaryScale.matchTrafficWeight"));
        // The smoke first, as a step of its own, then Prometheus on the new pods while no user reaches them, with their
        // ReplicaSet's hash: the queries' initialDelay counts from the smoke's end, however long its pod waited to start.
        Assert.Equal("analysis", Kind(steps[1]));
        Assert.Equal($"{service}-smoke", Assert.Single(steps[1].Arr("analysis.templates"))!.Str("templateName"));
        Assert.Equal("analysis", Kind(steps[2]));
        Assert.Equal($"{service}-pre-promotion", Assert.Single(steps[2].Arr("analysis.templates"))!.Str("templateName"));
        Assert.Equal("Latest", steps[2].Arr("analysis.args").Single(a => a!.Str("name") == "canary-hash")!.Str("valueFrom.podTemplateHashValue"));
        Assert.All(rendered.Get("AnalysisTemplate", $"{service}-smoke").Arr("spec.metrics"), m => Assert.NotNull(m!.Node("provider.job")));
        Assert.All(rendered.Get("AnalysisTemplate", $"{service}-pre-promotion").Arr("spec.metrics"), m => Assert.NotNull(m!.Node("provider.prometheus")));
        // prod waits for a person between the analysis and the traffic; dev and staging go on.
        var next = 3;
        if (environment == "prod") Assert.Equal("pause", Kind(steps[next++]));
        // All traffic at once: the only weight step, and it is 100.
        Assert.Equal(["100"], steps.Where(s => Kind(s) == "setWeight").Select(s => s.Str("setWeight")!));
        Assert.Equal("setWeight", Kind(steps[next++]));
        // Then the users' traffic judged before the release is promoted (item 4: the last step).
        Assert.Equal("analysis", Kind(steps[next]));
        Assert.Equal($"{service}-post-promotion", steps[next].Arr("analysis.templates")[0]!.Str("templateName"));
        Assert.Equal(steps.Count - 1, next);
        rendered.Get("AnalysisTemplate", $"{service}-pre-promotion");
        rendered.Get("AnalysisTemplate", $"{service}-post-promotion");

        // The previous stack stays full size until promotion: with dynamicStableScale the controller would scale it
        // down as the weight rises (rollout/canary.go), and an abort after setWeight 100 would find it gone.
        Assert.Equal("false", canary.Str("dynamicStableScale"));
        Assert.True(int.Parse(canary.Str("scaleDownDelaySeconds")!) > 0);
        Assert.True(int.Parse(canary.Str("abortScaleDownDelaySeconds")!) > 0);
    }

    /// <summary>What the controller refuses (validation.go ValidateRolloutStrategyCanary for pingPong;
    /// validation_references.go ValidateService, validateAlbIngress) and what the AWS Load Balancer Controller reads:
    /// a rule whose backend is the root service on port use-annotation, and the forward action
    /// alb.ingress.kubernetes.io/actions.&lt;root&gt; in Argo Rollouts' format (utils/ingress ALBAction).</summary>
    [Theory]
    [MemberData(nameof(ChartRendering.Deployments), MemberType = typeof(ChartRendering))]
    public async Task TheRolloutItsServicesAndItsIngressAreWhatTheControllersAccept(string service, string environment)
    {
        var rendered = await ChartRendering.RenderAsync(service, environment);
        var rollout = rendered.Get("Rollout");
        var canary = rollout.Obj("spec.strategy.canary");
        var alb = canary.Obj("trafficRouting.alb");

        Assert.Empty(rendered.SchemaErrors);
        Assert.Null(rollout.Node("spec.strategy.blueGreen"));
        var (ping, pong) = (canary.Str("pingPong.pingService")!, canary.Str("pingPong.pongService")!);
        Assert.NotEqual(ping, pong);
        Assert.NotEqual(canary.Str("stableService"), canary.Str("canaryService"));
        Assert.Equal(service, canary.Str("stableService"));
        var root = alb.Str("rootService")!;
        Assert.False(string.IsNullOrEmpty(root), "ALB with ping-pong requires rootService (MissedAlbRootServiceMessage)");

        // Every Service the Rollout names exists and selects only what the pod template's labels match.
        var templateLabels = rollout.Obj("spec.template").Labels();
        foreach (var name in new[] { canary.Str("stableService")!, canary.Str("canaryService")!, ping, pong })
        {
            var selector = rendered.Get("Service", name).Obj("spec.selector").ToDictionary(p => p.Key, p => p.Value!.ToString());
            Assert.All(selector, s => Assert.Equal(s.Value, templateLabels.GetValueOrDefault(s.Key)));
            Assert.DoesNotContain("rollouts-pod-template-hash", selector.Keys);
            Assert.Contains(rendered.Get("Service", name).Arr("spec.ports"), p => p!.Str("port") == alb.Str("servicePort"));
        }
        Assert.Throws<InvalidOperationException>(() => rendered.Get("Service", root));

        // The Ingress has a rule for the root service (HasRuleWithService), on port use-annotation for the ALB.
        var ingress = rendered.Get("Ingress", alb.Str("ingress"));
        var backends = ingress.Arr("spec.rules").SelectMany(r => r!.Arr("http.paths")).Select(p => p!.Obj("backend.service")).ToList();
        Assert.All(backends, b => Assert.Equal((root, "use-annotation"), (b.Str("name"), b.Str("port.name"))));
        // ALBActionAnnotationKey: <prefix>/actions.<rootService>; ALBAction: Type forward, ForwardConfig.TargetGroups.
        var action = JsonNode.Parse(ingress.Annotations()[$"alb.ingress.kubernetes.io/actions.{root}"])!;
        Assert.Equal("forward", action.Str("Type"));
        var groups = action.Arr("ForwardConfig.TargetGroups").Select(g => g!).ToList();
        Assert.Equal([pong, ping], groups.Select(g => g.Str("ServiceName")));
        Assert.All(groups, g => Assert.Equal(alb.Str("servicePort"), g.Str("ServicePort")));
        Assert.Equal(100, groups.Sum(g => int.Parse(g.Str("Weight")!)));
        // The target-group settings (health check on the management port, deregistration delay) are the Ingress's,
        // so both ping's and pong's target groups get them.
        Assert.Equal("ip", ingress.Annotations()["alb.ingress.kubernetes.io/target-type"]);
        Assert.StartsWith("deregistration_delay.timeout_seconds=", ingress.Annotations()["alb.ingress.kubernetes.io/target-group-attributes"], StringComparison.Ordinal);

        // The smoke calls the Service that follows the new ReplicaSet, not ping or pong.
        var smoke = rendered.Get("AnalysisTemplate", $"{service}-smoke").Arr("spec.metrics").Single(m => m!.Node("provider.job") is not null)!;
        var args = smoke.Arr("provider.job.spec.template.spec.containers")[0]!.Arr("args").Select(a => a!.ToString()).ToList();
        Assert.Equal(canary.Str("canaryService"), new Uri(args[args.IndexOf("--base-url") + 1]).Host);
    }

    /// <summary>Two releases in a row after an install, played through the controller's Service handling as its
    /// v1.8.3 code reads (<see cref="PingPongController"/>): ping and pong swap roles, so a Service fixed to either
    /// would hold the stable pods during one of the two analyses, while canaryService holds the new pods in both; every
    /// new pod is created behind the ALB Service of the canary role (so the AWS Load Balancer Controller's webhook
    /// gives it that target group's readiness gate); and promotion never moves the ALB to another target group.</summary>
    [Fact]
    public async Task InTwoReleasesInARowTheCanaryServiceHoldsTheNewPodsWhilePingAndPongSwapRoles()
    {
        var values = ChartRendering.ValuesFiles("catalog", "prod");
        var revisions = new List<JsonObject>();
        foreach (var tag in new[] { "prod-1111111", "prod-2222222", "prod-3333333" })
            revisions.Add((await ChartRendering.RenderAsync("catalog", values, $"image.tag={tag}")).Get("Rollout"));
        var hashes = revisions.Select(TemplateHash).ToList();
        Assert.Equal(3, hashes.Distinct().Count());
        var canary = revisions[0].Obj("spec.strategy.canary");
        Assert.All(revisions, r => Assert.Equal(canary.ToJsonString(), r.Obj("spec.strategy.canary").ToJsonString()));

        var controller = new PingPongController(canary);
        controller.Install(hashes[0]);
        Assert.Equal("ping", controller.StablePingPong);
        var releases = new[] { controller.Release(hashes[1]), controller.Release(hashes[2]) };

        var stableService = canary.Str("stableService")!;
        var canaryService = canary.Str("canaryService")!;
        for (var i = 0; i < releases.Length; i++)
        {
            var (previous, next, release) = (hashes[i], hashes[i + 1], releases[i]);
            // New pods are created (setCanaryScale) while the canary-role Service already selects their ReplicaSet.
            Assert.Equal(next, release.AtPodCreation[release.CanaryRole]);
            // The smoke's Service selects the new pods during the analysis; the stable Service the previous ones.
            Assert.Equal(next, release.DuringAnalysis[canaryService]);
            Assert.Equal(previous, release.DuringAnalysis[stableService]);
            Assert.Equal(previous, release.DuringAnalysis[release.StableRole]);
            // setWeight 100 sends everything to the canary role's target group, i.e. to the new pods.
            Assert.Equal(100, release.WeightsAtFullTraffic[release.CanaryRole]);
            Assert.Equal(next, release.DuringAnalysis[release.CanaryRole]);
            // After promotion the same Service is stable at weight 100: the ALB keeps its target group.
            Assert.Equal(release.CanaryRole, release.StableRoleAfterPromotion);
            Assert.Equal(100, release.WeightsAfterPromotion[release.CanaryRole]);
            Assert.Equal(next, release.AfterPromotion[stableService]);
        }
        Assert.Equal(releases[0].CanaryRole, releases[1].StableRole);
        Assert.NotEqual(releases[0].CanaryRole, releases[1].CanaryRole);
        // Why the smoke does not call ping or pong: each of them holds the stable pods during one of the analyses.
        foreach (var fixedService in new[] { canary.Str("pingPong.pingService")!, canary.Str("pingPong.pongService")! })
            Assert.Contains(releases.Select((r, i) => (r, i)), x => x.r.DuringAnalysis[fixedService] == hashes[x.i]);
    }

    /// <summary>TargetGroup verification (docs/features/traffic-management/alb.md, "Zero-Downtime Updates with AWS
    /// TargetGroup Verification"): with --aws-verify-target-group the controller verifies the ALB's weights after
    /// setWeight and, before scaling the previous stack down, that the new stable target group holds every new pod IP
    /// (rollout/canary.go canProceedWithScaleDownAnnotation). argo-rollouts #3333: ping-pong scaled the previous stack
    /// down before the ALB converged; #3627 fixed it only for verification on. It needs elasticloadbalancing:Describe*
    /// for the controller's own service account.</summary>
    [Fact]
    public async Task TheControllerVerifiesTheAlbWithItsOwnIrsaRole()
    {
        var values = (await ChartRendering.YamlToJsonAsync(await File.ReadAllTextAsync(GitOpsRepository.WorkingTreePath("platform/values/argo-rollouts.yaml"))))[0]!;
        Assert.Contains("--aws-verify-target-group", values.Arr("controller.extraArgs").Select(a => a!.ToString()));

        var eks = (await TerraformTree.LoadRepositoryAsync())["modules/eks"];
        var account = eks.Locals["addon_service_accounts"]!["argo-rollouts"]!;
        Assert.Equal(values.Str("serviceAccount.name"), account["service_account"]!.ToString());
        var policy = eks.Data("aws_iam_policy_document").Single(d => d.Name == "argo_rollouts");
        var actions = policy.NestedAll("statement").SelectMany(s => s["actions"]!.AsArray()).Select(a => a!.ToString()).ToList();
        Assert.Contains("elasticloadbalancing:Describe*", actions);
        Assert.All(actions, a => Assert.StartsWith("elasticloadbalancing:Describe", a, StringComparison.Ordinal));
    }

    /// <summary>The AWS Load Balancer Controller injects readiness gates only into pods of namespaces labelled
    /// elbv2.k8s.aws/pod-readiness-gate-inject=enabled (its pod_readiness_gate docs); without the label no pod of a
    /// release waits for its target group, whatever the Services do.</summary>
    [Theory]
    [MemberData(nameof(GitOpsRepository.EnvironmentData), MemberType = typeof(GitOpsRepository))]
    public async Task TheServicesNamespaceInjectsTheAlbReadinessGates(string environment)
    {
        var namespaces = (await GitOpsRepository.LocalObjectsAsync(environment)).Where(o => o.Str("kind") == "Namespace").ToList();

        var studio = Assert.Single(namespaces, n => n.Str("metadata.name") == ChartRendering.Namespace);
        Assert.Equal("enabled", studio.Labels()["elbv2.k8s.aws/pod-readiness-gate-inject"]);
    }

    /// <summary>Argo CD must not undo what Argo Rollouts writes (argo-rollouts #2116: the Ingress OutOfSync every second
    /// release, self-heal putting the previous weights back). Each generated Application is checked against live
    /// objects as the controller leaves them mid-release: with its ignoreDifferences applied (JSON pointers removed,
    /// as Argo CD's normalizer does) they equal what Git renders; without, they would not. RespectIgnoreDifferences
    /// makes a sync keep the live values of those fields (Argo CD sync options, "Respect ignore difference configs").</summary>
    [Theory]
    [MemberData(nameof(ChartRendering.Deployments), MemberType = typeof(ChartRendering))]
    public async Task ArgoCdIgnoresTheFieldsArgoRolloutsOwnsAndKeepsThemOnSync(string service, string environment)
    {
        var application = (await ApplicationSetRendering.GenerateAsync(environment, service))!;
        Assert.Contains("RespectIgnoreDifferences=true", application.Arr("spec.syncPolicy.syncOptions").Select(o => o!.ToString()));
        var rules = application.Arr("spec.ignoreDifferences").Select(r => r!.AsObject()).ToList();

        var rendered = await ChartRendering.RenderAsync(service, environment);
        var canary = rendered.Get("Rollout").Obj("spec.strategy.canary");
        var ingress = rendered.Get("Ingress", canary.Str("trafficRouting.alb.ingress"));
        var root = canary.Str("trafficRouting.alb.rootService")!;
        // Mid-release: setWeight 100 on pong, the bookkeeping annotation, every Service pointed at a ReplicaSet.
        var liveIngress = ingress.DeepClone().AsObject();
        var weighted = new JsonObject
        {
            ["Type"] = "forward",
            ["ForwardConfig"] = new JsonObject
            {
                ["TargetGroups"] = new JsonArray(
                    new JsonObject { ["ServiceName"] = canary.Str("pingPong.pongService"), ["ServicePort"] = "8080", ["Weight"] = 100 },
                    new JsonObject { ["ServiceName"] = canary.Str("pingPong.pingService"), ["ServicePort"] = "8080", ["Weight"] = 0 }),
            },
        };
        liveIngress.Obj("metadata.annotations")[$"alb.ingress.kubernetes.io/actions.{root}"] = weighted.ToJsonString();
        liveIngress.Obj("metadata.annotations")["rollouts.argoproj.io/managed-alb-annotations"] =
            new JsonObject { [service] = new JsonArray($"alb.ingress.kubernetes.io/actions.{root}") }.ToJsonString();
        var pairs = new List<(JsonObject Desired, JsonObject Live)> { (ingress, liveIngress) };
        foreach (var name in new[] { canary.Str("stableService")!, canary.Str("canaryService")!, canary.Str("pingPong.pingService")!, canary.Str("pingPong.pongService")! })
        {
            var desired = rendered.Get("Service", name);
            var live = desired.DeepClone().AsObject();
            live.Obj("spec.selector")["rollouts-pod-template-hash"] = "6f8d9c7b5a";
            pairs.Add((desired, live));
        }

        foreach (var (desired, live) in pairs)
        {
            var where = $"{desired.Str("kind")}/{desired.Str("metadata.name")}";
            Assert.False(JsonNode.DeepEquals(desired, live), $"{where}: the simulated controller edit changed nothing");
            var pointers = rules.Where(r => Matches(r, desired)).SelectMany(r => r.Arr("jsonPointers")).Select(p => p!.ToString()).ToList();
            Assert.True(JsonNode.DeepEquals(WithoutPointers(desired, pointers), WithoutPointers(live, pointers)),
                $"{where}: Argo CD would report a difference in a field Argo Rollouts owns (ignored: {string.Join(", ", pointers)})");
        }
        // Nothing the chart must keep control of is ignored: the rules name only the Ingress and Services' selectors.
        Assert.All(rules, r => Assert.Contains(r.Str("kind"), new[] { "Ingress", "Service" }));
    }

    private static bool Matches(JsonObject rule, JsonObject resource) =>
        rule.Str("kind") == resource.Str("kind")
        && (rule.Str("group") ?? "") == (resource.Str("apiVersion")!.Contains('/', StringComparison.Ordinal) ? resource.Str("apiVersion")!.Split('/')[0] : "")
        && (rule.Str("name") is not { } name || name == resource.Str("metadata.name"));

    /// <summary>RFC 6901 pointers removed from a copy (~1 is /, ~0 is ~); a pointer to nothing is a no-op.</summary>
    private static JsonObject WithoutPointers(JsonObject resource, IEnumerable<string> pointers)
    {
        var copy = resource.DeepClone().AsObject();
        foreach (var pointer in pointers)
        {
            var tokens = pointer.TrimStart('/').Split('/').Select(t => t.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToList();
            JsonNode? node = copy;
            foreach (var token in tokens[..^1]) node = (node as JsonObject)?[token];
            (node as JsonObject)?.Remove(tokens[^1]);
        }
        return copy;
    }

    /// <summary>Stands in for the controller's pod-template hash (hash.ComputePodTemplateHash): only whether two
    /// templates hash alike matters here.</summary>
    private static string TemplateHash(JsonObject rollout) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(rollout.Obj("spec.template").ToJsonString())))[..10];

    /// <summary>The selectors of one release's Services at its milestones, and the ALB weights Argo Rollouts writes.</summary>
    internal sealed record ReleaseTrace(
        string CanaryRole,
        string StableRole,
        IReadOnlyDictionary<string, string?> AtPodCreation,
        IReadOnlyDictionary<string, string?> DuringAnalysis,
        IReadOnlyDictionary<string, int> WeightsAtFullTraffic,
        string StableRoleAfterPromotion,
        IReadOnlyDictionary<string, string?> AfterPromotion,
        IReadOnlyDictionary<string, int> WeightsAfterPromotion);

    /// <summary>Argo Rollouts v1.8.3's handling of a ping-pong canary's Services, for the path a release takes here
    /// (no abort), reduced to the selectors' rollouts-pod-template-hash:
    /// - rollout/sync.go createDesiredReplicaSet creates the new ReplicaSet with 0 replicas;
    /// - rollout/canary.go rolloutCanary then calls reconcilePingAndPongService before any scaling, which (not fully
    ///   promoted) points the canary-role Service at the new ReplicaSet without waiting for availability
    ///   (ensureSVCTargets(..., false)); the roles come from status.canary.stablePingPong
    ///   (trafficrouting/service_helper.go GetStableAndCanaryServices: stable is ping only when it says "ping");
    /// - reconcileStableAndCanaryService points stableService at the stable and canaryService at the new ReplicaSet
    ///   once it is available (before the analysis step runs: setCanaryScale completes on availability);
    /// - trafficrouting/alb/alb.go getForwardActionString: the canary role gets the step's weight, stable the rest,
    ///   and 0 once fully promoted;
    /// - sync.go promoteStable flips stablePingPong and sets status.stableRS; stableService follows it.</summary>
    internal sealed class PingPongController(JsonObject canary)
    {
        private readonly Dictionary<string, string?> _selectors = new()
        {
            [canary.Str("stableService")!] = null,
            [canary.Str("canaryService")!] = null,
            [canary.Str("pingPong.pingService")!] = null,
            [canary.Str("pingPong.pongService")!] = null,
        };

        private string? _stableReplicaSet;

        public string StablePingPong { get; private set; } = "";

        private (string Stable, string Canary) Roles => StablePingPong == "ping"
            ? (canary.Str("pingPong.pingService")!, canary.Str("pingPong.pongService")!)
            : (canary.Str("pingPong.pongService")!, canary.Str("pingPong.pingService")!);

        /// <summary>A Rollout that already runs a stable ReplicaSet when the ping-pong canary is switched on (moving
        /// from blueGreen): status.stableRS is that hash and fully promoted, so nothing touches ping or pong, which
        /// keep the selectors they were created with (null: every pod of the Rollout); stablePingPong is empty.</summary>
        public void Adopt(string stableHash, IReadOnlyDictionary<string, string?> createdSelectors)
        {
            foreach (var (service, hash) in createdSelectors) _selectors[service] = hash;
            _selectors[canary.Str("stableService")!] = stableHash;
            _selectors[canary.Str("canaryService")!] = stableHash;
            _stableReplicaSet = stableHash;
        }

        /// <summary>The first revision: not yet fully promoted on the reconcile after its ReplicaSet exists, so the
        /// canary role (ping, with no status yet) is pointed at it; then promoteStable makes it stable.</summary>
        public void Install(string hash)
        {
            _selectors[Roles.Canary] = hash;
            _selectors[canary.Str("stableService")!] = hash;
            _selectors[canary.Str("canaryService")!] = hash;
            Promote(hash);
        }

        public ReleaseTrace Release(string hash)
        {
            var (stableRole, canaryRole) = Roles;
            _selectors[canaryRole] = hash;
            var atPodCreation = new Dictionary<string, string?>(_selectors);
            _selectors[canary.Str("stableService")!] = _stableReplicaSet;
            _selectors[canary.Str("canaryService")!] = hash;
            var duringAnalysis = new Dictionary<string, string?>(_selectors);
            var fullTraffic = new Dictionary<string, int> { [canaryRole] = 100, [stableRole] = 0 };
            Promote(hash);
            var afterPromotion = new Dictionary<string, string?>(_selectors);
            var weightsAfter = new Dictionary<string, int> { [Roles.Canary] = 0, [Roles.Stable] = 100 };
            return new ReleaseTrace(canaryRole, stableRole, atPodCreation, duringAnalysis, fullTraffic, Roles.Stable, afterPromotion, weightsAfter);
        }

        private void Promote(string hash)
        {
            StablePingPong = StablePingPong == "ping" ? "pong" : "ping";
            _stableReplicaSet = hash;
            _selectors[canary.Str("stableService")!] = hash;
        }
    }
}
