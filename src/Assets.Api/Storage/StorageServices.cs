using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Platform;

namespace Assets.Api.Storage;

internal static class StorageServices
{
    /// <summary>Bounds one S3 call: a stalled store answers 503 within seconds, not after the SDK's 100 s default.</summary>
    private static readonly TimeSpan s_requestTimeout = TimeSpan.FromSeconds(5);

    public static void AddStorage(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>();
        builder.Services.AddSingleton<IAmazonS3>(sp => CreateClient(sp.GetRequiredService<IOptions<StorageOptions>>().Value));
        builder.Services.AddSingleton<ObjectStorage>();
        builder.Services.AddHealthChecks().AddCheck<StorageHealthCheck>(ObjectStorage.Dependency,
            failureStatus: HealthStatus.Degraded, tags: [HealthTags.Dependency], timeout: TimeSpan.FromSeconds(3));
    }

    /// <summary>No credentials are passed: the SDK's default chain resolves them at the first call — on EKS from IRSA
    /// (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE, exchanged through STS and refreshed before they expire).</summary>
    internal static AmazonS3Client CreateClient(StorageOptions o)
    {
        var config = new AmazonS3Config
        {
            Timeout = s_requestTimeout,
            MaxErrorRetry = 2,
            // Checksums only where S3 requires them: S3-compatible stores used locally reject the newer trailers.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (!string.IsNullOrWhiteSpace(o.ServiceUrl))
        {
            // Local stores answer on one host name, not on <bucket>.<host>.
            config.ServiceURL = o.ServiceUrl;
            config.ForcePathStyle = true;
            if (!string.IsNullOrWhiteSpace(o.Region)) config.AuthenticationRegion = o.Region;
        }
        else if (!string.IsNullOrWhiteSpace(o.Region))
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(o.Region);
        }
        return new AmazonS3Client(config);
    }
}
