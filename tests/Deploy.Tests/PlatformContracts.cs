using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TestKit;

namespace Deploy.Tests;

/// <summary>Checks over a rendered platform (PlatformRender). Each returns what is wrong, so a test asserts an empty
/// list and a negative test runs the same check over a deliberately broken copy.</summary>
public static partial class PlatformContracts
{
    /// <summary>The rendered objects plus the Services that exist without being rendered: the API server's own
    /// (default/kubernetes), CoreDNS's (kube-system/kube-dns, the EKS add-on Terraform installs, modules/eks/addons.tf),
    /// and those operators create for rendered resources:
    /// - ECK: &lt;name&gt;-es-http (9200) for an Elasticsearch, &lt;name&gt;-kb-http (5601) for a Kibana
    ///   (https://www.elastic.co/guide/en/cloud-on-k8s/current/k8s-services.html);
    /// - the Prometheus Operator: prometheus-operated (9090) and alertmanager-operated (9093) beside each Prometheus and
    ///   Alertmanager, and the kubelet Service its --kubelet-service flag names (ports https-metrics 10250,
    ///   http-metrics 10255, cadvisor 4194; prometheus-operator pkg/kubelet/controller.go).</summary>
    public static List<RenderedObject> WithImplicitServices(IEnumerable<RenderedObject> objects)
    {
        var all = objects.ToList();
        var implicitServices = new List<RenderedObject>
        {
            ImplicitService("default", "kubernetes", new() { ["component"] = "apiserver", ["provider"] = "kubernetes" }, [("https", 443)], "the API server"),
            ImplicitService("kube-system", "kube-dns", new() { ["k8s-app"] = "kube-dns" }, [("dns", 53), ("metrics", 9153)], "the CoreDNS EKS add-on"),
        };
        foreach (var o in all)
        {
            var operatorOf = $"the operator, for {o}";
            switch (o.Kind)
            {
                case "Elasticsearch" when o.ApiVersion.StartsWith("elasticsearch.k8s.elastic.co/", StringComparison.Ordinal):
                    implicitServices.Add(ImplicitService(o.Namespace, o.Name + "-es-http",
                        new() { ["common.k8s.elastic.co/type"] = "elasticsearch", ["elasticsearch.k8s.elastic.co/cluster-name"] = o.Name }, [("https", 9200)], operatorOf));
                    break;
                case "Kibana" when o.ApiVersion.StartsWith("kibana.k8s.elastic.co/", StringComparison.Ordinal):
                    implicitServices.Add(ImplicitService(o.Namespace, o.Name + "-kb-http",
                        new() { ["common.k8s.elastic.co/type"] = "kibana", ["kibana.k8s.elastic.co/name"] = o.Name }, [("https", 5601)], operatorOf));
                    break;
                case "Prometheus" when o.ApiVersion.StartsWith("monitoring.coreos.com/", StringComparison.Ordinal):
                    implicitServices.Add(ImplicitService(o.Namespace, "prometheus-operated", new() { ["operated-prometheus"] = "true" }, [("web", 9090)], operatorOf));
                    break;
                case "Alertmanager" when o.ApiVersion.StartsWith("monitoring.coreos.com/", StringComparison.Ordinal):
                    implicitServices.Add(ImplicitService(o.Namespace, "alertmanager-operated", new() { ["operated-alertmanager"] = "true" }, [("web", 9093)], operatorOf));
                    break;
            }
        }
        foreach (var (owner, template) in PodTemplates(all))
        {
            foreach (var arg in Containers(template).SelectMany(c => c.Node("args") as JsonArray ?? []).Select(a => a!.ToString()).Where(a => a.StartsWith("--kubelet-service=", StringComparison.Ordinal)))
            {
                var parts = arg["--kubelet-service=".Length..].Split('/');
                implicitServices.Add(ImplicitService(parts[0], parts[1],
                    new() { ["app.kubernetes.io/name"] = "kubelet", ["k8s-app"] = "kubelet", ["app.kubernetes.io/managed-by"] = "prometheus-operator" },
                    [("https-metrics", 10250), ("http-metrics", 10255), ("cadvisor", 4194)], $"the Prometheus Operator ({owner})"));
            }
        }
        return [.. all, .. implicitServices.Where(s => !all.Any(o => o.Kind == "Service" && o.Namespace == s.Namespace && o.Name == s.Name))];
    }

    private static RenderedObject ImplicitService(string ns, string name, Dictionary<string, string> labels, (string Name, int Port)[] ports, string origin) =>
        new(new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Service",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns, ["labels"] = new JsonObject([.. labels.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value))]) },
            ["spec"] = new JsonObject { ["ports"] = new JsonArray([.. ports.Select(p => (JsonNode)new JsonObject { ["name"] = p.Name, ["port"] = p.Port })]) },
        }, ns, "created by " + origin);

    /// <summary>A Service and its ports.</summary>
    public sealed record ServiceEndpoint(string Namespace, string Name, IReadOnlyList<int> Ports, string? ExternalName, string Origin);

    /// <summary>Every Service: rendered, built in, or created by an operator (WithImplicitServices).</summary>
    public static List<ServiceEndpoint> Services(IEnumerable<RenderedObject> objects) =>
        [.. WithImplicitServices(objects).Where(o => o.Kind == "Service").Select(o => new ServiceEndpoint(o.Namespace, o.Name,
            [.. (o.Json.Node("spec.ports") as JsonArray ?? []).Select(p => int.Parse(p!.Str("port")!, CultureInfo.InvariantCulture))],
            o.Json.Str("spec.type") == "ExternalName" ? o.Json.Str("spec.externalName") : null, o.Source))];

    /// <summary>An in-cluster address found in a string: &lt;svc&gt;.&lt;ns&gt;.svc[.cluster.local][:port] (the last two labels before
    /// .svc, so pod names and wildcards in front of a headless Service count as that Service).</summary>
    public sealed record Address(string Service, string Namespace, int? Port, string Text, string Where);

    public static IEnumerable<Address> Addresses(JsonNode node, string where)
    {
        foreach (var text in Strings(node))
        {
            foreach (Match m in ServiceAddress().Matches(text))
            {
                var labels = m.Groups["host"].Value.Split('.');
                if (labels.Length < 2) continue;
                int? port = m.Groups["port"].Success ? int.Parse(m.Groups["port"].Value, CultureInfo.InvariantCulture) : null;
                yield return new Address(labels[^2], labels[^1], port, m.Value, where);
            }
        }
    }

    /// <summary>Every address named by the renders (except CRDs, whose descriptions hold examples) and by the project's
    /// add-on values must be a Service that exists, with the port named; an ExternalName Service's target must exist
    /// with every port the ExternalName Service offers.</summary>
    public static List<string> AddressProblems(PlatformRender render) =>
        AddressProblems(render.All, render.AddOns.Select(a => (a.Values, $"values of {a.Application}")));

    public static List<string> AddressProblems(IEnumerable<RenderedObject> objects, IEnumerable<(JsonObject Values, string Where)> values)
    {
        var all = objects.ToList();
        var services = Services(all);
        var addresses = all.Where(o => o.Kind != "CustomResourceDefinition").SelectMany(o => Addresses(o.Json, o.ToString()))
            .Concat(values.SelectMany(v => Addresses(v.Values, v.Where)));
        var problems = new List<string>();
        foreach (var address in addresses)
        {
            var service = services.FirstOrDefault(s => s.Name == address.Service && s.Namespace == address.Namespace);
            if (service is null)
                problems.Add($"{address.Where} names {address.Text}, but no Service {address.Namespace}/{address.Service} is rendered or created for a rendered resource");
            else if (address.Port is { } port && !service.Ports.Contains(port))
                problems.Add($"{address.Where} names {address.Text}, but Service {address.Namespace}/{address.Service} ({service.Origin}) has ports {string.Join(", ", service.Ports)}");
        }
        foreach (var external in services.Where(s => s.ExternalName is not null))
        {
            var target = Addresses(JsonValue.Create(external.ExternalName)!, $"ExternalName of {external.Namespace}/{external.Name}").FirstOrDefault();
            if (target is null) continue;
            var service = services.FirstOrDefault(s => s.Name == target.Service && s.Namespace == target.Namespace);
            var missing = service is null ? external.Ports : external.Ports.Except(service.Ports).ToList();
            if (service is not null && missing.Count == 0) continue;
            problems.Add($"ExternalName Service {external.Namespace}/{external.Name} points at {external.ExternalName}, which " +
                (service is null ? "is no Service" : $"lacks port(s) {string.Join(", ", missing)}"));
        }
        return [.. problems.Distinct()];
    }

    /// <summary>Strict schema violations of the objects: custom resources against the CRDs the platform itself renders
    /// (crd-validate.mjs; the API server's schema for them), everything else against kubernetes-models (validate.mjs).
    /// CRDs themselves are the charts' and are validated by the API server.</summary>
    public static async Task<List<string>> SchemaErrorsAsync(IEnumerable<RenderedObject> objects, IEnumerable<RenderedObject> crds)
    {
        var crdList = crds.Where(c => c.Kind == "CustomResourceDefinition").Select(c => c.Json).ToList();
        var groups = crdList.Select(c => c.Str("spec.group")).ToHashSet();
        var custom = new JsonArray();
        var core = new List<string>();
        var sources = new Dictionary<string, string>();
        foreach (var o in objects.Where(o => o.Kind != "CustomResourceDefinition"))
        {
            var group = o.ApiVersion.Contains('/', StringComparison.Ordinal) ? o.ApiVersion.Split('/')[0] : "";
            if (groups.Contains(group)) custom.Add(o.Json.DeepClone());
            else core.Add(o.Json.ToJsonString());
            sources.TryAdd($"{o.Kind}/{o.Name}", o.Source);
        }
        var errors = new List<string>();
        if (core.Count > 0) errors.AddRange((await ChartRendering.ValidateAsync(string.Join("\n---\n", core))).SchemaErrors);
        if (custom.Count > 0)
        {
            var input = new JsonObject { ["crds"] = new JsonArray([.. crdList.Select(c => c.DeepClone())]), ["objects"] = custom };
            var (_, output) = await Tool.RunRawAsync(DeployTools.Node, [ChartRendering.SchemaScript("crd-validate.mjs"), "--modules", DeployTools.NodeModules], stdin: input.ToJsonString());
            var result = JsonNode.Parse(output) as JsonObject ?? throw new InvalidOperationException($"crd-validate.mjs printed no result:\n{output}");
            errors.AddRange(result["errors"]!.AsArray().Select(e => e!.ToString()));
        }
        return [.. errors.Select(e => sources.TryGetValue(e.Split(':')[0], out var source) ? $"{e} [{source}]" : e)];
    }

    /// <summary>Keys of an add-on's values (valueFiles then valuesObject) that its chart never reads (values-keys.mjs),
    /// and those it passes through whole (judged where they land, by SchemaErrorsAsync).</summary>
    public static async Task<(List<string> Unread, List<string> PassedThrough)> ValuesKeysAsync(string chartDirectory, JsonObject values)
    {
        var (exitCode, output) = await Tool.RunRawAsync(DeployTools.Node,
            [ChartRendering.SchemaScript("values-keys.mjs"), "--modules", DeployTools.NodeModules, "--chart", chartDirectory], stdin: values.ToJsonString());
        if (exitCode != 0) throw new InvalidOperationException($"values-keys.mjs failed on {chartDirectory}:\n{output}");
        var result = JsonNode.Parse(output)!;
        return ([.. result["unread"]!.AsArray().Select(k => k!.ToString())], [.. result["passedThrough"]!.AsArray().Select(k => k!.ToString())]);
    }

    /// <summary>The metrics APIs an HPA metric is served by (resource metrics from metrics.k8s.io, the others from the
    /// custom and external metrics APIs), https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#support-for-metrics-apis.</summary>
    public static string MetricsApi(string metricType) => metricType switch
    {
        "Resource" or "ContainerResource" => "metrics.k8s.io",
        "Pods" or "Object" => "custom.metrics.k8s.io",
        "External" => "external.metrics.k8s.io",
        _ => throw new ArgumentOutOfRangeException(nameof(metricType), metricType, "not an HPA metric type"),
    };

    /// <summary>Every HPA metric needs its metrics API registered by an APIService the platform renders, backed by a
    /// rendered Service; the HPA's target must be rendered too.</summary>
    public static List<string> HpaProblems(IEnumerable<RenderedObject> objects)
    {
        var all = objects.ToList();
        var services = Services(all);
        var problems = new List<string>();
        foreach (var hpa in all.Where(o => o.Kind == "HorizontalPodAutoscaler"))
        {
            var target = hpa.Json.Obj("spec.scaleTargetRef");
            if (!all.Any(o => o.Kind == target.Str("kind") && o.Name == target.Str("name") && o.Namespace == hpa.Namespace))
                problems.Add($"{hpa} scales {target.Str("kind")}/{target.Str("name")}, which is not rendered");
            foreach (var metric in hpa.Json.Arr("spec.metrics").Select(m => m!.Str("type")!))
            {
                var api = MetricsApi(metric);
                var registrations = all.Where(o => o.Kind == "APIService" && o.Json.Str("spec.group") == api).ToList();
                if (registrations.Count == 0)
                {
                    problems.Add($"{hpa} has a {metric} metric, served by {api}, but no APIService registers {api}: the HPA never gets a value and holds minReplicas");
                    continue;
                }
                foreach (var registration in registrations)
                {
                    var ns = registration.Json.Str("spec.service.namespace");
                    var name = registration.Json.Str("spec.service.name");
                    var port = registration.Json.Node("spec.service.port") is { } p ? int.Parse(p.ToString(), CultureInfo.InvariantCulture) : 443;
                    if (!services.Any(s => s.Namespace == ns && s.Name == name && s.Ports.Contains(port)))
                        problems.Add($"{registration} sends {api} to Service {ns}/{name}:{port}, which is not rendered");
                }
            }
        }
        return problems;
    }

    /// <summary>Every ServiceMonitor selects at least one rendered Service, in the namespaces it names, with a port of
    /// each endpoint's name; every PodMonitor selects a rendered pod template with each endpoint's port name. A
    /// monitor that selects nothing is valid and silent: the targets never appear in Prometheus.</summary>
    public static List<string> MonitorProblems(IEnumerable<RenderedObject> objects)
    {
        var all = WithImplicitServices(objects);
        var problems = new List<string>();
        foreach (var monitor in all.Where(o => o.Kind == "ServiceMonitor"))
        {
            var namespaces = Namespaces(monitor);
            var services = all.Where(o => o.Kind == "Service" && (namespaces is null || namespaces.Contains(o.Namespace))
                && Selects(monitor.Json.Obj("spec.selector"), o.Json.Labels())).ToList();
            foreach (var endpoint in monitor.Json.Arr("spec.endpoints").Select(e => e!.AsObject()))
            {
                var port = endpoint.Str("port") ?? endpoint.Str("targetPort");
                if (!services.Any(s => (s.Json.Node("spec.ports") as JsonArray ?? []).Any(p => p!.Str("name") == port || p!.Str("targetPort") == port)))
                    problems.Add($"{monitor} selects no rendered Service with a port {port}");
            }
        }
        foreach (var monitor in all.Where(o => o.Kind == "PodMonitor"))
        {
            var namespaces = Namespaces(monitor);
            var pods = PodTemplates(all).Where(t => (namespaces is null || namespaces.Contains(t.Owner.Namespace))
                && Selects(monitor.Json.Obj("spec.selector"), t.Template.Labels())).ToList();
            foreach (var endpoint in monitor.Json.Arr("spec.podMetricsEndpoints").Select(e => e!.AsObject()))
            {
                var port = endpoint.Str("port") ?? endpoint.Str("portNumber") ?? endpoint.Str("targetPort");
                if (!pods.Any(p => Containers(p.Template).SelectMany(c => c.Node("ports") as JsonArray ?? []).Any(cp => cp!.Str("name") == port || cp!.Str("containerPort") == port)))
                    problems.Add($"{monitor} selects no rendered pod with a port {port}");
            }
        }
        return problems;
    }

    /// <summary>Who makes each Secret the pods need, besides a rendered Secret: External Secrets (an ExternalSecret's
    /// target), cert-manager (a Certificate's secretName), trust-manager (a Bundle's Secret target, in the namespaces
    /// its selector matches), ECK (&lt;es&gt;-es-http-certs-public and &lt;es&gt;-es-elastic-user for an Elasticsearch,
    /// https://www.elastic.co/guide/en/cloud-on-k8s/current/k8s-accessing-elastic-services.html).</summary>
    public static HashSet<(string Namespace, string Name)> SecretsProduced(IEnumerable<RenderedObject> objects)
    {
        var all = objects.ToList();
        var namespaces = all.Where(o => o.Kind == "Namespace").ToDictionary(o => o.Name, o => o.Json.Labels());
        var produced = new HashSet<(string, string)>();
        foreach (var o in all)
        {
            switch (o.Kind)
            {
                case "Secret":
                    produced.Add((o.Namespace, o.Name));
                    break;
                case "ExternalSecret":
                    produced.Add((o.Namespace, o.Json.Str("spec.target.name") ?? o.Name));
                    break;
                case "Certificate" when o.ApiVersion.StartsWith("cert-manager.io/", StringComparison.Ordinal):
                    produced.Add((o.Namespace, o.Json.Str("spec.secretName")!));
                    break;
                case "Bundle" when o.ApiVersion.StartsWith("trust.cert-manager.io/", StringComparison.Ordinal) && o.Json.Node("spec.target.secret") is not null:
                    var selector = o.Json.Node("spec.target.namespaceSelector") as JsonObject ?? [];
                    foreach (var (ns, labels) in namespaces.Where(n => Selects(selector, n.Value))) produced.Add((ns, o.Name));
                    break;
                case "Elasticsearch" when o.ApiVersion.StartsWith("elasticsearch.k8s.elastic.co/", StringComparison.Ordinal):
                    produced.Add((o.Namespace, o.Name + "-es-http-certs-public"));
                    produced.Add((o.Namespace, o.Name + "-es-elastic-user"));
                    break;
            }
        }
        return produced;
    }

    /// <summary>Secrets a pod template needs before its containers can start (volumes, env and envFrom; optional
    /// references excluded), with the namespace they are looked up in.</summary>
    public static IEnumerable<(RenderedObject Owner, string Secret, string How)> SecretsNeeded(IEnumerable<RenderedObject> objects)
    {
        foreach (var (owner, template) in PodTemplates(objects))
        {
            foreach (var volume in (template.Node("spec.volumes") as JsonArray ?? []).Select(v => v!.AsObject()))
            {
                if (volume.Str("secret.secretName") is { } name && volume.Node("secret.optional")?.GetValue<bool>() != true)
                    yield return (owner, name, $"volume {volume.Str("name")}");
                foreach (var source in (volume.Node("projected.sources") as JsonArray ?? []).Select(s => s!.AsObject()))
                {
                    if (source.Str("secret.name") is { } projected && source.Node("secret.optional")?.GetValue<bool>() != true)
                        yield return (owner, projected, $"projected volume {volume.Str("name")}");
                }
            }
            foreach (var container in Containers(template))
            {
                foreach (var env in (container.Node("env") as JsonArray ?? []).Select(e => e!.AsObject()))
                {
                    if (env.Str("valueFrom.secretKeyRef.name") is { } name && env.Node("valueFrom.secretKeyRef.optional")?.GetValue<bool>() != true)
                        yield return (owner, name, $"env {env.Str("name")} of {container.Str("name")}");
                }
                foreach (var from in (container.Node("envFrom") as JsonArray ?? []).Select(f => f!.AsObject()))
                {
                    if (from.Str("secretRef.name") is { } name && from.Node("secretRef.optional")?.GetValue<bool>() != true)
                        yield return (owner, name, $"envFrom of {container.Str("name")}");
                }
            }
        }
    }

    /// <summary>Every Secret a pod of the given objects needs is produced by the platform (SecretsProduced over all of it).
    /// A missing one keeps the pod in ContainerCreating with nothing but an event to say why.</summary>
    public static List<string> SecretProblems(IEnumerable<RenderedObject> pods, IEnumerable<RenderedObject> platform)
    {
        var produced = SecretsProduced(platform);
        return [.. SecretsNeeded(pods).Where(n => !produced.Contains((n.Owner.Namespace, n.Secret)))
            .Select(n => $"{n.Owner} needs Secret {n.Owner.Namespace}/{n.Secret} ({n.How}), which nothing in the platform creates")];
    }

    /// <summary>Pod templates of the workloads (Deployment, StatefulSet, DaemonSet, Rollout, Job, CronJob).</summary>
    public static IEnumerable<(RenderedObject Owner, JsonObject Template)> PodTemplates(IEnumerable<RenderedObject> objects)
    {
        foreach (var o in objects)
        {
            var template = o.Kind switch
            {
                "Deployment" or "StatefulSet" or "DaemonSet" or "Rollout" or "Job" or "ReplicaSet" => o.Json.Node("spec.template"),
                "CronJob" => o.Json.Node("spec.jobTemplate.spec.template"),
                _ => null,
            };
            if (template is JsonObject t) yield return (o, t);
        }
    }

    public static IEnumerable<JsonObject> Containers(JsonObject podTemplate) =>
        (podTemplate.Node("spec.containers") as JsonArray ?? []).Concat(podTemplate.Node("spec.initContainers") as JsonArray ?? []).Select(c => c!.AsObject());

    private static HashSet<string>? Namespaces(RenderedObject monitor) =>
        monitor.Json.Node("spec.namespaceSelector.any")?.GetValue<bool>() == true ? null
        : monitor.Json.Node("spec.namespaceSelector.matchNames") is JsonArray names ? [.. names.Select(n => n!.ToString())]
        : [monitor.Namespace];

    /// <summary>A label selector (matchLabels and matchExpressions) against labels.</summary>
    public static bool Selects(JsonObject selector, IReadOnlyDictionary<string, string> labels)
    {
        if (selector.Node("matchLabels") is JsonObject match && match.Any(l => !labels.TryGetValue(l.Key, out var v) || v != l.Value!.ToString())) return false;
        foreach (var expression in (selector.Node("matchExpressions") as JsonArray ?? []).Select(e => e!.AsObject()))
        {
            var key = expression.Str("key")!;
            var values = (expression.Node("values") as JsonArray ?? []).Select(v => v!.ToString()).ToList();
            var ok = expression.Str("operator") switch
            {
                "In" => labels.TryGetValue(key, out var v) && values.Contains(v),
                "NotIn" => !labels.TryGetValue(key, out var v) || !values.Contains(v),
                "Exists" => labels.ContainsKey(key),
                "DoesNotExist" => !labels.ContainsKey(key),
                _ => false,
            };
            if (!ok) return false;
        }
        return true;
    }

    public static IEnumerable<string> Strings(JsonNode? node) => node switch
    {
        JsonObject o => o.SelectMany(p => Strings(p.Value)),
        JsonArray a => a.SelectMany(Strings),
        JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.String => [v.GetValue<string>()],
        _ => [],
    };

    [GeneratedRegex(@"(?<host>[a-z0-9*](?:[-a-z0-9.*]*[a-z0-9])?)\.svc(?:\.cluster\.local)?(?![-a-z0-9])(?::(?<port>\d+))?")]
    private static partial Regex ServiceAddress();
}
