using System.Globalization;

namespace Assets.Api.Assets;

/// <summary>Turns <see cref="DependencyUnavailableException"/> (Catalog or S3 down, circuit open) into 503 problem
/// details with Retry-After: the request was fine, a dependency was not, and a 500 would page the wrong people.</summary>
internal sealed class DependencyUnavailableFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (DependencyUnavailableException e)
        {
            var http = context.HttpContext;
            http.RequestServices.GetRequiredService<ILogger<DependencyUnavailableFilter>>()
                .LogWarning(e, "{Dependency} unavailable: {Reason}", e.Dependency, e.Message);
            http.Response.Headers.RetryAfter = ((int)Math.Ceiling(e.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Service temporarily unavailable",
                detail: e.Message, extensions: new Dictionary<string, object?> { ["dependency"] = e.Dependency });
        }
    }
}
