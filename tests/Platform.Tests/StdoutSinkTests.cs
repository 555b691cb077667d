using System.Text;
using System.Text.Json;
using Serilog.Events;
using Serilog.Parsing;

namespace Platform.Tests;

/// <summary>The stdout sink's promises: lines that queue up while stdout is busy go out in one write; nothing is lost
/// on shutdown; a full queue drops lines without blocking the caller and says how many it dropped.</summary>
public sealed class StdoutSinkTests
{
    private static readonly MessageTemplate s_template = new MessageTemplateParser().Parse("line {Number}");

    private static LogEvent Line(int number) =>
        new(DateTimeOffset.UtcNow, LogEventLevel.Information, null, s_template, [new LogEventProperty("Number", new ScalarValue(number))]);

    private static StdoutSink Sink(Stream output, int queueLimit = 10_000) =>
        new(new EcsJsonFormatter("catalog", "1.2.3", null), output, queueLimit);

    [Fact]
    public async Task LinesQueuedWhileStdoutIsBusyGoOutInOneWrite()
    {
        var stdout = new GatedStream();
        var sink = Sink(stdout);

        sink.Emit(Line(0));
        await stdout.FirstWriteStarted.WaitAsync(TimeSpan.FromSeconds(10));
        for (var i = 1; i <= 100; i++) sink.Emit(Line(i));
        stdout.Open();
        sink.Dispose();

        Assert.Equal(2, stdout.Writes.Count);
        Assert.Equal(Enumerable.Range(0, 101).Select(i => $"line {i}"), stdout.Lines().Select(l => l.GetProperty("message").GetString()));
    }

    [Fact]
    public async Task AFullQueueDropsLinesWithoutBlockingAndTheNextBatchSaysHowMany()
    {
        var stdout = new GatedStream();
        var sink = Sink(stdout, queueLimit: 10);

        sink.Emit(Line(0));
        await stdout.FirstWriteStarted.WaitAsync(TimeSpan.FromSeconds(10));
        var emit = Task.Run(() => { for (var i = 1; i <= 50; i++) sink.Emit(Line(i)); });
        await emit.WaitAsync(TimeSpan.FromSeconds(10)); // the caller never waits for stdout
        stdout.Open();
        sink.Dispose();

        var lines = stdout.Lines();
        Assert.Equal(Enumerable.Range(0, 11).Select(i => $"line {i}"), lines.Take(11).Select(l => l.GetProperty("message").GetString()));
        var warning = Assert.Single(lines.Skip(11));
        Assert.Equal("40 log lines were dropped: stdout did not keep up", warning.GetProperty("message").GetString());
        Assert.Equal("warn", warning.GetProperty("log").GetProperty("level").GetString());
    }

    [Fact]
    public void DisposeWritesWhatIsQueuedAndLaterEventsAreIgnored()
    {
        var stdout = new GatedStream();
        stdout.Open();
        var sink = Sink(stdout);
        for (var i = 0; i < 1000; i++) sink.Emit(Line(i));

        sink.Dispose();
        sink.Emit(Line(1000));

        Assert.Equal(1000, stdout.Lines().Count);
    }

    /// <summary>A stdout whose first write waits until the test opens it, as a busy pipe would.</summary>
    private sealed class GatedStream : Stream
    {
        private readonly ManualResetEventSlim _open = new();
        private readonly TaskCompletionSource _firstWrite = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<byte[]> Writes { get; } = [];

        public Task FirstWriteStarted => _firstWrite.Task;

        public void Open() => _open.Set();

        public List<JsonElement> Lines()
        {
            var text = Encoding.UTF8.GetString(Writes.SelectMany(w => w).ToArray());
            Assert.EndsWith("\n", text, StringComparison.Ordinal);
            return [.. text.TrimEnd('\n').Split('\n').Select(l => JsonDocument.Parse(l).RootElement.Clone())];
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _firstWrite.TrySetResult();
            _open.Wait();
            lock (Writes) Writes.Add(buffer.ToArray());
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void Flush() { }
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
