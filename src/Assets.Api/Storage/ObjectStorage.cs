using System.Globalization;
using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Platform;

namespace Assets.Api.Storage;

/// <summary>What S3 says about an uploaded object.</summary>
public sealed record StoredObject(long SizeBytes, string? ContentType);

/// <summary>A request the client makes to S3 itself: the URL and every header that was signed into it.</summary>
public sealed record PresignedRequest(string Method, string Url, IReadOnlyDictionary<string, string> Headers, DateTimeOffset ExpiresAt);

/// <summary>The service's only door to S3. Bytes never pass through the service: clients PUT and GET with presigned
/// URLs; the service itself only checks (HEAD) and deletes objects. Failures to reach S3 become
/// <see cref="DependencyUnavailableException"/>, which the API answers with 503.</summary>
public sealed class ObjectStorage(IAmazonS3 s3, IOptionsMonitor<StorageOptions> options, TimeProvider time)
{
    public const string Dependency = "s3";

    /// <summary>A key no asset can have (asset keys end in a UUID); the health check reads it and expects "no such key".</summary>
    internal const string ProbeKey = "products/health-probe";

    private static readonly TimeSpan s_retryAfter = TimeSpan.FromSeconds(5);

    /// <summary>Presigns the PUT a client makes with the image bytes. Content-Type and Content-Length are signed, so
    /// S3 refuses other values (SignatureDoesNotMatch); with <paramref name="sha256"/> the x-amz-checksum-sha256
    /// header is signed too, and S3 refuses bytes with another digest (BadDigest).</summary>
    public async Task<PresignedRequest> PresignUploadAsync(string key, string contentType, long sizeBytes, string? sha256)
    {
        var o = options.CurrentValue;
        var request = new GetPreSignedUrlRequest
        {
            BucketName = o.Bucket,
            Key = key,
            Verb = HttpVerb.PUT,
            Protocol = Protocol(o),
            ContentType = contentType,
        };
        request.Headers.ContentLength = sizeBytes;
        var headers = new Dictionary<string, string>(StringComparer.Ordinal) { ["Content-Type"] = contentType };
        if (sha256 is not null)
        {
            request.Headers["x-amz-checksum-sha256"] = sha256;
            headers["x-amz-checksum-sha256"] = sha256;
        }
        if (!string.IsNullOrWhiteSpace(o.KmsKeyId))
        {
            request.ServerSideEncryptionMethod = ServerSideEncryptionMethod.AWSKMS;
            request.ServerSideEncryptionKeyManagementServiceKeyId = o.KmsKeyId;
            headers["x-amz-server-side-encryption"] = "aws:kms";
            headers["x-amz-server-side-encryption-aws-kms-key-id"] = o.KmsKeyId;
        }
        var (url, expiresAt) = await PresignAsync(request, o.UploadUrlExpiry);
        return new PresignedRequest("PUT", url, headers, expiresAt);
    }

    /// <summary>Where a client downloads the object: the CDN when one is configured (stable, cacheable URLs), else a
    /// presigned GET that expires.</summary>
    public async Task<(string Url, DateTimeOffset? ExpiresAt)> DownloadUrlAsync(string key)
    {
        var o = options.CurrentValue;
        if (!string.IsNullOrWhiteSpace(o.CdnBaseUrl)) return ($"{o.CdnBaseUrl.TrimEnd('/')}/{key}", null);
        var request = new GetPreSignedUrlRequest { BucketName = o.Bucket, Key = key, Verb = HttpVerb.GET, Protocol = Protocol(o) };
        return await PresignAsync(request, o.DownloadUrlExpiry);
    }

    /// <summary>HEAD of the object; null when S3 has no such object. Without s3:ListBucket on the bucket S3 answers a
    /// missing key with 403 instead of 404, so both mean "not uploaded" here.</summary>
    public async Task<StoredObject?> HeadAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var head = await CallAsync(() => s3.GetObjectMetadataAsync(options.CurrentValue.Bucket, key, cancellationToken), cancellationToken);
            return new StoredObject(head.ContentLength, head.Headers.ContentType);
        }
        catch (AmazonS3Exception e) when (e.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Forbidden)
        {
            return null;
        }
    }

    /// <summary>Deletes the object; deleting a key that does not exist succeeds (S3 semantics), so a retried delete does too.</summary>
    public Task DeleteAsync(string key, CancellationToken cancellationToken) =>
        CallAsync(() => s3.DeleteObjectAsync(options.CurrentValue.Bucket, key, cancellationToken), cancellationToken);

    /// <summary>One authenticated round trip to the bucket: reads <see cref="ProbeKey"/>, which does not exist. "No such
    /// key" (or "access denied", what S3 answers without s3:ListBucket) proves S3 answered and accepted our credentials.</summary>
    public async Task<string?> ProbeAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var found = await s3.GetObjectAsync(options.CurrentValue.Bucket, ProbeKey, cancellationToken);
            return null;
        }
        catch (AmazonS3Exception e) when (e.ErrorCode is "NoSuchKey" or "AccessDenied")
        {
            return null;
        }
        catch (AmazonS3Exception e)
        {
            return $"S3 answered {(int)e.StatusCode} {e.ErrorCode}";
        }
    }

    private static Protocol Protocol(StorageOptions o) =>
        o.ServiceUrl is { Length: > 0 } url && url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) ? Amazon.S3.Protocol.HTTP : Amazon.S3.Protocol.HTTPS;

    /// <summary>Signs locally (no call to S3), though with IRSA the first call may fetch credentials from STS.</summary>
    private async Task<(string Url, DateTimeOffset ExpiresAt)> PresignAsync(GetPreSignedUrlRequest request, TimeSpan lifetime)
    {
        // The SDK turns Expires into X-Amz-Expires from its own clock reading, in whole seconds rounded down; half a
        // second of slack keeps X-Amz-Expires at the configured lifetime.
        request.Expires = (time.GetUtcNow() + lifetime + TimeSpan.FromMilliseconds(500)).UtcDateTime;
        var url = await CallAsync(() => s3.GetPreSignedURLAsync(request));
        return (url, SignedExpiry(url) ?? time.GetUtcNow() + lifetime);
    }

    /// <summary>When S3 stops accepting the URL: its signing time (X-Amz-Date, whole seconds) plus X-Amz-Expires.</summary>
    private static DateTimeOffset? SignedExpiry(string url)
    {
        var query = QueryHelpers.ParseQuery(new Uri(url).Query);
        return DateTimeOffset.TryParseExact(query["X-Amz-Date"], "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var signedAt) &&
               long.TryParse(query["X-Amz-Expires"], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            ? signedAt.AddSeconds(seconds)
            : null;
    }

    private static async Task<T> CallAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken = default)
    {
        try
        {
            return await call();
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && IsUnavailable(e))
        {
            throw new DependencyUnavailableException(Dependency, "The image store is not reachable right now.", s_retryAfter, e);
        }
    }

    /// <summary>S3 unreachable, timing out or failing on its side, or credentials that cannot be obtained (STS down);
    /// not the answers about the object itself (404, 403), which the callers interpret.</summary>
    private static bool IsUnavailable(Exception e) => e switch
    {
        AmazonServiceException service => service.StatusCode >= HttpStatusCode.InternalServerError || service.StatusCode == 0 || service.InnerException is HttpRequestException or IOException,
        AmazonClientException => true,
        HttpRequestException or IOException or TimeoutException or OperationCanceledException => true,
        _ => false,
    };
}
