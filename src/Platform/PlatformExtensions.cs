using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Platform.Data;
using Prometheus;

namespace Platform;

/// <summary>Name and version of the running service, from the entry assembly ("Catalog.Api" → "catalog").</summary>
public sealed record ServiceIdentity(string Name, string Version)
{
    public static ServiceIdentity FromEntryAssembly()
    {
        var assembly = Assembly.GetEntryAssembly() ?? typeof(ServiceIdentity).Assembly;
        var name = assembly.GetName().Name ?? "service";
        var version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        // Drop the "+<commit>" build metadata the SDK appends; the image tag and OCI labels carry the commit.
        return new ServiceIdentity(name.Split('.')[0].ToLowerInvariant(), version.Split('+')[0]);
    }
}

/// <summary>The service defaults every service gets with two calls: <c>builder.AddPlatform()</c> and
/// <c>app.MapPlatformEndpoints()</c>.</summary>
public static class PlatformExtensions
{
    public static IHostApplicationBuilder AddPlatform(this IHostApplicationBuilder builder)
    {
        var identity = ServiceIdentity.FromEntryAssembly();
        builder.Services.AddSingleton(identity);
        builder.Services.TryAddSingleton(TimeProvider.System);

        SecretsConfigurationProvider secrets;
        try
        {
            secrets = builder.Configuration.AddSecretsDirectory();
        }
        catch (SecretsFileException e)
        {
            // Nothing can work without credentials; say which file and why in one line, nothing else.
            Console.Error.WriteLine(e.Message);
            Environment.Exit(1);
            throw;
        }
        secrets.Reloaded += () => PlatformMetrics.SecretsReloads.WithLabels("success").Inc();
        secrets.ReloadRefused += _ => PlatformMetrics.SecretsReloads.WithLabels("failure").Inc();
        builder.Services.AddSingleton<ISecretsState>(secrets);

        builder.AddHosting();
        builder.AddPlatformLogging(identity.Name, identity.Version);
        builder.AddPlatformTracing(identity.Name, identity.Version);
        PlatformMetrics.Configure(identity);
        builder.AddPlatformHealth();
        builder.AddPlatformAuth();
        builder.AddProblems();
        builder.AddGracefulShutdown();
        builder.AddPlatformForwardedHeaders();
        builder.Services.AddOpenApi();
        // Nothing here protects data that must outlive the process (no cookies, no antiforgery); an in-memory key
        // ring avoids writing keys to a read-only file system and the warnings about it.
        builder.Services.AddDataProtection().UseEphemeralDataProtectionProvider();
        return builder;
    }

    /// <summary>Adds the platform middleware in its required order and maps the management endpoints
    /// (probes and /metrics on the management port) and the OpenAPI document.</summary>
    public static WebApplication MapPlatformEndpoints(this WebApplication app)
    {
        app.Services.LogSecretsReloads();
        app.UsePlatformForwardedHeaders();
        app.UseManagementPortFilter();
        app.UsePlatformRequestLogging(app.Configuration);
        app.UseRouting();
        app.UseWhen(context => !PlatformPaths.IsManagement(context.Request.Path), api => api.UseRequestMetrics());
        // Inside the request metrics and logging: they record the status the handler answers (503, 400), not the
        // 200 a response has while an exception passes through them.
        app.UseProblems();
        app.UseReadYourWrites();
        app.UseAuthentication();
        app.UseAuthorization();

        app.MapPlatformHealth();
        app.MapMetrics(PlatformPaths.Metrics);
        app.MapOpenApi();
        return app;
    }
}
