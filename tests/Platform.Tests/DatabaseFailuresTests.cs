using System.Net.Sockets;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Platform.Data;

namespace Platform.Tests;

/// <summary>The retry decision depends on where the failure happened: every write is one explicit transaction, so
/// nothing sent before COMMIT can have committed; only a connection lost while COMMIT awaits its answer is in doubt.</summary>
public sealed class DatabaseFailuresTests
{
    public static TheoryData<Exception, string, string, string, bool> Cases => new()
    {
        // Never reached the server, or reached one that cannot write now: retry. A server going away or read-only
        // clears the pool (its idle connections are as dead); a refusal of this one connection does not.
        { new NpgsqlException("Failed to connect", new SocketException((int)SocketError.ConnectionRefused)), "Connect", "Transient", "connection", true },
        { Postgres("57P03", "FATAL"), "Connect", "Transient", "connection", true },
        { Postgres("28P01", "FATAL"), "Connect", "Transient", "connection", false },
        { Postgres("53300", "FATAL"), "Connect", "Transient", "connection", false },
        // While connecting, a FATAL is the server's considered answer: no such database is a configuration error.
        { Postgres("3D000", "FATAL"), "Connect", "Deterministic", "3D000", false },
        // An idle pooled connection the dead primary had already terminated, or a socket to it: before COMMIT.
        { Postgres("57P01", "FATAL"), "Work", "Transient", "connection", true },
        { new NpgsqlException("Exception while writing to stream", new IOException("broken pipe")), "Work", "Transient", "connection", true },
        { new NpgsqlException("Exception while reading from stream", new EndOfStreamException()), "Work", "Transient", "connection", true },
        // Any FATAL before COMMIT ended the session before anything committed, whatever its SQLSTATE: idle-session
        // timeout and a dropped database (57P0x: the server's doing, the pool's other connections go the same way),
        // idle-in-transaction timeout (this session only), a standby's conflict with recovery.
        { Postgres("57P05", "FATAL"), "Work", "Transient", "connection", true },
        { Postgres("57P04", "FATAL"), "Work", "Transient", "connection", true },
        { Postgres("25P03", "FATAL"), "Work", "Transient", "connection", false },
        { Postgres("40001", "FATAL"), "Work", "Transient", "conflict", false },
        { Postgres("25006"), "Work", "Transient", "read_only", true },
        { new DbUpdateException("wrapped", Postgres("25006")), "Work", "Transient", "read_only", true },
        { Postgres("40001"), "Work", "Transient", "conflict", false },
        { Postgres("40P01"), "Work", "Transient", "conflict", false },
        // Timeouts (Npgsql wraps a TimeoutException in an NpgsqlException, npgsql#3461): a slow server is not a dead
        // one, so the pool stays; before COMMIT they are retried within the budget.
        { new NpgsqlException("Failed to connect to 127.0.0.1:5432", new TimeoutException("Timeout during connection attempt")), "Connect", "Transient", "timeout", false },
        { new InvalidOperationException("transient", new NpgsqlException("Exception while reading from stream", new TimeoutException())), "Work", "Transient", "timeout", false },
        // Every pooled connection busy: answered at once, never retried, the pool left alone.
        { PoolExhausted(), "Connect", "PoolExhausted", "pool_exhausted", false },
        { new InvalidOperationException("wrapped", PoolExhausted()), "Work", "PoolExhausted", "pool_exhausted", false },
        // The statement's own answer: the same again on a retry.
        { Postgres("23505"), "Work", "Deterministic", "23505", false },
        { new DbUpdateException("wrapped", Postgres("23503")), "Work", "Deterministic", "23503", false },
        { Postgres("22001"), "Work", "Deterministic", "22001", false },
        { Postgres("42501"), "Work", "Deterministic", "42501", false },
        { new DbUpdateConcurrencyException("stale"), "Work", "Deterministic", "DbUpdateConcurrencyException", false },
        { new InvalidOperationException("a bug"), "Work", "Deterministic", "InvalidOperationException", false },
        // COMMIT sent: an ERROR answer is a known rollback; a lost connection, a FATAL answer or no answer in time
        // leaves it in doubt (a backend terminated while waiting for its synchronous standby has committed locally).
        { Postgres("40001"), "Commit", "Transient", "conflict", false },
        { Postgres("23505"), "Commit", "Deterministic", "23505", false },
        { Postgres("57P01", "FATAL"), "Commit", "UnknownOutcome", "connection", true },
        { new NpgsqlException("Exception while reading from stream", new EndOfStreamException()), "Commit", "UnknownOutcome", "connection", true },
        { new NpgsqlException("Exception while writing to stream", new IOException("broken pipe")), "Commit", "UnknownOutcome", "connection", true },
        { new NpgsqlException("Exception while reading from stream", new TimeoutException()), "Commit", "UnknownOutcome", "timeout", false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void OnlyWhatCannotHaveCommittedIsRetriedAndOnlyALostCommitIsInDoubt(Exception exception, string phase, string kind, string reason, bool clearsPool)
    {
        var failure = DatabaseFailures.Classify(exception, Enum.Parse<Phase>(phase));
        Assert.Equal((kind, reason, clearsPool), (failure.Kind.ToString(), failure.Reason, failure.ClearsPool));
    }

    public static TheoryData<Exception, bool?> ReaderCases => new()
    {
        // Unreachable, broken or stalled (the read's own bound raises a bare TimeoutException): marked down.
        { new TimeoutException(), true },
        { new NpgsqlException("Failed to connect", new SocketException((int)SocketError.ConnectionRefused)), true },
        { Postgres("57P03", "FATAL"), true },
        { new NpgsqlException("Exception while reading from stream", new TimeoutException()), true },
        // The hot standby cancelled this query (conflict with recovery), or this pod's reader pool is busy: the writer
        // answers this read, the reader stays in use.
        { Postgres("40001"), false },
        { Postgres("40001", "FATAL"), false },
        { PoolExhausted(), false },
        // A bug in the query: the writer would answer the same.
        { Postgres("42P01"), null },
        { new InvalidOperationException("a bug"), null },
    };

    [Theory]
    [MemberData(nameof(ReaderCases))]
    public void OnlyAnUnreachableOrStalledReaderIsMarkedDown(Exception exception, bool? marksDown)
    {
        Assert.Equal(marksDown, DatabaseFailures.ReaderFallback(exception));
    }

    /// <summary>What Npgsql's pool throws when no connection comes free within the connect timeout (PoolingDataSource).</summary>
    private static NpgsqlException PoolExhausted() => new(
        "The connection pool has been exhausted, either raise 'Max Pool Size' (currently 1) or 'Timeout' (currently 1 seconds) in your connection string.",
        new TimeoutException());

    private static PostgresException Postgres(string sqlState, string severity = "ERROR") => new("message", severity, severity, sqlState);
}
