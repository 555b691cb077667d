using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Catalog.Api.Tests;

[Collection(CatalogCollection.Name)]
public sealed class ProductsApiTests(CatalogFixture fixture)
{
    private static object NewProduct(string? sku = null, string category = "shoes") => new
    {
        sku = sku ?? "SKU-" + Guid.NewGuid().ToString("N")[..10].ToUpperInvariant(),
        name = "Trail runner",
        description = "Light shoe",
        brand = "Acme",
        category,
        attributes = new Dictionary<string, string> { ["color"] = "red" },
        status = "active",
    };

    [Fact]
    public async Task ACreatedProductCanBeReadBackById()
    {
        using var created = await fixture.Service.Api.PostAsJsonAsync("api/v1/products", NewProduct());
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        var id = body.GetProperty("id").GetString();
        Assert.Equal($"/api/v1/products/{id}", created.Headers.Location!.OriginalString);
        Assert.NotNull(created.Headers.ETag);

        using var read = await fixture.Service.Api.GetAsync(new Uri($"api/v1/products/{id}", UriKind.Relative));
        read.Headers.TryGetValues("X-Read-Your-Writes", out _);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal("red", (await read.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("attributes").GetProperty("color").GetString());
    }
}
