namespace Catalog.Api.Products;

/// <summary>A product the studio photographs.</summary>
public sealed class Product
{
    /// <summary>UUID v7: time-ordered, so keyset pages in id order are also creation order and inserts stay local in the index.</summary>
    public Guid Id { get; set; }

    public string Sku { get; set; } = "";

    public string Name { get; set; } = "";

    public string? Description { get; set; }

    public string? Brand { get; set; }

    public string Category { get; set; } = "";

    public Dictionary<string, string> Attributes { get; set; } = [];

    public ProductStatus Status { get; set; } = ProductStatus.Draft;

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>Concurrency token (PostgreSQL xmin), exposed as the ETag.</summary>
    public uint Version { get; set; }
}

public enum ProductStatus
{
    Draft,
    Active,
    Archived,
}
