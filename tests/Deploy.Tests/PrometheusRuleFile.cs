using System.Text.Json.Nodes;
using TestKit;

namespace Deploy.Tests;

/// <summary>The chart's plain Prometheus rule file (files/prometheus/service.rules.yml) and its unit tests.</summary>
public static class PrometheusRuleFile
{
    public static string Path => Repo.PathOf("deploy", "helm", "service", "files", "prometheus", "service.rules.yml");

    public static string TestsPath => Repo.PathOf("deploy", "helm", "service", "files", "prometheus", "tests", "service.rules.test.yml");

    public static async Task<IReadOnlyList<JsonObject>> RulesAsync(string? path = null)
    {
        var file = (await ChartRendering.YamlToJsonAsync(await File.ReadAllTextAsync(path ?? Path))).Single()!;
        return file.Arr("groups").SelectMany(g => g!.Arr("rules")).Select(r => r!.AsObject()).ToList();
    }

    public static async Task<IReadOnlyList<JsonObject>> AlertsAsync() => (await RulesAsync()).Where(r => r.Str("alert") is not null).ToList();

    /// <summary>Names of the series the recording rules produce (they exist in Prometheus, never in a scrape).</summary>
    public static async Task<IReadOnlySet<string>> RecordedNamesAsync() =>
        (await RulesAsync()).Select(r => r.Str("record")).OfType<string>().ToHashSet();
}

/// <summary>A small PromQL reader: the metric selectors of an expression (name and label matchers), found by
/// skipping strings, functions, keywords, durations, and the label lists of by/without/on/ignoring/group_*.
/// Enough for the expressions this repository writes; a construct it cannot place makes it throw.</summary>
public static class PromQl
{
    private static readonly HashSet<string> s_keywords = new(StringComparer.Ordinal)
    {
        "and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right", "inf", "nan", "atan2",
        // Aggregation operators may put their by/without clause before the parenthesis.
        "sum", "min", "max", "avg", "count", "group", "stddev", "stdvar", "topk", "bottomk", "quantile", "count_values",
    };

    private static readonly HashSet<string> s_labelListKeywords = new(StringComparer.Ordinal)
    {
        "by", "without", "on", "ignoring", "group_left", "group_right",
    };

    public sealed record Selector(string Metric, string Matchers);

    public static IReadOnlyList<Selector> Selectors(string expression)
    {
        var selectors = new List<Selector>();
        var text = expression;
        var i = 0;
        string? previousWord = null;
        while (i < text.Length)
        {
            var c = text[i];
            if (c is '"' or '\'' or '`')
            {
                i = SkipString(text, i);
                previousWord = null;
                continue;
            }
            if (c == '[')
            {
                i = text.IndexOf(']', i) + 1;
                if (i == 0) throw new FormatException($"unclosed [ in {expression}");
                continue;
            }
            if (c == '{')
            {
                // A selector without a metric name ({__name__=...}) is not written here.
                throw new FormatException($"selector without a metric name in {expression}");
            }
            if (c == '(' && previousWord is not null && s_labelListKeywords.Contains(previousWord))
            {
                i = text.IndexOf(')', i) + 1;
                previousWord = null;
                continue;
            }
            if (char.IsLetter(c) || c is '_' or ':')
            {
                var start = i;
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] is '_' or ':')) i++;
                var word = text[start..i];
                var next = i;
                while (next < text.Length && char.IsWhiteSpace(text[next])) next++;
                if (next < text.Length && text[next] == '(' && !s_labelListKeywords.Contains(word))
                {
                    previousWord = null;
                    continue;
                }
                if (s_keywords.Contains(word))
                {
                    previousWord = word;
                    continue;
                }
                var matchers = "";
                if (next < text.Length && text[next] == '{')
                {
                    var close = FindClosingBrace(text, next);
                    matchers = text[(next + 1)..close];
                    i = close + 1;
                }
                selectors.Add(new Selector(word, matchers));
                previousWord = null;
                continue;
            }
            if (char.IsDigit(c) || c == '.')
            {
                // Numbers and durations (offset 5m).
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] == '.')) i++;
                previousWord = null;
                continue;
            }
            if (c == '$')
            {
                // Grafana variables outside strings ($__rate_interval is inside [...], handled above).
                i++;
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] == '_')) i++;
                continue;
            }
            i++;
        }
        return selectors;
    }

    public static IReadOnlySet<string> MetricNames(IEnumerable<string> expressions) =>
        expressions.SelectMany(Selectors).Select(s => s.Metric).ToHashSet(StringComparer.Ordinal);

    /// <summary>Metric names in Grafana's label_values(metric, label) variable queries.</summary>
    public static IEnumerable<string> LabelValuesMetrics(string query)
    {
        const string Prefix = "label_values(";
        var at = query.IndexOf(Prefix, StringComparison.Ordinal);
        if (at < 0) yield break;
        var inner = query[(at + Prefix.Length)..query.LastIndexOf(')')];
        var comma = inner.LastIndexOf(',');
        if (comma > 0) yield return Selectors(inner[..comma]).Single().Metric;
    }

    private static int SkipString(string text, int start)
    {
        var quote = text[start];
        var i = start + 1;
        while (i < text.Length && text[i] != quote)
        {
            if (text[i] == '\\' && quote != '`') i++;
            i++;
        }
        return i + 1;
    }

    private static int FindClosingBrace(string text, int open)
    {
        var i = open + 1;
        while (i < text.Length && text[i] != '}')
            i = text[i] is '"' or '\'' or '`' ? SkipString(text, i) : i + 1;
        return i < text.Length ? i : throw new FormatException("unclosed { in " + text);
    }

    /// <summary>Names of the samples in a Prometheus text exposition: series that exist, not just declared families.</summary>
    public static IReadOnlySet<string> SampleNames(string exposition) =>
        exposition.Split('\n').Where(line => line.Length > 0 && line[0] != '#')
            .Select(line => line[..line.IndexOfAny(['{', ' '])]).ToHashSet(StringComparer.Ordinal);

    public static string Describe(IEnumerable<string> names) => string.Join(", ", names.Order(StringComparer.Ordinal));
}
