using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenTelemetry;

namespace Assets.Api.Storage;

/// <summary>Reports S3 as Degraded (never unready) when it does not answer: every pod shares the same bucket, so
/// taking pods out of service would not help, and reads of asset metadata still work.</summary>
internal sealed class StorageHealthCheck(ObjectStorage storage) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        // Probes run every few seconds on every pod; their spans would bury the traces of real requests.
        using var untraced = SuppressInstrumentationScope.Begin();
        try
        {
            var problem = await storage.ProbeAsync(cancellationToken);
            return problem is null ? HealthCheckResult.Healthy() : HealthCheckResult.Degraded(problem);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Degraded($"S3 unreachable: {e.GetBaseException().Message}");
        }
    }
}
