using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Platform;

/// <summary>Traces over OTLP (Jaeger, the ADOT collector and Tempo all ingest it natively; the Jaeger exporter is
/// deprecated upstream). Configured only through the standard variables: OTEL_EXPORTER_OTLP_ENDPOINT,
/// OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER(_ARG) and
/// OTEL_SDK_DISABLED (which the SDK itself reads from the host's configuration when it builds the tracer provider).</summary>
internal static class Tracing
{
    public static void AddPlatformTracing(this IHostApplicationBuilder builder, string serviceName, string version)
    {
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
                    .AddNpgsql();
                if (exportEnabled) tracing.AddOtlpExporter();
            });
    }
}
