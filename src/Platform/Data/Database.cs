using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Platform.Data;

/// <summary>The one way services reach their database. Reads go to the reader unless the request is pinned by a
/// read-your-writes token or the reader is down; writes go to the writer and are retried only when they provably
/// did not run. Each attempt uses a fresh pooled context, so a retry never sees a half-applied change tracker.</summary>
public sealed class Database<TContext> where TContext : DbContext
{
    private readonly IDbContextFactory<TContext> _writer;
    private readonly IDbContextFactory<TContext> _reader;
    private readonly DataSources _dataSources;
    private readonly ReaderAvailability _readerAvailability;
    private readonly IHttpContextAccessor _http;
    private readonly IOptionsMonitor<DatabaseOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<Database<TContext>> _logger;

    internal Database(DbContextFactories<TContext> factories, DataSources dataSources, ReaderAvailability readerAvailability,
        IHttpContextAccessor http, IOptionsMonitor<DatabaseOptions> options, TimeProvider time, ILogger<Database<TContext>> logger)
    {
        _writer = factories.Writer;
        _reader = factories.Reader;
        _dataSources = dataSources;
        _readerAvailability = readerAvailability;
        _http = http;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>Runs a query (no tracking) on the reader, or on the writer when the request is pinned or the reader
    /// is unavailable. Queries are idempotent, so a failed attempt is simply run again on the writer.</summary>
    public async Task<T> ReadAsync<T>(Func<TContext, CancellationToken, Task<T>> query, CancellationToken cancellationToken)
    {
        if (_http.HttpContext.IsPinned())
        {
            PlatformMetrics.DbReadYourWritesPins.Inc();
            return await OnWriterAsync(query, idempotent: true, cancellationToken);
        }
        if (!_dataSources.HasSeparateReader)
        {
            return await OnWriterAsync(query, idempotent: true, cancellationToken);
        }
        if (!_readerAvailability.IsUp)
        {
            PlatformMetrics.DbReaderFallbacks.WithLabels("marked_down").Inc();
            return await OnWriterAsync(query, idempotent: true, cancellationToken);
        }

        var db = await _reader.CreateDbContextAsync(cancellationToken);
        // The attempt gets no token and the reader has no command timeout: when Npgsql cancels a command it sends a
        // cancel request over a second connection synchronously, and on a stalled server that blocks a thread-pool
        // thread per request (measured: p99 4 s for every read of the pod). The bound is enforced here instead and a
        // stalled attempt is abandoned; its connection comes back when the server answers or TCP keepalive gives up.
        var attempt = query(db, CancellationToken.None);
        try
        {
            var result = await attempt.WaitAsync(_options.CurrentValue.ReaderTimeout, cancellationToken);
            PlatformMetrics.DbReads.WithLabels(DbRole.Reader).Inc();
            return result;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested &&
                                  (e is TimeoutException || DatabaseFailures.Classify(e, connectionOpened: true).Kind != FailureKind.Application))
        {
            _readerAvailability.MarkDown(e);
            PlatformMetrics.DbReaderFallbacks.WithLabels("unavailable").Inc();
            Activity.Current?.AddEvent(new ActivityEvent("reader unavailable: falling back to the writer"));
            return await OnWriterAsync(query, idempotent: true, cancellationToken);
        }
        finally
        {
            // An abandoned attempt still owns its context until Npgsql gives up on the stalled connection.
            if (attempt.IsCompleted) await db.DisposeAsync();
            else _ = attempt.ContinueWith(t => { _ = t.Exception; db.Dispose(); }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    /// <summary>Runs a unit of work on the writer and issues a read-your-writes token on the response.</summary>
    public async Task<T> WriteAsync<T>(Func<TContext, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        var result = await OnWriterAsync(work, idempotent: false, cancellationToken);
        if (_http.HttpContext is { } context) ReadYourWrites.IssueToken(context, _time);
        return result;
    }

    /// <summary>Runs work on the writer, outside any request (migrations, start-up checks): same retry rules.</summary>
    internal Task<T> OnWriterAsync<T>(Func<TContext, CancellationToken, Task<T>> work, bool idempotent, CancellationToken cancellationToken) =>
        WithWriterRetryAsync(work, idempotent, cancellationToken);

    private async Task<T> WithWriterRetryAsync<T>(Func<TContext, CancellationToken, Task<T>> work, bool idempotent, CancellationToken cancellationToken)
    {
        var options = _options.CurrentValue;
        var started = _time.GetTimestamp();
        var delay = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            var opened = false;
            try
            {
                await using var db = await _writer.CreateDbContextAsync(cancellationToken);
                // Opening explicitly separates "never reached the server" from "lost after sending".
                await db.Database.OpenConnectionAsync(cancellationToken);
                opened = true;
                var result = await work(db, cancellationToken);
                if (idempotent) PlatformMetrics.DbReads.WithLabels(DbRole.Writer).Inc();
                return result;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                var (kind, reason) = DatabaseFailures.Classify(e, opened);
                if (kind == FailureKind.Application) throw;
                if (kind == FailureKind.UnknownOutcome)
                {
                    // Other pooled connections to the same server are most likely dead as well.
                    _dataSources.Writer.Clear();
                }
                if (kind == FailureKind.UnknownOutcome && !idempotent)
                {
                    PlatformMetrics.DbWriteUnknownOutcomes.Inc();
                    _logger.LogError(e, "Connection to the writer lost after the write was sent ({Reason}); its outcome is unknown and it is not retried", reason);
                    throw new DatabaseUnavailableException(
                        "The connection to the database was lost while the write was in progress; it may or may not have been applied.",
                        e, outcomeUnknown: true, retryAfter: TimeSpan.FromSeconds(1));
                }

                var elapsed = _time.GetElapsedTime(started);
                if (elapsed + delay > options.WriterRetryBudget)
                {
                    _logger.LogError(e, "Writer unavailable after retrying for {Elapsed} ({Reason})", elapsed, reason);
                    throw new DatabaseUnavailableException("The database is not accepting writes right now.", e,
                        outcomeUnknown: false, retryAfter: TimeSpan.FromSeconds(5));
                }
                // The old writer after a failover answers 25006 on every pooled connection; a refused or dropped one
                // means the server behind the endpoint went away, and its other idle connections are dead too. Either
                // way the pool's connections are worthless: new ones resolve the cluster endpoint's DNS again.
                _dataSources.Writer.Clear();
                PlatformMetrics.DbWriterRetries.WithLabels(reason == "read_only" ? "read_only" : "connect").Inc();
                Activity.Current?.AddEvent(new ActivityEvent($"writer retry ({reason})"));
                _logger.LogDebug("Writer operation did not run ({Reason}); retrying in {Delay} ms", reason, delay.TotalMilliseconds);
                await Task.Delay(delay, _time, cancellationToken);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 1000));
            }
        }
    }
}

/// <summary>Pooled context factories, one per endpoint, for one context type.</summary>
internal sealed class DbContextFactories<TContext>(IDbContextFactory<TContext> writer, IDbContextFactory<TContext> reader)
    where TContext : DbContext
{
    public IDbContextFactory<TContext> Writer { get; } = writer;

    public IDbContextFactory<TContext> Reader { get; } = reader;
}
