using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace Platform.Data;

/// <summary>Retries writer operations that failed transiently before anything committed (see
/// <see cref="DatabaseFailures"/>), on Polly's retry strategy: exponential backoff with jitter from 50 ms up to 1 s,
/// within Database:WriterRetryBudget (above Aurora's 5 s DNS TTL for the cluster endpoint). A retry after a failure
/// that says the server is gone or read-only clears the writer's pool (after a failover the idle connections all
/// point at the old server), at most once per second however many requests retry at once; timeouts and conflicts
/// never clear it. An exhausted pool is answered 503 at once: retrying would only queue again. A success after
/// retries logs one Information line; giving up answers 503.</summary>
internal sealed class WriterRetry
{
    private static readonly ResiliencePropertyKey<long> s_started = new("platform.writer.started");
    private static readonly ResiliencePropertyKey<List<string>> s_reasons = new("platform.writer.retries");
    private static readonly TimeSpan s_maxDelay = TimeSpan.FromSeconds(1);

    private readonly ResiliencePipeline _pipeline;
    private readonly DataSources _dataSources;
    private readonly IOptionsMonitor<DatabaseOptions> _options;
    private readonly PlatformMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<WriterRetry> _logger;
    private long _lastClear = long.MinValue;

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
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is TransientWriterFailure && WithinBudget(args.Context)),
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(50),
                MaxDelay = s_maxDelay,
                OnRetry = args =>
                {
                    var failure = ((TransientWriterFailure)args.Outcome.Exception!).Failure;
                    var reason = failure.Reason;
                    if (failure.ClearsPool) ClearPool();
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
            // After a lost connection, other pooled connections to the same server are most likely dead as well.
            if (e.Failure.ClearsPool) ClearPool();
            throw new DependencyUnavailableException(DbRole.Writer,
                "The database did not answer the write's COMMIT (the connection was lost or timed out); it may or may not have been applied.",
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
            FailureKind.Transient => new TransientWriterFailure(failure, exception),
            FailureKind.UnknownOutcome => new UnknownOutcomeFailure(failure, exception),
            FailureKind.PoolExhausted => new DependencyUnavailableException(DbRole.Writer,
                "Every database connection of this instance is busy; try again shortly.", TimeSpan.FromSeconds(1), exception),
            _ => null,
        };
    }

    /// <summary>No retry starts after the budget: the next delay is at most <see cref="s_maxDelay"/>.</summary>
    private bool WithinBudget(ResilienceContext context) =>
        _time.GetElapsedTime(context.Properties.GetValue(s_started, 0)) + s_maxDelay <= _options.CurrentValue.WriterRetryBudget;

    /// <summary>Clears the writer's pool unless another retry did within the last second: concurrent retries after
    /// one failover would otherwise each close the connections the others just opened to the new server. A server
    /// still failing a second later (the old writer until DNS moves) is cleared again.</summary>
    private void ClearPool()
    {
        var now = _time.GetTimestamp();
        var last = Interlocked.Read(ref _lastClear);
        if (last != long.MinValue && _time.GetElapsedTime(last, now) < s_maxDelay) return;
        if (Interlocked.CompareExchange(ref _lastClear, now, last) != last) return;
        _dataSources.Writer.Clear();
    }

    private sealed class TransientWriterFailure(Failure failure, Exception inner) : Exception(inner.Message, inner)
    {
        public Failure Failure { get; } = failure;
    }

    private sealed class UnknownOutcomeFailure(Failure failure, Exception inner) : Exception(inner.Message, inner)
    {
        public Failure Failure { get; } = failure;
    }
}
