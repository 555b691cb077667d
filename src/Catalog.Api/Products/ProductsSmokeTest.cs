using System.Net;
using Platform;

namespace Catalog.Api.Products;

/// <summary>Read-only checks of a running Catalog (the preview stack before promotion): it touches only reads, so
/// it is safe against production data, and it fails on anything a healthy release would not answer.</summary>
internal sealed class ProductsSmokeTest : ISmokeTest
{
    public async Task RunOnceAsync(HttpClient api, CancellationToken cancellationToken)
    {
        var page = await api.GetFromJsonAsync("api/v1/products?limit=5", CatalogJsonContext.Default.ProductPage, cancellationToken)
                   ?? throw new InvalidOperationException("list returned no body");
        if (page.Items.Count > 0)
        {
            using var one = await api.GetAsync(new Uri($"api/v1/products/{page.Items[0].Id}", UriKind.Relative), cancellationToken);
            Expect(one, HttpStatusCode.OK, "get by id");
            if (one.Headers.ETag is null) throw new InvalidOperationException("get by id: no ETag");
        }
        using var missing = await api.GetAsync(new Uri($"api/v1/products/{Guid.CreateVersion7()}", UriKind.Relative), cancellationToken);
        Expect(missing, HttpStatusCode.NotFound, "get unknown id");
        if (missing.Content.Headers.ContentType?.MediaType != "application/problem+json")
            throw new InvalidOperationException("get unknown id: not a problem document");
    }

    private static void Expect(HttpResponseMessage response, HttpStatusCode status, string what)
    {
        if (response.StatusCode != status) throw new InvalidOperationException($"{what}: expected {(int)status}, got {(int)response.StatusCode}");
    }
}
