using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenTelemetry;

namespace Assets.Api.CatalogClient;

/// <summary>Asks Catalog for a product that cannot exist: 404 proves its API, routing and database answer. Reported
/// as Degraded, never unready: every Assets pod shares the same Catalog, and reads do not need it.</summary>
internal sealed class CatalogHealthCheck(IHttpClientFactory clients) : IHealthCheck
{
    /// <summary>Name of the HttpClient used here: no retries or circuit breaker, so a probe measures Catalog itself
    /// and never opens the circuit that requests depend on.</summary>
    public const string HttpClientName = "catalog-health";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        // Probes run every few seconds on every pod; their spans would bury the traces of real requests.
        using var untraced = SuppressInstrumentationScope.Begin();
        using var http = clients.CreateClient(HttpClientName);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"api/v1/products/{Guid.Empty}", UriKind.Relative));
            // A parent marked "not sampled" keeps the probe out of Catalog's traces too (its sampler follows the parent).
            request.Headers.Add("traceparent", $"00-{ActivityTraceId.CreateRandom()}-{ActivitySpanId.CreateRandom()}-00");
            using var response = await http.SendAsync(request, cancellationToken);
            return response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.OK
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Degraded($"Catalog answered {(int)response.StatusCode}");
        }
        // A bare SocketException too: HttpClient lets one through when the peer closes a connection it had just
        // accepted. A check that throws is logged at Error on every probe; an unreachable Catalog is a transition.
        catch (Exception e) when (e is HttpRequestException or SocketException or IOException ||
                                  (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return HealthCheckResult.Degraded($"Catalog unreachable: {e.GetBaseException().Message}");
        }
    }
}
