using System.Diagnostics;
using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Platform.Data;

namespace Platform;

/// <summary>Exercises a running instance's API; used as the pre-promotion analysis Job against the preview
/// Service, so it must be safe against production data (read-only) and throw on any unexpected answer.</summary>
public interface ISmokeTest
{
    Task RunOnceAsync(HttpClient api, CancellationToken cancellationToken);
}

/// <summary>The binary's subcommands. One image serves the API, runs migrations, checks health and smoke-tests a
/// release, so the pipeline never builds or scans a second image.</summary>
public static class Commands
{
    private const string Usage = "usage: <service> [migrate | healthcheck | smoke --base-url URL [--iterations N] [--concurrency N] | dev-token [--scope S]]";

    /// <summary>Runs the subcommand named by the first argument, or the server when there is none.
    /// Returns the process exit code.</summary>
    public static async Task<int> RunPlatformAsync(this WebApplication app, string[] args)
    {
        try
        {
            return args.FirstOrDefault() switch
            {
                null => await ServeAsync(app),
                var flag when flag.StartsWith('-') => await ServeAsync(app),
                "migrate" => await MigrateAsync(app),
                "healthcheck" => await HealthcheckAsync(app),
                "smoke" => await SmokeAsync(app, args),
                "dev-token" => DevToken(app, args),
                var other => Fail($"unknown command '{other}'; {Usage}", exitCode: 2),
            };
        }
        catch (OptionsValidationException e)
        {
            // A bad configuration stops start-up with one line naming every key at fault.
            return Fail($"configuration error: {string.Join("; ", e.Failures)}");
        }
        catch (AggregateException e) when (e.InnerExceptions.All(inner => inner is OptionsValidationException))
        {
            // Several option sections invalid at once: still one line, with every failure.
            return Fail($"configuration error: {string.Join("; ", e.InnerExceptions.Cast<OptionsValidationException>().SelectMany(inner => inner.Failures))}");
        }
        finally
        {
            // Flushes the asynchronous log sink, so a subcommand's last lines are not lost.
            await app.DisposeAsync();
        }
    }

    /// <summary>Subcommands that never open a database connection, so they run without a secrets file.</summary>
    internal static bool NeedsNoSecrets(string? command) => command is "smoke" or "dev-token";

    private static async Task<int> ServeAsync(WebApplication app)
    {
        await app.RunAsync();
        return 0;
    }

    private static async Task<int> MigrateAsync(WebApplication app)
    {
        _ = app.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        try
        {
            foreach (var migrator in app.Services.GetServices<IDatabaseMigrator>())
            {
                var applied = await migrator.MigrateAsync(timeout.Token);
                Console.Out.WriteLine($"migrate: applied {applied.Count} migration(s){(applied.Count > 0 ? ": " + string.Join(", ", applied) : "")}");
            }
            return 0;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return Fail($"migrate failed: {e.GetBaseException().Message}");
        }
    }

    /// <summary>Container health check without curl: asks this instance's readiness endpoint.</summary>
    private static async Task<int> HealthcheckAsync(WebApplication app)
    {
        var port = app.Services.GetRequiredService<IOptions<HostingOptions>>().Value.ManagementPort;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        try
        {
            using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}{PlatformPaths.Ready}"));
            return response.IsSuccessStatusCode ? 0 : Fail($"healthcheck: {PlatformPaths.Ready} answered {(int)response.StatusCode}");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return Fail($"healthcheck: {e.Message}");
        }
    }

    private static async Task<int> SmokeAsync(WebApplication app, string[] args)
    {
        var baseUrl = Argument(args, "--base-url");
        if (baseUrl is null || !Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri))
            return Fail($"smoke: --base-url with an absolute URL is required; {Usage}", exitCode: 2);
        var iterations = int.Parse(Argument(args, "--iterations") ?? "50", CultureInfo.InvariantCulture);
        var concurrency = int.Parse(Argument(args, "--concurrency") ?? "4", CultureInfo.InvariantCulture);
        var smoke = app.Services.GetRequiredService<ISmokeTest>();

        using var http = new HttpClient { BaseAddress = uri, Timeout = TimeSpan.FromSeconds(10) };
        var failures = 0;
        var durations = new List<double>();
        var started = Stopwatch.StartNew();
        await Parallel.ForAsync(0, iterations, new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (i, ct) =>
        {
            var one = Stopwatch.StartNew();
            try
            {
                await smoke.RunOnceAsync(http, ct);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                if (Interlocked.Increment(ref failures) <= 5) Console.Error.WriteLine($"smoke: iteration {i} failed: {e.Message}");
            }
            lock (durations) durations.Add(one.Elapsed.TotalMilliseconds);
        });
        durations.Sort();
        var p95 = durations.Count == 0 ? 0 : durations[(int)Math.Min(durations.Count - 1, Math.Ceiling(durations.Count * 0.95) - 1)];
        Console.Out.WriteLine($"smoke: {iterations} iterations against {uri} in {started.Elapsed.TotalSeconds:0.0} s, {failures} failed, p95 {p95:0} ms");
        return failures == 0 ? 0 : 1;
    }

    /// <summary>Local development only: mints a token signed with Auth:SigningKey. Refuses when an OIDC authority
    /// is configured, so it can never produce tokens a deployed service would accept.</summary>
    private static int DevToken(WebApplication app, string[] args)
    {
        var auth = app.Services.GetRequiredService<IOptions<AuthOptions>>().Value;
        if (AuthOptions.DecodedKey(auth.SigningKey ?? "") is not { Length: >= 32 } key)
            return Fail("dev-token: Auth:SigningKey is not set; dev tokens exist only for local runs");
        var scope = Argument(args, "--scope") ?? auth.WriteScope;
        var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = auth.Issuer,
            Audience = auth.Audiences.FirstOrDefault(),
            Subject = new ClaimsIdentity([new Claim("sub", "dev"), new Claim("scope", scope)]),
            Expires = DateTime.UtcNow.AddHours(8),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(key), SecurityAlgorithms.HmacSha256),
        });
        Console.Out.WriteLine(token);
        return 0;
    }

    private static string? Argument(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }

    private static int Fail(string message, int exitCode = 1)
    {
        Console.Error.WriteLine(message);
        return exitCode;
    }
}
