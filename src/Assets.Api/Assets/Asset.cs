namespace Assets.Api.Assets;

/// <summary>An image of a product, stored in S3. The row is written before the bytes exist (pending) and becomes
/// available once the object has been checked against what the client declared.</summary>
public sealed class Asset
{
    /// <summary>UUID v7: keyset pages in id order are also upload order.</summary>
    public Guid Id { get; set; }

    public Guid ProductId { get; set; }

    /// <summary>Generated from the ids only (<see cref="AssetRules.ObjectKey"/>), never from anything the client sent.</summary>
    public string ObjectKey { get; set; } = "";

    /// <summary>The client's file name, as given; metadata only.</summary>
    public string FileName { get; set; } = "";

    public string ContentType { get; set; } = "";

    public long SizeBytes { get; set; }

    /// <summary>Base64 SHA-256 the client declared (the form of S3's x-amz-checksum-sha256), when it declared one.</summary>
    public string? Sha256 { get; set; }

    public AssetStatus Status { get; set; } = AssetStatus.Pending;

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

public enum AssetStatus
{
    Pending,
    Available,
}
