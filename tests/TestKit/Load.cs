using System.Diagnostics;
using System.Net.Http.Json;

namespace TestKit;

/// <summary>Steady concurrent traffic for fault tests: every request is timed and every failure (5xx, connection
/// error) recorded, so "zero failed requests" and recovery times are measured, not assumed.</summary>
public sealed class Load : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _workers = [];
    private readonly List<string> _failures = [];
    private readonly List<Sample> _samples = [];

    /// <summary>One request: when it started and finished (Stopwatch ticks), its status (0: no answer) and, when it
    /// failed, the body the service answered.</summary>
    public sealed record Sample(long Started, long Finished, int Status, string? Body)
    {
        public bool Ok => Status is > 0 and < 500;

        public double Milliseconds => Stopwatch.GetElapsedTime(Started, Finished).TotalMilliseconds;
    }

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
                    var started = Stopwatch.GetTimestamp();
                    var status = 0;
                    string? body = null;
                    try
                    {
                        using var response = await request(api, worker * 1_000_000 + i++);
                        status = (int)response.StatusCode;
                        if (status >= 500)
                        {
                            body = await response.Content.ReadAsStringAsync();
                            Fail($"{status} {response.RequestMessage?.RequestUri?.PathAndQuery}: {body}");
                        }
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                    {
                        if (_stop.IsCancellationRequested) return;
                        Fail(e.Message);
                    }
                    lock (_samples) _samples.Add(new Sample(started, Stopwatch.GetTimestamp(), status, body));
                }
            }));
        }
    }

    public long Succeeded
    {
        get { lock (_samples) return _samples.Count(s => s.Ok); }
    }

    public IReadOnlyList<string> Failures
    {
        get { lock (_failures) return [.. _failures]; }
    }

    /// <summary>Every request so far, in the order they finished.</summary>
    public IReadOnlyList<Sample> Samples
    {
        get { lock (_samples) return [.. _samples]; }
    }

    /// <summary>Latency percentile (0–100) of all requests so far, in milliseconds.</summary>
    public double Percentile(double percentile)
    {
        double[] sorted;
        lock (_samples) sorted = [.. _samples.Select(s => s.Milliseconds).Order()];
        return sorted.Length == 0 ? 0 : sorted[(int)Math.Clamp(Math.Ceiling(percentile / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    /// <summary>How many requests took longer than <paramref name="milliseconds"/>.</summary>
    public int SlowerThan(double milliseconds)
    {
        lock (_samples) return _samples.Count(s => s.Milliseconds > milliseconds);
    }

    /// <summary>Time from <paramref name="timestamp"/> (Stopwatch ticks) to the first request that succeeded after it.</summary>
    public TimeSpan? FirstSuccessAfter(long timestamp)
    {
        lock (_samples)
        {
            var first = _samples.Where(s => s.Ok && s.Finished > timestamp).Select(s => s.Finished).DefaultIfEmpty(0).Min();
            return first == 0 ? null : Stopwatch.GetElapsedTime(timestamp, first);
        }
    }

    /// <summary>Concurrent GETs of one path.</summary>
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

    public static Task RunForAsync(TimeSpan duration) => Task.Delay(duration);

    public async Task StopAsync()
    {
        _stop.Cancel();
        await Task.WhenAll(_workers);
    }

    private void Fail(string failure)
    {
        lock (_failures) _failures.Add(failure);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested) await StopAsync();
        _stop.Dispose();
    }
}
