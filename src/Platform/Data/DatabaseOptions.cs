using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Platform.Data;

/// <summary>The two Aurora endpoints and how the service treats them. Connection strings carry no credentials:
/// Username and Password come from the Vault-rendered secrets file and may change while the service runs.</summary>
public sealed class DatabaseOptions : IValidatableObject
{
    public const string Section = "Database";

    /// <summary>Connection string of the writer (Aurora cluster endpoint), without credentials.</summary>
    public string Writer { get; set; } = "";

    /// <summary>Connection string of the reader endpoint (Aurora "-ro-" endpoint), without credentials. Empty: reads use the writer.</summary>
    public string Reader { get; set; } = "";

    /// <summary>Database user (a Vault static role: fixed name, rotated password).</summary>
    public string Username { get; set; } = "";

    /// <summary>Current password; new connections pick up a changed value without a restart.</summary>
    public string Password { get; set; } = "";

    /// <summary>CA bundle for <c>SSL Mode=VerifyFull</c> (the RDS global bundle in AWS). Applied to both endpoints.</summary>
    public string? RootCertificate { get; set; }

    /// <summary>Physical connections are closed after this long, so a DNS change of an endpoint (failover,
    /// reader scaling) reaches every pooled connection within this bound.</summary>
    public TimeSpan ConnectionLifetime { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a read may wait for the reader (connect and command) before it is served by the writer.</summary>
    public TimeSpan ReaderTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>While the reader is marked down, how often it is probed to bring reads back to it.</summary>
    public TimeSpan ReaderProbeInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Connect timeout of the writer.</summary>
    public TimeSpan WriterConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Total time spent retrying writer operations that did not commit (connection refused or lost before
    /// COMMIT, read-only server after a failover). Covers Aurora's 5 s DNS TTL for the cluster endpoint.</summary>
    public TimeSpan WriterRetryBudget { get; set; } = TimeSpan.FromSeconds(8);

    /// <summary>Maximum pooled connections per endpoint and pod. Size it so pods × this stays under max_connections.</summary>
    public int MaxPoolSize { get; set; } = 50;

    /// <summary>Apply migrations at start-up. Local runs only: in a cluster several replicas would race; there the
    /// <c>migrate</c> subcommand runs as a pre-upgrade Job.</summary>
    public bool MigrateOnStartup { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext) => Failures().Select(failure => new ValidationResult(failure));

    private IEnumerable<string> Failures()
    {
        if (string.IsNullOrWhiteSpace(Writer))
            yield return "Database:Writer is required (connection string of the writer / Aurora cluster endpoint, without credentials)";
        foreach (var (key, value) in new[] { ("Writer", Writer), ("Reader", Reader) })
        {
            if (string.IsNullOrWhiteSpace(value)) continue;
            var (parsed, error) = Parse(value);
            if (parsed is null)
            {
                yield return $"Database:{key} is not a valid connection string ({error})";
                continue;
            }
            if (!string.IsNullOrEmpty(parsed.Password) || !string.IsNullOrEmpty(parsed.Username))
                yield return $"Database:{key} must not carry credentials; they come from the secrets file (Database:Username, Database:Password)";
        }
        if (string.IsNullOrWhiteSpace(Username))
            yield return "Database:Username is missing (rendered by Vault Agent into the secrets directory, e.g. database.json)";
        if (RootCertificate is { Length: > 0 } certificate && !File.Exists(certificate))
            yield return $"Database:RootCertificate file {certificate} does not exist";
        if (ReaderTimeout < TimeSpan.FromSeconds(1)) yield return "Database:ReaderTimeout must be at least 1 second (Npgsql timeouts are whole seconds)";
        if (WriterConnectTimeout < TimeSpan.FromSeconds(1)) yield return "Database:WriterConnectTimeout must be at least 1 second";
        if (ConnectionLifetime < TimeSpan.FromSeconds(1)) yield return "Database:ConnectionLifetime must be at least 1 second";
        if (MaxPoolSize < 1) yield return "Database:MaxPoolSize must be at least 1";
    }

    private static (NpgsqlConnectionStringBuilder? Parsed, string? Error) Parse(string connectionString)
    {
        try { return (new NpgsqlConnectionStringBuilder(connectionString), null); }
        catch (ArgumentException e) { return (null, e.Message); }
    }
}

[OptionsValidator]
internal sealed partial class DatabaseOptionsValidator : IValidateOptions<DatabaseOptions>;
