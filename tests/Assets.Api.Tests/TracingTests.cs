using System.Net.Http.Json;
using System.Security.Cryptography;
using TestKit;
using static Assets.Api.Tests.AssetsHttp;

namespace Assets.Api.Tests;

/// <summary>Both services export OTLP to a receiver in the test; one upload request yields one trace across the real
/// loopback HTTP hop from Assets to Catalog and down to both databases.</summary>
[Collection(AssetsCollection.Name)]
public sealed class TracingTests(AssetsFixture fixture)
{
    [Fact]
    public async Task OneTraceSpansAssetsCatalogAndTheirDatabases()
    {
        var productId = await fixture.CreateProductAsync();
        // Catalog's reader has the product: one hop, answered by the reader (a lagging reader adds a second, pinned one).
        await fixture.Cluster.WaitForReplayAsync();
        // The caller's own trace context (as the ALB or a browser SDK would send it): every span must join it.
        var traceId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var callerSpanId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        using var request = new HttpRequestMessage(HttpMethod.Post, $"api/v1/products/{productId}/assets")
        {
            Content = JsonContent.Create(Request(Image())),
        };
        request.Headers.Add("traceparent", $"00-{traceId}-{callerSpanId}-01");
        using (var response = await fixture.Assets.Api.SendAsync(request)) Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);

        var spans = await fixture.Otlp.WaitForAsync(all =>
        {
            var trace = all.Where(s => s.TraceId == traceId).ToList();
            return trace.Any(s => s.ServiceName == "catalog" && s.Kind == OtlpSpanKind.Client) &&
                   trace.Any(s => s.ServiceName == "assets" && s.Kind == OtlpSpanKind.Client && s.Attributes.ContainsKey("db.role"));
        }, TimeSpan.FromSeconds(20), $"spans of trace {traceId} from both services and their databases");
        var trace = spans.Where(s => s.TraceId == traceId).ToList();

        var assetsServer = Assert.Single(trace, s => s.ServiceName == "assets" && s.Kind == OtlpSpanKind.Server);
        Assert.Equal(callerSpanId, assetsServer.ParentSpanId);
        var assetsToCatalog = Assert.Single(trace, s => s.ServiceName == "assets" && s.Kind == OtlpSpanKind.Client && !s.Attributes.ContainsKey("db.role"));
        Assert.Equal("GET", assetsToCatalog.Name);
        Assert.Contains(assetsServer, Ancestors(trace, assetsToCatalog));

        var catalogServer = Assert.Single(trace, s => s.ServiceName == "catalog" && s.Kind == OtlpSpanKind.Server);
        Assert.Equal(assetsToCatalog.SpanId, catalogServer.ParentSpanId);
        Assert.Equal("GET /api/v1/products/{id:guid}", catalogServer.Name);
        var catalogQuery = Assert.Single(trace, s => s.ServiceName == "catalog" && s.Kind == OtlpSpanKind.Client);
        Assert.Contains(catalogServer, Ancestors(trace, catalogQuery));
        Assert.Equal("reader", catalogQuery.Attributes["db.role"]);

        var assetsInsert = Assert.Single(trace, s => s.ServiceName == "assets" && s.Attributes.GetValueOrDefault("db.role") == "writer");
        Assert.Contains(assetsServer, Ancestors(trace, assetsInsert));
    }

    [Fact]
    public async Task HealthProbesOfCatalogAndS3AreNotTraced()
    {
        // Readiness probes run the dependency checks: make sure some have run, then look for their calls.
        for (var i = 0; i < 3; i++) using (await fixture.Assets.Management.GetAsync(new Uri("health/ready", UriKind.Relative))) { }
        // Then a request of its own: spans are exported in the order they end, so once its span has arrived, any
        // span of the probes before it has too.
        var marker = Guid.NewGuid();
        using (await fixture.Assets.Api.GetAsync(new Uri($"api/v1/assets/{marker}", UriKind.Relative))) { }
        await fixture.Otlp.WaitForAsync(spans => spans.Any(s => s.ServiceName == "assets" && s.Kind == OtlpSpanKind.Server &&
                                                                s.Attributes.Values.Any(v => v.Contains(marker.ToString(), StringComparison.Ordinal))),
            TimeSpan.FromSeconds(10), "the marker request's span");

        var probes = fixture.Otlp.Spans.Where(s => s.Attributes.Values.Any(v =>
            v.Contains(Guid.Empty.ToString(), StringComparison.Ordinal) || v.Contains("health-probe", StringComparison.Ordinal))).ToList();
        Assert.True(probes.Count == 0, string.Join('\n', probes.Select(s => $"{s.ServiceName} {s.Kind} {s.Name} parent={s.ParentSpanId} {string.Join(", ", s.Attributes.Select(a => $"{a.Key}={a.Value}"))}")));
    }

    private static List<OtlpSpan> Ancestors(IReadOnlyList<OtlpSpan> trace, OtlpSpan span)
    {
        var ancestors = new List<OtlpSpan>();
        for (var parent = trace.FirstOrDefault(s => s.SpanId == span.ParentSpanId); parent is not null;
             parent = trace.FirstOrDefault(s => s.SpanId == parent.ParentSpanId))
        {
            ancestors.Add(parent);
        }
        return ancestors;
    }
}
