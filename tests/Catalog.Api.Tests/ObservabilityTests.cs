using System.Net.Http.Headers;
using System.Text.Json;
using TestKit;
using static TestKit.CatalogHttp;

namespace Catalog.Api.Tests;

/// <summary>Logs are ECS JSON lines carrying the trace id and never a secret; /metrics carries the series the
/// chart's rules and dashboards use, labelled by route template, never by raw path.</summary>
[Collection(CatalogCollection.Name)]
public sealed class ObservabilityTests(CatalogFixture fixture)
{
    /// <summary>Series a scrape must contain; the chart's contract test checks its rules against the same scrape.</summary>
    private static readonly string[] s_platformMetrics =
    [
        "http_request_duration_seconds", "http_requests_in_progress", "db_command_duration_seconds", "db_reads_total",
        "db_reader_fallbacks_total", "db_writer_retries_total", "db_write_unknown_outcomes_total", "db_read_your_writes_pins_total",
        "dependency_up", "secrets_reloads_total", "app_build_info", "npgsql_db_client_connection_count",
        "npgsql_db_client_connection_max", "process_cpu_seconds_total", "process_working_set_bytes", "dotnet_total_memory_bytes",
    ];

    [Fact]
    public async Task EveryLogLineIsEcsJsonAndRequestLinesCarryTraceIds()
    {
        var id = (await CreateAsync(fixture.Service.Api)).GetProperty("id").GetString();
        using (await fixture.Service.Api.GetAsync(new Uri($"api/v1/products/{id}", UriKind.Relative))) { }
        await Poll.UntilAsync(() => fixture.Service.LogDocuments().Any(d => d is not null && Route(d.RootElement) == "/api/v1/products/{id:guid}"),
            TimeSpan.FromSeconds(10), "the read's request line");

        var documents = fixture.Service.LogDocuments();
        Assert.All(documents, Assert.NotNull);
        foreach (var log in documents.Select(d => d!.RootElement))
        {
            Assert.True(DateTimeOffset.TryParse(log.GetProperty("@timestamp").GetString(), System.Globalization.CultureInfo.InvariantCulture, out _));
            Assert.Contains(log.GetProperty("log").GetProperty("level").GetString(), new[] { "trace", "debug", "info", "warn", "error", "fatal" });
            Assert.Equal("catalog", log.GetProperty("service").GetProperty("name").GetString());
            Assert.True(log.TryGetProperty("message", out _));
        }
        var request = documents.Select(d => d!.RootElement)
            .Last(log => Route(log) == "/api/v1/products/{id:guid}");
        Assert.Matches("^[0-9a-f]{32}$", request.GetProperty("trace").GetProperty("id").GetString());
        Assert.Matches("^[0-9a-f]{16}$", request.GetProperty("span").GetProperty("id").GetString());
        Assert.Equal(200, request.GetProperty("http").GetProperty("response").GetProperty("status_code").GetInt32());
        Assert.Equal("GET", request.GetProperty("http").GetProperty("request").GetProperty("method").GetString());
        Assert.True(request.GetProperty("event").GetProperty("duration").GetInt64() > 0);
    }

    [Fact]
    public void AHealthyStartLogsNoWarningAndProbesAreNeverLogged()
    {
        var logs = fixture.Service.LogDocuments().Select(d => d!.RootElement).ToList();
        // Until the host has started (hosted services, data protection's key ring, Kestrel) and the start-up gate has
        // passed; meanwhile the fixture polled readiness, which answered 503 until then.
        var hostStarted = logs.FindIndex(log => log.GetProperty("message").GetString()!.StartsWith("Application started", StringComparison.Ordinal));
        var gatePassed = logs.FindIndex(log => log.GetProperty("message").GetString() == "Writer answered: started");
        Assert.True(hostStarted >= 0 && gatePassed >= 0, "no start-up lines");
        var start = logs.Take(Math.Max(hostStarted, gatePassed) + 1).ToList();
        Assert.All(start, log => Assert.DoesNotContain(log.GetProperty("log").GetProperty("level").GetString(), new[] { "warn", "error", "fatal" }));
        Assert.DoesNotContain(logs, log => log.TryGetProperty("url", out var url) && url.GetProperty("path").GetString() is { } path &&
                                           (path.StartsWith("/health", StringComparison.Ordinal) || path.StartsWith("/metrics", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task NoSecretEverReachesTheLogs()
    {
        await CreateAsync(fixture.Service.Api);
        var everything = string.Join('\n', fixture.Service.StdoutLines) + fixture.Service.Stderr;
        Assert.DoesNotContain(PostgresCluster.DevPassword("catalog_app"), everything, StringComparison.Ordinal);
        Assert.DoesNotContain(Tokens.SigningKey, everything, StringComparison.Ordinal);
        Assert.DoesNotContain(CatalogEnvironment.WriteToken, everything, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MetricsExposeEveryPlatformSeries()
    {
        using (await fixture.Service.Api.GetAsync(new Uri("api/v1/products?limit=1", UriKind.Relative))) { }
        await Poll.UntilAsync(async () => await fixture.Service.MetricAsync("dependency_up") > 0, TimeSpan.FromSeconds(15), "a dependency check to publish");
        var names = PrometheusText.Names(await fixture.Service.MetricsAsync());
        Assert.All(s_platformMetrics, name => Assert.Contains(name, names));
        // One series per fact: ASP.NET Core's and HttpClient's own meters, and prometheus-net's request counter,
        // would count the same requests again under other names.
        Assert.DoesNotContain(names, n => n.StartsWith("http_server_", StringComparison.Ordinal) || n.StartsWith("http_client_", StringComparison.Ordinal)
            || n.StartsWith("kestrel_", StringComparison.Ordinal) || n == "http_requests_received_total");
    }

    [Fact]
    public async Task HttpMetricsAreLabelledByRouteTemplateNeverByRawPath()
    {
        var id = Guid.CreateVersion7();
        using (await fixture.Service.Api.GetAsync(new Uri($"api/v1/products/{id}", UriKind.Relative))) { }
        using (await fixture.Service.Api.GetAsync(new Uri($"api/v1/unknown/{id}", UriKind.Relative))) { }
        var text = await fixture.Service.MetricsAsync();
        Assert.Contains("route=\"/api/v1/products/{id:guid}\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain(id.ToString(), text, StringComparison.Ordinal);
        Assert.DoesNotContain("/health/", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ForwardedHeadersFromATrustedProxyGiveTheClientAddressAndScheme()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/v1/products?limit=1&forwarded=1");
        request.Headers.Add("X-Forwarded-For", "203.0.113.7");
        request.Headers.Add("X-Forwarded-Proto", "https");
        using (await fixture.Service.Api.SendAsync(request)) { }
        await Poll.UntilAsync(() => fixture.Service.StdoutLines.Any(l => l.Contains("203.0.113.7", StringComparison.Ordinal)), TimeSpan.FromSeconds(10), "the forwarded request's line");
        var line = fixture.Service.LogDocuments().Select(d => d!.RootElement)
            .Last(log => log.TryGetProperty("client", out _) && Route(log)?.TrimEnd('/') == "/api/v1/products");
        Assert.Equal("203.0.113.7", line.GetProperty("client").GetProperty("ip").GetString());
        Assert.Equal("https", line.GetProperty("url").GetProperty("scheme").GetString());
    }

    [Fact]
    public async Task ForwardedHeadersFromAnUntrustedAddressAreIgnored()
    {
        await using var environment = await CatalogEnvironment.StartAsync(new CatalogEnvironmentOptions { Cluster = new PostgresClusterOptions { WithStandby = false } });
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/v1/products?limit=1");
        request.Headers.Add("X-Forwarded-For", "203.0.113.7");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", CatalogEnvironment.WriteToken);
        using (await environment.Service.Api.SendAsync(request)) { }
        await Poll.UntilAsync(() => environment.Service.LogDocuments().Any(d => d is not null && d.RootElement.TryGetProperty("client", out _)),
            TimeSpan.FromSeconds(10), "the request's line");
        var line = environment.Service.LogDocuments().Select(d => d!.RootElement).Last(log => log.TryGetProperty("client", out _));
        Assert.Equal("127.0.0.1", line.GetProperty("client").GetProperty("ip").GetString());
    }

    private static string? Route(JsonElement log) =>
        log.TryGetProperty("http", out var http) && http.TryGetProperty("route", out var route) ? route.GetString() : null;
}
