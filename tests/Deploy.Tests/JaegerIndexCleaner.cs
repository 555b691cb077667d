using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Deploy.Tests;

/// <summary>Jaeger's es-index-cleaner as v2.19.0 (the version chart jaeger 4.11.1 runs) reads its settings and picks
/// the indices it deletes, restated from its source (jaegertracing/jaeger at v2.19.0), not copied:
/// - its flags (cmd/es-index-cleaner/app/flags.go, TLS flags from internal/config/tlscfg/flags.go with prefix "es")
///   are bound to viper with AutomaticEnv and the key replacer "-" and "." → "_" (internal/config/config.go), so each
///   flag is also the environment variable of its name upper-cased: index-prefix is INDEX_PREFIX, es.tls.ca ES_TLS_CA;
/// - InitFromViper appends "-" to a non-empty index prefix;
/// - main.go takes NUM_OF_DAYS and the URL as arguments, lists <c>&lt;prefix&gt;jaeger-*</c>
///   (internal/storage/elasticsearch/client/index_client.go GetJaegerIndices) and keeps, for daily indices (neither
///   archive nor rollover), those matching <c>^&lt;prefix&gt;jaeger-(span|service|dependencies|sampling)-\d{4}&lt;sep&gt;\d{2}&lt;sep&gt;\d{2}</c>
///   (app/index_filter.go; the prefix is put in unescaped, as there) and created before tomorrow's midnight UTC minus
///   NUM_OF_DAYS (app/cutoff_time.go, the relative-time feature gate off by default; internal/storage/elasticsearch/
///   filter ByDate).
/// Jaeger itself names a daily index IndexPrefix.Apply(base) + the date in the index's date_layout
/// (internal/storage/elasticsearch/config/config.go Apply: the prefix, "-" unless it ends with one, the base;
/// internal/storage/v2/elasticsearch/tracestore/core/writer.go with bases jaeger-span- and jaeger-service-).</summary>
public sealed record JaegerIndexCleaner(string IndexPrefix, string DateSeparator, int Days, string? Username, bool Archive, bool Rollover)
{
    private static readonly string[] s_flags =
    [
        "index-prefix", "archive", "rollover", "timeout", "index-date-separator", "es.username", "es.password",
        "es.tls.enabled", "es.tls.ca", "es.tls.cert", "es.tls.key", "es.tls.server-name", "es.tls.client-ca",
        "es.tls.skip-host-verify", "es.tls.cipher-suites", "es.tls.min-version", "es.tls.max-version", "es.tls.reload-interval",
    ];

    public static string EnvironmentName(string flag) => flag.ToUpperInvariant().Replace('-', '_').Replace('.', '_');

    /// <summary>The cleaner's settings from its rendered container; every variable the project sets must be one of its
    /// flags (a variable it does not read is a setting that silently does nothing).</summary>
    public static JaegerIndexCleaner Read(JsonNode container, IEnumerable<string> projectVariables)
    {
        var known = s_flags.ToDictionary(EnvironmentName);
        foreach (var name in projectVariables)
            Assert.True(known.ContainsKey(name), $"the index cleaner reads no {name}; its variables are {string.Join(", ", known.Keys)}");
        var environment = container.Arr("env").ToDictionary(e => e!.Str("name")!, e => e!.Str("value"));
        string? Get(string flag) => environment.GetValueOrDefault(EnvironmentName(flag));
        var prefix = Get("index-prefix") ?? "";
        var args = container.Arr("args").Select(a => a!.ToString()).ToList();
        return new(prefix == "" ? "" : prefix + "-", Get("index-date-separator") ?? "-", int.Parse(args[0], CultureInfo.InvariantCulture),
            Get("es.username"), Get("archive") == "true", Get("rollover") == "true");
    }

    /// <summary>The daily index Jaeger writes for a day, with userconfig's index_prefix and date_layout (a Go layout).</summary>
    public static string IndexName(string? indexPrefix, string baseName, string goLayout, DateTime day)
    {
        Assert.Matches(@"^2006[-.]01[-.]02$", goLayout);
        var prefix = string.IsNullOrEmpty(indexPrefix) ? "" : indexPrefix.EndsWith('-') ? indexPrefix : indexPrefix + "-";
        var format = goLayout.Replace("2006", "yyyy", StringComparison.Ordinal).Replace("01", "MM", StringComparison.Ordinal).Replace("02", "dd", StringComparison.Ordinal);
        return prefix + baseName + day.ToString(format, CultureInfo.InvariantCulture);
    }

    /// <summary>The indices a run at <paramref name="now"/> deletes.</summary>
    public IReadOnlyList<string> Delete(IEnumerable<(string Name, DateTime Created)> indices, DateTime now)
    {
        Assert.False(Archive || Rollover, "the project's cleaner deletes daily indices; archive and rollover filters are not restated here");
        var listed = new Regex("^" + Regex.Escape(IndexPrefix + "jaeger-") + ".*$");
        var daily = new Regex($"^{IndexPrefix}jaeger-(span|service|dependencies|sampling)-\\d{{4}}{DateSeparator}\\d{{2}}{DateSeparator}\\d{{2}}", RegexOptions.ECMAScript);
        var cutoff = now.Date.AddDays(1).AddDays(-Days);
        return [.. indices.Where(i => listed.IsMatch(i.Name) && daily.IsMatch(i.Name) && i.Created < cutoff).Select(i => i.Name)];
    }
}
