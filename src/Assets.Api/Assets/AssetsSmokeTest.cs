using System.Net;
using Platform;

namespace Assets.Api.Assets;

/// <summary>Read-only checks of a running Assets (the preview stack before promotion): safe against production data,
/// and failing on anything a healthy release would not answer.</summary>
internal sealed class AssetsSmokeTest : ISmokeTest
{
    public async Task RunOnceAsync(HttpClient api, CancellationToken cancellationToken)
    {
        var page = await api.GetFromJsonAsync($"api/v1/products/{Guid.CreateVersion7()}/assets?limit=5", AssetsJsonContext.Default.AssetPage, cancellationToken)
                   ?? throw new InvalidOperationException("list returned no body");
        if (page.Items.Count != 0 || page.NextCursor is not null) throw new InvalidOperationException("list of an unknown product is not empty");

        using var missing = await api.GetAsync(new Uri($"api/v1/assets/{Guid.CreateVersion7()}", UriKind.Relative), cancellationToken);
        Expect(missing, HttpStatusCode.NotFound, "get unknown id");
        if (missing.Content.Headers.ContentType?.MediaType != "application/problem+json")
            throw new InvalidOperationException("get unknown id: not a problem document");

        using var badCursor = await api.GetAsync(new Uri($"api/v1/products/{Guid.CreateVersion7()}/assets?cursor=x", UriKind.Relative), cancellationToken);
        Expect(badCursor, HttpStatusCode.BadRequest, "list with a bad cursor");
    }

    private static void Expect(HttpResponseMessage response, HttpStatusCode status, string what)
    {
        if (response.StatusCode != status) throw new InvalidOperationException($"{what}: expected {(int)status}, got {(int)response.StatusCode}");
    }
}
