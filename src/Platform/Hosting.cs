using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Platform;

/// <summary>The paths every probe, scrape config, chart and test uses. Defined once, here.</summary>
public static class PlatformPaths
{
    public const string Live = "/health/live";
    public const string Ready = "/health/ready";
    public const string Startup = "/health/startup";
    public const string Metrics = "/metrics";

    /// <summary>True for the paths that belong to the management port (and are neither traced nor request-logged).</summary>
    public static bool IsManagement(PathString path) =>
        path.StartsWithSegments("/health", StringComparison.OrdinalIgnoreCase) ||
        path.StartsWithSegments(Metrics, StringComparison.OrdinalIgnoreCase);
}

/// <summary>Ports and bind address. The API and management traffic never share a port, so the Ingress can expose
/// the API without ever exposing /metrics or the probes.</summary>
public sealed class HostingOptions
{
    public const string Section = "Hosting";

    /// <summary>Port of the public API (behind the ALB).</summary>
    public int ApiPort { get; set; } = 8080;

    /// <summary>Port of /health/* and /metrics (kubelet, ALB health check, Prometheus).</summary>
    public int ManagementPort { get; set; } = 8081;

    /// <summary>Address to bind: "*" for every interface (containers), "127.0.0.1" for local runs.</summary>
    public string BindAddress { get; set; } = "*";

    /// <summary>Larger request bodies are refused with 413 before the application reads them.</summary>
    public long MaxRequestBodyBytes { get; set; } = 1_048_576;
}

internal static class Hosting
{
    public static void AddHosting(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<HostingOptions>().BindConfiguration(HostingOptions.Section)
            .Validate(o => o.ApiPort is > 0 and < 65536 && o.ManagementPort is > 0 and < 65536,
                "Hosting:ApiPort and Hosting:ManagementPort must be TCP ports (1-65535)")
            .Validate(o => o.ApiPort != o.ManagementPort, "Hosting:ApiPort and Hosting:ManagementPort must differ")
            .Validate(o => o.BindAddress == "*" || IPAddress.TryParse(o.BindAddress, out _),
                "Hosting:BindAddress must be \"*\" or an IP address");

        builder.Services.AddSingleton<IConfigureOptions<KestrelServerOptions>, ConfigureKestrel>();
    }

    /// <summary>Requests are only answered on the port their path belongs to. The check uses the socket's local
    /// port, not the Host header, so a client of the API port cannot reach /metrics by sending "Host: x:8081".</summary>
    public static void UseManagementPortFilter(this IApplicationBuilder app)
    {
        var managementPort = app.ApplicationServices.GetRequiredService<IOptions<HostingOptions>>().Value.ManagementPort;
        app.Use((context, next) =>
        {
            var onManagementPort = context.Connection.LocalPort == managementPort;
            if (onManagementPort != PlatformPaths.IsManagement(context.Request.Path))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }
            return next(context);
        });
    }

    private sealed class ConfigureKestrel(IOptions<HostingOptions> hosting)
        : IConfigureOptions<KestrelServerOptions>
    {
        public void Configure(KestrelServerOptions options)
        {
            var o = hosting.Value;
            foreach (var port in new[] { o.ApiPort, o.ManagementPort })
            {
                if (o.BindAddress == "*") options.ListenAnyIP(port);
                else options.Listen(IPAddress.Parse(o.BindAddress), port);
            }
            options.Limits.MaxRequestBodySize = o.MaxRequestBodyBytes;
            options.AddServerHeader = false;
        }
    }
}
