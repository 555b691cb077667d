using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using TestKit;
using Xunit.Abstractions;

namespace Reliability.Tests;

/// <summary>Ten thousand generated hostile requests: no 5xx, nothing written by a rejected request, and every error
/// the application handles is a problem document. Only Kestrel's own protocol rejections (NUL in the path, 414,
/// 431) may be bodiless.</summary>
public sealed class HostileInputTests(ITestOutputHelper output)
{
    private const int Requests = 10_000;

    /// <summary>Hosting:MaxRequestBodyBytes default.</summary>
    private const long BodyLimit = 1_048_576;

    [Fact]
    public async Task TenThousandHostileRequestsCauseNoServerErrorAndWriteNothing()
    {
        await using var environment = await CatalogEnvironment.StartAsync(new CatalogEnvironmentOptions
        {
            Cluster = new PostgresClusterOptions { WithStandby = false },
        });
        var service = environment.Service;
        var existing = (await CatalogHttp.CreateAsync(service.Api)).GetProperty("id").GetString()!;
        var rowsBefore = await environment.Cluster.Primary.ScalarAsync<long>("SELECT count(*) FROM catalog.products", "catalog");
        // The whole row, xmin included: a refused PUT that still touched the product would show here.
        var existingRow = $"SELECT row_to_json(p)::text || ' xmin ' || p.xmin FROM catalog.products p WHERE id = '{existing}'";
        var existingBefore = await environment.Cluster.Primary.ScalarAsync<string>(existingRow, "catalog");
        var statuses = new ConcurrentDictionary<int, int>();
        var violations = new ConcurrentBag<string>();
        var created = 0;
        var refusedDuringUpload = 0;

        await Parallel.ForAsync(0, Requests, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            var random = new Random(i);
            using var request = Generate(random, existing);
            var description = $"{request.Method} {request.RequestUri}";
            HttpResponseMessage response;
            try
            {
                response = await service.Api.SendAsync(request, ct);
            }
            catch (HttpRequestException) when (request.Content?.Headers.ContentLength > BodyLimit)
            {
                // Kestrel answers 413 and closes as soon as the limit is passed; a client still uploading sees the
                // connection close instead of the response. The server refused it either way.
                Interlocked.Increment(ref refusedDuringUpload);
                return;
            }
            catch (HttpRequestException e)
            {
                violations.Add($"{description}: connection failed ({e.Message})");
                return;
            }
            using (response)
            {
                var status = (int)response.StatusCode;
                statuses.AddOrUpdate(status, 1, (_, n) => n + 1);
                if (status == 201) Interlocked.Increment(ref created);
                var body = await response.Content.ReadAsByteArrayAsync(ct);
                if (status >= 500) violations.Add($"{description}: {status}");
                else if (status >= 400 && body.Length > 0 && response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                    violations.Add($"{description}: {status} as {response.Content.Headers.ContentType}");
                else if (status >= 400 && body.Length == 0 && !KestrelRefusals.IsKestrelRejection(status, request))
                    violations.Add($"{description}: {status} without a problem document");
            }
        });

        var rowsAfter = await environment.Cluster.Primary.ScalarAsync<long>("SELECT count(*) FROM catalog.products", "catalog");
        var archived = await environment.Cluster.Primary.ScalarAsync<long>("SELECT count(*) FROM catalog.products WHERE status = 'archived'", "catalog");
        Figures.Record(output, "hostile input",
            $"{Requests} requests: {string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}"))}; " +
            $"{refusedDuringUpload} oversized uploads cut off by the server's 413; {violations.Count} violations; rows {rowsBefore} → {rowsAfter} ({created} created by accepted requests)");
        Assert.True(violations.IsEmpty, string.Join('\n', violations.Take(20)));
        Assert.Equal(rowsBefore + created, rowsAfter);
        Assert.Equal(0, archived);
        Assert.Equal(existingBefore, await environment.Cluster.Primary.ScalarAsync<string>(existingRow, "catalog"));
        await service.WaitReadyAsync(TimeSpan.FromSeconds(5));
    }

    private static readonly string[] s_nasty =
    [
        "'; DROP TABLE catalog.products; --", "<script>alert(1)</script>", "../../etc/passwd", "%00", "\u0000", "\ud800",
        "${jndi:ldap://x}", "{{7*7}}", "😀", new string('A', 5000), "\\", "\"", "\r\nX-Injected: 1", "SELECT pg_sleep(10)",
    ];

    /// <summary>Bodies that must be refused: broken JSON, wrong types, nesting, invalid UTF-8, oversize.</summary>
    private static HttpRequestMessage Generate(Random random, string existing)
    {
        var nasty = s_nasty[random.Next(s_nasty.Length)];
        var escaped = System.Text.Json.JsonSerializer.Serialize(nasty);
        switch (random.Next(15))
        {
            case 0: return Post(Truncate(Valid(random), random));
            case 1: return Post($$"""{"sku":{{random.Next()}},"name":[1,2],"category":true}""");
            case 2: return Post($$"""{"sku":"X-{{random.Next()}}","name":"n","category":"c","attributes":{{new string('[', 200 + random.Next(2000))}}""");
            case 3:
                var bytes = Encoding.UTF8.GetBytes(Valid(random)).ToList();
                bytes.InsertRange(random.Next(1, bytes.Count - 1), new byte[] { 0xC3, 0x28, 0xFF });
                return Post(new ByteArrayContent([.. bytes]));
            case 4: return Post($$"""{"sku":"SKU-{{random.Next(100000)}}","name":{{escaped}},"category":{{escaped}}}""");
            case 5: return Post($$"""{"sku":{{escaped}},"name":"n","category":"c"}""");
            case 6: return Post("""{"sku":"SKU-ATTR","name":"n","category":"c","attributes":{""" + string.Join(',', Enumerable.Range(0, 60).Select(k => $"\"k{k}\":\"v\"")) + "}}");
            case 7: return new HttpRequestMessage(HttpMethod.Get, $"api/v1/products?limit={Pick(random, "-1", "0", "101", "1e9", "99999999999999999999", "abc", "%00")}");
            case 8: return new HttpRequestMessage(HttpMethod.Get, $"api/v1/products?cursor={Uri.EscapeDataString(Pick(random, nasty, Convert.ToBase64String(Guid.NewGuid().ToByteArray()), new string('A', 4000), "AAAAAAAAAAAAAAAAAAAAAA"))}&category={Uri.EscapeDataString(nasty)}");
            case 9: return new HttpRequestMessage(HttpMethod.Get, $"api/v1/products/{Uri.EscapeDataString(nasty)}");
            case 10: return new HttpRequestMessage(HttpMethod.Get, $"api/v1/products/by-sku/{Uri.EscapeDataString(nasty)}");
            case 11:
                var put = new HttpRequestMessage(HttpMethod.Put, $"api/v1/products/{existing}") { Content = Json(Valid(random)) };
                put.Headers.TryAddWithoutValidation("If-Match", Pick(random, "\"1\"", "garbage", "W/\"x\"", HeaderSafe(nasty)));
                return put;
            case 12:
                var unauthorized = Post(Valid(random));
                unauthorized.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Pick(random, "x", HeaderSafe(nasty), "a.b.c", new string('e', 20000)));
                return unauthorized;
            case 13:
                var headers = Post(Valid(random));
                headers.Headers.TryAddWithoutValidation("X-Large", new string('h', 40_000 + random.Next(10_000)));
                return headers;
            default:
                return Post($$"""{"sku":"BIG","name":"n","category":"c","description":"{{new string('x', 1_100_000)}}"}""");
        }

        HttpRequestMessage Post(object body)
        {
            var message = new HttpRequestMessage(HttpMethod.Post, "api/v1/products")
            {
                Content = body as HttpContent ?? Json((string)body),
            };
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", CatalogEnvironment.WriteToken);
            return message;
        }
    }

    private static string Valid(Random random) =>
        $$"""{"sku":"HOSTILE-{{random.Next(1_000_000)}}","name":"n","category":"c","status":"{{Pick(random, "draft", "gone", "ACTIVE")}}"}""";

    /// <summary>HttpClient itself refuses control and non-ASCII characters in header values.</summary>
    private static string HeaderSafe(string value) => new([.. value.Where(c => c is >= ' ' and <= '~')]);

    private static string Truncate(string json, Random random) => json[..random.Next(1, json.Length - 1)];

    private static string Pick(Random random, params string[] values) => values[random.Next(values.Length)];

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
