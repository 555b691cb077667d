using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Platform.Data;

/// <summary>The one way services reach their database; it knows nothing of HTTP. Reads name the endpoint they need
/// (<see cref="ReadFrom"/>): the reader (the writer answers while the reader is unavailable) or the writer (a client
/// that must see its own write, a read that decides a write). Writes run on the writer in one transaction each and are
/// retried exactly when they did not commit. Each attempt uses a fresh pooled context, so a retry never sees a
/// half-applied change tracker.</summary>
public sealed class Database<TContext> where TContext : DbContext
{
    private readonly IDbContextFactory<TContext> _writer;
    private readonly IDbContextFactory<TContext> _reader;
    private readonly DataSources _dataSources;
    private readonly ReaderAvailability _readerAvailability;
    private readonly WriterRetry _retry;
    private readonly IOptionsMonitor<DatabaseOptions> _options;
    private readonly Prometheus.Counter.Child _readsOnReader;
    private readonly Prometheus.Counter.Child _readsOnWriter;
    private readonly Prometheus.Counter.Child _fallbacksMarkedDown;
    private readonly Prometheus.Counter.Child _fallbacksUnavailable;
    private readonly Prometheus.Counter.Child _fallbacksReadFailed;
    private readonly Prometheus.Histogram.Child _readerCommands;
    private readonly Prometheus.Histogram.Child _writerCommands;

    internal Database(DbContextFactories<TContext> factories, DataSources dataSources, ReaderAvailability readerAvailability,
        WriterRetry retry, IOptionsMonitor<DatabaseOptions> options, PlatformMetrics metrics)
    {
        _writer = factories.Writer;
        _reader = factories.Reader;
        _dataSources = dataSources;
        _readerAvailability = readerAvailability;
        _retry = retry;
        _options = options;
        // Resolved once: a label lookup per read is measurable at thousands of reads a second.
        _readsOnReader = metrics.DbReads.WithLabels(DbRole.Reader);
        _readsOnWriter = metrics.DbReads.WithLabels(DbRole.Writer);
        _fallbacksMarkedDown = metrics.DbReaderFallbacks.WithLabels(PlatformMetrics.FallbackReasons.MarkedDown);
        _fallbacksUnavailable = metrics.DbReaderFallbacks.WithLabels(PlatformMetrics.FallbackReasons.Unavailable);
        _fallbacksReadFailed = metrics.DbReaderFallbacks.WithLabels(PlatformMetrics.FallbackReasons.ReadFailed);
        _readerCommands = metrics.DbCommandDuration.WithLabels(DbRole.Reader);
        _writerCommands = metrics.DbCommandDuration.WithLabels(DbRole.Writer);
    }

    /// <summary>Runs an EF Core query (no tracking on the reader) on the endpoint <paramref name="from"/> names, with
    /// the routing of <see cref="QueryAsync{T}"/>.</summary>
    public Task<T> ReadAsync<T>(ReadFrom from, Func<TContext, CancellationToken, Task<T>> query, CancellationToken cancellationToken) =>
        RouteAsync(from, static (self, role, _) => (role == DbRole.Reader ? self._reader : self._writer).CreateDbContextAsync(CancellationToken.None),
            query, timed: false, cancellationToken);

    /// <summary>Runs a query on an open connection of the endpoint <paramref name="from"/> names: the hot reads, which
    /// need no change tracking, model or query pipeline (Dapper or plain Npgsql over the connection). A read on the
    /// reader that finds it unreachable or stalled is answered by the writer; reads on the writer are retried like
    /// writes, since a query that failed changed nothing. The query's time counts as one SQL command of its endpoint
    /// in db_command_duration_seconds: run one command per call.</summary>
    public Task<T> QueryAsync<T>(ReadFrom from, Func<NpgsqlConnection, CancellationToken, Task<T>> query, CancellationToken cancellationToken) =>
        RouteAsync(from, static async (self, role, ct) => await self._dataSources.For(role).OpenConnectionAsync(ct),
            query, timed: true, cancellationToken);

    private async Task<T> RouteAsync<TSession, T>(ReadFrom from, Func<Database<TContext>, string, CancellationToken, Task<TSession>> open,
        Func<TSession, CancellationToken, Task<T>> query, bool timed, CancellationToken cancellationToken) where TSession : IAsyncDisposable
    {
        if (from == ReadFrom.Writer || !_dataSources.HasSeparateReader) return await ReadFromWriterAsync(open, query, timed, cancellationToken);
        if (!_readerAvailability.IsUp)
        {
            _fallbacksMarkedDown.Inc();
            return await ReadFromWriterAsync(open, query, timed, cancellationToken);
        }

        // The attempt gets no token and the reader has no command timeout: when Npgsql cancels a command it sends a
        // cancel request over a second connection synchronously, and on a stalled server that blocks a thread-pool
        // thread per request (measured: p99 4 s for every read of the pod). The bound is enforced here instead and a
        // stalled attempt is abandoned; its connection comes back when the server answers or TCP keepalive gives up
        // (connecting itself is bounded by the reader's connect timeout).
        var attempt = RunAsync(this, DbRole.Reader, open, query, timed ? _readerCommands : null, CancellationToken.None);
        try
        {
            var result = await attempt.WaitAsync(_options.CurrentValue.ReaderTimeout, cancellationToken);
            _readsOnReader.Inc();
            return result;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && DatabaseFailures.ReaderFallback(e) is { } markDown)
        {
            if (markDown) _readerAvailability.MarkDown(e);
            (markDown ? _fallbacksUnavailable : _fallbacksReadFailed).Inc();
            Activity.Current?.AddEvent(new ActivityEvent(markDown ? "reader unavailable: falling back to the writer" : "read failed on the reader: answered by the writer"));
            return await ReadFromWriterAsync(open, query, timed, cancellationToken);
        }
        finally
        {
            // An abandoned attempt still owns its session until Npgsql gives up on the stalled connection; it closes it
            // itself, and its failure is observed here.
            if (!attempt.IsCompleted) _ = attempt.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    /// <summary>One attempt: opens a session on <paramref name="role"/>, runs the query, closes the session.</summary>
    private static async Task<T> RunAsync<TSession, T>(Database<TContext> self, string role, Func<Database<TContext>, string, CancellationToken, Task<TSession>> open,
        Func<TSession, CancellationToken, Task<T>> query, Prometheus.Histogram.Child? commands, CancellationToken cancellationToken) where TSession : IAsyncDisposable
    {
        await using var session = await open(self, role, cancellationToken);
        var started = Stopwatch.GetTimestamp();
        var result = await query(session, cancellationToken);
        commands?.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        return result;
    }

    /// <summary>Runs a unit of work in one transaction on the writer. Until COMMIT is sent nothing has committed, so a
    /// transient failure before it (connection refused, lost or terminated, read-only server, serialization conflict)
    /// is retried within Database:WriterRetryBudget; a deterministic one (constraint, bad value) propagates at once.
    /// Only a connection lost after COMMIT was sent leaves the outcome unknown: that is answered 503 with
    /// <c>outcomeUnknown</c> and never replayed. COMMIT itself gets no cancellation token: a client hanging up must not
    /// turn a write into an unknown outcome. EF Core's automatic savepoints are off: the unit is all or nothing, and a
    /// failed attempt is rolled back and run again as a whole. A unit must therefore let database exceptions through:
    /// once a statement has failed, PostgreSQL aborts the transaction, and without a savepoint to return to it turns
    /// the COMMIT into a ROLLBACK without an error, so a unit that caught one would answer success for nothing.</summary>
    public Task<T> WriteAsync<T>(Func<TContext, CancellationToken, Task<T>> work, CancellationToken cancellationToken) =>
        _retry.ExecuteAsync(static async (state, ct) =>
        {
            var (self, unit) = state;
            var phase = Phase.Connect;
            try
            {
                await using var db = await self._writer.CreateDbContextAsync(ct);
                await db.Database.OpenConnectionAsync(ct);
                phase = Phase.Work;
                db.Database.AutoSavepointsEnabled = false;
                await using var transaction = await db.Database.BeginTransactionAsync(ct);
                var result = await unit(db, ct);
                phase = Phase.Commit;
                await transaction.CommitAsync(CancellationToken.None);
                return result;
            }
            catch (Exception e) when ((phase == Phase.Commit || !ct.IsCancellationRequested) && WriterRetry.Wrap(e, phase) is { } failure)
            {
                throw failure;
            }
        }, (this, work), cancellationToken);

    /// <summary>Runs a write on an open connection of the writer, in one transaction with the semantics of
    /// <see cref="WriteAsync{T}"/> (retried exactly when nothing committed, COMMIT without the request's token, an
    /// unknown outcome never replayed): the hot writes, which need no change tracker (Dapper or plain Npgsql; commands
    /// on the connection run in its transaction). EF Core's SaveChanges pipeline cost 60 % of a create's CPU. The
    /// statement's time counts as one writer command in db_command_duration_seconds: run one command per call.</summary>
    public Task<T> ExecuteAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> command, CancellationToken cancellationToken) =>
        _retry.ExecuteAsync(static async (state, ct) =>
        {
            var (self, unit) = state;
            var phase = Phase.Connect;
            try
            {
                await using var connection = await self._dataSources.Writer.OpenConnectionAsync(ct);
                phase = Phase.Work;
                // Npgsql sends BEGIN with the first command: no round trip of its own.
                await using var transaction = await connection.BeginTransactionAsync(ct);
                var started = Stopwatch.GetTimestamp();
                var result = await unit(connection, ct);
                self._writerCommands.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
                phase = Phase.Commit;
                await transaction.CommitAsync(CancellationToken.None);
                return result;
            }
            catch (Exception e) when ((phase == Phase.Commit || !ct.IsCancellationRequested) && WriterRetry.Wrap(e, phase) is { } failure)
            {
                throw failure;
            }
        }, (this, command), cancellationToken);

    private async Task<T> ReadFromWriterAsync<TSession, T>(Func<Database<TContext>, string, CancellationToken, Task<TSession>> open,
        Func<TSession, CancellationToken, Task<T>> query, bool timed, CancellationToken cancellationToken) where TSession : IAsyncDisposable
    {
        var result = await _retry.ExecuteAsync(static async (state, ct) =>
        {
            var (self, open, read, commands) = state;
            try
            {
                return await RunAsync(self, DbRole.Writer, open, read, commands, ct);
            }
            // A query commits nothing: wherever it failed, running it again is safe.
            catch (Exception e) when (!ct.IsCancellationRequested && WriterRetry.Wrap(e, Phase.Work) is { } failure)
            {
                throw failure;
            }
        }, (this, open, query, timed ? _writerCommands : null), cancellationToken);
        _readsOnWriter.Inc();
        return result;
    }

    /// <summary>Runs work on the writer outside a transaction of this class's (migrations manage their own): only a
    /// connection that could not be opened is retried.</summary>
    internal Task<T> OnWriterAsync<T>(Func<TContext, CancellationToken, Task<T>> work, CancellationToken cancellationToken) =>
        _retry.ExecuteAsync(static async (state, ct) =>
        {
            var (self, unit) = state;
            await using var db = await self._writer.CreateDbContextAsync(ct);
            try
            {
                await db.Database.OpenConnectionAsync(ct);
            }
            catch (Exception e) when (!ct.IsCancellationRequested && WriterRetry.Wrap(e, Phase.Connect) is { } failure)
            {
                throw failure;
            }
            return await unit(db, ct);
        }, (this, work), cancellationToken);
}

/// <summary>Pooled context factories, one per endpoint, for one context type.</summary>
internal sealed class DbContextFactories<TContext>(IDbContextFactory<TContext> writer, IDbContextFactory<TContext> reader)
    where TContext : DbContext
{
    public IDbContextFactory<TContext> Writer { get; } = writer;

    public IDbContextFactory<TContext> Reader { get; } = reader;
}
