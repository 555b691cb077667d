using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Prometheus;

namespace Platform;

/// <summary>Every metric the platform exports. The names are a contract: the chart's rules, the AnalysisTemplate
/// and the dashboards use them, and a contract test checks each one against a real scrape.</summary>
public static class PlatformMetrics
{
    /// <summary>Latency buckets (seconds). The SLO latency thresholds (0.25 s, 0.5 s) must stay bucket boundaries.</summary>
    private static readonly double[] s_latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>Label of the route template. Not <c>endpoint</c> (prometheus-net's default): the Prometheus Operator
    /// gives every scraped series an <c>endpoint</c> target label, so Prometheus would rename the application's to
    /// <c>exported_endpoint</c> and a query grouping <c>by (endpoint)</c> would group by the scrape port instead.</summary>
    public const string RouteLabel = "route";

    /// <summary>HTTP requests by route template (<see cref="RouteLabel"/>, never a raw path), method and status code.</summary>
    public static readonly Histogram HttpRequestDuration = Metrics.CreateHistogram(
        "http_request_duration_seconds", "Duration of HTTP requests on the API port, by route template.",
        new HistogramConfiguration { LabelNames = ["code", "method", RouteLabel], Buckets = s_latencyBuckets });

    public static readonly Gauge HttpRequestsInProgress = Metrics.CreateGauge(
        "http_requests_in_progress", "HTTP requests being processed on the API port.",
        new GaugeConfiguration { LabelNames = ["method", RouteLabel] });

    /// <summary>Every SQL command, by the endpoint that ran it (<c>writer</c> or <c>reader</c>).</summary>
    public static readonly Histogram DbCommandDuration = Metrics.CreateHistogram(
        "db_command_duration_seconds", "Duration of SQL commands, by database role (writer or reader).",
        new HistogramConfiguration { LabelNames = ["role"], Buckets = s_latencyBuckets });

    /// <summary>Read operations by the endpoint that answered them; reader share = reader / (reader + writer).</summary>
    public static readonly Counter DbReads = Metrics.CreateCounter(
        "db_reads_total", "Read operations, by the database role that served them.",
        new CounterConfiguration { LabelNames = ["role"] });

    public static readonly Counter DbReaderFallbacks = Metrics.CreateCounter(
        "db_reader_fallbacks_total", "Reads sent to the writer because the reader was unreachable, stalled or marked down.",
        new CounterConfiguration { LabelNames = ["reason"] });

    public static readonly Counter DbWriterRetries = Metrics.CreateCounter(
        "db_writer_retries_total", "Writer operations retried because they provably did not run (read-only server, connection refused).",
        new CounterConfiguration { LabelNames = ["reason"] });

    public static readonly Counter DbWriteUnknownOutcomes = Metrics.CreateCounter(
        "db_write_unknown_outcomes_total", "Writes whose connection was lost after the command was sent; surfaced as errors, never retried.");

    public static readonly Counter DbReadYourWritesPins = Metrics.CreateCounter(
        "db_read_your_writes_pins_total", "Reads routed to the writer because the client sent a fresh read-your-writes token.");

    /// <summary>1 when a shared dependency answers, 0 when not (reported as Degraded, never as unready).</summary>
    public static readonly Gauge DependencyUp = Metrics.CreateGauge(
        "dependency_up", "Whether a shared dependency answered its last health check (1) or not (0).",
        new GaugeConfiguration { LabelNames = ["dependency"] });

    public static readonly Counter SecretsReloads = Metrics.CreateCounter(
        "secrets_reloads_total", "Reloads of the Vault-rendered secrets directory, by outcome.",
        new CounterConfiguration { LabelNames = ["outcome"] });

    /// <summary>No <c>service</c> label: the scrape target already carries one (the PodMonitor's relabelling, compose's
    /// static labels), and a second would reach Prometheus as <c>exported_service</c>.</summary>
    public static readonly Gauge BuildInfo = Metrics.CreateGauge(
        "app_build_info", "Always 1; the label carries the running version (shown on dashboards during a rollout).",
        new GaugeConfiguration { LabelNames = ["version"] });

    /// <summary>Names of the .NET meters exported next to the metrics above: Npgsql's connection pool figures
    /// (<c>db_client_connections_usage</c> …) and the runtime's own. ASP.NET Core's and HttpClient's meters are
    /// left out because the middleware above already counts HTTP requests; exporting both would duplicate series.</summary>
    private static readonly HashSet<string> s_exportedMeters = ["Npgsql", "System.Runtime"];

    internal static void Configure(ServiceIdentity identity)
    {
        Metrics.SuppressDefaultMetrics(new SuppressDefaultMetricOptions
        {
            SuppressEventCounters = true,
            SuppressDebugMetrics = true,
            SuppressMeters = false,
            SuppressProcessMetrics = false,
        });
        Metrics.ConfigureMeterAdapter(o => o.InstrumentFilterPredicate = instrument => s_exportedMeters.Contains(instrument.Meter.Name));
        BuildInfo.WithLabels(identity.Version).Set(1);
        // Every label value a rule or dashboard relies on exists from the first scrape, so rate() and absent()
        // see 0 rather than "no data" before the first event.
        foreach (var role in new[] { "writer", "reader" })
        {
            DbCommandDuration.WithLabels(role);
            DbReads.WithLabels(role);
        }
        DbReaderFallbacks.WithLabels("unavailable");
        DbReaderFallbacks.WithLabels("marked_down");
        DbWriterRetries.WithLabels("read_only");
        DbWriterRetries.WithLabels("connect");
        SecretsReloads.WithLabels("success");
        SecretsReloads.WithLabels("failure");
    }

    internal static void UseRequestMetrics(this IApplicationBuilder app)
    {
        app.UseHttpMetrics(o =>
        {
            o.RequestDuration.Histogram = HttpRequestDuration;
            o.InProgress.Gauge = HttpRequestsInProgress;
            // The duration histogram's _count already counts requests; a second counter would duplicate it.
            o.RequestCount.Enabled = false;
            o.CaptureMetricsUrl = false;
            // The exception handler clears the endpoint before answering; its feature keeps the one that threw.
            o.AddCustomLabel(RouteLabel, context => ((context.GetEndpoint() ?? context.Features.Get<IExceptionHandlerFeature>()?.Endpoint) as RouteEndpoint)?.RoutePattern.RawText ?? "");
        });
    }
}
