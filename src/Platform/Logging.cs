using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Serilog.Extensions.Hosting;
using Microsoft.Extensions.Hosting;
using Serilog;
using Serilog.Events;

namespace Platform;

/// <summary>Structured logs: one ECS JSON object per line on stdout, shipped by fluent-bit. Nothing is written to
/// files (the root file system is read-only) and no secret is ever a log property: connection strings are built
/// without credentials and the password reaches Npgsql only through its password provider.</summary>
public sealed class LoggingOptions
{
    public const string Section = "Logging";

    /// <summary>Minimum level: Verbose, Debug, Information, Warning, Error, Fatal.</summary>
    public LogEventLevel Level { get; set; } = LogEventLevel.Information;

    /// <summary>One summary line per API request (method, route, status, duration). Probes and scrapes are never logged.</summary>
    public bool RequestLogging { get; set; } = true;
}

internal static class Logging
{
    public static void AddPlatformLogging(this IHostApplicationBuilder builder, string serviceName, string version)
    {
        var options = builder.Configuration.GetSection(LoggingOptions.Section).Get<LoggingOptions>() ?? new LoggingOptions();
        var environment = builder.Configuration["OTEL_RESOURCE_ATTRIBUTES"] is { } attributes
            ? attributes.Split(',').Select(a => a.Split('=', 2)).FirstOrDefault(kv => kv.Length == 2 && kv[0] == "deployment.environment")?[1]
            : null;
        var logger = new LoggerConfiguration()
            .MinimumLevel.Is(options.Level)
            // Framework chatter that duplicates the request log line or is only useful when debugging the framework.
            .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft.EntityFrameworkCore", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft.Extensions.Http", LogEventLevel.Warning)
            // Polly's telemetry logs every retried attempt of a resilient HttpClient (Warning) and the last one (Error),
            // per request. A dependency outage is reported once per request by the exception handler (Warning, naming
            // the dependency) and once per transition by the dependency checks; the retries would bury both.
            .MinimumLevel.Override("Polly", LogEventLevel.Fatal)
            .MinimumLevel.Override("System.Net.Http.HttpClient", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft.Hosting.Lifetime", LogEventLevel.Information)
            // The health check service logs every check's result (HealthCheckEnd) on every probe, Unhealthy at Error (a
            // readiness probe during start-up included). Probes report through their answers and dependency_up, and
            // dependency transitions are logged once each (Health); a check that throws is still logged.
            .Filter.ByExcluding(IsProbeResult)
            .Enrich.FromLogContext()
            // Formatting and writing happen on a background thread, batched (StdoutSink), so a slow stdout never
            // stalls requests. A full queue drops lines rather than blocking traffic.
            .WriteTo.Sink(new StdoutSink(new EcsJsonFormatter(serviceName, version, environment), Console.OpenStandardOutput(), queueLimit: 10_000))
            .CreateLogger();

        // Serilog is a provider under the framework's logger factory, which caches loggers per category: the
        // handlers and results ASP.NET Core creates per request ask for a logger every time. Serilog's own levels
        // decide what is written, so the framework's filter lets everything through to it.
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(Microsoft.Extensions.Logging.LogLevel.Trace);
        builder.Logging.AddSerilog(logger, dispose: true);
        builder.Services.AddSingleton(logger);
        builder.Services.AddSingleton(new DiagnosticContext(logger));
        builder.Services.AddSingleton<IDiagnosticContext>(sp => sp.GetRequiredService<DiagnosticContext>());
    }

    private static bool IsProbeResult(LogEvent log) =>
        log.Properties.TryGetValue("SourceContext", out var source) && source is ScalarValue { Value: "Microsoft.Extensions.Diagnostics.HealthChecks.DefaultHealthCheckService" } &&
        log.Properties.TryGetValue("EventId", out var id) && id is StructureValue eventId &&
        eventId.Properties.Any(p => p.Name == "Name" && p.Value is ScalarValue { Value: "HealthCheckEnd" });

    public static void UsePlatformRequestLogging(this IApplicationBuilder app, IConfiguration configuration)
    {
        var options = configuration.GetSection(LoggingOptions.Section).Get<LoggingOptions>() ?? new LoggingOptions();
        if (!options.RequestLogging) return;
        app.UseSerilogRequestLogging(o =>
        {
            o.Logger = app.ApplicationServices.GetRequiredService<Serilog.Core.Logger>();
            o.MessageTemplate = "HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0} ms";
            // A dependency outage (503, DependencyUnavailableException) is not a bug: Warning, like the handler's line
            // naming the dependency and the cause. Error is kept for what is one.
            o.GetLevel = (context, _, exception) =>
                exception is null && context.Response.StatusCode < 500 ? LogEventLevel.Information
                : context.Features.Get<IExceptionHandlerFeature>()?.Error is DependencyUnavailableException ? LogEventLevel.Warning
                : LogEventLevel.Error;
            o.EnrichDiagnosticContext = (diagnostics, context) =>
            {
                diagnostics.Set("RequestScheme", context.Request.Scheme);
                diagnostics.Set("ClientIp", context.Connection.RemoteIpAddress?.ToString());
                if (context.GetEndpoint() is RouteEndpoint endpoint) diagnostics.Set("Route", endpoint.RoutePattern.RawText);
                if (context.Request.Headers.UserAgent is { Count: > 0 } agent) diagnostics.Set("UserAgent", agent.ToString());
            };
        });
    }
}
