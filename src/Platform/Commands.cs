using System.Diagnostics;
using System.Globalization;
using System.CommandLine;
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Platform;

/// <summary>Exercises a running instance's API; used as the pre-promotion analysis Job against the preview
/// Service, so it must be safe against production data (read-only) and throw on any unexpected answer.</summary>
public interface ISmokeTest
{
    Task RunOnceAsync(HttpClient api, CancellationToken cancellationToken);
}

/// <summary>A subcommand a platform feature adds to the binary (the database adds <c>migrate</c>).</summary>
/// <param name="Name">The word on the command line.</param>
/// <param name="Description">One line for the usage text.</param>
/// <param name="RunAsync">Runs the command; returns the exit code.</param>
public sealed record PlatformCommand(string Name, string Description, Func<IServiceProvider, CancellationToken, Task<int>> RunAsync);

/// <summary>The binary's subcommands, on System.CommandLine. One image serves the API, runs migrations, checks health
/// and smoke-tests a release, so the pipeline never builds or scans a second image. Bad arguments print the usage and
/// exit 2; a bad configuration or secrets file exits 1 with one line naming what is wrong.</summary>
public static class Commands
{
    /// <summary>What <c>WebApplication.CreateBuilder</c> gets: the arguments of the form <c>--key=value</c> only, the
    /// host's configuration ("--environment=Staging", and every setting a test host passes). Given the rest, the
    /// command-line configuration provider would throw a FormatException for a token it cannot parse ("-n=5") before
    /// anything could print the usage; <see cref="RunPlatformAsync"/> judges every argument instead.</summary>
    public static WebApplicationOptions HostOptions(string[] args) =>
        new() { Args = [.. args.Where(a => a.StartsWith("--", StringComparison.Ordinal) && a.IndexOf('=', StringComparison.Ordinal) > 2)] };

    /// <summary>Runs the subcommand named by the arguments, or the server when there is none.
    /// Returns the process exit code.</summary>
    public static async Task<int> RunPlatformAsync(this WebApplication app, string[] args)
    {
        try
        {
            var root = Root(app);
            var parsed = root.Parse(args);
            var errors = parsed.Errors.Select(e => e.Message).ToList();
            // The server takes host configuration as arguments ("--environment=Staging", what a test host passes);
            // anything else that is not a command is a mistake.
            if (parsed.CommandResult.Command == root && parsed.UnmatchedTokens.FirstOrDefault(t => !t.StartsWith("--", StringComparison.Ordinal)) is { } unknown)
                errors.Add($"unknown command '{unknown}'");
            if (errors.Count > 0)
            {
                foreach (var error in errors) Console.Error.WriteLine(error);
                Console.Error.WriteLine($"usage: {Usage(root)}");
                return 2;
            }
            // smoke (the pre-promotion Job, which has no Vault identity), healthcheck and dev-token never open a
            // database connection, so they run without the secrets files.
            if (parsed.CommandResult.Command == root || app.Services.GetServices<PlatformCommand>().Any(c => c.Name == parsed.CommandResult.Command.Name))
            {
                if (app.Services.GetRequiredService<ISecretsState>().StartupProblem is { } problem) return Fail(problem);
            }
            return await parsed.InvokeAsync(new InvocationConfiguration
            {
                // The host handles SIGTERM itself (readiness off, drain, then stop): the parser must not cancel first.
                ProcessTerminationTimeout = null,
                // Errors are reported below, on one line.
                EnableDefaultExceptionHandler = false,
            });
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

    private static RootCommand Root(WebApplication app)
    {
        var root = new RootCommand("Serves the API (no command) or runs one of the commands below.") { TreatUnmatchedTokensAsErrors = false };
        root.SetAction(async (_, _) =>
        {
            await app.RunAsync();
            return 0;
        });

        var healthcheck = new Command("healthcheck", "Asks this instance's readiness endpoint; exit 0 when ready, 1 when not.");
        healthcheck.SetAction((_, _) => HealthcheckAsync(app));
        root.Add(healthcheck);

        var baseUrl = new Option<string>("--base-url") { Description = "The API to exercise (absolute URL).", Required = true };
        var iterations = new Option<int>("--iterations") { Description = "How many rounds.", DefaultValueFactory = _ => 50 };
        var concurrency = new Option<int>("--concurrency") { Description = "Rounds in parallel.", DefaultValueFactory = _ => 4 };
        baseUrl.Validators.Add(result =>
        {
            if (result.Tokens is [var token] && !Uri.TryCreate(token.Value, UriKind.Absolute, out _)) result.AddError("--base-url must be an absolute URL");
        });
        foreach (var positive in new[] { iterations, concurrency })
        {
            positive.Validators.Add(result =>
            {
                // Reads the token, not the value: a token that is no number already has its parse error.
                if (result.Tokens is [var token] && int.TryParse(token.Value, CultureInfo.InvariantCulture, out var value) && value < 1)
                    result.AddError($"{positive.Name} must be at least 1");
            });
        }
        var smoke = new Command("smoke", "Read-only exercise of a running instance; exit 0 when nothing failed.") { baseUrl, iterations, concurrency };
        smoke.SetAction((parsed, _) => SmokeAsync(app, new Uri(parsed.GetValue(baseUrl)!), parsed.GetValue(iterations), parsed.GetValue(concurrency)));
        root.Add(smoke);

        var scope = new Option<string?>("--scope") { Description = "Scope of the token (default: Auth:WriteScope)." };
        var devToken = new Command("dev-token", "Local development only: prints a token signed with Auth:SigningKey.") { scope };
        devToken.SetAction(parsed => DevToken(app, parsed.GetValue(scope)));
        root.Add(devToken);

        foreach (var contributed in app.Services.GetServices<PlatformCommand>())
        {
            var command = new Command(contributed.Name, contributed.Description);
            command.SetAction((_, ct) => contributed.RunAsync(app.Services, ct));
            root.Add(command);
        }
        return root;
    }

    private static string Usage(RootCommand root) =>
        $"<service> [{string.Join(" | ", root.Subcommands.Select(c => string.Join(' ', [c.Name, .. c.Options.Select(o => o.Required ? $"{o.Name} VALUE" : $"[{o.Name} VALUE]")])))}]";

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

    private static async Task<int> SmokeAsync(WebApplication app, Uri uri, int iterations, int concurrency)
    {
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
    private static int DevToken(WebApplication app, string? scopeArgument)
    {
        var auth = app.Services.GetRequiredService<IOptions<AuthOptions>>().Value;
        if (AuthOptions.DecodedKey(auth.SigningKey ?? "") is not { Length: >= 32 } key)
            return Fail("dev-token: Auth:SigningKey is not set; dev tokens exist only for local runs");
        var scope = scopeArgument ?? auth.WriteScope;
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

    private static int Fail(string message)
    {
        Console.Error.WriteLine(message);
        return 1;
    }
}
