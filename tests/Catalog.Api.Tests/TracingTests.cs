using TestKit;

namespace Catalog.Api.Tests;

/// <summary>Traces reach an OTLP receiver; database spans say whether the writer or the reader served them; probes
/// and scrapes never create spans.</summary>
public sealed class TracingTests
{
    [Fact]
    public async Task DatabaseSpansNameTheirRoleAndProbesAreNotTraced()
    {
        await using var receiver = new OtlpReceiver();
        await using var environment = await CatalogEnvironment.StartAsync(new CatalogEnvironmentOptions { Settings = receiver.ServiceSettings() });
        var service = environment.Service;

        var id = (await CatalogHttp.CreateAsync(service.Api)).GetProperty("id").GetString();
        await environment.Cluster.WaitForReplayAsync();
        using (await service.Api.GetAsync(new Uri($"api/v1/products/{id}", UriKind.Relative))) { }
        for (var i = 0; i < 5; i++)
        {
            using (await service.Management.GetAsync(new Uri("health/ready", UriKind.Relative))) { }
            using (await service.Management.GetAsync(new Uri("metrics", UriKind.Relative))) { }
        }

        var spans = await receiver.WaitForAsync(s =>
            s.Any(span => span.Kind == OtlpSpanKind.Client && span.Attributes.GetValueOrDefault("db.role") == "reader") &&
            s.Any(span => span.Kind == OtlpSpanKind.Client && span.Attributes.GetValueOrDefault("db.role") == "writer"),
            TimeSpan.FromSeconds(15), "database spans from the writer and the reader");

        var read = spans.Single(span => span.Kind == OtlpSpanKind.Server && span.Name.StartsWith("GET", StringComparison.Ordinal));
        Assert.Equal("catalog", read.ServiceName);
        Assert.Contains(spans, span => span.TraceId == read.TraceId && span.Attributes.GetValueOrDefault("db.role") == "reader");
        Assert.DoesNotContain(spans, span => span.TraceId == read.TraceId && span.Attributes.GetValueOrDefault("db.role") == "writer");
        Assert.DoesNotContain(spans, span => span.Name.Contains("health", StringComparison.OrdinalIgnoreCase) ||
                                             span.Name.Contains("metrics", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(spans, span => span.Attributes.Values.Any(v => v.Contains("/health/", StringComparison.Ordinal)));
    }
}
