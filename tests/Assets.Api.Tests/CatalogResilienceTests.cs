using System.Diagnostics;
using System.Net;
using TestKit;
using static Assets.Api.Tests.AssetsHttp;

namespace Assets.Api.Tests;

/// <summary>The Catalog client's resilience pipeline, against a scripted Catalog stand-in on 127.0.0.1 that counts
/// what reaches it: a transient failure is retried, a stalled Catalog costs one attempt timeout per attempt and
/// never more than the total budget, and a failing Catalog opens the circuit so calls stop reaching it.</summary>
[Collection(AssetsCollection.Name)]
public sealed class CatalogResilienceTests(AssetsFixture fixture)
{
    [Fact]
    public async Task ATransientCatalogFailureIsRetriedAndTheUploadIsAccepted()
    {
        await using var catalog = new ScriptedCatalog(attempt => attempt == 1 ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.OK);
        await using var assets = await StartAssetsAsync(catalog);

        using var response = await PostCreateAsync(assets.Api, Guid.CreateVersion7(), Request(Image()));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(2, catalog.Requests);
    }

    [Fact]
    public async Task AStalledCatalogIsGivenUpWithinTheTotalTimeoutAfterThreeAttempts()
    {
        await using var catalog = new ScriptedCatalog(_ => null);
        await using var assets = await StartAssetsAsync(catalog, new Dictionary<string, string> { ["CatalogClient__Timeout"] = "00:00:03" });
        var productId = Guid.CreateVersion7();

        var started = Stopwatch.StartNew();
        using var response = await PostCreateAsync(assets.Api, productId, Request(Image()));
        started.Stop();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("catalog", (await ProblemAsync(response)).GetProperty("dependency").GetString());
        // Three attempts of a third of the budget each (plus two 100 ms retry delays), bounded by the 3 s total.
        Assert.Equal(3, catalog.Requests);
        Assert.InRange(started.Elapsed, TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(6));
        Assert.Equal(0, await fixture.AssetRowsAsync(productId));
    }

    [Fact]
    public async Task AFailingCatalogOpensTheCircuitAndCallsStopReachingIt()
    {
        await using var catalog = new ScriptedCatalog(_ => HttpStatusCode.InternalServerError);
        await using var assets = await StartAssetsAsync(catalog);

        const int Creates = 10;
        for (var i = 0; i < Creates; i++)
        {
            using var response = await PostCreateAsync(assets.Api, Guid.CreateVersion7(), Request(Image()));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero, "503 without Retry-After");
        }

        // Without the breaker every create would make three attempts (30); it opens after ten failed attempts.
        Assert.InRange(catalog.Requests, 10, 12);
    }

    private async Task<ServiceProcess> StartAssetsAsync(ScriptedCatalog catalog, Dictionary<string, string>? settings = null)
    {
        var overrides = new Dictionary<string, string>(settings ?? []) { ["CatalogClient__BaseUrl"] = catalog.Url };
        var assets = fixture.StartAssets(overrides);
        await assets.WaitReadyAsync();
        return assets;
    }

    /// <summary>Answers GET /api/v1/products/{id} with the status the script gives for the n-th lookup (1-based),
    /// or never when it gives null; everything else (the health check's lookup of the empty id) with 200.</summary>
    private sealed class ScriptedCatalog : IAsyncDisposable
    {
        private readonly Func<int, HttpStatusCode?> _script;
        private readonly LoopbackHttpServer _server;
        private int _requests;

        public ScriptedCatalog(Func<int, HttpStatusCode?> script)
        {
            _script = script;
            _server = new LoopbackHttpServer(AnswerAsync);
        }

        public string Url => _server.Url + "/";

        public int Requests => Volatile.Read(ref _requests);

        private async Task AnswerAsync(HttpListenerContext context, CancellationToken cancellationToken)
        {
            // Assets' Catalog health check looks up the empty id through another client (no resilience pipeline).
            var path = context.Request.Url!.AbsolutePath;
            var lookup = path.StartsWith("/api/v1/products/", StringComparison.Ordinal) && path != $"/api/v1/products/{Guid.Empty}";
            var status = lookup ? _script(Interlocked.Increment(ref _requests)) : HttpStatusCode.OK;
            if (status is null) await Task.Delay(Timeout.Infinite, cancellationToken);
            await LoopbackHttpServer.RespondAsync(context, (int)status!.Value, "application/json", "{}"u8.ToArray());
        }

        public ValueTask DisposeAsync() => _server.DisposeAsync();
    }
}
