namespace Assets.Api;

/// <summary>Catalog or S3 could not serve a request. Answered with 503 and Retry-After by
/// <see cref="Assets.DependencyUnavailableFilter"/>: the client did nothing wrong and may try again later.</summary>
public sealed class DependencyUnavailableException(string dependency, string message, TimeSpan retryAfter, Exception? inner = null)
    : Exception(message, inner)
{
    /// <summary>Name of the dependency, as in its health check and the dependency_up metric.</summary>
    public string Dependency { get; } = dependency;

    public TimeSpan RetryAfter { get; } = retryAfter;
}
