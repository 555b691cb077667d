using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Platform;

namespace Assets.Api.Assets;

/// <summary>Body of POST /api/v1/products/{productId}/assets. Every property is nullable so a missing field is
/// reported as a field error instead of failing deserialization as a whole. The optional <c>sha256</c> of the bytes
/// is hex (as sha256sum prints it) or base64; S3 then refuses other bytes.</summary>
public sealed record CreateAssetRequest(string? FileName, string? ContentType, long? SizeBytes, string? Sha256);

public sealed record AssetResponse(
    Guid Id,
    Guid ProductId,
    string FileName,
    string ContentType,
    long SizeBytes,
    string? Sha256,
    string Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    string? DownloadUrl,
    DateTimeOffset? DownloadUrlExpiresAt)
{
    public static AssetResponse From(Asset a, (string Url, DateTimeOffset? ExpiresAt)? download = null) =>
        new(a.Id, a.ProductId, a.FileName, a.ContentType, a.SizeBytes, a.Sha256, AssetRules.StatusName(a.Status), a.CreatedAt, a.UpdatedAt,
            download?.Url, download?.ExpiresAt);
}

/// <summary>How to send the bytes: PUT <see cref="Url"/> with exactly these headers and exactly sizeBytes bytes.</summary>
public sealed record UploadInstructions(string Method, string Url, IReadOnlyDictionary<string, string> Headers, DateTimeOffset ExpiresAt);

public sealed record CreatedAsset(AssetResponse Asset, UploadInstructions Upload);

/// <summary>One keyset page. <see cref="NextCursor"/> is null on the last page.</summary>
public sealed record AssetPage(IReadOnlyList<AssetResponse> Items, string? NextCursor);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(CreateAssetRequest))]
[JsonSerializable(typeof(AssetResponse))]
[JsonSerializable(typeof(CreatedAsset))]
[JsonSerializable(typeof(AssetPage))]
internal sealed partial class AssetsJsonContext : JsonSerializerContext;

/// <summary>What an asset request must satisfy; the database constraints mirror the lengths.</summary>
public static class AssetRules
{
    public const int FileNameMaxLength = 255;
    public const int ContentTypeMaxLength = 32;
    public const int ObjectKeyMaxLength = 128;
    public const int Sha256Base64Length = 44;

    /// <summary>Images the studio delivers; anything else (SVG with scripts, HTML) is never stored.</summary>
    public static readonly IReadOnlyList<string> ContentTypes = ["image/jpeg", "image/png", "image/webp", "image/tiff"];

    /// <summary>The object key, built from ids only: nothing a client sends ever reaches a key, so no file name can
    /// traverse, overwrite or collide.</summary>
    public static string ObjectKey(Guid productId, Guid assetId) =>
        string.Create(CultureInfo.InvariantCulture, $"products/{productId:D}/{assetId:D}");

    public static string StatusName(AssetStatus status) => status == AssetStatus.Available ? "available" : "pending";

    public static AssetStatus? ParseStatus(string? name) => name switch
    {
        "pending" => AssetStatus.Pending,
        "available" => AssetStatus.Available,
        _ => null,
    };

    /// <summary>Field errors keyed by the JSON property name (empty when valid), the content type in canonical form
    /// and the digest as base64 (the form of x-amz-checksum-sha256).</summary>
    public static (Dictionary<string, string[]> Errors, string ContentType, string? Sha256) Validate(CreateAssetRequest request, long maxSizeBytes)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (FileNameProblem(request.FileName) is { } fileNameProblem) errors["fileName"] = [fileNameProblem];

        var contentType = ContentTypes.FirstOrDefault(t => string.Equals(t, request.ContentType?.Trim(), StringComparison.OrdinalIgnoreCase));
        if (contentType is null) errors["contentType"] = [$"contentType is one of {string.Join(", ", ContentTypes)}."];

        if (request.SizeBytes is not { } size) errors["sizeBytes"] = ["sizeBytes (the exact length of the file in bytes) is required."];
        else if (size < 1 || size > maxSizeBytes) errors["sizeBytes"] = [$"sizeBytes is from 1 to {maxSizeBytes.ToString(CultureInfo.InvariantCulture)}."];

        string? sha256 = null;
        if (request.Sha256 is not null && !TryNormalizeSha256(request.Sha256, out sha256))
            errors["sha256"] = ["sha256 is the SHA-256 of the file: 64 hex digits or 44 characters of base64."];
        return (errors, contentType ?? "", sha256);
    }

    /// <summary>File names are metadata, stored as given, but they are shown to people and end up in download
    /// dialogs: names that look like paths, hide characters or cannot be stored are refused rather than altered.</summary>
    internal static string? FileNameProblem(string? name)
    {
        if (string.IsNullOrWhiteSpace(name)) return "A file name is required.";
        if (name.Length > FileNameMaxLength) return $"At most {FileNameMaxLength} characters.";
        if (name is "." or ".." || name.Contains('/', StringComparison.Ordinal) || name.Contains('\\', StringComparison.Ordinal))
            return "A file name, not a path: no '/', '\\', '.' or '..'.";
        return PlainText.IsValid(name) ? null : "Control characters, bidirectional overrides and invalid Unicode are not allowed.";
    }

    private static bool TryNormalizeSha256(string value, out string? base64)
    {
        base64 = null;
        Span<byte> digest = stackalloc byte[32];
        if (value.Length == 64)
        {
            if (Convert.FromHexString(value, digest, out _, out var written) != System.Buffers.OperationStatus.Done || written != 32) return false;
        }
        else if (value.Length != Sha256Base64Length || !Convert.TryFromBase64String(value, digest, out var decoded) || decoded != 32)
        {
            return false;
        }
        base64 = Convert.ToBase64String(digest);
        return true;
    }
}
