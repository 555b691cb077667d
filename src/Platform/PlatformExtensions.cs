using System.Reflection;
using System.Xml.Linq;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Prometheus;

namespace Platform;

/// <summary>Name and version of the running service, from the application's assembly ("Catalog.Api" → "catalog").</summary>
public sealed record ServiceIdentity(string Name, string Version)
{
    /// <summary>From the host's application name, which is the service's assembly also when a test host runs it in
    /// another process (the entry assembly is then the test runner).</summary>
    public static ServiceIdentity Of(IHostEnvironment environment)
    {
        var assembly = Assembly.Load(environment.ApplicationName);
        var version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        // Drop the "+<commit>" build metadata the SDK appends; the image tag and OCI labels carry the commit.
        return new ServiceIdentity(environment.ApplicationName.Split('.')[0].ToLowerInvariant(), version.Split('+')[0]);
    }
}

/// <summary>The service defaults every service gets with two calls: <c>builder.AddPlatform()</c> and
/// <c>app.MapPlatformEndpoints()</c>.</summary>
public static class PlatformExtensions
{
    public static IHostApplicationBuilder AddPlatform(this IHostApplicationBuilder builder)
    {
        var identity = ServiceIdentity.Of(builder.Environment);
        builder.Services.AddSingleton(identity);
        builder.Services.TryAddSingleton(TimeProvider.System);
        // A missing or broken secrets file is reported by RunPlatformAsync, in one line, before anything starts.
        builder.Services.AddSingleton<ISecretsState>(builder.Configuration.AddSecretsDirectory());

        builder.AddHosting();
        builder.AddPlatformLogging(identity.Name, identity.Version);
        builder.AddPlatformTracing(identity.Name, identity.Version);
        builder.Services.AddSingleton<PlatformMetrics>();
        builder.AddPlatformHealth();
        builder.AddReadYourWrites();
        builder.AddPlatformAuth();
        builder.AddProblems();
        builder.AddGracefulShutdown();
        builder.AddPlatformForwardedHeaders();
        builder.Services.AddOpenApi();
        // Authentication registers data protection, whose hosted service creates a key at start. Nothing here
        // protects data that must outlive the process (no cookies, no antiforgery), so the key ring lives in memory,
        // never on the read-only file system. Both are set explicitly: left unset, the key manager falls back to a
        // repository of its own choosing and warns about it (and UseEphemeralDataProtectionProvider does not reach it,
        // aspnetcore#54234); a key that never leaves memory has nothing to be encrypted against.
        builder.Services.AddDataProtection();
        builder.Services.Configure<KeyManagementOptions>(o =>
        {
            o.XmlRepository = new InMemoryXmlRepository();
            o.XmlEncryptor = new NullXmlEncryptor();
        });
        return builder;
    }

    /// <summary>Adds the platform middleware in its required order and maps the management endpoints
    /// (probes and /metrics on the management port) and the OpenAPI document.</summary>
    public static WebApplication MapPlatformEndpoints(this WebApplication app)
    {
        var metrics = app.Services.GetRequiredService<PlatformMetrics>();
        app.Services.ReportSecretsReloads(metrics);
        app.UsePlatformForwardedHeaders();
        app.UseManagementPortFilter();
        // The request line is written outside the exception handler, the metrics inside it: both see the status the
        // handler answers (503, 400), not the 200 a response has while an exception passes through them.
        app.UseWhen(IsApi, api => api.UsePlatformRequestLogging(app.Configuration));
        app.UseRouting();
        app.UseWhen(IsApi, api => api.UseRequestMetrics());
        app.UseProblems();
        app.UseReadYourWrites();
        app.UseAuthentication();
        app.UseAuthorization();

        app.MapPlatformHealth();
        app.MapMetrics(PlatformPaths.Metrics, metrics.Registry);
        app.MapOpenApi();
        return app;
    }

    /// <summary>API requests are logged and measured; probes and scrapes never are.</summary>
    private static bool IsApi(HttpContext context) => !PlatformPaths.IsManagement(context.Request.Path);

    /// <summary>The data-protection key ring, in memory only: it dies with the process.</summary>
    private sealed class InMemoryXmlRepository : IXmlRepository
    {
        private readonly List<XElement> _elements = [];

        public IReadOnlyCollection<XElement> GetAllElements()
        {
            lock (_elements) return [.. _elements.Select(e => new XElement(e))];
        }

        public void StoreElement(XElement element, string friendlyName)
        {
            lock (_elements) _elements.Add(new XElement(element));
        }
    }
}
