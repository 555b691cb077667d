namespace Deploy.Tests;

/// <summary>Vault as the rendered platform wires it: the Agent Injector fails closed exactly where pods need Vault, and
/// stays available through a drain; pods trust Vault through its CA certificate alone.</summary>
public sealed class PlatformSecurityTests
{
    /// <summary>failurePolicy Fail (https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#failure-policy):
    /// while the injector is down, the API server refuses to create pods in the selected namespaces rather than create
    /// them without their secrets. Selected are exactly the namespaces whose pods use Vault Agents, judged against the
    /// labels the platform gives its namespaces.</summary>
    [Theory]
    [MemberData(nameof(GitOpsRepository.EnvironmentData), MemberType = typeof(GitOpsRepository))]
    public async Task TheInjectorFailsClosedForTheWorkloadNamespacesOnlyAndSurvivesADrain(string environment)
    {
        var render = await PlatformRendering.RenderAsync(environment);
        var vault = render.AddOn("vault").Objects;
        var webhook = Assert.Single(Assert.Single(vault, o => o.Kind == "MutatingWebhookConfiguration").Json.Arr("webhooks"))!.AsObject();
        var namespaces = render.OfKind("Namespace").ToDictionary(n => n.Name, n => n.Json.Labels());
        // Every namespace an Application deploys into, with the labels the namespaces chart gives it (none otherwise).
        foreach (var ns in render.Applications.Select(a => a.Str("spec.destination.namespace")!).Append(ChartRendering.Namespace))
            namespaces.TryAdd(ns, new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = ns });
        var injected = PlatformContracts.PodTemplates(render.All)
            .Where(t => t.Template.Annotations().GetValueOrDefault("vault.hashicorp.com/agent-inject") == "true")
            .Select(t => t.Owner.Namespace).ToHashSet();

        Assert.Equal("Fail", webhook.Str("failurePolicy"));
        Assert.Equal([ChartRendering.Namespace], injected);
        var selected = namespaces.Where(n => PlatformContracts.Selects(webhook.Obj("namespaceSelector"), n.Value)).Select(n => n.Key).ToList();
        Assert.Equal([ChartRendering.Namespace], selected);

        var injector = Assert.Single(vault, o => o.Kind == "Deployment" && o.Name == "vault-agent-injector");
        Assert.True(int.Parse(injector.Json.Str("spec.replicas")!, System.Globalization.CultureInfo.InvariantCulture) >= 2);
        var budget = Assert.Single(vault, o => o.Kind == "PodDisruptionBudget" && PlatformContracts.Selects(o.Json.Obj("spec.selector"), injector.Json.Obj("spec.template").Labels()));
        Assert.Equal("1", budget.Json.Str("spec.maxUnavailable"));
        // Two replicas on one node would fall together in that node's drain.
        Assert.NotNull(injector.Json.Node("spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution"));
    }

    /// <summary>The Secret the injector mounts into every pod (vault.hashicorp.com/tls-secret) comes from a trust-manager
    /// Bundle that copies one key, the certificate of the CA that signs Vault's listener, from the CA's own Secret:
    /// no Certificate writes it, so no pod ever holds a private key for it. The key the pods read
    /// (vault.hashicorp.com/ca-cert) is the key the Bundle writes.</summary>
    [Theory]
    [MemberData(nameof(GitOpsRepository.EnvironmentData), MemberType = typeof(GitOpsRepository))]
    public async Task PodsGetVaultsCaCertificateAndNoPrivateKey(string environment)
    {
        var render = await PlatformRendering.RenderAsync(environment);
        var pods = PlatformContracts.PodTemplates(render.All).Where(t => t.Template.Annotations().ContainsKey("vault.hashicorp.com/tls-secret")).ToList();
        var listener = render.OfKind("Certificate").Single(c => c.Name == "vault-server-tls");
        var issuer = render.OfKind("ClusterIssuer").Single(i => i.Name == listener.Json.Str("spec.issuerRef.name"));
        var caSecret = issuer.Json.Str("spec.ca.secretName");

        Assert.NotEmpty(pods);
        foreach (var (owner, template) in pods)
        {
            var annotations = template.Annotations();
            var secret = annotations["vault.hashicorp.com/tls-secret"];
            Assert.DoesNotContain(render.OfKind("Certificate"), c => c.Json.Str("spec.secretName") == secret);
            var bundle = Assert.Single(render.OfKind("Bundle"), b => b.Name == secret);
            Assert.Equal($"/vault/tls/{bundle.Json.Str("spec.target.secret.key")}", annotations["vault.hashicorp.com/ca-cert"]);
            var source = Assert.Single(bundle.Json.Arr("spec.sources"))!;
            Assert.Equal(caSecret, source.Str("secret.name"));
            Assert.Equal("ca.crt", source.Str("secret.key"));
            Assert.Contains((owner.Namespace, secret), PlatformContracts.SecretsProduced(render.All));
            Assert.Null(annotations.GetValueOrDefault("vault.hashicorp.com/client-key"));
        }
        // trust-manager may write that Secret name and no other.
        var trustManager = render.AddOn("trust-manager").Values;
        Assert.Equal(pods.Select(p => p.Template.Annotations()["vault.hashicorp.com/tls-secret"]).Distinct(),
            trustManager.Arr("secretTargets.authorizedSecrets").Select(s => s!.ToString()));
        Assert.False(trustManager.Node("secretTargets.authorizedSecretsAll")?.GetValue<bool>() ?? false);
    }

    /// <summary>The CRDs of prometheus-operator-crds are those of the operator kube-prometheus-stack runs: CRDs of a newer
    /// operator can carry fields the running one ignores, and an upgrade of one without the other breaks either.</summary>
    [Theory]
    [MemberData(nameof(GitOpsRepository.EnvironmentData), MemberType = typeof(GitOpsRepository))]
    public async Task ThePrometheusOperatorCrdsMatchTheOperatorThatRuns(string environment)
    {
        var render = await PlatformRendering.RenderAsync(environment);
        var operatorImage = PlatformContracts.Containers(render.AddOn("kube-prometheus-stack").Objects
                .Single(o => o.Kind == "Deployment" && o.Name == "kube-prometheus-stack-operator").Json.Obj("spec.template"))
            .Single(c => c.Str("name") == "kube-prometheus-stack").Str("image")!;
        var crds = render.AddOn("prometheus-operator-crds").Objects.Where(o => o.Kind == "CustomResourceDefinition").ToList();

        Assert.Contains(crds, c => c.Name == "servicemonitors.monitoring.coreos.com");
        Assert.All(crds, crd => Assert.Equal(operatorImage.Split(':')[^1].TrimStart('v'), crd.Json.Annotations()["operator.prometheus.io/version"]));
    }
}
