using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace Platform.Data;

/// <summary>Whether reads should try the reader. The first read that finds the reader unreachable or stalled marks it
/// down (at once: waiting for a failure ratio would cost several reads a timeout each on a stalled reader); from then
/// on reads go straight to the writer, with no per-request timeout, while a background probe (Polly retry, every
/// Database:ReaderProbeInterval) waits for the reader to answer and marks it up. No user read is ever the probe.
/// Transitions are logged once each, not per request.</summary>
internal sealed class ReaderAvailability : IDisposable
{
    private readonly DataSources _dataSources;
    private readonly IOptionsMonitor<DatabaseOptions> _options;
    private readonly ILogger<ReaderAvailability> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ResiliencePipeline _probe;
    private int _markedDown;

    public ReaderAvailability(DataSources dataSources, IOptionsMonitor<DatabaseOptions> options, ILogger<ReaderAvailability> logger)
    {
        _dataSources = dataSources;
        _options = options;
        _logger = logger;
        _probe = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(e => e is not OperationCanceledException || !_stopping.IsCancellationRequested),
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Constant,
                DelayGenerator = _ => ValueTask.FromResult<TimeSpan?>(_options.CurrentValue.ReaderProbeInterval),
            })
            .Build();
    }

    public bool IsUp => Volatile.Read(ref _markedDown) == 0;

    /// <summary>Marks the reader down after a failed read; the first transition starts the probe.</summary>
    public void MarkDown(Exception reason)
    {
        if (Interlocked.Exchange(ref _markedDown, 1) == 1) return;
        _ = MarkDownUntilItAnswersAsync(reason);
    }

    private async Task MarkDownUntilItAnswersAsync(Exception reason)
    {
        _logger.LogWarning("Reader endpoint unavailable ({Reason}); reads fall back to the writer until it answers again",
            reason.GetBaseException().Message);
        // Connections to a stalled reader would each wait out the timeout again; drop them.
        _dataSources.Reader.Clear();
        try
        {
            await Task.Delay(_options.CurrentValue.ReaderProbeInterval, _stopping.Token);
            await _probe.ExecuteAsync(ct => new ValueTask(PingAsync(_dataSources.Reader, _options.CurrentValue.ReaderTimeout, ct)), _stopping.Token);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            return;
        }
        Volatile.Write(ref _markedDown, 0);
        _logger.LogInformation("Reader endpoint answers again; reads return to it");
    }

    /// <summary>Opens a connection and runs <c>SELECT 1</c> within <paramref name="timeout"/>. The attempt itself gets
    /// no token: cancelling a command makes Npgsql send a cancel request synchronously, which blocks a thread while
    /// a stalled server does not answer. A stalled attempt is abandoned and finishes (or fails) on its own.</summary>
    internal static async Task PingAsync(Npgsql.NpgsqlDataSource dataSource, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var attempt = Ping();
        try
        {
            await attempt.WaitAsync(timeout, cancellationToken);
        }
        finally
        {
            if (!attempt.IsCompleted) _ = attempt.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        async Task Ping()
        {
            await using var connection = await dataSource.OpenConnectionAsync(CancellationToken.None);
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT 1";
            await command.ExecuteScalarAsync(CancellationToken.None);
        }
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _stopping.Dispose();
    }
}
