using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Platform;

/// <summary>Where Vault Agent renders secrets. Every <c>*.json</c> file in the directory is layered over the rest of
/// the configuration (later file names win) and re-read when it changes.</summary>
public sealed class SecretsOptions
{
    public const string Section = "Secrets";

    /// <summary>Directory the Vault Agent sidecar renders into.</summary>
    public string Directory { get; set; } = "/vault/secrets";

    /// <summary>Files that must exist: start-up fails without them and readiness fails if they disappear.</summary>
    public IList<string> RequiredFiles { get; } = [];

    /// <summary>How often the directory is checked for changes. Vault Agent rewrites files in place or by rename,
    /// and Kubernetes volumes swap symlinks, which file-system events do not report reliably; polling does.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>A secrets file that is missing or cannot be parsed. The message is one line naming the file.</summary>
public sealed class SecretsFileException(string message, Exception? inner = null, bool missing = false) : Exception(message, inner)
{
    /// <summary>A required file is absent (as opposed to present but unreadable or malformed).</summary>
    public bool Missing { get; } = missing;
}

/// <summary>Current state of the secrets directory, for readiness and metrics.</summary>
public interface ISecretsState
{
    /// <summary>Null when every file parsed at the last check; otherwise what is wrong, in one line. A malformed
    /// file keeps the last good values in force; a missing required file makes the pod unready.</summary>
    string? Problem { get; }

    /// <summary>Whether a required file is missing now.</summary>
    bool RequiredFileMissing { get; }

    /// <summary>What made the first load fail (a required file missing, a file that cannot be parsed), in one line
    /// naming the file; null when it succeeded. Commands that need credentials stop on it.</summary>
    string? StartupProblem { get; }

    /// <summary>Raised after a change was loaded successfully.</summary>
    event Action? Reloaded;

    /// <summary>Raised when a change was refused (the last good values stay); the argument is <see cref="Problem"/>.</summary>
    event Action<string>? ReloadRefused;
}

internal sealed class SecretsConfigurationSource(SecretsOptions options) : IConfigurationSource
{
    public SecretsConfigurationProvider? Provider { get; private set; }

    public IConfigurationProvider Build(IConfigurationBuilder builder) => Provider ??= new SecretsConfigurationProvider(options);
}

internal sealed class SecretsConfigurationProvider : ConfigurationProvider, ISecretsState, IDisposable
{
    private readonly SecretsOptions _options;
    private readonly Timer _timer;
    private const string MissingDirectory = "missing";
    private string _fingerprint = "";
    private int _polling;

    public SecretsConfigurationProvider(SecretsOptions options)
    {
        _options = options;
        _timer = new Timer(_ => Poll(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public string? Problem { get; private set; }

    public bool RequiredFileMissing { get; private set; }

    public string? StartupProblem { get; private set; }

    public event Action? Reloaded;

    public event Action<string>? ReloadRefused;

    /// <summary>First load. A failure is kept as <see cref="StartupProblem"/> rather than thrown: configuration is
    /// built before anything knows which command runs, and some commands need no credentials.</summary>
    public override void Load()
    {
        try
        {
            var (data, fingerprint) = Read(_options);
            Data = data;
            _fingerprint = fingerprint;
        }
        catch (SecretsFileException e)
        {
            StartupProblem = Problem = e.Message;
            RequiredFileMissing = e.Missing;
        }
        _timer.Change(_options.PollInterval, _options.PollInterval);
    }

    private void Poll()
    {
        if (Interlocked.Exchange(ref _polling, 1) == 1) return;
        try
        {
            string fingerprint;
            try { fingerprint = Fingerprint(_options); }
            catch (IOException) { return; }
            if (fingerprint == _fingerprint) return;
            try
            {
                var (data, loadedFingerprint) = Read(_options);
                // Vault renders a template with a key missing when its secret path is gone or its policy shrank.
                // Options validation would then throw in the reload callbacks, on this timer thread, and end the
                // process; a removed secret is refused like a broken file instead (a restart takes the new set).
                var removed = Data.Where(kv => !string.IsNullOrEmpty(kv.Value) && string.IsNullOrEmpty(data.GetValueOrDefault(kv.Key))).Select(kv => kv.Key).Order(StringComparer.Ordinal).ToList();
                if (removed.Count > 0)
                    throw new SecretsFileException($"Secrets directory {_options.Directory}: {string.Join(", ", removed)} no longer set; a reload may change secrets but not remove them (the last good values stay in force)");
                var previous = Data;
                Data = data;
                if (!TryNotifyReload(out var invalid))
                {
                    // A consumer refused the new values (options validation): put the old ones back and tell them again.
                    Data = previous;
                    TryNotifyReload(out _);
                    throw new SecretsFileException($"Secrets directory {_options.Directory}: the reloaded values are invalid ({invalid}); the last good values stay in force");
                }
                _fingerprint = loadedFingerprint;
                Problem = null;
                RequiredFileMissing = false;
                Reloaded?.Invoke();
            }
            catch (SecretsFileException e)
            {
                // Keep serving with the last good values: a half-written or broken file must not take credentials away.
                _fingerprint = fingerprint;
                Problem = e.Message;
                RequiredFileMissing = e.Missing;
                ReloadRefused?.Invoke(e.Message);
            }
        }
        finally
        {
            Volatile.Write(ref _polling, 0);
        }
    }

    private bool TryNotifyReload(out string? problem)
    {
        try
        {
            OnReload();
            problem = null;
            return true;
        }
        catch (Exception e)
        {
            problem = e.GetBaseException().Message.ReplaceLineEndings(" ");
            return false;
        }
    }

    internal static (Dictionary<string, string?> Data, string Fingerprint) Read(SecretsOptions options)
    {
        var directory = options.Directory;
        if (!System.IO.Directory.Exists(directory))
        {
            // The same fingerprint as Fingerprint() gives a missing directory, or every poll would be a "change".
            if (options.RequiredFiles.Count == 0) return (new(StringComparer.OrdinalIgnoreCase), MissingDirectory);
            throw new SecretsFileException(
                $"Secrets file {Path.Combine(directory, options.RequiredFiles[0])}: not found (directory {directory} does not exist; it is rendered by Vault Agent, set Secrets:Directory)", missing: true);
        }
        foreach (var required in options.RequiredFiles)
        {
            var path = Path.Combine(directory, required);
            if (!File.Exists(path))
                throw new SecretsFileException($"Secrets file {path}: not found (rendered by Vault Agent; check the pod's vault.hashicorp.com annotations)", missing: true);
        }

        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var hash = new StringBuilder();
        foreach (var path in System.IO.Directory.GetFiles(directory, "*.json").Order(StringComparer.Ordinal))
        {
            byte[] bytes;
            try { bytes = File.ReadAllBytes(path); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new SecretsFileException($"Secrets file {path}: cannot be read ({e.Message})", e);
            }
            hash.Append(path).Append(':').Append(Convert.ToHexString(SHA256.HashData(bytes))).Append(';');
            Flatten(path, bytes, data);
        }
        return (data, hash.ToString());
    }

    private static string Fingerprint(SecretsOptions options)
    {
        if (!System.IO.Directory.Exists(options.Directory)) return MissingDirectory;
        var hash = new StringBuilder();
        foreach (var path in System.IO.Directory.GetFiles(options.Directory, "*.json").Order(StringComparer.Ordinal))
            hash.Append(path).Append(':').Append(Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)))).Append(';');
        foreach (var required in options.RequiredFiles)
            if (!File.Exists(Path.Combine(options.Directory, required))) hash.Append("missing:").Append(required);
        return hash.ToString();
    }

    private static void Flatten(string path, byte[] bytes, Dictionary<string, string?> data)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new SecretsFileException(
                $"Secrets file {path}: invalid JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1} ({FirstSentence(e.Message)})", e);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new SecretsFileException($"Secrets file {path}: the top level must be a JSON object, not {document.RootElement.ValueKind}");
            Visit(document.RootElement, null, data);
        }
    }

    private static void Visit(JsonElement element, string? prefix, Dictionary<string, string?> data)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                    Visit(property.Value, prefix is null ? property.Name : $"{prefix}:{property.Name}", data);
                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in element.EnumerateArray()) Visit(item, $"{prefix}:{i++}", data);
                break;
            case JsonValueKind.Null:
                data[prefix!] = null;
                break;
            case JsonValueKind.String:
                data[prefix!] = element.GetString();
                break;
            default:
                data[prefix!] = element.GetRawText();
                break;
        }
    }

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". ", StringComparison.Ordinal);
        return (end > 0 ? message[..end] : message).TrimEnd('.');
    }

    public void Dispose() => _timer.Dispose();
}

internal static class SecretsConfiguration
{
    /// <summary>One log line per reload, naming what was refused (never a value): the first thing the
    /// ServiceSecretsReloadFailing runbook asks for; and secrets_reloads_total by outcome.</summary>
    public static void ReportSecretsReloads(this IServiceProvider services, PlatformMetrics metrics)
    {
        var state = services.GetRequiredService<ISecretsState>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Platform.Secrets");
        state.Reloaded += () =>
        {
            metrics.SecretsReloads.WithLabels("success").Inc();
            logger.LogInformation("Secrets reloaded");
        };
        state.ReloadRefused += problem =>
        {
            metrics.SecretsReloads.WithLabels("failure").Inc();
            logger.LogWarning("Secrets reload refused: {Problem}", problem);
        };
    }

    /// <summary>Adds the secrets directory as the last (highest-priority) configuration source.</summary>
    public static SecretsConfigurationProvider AddSecretsDirectory(this IConfigurationManager configuration)
    {
        var options = new SecretsOptions();
        configuration.GetSection(SecretsOptions.Section).Bind(options);
        var source = new SecretsConfigurationSource(options);
        configuration.Add(source);
        return source.Provider!;
    }
}
