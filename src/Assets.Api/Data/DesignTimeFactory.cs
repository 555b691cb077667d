using Platform.Data;

namespace Assets.Api.Data;

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without starting the service (it never connects).</summary>
internal sealed class DesignTimeFactory() : DesignTimeFactory<AssetsDbContext>(AssetsDbContext.Schema);
