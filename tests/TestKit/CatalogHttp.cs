using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Xunit;

namespace TestKit;

/// <summary>Requests against the Catalog API, shared by the tests that drive it.</summary>
public static class CatalogHttp
{
    public static string NewSku() => "SKU-" + Guid.NewGuid().ToString("N")[..12].ToUpperInvariant();

    public static object Product(string? sku = null, string category = "shoes", string status = "active", string name = "Trail runner") => new
    {
        sku = sku ?? NewSku(),
        name,
        description = "Light shoe\nfor trails",
        brand = "Acme",
        category,
        attributes = new Dictionary<string, string> { ["color"] = "red" },
        status,
    };

    public static async Task<JsonElement> CreateAsync(HttpClient api, object? product = null)
    {
        using var response = await api.PostAsJsonAsync("api/v1/products", product ?? Product());
        var body = await response.Content.ReadAsStringAsync();
        if ((int)response.StatusCode != 201) throw new InvalidOperationException($"create answered {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public static Task<HttpResponseMessage> GetAsync(HttpClient api, string path, Action<HttpRequestHeaders>? headers = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        headers?.Invoke(request.Headers);
        return api.SendAsync(request);
    }

    public static Task<HttpResponseMessage> SendJsonAsync(HttpClient api, HttpMethod method, string path, string json,
        Action<HttpRequestMessage>? configure = null, string contentType = "application/json")
    {
        var request = new HttpRequestMessage(method, path) { Content = new StringContent(json, Encoding.UTF8, contentType) };
        configure?.Invoke(request);
        return api.SendAsync(request);
    }

    public static async Task<JsonElement> ProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        Assert.Equal((int)response.StatusCode, problem.GetProperty("status").GetInt32());
        return problem;
    }

    public static string[] FieldErrors(JsonElement problem) =>
        problem.TryGetProperty("errors", out var errors) ? [.. errors.EnumerateObject().Select(e => e.Name)] : [];
}
