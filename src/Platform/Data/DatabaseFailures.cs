using System.Net.Sockets;
using Npgsql;

namespace Platform.Data;

/// <summary>Where an operation on the writer was when it failed. Every write runs in an explicit transaction, and
/// PostgreSQL commits nothing without COMMIT: until COMMIT has been sent, a failure of any kind leaves nothing behind.</summary>
internal enum Phase
{
    /// <summary>Opening the connection: nothing was sent.</summary>
    Connect,

    /// <summary>Running the unit's commands (BEGIN goes with the first): nothing can have committed.</summary>
    Work,

    /// <summary>COMMIT was sent: only its answer tells whether the transaction committed.</summary>
    Commit,
}

/// <summary>What a database exception tells about the operation that raised it.</summary>
internal enum FailureKind
{
    /// <summary>A deterministic answer to the statement (constraint violation, bad value, missing grant, bug): running
    /// it again gives the same answer, so it propagates at once.</summary>
    Deterministic,

    /// <summary>Nothing committed and trying again may succeed: the connection was refused, lost, timed out or
    /// terminated before COMMIT, the server is read-only (25006, the old writer), or the transaction lost a conflict
    /// (40001, 40P01).</summary>
    Transient,

    /// <summary>Every pooled connection is busy and none came free within the connect timeout: the pod has more work
    /// than connections. Nothing was sent; retrying would only queue again, so the answer is 503 at once.</summary>
    PoolExhausted,

    /// <summary>The connection was lost after COMMIT was sent and before its answer: it may or may not have committed.</summary>
    UnknownOutcome,
}

/// <param name="Kind">What to do with the operation.</param>
/// <param name="Reason">The <c>db_writer_retries_total</c> reason, or the SQLSTATE / exception type of a deterministic failure.</param>
/// <param name="ClearsPool">The failure says the server behind the pool is gone or can no longer write (socket or I/O
/// errors, 08xxx, 57P0x, 25006): its idle connections are as dead as this one. Timeouts, conflicts and a session that
/// ended on its own (25P03) say nothing about the other connections; clearing on them would reopen every busy
/// connection of an overloaded pod.</param>
internal readonly record struct Failure(FailureKind Kind, string Reason, bool ClearsPool = false);

internal static class DatabaseFailures
{
    /// <summary>Classifies a failure by where it happened. An error answer to COMMIT (severity ERROR: the session
    /// lives on) is a known rollback, classified like any other statement's error; a FATAL answer, a lost connection or
    /// a timeout during COMMIT is an unknown outcome — a backend terminated while waiting for its synchronous standby,
    /// for one, has already committed locally. Before COMMIT, a FATAL answer of any SQLSTATE (57P01, 57P05
    /// idle_session_timeout, 25P03 idle_in_transaction_session_timeout, …) ended the session before anything
    /// committed; only while connecting is a FATAL the server's considered refusal (3D000: no such database), judged
    /// by its SQLSTATE.</summary>
    public static Failure Classify(Exception exception, Phase phase)
    {
        if (Find<PostgresException>(exception) is { } postgres)
        {
            if (!IsFatal(postgres) || phase == Phase.Connect) return FromSqlState(postgres);
            if (phase == Phase.Commit) return new(FailureKind.UnknownOutcome, PlatformMetrics.RetryReasons.Connection, ClearsPool: true);
            return postgres.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected
                ? new(FailureKind.Transient, PlatformMetrics.RetryReasons.Conflict)
                : new(FailureKind.Transient, PlatformMetrics.RetryReasons.Connection, ClearsPool: IsServerGoing(postgres.SqlState));
        }
        if (Find<TimeoutException>(exception) is not null)
        {
            if (IsPoolExhaustion(exception)) return new(FailureKind.PoolExhausted, "pool_exhausted");
            return phase == Phase.Commit
                ? new(FailureKind.UnknownOutcome, PlatformMetrics.RetryReasons.Timeout)
                : new(FailureKind.Transient, PlatformMetrics.RetryReasons.Timeout);
        }
        if (IsConnectionFailure(exception))
        {
            return phase == Phase.Commit
                ? new(FailureKind.UnknownOutcome, PlatformMetrics.RetryReasons.Connection, ClearsPool: true)
                : new(FailureKind.Transient, PlatformMetrics.RetryReasons.Connection, ClearsPool: true);
        }
        return new(FailureKind.Deterministic, exception.GetType().Name);
    }

    /// <summary>Whether the writer answers a read that failed on the reader, and whether the reader is marked down for
    /// it: only when it could not be reached, broke, or did not answer in time (true; the reader's own bound raises a
    /// bare TimeoutException). A read the hot standby cancelled (40001, conflict with recovery) or a busy reader pool
    /// is that read's alone (false): the writer answers it and the reader stays in use. Null for a deterministic
    /// failure (a bug in the query), which the writer would answer the same.</summary>
    public static bool? ReaderFallback(Exception exception)
    {
        if (exception is TimeoutException) return true;
        var failure = Classify(exception, Phase.Work);
        return failure.Kind switch
        {
            FailureKind.Transient => failure.Reason is PlatformMetrics.RetryReasons.Connection or PlatformMetrics.RetryReasons.Timeout,
            FailureKind.PoolExhausted => false,
            _ => null,
        };
    }

    private static Failure FromSqlState(PostgresException postgres) => postgres.SqlState switch
    {
        PostgresErrorCodes.ReadOnlySqlTransaction => new(FailureKind.Transient, PlatformMetrics.RetryReasons.ReadOnly, ClearsPool: true),
        PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected => new(FailureKind.Transient, PlatformMetrics.RetryReasons.Conflict),
        // Connection exceptions (08), operator intervention (57P01 admin shutdown, 57P02 crash, 57P03 cannot connect
        // now), too many connections (53300) and authentication (28P01, 28000: a password being rotated, which the
        // secrets file catches up with within the budget).
        var state when IsServerGoing(state) => new(FailureKind.Transient, PlatformMetrics.RetryReasons.Connection, ClearsPool: true),
        "53300" or "28P01" or "28000" => new(FailureKind.Transient, PlatformMetrics.RetryReasons.Connection),
        var state => new(FailureKind.Deterministic, state),
    };

    /// <summary>Connection exceptions (08xxx) and operator intervention (57P0x: shutdown, crash, cannot connect now,
    /// database dropped, idle-session timeout).</summary>
    private static bool IsServerGoing(string sqlState) =>
        sqlState.StartsWith("08", StringComparison.Ordinal) || sqlState.StartsWith("57P0", StringComparison.Ordinal);

    /// <summary>Npgsql's pool-exhaustion error is an NpgsqlException wrapping a TimeoutException like every other
    /// timeout (npgsql#3461) and carries no code to tell it apart (npgsql#4544): its message is the only mark.</summary>
    private static bool IsPoolExhaustion(Exception exception) =>
        Find<NpgsqlException>(exception) is { } npgsql && npgsql.Message.StartsWith("The connection pool has been exhausted", StringComparison.Ordinal);

    /// <summary>FATAL and PANIC end the session: the server closes the connection after sending them.</summary>
    private static bool IsFatal(PostgresException postgres) => postgres.Severity is "FATAL" or "PANIC";

    /// <summary>The connection could not be opened, or broke while sending or waiting for an answer.</summary>
    private static bool IsConnectionFailure(Exception exception) =>
        Find<NpgsqlException>(exception) is not null || Find<SocketException>(exception) is not null ||
        Find<IOException>(exception) is not null;

    private static T? Find<T>(Exception? exception) where T : Exception
    {
        for (var e = exception; e is not null; e = e.InnerException)
            if (e is T match) return match;
        return null;
    }
}
