using TestKit;
using Xunit.Abstractions;

namespace Deploy.Tests;

/// <summary>Every platform Application rendered against its real upstream chart at the pinned version, per environment,
/// the way Argo CD renders it (PlatformRendering): the charts accept the values, every key the project sets is one
/// the chart reads, everything rendered is valid against the schema of the object it is (the platform's own CRDs for
/// custom resources), and every in-cluster address points at a Service that will exist.</summary>
public sealed partial class PlatformRenderTests(ITestOutputHelper output)
{
    [Theory]
    [MemberData(nameof(GitOpsRepository.EnvironmentData), MemberType = typeof(GitOpsRepository))]
    public async Task EveryAddOnRendersAgainstItsPinnedUpstreamChart(string environment)
    {
        var render = await PlatformRendering.RenderAsync(environment);

        None(render.AddOns.Where(a => a.Error is not null).Select(a => $"{a.Application} ({a.Chart} {a.Version}): {a.Error}"));
        var upstream = render.Applications.SelectMany(GitOpsRepository.Sources).Count(s => s.Str("chart") is not null);
        Assert.Equal(upstream, render.AddOns.Count);
        Assert.All(render.AddOns, a => Assert.NotEmpty(a.Objects));
        // The API versions come from the platform's own CRDs and APIServices, e.g. the Prometheus Operator's: a chart
        // asked for a monitor renders one (external-secrets renders its three only when told the API exists).
        Assert.Contains("monitoring.coreos.com/v1/ServiceMonitor", render.ApiVersions);
        Assert.Contains("metrics.k8s.io/v1beta1", render.ApiVersions);
        foreach (var addOn in render.AddOns.Where(a => MonitorAsked().IsMatch(a.Values.ToJsonString())))
            Assert.True(addOn.Objects.Any(o => o.Kind is "ServiceMonitor" or "PodMonitor"), $"{addOn.Application} enables a monitor but renders none");
        Assert.Equal(3, render.AddOn("external-secrets").Objects.Count(o => o.Kind == "ServiceMonitor"));
        Figures.Record(output, $"{nameof(PlatformRenderTests)}.render.{environment}",
            $"{render.AddOns.Count} upstream charts + the repository's charts rendered in {render.Elapsed.TotalSeconds:F1} s ({render.All.Count()} objects)");
    }

    [Theory]
    [MemberData(nameof(GitOpsRepository.EnvironmentData), MemberType = typeof(GitOpsRepository))]
    public async Task EveryKeyTheProjectSetsIsOneTheChartReads(string environment)
    {
        var render = await PlatformRendering.RenderAsync(environment);
        var problems = new List<string>();

        foreach (var addOn in render.AddOns)
        {
            var (unread, _) = await PlatformContracts.ValuesKeysAsync(addOn.ChartDirectory, addOn.Values);
            problems.AddRange(unread.Select(k => $"{addOn.Application} ({addOn.Chart} {addOn.Version}) never reads {k}"));
        }

        None(problems);
    }

    [Theory]
    [MemberData(nameof(GitOpsRepository.EnvironmentData), MemberType = typeof(GitOpsRepository))]
    public async Task EverythingRenderedIsValidAgainstTheSchemaOfWhatItIs(string environment)
    {
        var render = await PlatformRendering.RenderAsync(environment);

        var errors = await PlatformContracts.SchemaErrorsAsync(render.All, render.All);

        None(errors);
    }

    [Theory]
    [MemberData(nameof(GitOpsRepository.EnvironmentData), MemberType = typeof(GitOpsRepository))]
    public async Task EveryInClusterAddressIsARenderedServiceWithThatPort(string environment)
    {
        var render = await PlatformRendering.RenderAsync(environment);

        None(PlatformContracts.AddressProblems(render));
    }

    [Theory]
    [MemberData(nameof(GitOpsRepository.EnvironmentData), MemberType = typeof(GitOpsRepository))]
    public async Task EveryHpaMetricIsServedByWhatThePlatformInstalls(string environment)
    {
        var render = await PlatformRendering.RenderAsync(environment);

        Assert.NotEmpty(render.OfKind("HorizontalPodAutoscaler"));
        None(PlatformContracts.HpaProblems(render.All));
    }

    [Theory]
    [MemberData(nameof(GitOpsRepository.EnvironmentData), MemberType = typeof(GitOpsRepository))]
    public async Task EveryServiceMonitorAndPodMonitorSelectsSomethingToScrape(string environment)
    {
        var render = await PlatformRendering.RenderAsync(environment);

        None(PlatformContracts.MonitorProblems(render.All));
    }

    /// <summary>Upstream charts' own pods also mount Secrets their controllers create at run time (webhook
    /// certificates, say); the pods checked are the repository's (its charts and the services') and every pod whose
    /// Secret comes from the project's add-on values.</summary>
    [Theory]
    [MemberData(nameof(GitOpsRepository.EnvironmentData), MemberType = typeof(GitOpsRepository))]
    public async Task EverySecretThePlatformsPodsNeedIsOneThePlatformMakes(string environment)
    {
        var render = await PlatformRendering.RenderAsync(environment);
        var fromValues = render.AddOns.SelectMany(a => a.Objects.Where(o => PlatformContracts.SecretsNeeded([o])
            .Any(n => PlatformContracts.Strings(a.Values).Contains(n.Secret))));

        var needed = render.LocalObjects.Concat(render.ServiceObjects).Concat(fromValues).ToList();

        Assert.True(PlatformContracts.SecretsNeeded(needed).Count() >= 10, "too few Secret references found to mean anything");
        None(PlatformContracts.SecretProblems(needed, render.All));
    }

    /// <summary>Fails listing every problem, one per line.</summary>
    internal static void None(IEnumerable<string> problems)
    {
        var list = problems.ToList();
        Assert.True(list.Count == 0, $"{list.Count} problem(s):\n{string.Join("\n", list)}");
    }

    [Fact]
    public async Task AChartThatIsNeitherVendoredNorPullableFailsNamingIt()
    {
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => UpstreamCharts.LocateAsync("http://127.0.0.1:9/charts", "no-such-chart", "0.0.0"));

        Assert.Contains("The chart no-such-chart 0.0.0 (Application source http://127.0.0.1:9/charts) is missing", failure.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(UpstreamCharts.SharedDirectory, "no-such-chart-0.0.0"), failure.Message, StringComparison.Ordinal);
        Assert.Contains(UpstreamCharts.DirectoryVariable, failure.Message, StringComparison.Ordinal);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"""(serviceMonitor|servicemonitor|podMonitor)"":\{""enabled"":true")]
    private static partial System.Text.RegularExpressions.Regex MonitorAsked();
}
