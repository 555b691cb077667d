using System.Net;
using System.Web;
using static Assets.Api.Tests.AssetsHttp;

namespace Assets.Api.Tests;

/// <summary>The upload flow end to end against real PostgreSQL, s3rver and Catalog: the service never touches the
/// bytes, S3 receives them straight from the client, and completion checks what S3 holds against the declaration.</summary>
[Collection(AssetsCollection.Name)]
public sealed class UploadFlowTests(AssetsFixture fixture)
{
    private HttpClient Api => fixture.Assets.Api;

    [Fact]
    public async Task UploadedBytesComeBackIdentical()
    {
        var productId = await fixture.CreateProductAsync();
        var bytes = Image(70_000);

        var created = await CreateAsync(Api, productId, Request(bytes, "Front view.png"));
        var asset = created.Body.GetProperty("asset");
        Assert.Equal("pending", asset.GetProperty("status").GetString());
        Assert.Equal(JsonValueKindNull, asset.GetProperty("downloadUrl").ValueKind);
        Assert.Equal("PUT", created.Upload.GetProperty("method").GetString());
        Assert.Equal("image/png", created.Upload.GetProperty("headers").GetProperty("Content-Type").GetString());
        Assert.True(created.Upload.GetProperty("headers").TryGetProperty("x-amz-checksum-sha256", out _));
        Assert.NotNull(created.ReadYourWritesToken);

        using (var put = await PutAsync(created, bytes)) Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        using (var complete = await CompleteAsync(Api, created.Id))
        {
            Assert.Equal(HttpStatusCode.OK, complete.StatusCode);
            Assert.Equal("available", AssetsFixture.Json(await complete.Content.ReadAsStringAsync()).GetProperty("status").GetString());
        }

        using var get = await GetAsync(Api, $"api/v1/assets/{created.Id}", created.ReadYourWritesToken);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.True(get.Headers.CacheControl is { NoStore: true, Private: true }, "a response with a presigned URL may be cached");
        var read = AssetsFixture.Json(await get.Content.ReadAsStringAsync());
        Assert.Equal("available", read.GetProperty("status").GetString());
        Assert.Equal("Front view.png", read.GetProperty("fileName").GetString());
        Assert.Equal(bytes.Length, read.GetProperty("sizeBytes").GetInt64());
        var downloadUrl = read.GetProperty("downloadUrl").GetString()!;
        Assert.StartsWith(fixture.S3.Url, downloadUrl, StringComparison.Ordinal);
        Assert.True(read.GetProperty("downloadUrlExpiresAt").GetDateTimeOffset() > DateTimeOffset.UtcNow);

        using var s3 = new HttpClient();
        var downloaded = await s3.GetByteArrayAsync(new Uri(downloadUrl));
        Assert.Equal(bytes, downloaded);
    }

    [Fact]
    public async Task PresignedUploadsSignTheDeclaredTypeLengthAndDigest()
    {
        var productId = await fixture.CreateProductAsync();
        var created = await CreateAsync(Api, productId, Request(Image()));

        // What real S3 enforces: every signed header must be sent with exactly the signed value, or the PUT fails
        // with SignatureDoesNotMatch; a signed x-amz-checksum-sha256 makes S3 refuse other bytes with BadDigest.
        var query = HttpUtility.ParseQueryString(new Uri(created.UploadUrl).Query);
        var signed = query["X-Amz-SignedHeaders"]!.Split(';');
        Assert.Equal(["content-length", "content-type", "host", "x-amz-checksum-sha256"], signed);
        Assert.Equal("900", query["X-Amz-Expires"]);
        Assert.Equal($"/{AssetsFixture.Bucket}/products/{productId}/{created.Id}", new Uri(created.UploadUrl).AbsolutePath);
        // Copied out of the JSON by scripts (the README's curl walk-through): no \u0026 escapes in the URL.
        Assert.Contains("&X-Amz-Signature=", created.Raw, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithAKmsKeyConfiguredUploadsAreSignedToRequestSseKmsWithThatKey()
    {
        const string key = "arn:aws:kms:eu-west-1:111122223333:key/0b5c6a1e-8f7d-4c1e-9a0b-2d3e4f5a6b7c";
        await using var assets = fixture.StartAssets(new Dictionary<string, string> { ["Storage__KmsKeyId"] = key });
        await assets.WaitReadyAsync();
        var created = await CreateAsync(assets.Api, await fixture.CreateProductAsync(), Request(Image()));

        // Signed, so a client cannot drop them or name another key; the client sends them as the response says.
        var signed = HttpUtility.ParseQueryString(new Uri(created.UploadUrl).Query)["X-Amz-SignedHeaders"]!.Split(';');
        Assert.Contains("x-amz-server-side-encryption", signed);
        Assert.Contains("x-amz-server-side-encryption-aws-kms-key-id", signed);
        var headers = created.Upload.GetProperty("headers");
        Assert.Equal("aws:kms", headers.GetProperty("x-amz-server-side-encryption").GetString());
        Assert.Equal(key, headers.GetProperty("x-amz-server-side-encryption-aws-kms-key-id").GetString());

        // Without the setting (the fixture's Assets) the bucket's default encryption applies and nothing is signed.
        var plain = await CreateAsync(Api, await fixture.CreateProductAsync(), Request(Image()));
        Assert.DoesNotContain("x-amz-server-side-encryption", HttpUtility.ParseQueryString(new Uri(plain.UploadUrl).Query)["X-Amz-SignedHeaders"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FileNamesAreStoredAsGivenButNeverUsedInObjectKeys()
    {
        var productId = await fixture.CreateProductAsync();
        const string fileName = "Ünïcödé shot (1) ';DROP TABLE--.PNG";
        var created = await CreateAsync(Api, productId, Request(Image(), fileName));

        Assert.Equal(fileName, await fixture.Cluster.Primary.ScalarAsync<string>($"SELECT file_name FROM assets.assets WHERE id = '{created.Id}'", "assets"));
        Assert.Equal($"products/{productId}/{created.Id}",
            await fixture.Cluster.Primary.ScalarAsync<string>($"SELECT object_key FROM assets.assets WHERE id = '{created.Id}'", "assets"));
        Assert.DoesNotContain("DROP", created.UploadUrl, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task AnUploadOfOtherBytesThanDeclaredIsAConflict()
    {
        var productId = await fixture.CreateProductAsync();
        var declared = Image(5000);
        var created = await CreateAsync(Api, productId, Request(declared, withSha256: false));

        // s3rver does not verify signatures, so the store accepts a shorter body; real S3 would refuse the PUT itself.
        using (var put = await PutAsync(created, declared[..1234])) Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        using var complete = await CompleteAsync(Api, created.Id);

        Assert.Equal(HttpStatusCode.Conflict, complete.StatusCode);
        var problem = await ProblemAsync(complete);
        Assert.Contains("1234 bytes", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("pending", await fixture.Cluster.Primary.ScalarAsync<string>($"SELECT status FROM assets.assets WHERE id = '{created.Id}'", "assets"));
    }

    [Fact]
    public async Task CompletingBeforeTheBytesAreUploadedIsAConflict()
    {
        var productId = await fixture.CreateProductAsync();
        var created = await CreateAsync(Api, productId, Request(Image()));

        using var complete = await CompleteAsync(Api, created.Id);

        Assert.Equal(HttpStatusCode.Conflict, complete.StatusCode);
        Assert.Equal("Not uploaded", (await ProblemAsync(complete)).GetProperty("title").GetString());
    }

    [Fact]
    public async Task AnotherContentTypeThanDeclaredIsRefusedAtCompletion()
    {
        var productId = await fixture.CreateProductAsync();
        var bytes = Image();
        var created = await CreateAsync(Api, productId, Request(bytes, contentType: "image/png"));

        // Real S3 refuses this PUT (Content-Type is signed); s3rver stores it, and completion refuses the result.
        using (var put = await PutAsync(created, bytes, contentTypeOverride: "image/jpeg")) Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        using var complete = await CompleteAsync(Api, created.Id);

        Assert.Equal(HttpStatusCode.Conflict, complete.StatusCode);
        Assert.Contains("image/jpeg", (await ProblemAsync(complete)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExpiredUploadUrlsAreRefusedByTheStore()
    {
        var assets = await fixture.ShortLivedUrlsWithCdnAsync();
        var productId = await fixture.CreateProductAsync();
        var bytes = Image();
        var before = DateTimeOffset.UtcNow;
        var created = await CreateAsync(assets.Api, productId, Request(bytes));
        Assert.Equal("1", HttpUtility.ParseQueryString(new Uri(created.UploadUrl).Query)["X-Amz-Expires"]);
        // Signing time has whole seconds, so the URL lives up to one second, from a moment after the request began.
        Assert.InRange(created.Upload.GetProperty("expiresAt").GetDateTimeOffset(), before.AddSeconds(-1), DateTimeOffset.UtcNow.AddSeconds(1));

        await Task.Delay(TimeSpan.FromSeconds(2.5));
        using var put = await PutAsync(created, bytes);

        Assert.Equal(HttpStatusCode.Forbidden, put.StatusCode);
        Assert.Contains("Request has expired", await put.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DownloadsComeFromTheCdnWhenOneIsConfigured()
    {
        var productId = await fixture.CreateProductAsync();
        var (created, _) = await UploadAsync(Api, productId, Image());
        await fixture.Cluster.WaitForReplayAsync();
        var withCdn = await fixture.ShortLivedUrlsWithCdnAsync();

        using var get = await GetAsync(withCdn.Api, $"api/v1/assets/{created.Id}");

        var read = AssetsFixture.Json(await get.Content.ReadAsStringAsync());
        Assert.Equal($"https://media.example.test/products/{productId}/{created.Id}", read.GetProperty("downloadUrl").GetString());
        Assert.Equal(JsonValueKindNull, read.GetProperty("downloadUrlExpiresAt").ValueKind);
        Assert.True(get.Headers.CacheControl is { Public: true, MaxAge.TotalSeconds: 120 }, $"Cache-Control: {get.Headers.CacheControl}");
    }

    [Fact]
    public async Task AProductsAssetsAreListedInPagesWithAnOpaqueCursor()
    {
        var productId = await fixture.CreateProductAsync();
        var otherProduct = await fixture.CreateProductAsync();
        var ids = new List<Guid>();
        for (var i = 0; i < 3; i++) ids.Add((await CreateAsync(Api, productId, Request(Image(), $"view-{i}.png"))).Id);
        await CreateAsync(Api, otherProduct, Request(Image()));
        await fixture.Cluster.WaitForReplayAsync();

        using var first = await GetAsync(Api, $"api/v1/products/{productId}/assets?limit=2");
        var firstPage = AssetsFixture.Json(await first.Content.ReadAsStringAsync());
        var cursor = firstPage.GetProperty("nextCursor").GetString();
        Assert.NotNull(cursor);
        using var second = await GetAsync(Api, $"api/v1/products/{productId}/assets?limit=2&cursor={cursor}");
        var secondPage = AssetsFixture.Json(await second.Content.ReadAsStringAsync());

        var listed = firstPage.GetProperty("items").EnumerateArray().Concat(secondPage.GetProperty("items").EnumerateArray())
            .Select(a => a.GetProperty("id").GetGuid()).ToList();
        Assert.Equal(ids, listed);
        Assert.Equal(JsonValueKindNull, secondPage.GetProperty("nextCursor").ValueKind);
    }

    [Fact]
    public async Task DeletingAnAssetRemovesTheObjectAndTheRow()
    {
        var productId = await fixture.CreateProductAsync();
        var (created, completed) = await UploadAsync(Api, productId, Image());
        var downloadUrl = new Uri(completed.GetProperty("downloadUrl").GetString()!);

        using (var delete = await Api.DeleteAsync(new Uri($"api/v1/assets/{created.Id}", UriKind.Relative)))
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);

        Assert.Equal(0, await fixture.AssetRowsAsync(productId));
        using var s3 = new HttpClient();
        using (var gone = await s3.GetAsync(downloadUrl)) Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        using var again = await Api.DeleteAsync(new Uri($"api/v1/assets/{created.Id}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
    }

    [Fact]
    public async Task AssetsOfAProductCatalogDoesNotKnowAreRefusedWith404NamingTheProduct()
    {
        var unknown = Guid.CreateVersion7();

        using var response = await PostCreateAsync(Api, unknown, Request(Image()));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var problem = await ProblemAsync(response);
        Assert.Equal("productId", problem.GetProperty("field").GetString());
        Assert.Equal(0, await fixture.AssetRowsAsync(unknown));
    }

    [Fact]
    public async Task AProductCreatedAMomentAgoIsFoundWhileCatalogsReaderLags()
    {
        await fixture.Cluster.PauseReplayAsync();
        try
        {
            var productId = await fixture.CreateProductAsync();

            using var response = await PostCreateAsync(Api, productId, Request(Image()));

            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }
        finally
        {
            await fixture.Cluster.ResumeReplayAsync();
        }
    }

    [Fact]
    public async Task AnUnknownAssetIsNotFound()
    {
        using var response = await GetAsync(Api, $"api/v1/assets/{Guid.CreateVersion7()}");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        await ProblemAsync(response);
    }

    private const System.Text.Json.JsonValueKind JsonValueKindNull = System.Text.Json.JsonValueKind.Null;
}
