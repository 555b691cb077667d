using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Platform;

/// <summary>Tags that place a health check on a probe.</summary>
public static class HealthTags
{
    /// <summary>Start-up gate: secrets loaded and the writer has answered once.</summary>
    public const string Startup = "startup";

    /// <summary>Pod-local readiness: started, secrets present, not draining.</summary>
    public const string Ready = "ready";

    /// <summary>Shared dependencies (writer, reader, Catalog, S3): reported as Degraded on /health/ready and in the
    /// dependency_up metric, never as unready, and each transition logged once (Warning when it goes down, Information
    /// when it is back). Register them with failureStatus Degraded and a timeout.</summary>
    public const string Dependency = "dependency";

    /// <summary>With <see cref="Dependency"/>: the dependency's own code logs its transitions (the reader's mark-down,
    /// which also says where reads go), so the health checks do not log them a second time.</summary>
    public const string LogsOwnTransitions = "logs-own-transitions";
}

/// <summary>Process-wide lifecycle facts the probes report.</summary>
public sealed class PlatformState
{
    private int _started;
    private int _draining;

    /// <summary>Set once the writer answered (and migrations ran, when configured): the start-up probe passes.</summary>
    public bool Started => Volatile.Read(ref _started) == 1;

    /// <summary>Set at SIGTERM: readiness fails at once so the pod leaves the Service endpoints.</summary>
    public bool Draining => Volatile.Read(ref _draining) == 1;

    public void MarkStarted() => Volatile.Write(ref _started, 1);

    public void MarkDraining() => Volatile.Write(ref _draining, 1);
}

internal static class Health
{
    public static void AddPlatformHealth(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<PlatformState>();
        builder.Services.AddHealthChecks()
            .AddCheck<StartupCheck>("startup", tags: [HealthTags.Startup])
            .AddCheck<LocalReadinessCheck>("local", tags: [HealthTags.Ready]);
        // Dependency checks run in the background too, so dependency_up is current even when nobody probes.
        builder.Services.Configure<HealthCheckPublisherOptions>(o =>
        {
            o.Delay = TimeSpan.FromSeconds(1);
            o.Period = TimeSpan.FromSeconds(5);
            o.Predicate = check => check.Tags.Contains(HealthTags.Dependency);
        });
        builder.Services.AddSingleton<IHealthCheckPublisher, DependencyPublisher>();
    }

    public static void MapPlatformHealth(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks(PlatformPaths.Live, new HealthCheckOptions
        {
            // Liveness restarts the container: it must never depend on anything outside the process.
            Predicate = _ => false,
            ResponseWriter = WriteJson,
        });
        endpoints.MapHealthChecks(PlatformPaths.Startup, new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(HealthTags.Startup),
            ResponseWriter = WriteJson,
        });
        endpoints.MapHealthChecks(PlatformPaths.Ready, new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(HealthTags.Ready) || check.Tags.Contains(HealthTags.Dependency),
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [HealthStatus.Degraded] = StatusCodes.Status200OK,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
            ResponseWriter = WriteJson,
        });
    }

    private static Task WriteJson(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("status", report.Status.ToString());
            json.WriteNumber("durationMs", Math.Round(report.TotalDuration.TotalMilliseconds, 1));
            json.WriteStartObject("checks");
            foreach (var (name, entry) in report.Entries)
            {
                json.WriteStartObject(name);
                json.WriteString("status", entry.Status.ToString());
                if (entry.Description is { } description) json.WriteString("description", description);
                else if (entry.Exception is { } exception) json.WriteString("description", exception.GetBaseException().Message);
                json.WriteNumber("durationMs", Math.Round(entry.Duration.TotalMilliseconds, 1));
                json.WriteEndObject();
            }
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return context.Response.Body.WriteAsync(buffer.ToArray()).AsTask();
    }

    private sealed class StartupCheck(PlatformState state, ISecretsState secrets) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(
                secrets.RequiredFileMissing ? HealthCheckResult.Unhealthy(secrets.Problem)
                : !state.Started ? HealthCheckResult.Unhealthy("waiting for the writer to answer once")
                : HealthCheckResult.Healthy());
    }

    private sealed class LocalReadinessCheck(PlatformState state, ISecretsState secrets) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(
                state.Draining ? HealthCheckResult.Unhealthy("draining: shutting down")
                : !state.Started ? HealthCheckResult.Unhealthy("not started")
                : secrets.RequiredFileMissing ? HealthCheckResult.Unhealthy(secrets.Problem)
                : secrets.Problem is { } problem ? HealthCheckResult.Healthy($"serving with the last good secrets: {problem}")
                : HealthCheckResult.Healthy());
    }

    /// <summary>Publishes each dependency's state to dependency_up and logs its transitions, once each: the health
    /// check service's own per-probe results are not logged (see Logging), so an outage of the writer, Catalog or S3
    /// is one Warning with the check's description and exception, its end one Information line.</summary>
    private sealed class DependencyPublisher(PlatformMetrics metrics, ILogger<DependencyPublisher> logger) : IHealthCheckPublisher
    {
        // The publisher service runs one report at a time.
        private readonly Dictionary<string, bool> _up = [];

        public Task PublishAsync(HealthReport report, CancellationToken cancellationToken)
        {
            foreach (var (name, entry) in report.Entries)
            {
                var up = entry.Status == HealthStatus.Healthy;
                metrics.DependencyUp.WithLabels(name).Set(up ? 1 : 0);
                // A dependency found up at start is no transition; one found down is.
                var wasUp = _up.TryGetValue(name, out var previous) ? previous : true;
                _up[name] = up;
                if (up == wasUp || entry.Tags.Contains(HealthTags.LogsOwnTransitions)) continue;
                if (up)
                {
                    logger.LogInformation("Dependency {Dependency} available again", name);
                }
                else
                {
                    logger.LogWarning(entry.Exception, "Dependency {Dependency} unavailable: {Reason}", name,
                        entry.Description ?? entry.Exception?.GetBaseException().Message ?? entry.Status.ToString());
                }
            }
            return Task.CompletedTask;
        }
    }
}
