using System.Globalization;
using System.Text.Json.Nodes;
using TestKit;

namespace Deploy.Tests;

/// <summary>Metrics that lead to traces, judged by the engines that serve them: the real Prometheus (Debian's 2.42)
/// with exemplar storage on, as kube-prometheus-stack and compose run it, scraping two real Catalogs — one tracing
/// every request (sampler ratio 1), one none (ratio 0) — that export to an OTLP receiver standing in for Jaeger. What
/// Grafana gets from /api/v1/query_exemplars must be trace ids the collector received, and nothing from unsampled
/// requests or from any other metric.</summary>
public sealed class ExemplarsOnRealPrometheusTests
{
    [Fact]
    public async Task ExemplarsOnTheLatencyBucketsAreTracesTheCollectorReceivedAndUnsampledRequestsLeaveNone()
    {
        await using var receiver = new OtlpReceiver();
        var sampledSettings = Sampled(receiver, ratio: 1);
        await using var environment = await CatalogEnvironment.StartAsync(new CatalogEnvironmentOptions { Settings = sampledSettings });
        var sampled = environment.Service;
        var unsampledSettings = CatalogEnvironment.Configuration(environment.Cluster.Primary.ServiceConnectionString("catalog"),
            environment.Cluster.Standby!.ServiceConnectionString("catalog"), environment.Secrets.Path);
        foreach (var (key, value) in Sampled(receiver, ratio: 0)) unsampledSettings[key] = value;
        unsampledSettings["OTEL_SERVICE_NAME"] = "catalog-unsampled";
        await using var unsampled = ServiceProcess.Start(CatalogEnvironment.Project, unsampledSettings);
        await unsampled.WaitReadyAsync();

        var configuration = new JsonObject
        {
            ["global"] = new JsonObject { ["scrape_interval"] = "1s" },
            ["scrape_configs"] = new JsonArray(Job("sampled", sampled), Job("unsampled", unsampled)),
        };
        await using var prometheus = await PrometheusServer.StartAsync(configuration, "exemplar-storage");
        await prometheus.WaitForHealthyTargetsAsync(2, TimeSpan.FromSeconds(60));
        var start = DateTimeOffset.UtcNow.AddMinutes(-1);

        const int Requests = 20;
        foreach (var service in new[] { sampled, unsampled })
        {
            for (var i = 0; i < Requests; i++)
            {
                using var response = await service.Api.GetAsync(new Uri("api/v1/products?limit=5", UriKind.Relative));
                Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}");
            }
        }
        // Both services' requests are scraped (so "no exemplar" below is not "not scraped yet").
        // The list's route template is the group's prefix and its empty pattern: "/api/v1/products/".
        await Poll.UntilAsync(async () => (await prometheus.QueryAsync($"sum by (job) (http_request_duration_seconds_count{{route=\"/api/v1/products/\"}}) >= {Requests}")).Count == 2,
            TimeSpan.FromSeconds(60), "both services' requests in Prometheus");

        var exemplars = await prometheus.ExemplarsAsync("{job=~\"sampled|unsampled\"}", start, DateTimeOffset.UtcNow);
        var traceIds = exemplars.Select(e => e.Labels.Str("trace_id")).OfType<string>().Distinct().ToList();
        Assert.NotEmpty(traceIds);
        // Only the request-latency buckets carry them, and only the sampled service's.
        Assert.All(exemplars, e =>
        {
            Assert.Equal("http_request_duration_seconds_bucket", e.Series.Str("__name__"));
            Assert.Equal("sampled", e.Series.Str("job"));
            Assert.Matches("^[0-9a-f]{32}$", e.Labels.Str("trace_id") ?? "");
            Assert.Matches("^[0-9a-f]{16}$", e.Labels.Str("span_id") ?? "");
            Assert.True(double.Parse(e.Value, CultureInfo.InvariantCulture) > 0);
        });
        // Each leads to a trace Jaeger would have: its server span reached the collector.
        var spans = await receiver.WaitForAsync(s => traceIds.All(id => s.Any(span => span.TraceId == id && span.Kind == OtlpSpanKind.Server)),
            TimeSpan.FromSeconds(30), "the server span of every exemplar's trace");
        Assert.All(exemplars, e => Assert.Contains(spans, span => span.TraceId == e.Labels.Str("trace_id") && span.SpanId == e.Labels.Str("span_id")));
        // Sampling 0: nothing exported, so nothing to point at.
        Assert.DoesNotContain(spans, span => span.ServiceName == "catalog-unsampled");
    }

    private static Dictionary<string, string> Sampled(OtlpReceiver receiver, int ratio)
    {
        var settings = receiver.ServiceSettings();
        // The chart's sampler (telemetry.sampler), at both ends of its ratio.
        settings["OTEL_TRACES_SAMPLER"] = "parentbased_traceidratio";
        settings["OTEL_TRACES_SAMPLER_ARG"] = ratio.ToString(CultureInfo.InvariantCulture);
        return settings;
    }

    private static JsonObject Job(string name, ServiceProcess service) => new()
    {
        ["job_name"] = name,
        ["static_configs"] = new JsonArray(new JsonObject { ["targets"] = new JsonArray($"127.0.0.1:{service.ManagementPort}") }),
    };
}
