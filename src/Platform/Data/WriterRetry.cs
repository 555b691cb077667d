using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace Platform.Data;

/// <summary>Retries writer operations that failed transiently before anything committed (see
/// <see cref="DatabaseFailures"/>), on Polly's retry strategy: backoff from 50 ms doubling to 1 s, within
/// Database:WriterRetryBudget (above Aurora's 5 s DNS TTL for the cluster endpoint). A retry after a connection
/// failure or a read-only server clears the writer's pool: after a failover the idle connections all point at the old
/// server. A success after retries logs one Information line; giving up answers 503.</summary>
internal sealed class WriterRetry
{
    private static readonly ResiliencePropertyKey<long> s_started = new("platform.writer.started");
    private static readonly ResiliencePropertyKey<List<string>> s_reasons = new("platform.writer.retries");
    private static readonly TimeSpan s_firstDelay = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan s_maxDelay = TimeSpan.FromSeconds(1);

    private readonly ResiliencePipeline _pipeline;
    private readonly DataSources _dataSources;
    private readonly IOptionsMonitor<DatabaseOptions> _options;
    private readonly PlatformMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<WriterRetry> _logger;

    public WriterRetry(DataSources dataSources, IOptionsMonitor<DatabaseOptions> options, PlatformMetrics metrics, TimeProvider time, ILogger<WriterRetry> logger)
    {
        _dataSources = dataSources;
        _options = options;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _pipeline = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is TransientWriterFailure && WithinBudget(args.Context, args.AttemptNumber)),
                MaxRetryAttempts = int.MaxValue,
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(Delay(args.AttemptNumber)),
                OnRetry = args =>
                {
                    var reason = ((TransientWriterFailure)args.Outcome.Exception!).Reason;
                    // A lost conflict says nothing about the connections; anything else does.
                    if (reason != PlatformMetrics.RetryReasons.Conflict) _dataSources.Writer.Clear();
                    _metrics.DbWriterRetries.WithLabels(reason).Inc();
                    if (!args.Context.Properties.TryGetValue(s_reasons, out var reasons)) args.Context.Properties.Set(s_reasons, reasons = []);
                    reasons.Add(reason);
                    Activity.Current?.AddEvent(new ActivityEvent($"writer retry ({reason})"));
                    return default;
                },
            })
            .Build();
    }

    /// <summary>Runs <paramref name="attempt"/> until it succeeds, fails for good, or the budget is spent. An attempt
    /// signals a transient failure or an unknown outcome by throwing what <see cref="Wrap"/> made of its exception.</summary>
    public async Task<T> ExecuteAsync<T, TState>(Func<TState, CancellationToken, Task<T>> attempt, TState state, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        var started = _time.GetTimestamp();
        context.Properties.Set(s_started, started);
        try
        {
            var result = await _pipeline.ExecuteAsync(static (ctx, s) => new ValueTask<T>(s.attempt(s.state, ctx.CancellationToken)), context, (attempt, state));
            if (context.Properties.TryGetValue(s_reasons, out var reasons))
            {
                _logger.LogInformation("Writer operation succeeded after {Retries} retries ({Reasons}) in {ElapsedMs:0} ms",
                    reasons.Count, string.Join(", ", reasons.Distinct()), _time.GetElapsedTime(started).TotalMilliseconds);
            }
            return result;
        }
        catch (TransientWriterFailure e)
        {
            throw new DependencyUnavailableException(DbRole.Writer, "The database is not accepting writes right now.",
                TimeSpan.FromSeconds(5), e.InnerException);
        }
        catch (UnknownOutcomeFailure e)
        {
            _metrics.DbWriteUnknownOutcomes.Inc();
            // Other pooled connections to the same server are most likely dead as well.
            _dataSources.Writer.Clear();
            throw new DependencyUnavailableException(DbRole.Writer,
                "The connection to the database was lost while the write was committing; it may or may not have been applied.",
                TimeSpan.FromSeconds(1), e.InnerException, outcomeUnknown: true);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>What an attempt throws for <paramref name="exception"/>, raised in <paramref name="phase"/>; null for a
    /// deterministic failure, which the attempt rethrows as it is.</summary>
    public static Exception? Wrap(Exception exception, Phase phase)
    {
        var failure = DatabaseFailures.Classify(exception, phase);
        return failure.Kind switch
        {
            FailureKind.Transient => new TransientWriterFailure(failure.Reason, exception),
            FailureKind.UnknownOutcome => new UnknownOutcomeFailure(exception),
            _ => null,
        };
    }

    private bool WithinBudget(ResilienceContext context, int attemptNumber) =>
        _time.GetElapsedTime(context.Properties.GetValue(s_started, 0)) + Delay(attemptNumber) <= _options.CurrentValue.WriterRetryBudget;

    private static TimeSpan Delay(int attemptNumber) =>
        TimeSpan.FromTicks(Math.Min(s_maxDelay.Ticks, s_firstDelay.Ticks << Math.Min(attemptNumber, 10)));

    private sealed class TransientWriterFailure(string reason, Exception inner) : Exception(inner.Message, inner)
    {
        public string Reason { get; } = reason;
    }

    private sealed class UnknownOutcomeFailure(Exception inner) : Exception(inner.Message, inner);
}
