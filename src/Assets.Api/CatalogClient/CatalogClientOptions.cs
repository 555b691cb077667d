using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Assets.Api.CatalogClient;

/// <summary>How Assets reaches Catalog (in the cluster: the Catalog Service's API port).</summary>
public sealed class CatalogClientOptions : IValidatableObject
{
    public const string Section = "CatalogClient";

    /// <summary>Catalog's API base URL, e.g. http://catalog:8080.</summary>
    public string BaseUrl { get; set; } = "";

    /// <summary>Upper bound of one product lookup, retries included: an upload request never waits longer for Catalog.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    internal Uri BaseAddress => new(BaseUrl.EndsWith('/') ? BaseUrl : BaseUrl + "/");

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext) => Failures().Select(failure => new ValidationResult(failure));

    internal IEnumerable<string> Failures()
    {
        if (!Uri.TryCreate(BaseUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            yield return "CatalogClient:BaseUrl must be an absolute http(s) URL (Catalog's API, e.g. http://catalog:8080)";
        if (Timeout < TimeSpan.FromMilliseconds(300) || Timeout > TimeSpan.FromMinutes(1))
            yield return "CatalogClient:Timeout must be between 00:00:00.3 and 00:01:00";
    }
}

[OptionsValidator]
internal sealed partial class CatalogClientOptionsValidator : IValidateOptions<CatalogClientOptions>;
