using Assets.Api;
using Assets.Api.Assets;
using Platform;

var builder = WebApplication.CreateBuilder(Commands.HostOptions(args));
builder.AddPlatform();
builder.AddAssets();

var app = builder.Build();
app.MapPlatformEndpoints();
app.MapAssetsApi();

return await app.RunPlatformAsync(args);
