using Catalog.Api.Products;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;

namespace Catalog.Api.Data;

public sealed class CatalogDbContext(DbContextOptions<CatalogDbContext> options) : DbContext(options)
{
    /// <summary>The schema the migrator role owns; the service's own role only has DML on it.</summary>
    public const string Schema = "catalog";

    public DbSet<Product> Products => Set<Product>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.Entity<Product>(product =>
        {
            product.ToTable("products", t => t.HasCheckConstraint("ck_products_status", "status IN ('draft', 'active', 'archived')"));
            product.HasKey(p => p.Id).HasName("pk_products");
            product.Property(p => p.Id).HasColumnName("id").ValueGeneratedNever();
            product.Property(p => p.Sku).HasColumnName("sku").HasMaxLength(ProductRules.SkuMaxLength).IsRequired();
            product.HasIndex(p => p.Sku).IsUnique().HasDatabaseName(ProductRules.SkuUniqueIndex);
            product.Property(p => p.Name).HasColumnName("name").HasMaxLength(ProductRules.NameMaxLength).IsRequired();
            product.Property(p => p.Description).HasColumnName("description").HasMaxLength(ProductRules.DescriptionMaxLength);
            product.Property(p => p.Brand).HasColumnName("brand").HasMaxLength(ProductRules.ShortTextMaxLength);
            product.Property(p => p.Category).HasColumnName("category").HasMaxLength(ProductRules.ShortTextMaxLength).IsRequired();
            // Converted with the source-generated serializer: Npgsql's dynamic JSON mapping goes through reflection
            // on every row, which dominated the cost of a list page.
            product.Property(p => p.Attributes).HasColumnName("attributes").HasColumnType("jsonb").IsRequired()
                .HasConversion(attributes => AttributesJson.Write(attributes), json => AttributesJson.Read(json), AttributesJson.Comparer);
            product.Property(p => p.Status).HasColumnName("status").HasMaxLength(16).IsRequired()
                .HasConversion(status => ProductRules.StatusName(status), name => ProductRules.ParseStatus(name)!.Value);
            product.Property(p => p.CreatedAt).HasColumnName("created_at");
            product.Property(p => p.UpdatedAt).HasColumnName("updated_at");
            // PostgreSQL's xmin changes on every update of the row: a free concurrency token and the ETag.
            product.Property(p => p.Version).IsRowVersion();
            // Keyset pages filtered by category or status walk these in id order.
            product.HasIndex(p => new { p.Category, p.Id }).HasDatabaseName("ix_products_category_id");
            product.HasIndex(p => new { p.Status, p.Id }).HasDatabaseName("ix_products_status_id");
        });
    }
}

/// <summary>jsonb ⇄ attribute map with the source-generated serializer, and a comparer so in-place edits are detected.</summary>
internal static class AttributesJson
{
    public static readonly ValueComparer<Dictionary<string, string>> Comparer = new(
        (a, b) => a!.Count == b!.Count && !a.Except(b).Any(),
        attributes => attributes.Aggregate(0, (hash, pair) => HashCode.Combine(hash, pair.Key, pair.Value)),
        attributes => new Dictionary<string, string>(attributes));

    public static string Write(Dictionary<string, string> attributes) =>
        JsonSerializer.Serialize(attributes, CatalogJsonContext.Default.DictionaryStringString);

    public static Dictionary<string, string> Read(string json) =>
        JsonSerializer.Deserialize(json, CatalogJsonContext.Default.DictionaryStringString) ?? [];
}
