using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Platform.Data;

/// <summary>Whether reads should try the reader. The first read that finds the reader unreachable or stalled marks
/// it down; from then on reads go straight to the writer (no per-request timeout) while a background probe waits
/// for the reader to answer again. Transitions are logged once each, not per request.</summary>
public sealed class ReaderAvailability : IDisposable
{
    private readonly DataSources _dataSources;
    private readonly IOptionsMonitor<DatabaseOptions> _options;
    private readonly ILogger<ReaderAvailability> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private int _down;

    public ReaderAvailability(DataSources dataSources, IOptionsMonitor<DatabaseOptions> options, ILogger<ReaderAvailability> logger)
    {
        _dataSources = dataSources;
        _options = options;
        _logger = logger;
    }

    public bool IsUp => Volatile.Read(ref _down) == 0;

    /// <summary>Marks the reader down after a failed read; starts the probe on the first transition only.</summary>
    public void MarkDown(Exception reason)
    {
        if (Interlocked.Exchange(ref _down, 1) == 1) return;
        _logger.LogWarning("Reader endpoint unavailable ({Reason}); reads fall back to the writer until it answers again",
            reason.GetBaseException().Message);
        // Connections to a stalled reader would each wait out the timeout again; drop them.
        _dataSources.Reader.Clear();
        _ = Task.Run(ProbeUntilUpAsync);
    }

    private async Task ProbeUntilUpAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.CurrentValue.ReaderProbeInterval, _stopping.Token);
                await PingAsync(_dataSources.Reader, _options.CurrentValue.ReaderTimeout, _stopping.Token);
                Volatile.Write(ref _down, 0);
                _logger.LogInformation("Reader endpoint answers again; reads return to it");
                return;
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Still down: the next probe follows after the interval. Nothing is logged per probe.
            }
        }
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
