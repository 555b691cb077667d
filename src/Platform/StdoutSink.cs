using System.Buffers;
using System.Collections.Concurrent;
using Serilog.Core;
using Serilog.Debugging;
using Serilog.Events;
using Serilog.Parsing;

namespace Platform;

/// <summary>The log's way to stdout: requests only enqueue their event; one writer thread formats whatever has queued
/// up into one buffer and hands it to the kernel with one write. Under load that is hundreds of lines per system call
/// instead of one (Serilog's console sink writes and flushes each line: a profile of the bench's telemetry-on GET
/// found 4 of the 22 µs that telemetry adds per request in those writes); when idle, a line is written as soon as it
/// is logged, with no batching delay and no timer (Serilog's batching sink waits up to its time limit for every batch).
/// A slow stdout (a busy node's container runtime) never stalls requests: a full queue drops lines, and the next
/// batch says how many (a Warning line of its own, so the gap is visible where the lines are read).</summary>
internal sealed class StdoutSink : ILogEventSink, IDisposable
{
    /// <summary>A batch is written once it reaches this size, so one burst never needs an unbounded buffer.</summary>
    private const int BatchBytes = 64 * 1024;

    private static readonly MessageTemplate s_droppedTemplate =
        new MessageTemplateParser().Parse("{DroppedLines} log lines were dropped: stdout did not keep up");

    private readonly BlockingCollection<LogEvent> _queue;
    private readonly EcsJsonFormatter _formatter;
    private readonly Stream _output;
    private readonly ArrayBufferWriter<byte> _batch = new(BatchBytes * 2);
    private readonly Thread _writer;
    private long _dropped;

    public StdoutSink(EcsJsonFormatter formatter, Stream output, int queueLimit)
    {
        _formatter = formatter;
        _output = output;
        _queue = new BlockingCollection<LogEvent>(new ConcurrentQueue<LogEvent>(), queueLimit);
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "stdout log writer" };
        _writer.Start();
    }

    public void Emit(LogEvent logEvent)
    {
        try
        {
            if (!_queue.TryAdd(logEvent)) Interlocked.Increment(ref _dropped);
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
        {
            // Logged after the logger was disposed (the host has stopped): there is no writer any more.
        }
    }

    private void WriteLoop()
    {
        // Blocks until a line is queued, then takes everything else already there without waiting.
        foreach (var first in _queue.GetConsumingEnumerable())
        {
            Append(first);
            while (_batch.WrittenCount < BatchBytes && _queue.TryTake(out var next)) Append(next);
            if (Interlocked.Exchange(ref _dropped, 0) is > 0 and var dropped)
            {
                Append(new LogEvent(DateTimeOffset.UtcNow, LogEventLevel.Warning, null, s_droppedTemplate,
                    [new LogEventProperty("DroppedLines", new ScalarValue(dropped)), new LogEventProperty("SourceContext", new ScalarValue(typeof(StdoutSink).FullName))]));
            }
            Write();
        }
    }

    private void Append(LogEvent logEvent)
    {
        try
        {
            _formatter.Format(logEvent, _batch);
        }
        catch (Exception e)
        {
            // A property that cannot be formatted loses its line, not the writer thread.
            SelfLog.WriteLine("StdoutSink: could not format an event: {0}", e);
        }
    }

    private void Write()
    {
        try
        {
            _output.Write(_batch.WrittenSpan);
            _output.Flush();
        }
        catch (IOException e)
        {
            // stdout closed (the container runtime went away): nothing else can be done with the lines.
            SelfLog.WriteLine("StdoutSink: could not write to stdout: {0}", e.Message);
        }
        _batch.ResetWrittenCount();
    }

    /// <summary>Writes what is queued (the logger is disposed when the host stops), then stops the writer thread.</summary>
    public void Dispose()
    {
        _queue.CompleteAdding();
        // The queue is disposed only once the thread has left it: disposing under a running writer would end the
        // process with an unhandled exception on that thread.
        if (_writer.Join(TimeSpan.FromSeconds(5))) _queue.Dispose();
        else SelfLog.WriteLine("StdoutSink: stdout did not take the last lines within 5 s");
    }
}
