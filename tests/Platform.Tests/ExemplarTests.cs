using System.Diagnostics;
using System.Text;
using Prometheus;

namespace Platform.Tests;

/// <summary>Exemplars as prometheus-net writes them in the OpenMetrics exposition (what Prometheus scrapes with
/// exemplar storage on): only on the request-duration histogram, and only for a recorded (sampled, exported) trace.</summary>
public sealed class ExemplarTests : IDisposable
{
    private readonly ActivitySource _source = new("Platform.Tests.Exemplars");
    private readonly ActivityListener _listener;
    private readonly PlatformMetrics _metrics = new(new ServiceIdentity("catalog", "1.0.0"));
    private ActivitySamplingResult _sampling = ActivitySamplingResult.AllDataAndRecorded;

    public ExemplarTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source == _source,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => _sampling,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    [Fact]
    public async Task ARecordedRequestLeavesItsTraceIdOnTheLatencyBucket()
    {
        using var activity = _source.StartActivity("GET /api/v1/products/{id}")!;
        Assert.True(activity.Recorded);

        _metrics.HttpRequestDuration.WithLabels("200", "GET", "/api/v1/products/{id:guid}").Observe(0.004);

        var exposition = await OpenMetricsAsync();
        Assert.Contains($"# {{trace_id=\"{activity.TraceId}\",span_id=\"{activity.SpanId}\"}} 0.004", exposition, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnsampledRequestLeavesNoExemplar()
    {
        _sampling = ActivitySamplingResult.PropagationData;
        using var activity = _source.StartActivity("GET /api/v1/products/{id}")!;
        Assert.False(activity.Recorded);

        _metrics.HttpRequestDuration.WithLabels("200", "GET", "/api/v1/products/{id:guid}").Observe(0.004);

        Assert.DoesNotContain("trace_id", await OpenMetricsAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoOtherMetricCarriesExemplarsEvenUnderASampledTrace()
    {
        using var activity = _source.StartActivity("GET /api/v1/products/{id}")!;
        Assert.True(activity.Recorded);

        _metrics.DbCommandDuration.WithLabels("reader").Observe(0.001);
        _metrics.DbReads.WithLabels("reader").Inc();
        _metrics.DbReaderFallbacks.WithLabels("unavailable").Inc();

        var exposition = await OpenMetricsAsync();
        Assert.Contains("db_reads_total{role=\"reader\"} 1", exposition, StringComparison.Ordinal);
        Assert.DoesNotContain("trace_id", exposition, StringComparison.Ordinal);
    }

    private async Task<string> OpenMetricsAsync()
    {
        using var stream = new MemoryStream();
        await _metrics.Registry.CollectAndExportAsTextAsync(stream, ExpositionFormat.OpenMetricsText);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    public void Dispose()
    {
        _listener.Dispose();
        _source.Dispose();
        _metrics.Dispose();
    }
}
