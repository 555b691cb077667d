using System.Net.Sockets;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Platform.Data;

namespace Platform.Tests;

/// <summary>The retry decision depends on where the failure happened: every write is one explicit transaction, so
/// nothing sent before COMMIT can have committed; only a connection lost while COMMIT awaits its answer is in doubt.</summary>
public sealed class DatabaseFailuresTests
{
    public static TheoryData<Exception, string, string, string> Cases => new()
    {
        // Never reached the server, or reached one that cannot write now: retry.
        { new NpgsqlException("Failed to connect", new SocketException((int)SocketError.ConnectionRefused)), "Connect", "Transient", "connection" },
        { Postgres("57P03", "FATAL"), "Connect", "Transient", "connection" },
        { Postgres("28P01", "FATAL"), "Connect", "Transient", "connection" },
        { Postgres("53300", "FATAL"), "Connect", "Transient", "connection" },
        // While connecting, a FATAL is the server's considered answer: no such database is a configuration error.
        { Postgres("3D000", "FATAL"), "Connect", "Deterministic", "3D000" },
        // An idle pooled connection the dead primary had already terminated, or a socket to it: before COMMIT.
        { Postgres("57P01", "FATAL"), "Work", "Transient", "connection" },
        { new NpgsqlException("Exception while writing to stream", new IOException("broken pipe")), "Work", "Transient", "connection" },
        { new NpgsqlException("Exception while reading from stream", new EndOfStreamException()), "Work", "Transient", "connection" },
        { new InvalidOperationException("transient", new NpgsqlException("Exception while reading from stream", new TimeoutException())), "Work", "Transient", "connection" },
        // Any FATAL before COMMIT ended the session before anything committed, whatever its SQLSTATE: idle-session
        // timeout, a dropped database, idle-in-transaction timeout, a standby's conflict with recovery.
        { Postgres("57P05", "FATAL"), "Work", "Transient", "connection" },
        { Postgres("57P04", "FATAL"), "Work", "Transient", "connection" },
        { Postgres("25P03", "FATAL"), "Work", "Transient", "connection" },
        { Postgres("40001", "FATAL"), "Work", "Transient", "conflict" },
        { Postgres("25006"), "Work", "Transient", "read_only" },
        { new DbUpdateException("wrapped", Postgres("25006")), "Work", "Transient", "read_only" },
        { Postgres("40001"), "Work", "Transient", "conflict" },
        { Postgres("40P01"), "Work", "Transient", "conflict" },
        // The statement's own answer: the same again on a retry.
        { Postgres("23505"), "Work", "Deterministic", "23505" },
        { new DbUpdateException("wrapped", Postgres("23503")), "Work", "Deterministic", "23503" },
        { Postgres("22001"), "Work", "Deterministic", "22001" },
        { Postgres("42501"), "Work", "Deterministic", "42501" },
        { new DbUpdateConcurrencyException("stale"), "Work", "Deterministic", "DbUpdateConcurrencyException" },
        { new InvalidOperationException("a bug"), "Work", "Deterministic", "InvalidOperationException" },
        // COMMIT sent: an ERROR answer is a known rollback; a lost connection or a FATAL answer leaves it in doubt
        // (a backend terminated while waiting for its synchronous standby has committed locally).
        { Postgres("40001"), "Commit", "Transient", "conflict" },
        { Postgres("23505"), "Commit", "Deterministic", "23505" },
        { Postgres("57P01", "FATAL"), "Commit", "UnknownOutcome", "connection" },
        { new NpgsqlException("Exception while reading from stream", new EndOfStreamException()), "Commit", "UnknownOutcome", "connection" },
        { new NpgsqlException("Exception while writing to stream", new IOException("broken pipe")), "Commit", "UnknownOutcome", "connection" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void OnlyWhatCannotHaveCommittedIsRetriedAndOnlyALostCommitIsInDoubt(Exception exception, string phase, string kind, string reason)
    {
        var failure = DatabaseFailures.Classify(exception, Enum.Parse<Phase>(phase));
        Assert.Equal((kind, reason), (failure.Kind.ToString(), failure.Reason));
    }

    private static PostgresException Postgres(string sqlState, string severity = "ERROR") => new("message", severity, severity, sqlState);
}
