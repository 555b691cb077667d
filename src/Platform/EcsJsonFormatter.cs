using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Serilog.Events;
using Serilog.Parsing;

namespace Platform;

/// <summary>Writes one JSON object per line in Elastic Common Schema shape, with nested objects
/// (<c>{"log":{"level":"info"}}</c>) as Elasticsearch maps them, so fluent-bit can ship stdout unchanged.
/// Properties without an ECS home go under <c>labels</c> (scalars) so they never collide with ECS fields.
/// One line per API request is the common case, so a line is written as UTF-8 straight into the caller's buffer (the
/// stdout sink's batch): no tree of fields, no intermediate strings beyond the rendered message.</summary>
public sealed class EcsJsonFormatter(string serviceName, string serviceVersion, string? environment)
{
    private static readonly JsonWriterOptions s_writerOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    /// <summary>Per thread: the stdout sink formats on its one writer thread; a test may format on others.</summary>
    [ThreadStatic] private static Buffers? t_buffers;

    private readonly string _dataset = serviceName + ".log";

    /// <summary>Appends the event's line, newline included, as UTF-8 to <paramref name="output"/>: the stdout sink
    /// formats a whole batch into one buffer this way and writes it with one call.</summary>
    public void Format(LogEvent logEvent, IBufferWriter<byte> output)
    {
        var buffers = t_buffers ??= new Buffers();
        var json = buffers.Json ??= new Utf8JsonWriter(output, s_writerOptions);
        json.Reset(output);
        var fields = new EcsFields();
        var hasLabels = false;
        foreach (var property in logEvent.Properties)
        {
            if (!fields.TryTake(property.Key, property.Value)) hasLabels = true;
        }

        json.WriteStartObject();
        Span<char> timestamp = stackalloc char[24];
        logEvent.Timestamp.UtcDateTime.TryFormat(timestamp, out var written, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        json.WriteString("@timestamp"u8, timestamp[..written]);
        json.WriteStartObject("log"u8);
        json.WriteString("level"u8, Level(logEvent.Level));
        WriteIfSet(json, "logger"u8, fields.Logger);
        json.WriteEndObject();
        json.WriteString("message"u8, Render(logEvent, buffers));
        json.WriteStartObject("ecs"u8);
        json.WriteString("version"u8, "8.11.0"u8);
        json.WriteEndObject();
        json.WriteStartObject("service"u8);
        json.WriteString("name"u8, serviceName);
        json.WriteString("version"u8, serviceVersion);
        if (environment is not null) json.WriteString("environment"u8, environment);
        json.WriteEndObject();
        json.WriteStartObject("event"u8);
        json.WriteString("dataset"u8, _dataset);
        if (fields.DurationMs is { } ms) json.WriteNumber("duration"u8, (long)(ms * 1_000_000)); // ECS: nanoseconds
        if (fields.HasEventCode) WriteIfSet(json, "code"u8, fields.EventCode, writeNull: true);
        json.WriteEndObject();
        json.WriteStartObject("process"u8);
        json.WriteNumber("pid"u8, Environment.ProcessId);
        json.WriteEndObject();
        if (logEvent.TraceId is { } traceId)
        {
            Span<byte> id = stackalloc byte[16];
            traceId.CopyTo(id);
            WriteId(json, "trace"u8, id);
        }
        if (logEvent.SpanId is { } spanId)
        {
            Span<byte> id = stackalloc byte[8];
            spanId.CopyTo(id);
            WriteId(json, "span"u8, id);
        }
        if (logEvent.Exception is { } exception)
        {
            json.WriteStartObject("error"u8);
            json.WriteString("type"u8, exception.GetType().FullName ?? exception.GetType().Name);
            json.WriteString("message"u8, exception.Message);
            json.WriteString("stack_trace"u8, exception.ToString());
            json.WriteEndObject();
        }
        if (fields.Path is not null || fields.Scheme is not null)
        {
            json.WriteStartObject("url"u8);
            WriteIfSet(json, "path"u8, fields.Path);
            WriteIfSet(json, "scheme"u8, fields.Scheme);
            json.WriteEndObject();
        }
        if (fields.ClientIp is not null)
        {
            json.WriteStartObject("client"u8);
            WriteIfSet(json, "ip"u8, fields.ClientIp);
            json.WriteEndObject();
        }
        if (fields.UserAgent is not null)
        {
            json.WriteStartObject("user_agent"u8);
            WriteIfSet(json, "original"u8, fields.UserAgent);
            json.WriteEndObject();
        }
        if (fields.Route is not null || fields.Method is not null || fields.StatusCode is not null)
        {
            json.WriteStartObject("http"u8);
            WriteIfSet(json, "route"u8, fields.Route);
            if (fields.Method is not null)
            {
                json.WriteStartObject("request"u8);
                WriteIfSet(json, "method"u8, fields.Method);
                json.WriteEndObject();
            }
            if (fields.StatusCode is not null)
            {
                json.WriteStartObject("response"u8);
                WriteIfSet(json, "status_code"u8, fields.StatusCode);
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        if (hasLabels)
        {
            json.WriteStartObject("labels"u8);
            foreach (var property in logEvent.Properties)
            {
                // The same test as the first pass, on a scratch copy: what has an ECS home is no label.
                var scratch = new EcsFields();
                if (scratch.TryTake(property.Key, property.Value)) continue;
                json.WritePropertyName(property.Key);
                WriteValue(json, Scalar(property.Value));
            }
            json.WriteEndObject();
        }
        json.WriteEndObject();
        json.Flush();
        output.GetSpan(1)[0] = (byte)'\n';
        output.Advance(1);
    }

    /// <summary>Renders the message with string values unquoted ("GET /x", not "\"GET\" \"/x\""): it is read by people.</summary>
    private static ReadOnlySpan<char> Render(LogEvent logEvent, Buffers buffers)
    {
        var message = buffers.Message;
        message.GetStringBuilder().Clear();
        foreach (var token in logEvent.MessageTemplate.Tokens)
        {
            if (token is TextToken text)
            {
                message.Write(text.Text);
            }
            else if (token is PropertyToken property && logEvent.Properties.TryGetValue(property.PropertyName, out var value) &&
                     value is ScalarValue { Value: string s } && property.Format is null)
            {
                message.Write(s);
            }
            else
            {
                token.Render(logEvent.Properties, message, CultureInfo.InvariantCulture);
            }
        }
        var builder = message.GetStringBuilder();
        if (buffers.MessageChars.Length < builder.Length) buffers.MessageChars = new char[Math.Max(builder.Length, buffers.MessageChars.Length * 2)];
        builder.CopyTo(0, buffers.MessageChars, builder.Length);
        return buffers.MessageChars.AsSpan(0, builder.Length);
    }

    private static ReadOnlySpan<byte> Level(LogEventLevel level) => level switch
    {
        LogEventLevel.Verbose => "trace"u8,
        LogEventLevel.Debug => "debug"u8,
        LogEventLevel.Information => "info"u8,
        LogEventLevel.Warning => "warn"u8,
        LogEventLevel.Error => "error"u8,
        _ => "fatal"u8,
    };

    private static object? Scalar(LogEventPropertyValue value) => value switch
    {
        ScalarValue scalar => scalar.Value,
        _ => value.ToString(),
    };

    /// <summary>Writes <c>"name":{"id":"&lt;lower-case hex&gt;"}</c> (trace.id, span.id) without allocating.</summary>
    private static void WriteId(Utf8JsonWriter json, ReadOnlySpan<byte> name, ReadOnlySpan<byte> id)
    {
        Span<char> hex = stackalloc char[id.Length * 2];
        Convert.TryToHexStringLower(id, hex, out _);
        json.WriteStartObject(name);
        json.WriteString("id"u8, hex);
        json.WriteEndObject();
    }

    private static void WriteIfSet(Utf8JsonWriter json, ReadOnlySpan<byte> name, object? value, bool writeNull = false)
    {
        if (value is null && !writeNull) return;
        json.WritePropertyName(name);
        WriteValue(json, value);
    }

    private static void WriteValue(Utf8JsonWriter json, object? value)
    {
        switch (value)
        {
            case null: json.WriteNullValue(); break;
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

    /// <summary>The Serilog properties with an ECS home (the ones the platform emits), taken from one event.</summary>
    private struct EcsFields
    {
        public object? Method, Path, Scheme, StatusCode, ClientIp, UserAgent, Route, Logger, EventCode;
        public double? DurationMs;
        public bool HasEventCode;

        public bool TryTake(string name, LogEventPropertyValue value)
        {
            switch (name)
            {
                case "RequestMethod": Method = Scalar(value); return true;
                case "RequestPath": Path = Scalar(value); return true;
                case "RequestScheme": Scheme = Scalar(value); return true;
                case "StatusCode": StatusCode = Scalar(value); return true;
                case "ClientIp": ClientIp = Scalar(value); return true;
                case "UserAgent": UserAgent = Scalar(value); return true;
                case "Route": Route = Scalar(value); return true;
                case "SourceContext": Logger = Scalar(value); return true;
                case "Elapsed" when value is ScalarValue { Value: double ms }: DurationMs = ms; return true;
                case "EventId" when value is StructureValue eventId:
                    HasEventCode = true;
                    foreach (var p in eventId.Properties)
                        if (p.Name == "Id" && p.Value is ScalarValue { Value: var id }) EventCode = id;
                    return true;
                default: return false;
            }
        }
    }

    private sealed class Buffers
    {
        /// <summary>Created on first use and reset to each call's output.</summary>
        public Utf8JsonWriter? Json { get; set; }

        public StringWriter Message { get; } = new(CultureInfo.InvariantCulture);

        public char[] MessageChars { get; set; } = new char[256];
    }
}
