using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Platform;

/// <summary>Graceful shutdown. Kubernetes removes a terminating pod from Service endpoints and the ALB
/// deregisters it asynchronously, so requests keep arriving for a while after SIGTERM. The drain delay keeps
/// serving them (with readiness already failing) before the server stops accepting connections; then in-flight
/// requests get <see cref="Timeout"/> to complete. The chart's terminationGracePeriodSeconds must exceed
/// preStop sleep + DrainDelay + Timeout (a contract test checks).</summary>
public sealed class ShutdownOptions
{
    public const string Section = "Shutdown";

    /// <summary>How long to keep serving after SIGTERM, readiness failing.</summary>
    public TimeSpan DrainDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long in-flight requests may take to complete once the server stops accepting new ones.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(20);
}

internal static class Shutdown
{
    public static void AddGracefulShutdown(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ShutdownOptions>().BindConfiguration(ShutdownOptions.Section)
            .Validate(o => o.DrainDelay >= TimeSpan.Zero && o.Timeout > TimeSpan.Zero,
                "Shutdown:DrainDelay must not be negative and Shutdown:Timeout must be positive");
        builder.Services.AddOptions<HostOptions>().Configure<IOptions<ShutdownOptions>>((host, shutdown) =>
            host.ShutdownTimeout = shutdown.Value.DrainDelay + shutdown.Value.Timeout);
        builder.Services.AddHostedService<DrainOnShutdown>();
    }

    /// <summary>Runs in the "stopping" phase, which precedes the server's own stop: everything keeps serving.</summary>
    private sealed class DrainOnShutdown(PlatformState state, IOptions<ShutdownOptions> options, ILogger<DrainOnShutdown> logger)
        : IHostedLifecycleService
    {
        public async Task StoppingAsync(CancellationToken cancellationToken)
        {
            state.MarkDraining();
            var delay = options.Value.DrainDelay;
            logger.LogInformation("Shutdown requested: readiness now fails; serving for {DrainDelay} before closing", delay);
            if (delay > TimeSpan.Zero)
            {
                try { await Task.Delay(delay, cancellationToken); }
                catch (OperationCanceledException) { logger.LogWarning("Drain delay cut short by the shutdown timeout"); }
            }
        }

        public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
