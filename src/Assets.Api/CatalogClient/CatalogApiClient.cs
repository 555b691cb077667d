using System.Net;
using System.Net.Sockets;
using Platform;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Assets.Api.CatalogClient;

/// <summary>Typed client of the Catalog API. Its HttpClient carries the standard resilience pipeline (total and
/// per-attempt timeouts, retries of transient failures, circuit breaker) and the platform's HttpClient tracing, which
/// sends the W3C traceparent so Catalog's spans join the caller's trace.</summary>
public sealed class CatalogApiClient(HttpClient http, TimeProvider time)
{
    public const string Dependency = "catalog";

    /// <summary>While the circuit is open nothing is sent to Catalog; clients should come back after it closes.</summary>
    internal static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan s_retryAfter = TimeSpan.FromSeconds(5);

    /// <summary>Whether Catalog knows the product (archived ones included: they keep their images). Catalog answers
    /// from its reader, which may not have replayed a product created a moment ago, so a "no" is confirmed on
    /// Catalog's writer (a fresh read-your-writes token pins the read there) before an upload is refused.</summary>
    public async Task<bool> ProductExistsAsync(Guid productId, CancellationToken cancellationToken) =>
        await ExistsAsync(productId, onWriter: false, cancellationToken) || await ExistsAsync(productId, onWriter: true, cancellationToken);

    private async Task<bool> ExistsAsync(Guid productId, bool onWriter, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"api/v1/products/{productId}", UriKind.Relative));
        if (onWriter)
            request.Headers.Add(ReadYourWritesOptions.Header, ReadYourWritesExtensions.Token(time));
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (response.StatusCode == HttpStatusCode.NotFound) return false;
            if (response.IsSuccessStatusCode) return true;
            throw Unavailable($"Catalog answered {(int)response.StatusCode}.", s_retryAfter, inner: null);
        }
        catch (BrokenCircuitException e)
        {
            throw Unavailable("Catalog is failing; calls to it are paused.", BreakDuration, e);
        }
        // HttpClient lets a bare SocketException through when the peer closes a connection it had just accepted
        // (ENOTCONN while reading the remote end point): that is Catalog being unreachable too, not a bug here.
        catch (Exception e) when (e is HttpRequestException or SocketException or IOException or TimeoutRejectedException ||
                                  (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw Unavailable("Catalog is not reachable right now.", s_retryAfter, e);
        }
    }

    private static DependencyUnavailableException Unavailable(string message, TimeSpan retryAfter, Exception? inner) =>
        new(Dependency, message, retryAfter, inner);
}
