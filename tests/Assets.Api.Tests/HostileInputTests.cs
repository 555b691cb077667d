using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using TestKit;
using Xunit.Abstractions;

namespace Assets.Api.Tests;

/// <summary>Generated hostile requests against Assets, where file names and ids reach S3 object keys if anything
/// does: path tricks in every spelling, control and bidi characters, wrong types, huge numbers, invalid UTF-8, deep
/// nesting, ids that are paths. No 5xx, every error the application handles is a problem document, nothing is
/// written by a rejected request, and every object key that was written is the generated one.</summary>
[Collection(AssetsCollection.Name)]
public sealed class HostileInputTests(AssetsFixture fixture, ITestOutputHelper output)
{
    private const int Requests = 3_000;

    private static readonly string[] s_fileNames =
    [
        "../../etc/passwd", "..\\..\\windows\\win.ini", "/etc/shadow", "C:\\boot.ini", "%2e%2e%2fkey.png", "..%2f..%2fkey.png",
        "a/../../b.png", "\u2215etc\u2215passwd.png", "\uff0e\uff0e\uff0fkey.png", "a\u0000.png", "a\r\nX-Amz-Acl: public-read.png",
        "gnp\u202E.exe", "\ud800.png", ".", "..", "...", " ", "CON", "aux.png", ".htaccess", "<script>alert(1)</script>.png",
        "'; DROP TABLE assets.assets; --.png", "${jndi:ldap://x}.png", new string('a', 300) + ".png", "products/other/id",
        "😀.png", "name with spaces.png", "%00.png", "?x=1.png", "#frag.png", "~/.ssh/id_rsa",
    ];

    [Fact]
    public async Task GeneratedHostileRequestsCauseNoServerErrorAndWriteNothingUnsafe()
    {
        var productId = await fixture.CreateProductAsync();
        var api = fixture.Assets.Api;
        var statuses = new ConcurrentDictionary<int, int>();
        var violations = new ConcurrentBag<string>();
        var created = 0;

        await Parallel.ForAsync(0, Requests, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            using var request = Generate(new Random(i), productId);
            var description = $"{request.Method} {request.RequestUri}";
            using var response = await api.SendAsync(request, ct);
            var status = (int)response.StatusCode;
            statuses.AddOrUpdate(status, 1, (_, n) => n + 1);
            if (status == 201) Interlocked.Increment(ref created);
            var body = await response.Content.ReadAsByteArrayAsync(ct);
            if (status >= 500) violations.Add($"{description}: {status} {Encoding.UTF8.GetString(body)}");
            else if (status >= 400 && response.Content.Headers.ContentType?.MediaType != "application/problem+json" && !KestrelRefusals.IsKestrelRejection(status, request))
                violations.Add($"{description}: {status} as {response.Content.Headers.ContentType?.ToString() ?? "no body"}");
        });

        var rows = await fixture.AssetRowsAsync(productId);
        var keys = await fixture.Cluster.Primary.ScalarAsync<string>(
            $"SELECT coalesce(string_agg(object_key, E'\\n'), '') FROM assets.assets WHERE product_id = '{productId}'", "assets");
        var unexpectedKeys = keys.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(k => !System.Text.RegularExpressions.Regex.IsMatch(k, $"^products/{productId}/[0-9a-f-]{{36}}$")).ToList();
        Figures.Record(output, "hostile input (assets)",
            $"{Requests} requests: {string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}"))}; {violations.Count} violations; " +
            $"rows 0 → {rows} ({created} created by accepted requests); {unexpectedKeys.Count} object keys not generated");
        Assert.True(violations.IsEmpty, string.Join('\n', violations.Take(20)));
        Assert.Equal(created, rows);
        Assert.Empty(unexpectedKeys);
        Assert.True(created > 0, "no request was accepted: the generator only produced refusals, the key check proves nothing");
    }

    private static HttpRequestMessage Generate(Random random, Guid productId)
    {
        var fileName = s_fileNames[random.Next(s_fileNames.Length)];
        var name = JsonSerializer.Serialize(fileName);
        var assets = $"api/v1/products/{productId}/assets";
        switch (random.Next(12))
        {
            case 0:
            case 1:
            case 2:
                return Post(assets, $$"""{"fileName":{{name}},"contentType":"image/png","sizeBytes":{{random.Next(1, 100_000)}}}""");
            case 3:
                return Post(assets, $$"""{"fileName":"a.png","contentType":{{Pick(random, "\"image/png; charset=x\"", "\"IMAGE/PNG\"", "\"image/svg+xml\"", "\"text/html\"", "\"\"", "null", "5")}},"sizeBytes":10}""");
            case 4:
                return Post(assets, $$"""{"fileName":"a.png","contentType":"image/png","sizeBytes":{{Pick(random, "-1", "0", "1e30", "99999999999999999999", "10.5", "\"10\"", "null", "true")}}}""");
            case 5:
                return Post(assets, $$"""{"fileName":"a.png","contentType":"image/png","sizeBytes":10,"sha256":{{Pick(random, "\"zz\"", "\"" + new string('a', 64) + "\"", "\"" + new string('A', 5000) + "\"", "[]", "{}")}}}""");
            case 6:
                var bytes = Encoding.UTF8.GetBytes($$"""{"fileName":"a.png","contentType":"image/png","sizeBytes":10}""").ToList();
                bytes.InsertRange(random.Next(1, bytes.Count - 1), new byte[] { 0xC3, 0x28, 0xFF });
                return Post(assets, new ByteArrayContent([.. bytes]) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } });
            case 7:
                return Post(assets, $$"""{"fileName":{{new string('[', 100 + random.Next(2000))}}""");
            case 8:
                return new HttpRequestMessage(HttpMethod.Post, $"api/v1/assets/{Uri.EscapeDataString(fileName)}/complete");
            case 9:
                return new HttpRequestMessage(Pick(random, HttpMethod.Get, HttpMethod.Delete), $"api/v1/assets/{Pick(random, Uri.EscapeDataString(fileName), "..%2F..%2Fetc", Guid.Empty.ToString(), "%00")}");
            case 10:
                return new HttpRequestMessage(HttpMethod.Get, $"{assets}?limit={Pick(random, "-1", "1e9", "abc")}&cursor={Uri.EscapeDataString(Pick(random, fileName, new string('A', 4000)))}");
            default:
                return Post($"api/v1/products/{Uri.EscapeDataString(fileName)}/assets", """{"fileName":"a.png","contentType":"image/png","sizeBytes":10}""");
        }
    }

    private static HttpRequestMessage Post(string path, object body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = body as HttpContent ?? new StringContent((string)body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AssetsFixture.WriteToken);
        return request;
    }

    private static T Pick<T>(Random random, params T[] values) => values[random.Next(values.Length)];
}
