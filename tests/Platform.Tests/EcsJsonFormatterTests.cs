using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Serilog.Events;
using Serilog.Parsing;

namespace Platform.Tests;

public sealed class EcsJsonFormatterTests
{
    private static JsonElement Format(LogEvent logEvent)
    {
        var buffer = new ArrayBufferWriter<byte>();
        new EcsJsonFormatter("catalog", "1.2.3", "prod").Format(logEvent, buffer);
        var text = Encoding.UTF8.GetString(buffer.WrittenSpan);
        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        Assert.Single(text.TrimEnd('\n').Split('\n'));
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    [Fact]
    public void FieldsAreNestedEcsObjectsAndStringsAreUnquotedInTheMessage()
    {
        var template = new MessageTemplateParser().Parse("HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0} ms");
        var traceId = ActivityTraceId.CreateRandom();
        var spanId = ActivitySpanId.CreateRandom();
        var logEvent = new LogEvent(DateTimeOffset.UtcNow, LogEventLevel.Information, null, template,
        [
            new LogEventProperty("RequestMethod", new ScalarValue("GET")),
            new LogEventProperty("RequestPath", new ScalarValue("/api/v1/products")),
            new LogEventProperty("StatusCode", new ScalarValue(200)),
            new LogEventProperty("Elapsed", new ScalarValue(12.5)),
            new LogEventProperty("SourceContext", new ScalarValue("Serilog.AspNetCore.RequestLoggingMiddleware")),
            new LogEventProperty("Custom", new ScalarValue(42)),
        ], traceId, spanId);

        var log = Format(logEvent);

        Assert.Equal("HTTP GET /api/v1/products responded 200 in 12.5 ms", log.GetProperty("message").GetString());
        Assert.Equal("info", log.GetProperty("log").GetProperty("level").GetString());
        Assert.Equal("Serilog.AspNetCore.RequestLoggingMiddleware", log.GetProperty("log").GetProperty("logger").GetString());
        Assert.Equal("GET", log.GetProperty("http").GetProperty("request").GetProperty("method").GetString());
        Assert.Equal(200, log.GetProperty("http").GetProperty("response").GetProperty("status_code").GetInt32());
        Assert.Equal(12_500_000, log.GetProperty("event").GetProperty("duration").GetInt64());
        Assert.Equal(traceId.ToHexString(), log.GetProperty("trace").GetProperty("id").GetString());
        Assert.Equal(spanId.ToHexString(), log.GetProperty("span").GetProperty("id").GetString());
        Assert.Equal("catalog", log.GetProperty("service").GetProperty("name").GetString());
        Assert.Equal("prod", log.GetProperty("service").GetProperty("environment").GetString());
        Assert.Equal(42, log.GetProperty("labels").GetProperty("Custom").GetInt32());
    }

    [Fact]
    public void ExceptionsBecomeErrorFields()
    {
        var template = new MessageTemplateParser().Parse("failed");
        var logEvent = new LogEvent(DateTimeOffset.UtcNow, LogEventLevel.Error, new InvalidOperationException("boom"), template, []);
        var log = Format(logEvent);
        Assert.Equal("error", log.GetProperty("log").GetProperty("level").GetString());
        Assert.Equal("System.InvalidOperationException", log.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal("boom", log.GetProperty("error").GetProperty("message").GetString());
    }
}
