using System.Diagnostics;
using System.Net.Http.Json;

namespace TestKit;

/// <summary>Steady concurrent traffic for fault tests: counts every failure, so "zero failed requests" is measured,
/// not assumed.</summary>
public sealed class Load : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _workers = [];
    private readonly List<string> _failures = [];
    private long _succeeded;

    private Load(HttpClient api, int workers, Func<HttpClient, int, Task<HttpResponseMessage>> request)
    {
        for (var w = 0; w < workers; w++)
        {
            var worker = w;
            _workers.Add(Task.Run(async () =>
            {
                var i = 0;
                while (!_stop.IsCancellationRequested)
                {
                    try
                    {
                        using var response = await request(api, worker * 1_000_000 + i++);
                        if ((int)response.StatusCode >= 500 || (int)response.StatusCode == 0)
                            Fail($"{(int)response.StatusCode} {response.RequestMessage?.RequestUri?.PathAndQuery}: {await response.Content.ReadAsStringAsync()}");
                        else Interlocked.Increment(ref _succeeded);
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                    {
                        if (!_stop.IsCancellationRequested) Fail(e.Message);
                    }
                }
            }));
        }
    }

    public long Succeeded => Interlocked.Read(ref _succeeded);

    public IReadOnlyList<string> Failures
    {
        get { lock (_failures) return [.. _failures]; }
    }

    /// <summary>Concurrent GETs of one product.</summary>
    public static Load Reads(HttpClient api, string path, int workers = 4) =>
        new(api, workers, (client, _) => client.GetAsync(new Uri(path, UriKind.Relative)));

    /// <summary>Concurrent creates; every acknowledged SKU is remembered so the test can count lost writes.</summary>
    public static Load Writes(HttpClient api, List<string> acknowledged, int workers = 2) =>
        new(api, workers, async (client, i) =>
        {
            var sku = $"LOAD-{i:D8}-{Guid.NewGuid().ToString("N")[..6].ToUpperInvariant()}";
            var response = await client.PostAsJsonAsync("api/v1/products", CatalogHttp.Product(sku));
            if ((int)response.StatusCode == 201) lock (acknowledged) acknowledged.Add(sku);
            return response;
        });

    /// <summary>Runs the load for at least <paramref name="duration"/>.</summary>
    public static async Task RunForAsync(TimeSpan duration) => await Task.Delay(duration);

    public async Task StopAsync()
    {
        _stop.Cancel();
        await Task.WhenAll(_workers);
    }

    private void Fail(string failure)
    {
        lock (_failures) _failures.Add($"{Stopwatch.GetTimestamp()}: {failure}");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested) await StopAsync();
        _stop.Dispose();
    }
}
