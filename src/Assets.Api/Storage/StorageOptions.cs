using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Assets.Api.Storage;

/// <summary>Where the images live and how clients reach them. There are deliberately no credentials here: the SDK's
/// default chain finds them (IRSA's web identity token on EKS, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY locally).</summary>
public sealed class StorageOptions : IValidatableObject
{
    public const string Section = "Storage";

    /// <summary>Bucket holding the images (SSE-KMS by default, set by the infrastructure).</summary>
    public string Bucket { get; set; } = "";

    /// <summary>Local S3-compatible stores only (s3rver, MinIO): their URL; path-style addressing is used with it.
    /// Empty in AWS, where the regional endpoint is derived from <see cref="Region"/>.</summary>
    public string? ServiceUrl { get; set; }

    /// <summary>AWS region of the bucket. Empty: the SDK's region chain (AWS_REGION, which EKS sets in every pod).</summary>
    public string? Region { get; set; }

    /// <summary>When set, presigned PUTs also ask for SSE-KMS with this key (the bucket default applies otherwise).</summary>
    public string? KmsKeyId { get; set; }

    /// <summary>CloudFront in front of the bucket, e.g. https://media.example.com: downloads are served from
    /// <c>{CdnBaseUrl}/{object key}</c> instead of presigned S3 URLs.</summary>
    public string? CdnBaseUrl { get; set; }

    /// <summary>max-age of public GET responses when downloads come from <see cref="CdnBaseUrl"/> (stable URLs); without
    /// a CDN the responses carry presigned URLs and are never cached.</summary>
    public TimeSpan PublicCacheMaxAge { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Largest image accepted (bytes).</summary>
    public long MaxSizeBytes { get; set; } = 50 * 1024 * 1024;

    /// <summary>Lifetime of a presigned upload URL: long enough for one upload of the largest image, short enough
    /// that a leaked URL is soon useless.</summary>
    public TimeSpan UploadUrlExpiry { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Lifetime of a presigned download URL (without a CDN).</summary>
    public TimeSpan DownloadUrlExpiry { get; set; } = TimeSpan.FromMinutes(15);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext) => Failures().Select(failure => new ValidationResult(failure));

    internal IEnumerable<string> Failures()
    {
        if (string.IsNullOrWhiteSpace(Bucket)) yield return "Storage:Bucket is required (the S3 bucket holding product images)";
        if (!string.IsNullOrWhiteSpace(ServiceUrl) && !IsHttpUrl(ServiceUrl))
            yield return "Storage:ServiceUrl must be an absolute http(s) URL (local S3-compatible stores only; leave it empty in AWS)";
        if (!string.IsNullOrWhiteSpace(CdnBaseUrl) && !IsHttpUrl(CdnBaseUrl))
            yield return "Storage:CdnBaseUrl must be an absolute http(s) URL";
        if (MaxSizeBytes < 1) yield return "Storage:MaxSizeBytes must be at least 1";
        if (PublicCacheMaxAge < TimeSpan.Zero) yield return "Storage:PublicCacheMaxAge must not be negative";
        // SigV4 presigned URLs are valid for at most seven days; S3 refuses longer ones.
        foreach (var (key, value) in new[] { ("UploadUrlExpiry", UploadUrlExpiry), ("DownloadUrlExpiry", DownloadUrlExpiry) })
        {
            if (value < TimeSpan.FromSeconds(1) || value > TimeSpan.FromDays(7))
                yield return $"Storage:{key} must be between 00:00:01 and 7.00:00:00";
        }
    }

    private static bool IsHttpUrl(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}

[OptionsValidator]
internal sealed partial class StorageOptionsValidator : IValidateOptions<StorageOptions>;
