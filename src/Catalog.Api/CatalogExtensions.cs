using Catalog.Api.Data;
using Catalog.Api.Products;
using Platform;
using Platform.Data;

namespace Catalog.Api;

/// <summary>Catalog settings beyond the platform's.</summary>
public sealed class CatalogOptions
{
    public const string Section = "Catalog";

    /// <summary>max-age of public GET responses. CloudFront and browsers may serve a product this stale;
    /// clients that just wrote send their read-your-writes token and bypass caches.</summary>
    public TimeSpan PublicCacheMaxAge { get; set; } = TimeSpan.FromSeconds(30);
}

public static class CatalogExtensions
{
    public static IHostApplicationBuilder AddCatalog(this IHostApplicationBuilder builder)
    {
        builder.AddDatabase<CatalogDbContext>(CatalogDbContext.Schema);
        builder.Services.AddOptions<CatalogOptions>().BindConfiguration(CatalogOptions.Section)
            .Validate(o => o.PublicCacheMaxAge >= TimeSpan.Zero, "Catalog:PublicCacheMaxAge must not be negative")
            .ValidateOnStart();
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, CatalogJsonContext.Default));
        builder.Services.AddSingleton<ISmokeTest, ProductsSmokeTest>();
        return builder;
    }
}
