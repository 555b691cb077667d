using Assets.Api.Assets;
using Microsoft.EntityFrameworkCore;

namespace Assets.Api.Data;

public sealed class AssetsDbContext(DbContextOptions<AssetsDbContext> options) : DbContext(options)
{
    /// <summary>The schema the migrator role owns; the service's own role only has DML on it.</summary>
    public const string Schema = "assets";

    public DbSet<Asset> Assets => Set<Asset>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.Entity<Asset>(asset =>
        {
            asset.ToTable("assets", t => t.HasCheckConstraint("ck_assets_status", "status IN ('pending', 'available')"));
            asset.HasKey(a => a.Id).HasName("pk_assets");
            asset.Property(a => a.Id).HasColumnName("id").ValueGeneratedNever();
            asset.Property(a => a.ProductId).HasColumnName("product_id");
            asset.Property(a => a.ObjectKey).HasColumnName("object_key").HasMaxLength(AssetRules.ObjectKeyMaxLength).IsRequired();
            asset.HasIndex(a => a.ObjectKey).IsUnique().HasDatabaseName("ix_assets_object_key");
            asset.Property(a => a.FileName).HasColumnName("file_name").HasMaxLength(AssetRules.FileNameMaxLength).IsRequired();
            asset.Property(a => a.ContentType).HasColumnName("content_type").HasMaxLength(AssetRules.ContentTypeMaxLength).IsRequired();
            asset.Property(a => a.SizeBytes).HasColumnName("size_bytes");
            asset.Property(a => a.Sha256).HasColumnName("sha256").HasMaxLength(AssetRules.Sha256Base64Length);
            asset.Property(a => a.Status).HasColumnName("status").HasMaxLength(16).IsRequired()
                .HasConversion(status => AssetRules.StatusName(status), name => AssetRules.ParseStatus(name)!.Value);
            asset.Property(a => a.CreatedAt).HasColumnName("created_at");
            asset.Property(a => a.UpdatedAt).HasColumnName("updated_at");
            // A product's assets are listed in id order, one keyset page at a time.
            asset.HasIndex(a => new { a.ProductId, a.Id }).HasDatabaseName("ix_assets_product_id_id");
        });
    }
}
