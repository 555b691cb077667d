using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Platform;

/// <summary>Traces over OTLP (Jaeger, the ADOT collector and Tempo all ingest it natively; the Jaeger exporter is
/// deprecated upstream). Configured only through the standard variables: OTEL_EXPORTER_OTLP_ENDPOINT,
/// OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER(_ARG) and
/// OTEL_SDK_DISABLED.</summary>
internal static class Tracing
{
    /// <summary>Tag on every database span naming the endpoint that served it.</summary>
    public const string DbRoleTag = "db.role";

    public static void AddPlatformTracing(this IHostApplicationBuilder builder, string serviceName, string version)
    {
        if (string.Equals(builder.Configuration["OTEL_SDK_DISABLED"], "true", StringComparison.OrdinalIgnoreCase)) return;

        // Without an endpoint there is nobody to export to; skipping the exporter keeps local runs from retrying
        // a collector that does not exist. Spans are still created so trace ids reach the logs.
        var exportEnabled = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(
                serviceName: builder.Configuration["OTEL_SERVICE_NAME"] ?? serviceName,
                serviceVersion: version,
                serviceInstanceId: Environment.MachineName))
            .WithTracing(tracing =>
            {
                tracing
                    .AddAspNetCoreInstrumentation(o =>
                    {
                        o.Filter = context => !PlatformPaths.IsManagement(context.Request.Path);
                        o.RecordException = true;
                    })
                    .AddHttpClientInstrumentation(o => o.RecordException = true)
                    .AddNpgsql()
                    .AddSource(PlatformActivity.Source.Name);
                if (exportEnabled) tracing.AddOtlpExporter();
            });
    }

    /// <summary>Database spans say which endpoint served them; dashboards and Jaeger searches filter on it.</summary>
    public static void TagRole(this NpgsqlDataSourceBuilder builder, string role) =>
        builder.ConfigureTracing(t => t
            // Commands outside any request (health checks every few seconds, the reader probe) would each start a
            // trace of their own: noise that drowns the traces people look for.
            .ConfigureCommandFilter(_ => System.Diagnostics.Activity.Current is not null)
            .ConfigureBatchFilter(_ => System.Diagnostics.Activity.Current is not null)
            .ConfigureCommandEnrichmentCallback((activity, _) => activity.SetTag(DbRoleTag, role))
            .ConfigureBatchEnrichmentCallback((activity, _) => activity.SetTag(DbRoleTag, role)));
}

/// <summary>The platform's own activity source (reader fallbacks, writer retries show up as span events).</summary>
public static class PlatformActivity
{
    public static readonly System.Diagnostics.ActivitySource Source = new("Platform");
}
