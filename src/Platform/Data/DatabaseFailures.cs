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

    /// <summary>Nothing committed and trying again may succeed: the connection was refused, lost or terminated before
    /// COMMIT, the server is read-only (25006, the old writer), or the transaction lost a conflict (40001, 40P01).</summary>
    Transient,

    /// <summary>The connection was lost after COMMIT was sent and before its answer: it may or may not have committed.</summary>
    UnknownOutcome,
}

internal readonly record struct Failure(FailureKind Kind, string Reason);

internal static class DatabaseFailures
{
    /// <summary>Classifies a failure by where it happened. An error answer to COMMIT (severity ERROR: the session
    /// lives on) is a known rollback, classified like any other statement's error; a FATAL answer or a lost
    /// connection during COMMIT is an unknown outcome — a backend terminated while waiting for its synchronous standby,
    /// for one, has already committed locally. Before COMMIT, a FATAL answer of any SQLSTATE (57P01, 57P05
    /// idle_session_timeout, 25P03 idle_in_transaction_session_timeout, …) ended the session before anything
    /// committed; only while connecting is a FATAL the server's considered refusal (3D000: no such database), judged
    /// by its SQLSTATE.</summary>
    public static Failure Classify(Exception exception, Phase phase)
    {
        if (Find<PostgresException>(exception) is { } postgres)
        {
            if (!IsFatal(postgres) || phase == Phase.Connect) return FromSqlState(postgres);
            if (phase == Phase.Commit) return new(FailureKind.UnknownOutcome, PlatformMetrics.RetryReasons.Connection);
            return postgres.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected
                ? new(FailureKind.Transient, PlatformMetrics.RetryReasons.Conflict)
                : new(FailureKind.Transient, PlatformMetrics.RetryReasons.Connection);
        }
        if (!IsConnectionFailure(exception)) return new(FailureKind.Deterministic, exception.GetType().Name);
        return phase == Phase.Commit
            ? new(FailureKind.UnknownOutcome, PlatformMetrics.RetryReasons.Connection)
            : new(FailureKind.Transient, PlatformMetrics.RetryReasons.Connection);
    }

    private static Failure FromSqlState(PostgresException postgres) => postgres.SqlState switch
    {
        PostgresErrorCodes.ReadOnlySqlTransaction => new(FailureKind.Transient, PlatformMetrics.RetryReasons.ReadOnly),
        PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected => new(FailureKind.Transient, PlatformMetrics.RetryReasons.Conflict),
        // Connection exceptions (08), operator intervention (57P01 admin shutdown, 57P02 crash, 57P03 cannot connect
        // now), too many connections (53300) and authentication (28P01, 28000: a password being rotated).
        var state when state.StartsWith("08", StringComparison.Ordinal) ||
                       state is "57P01" or "57P02" or "57P03" or "53300" or "28P01" or "28000"
            => new(FailureKind.Transient, PlatformMetrics.RetryReasons.Connection),
        var state => new(FailureKind.Deterministic, state),
    };

    /// <summary>FATAL and PANIC end the session: the server closes the connection after sending them.</summary>
    private static bool IsFatal(PostgresException postgres) => postgres.Severity is "FATAL" or "PANIC";

    /// <summary>The connection could not be opened, or broke while sending or waiting for an answer.</summary>
    private static bool IsConnectionFailure(Exception exception) =>
        Find<NpgsqlException>(exception) is not null || Find<SocketException>(exception) is not null ||
        Find<IOException>(exception) is not null || Find<TimeoutException>(exception) is not null;

    private static T? Find<T>(Exception? exception) where T : Exception
    {
        for (var e = exception; e is not null; e = e.InnerException)
            if (e is T match) return match;
        return null;
    }
}
