using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Platform;

/// <summary>A shared dependency (the writer, the reader, Catalog, S3) could not serve the request: the request was
/// fine, so the answer is 503 with Retry-After, never a 500 that would page the wrong people. Every service throws
/// this one type and the platform's exception handler answers it.</summary>
public sealed class DependencyUnavailableException(string dependency, string message, TimeSpan retryAfter, Exception? inner = null, bool outcomeUnknown = false)
    : Exception(message, inner)
{
    /// <summary>Name of the dependency, as in its health check and the dependency_up metric.</summary>
    public string Dependency { get; } = dependency;

    public TimeSpan RetryAfter { get; } = retryAfter;

    /// <summary>True when a write may or may not have been applied (the connection was lost after COMMIT was sent):
    /// a client retrying it blindly may apply it twice.</summary>
    public bool OutcomeUnknown { get; } = outcomeUnknown;
}

/// <summary>Results the services return for errors they detect themselves.</summary>
public static class PlatformResults
{
    /// <summary>400 with the fields at fault. Written through the problem-details service like every other problem,
    /// so it carries the trace id and instance (TypedResults.ValidationProblem bypasses that service).</summary>
    public static ProblemHttpResult ValidationProblem(IDictionary<string, string[]> errors) =>
        TypedResults.Problem(new HttpValidationProblemDetails(errors)
        {
            Status = StatusCodes.Status400BadRequest,
            Title = "One or more fields are invalid",
        });
}

/// <summary>Every error the application handles is an RFC 9457 problem document (application/problem+json) with a
/// trace id to find it in the logs. Field errors name the field; a 500 never carries internals.</summary>
internal static partial class Problems
{
    public static void AddProblems(this IHostApplicationBuilder builder)
    {
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = context =>
        {
            context.ProblemDetails.Instance ??= context.HttpContext.Request.Path;
            context.ProblemDetails.Extensions["traceId"] = Activity.Current?.TraceId.ToString() ?? context.HttpContext.TraceIdentifier;
        });
        builder.Services.AddExceptionHandler<ExceptionToProblem>();
        // The handler below logs what it handles, once, at the level it deserves (a dependency outage is not a bug).
        builder.Services.Configure<ExceptionHandlerOptions>(o => o.SuppressDiagnosticsCallback = _ => true);
        // Binding failures (malformed JSON, wrong types, unsupported media type) reach the exception handler,
        // which can say which field was wrong, instead of an empty 400.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
    }

    public static void UseProblems(this IApplicationBuilder app)
    {
        app.UseExceptionHandler();
        // Bodiless 401/403/404/405/… produced by the framework get a problem body too.
        app.UseStatusCodePages();
    }

    private sealed partial class ExceptionToProblem(IProblemDetailsService problems, ILogger<ExceptionToProblem> logger) : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
        {
            ProblemDetails problem;
            switch (exception)
            {
                case BadHttpRequestException bad:
                    problem = FromBadRequest(bad);
                    break;
                case DependencyUnavailableException unavailable:
                    logger.LogWarning("{Dependency} unavailable: {Reason} ({Cause})", unavailable.Dependency, unavailable.Message,
                        unavailable.InnerException?.GetBaseException().Message);
                    problem = new ProblemDetails
                    {
                        Status = StatusCodes.Status503ServiceUnavailable,
                        Title = "Service temporarily unavailable",
                        Detail = unavailable.Message,
                    };
                    problem.Extensions["dependency"] = unavailable.Dependency;
                    problem.Extensions["outcomeUnknown"] = unavailable.OutcomeUnknown;
                    context.Response.Headers.RetryAfter = ((int)Math.Ceiling(unavailable.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                    break;
                case OperationCanceledException when context.RequestAborted.IsCancellationRequested:
                    // The client went away; there is nobody to answer.
                    context.Response.StatusCode = 499;
                    return true;
                case var _ when FromDatabase(exception) is { } deterministic:
                    // The statement itself was refused: retrying cannot help, and the client can act on the answer.
                    problem = deterministic;
                    break;
                default:
                    logger.LogError(exception, "Unhandled exception: answered 500");
                    problem = new ProblemDetails
                    {
                        Status = StatusCodes.Status500InternalServerError,
                        Title = "An unexpected error occurred",
                        Detail = "The error has been logged with the trace id below.",
                    };
                    break;
            }
            context.Response.StatusCode = problem.Status!.Value;
            return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem, Exception = exception });
        }

        /// <summary>Errors PostgreSQL raises for the data sent (SQLSTATE class 22, 23505, 23503), which a service did not
        /// turn into a more specific answer itself. Others (42xxx: a bug or a missing grant) are 500s.</summary>
        private static ProblemDetails? FromDatabase(Exception exception)
        {
            for (var e = exception; e is not null; e = e.InnerException)
            {
                if (e is not PostgresException postgres) continue;
                return postgres.SqlState switch
                {
                    PostgresErrorCodes.UniqueViolation => new ProblemDetails
                    {
                        Status = StatusCodes.Status409Conflict,
                        Title = "Conflict",
                        Detail = "Something with the same unique values already exists.",
                    },
                    PostgresErrorCodes.ForeignKeyViolation => new ProblemDetails
                    {
                        Status = StatusCodes.Status400BadRequest,
                        Title = "Bad request",
                        Detail = "The request refers to something that does not exist.",
                    },
                    _ when postgres.SqlState.StartsWith("22", StringComparison.Ordinal) => new ProblemDetails
                    {
                        Status = StatusCodes.Status400BadRequest,
                        Title = "Bad request",
                        Detail = "A value in the request cannot be stored.",
                    },
                    _ => null,
                };
            }
            return null;
        }

        private static ProblemDetails FromBadRequest(BadHttpRequestException bad)
        {
            if (bad.StatusCode != StatusCodes.Status400BadRequest)
            {
                return new ProblemDetails
                {
                    Status = bad.StatusCode,
                    Title = bad.StatusCode switch
                    {
                        StatusCodes.Status413PayloadTooLarge => "Request body too large",
                        StatusCodes.Status415UnsupportedMediaType => "Unsupported media type",
                        _ => "Bad request",
                    },
                    Detail = bad.StatusCode == StatusCodes.Status415UnsupportedMediaType
                        ? "Send the body as application/json." : bad.Message,
                };
            }

            var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
            if (FindJsonException(bad) is { } json)
            {
                errors[FieldName(json.Path)] = [JsonMessage(json)];
            }
            else if (BindFailure().Match(bad.Message) is { Success: true } binding)
            {
                errors[binding.Groups["name"].Value] = [$"'{binding.Groups["value"].Value}' is not a valid {binding.Groups["type"].Value}."];
            }
            else if (MissingValue().Match(bad.Message) is { Success: true } missing)
            {
                errors[missing.Groups["name"].Value] = ["A value is required."];
            }
            return new HttpValidationProblemDetails(errors)
            {
                Status = StatusCodes.Status400BadRequest,
                Title = errors.Count > 0 ? "One or more fields are invalid" : "Bad request",
                Detail = errors.Count > 0 ? null : "The request could not be read (is the body valid JSON?).",
            };
        }

        private static JsonException? FindJsonException(Exception exception)
        {
            for (var e = exception.InnerException; e is not null; e = e.InnerException)
                if (e is JsonException json) return json;
            return null;
        }

        /// <summary>"$.attributes.color" → "attributes.color"; the body itself → "body".</summary>
        private static string FieldName(string? path) =>
            string.IsNullOrEmpty(path) || path == "$" ? "body" : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');

        /// <summary>System.Text.Json messages name .NET types and positions; keep the part a client can act on.</summary>
        private static string JsonMessage(JsonException json) =>
            json.Message.Contains("could not be converted", StringComparison.Ordinal) ? "The value has the wrong type."
            : json.Message.Contains("maximum configured depth", StringComparison.Ordinal) ? "The JSON is nested too deeply."
            : "The body is not valid JSON.";

        [GeneratedRegex("""Failed to bind parameter "(?<type>[^ "]+) (?<name>[^"]+)" from "(?<value>[^"]*)".""")]
        private static partial Regex BindFailure();

        [GeneratedRegex("""Required parameter "(?<type>[^ "]+) (?<name>[^"]+)" was not provided""")]
        private static partial Regex MissingValue();
    }
}
