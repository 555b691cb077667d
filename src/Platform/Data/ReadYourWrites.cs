using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Platform.Data;

/// <summary>Read-your-writes across a lagging replica. A write answers with a token (the time of the write); a
/// read that sends it back while it is younger than the window is served by the writer and marked
/// <c>private, no-store</c> so neither CloudFront nor a browser caches what only this client should see.
/// Time-based because Aurora readers share storage and expose no portable replay position to compare with.
/// The token is a hint, not a credential: a forged one only costs its sender a read from the writer.</summary>
public sealed class ReadYourWrites
{
    public const string Header = "X-Read-Your-Writes";

    /// <summary>Clock skew tolerated between pods for tokens issued "in the future".</summary>
    private static readonly TimeSpan s_skew = TimeSpan.FromSeconds(1);

    private static readonly ReadYourWrites s_pinned = new(pinned: true);
    private static readonly ReadYourWrites s_notPinned = new(pinned: false);

    private ReadYourWrites(bool pinned) => Pinned = pinned;

    /// <summary>Whether reads of this request must be served by the writer.</summary>
    public bool Pinned { get; }

    internal static ReadYourWrites From(HttpContext context, TimeProvider time, TimeSpan window)
    {
        var now = time.GetUtcNow();
        if (context.Request.Headers[Header] is { Count: 1 } values &&
            long.TryParse(values[0], NumberStyles.None, CultureInfo.InvariantCulture, out var issuedMs) &&
            issuedMs is > 0 and < 253402300799999)
        {
            var age = now - DateTimeOffset.FromUnixTimeMilliseconds(issuedMs);
            if (age < window && age > -s_skew) return s_pinned;
        }
        return s_notPinned;
    }

    /// <summary>Issues a fresh token on the response of a successful write.</summary>
    internal static void IssueToken(HttpContext context, TimeProvider time) =>
        context.Response.Headers[Header] = time.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
}

public static class ReadYourWritesMiddleware
{
    internal static void UseReadYourWrites(this IApplicationBuilder app)
    {
        var time = app.ApplicationServices.GetRequiredService<TimeProvider>();
        var options = app.ApplicationServices.GetRequiredService<IOptionsMonitor<DatabaseOptions>>();
        app.Use((context, next) =>
        {
            var state = ReadYourWrites.From(context, time, options.CurrentValue.ReadYourWritesWindow);
            context.Features.Set(state);
            if (state.Pinned)
            {
                context.Response.OnStarting(() =>
                {
                    context.Response.Headers.CacheControl = "private, no-store";
                    return Task.CompletedTask;
                });
            }
            return next(context);
        });
    }

    /// <summary>The state of the current request; outside a request (subcommands, background work) nothing is pinned.</summary>
    public static bool IsPinned(this HttpContext? context) => context?.Features.Get<ReadYourWrites>()?.Pinned == true;

    /// <summary>Caches keyed on the header (CloudFront's cache policy) must not serve one client's pinned read to another.</summary>
    public static void AddVaryOnToken(this HttpResponse response) => response.Headers.Append(HeaderNames.Vary, ReadYourWrites.Header);
}
