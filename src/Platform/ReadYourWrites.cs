using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Platform;

/// <summary>The endpoint a read needs.</summary>
public enum ReadFrom
{
    /// <summary>The reader endpoint; the writer answers while the reader is unreachable or stalled.</summary>
    Reader,

    /// <summary>The writer: reads that must see the latest committed state (a client's own write within the
    /// read-your-writes window, a read that decides what to write next).</summary>
    Writer,
}

/// <summary>Read-your-writes across a lagging replica, at the HTTP edge. A successful write request (POST, PUT,
/// PATCH, DELETE answered 2xx) carries a token (the time of the write); a read that sends it back while it is
/// younger than <see cref="Window"/> reads from the writer (<see cref="ReadYourWritesExtensions.ReadFrom"/>) and is
/// marked <c>private, no-store</c> so neither CloudFront nor a browser caches what only this client should see.
/// Time-based because Aurora readers share storage and expose no portable replay position to compare with. The token
/// is a hint, not a credential: a forged one only costs its sender a read from the writer.</summary>
public sealed class ReadYourWritesOptions
{
    public const string Section = "ReadYourWrites";

    public const string Header = "X-Read-Your-Writes";

    /// <summary>Reads carrying a token younger than this go to the writer. Aurora replica lag is normally well under
    /// 100 ms; two seconds covers a busy replica with margin.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromSeconds(2);
}

public static class ReadYourWritesExtensions
{
    /// <summary>Clock skew tolerated between pods for tokens issued "in the future".</summary>
    private static readonly TimeSpan s_skew = TimeSpan.FromSeconds(1);

    /// <summary>Where this request's reads must come from: the writer while its read-your-writes token is fresh.</summary>
    public static ReadFrom ReadFrom(this HttpContext context) =>
        context.Features.Get<PinnedToWriter>() is not null ? Platform.ReadFrom.Writer : Platform.ReadFrom.Reader;

    /// <summary>A public read CloudFront and browsers may keep for <paramref name="maxAge"/>. Varies on the token, so a
    /// cache keyed on it (CloudFront's cache policy) never serves one client's pinned read to another; a pinned read
    /// is switched to <c>private, no-store</c> as its response starts.</summary>
    public static void CacheablePublicly(this HttpResponse response, TimeSpan maxAge)
    {
        response.Headers.CacheControl = $"public, max-age={(int)maxAge.TotalSeconds}";
        response.Headers.Append(HeaderNames.Vary, ReadYourWritesOptions.Header);
    }

    internal static void AddReadYourWrites(this IHostApplicationBuilder builder) =>
        builder.Services.AddOptions<ReadYourWritesOptions>().BindConfiguration(ReadYourWritesOptions.Section)
            .Validate(o => o.Window >= TimeSpan.Zero, "ReadYourWrites:Window must not be negative")
            .ValidateOnStart();

    internal static void UseReadYourWrites(this IApplicationBuilder app)
    {
        var time = app.ApplicationServices.GetRequiredService<TimeProvider>();
        var options = app.ApplicationServices.GetRequiredService<IOptionsMonitor<ReadYourWritesOptions>>();
        var metrics = app.ApplicationServices.GetRequiredService<PlatformMetrics>();
        app.Use((context, next) =>
        {
            if (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method))
            {
                if (IsPinned(context.Request, time, options.CurrentValue.Window))
                {
                    context.Features.Set(PinnedToWriter.Instance);
                    metrics.DbReadYourWritesPins.Inc();
                    context.Response.OnStarting(static state =>
                    {
                        ((HttpResponse)state).Headers.CacheControl = "private, no-store";
                        return Task.CompletedTask;
                    }, context.Response);
                }
            }
            else
            {
                context.Response.OnStarting(static state =>
                {
                    var (response, time) = ((HttpResponse, TimeProvider))state;
                    if (response.StatusCode is >= 200 and < 300) IssueToken(response, time);
                    return Task.CompletedTask;
                }, (context.Response, time));
            }
            return next(context);
        });
    }

    internal static bool IsPinned(HttpRequest request, TimeProvider time, TimeSpan window)
    {
        if (request.Headers[ReadYourWritesOptions.Header] is not { Count: 1 } values ||
            !long.TryParse(values[0], NumberStyles.None, CultureInfo.InvariantCulture, out var issuedMs) ||
            issuedMs is <= 0 or >= 253402300799999)
        {
            return false;
        }
        var age = time.GetUtcNow() - DateTimeOffset.FromUnixTimeMilliseconds(issuedMs);
        return age < window && age > -s_skew;
    }

    internal static void IssueToken(HttpResponse response, TimeProvider time) =>
        response.Headers[ReadYourWritesOptions.Header] = Token(time);

    /// <summary>A token issued now: the value of <see cref="ReadYourWritesOptions.Header"/> a write answers with. A
    /// client of another service sends one to pin a read to that service's writer (a row it has not seen replayed).</summary>
    public static string Token(TimeProvider time) => time.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);

    /// <summary>Marks a request whose token is fresh.</summary>
    private sealed class PinnedToWriter
    {
        public static readonly PinnedToWriter Instance = new();
    }
}
