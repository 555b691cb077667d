using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Serilog.Events;
using Serilog.Formatting;
using Serilog.Parsing;

namespace Platform;

/// <summary>Writes one JSON object per line in Elastic Common Schema shape, with nested objects
/// (<c>{"log":{"level":"info"}}</c>) as Elasticsearch maps them, so fluent-bit can ship stdout unchanged.
/// Properties without an ECS home go under <c>labels</c> (scalars) so they never collide with ECS fields.</summary>
public sealed class EcsJsonFormatter(string serviceName, string serviceVersion, string? environment) : ITextFormatter
{
    private static readonly JsonWriterOptions s_writerOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Serilog property → ECS field, for the properties the platform itself emits.</summary>
    private static readonly Dictionary<string, string[]> s_ecsFields = new(StringComparer.Ordinal)
    {
        ["RequestMethod"] = ["http", "request", "method"],
        ["RequestPath"] = ["url", "path"],
        ["RequestScheme"] = ["url", "scheme"],
        ["StatusCode"] = ["http", "response", "status_code"],
        ["ClientIp"] = ["client", "ip"],
        ["UserAgent"] = ["user_agent", "original"],
        ["Route"] = ["http", "route"],
        ["SourceContext"] = ["log", "logger"],
    };

    public void Format(LogEvent logEvent, TextWriter output)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, s_writerOptions))
        {
            var root = new Node();
            root.Set(["@timestamp"], logEvent.Timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            root.Set(["log", "level"], Level(logEvent.Level));
            root.Set(["message"], Render(logEvent));
            root.Set(["ecs", "version"], "8.11.0");
            root.Set(["service", "name"], serviceName);
            root.Set(["service", "version"], serviceVersion);
            if (environment is not null) root.Set(["service", "environment"], environment);
            root.Set(["event", "dataset"], serviceName + ".log");
            root.Set(["process", "pid"], Environment.ProcessId);
            if (logEvent.TraceId is { } traceId) root.Set(["trace", "id"], traceId.ToHexString());
            if (logEvent.SpanId is { } spanId) root.Set(["span", "id"], spanId.ToHexString());
            if (logEvent.Exception is { } exception)
            {
                root.Set(["error", "type"], exception.GetType().FullName ?? exception.GetType().Name);
                root.Set(["error", "message"], exception.Message);
                root.Set(["error", "stack_trace"], exception.ToString());
            }

            foreach (var (name, value) in logEvent.Properties)
            {
                if (name == "Elapsed" && value is ScalarValue { Value: double ms })
                    root.Set(["event", "duration"], (long)(ms * 1_000_000)); // ECS: nanoseconds
                else if (name == "EventId" && value is StructureValue eventId)
                    root.Set(["event", "code"], eventId.Properties.FirstOrDefault(p => p.Name == "Id")?.Value is ScalarValue { Value: var id } ? id : null);
                else if (s_ecsFields.TryGetValue(name, out var path))
                    root.Set(path, Scalar(value));
                else
                    root.Set(["labels", name], Scalar(value));
            }
            root.Write(json);
        }
        output.Write(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        output.Write('\n');
    }

    /// <summary>Renders the message with string values unquoted ("GET /x", not "\"GET\" \"/x\""): it is read by people.</summary>
    private static string Render(LogEvent logEvent)
    {
        var message = new StringWriter(CultureInfo.InvariantCulture);
        foreach (var token in logEvent.MessageTemplate.Tokens)
        {
            if (token is PropertyToken property && logEvent.Properties.TryGetValue(property.PropertyName, out var value) &&
                value is ScalarValue { Value: string text } && property.Format is null)
            {
                message.Write(text);
            }
            else
            {
                token.Render(logEvent.Properties, message, CultureInfo.InvariantCulture);
            }
        }
        return message.ToString();
    }

    private static string Level(LogEventLevel level) => level switch
    {
        LogEventLevel.Verbose => "trace",
        LogEventLevel.Debug => "debug",
        LogEventLevel.Information => "info",
        LogEventLevel.Warning => "warn",
        LogEventLevel.Error => "error",
        _ => "fatal",
    };

    private static object? Scalar(LogEventPropertyValue value) => value switch
    {
        ScalarValue scalar => scalar.Value,
        _ => value.ToString(),
    };

    /// <summary>Builds the nested object first so two fields under one parent (log.level, log.logger) share it.</summary>
    private sealed class Node
    {
        private readonly List<(string Name, object? Value)> _children = [];

        public void Set(string[] path, object? value)
        {
            var node = this;
            for (var i = 0; i < path.Length - 1; i++)
            {
                var index = node._children.FindIndex(c => c.Name == path[i]);
                if (index >= 0 && node._children[index].Value is Node child) { node = child; continue; }
                var created = new Node();
                if (index >= 0) node._children[index] = (path[i], created);
                else node._children.Add((path[i], created));
                node = created;
            }
            var leaf = node._children.FindIndex(c => c.Name == path[^1]);
            if (leaf >= 0) node._children[leaf] = (path[^1], value);
            else node._children.Add((path[^1], value));
        }

        public void Write(Utf8JsonWriter json)
        {
            json.WriteStartObject();
            foreach (var (name, value) in _children)
            {
                json.WritePropertyName(name);
                WriteValue(json, value);
            }
            json.WriteEndObject();
        }

        private static void WriteValue(Utf8JsonWriter json, object? value)
        {
            switch (value)
            {
                case null: json.WriteNullValue(); break;
                case Node node: node.Write(json); break;
                case string s: json.WriteStringValue(s); break;
                case bool b: json.WriteBooleanValue(b); break;
                case int i: json.WriteNumberValue(i); break;
                case long l: json.WriteNumberValue(l); break;
                case double d when double.IsFinite(d): json.WriteNumberValue(d); break;
                case float f when float.IsFinite(f): json.WriteNumberValue(f); break;
                case decimal m: json.WriteNumberValue(m); break;
                case short or ushort or uint or byte or sbyte: json.WriteNumberValue(Convert.ToInt64(value, CultureInfo.InvariantCulture)); break;
                case ulong u: json.WriteNumberValue(u); break;
                case DateTime dt: json.WriteStringValue(dt.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture)); break;
                case DateTimeOffset dto: json.WriteStringValue(dto.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture)); break;
                default: json.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture)); break;
            }
        }
    }
}
