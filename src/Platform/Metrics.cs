using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Prometheus;

namespace Platform;

/// <summary>Every metric the platform exports. The names, label names and bucket boundaries are a contract: the
/// chart's rules, the AnalysisTemplate and the dashboards use them, and a contract test checks each one against a
/// real scrape. One instance per host, on its own registry (never prometheus-net's static default): two hosts in one
/// process — the in-process tests — each count only their own requests.</summary>
public sealed class PlatformMetrics : IDisposable
{
    /// <summary>Latency buckets (seconds). The SLO latency thresholds (0.25 s, 0.5 s) must stay bucket boundaries.</summary>
    private static readonly double[] s_latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>Label of the route template. Not <c>endpoint</c> (prometheus-net's default): the Prometheus Operator
    /// gives every scraped series an <c>endpoint</c> target label, so Prometheus would rename the application's to
    /// <c>exported_endpoint</c> and a query grouping <c>by (endpoint)</c> would group by the scrape port instead.</summary>
    public const string RouteLabel = "route";

    /// <summary>The .NET meter instruments exported next to the metrics below: Npgsql's connection pool figures
    /// (<c>npgsql_db_client_connection_count</c>, <c>_max</c>) and the runtime's own, all read when /metrics is
    /// scraped. Npgsql's per-command instruments are left out: every command would pay for five measurements through
    /// the adapter (<c>db_command_duration_seconds</c> times commands already). ASP.NET Core's and HttpClient's meters
    /// are left out because the middleware already counts HTTP requests; exporting both would duplicate series.</summary>
    private static bool IsExported(System.Diagnostics.Metrics.Instrument instrument) => instrument.Meter.Name switch
    {
        "System.Runtime" => true,
        "Npgsql" => instrument.Name is "db.client.connection.count" or "db.client.connection.max",
        _ => false,
    };

    private readonly IDisposable _meters;

    public PlatformMetrics(ServiceIdentity identity)
    {
        Registry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(Registry);
        // No exemplars by default: prometheus-net would copy the current trace and span id into every observation of
        // every metric, for traces that were mostly never exported.
        factory.ExemplarBehavior = new ExemplarBehavior { DefaultExemplarProvider = null };
        Factory = factory;

        HttpRequestDuration = factory.CreateHistogram(
            "http_request_duration_seconds", "Duration of HTTP requests on the API port, by route template.",
            new HistogramConfiguration
            {
                LabelNames = ["code", "method", RouteLabel],
                Buckets = s_latencyBuckets,
                // The one metric whose exemplars lead somewhere: a latency bucket to a trace Jaeger has. Only a recorded
                // (sampled) activity was exported; an unsampled one's trace id would lead nowhere.
                ExemplarBehavior = new ExemplarBehavior { DefaultExemplarProvider = static (_, _) => SampledTrace() },
            });
        HttpRequestsInProgress = factory.CreateGauge(
            "http_requests_in_progress", "HTTP requests being processed on the API port.",
            new GaugeConfiguration { LabelNames = ["method", RouteLabel] });
        DbCommandDuration = factory.CreateHistogram(
            "db_command_duration_seconds", "Duration of SQL commands, by database role (writer or reader).",
            new HistogramConfiguration { LabelNames = ["role"], Buckets = s_latencyBuckets });
        DbReads = factory.CreateCounter(
            "db_reads_total", "Read operations, by the database role that served them.",
            new CounterConfiguration { LabelNames = ["role"] });
        DbReaderFallbacks = factory.CreateCounter(
            "db_reader_fallbacks_total", "Reads sent to the writer because the reader was unreachable, stalled or marked down.",
            new CounterConfiguration { LabelNames = ["reason"] });
        DbWriterRetries = factory.CreateCounter(
            "db_writer_retries_total", "Writer operations retried because they provably did not commit (connection lost or refused before COMMIT, read-only server, serialization conflict).",
            new CounterConfiguration { LabelNames = ["reason"] });
        DbWriteUnknownOutcomes = factory.CreateCounter(
            "db_write_unknown_outcomes_total", "Writes whose connection was lost after COMMIT was sent and before its answer; surfaced as errors, never retried.");
        DbReadYourWritesPins = factory.CreateCounter(
            "db_read_your_writes_pins_total", "Reads routed to the writer because the client sent a fresh read-your-writes token.");
        DependencyUp = factory.CreateGauge(
            "dependency_up", "Whether a shared dependency answered its last health check (1) or not (0).",
            new GaugeConfiguration { LabelNames = ["dependency"] });
        SecretsReloads = factory.CreateCounter(
            "secrets_reloads_total", "Reloads of the Vault-rendered secrets directory, by outcome.",
            new CounterConfiguration { LabelNames = ["outcome"] });
        // No service label: the scrape target already carries one (the PodMonitor's relabelling, compose's static
        // labels), and a second would reach Prometheus as exported_service.
        BuildInfo = factory.CreateGauge(
            "app_build_info", "Always 1; the label carries the running version (shown on dashboards during a rollout).",
            new GaugeConfiguration { LabelNames = ["version"] });

        DotNetStats.Register(Registry);
        _meters = MeterAdapter.StartListening(new MeterAdapterOptions
        {
            // Both: the adapter creates its series through MetricFactory, which otherwise defaults to the static
            // registry (and to an exemplar on every measurement).
            Registry = Registry,
            MetricFactory = factory,
            InstrumentFilterPredicate = IsExported,
        });

        BuildInfo.WithLabels(identity.Version).Set(1);
        // Every label value a rule or dashboard relies on exists from the first scrape, so rate() and absent()
        // see 0 rather than "no data" before the first event.
        foreach (var role in new[] { "writer", "reader" })
        {
            DbCommandDuration.WithLabels(role);
            DbReads.WithLabels(role);
        }
        foreach (var reason in FallbackReasons.All) DbReaderFallbacks.WithLabels(reason);
        foreach (var reason in RetryReasons.All) DbWriterRetries.WithLabels(reason);
        foreach (var outcome in new[] { "success", "failure" }) SecretsReloads.WithLabels(outcome);
    }

    /// <summary>The trace and span id of a sampled request, as an OpenMetrics exemplar; none for an unsampled one.</summary>
    internal static Exemplar SampledTrace() =>
        Activity.Current is { Recorded: true } ? Exemplar.FromTraceContext() : Exemplar.None;

    /// <summary>What /metrics exports.</summary>
    public CollectorRegistry Registry { get; }

    /// <summary>Creates further metrics on this host's registry (a service's own).</summary>
    public IMetricFactory Factory { get; }

    /// <summary>HTTP requests by route template (<see cref="RouteLabel"/>, never a raw path), method and status code.</summary>
    public Histogram HttpRequestDuration { get; }

    public Gauge HttpRequestsInProgress { get; }

    /// <summary>Every SQL command, by the endpoint that ran it (<c>writer</c> or <c>reader</c>).</summary>
    public Histogram DbCommandDuration { get; }

    /// <summary>Read operations by the endpoint that answered them; reader share = reader / (reader + writer).</summary>
    public Counter DbReads { get; }

    public Counter DbReaderFallbacks { get; }

    public Counter DbWriterRetries { get; }

    public Counter DbWriteUnknownOutcomes { get; }

    public Counter DbReadYourWritesPins { get; }

    /// <summary>1 when a shared dependency answers, 0 when not (reported as Degraded, never as unready).</summary>
    public Gauge DependencyUp { get; }

    public Counter SecretsReloads { get; }

    public Gauge BuildInfo { get; }

    public void Dispose() => _meters.Dispose();

    /// <summary>Values of <c>db_writer_retries_total{reason}</c>.</summary>
    public static class RetryReasons
    {
        /// <summary>SQLSTATE 25006: the old writer after a failover, or a standby the endpoint already points at.</summary>
        public const string ReadOnly = "read_only";

        /// <summary>The connection was refused, lost or terminated (57P0x, 08xxx, 53300) before COMMIT was sent.</summary>
        public const string Connection = "connection";

        /// <summary>Serialization failure or deadlock (40001, 40P01): the transaction was rolled back as a whole.</summary>
        public const string Conflict = "conflict";

        /// <summary>A connect or command timeout before COMMIT: retried within the budget, the pool left as it is (a
        /// slow or overloaded server is not a dead one).</summary>
        public const string Timeout = "timeout";

        public static readonly IReadOnlyList<string> All = [ReadOnly, Connection, Conflict, Timeout];
    }

    /// <summary>Values of the <c>reason</c> label of db_reader_fallbacks_total.</summary>
    public static class FallbackReasons
    {
        /// <summary>The reader was found unreachable or stalled by this read, and is marked down.</summary>
        public const string Unavailable = "unavailable";

        /// <summary>The reader was marked down already: the read went straight to the writer.</summary>
        public const string MarkedDown = "marked_down";

        /// <summary>The reader answered but failed this read (a hot standby's conflict with recovery, a busy pool);
        /// it stays in use.</summary>
        public const string ReadFailed = "read_failed";

        public static readonly IReadOnlyList<string> All = [Unavailable, MarkedDown, ReadFailed];
    }
}

internal static class RequestMetrics
{
    public static void UseRequestMetrics(this IApplicationBuilder app)
    {
        var metrics = app.ApplicationServices.GetRequiredService<PlatformMetrics>();
        app.UseHttpMetrics(o =>
        {
            o.SetMetricFactory(metrics.Factory);
            o.RequestDuration.Histogram = metrics.HttpRequestDuration;
            o.InProgress.Gauge = metrics.HttpRequestsInProgress;
            // The duration histogram's _count already counts requests; a second counter would duplicate it.
            o.RequestCount.Enabled = false;
            o.CaptureMetricsUrl = false;
            // The exception handler clears the endpoint before answering; its feature keeps the one that threw.
            o.AddCustomLabel(PlatformMetrics.RouteLabel, context =>
                ((context.GetEndpoint() ?? context.Features.Get<IExceptionHandlerFeature>()?.Endpoint) as RouteEndpoint)?.RoutePattern.RawText ?? "");
        });
    }
}
