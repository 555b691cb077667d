using System.Text.Json.Nodes;

namespace Deploy.Tests;

/// <summary>The checks of PlatformRenderTests catch what they exist for: each test breaks one thing in a copy of the
/// rendered platform (a Service's name, a values key, a value a schema constrains), re-renders the real upstream
/// chart where the break is in its values, and asserts the same check that passes on the repository now fails,
/// naming the break.</summary>
public sealed class PlatformRenderBreakageTests
{
    private const string Environment = "staging";

    /// <summary>Jaeger's chart as 4.1.0 laid it out: the collector and the query API under other names than the
    /// otel-collector ExternalName and Grafana's datasource use.</summary>
    [Fact]
    public async Task AServiceRenamedUnderTheAddressesThatNameItIsCaught()
    {
        var render = await PlatformRendering.RenderAsync(Environment);
        var jaeger = await RerenderAsync(render, "jaeger", values => values["fullnameOverride"] = "jaeger-collector");

        var problems = PlatformContracts.AddressProblems(Replace(render, jaeger), render.AddOns.Select(a => (a.Values, a.Application)));

        Assert.Contains(jaeger.Objects, o => o.Kind == "Service" && o.Name == "jaeger-collector");
        Assert.Contains(problems, p => p.StartsWith("ExternalName Service observability/otel-collector points at jaeger.observability.svc.cluster.local, which is no Service", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("grafana-datasource", StringComparison.Ordinal) && p.Contains("jaeger.observability.svc:16686", StringComparison.Ordinal));
        Assert.Empty(PlatformContracts.AddressProblems(render));
    }

    [Fact]
    public async Task AnAddressWithAPortTheServiceDoesNotHaveIsCaught()
    {
        var render = await PlatformRendering.RenderAsync(Environment);
        var values = render.AddOn("kube-prometheus-stack").Values.DeepClone().AsObject();
        values.Obj("grafana")["additionalDataSources"]![0]!["url"] = "http://jaeger.observability.svc:16687";

        var problems = PlatformContracts.AddressProblems(render.All, [(values, "kube-prometheus-stack")]);

        Assert.Contains(problems, p => p.Contains("jaeger.observability.svc:16687", StringComparison.Ordinal) && p.Contains("has ports", StringComparison.Ordinal));
    }

    /// <summary>The keys external-secrets 0.20.4 never read (webhook/certController.serviceMonitor), put back, and a
    /// misspelt key inside prometheusSpec, which the chart copies key by key.</summary>
    [Fact]
    public async Task KeysTheChartNeverReadsAreCaught()
    {
        var render = await PlatformRendering.RenderAsync(Environment);
        var eso = render.AddOn("external-secrets");
        var formerEso = eso.Values.DeepClone().AsObject();
        formerEso["webhook"] = new JsonObject { ["serviceMonitor"] = new JsonObject { ["enabled"] = true } };
        formerEso["certController"] = new JsonObject { ["serviceMonitor"] = new JsonObject { ["enabled"] = true } };
        var stack = render.AddOn("kube-prometheus-stack");
        var misspelt = stack.Values.DeepClone().AsObject();
        misspelt.Obj("prometheus").Obj("prometheusSpec")["retentionSizee"] = "45GB";

        var (esoUnread, _) = await PlatformContracts.ValuesKeysAsync(eso.ChartDirectory, formerEso);
        var (stackUnread, _) = await PlatformContracts.ValuesKeysAsync(stack.ChartDirectory, misspelt);

        Assert.Equal(["certController.serviceMonitor", "webhook.serviceMonitor"], esoUnread);
        Assert.Equal(["prometheus.prometheusSpec.retentionSizee"], stackUnread);
        Assert.Empty((await PlatformContracts.ValuesKeysAsync(eso.ChartDirectory, eso.Values)).Unread);
    }

    /// <summary>Values the chart passes on whole land in an object whose schema judges them: a misspelt field in a
    /// volume mount Vault's chart copies into its StatefulSet (kubernetes-models), and a replica count of the wrong type
    /// in the Alertmanager custom resource (the prometheus-operator CRD the platform installs).</summary>
    [Fact]
    public async Task WhatTheChartPassesThroughIsJudgedWhereItLands()
    {
        var render = await PlatformRendering.RenderAsync(Environment);
        var vault = await RerenderAsync(render, "vault", values => values.Obj("server").Arr("volumeMounts")[0]!["mountPat"] = "/x");
        var stack = await RerenderAsync(render, "kube-prometheus-stack", values => values.Obj("alertmanager").Obj("alertmanagerSpec")["replicas"] = "two");

        var vaultErrors = await PlatformContracts.SchemaErrorsAsync(vault.Objects, render.All);
        var stackErrors = await PlatformContracts.SchemaErrorsAsync(stack.Objects, render.All);

        Assert.Contains(vaultErrors, e => System.Text.RegularExpressions.Regex.IsMatch(e, @"^StatefulSet/vault: /spec/template/spec/containers/0/volumeMounts/\d+/mountPat: unknown field"));
        Assert.Contains(stackErrors, e => e.StartsWith("Alertmanager/kube-prometheus-stack-alertmanager: /spec/replicas: must be integer", StringComparison.Ordinal));
        Assert.Empty(await PlatformContracts.SchemaErrorsAsync(render.AddOn("vault").Objects, render.All));
    }

    [Fact]
    public async Task AnHpaWithoutMetricsServerIsCaught()
    {
        var render = await PlatformRendering.RenderAsync(Environment);

        var problems = PlatformContracts.HpaProblems(render.All.Where(o => !o.Source.StartsWith("metrics-server", StringComparison.Ordinal)));

        Assert.Contains(problems, p => p.Contains("no APIService registers metrics.k8s.io", StringComparison.Ordinal));
        Assert.Empty(PlatformContracts.HpaProblems(render.All));
    }

    [Fact]
    public async Task AServiceMonitorThatSelectsNothingIsCaught()
    {
        var render = await PlatformRendering.RenderAsync(Environment);
        var monitor = render.LocalObjects.Single(o => o.Kind == "ServiceMonitor" && o.Name == "jaeger");
        var broken = monitor with { Json = monitor.Json.DeepClone().AsObject() };
        broken.Json.Obj("spec").Arr("endpoints")[0]!["port"] = "metrics";

        var problems = PlatformContracts.MonitorProblems(render.All.Where(o => o != monitor).Append(broken));

        Assert.Equal([$"{broken} selects no rendered Service with a port metrics"], problems);
    }

    private static async Task<AddOnRender> RerenderAsync(PlatformRender render, string application, Action<JsonObject> edit)
    {
        var addOn = render.AddOn(application);
        var values = addOn.Values.DeepClone().AsObject();
        edit(values);
        var app = render.Applications.Single(a => a.Str("metadata.name") == application);
        var source = GitOpsRepository.Sources(app).Single(s => s.Str("chart") is not null);
        var rendered = await PlatformRendering.RenderAddOnAsync(app, source, render.KubeVersion, render.ApiVersions, values);
        Assert.True(rendered.Error is null, rendered.Error);
        return rendered;
    }

    private static IEnumerable<RenderedObject> Replace(PlatformRender render, AddOnRender addOn) =>
        render.AddOns.Where(a => a.Application != addOn.Application).SelectMany(a => a.Objects).Concat(addOn.Objects)
            .Concat(render.LocalObjects).Concat(render.ServiceObjects);
}
