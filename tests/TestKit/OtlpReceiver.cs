using System.IO.Compression;
using System.Net;
using System.Text;

namespace TestKit;

/// <summary>OTLP span kinds (opentelemetry/proto/trace/v1/trace.proto, Span.SpanKind).</summary>
public enum OtlpSpanKind
{
    Unspecified = 0,
    Internal = 1,
    Server = 2,
    Client = 3,
    Producer = 4,
    Consumer = 5,
}

/// <summary>One span as a service exported it. Ids are lower-case hex; <see cref="ParentSpanId"/> is null for a root.</summary>
public sealed record OtlpSpan(
    string ServiceName,
    string TraceId,
    string SpanId,
    string? ParentSpanId,
    string Name,
    OtlpSpanKind Kind,
    IReadOnlyDictionary<string, string> Attributes);

/// <summary>A minimal OTLP/HTTP trace receiver on 127.0.0.1 (what Jaeger or a collector is in a cluster): services
/// export to it with OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf, and tests assert
/// on the decoded spans. The protobuf is decoded by hand, only the fields the tests read.</summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly List<OtlpSpan> _spans = [];
    private readonly LoopbackHttpServer _server;

    public OtlpReceiver() => _server = new LoopbackHttpServer(ReceiveAsync);

    public int Port => _server.Port;

    /// <summary>The value of OTEL_EXPORTER_OTLP_ENDPOINT; the exporter appends /v1/traces.</summary>
    public string Endpoint => _server.Url;

    /// <summary>Environment that makes a service export its spans here, promptly (200 ms batches instead of 5 s).</summary>
    public Dictionary<string, string> ServiceSettings() => new()
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Endpoint,
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
    };

    public IReadOnlyList<OtlpSpan> Spans
    {
        get { lock (_spans) return [.. _spans]; }
    }

    /// <summary>Waits until the received spans satisfy <paramref name="condition"/>; fails listing what arrived.</summary>
    public async Task<IReadOnlyList<OtlpSpan>> WaitForAsync(Func<IReadOnlyList<OtlpSpan>, bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var spans = Spans;
            if (condition(spans)) return spans;
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"OTLP receiver: no {what} within {timeout}; received {spans.Count} span(s):\n" +
                    string.Join('\n', spans.TakeLast(40).Select(s => $"  {s.ServiceName} {s.Kind} {s.Name} trace={s.TraceId} span={s.SpanId} parent={s.ParentSpanId}")));
            }
            await Task.Delay(100);
        }
    }

    private async Task ReceiveAsync(HttpListenerContext context, CancellationToken cancellationToken)
    {
        try
        {
            using var body = new MemoryStream();
            var input = context.Request.Headers["Content-Encoding"] == "gzip"
                ? new GZipStream(context.Request.InputStream, CompressionMode.Decompress)
                : context.Request.InputStream;
            await input.CopyToAsync(body, cancellationToken);
            if (context.Request.Url?.AbsolutePath == "/v1/traces")
            {
                var spans = Decode(body.ToArray());
                lock (_spans) _spans.AddRange(spans);
            }
            // An empty ExportTraceServiceResponse: everything accepted.
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/x-protobuf";
        }
        catch (Exception e) when (e is InvalidDataException or IOException or HttpListenerException)
        {
            context.Response.StatusCode = 400;
        }
    }

    /// <summary>Decodes an ExportTraceServiceRequest: resource_spans(1) → resource(1).attributes(1), scope_spans(2) →
    /// spans(2) → trace_id(1), span_id(2), parent_span_id(4), name(5), kind(6), attributes(9).</summary>
    public static IReadOnlyList<OtlpSpan> Decode(byte[] request)
    {
        var spans = new List<OtlpSpan>();
        var reader = new ProtoReader(request);
        while (reader.Next(out var field, out var wire))
        {
            if (field != 1 || wire != ProtoReader.LengthDelimited) { reader.Skip(wire); continue; }
            var resourceSpans = new ProtoReader(reader.ReadBytes());
            var service = "";
            var scopeSpans = new List<byte[]>();
            while (resourceSpans.Next(out var f, out var w))
            {
                switch (f, w)
                {
                    case (1, ProtoReader.LengthDelimited):
                        service = Attributes(new ProtoReader(resourceSpans.ReadBytes()), attributeField: 1).GetValueOrDefault("service.name", "");
                        break;
                    case (2, ProtoReader.LengthDelimited):
                        scopeSpans.Add(resourceSpans.ReadBytes());
                        break;
                    default:
                        resourceSpans.Skip(w);
                        break;
                }
            }
            foreach (var scope in scopeSpans)
            {
                var scopeReader = new ProtoReader(scope);
                while (scopeReader.Next(out var f, out var w))
                {
                    if (f == 2 && w == ProtoReader.LengthDelimited) spans.Add(Span(service, scopeReader.ReadBytes()));
                    else scopeReader.Skip(w);
                }
            }
        }
        return spans;
    }

    private static OtlpSpan Span(string service, byte[] bytes)
    {
        string traceId = "", spanId = "", name = "";
        string? parent = null;
        var kind = OtlpSpanKind.Unspecified;
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        var reader = new ProtoReader(bytes);
        while (reader.Next(out var field, out var wire))
        {
            switch (field, wire)
            {
                case (1, ProtoReader.LengthDelimited): traceId = Convert.ToHexStringLower(reader.ReadBytes()); break;
                case (2, ProtoReader.LengthDelimited): spanId = Convert.ToHexStringLower(reader.ReadBytes()); break;
                case (4, ProtoReader.LengthDelimited):
                    var parentBytes = reader.ReadBytes();
                    parent = parentBytes.Length == 0 ? null : Convert.ToHexStringLower(parentBytes);
                    break;
                case (5, ProtoReader.LengthDelimited): name = Encoding.UTF8.GetString(reader.ReadBytes()); break;
                case (6, ProtoReader.Varint): kind = (OtlpSpanKind)reader.ReadVarint(); break;
                case (9, ProtoReader.LengthDelimited):
                    foreach (var (key, value) in KeyValue(new ProtoReader(reader.ReadBytes()))) attributes[key] = value;
                    break;
                default: reader.Skip(wire); break;
            }
        }
        return new OtlpSpan(service, traceId, spanId, parent, name, kind, attributes);
    }

    private static Dictionary<string, string> Attributes(ProtoReader reader, int attributeField)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.Next(out var field, out var wire))
        {
            if (field != attributeField || wire != ProtoReader.LengthDelimited)
            {
                reader.Skip(wire);
                continue;
            }
            foreach (var (key, value) in KeyValue(new ProtoReader(reader.ReadBytes()))) attributes[key] = value;
        }
        return attributes;
    }

    /// <summary>KeyValue: key(1), value(2) = AnyValue with string_value(1), bool_value(2), int_value(3), double_value(4).</summary>
    private static IEnumerable<(string Key, string Value)> KeyValue(ProtoReader reader)
    {
        string key = "", value = "";
        while (reader.Next(out var field, out var wire))
        {
            if (field == 1 && wire == ProtoReader.LengthDelimited) key = Encoding.UTF8.GetString(reader.ReadBytes());
            else if (field == 2 && wire == ProtoReader.LengthDelimited) value = AnyValue(new ProtoReader(reader.ReadBytes()));
            else reader.Skip(wire);
        }
        yield return (key, value);
    }

    private static string AnyValue(ProtoReader reader)
    {
        var value = "";
        while (reader.Next(out var field, out var wire))
        {
            value = (field, wire) switch
            {
                (1, ProtoReader.LengthDelimited) => Encoding.UTF8.GetString(reader.ReadBytes()),
                (2, ProtoReader.Varint) => reader.ReadVarint() != 0 ? "true" : "false",
                (3, ProtoReader.Varint) => ((long)reader.ReadVarint()).ToString(System.Globalization.CultureInfo.InvariantCulture),
                (4, ProtoReader.Fixed64) => BitConverter.Int64BitsToDouble((long)reader.ReadFixed64()).ToString(System.Globalization.CultureInfo.InvariantCulture),
                _ => Skipped(reader, wire, value),
            };
        }
        return value;

        static string Skipped(ProtoReader reader, int wire, string value)
        {
            reader.Skip(wire);
            return value;
        }
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    /// <summary>Protocol buffers wire format: tags are varints of (field &lt;&lt; 3 | wire type).</summary>
    private sealed class ProtoReader(byte[] buffer)
    {
        public const int Varint = 0;
        public const int Fixed64 = 1;
        public const int LengthDelimited = 2;
        public const int Fixed32 = 5;

        private int _position;

        public bool Next(out int field, out int wire)
        {
            field = wire = 0;
            if (_position >= buffer.Length) return false;
            var tag = ReadVarint();
            field = (int)(tag >> 3);
            wire = (int)(tag & 7);
            return true;
        }

        public ulong ReadVarint()
        {
            ulong value = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                if (_position >= buffer.Length) throw new InvalidDataException("truncated varint");
                var b = buffer[_position++];
                value |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0) return value;
            }
            throw new InvalidDataException("varint longer than 10 bytes");
        }

        public ulong ReadFixed64()
        {
            if (_position + 8 > buffer.Length) throw new InvalidDataException("truncated fixed64");
            var value = BitConverter.ToUInt64(buffer, _position);
            _position += 8;
            return value;
        }

        public byte[] ReadBytes()
        {
            var length = (int)ReadVarint();
            if (length < 0 || _position + length > buffer.Length) throw new InvalidDataException("truncated length-delimited field");
            var bytes = buffer.AsSpan(_position, length).ToArray();
            _position += length;
            return bytes;
        }

        public void Skip(int wire)
        {
            switch (wire)
            {
                case Varint: ReadVarint(); break;
                case Fixed64: _position += 8; break;
                case LengthDelimited: ReadBytes(); break;
                case Fixed32: _position += 4; break;
                default: throw new InvalidDataException($"unsupported wire type {wire}");
            }
            if (_position > buffer.Length) throw new InvalidDataException("truncated field");
        }
    }
}
