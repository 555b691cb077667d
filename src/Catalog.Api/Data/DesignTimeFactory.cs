using Platform.Data;

namespace Catalog.Api.Data;

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without starting the service (it never connects).</summary>
internal sealed class DesignTimeFactory() : DesignTimeFactory<CatalogDbContext>(CatalogDbContext.Schema);
