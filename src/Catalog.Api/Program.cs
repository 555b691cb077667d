using Catalog.Api;
using Catalog.Api.Products;
using Platform;

var builder = WebApplication.CreateBuilder(Commands.HostOptions(args));
builder.AddPlatform();
builder.AddCatalog();

var app = builder.Build();
app.MapPlatformEndpoints();
app.MapProductsApi();

return await app.RunPlatformAsync(args);
