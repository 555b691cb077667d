namespace Deploy.Tests;

/// <summary>Every object the chart renders, validated against the Kubernetes and CRD schemas (Rollout,
/// AnalysisTemplate, PodMonitor, PrometheusRule) with unknown fields rejected: a misspelt field is an error here,
/// not a setting the API server silently drops.</summary>
public sealed class K8sSchemaTests
{
    private const string Rollout = """
        apiVersion: argoproj.io/v1alpha1
        kind: Rollout
        metadata:
          name: catalog
          labels: {app.kubernetes.io/name: catalog}
        spec:
          selector: {matchLabels: {app: catalog}}
          strategy:
            blueGreen: {activeService: catalog, previewService: catalog-preview, scaleDownDelaySeconds: 60}
          template:
            metadata: {labels: {app: catalog}}
            spec:
              containers:
                - name: app
                  image: catalog:develop-1a2b3c4
                  imagePullPolicy: IfNotPresent
                  lifecycle: {preStop: {sleep: {seconds: 10}}}
        """;

    [Theory]
    [MemberData(nameof(ChartRendering.Deployments), MemberType = typeof(ChartRendering))]
    public async Task EveryRenderedObjectMatchesItsSchemaStrictly(string service, string environment)
    {
        var rendered = await ChartRendering.RenderAsync(service, environment);

        Assert.True(rendered.SchemaErrors.Count == 0, string.Join('\n', rendered.SchemaErrors));
        foreach (var kind in new[] { "Rollout", "AnalysisTemplate", "PodMonitor", "PrometheusRule", "Job", "Ingress", "NetworkPolicy", "HorizontalPodAutoscaler" })
            Assert.NotEmpty(rendered.OfKind(kind));
    }

    [Theory]
    [MemberData(nameof(ChartRendering.CiValuesFiles), MemberType = typeof(ChartRendering))]
    public async Task EveryCiRenderingMatchesItsSchemaStrictly(string ciValuesFile)
    {
        var rendered = await ChartRendering.RenderCiAsync(ciValuesFile);

        Assert.True(rendered.SchemaErrors.Count == 0, string.Join('\n', rendered.SchemaErrors));
        Assert.NotEmpty(rendered.Documents);
    }

    [Fact]
    public async Task AValidRolloutPassesWithItsMapsOfArbitraryLabels()
    {
        var result = await ChartRendering.ValidateAsync(Rollout);

        Assert.Empty(result.SchemaErrors);
        Assert.Single(result.Documents);
    }

    [Theory]
    [InlineData("scaleDownDelaySeconds: 60", "scaleDownDelaySecond: 60", "/spec/strategy/blueGreen/scaleDownDelaySecond")]
    [InlineData("imagePullPolicy: IfNotPresent", "imagePulPolicy: IfNotPresent", "/spec/template/spec/containers/0/imagePulPolicy")]
    [InlineData("{sleep: {seconds: 10}}", "{sleep: {second: 10}}", "/spec/template/spec/containers/0/lifecycle/preStop/sleep/second")]
    public async Task AMisspelledFieldFailsValidation(string field, string misspelled, string path)
    {
        var result = await ChartRendering.ValidateAsync(Rollout.Replace(field, misspelled, StringComparison.Ordinal));

        Assert.Contains($"Rollout/catalog: {path}: unknown field (not in the Rollout schema)", result.SchemaErrors);
    }

    [Fact]
    public async Task AWrongTypeAndAnUnknownKindFailValidation()
    {
        var wrongType = await ChartRendering.ValidateAsync(Rollout.Replace("scaleDownDelaySeconds: 60", "scaleDownDelaySeconds: soon", StringComparison.Ordinal));
        var unknownKind = await ChartRendering.ValidateAsync("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n");

        Assert.Contains(wrongType.SchemaErrors, e => e.Contains("scaleDownDelaySeconds", StringComparison.Ordinal));
        Assert.Contains(unknownKind.SchemaErrors, e => e.Contains("no schema for example.com/v1 Widget", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AMisspelledFieldInARenderedCrdFailsValidation()
    {
        var (_, yaml) = await ChartRendering.TemplateAsync("catalog", ChartRendering.ValuesFiles("catalog", "prod"));

        var result = await ChartRendering.ValidateAsync(yaml
            .Replace("podMetricsEndpoints:", "podMetricEndpoints:", StringComparison.Ordinal)
            .Replace("successCondition:", "successCondtion:", StringComparison.Ordinal));

        Assert.Contains(result.SchemaErrors, e => e.StartsWith("PodMonitor/catalog: /spec/podMetricEndpoints: unknown field", StringComparison.Ordinal));
        Assert.Contains(result.SchemaErrors, e => e.StartsWith("AnalysisTemplate/catalog-pre-promotion: /spec/metrics/0/successCondtion: unknown field", StringComparison.Ordinal));
    }
}
