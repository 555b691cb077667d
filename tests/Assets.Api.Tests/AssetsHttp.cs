using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using TestKit;

namespace Assets.Api.Tests;

/// <summary>A created asset: the response body, its parts, and the read-your-writes token of the create.</summary>
public sealed record CreatedAsset(string Raw, string? ReadYourWritesToken)
{
    public JsonElement Body { get; } = AssetsFixture.Json(Raw);

    public Guid Id => Body.GetProperty("asset").GetProperty("id").GetGuid();

    public JsonElement Upload => Body.GetProperty("upload");

    public string UploadUrl => Upload.GetProperty("url").GetString()!;
}

/// <summary>The client side of the upload flow, as a browser or a studio tool would do it.</summary>
public static class AssetsHttp
{
    /// <summary>Bytes of a tiny but real PNG-like payload; content does not matter to S3, only length and digest.</summary>
    public static byte[] Image(int length = 4096)
    {
        var bytes = new byte[length];
        RandomNumberGenerator.Fill(bytes);
        ReadOnlySpan<byte> signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
        signature[..Math.Min(8, length)].CopyTo(bytes);
        return bytes;
    }

    public static object Request(byte[]? bytes = null, string fileName = "front.png", string contentType = "image/png", long? sizeBytes = null,
        bool withSha256 = true) =>
        new
        {
            fileName,
            contentType,
            sizeBytes = sizeBytes ?? bytes?.Length ?? 4096,
            sha256 = withSha256 && bytes is not null ? Convert.ToHexStringLower(SHA256.HashData(bytes)) : null,
        };

    public static async Task<HttpResponseMessage> PostCreateAsync(HttpClient api, Guid productId, object request) =>
        await api.PostAsJsonAsync($"api/v1/products/{productId}/assets", request);

    public static async Task<CreatedAsset> CreateAsync(HttpClient api, Guid productId, object request)
    {
        using var response = await PostCreateAsync(api, productId, request);
        var body = await response.Content.ReadAsStringAsync();
        if ((int)response.StatusCode != 201) throw new InvalidOperationException($"create answered {(int)response.StatusCode}: {body}");
        return new CreatedAsset(body,
            response.Headers.TryGetValues("X-Read-Your-Writes", out var token) ? token.Single() : null);
    }

    /// <summary>PUTs the bytes straight to S3 with the presigned URL and the headers the service said to send.</summary>
    public static async Task<HttpResponseMessage> PutAsync(CreatedAsset asset, byte[] bytes, string? contentTypeOverride = null)
    {
        using var s3 = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Put, asset.UploadUrl) { Content = new ByteArrayContent(bytes) };
        foreach (var header in asset.Upload.GetProperty("headers").EnumerateObject())
        {
            if (header.Name == "Content-Type") request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentTypeOverride ?? header.Value.GetString()!);
            else request.Headers.TryAddWithoutValidation(header.Name, header.Value.GetString());
        }
        return await s3.SendAsync(request);
    }

    public static Task<HttpResponseMessage> CompleteAsync(HttpClient api, Guid id) =>
        api.PostAsync(new Uri($"api/v1/assets/{id}/complete", UriKind.Relative), content: null);

    /// <summary>Creates, uploads and completes an asset; returns the completed asset's JSON.</summary>
    public static async Task<(CreatedAsset Created, JsonElement Completed)> UploadAsync(HttpClient api, Guid productId, byte[] bytes, string fileName = "front.png")
    {
        var created = await CreateAsync(api, productId, Request(bytes, fileName));
        using (var put = await PutAsync(created, bytes))
            if (!put.IsSuccessStatusCode) throw new InvalidOperationException($"PUT to S3 answered {(int)put.StatusCode}: {await put.Content.ReadAsStringAsync()}");
        using var complete = await CompleteAsync(api, created.Id);
        var body = await complete.Content.ReadAsStringAsync();
        if (!complete.IsSuccessStatusCode) throw new InvalidOperationException($"complete answered {(int)complete.StatusCode}: {body}");
        return (created, AssetsFixture.Json(body));
    }

    public static async Task<HttpResponseMessage> GetAsync(HttpClient api, string path, string? readYourWritesToken = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (readYourWritesToken is not null) request.Headers.Add("X-Read-Your-Writes", readYourWritesToken);
        return await api.SendAsync(request);
    }

    public static async Task<JsonElement> ProblemAsync(HttpResponseMessage response) => await CatalogHttp.ProblemAsync(response);
}
