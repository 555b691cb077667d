using System.Net.Sockets;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Platform.Data;

namespace Platform.Tests;

/// <summary>The retry decision: only what provably did not run is retried.</summary>
public sealed class DatabaseFailuresTests
{
    public static TheoryData<Exception, bool, string> Cases => new()
    {
        { Postgres("25006"), true, "NotExecuted" },
        { new DbUpdateException("wrapped", Postgres("25006")), true, "NotExecuted" },
        { Postgres("57P03"), false, "NotExecuted" },
        { Postgres("28P01"), false, "NotExecuted" },
        { new NpgsqlException("Failed to connect", new SocketException((int)SocketError.ConnectionRefused)), false, "NotExecuted" },
        { new NpgsqlException("Exception while writing to stream", new IOException("broken pipe")), true, "NotExecuted" },
        { new NpgsqlException("Exception while reading from stream", new EndOfStreamException()), true, "UnknownOutcome" },
        { Postgres("57P01"), true, "UnknownOutcome" },
        { new InvalidOperationException("transient", new NpgsqlException("Exception while reading from stream", new TimeoutException())), true, "UnknownOutcome" },
        { Postgres("23505"), true, "Application" },
        { new DbUpdateConcurrencyException("stale"), true, "Application" },
        { new InvalidOperationException("a bug"), true, "Application" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void OnlyProvablyUnexecutedCommandsAreRetryable(Exception exception, bool connectionOpened, string expected) =>
        Assert.Equal(expected, DatabaseFailures.Classify(exception, connectionOpened).Kind.ToString());

    private static PostgresException Postgres(string sqlState) => new("message", "ERROR", "ERROR", sqlState);
}
