using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Platform.Data;

/// <summary>The database roles a query can be served by.</summary>
public static class DbRole
{
    public const string Writer = "writer";
    public const string Reader = "reader";
}

/// <summary>One Npgsql data source (connection pool) per Aurora endpoint. Credentials are not part of the connection
/// string: the password is read from configuration each time a physical connection opens, so a rotated password
/// applies to new connections at once; on rotation both pools are cleared so no connection opened with the old
/// password stays in use.</summary>
public sealed class DataSources : IDisposable
{
    /// <summary>Tag on every database span naming the endpoint that served it.</summary>
    public const string DbRoleTag = "db.role";

    private readonly IOptionsMonitor<DatabaseOptions> _options;
    private readonly IDisposable? _subscription;
    private string _password;

    public DataSources(IOptionsMonitor<DatabaseOptions> options, ILogger<DataSources> logger, ServiceIdentity identity,
        Action<NpgsqlDataSourceBuilder>? configure = null)
    {
        _options = options;
        var current = options.CurrentValue;
        _password = current.Password;
        Writer = Build(current.Writer, DbRole.Writer, current, identity, configure, reader: false);
        HasSeparateReader = !string.IsNullOrWhiteSpace(current.Reader);
        Reader = HasSeparateReader ? Build(current.Reader, DbRole.Reader, current, identity, configure, reader: true) : Writer;
        if (!HasSeparateReader) logger.LogWarning("Database:Reader is empty: reads are served by the writer");

        _subscription = options.OnChange(changed =>
        {
            if (changed.Password == _password) return;
            _password = changed.Password;
            Writer.Clear();
            if (HasSeparateReader) Reader.Clear();
            logger.LogInformation("Database password changed: connection pools cleared, new connections use the new password");
        });
    }

    public NpgsqlDataSource Writer { get; }

    public NpgsqlDataSource Reader { get; }

    public bool HasSeparateReader { get; }

    public NpgsqlDataSource For(string role) => role == DbRole.Reader ? Reader : Writer;

    private NpgsqlDataSource Build(string connectionString, string role, DatabaseOptions o, ServiceIdentity identity,
        Action<NpgsqlDataSourceBuilder>? configure, bool reader)
    {
        var csb = new NpgsqlConnectionStringBuilder(connectionString)
        {
            Username = o.Username,
            ApplicationName = $"{identity.Name}-{role}",
            ConnectionLifetime = (int)o.ConnectionLifetime.TotalSeconds,
            MaxPoolSize = o.MaxPoolSize,
        };
        if (!string.IsNullOrEmpty(o.RootCertificate)) csb.RootCertificate = o.RootCertificate;
        // Npgsql tries GSS encryption first by default; Aurora does not offer it, the container images have no
        // Kerberos library, and every new connection would pay for the attempt (and log its failure).
        if (!connectionString.Contains("GSS Encryption", StringComparison.OrdinalIgnoreCase)) csb.GssEncryptionMode = GssEncryptionMode.Disable;
        if (reader)
        {
            // A reader that accepts connections but never answers must not hold a request longer than ReaderTimeout.
            // Connecting is bounded here (no cancel request involved); commands are bounded by Database.ReadAsync,
            // which abandons them rather than letting Npgsql cancel them (its cancellation blocks a thread on a
            // stalled server). TCP keepalive releases connections to a reader that disappeared for good.
            csb.Timeout = (int)Math.Ceiling(o.ReaderTimeout.TotalSeconds);
            csb.CommandTimeout = 0;
            csb.CancellationTimeout = -1;
            csb.TcpKeepAlive = true;
            csb.TcpKeepAliveTime = 10;
            csb.TcpKeepAliveInterval = 5;
        }
        else
        {
            csb.Timeout = (int)Math.Ceiling(o.WriterConnectTimeout.TotalSeconds);
        }

        var builder = new NpgsqlDataSourceBuilder(csb.ConnectionString) { Name = role };
        builder.UsePasswordProvider(_ => _options.CurrentValue.Password, (_, _) => ValueTask.FromResult(_options.CurrentValue.Password));
        builder.ConfigureTracing(t => t
            // A span only where it is exported: under a request whose trace is sampled. Commands outside any request
            // (health checks every few seconds, the reader probe) would each start a trace of their own, noise that
            // drowns the traces people look for; under an unsampled request the span would be created and thrown away
            // (a database command propagates no trace context, so nothing downstream needs it).
            .ConfigureCommandFilter(_ => System.Diagnostics.Activity.Current is { Recorded: true })
            .ConfigureBatchFilter(_ => System.Diagnostics.Activity.Current is { Recorded: true })
            // Dashboards and Jaeger searches filter database spans by the endpoint that served them.
            .ConfigureCommandEnrichmentCallback((activity, _) => activity.SetTag(DbRoleTag, role))
            .ConfigureBatchEnrichmentCallback((activity, _) => activity.SetTag(DbRoleTag, role)));
        configure?.Invoke(builder);
        return builder.Build();
    }

    public void Dispose()
    {
        _subscription?.Dispose();
        Writer.Dispose();
        if (HasSeparateReader) Reader.Dispose();
    }
}
