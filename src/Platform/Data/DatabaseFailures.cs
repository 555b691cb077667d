using System.Net.Sockets;
using Npgsql;

namespace Platform.Data;

/// <summary>What a database exception tells about the operation that raised it.</summary>
internal enum FailureKind
{
    /// <summary>Not a connectivity problem (constraint violation, concurrency conflict, bug): let it propagate.</summary>
    Application,

    /// <summary>The command provably did not run: the connection never opened, or the server refused it as read-only.</summary>
    NotExecuted,

    /// <summary>The connection was lost after the command was sent: it may or may not have committed.</summary>
    UnknownOutcome,
}

internal static class DatabaseFailures
{
    /// <summary>SQLSTATE 25006 read_only_sql_transaction: what the old writer answers after an Aurora failover.</summary>
    public const string ReadOnlyTransaction = "25006";

    /// <summary>Npgsql's message when writing a command to the socket fails (as opposed to reading its result).</summary>
    private const string WriteFailure = "Exception while writing to stream";

    /// <param name="exception">What the operation threw (possibly wrapped by EF Core).</param>
    /// <param name="connectionOpened">Whether the physical connection was open before the command was sent.</param>
    public static (FailureKind Kind, string Reason) Classify(Exception exception, bool connectionOpened)
    {
        if (Find<PostgresException>(exception) is { } postgres)
        {
            if (postgres.SqlState == ReadOnlyTransaction) return (FailureKind.NotExecuted, "read_only");
            if (!IsConnectionState(postgres.SqlState)) return (FailureKind.Application, postgres.SqlState);
            return connectionOpened ? (FailureKind.UnknownOutcome, postgres.SqlState) : (FailureKind.NotExecuted, "connect");
        }
        if (Find<NpgsqlException>(exception) is { Message: WriteFailure })
        {
            // Sending failed (typically a pooled connection the server or a failover already closed). The request's
            // last message (Sync, or COMMIT) never left the client, so the server cannot have committed anything.
            return (FailureKind.NotExecuted, "connect");
        }
        if (Find<NpgsqlException>(exception) is not null || Find<TimeoutException>(exception) is not null ||
            Find<SocketException>(exception) is not null || Find<IOException>(exception) is not null ||
            exception is OperationCanceledException)
        {
            return connectionOpened ? (FailureKind.UnknownOutcome, "connection_lost") : (FailureKind.NotExecuted, "connect");
        }
        return (FailureKind.Application, exception.GetType().Name);
    }

    /// <summary>Errors that concern the connection or server availability rather than the statement: connection
    /// exceptions (08), operator intervention (57P01 admin shutdown, 57P02 crash, 57P03 cannot connect now),
    /// too many connections (53300) and authentication (28P01/28000, e.g. a password being rotated).</summary>
    private static bool IsConnectionState(string state) =>
        state.StartsWith("08", StringComparison.Ordinal) || state is "57P01" or "57P02" or "57P03" or "53300" or "28P01" or "28000";

    private static T? Find<T>(Exception? exception) where T : Exception
    {
        for (var e = exception; e is not null; e = e.InnerException)
            if (e is T match) return match;
        return null;
    }
}

/// <summary>The database could not serve the operation. Mapped to 503 with Retry-After by the problem-details
/// handler; <see cref="OutcomeUnknown"/> tells the client a retry may apply the write twice.</summary>
public sealed class DatabaseUnavailableException(string message, Exception inner, bool outcomeUnknown, TimeSpan retryAfter)
    : Exception(message, inner)
{
    public bool OutcomeUnknown { get; } = outcomeUnknown;

    public TimeSpan RetryAfter { get; } = retryAfter;
}
