using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Platform;

namespace Catalog.Api.Products;

/// <summary>Body of POST /api/v1/products and PUT /api/v1/products/{id}. Every property is nullable so a missing
/// field is reported as a field error instead of failing deserialization as a whole.</summary>
public sealed record ProductRequest(
    string? Sku,
    string? Name,
    string? Description,
    string? Brand,
    string? Category,
    Dictionary<string, string>? Attributes,
    string? Status);

public sealed record ProductResponse(
    Guid Id,
    string Sku,
    string Name,
    string? Description,
    string? Brand,
    string Category,
    IReadOnlyDictionary<string, string> Attributes,
    string Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public static ProductResponse From(Product p) =>
        new(p.Id, p.Sku, p.Name, p.Description, p.Brand, p.Category, p.Attributes, ProductRules.StatusName(p.Status), p.CreatedAt, p.UpdatedAt);
}

/// <summary>One keyset page. <see cref="NextCursor"/> is null on the last page.</summary>
public sealed record ProductPage(IReadOnlyList<ProductResponse> Items, string? NextCursor);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ProductRequest))]
[JsonSerializable(typeof(ProductResponse))]
[JsonSerializable(typeof(ProductPage))]
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class CatalogJsonContext : JsonSerializerContext;

/// <summary>The rules a product must satisfy; the database constraints mirror the lengths.</summary>
public static partial class ProductRules
{
    public const int SkuMaxLength = 64;
    public const int NameMaxLength = 200;
    public const int DescriptionMaxLength = 4000;
    public const int ShortTextMaxLength = 100;
    public const int MaxAttributes = 50;
    public const int AttributeKeyMaxLength = 64;
    public const int AttributeValueMaxLength = 1000;
    public const string SkuUniqueIndex = "ix_products_sku";

    /// <summary>Upper-case letters, digits and inner hyphens, 3–64 characters: safe in URLs, file names and labels.</summary>
    [GeneratedRegex("^[A-Z0-9][A-Z0-9-]{1,62}[A-Z0-9]$")]
    public static partial Regex SkuPattern();

    public static string StatusName(ProductStatus status) => status switch
    {
        ProductStatus.Draft => "draft",
        ProductStatus.Active => "active",
        _ => "archived",
    };

    public static ProductStatus? ParseStatus(string? name) => name switch
    {
        "draft" => ProductStatus.Draft,
        "active" => ProductStatus.Active,
        "archived" => ProductStatus.Archived,
        _ => null,
    };

    /// <summary>Field errors keyed by the JSON property name; empty when the request is valid.</summary>
    public static Dictionary<string, string[]> Validate(ProductRequest request)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(request.Sku)) errors["sku"] = ["A SKU is required."];
        else if (!SkuPattern().IsMatch(request.Sku)) errors["sku"] = ["A SKU is 3-64 upper-case letters, digits and inner hyphens."];

        Text("name", request.Name, NameMaxLength, required: true);
        Text("description", request.Description, DescriptionMaxLength, required: false);
        Text("brand", request.Brand, ShortTextMaxLength, required: false);
        Text("category", request.Category, ShortTextMaxLength, required: true);

        if (request.Attributes is { } attributes)
        {
            if (attributes.Count > MaxAttributes) errors["attributes"] = [$"At most {MaxAttributes} attributes."];
            foreach (var (key, value) in attributes)
            {
                if (key.Length is 0 or > AttributeKeyMaxLength || !PlainText.IsValid(key))
                    errors[$"attributes.{Truncate(key)}"] = [$"Attribute names are 1-{AttributeKeyMaxLength} printable characters."];
                else if (value is null || value.Length > AttributeValueMaxLength || !PlainText.IsValid(value))
                    errors[$"attributes.{key}"] = [$"Attribute values are at most {AttributeValueMaxLength} printable characters."];
            }
        }
        if (request.Status is not null && ParseStatus(request.Status) is null)
            errors["status"] = ["Status is one of draft, active, archived."];
        return errors;

        void Text(string field, string? value, int maxLength, bool required)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                if (required) errors[field] = ["A value is required."];
            }
            else if (value.Length > maxLength)
            {
                errors[field] = [$"At most {maxLength} characters."];
            }
            else if (!PlainText.IsValid(value, allowLineBreaks: field == "description"))
            {
                errors[field] = ["Control characters, bidirectional overrides and invalid Unicode are not allowed."];
            }
        }
    }

    private static string Truncate(string value) => value.Length <= 40 ? value : value[..40];
}
