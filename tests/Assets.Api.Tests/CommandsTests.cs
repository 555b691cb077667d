using Assets.Api.CatalogClient;
using Assets.Api.Data;
using Assets.Api.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.EntityFrameworkCore;
using TestKit;

namespace Assets.Api.Tests;

/// <summary>The binary's subcommands and start-up checks: migrate (the pre-upgrade Job), smoke (the pre-promotion
/// analysis Job), and a configuration error stopping the process with one line.</summary>
[Collection(AssetsCollection.Name)]
public sealed class CommandsTests(AssetsFixture fixture)
{
    [Fact]
    public async Task MigrateIsIdempotentAndTheModelHasNoChangeWithoutAMigration()
    {
        Assert.Contains("migrate: applied 0 migration(s)", await fixture.MigrateAsync(), StringComparison.Ordinal);

        await using var db = new AssetsDbContext(new DbContextOptionsBuilder<AssetsDbContext>().UseNpgsql("Host=unused").Options);
        Assert.False(db.Database.HasPendingModelChanges(), "the model changed without a migration: dotnet ef migrations add <Name>");
    }

    [Fact]
    public async Task TheAppRoleCannotChangeTheSchema()
    {
        var error = await Assert.ThrowsAsync<Npgsql.PostgresException>(async () =>
        {
            await using var connection = new Npgsql.NpgsqlConnection(
                $"Host=127.0.0.1;Port={fixture.Cluster.Primary.Port};Database=assets;Username=assets_app;Password={PostgresCluster.DevPassword("assets_app")};Pooling=false");
            await connection.OpenAsync();
            await using var command = new Npgsql.NpgsqlCommand("DROP TABLE assets.assets", connection);
            await command.ExecuteNonQueryAsync();
        });
        Assert.Equal(Npgsql.PostgresErrorCodes.InsufficientPrivilege, error.SqlState);
    }

    [Fact]
    public async Task TheHealthcheckCommandReportsReadinessAsItsExitCode()
    {
        // What compose's healthcheck runs inside the image (no curl there): exit 0 when /health/ready answers 200.
        var settings = fixture.AssetsSettings();
        settings["Hosting__ManagementPort"] = fixture.Assets.ManagementPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var (ready, _, readyError) = await ServiceProcess.RunCommandAsync(AssetsFixture.Project, settings, TimeSpan.FromSeconds(60), "healthcheck");
        Assert.True(ready == 0, readyError);

        settings["Hosting__ManagementPort"] = Ports.Free().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var (down, _, downError) = await ServiceProcess.RunCommandAsync(AssetsFixture.Project, settings, TimeSpan.FromSeconds(60), "healthcheck");
        Assert.Equal(1, down);
        Assert.Contains("healthcheck", downError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SmokePassesAgainstAHealthyServiceAndFailsAgainstNothing()
    {
        var settings = fixture.AssetsSettings();
        var (passed, stdout, stderr) = await ServiceProcess.RunCommandAsync(AssetsFixture.Project, settings, TimeSpan.FromSeconds(60),
            "smoke", "--base-url", fixture.Assets.Api.BaseAddress!.ToString(), "--iterations", "10");
        Assert.True(passed == 0, stderr);
        Assert.Contains("0 failed", stdout, StringComparison.Ordinal);

        var (failed, _, _) = await ServiceProcess.RunCommandAsync(AssetsFixture.Project, settings, TimeSpan.FromSeconds(60),
            "smoke", "--base-url", $"http://127.0.0.1:{Ports.Free()}/", "--iterations", "2");
        Assert.Equal(1, failed);
    }

    [Fact]
    public async Task BadSettingsStopStartUpWithOneLineNamingEveryKey()
    {
        await using var assets = fixture.StartAssets(new Dictionary<string, string>
        {
            ["Storage__Bucket"] = "",
            ["CatalogClient__BaseUrl"] = "catalog:8080",
        });

        var exitCode = await assets.Exited.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.NotEqual(0, exitCode);
        var line = Assert.Single(assets.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("configuration error:", line, StringComparison.Ordinal);
        Assert.Contains("Storage:Bucket", line, StringComparison.Ordinal);
        Assert.Contains("CatalogClient:BaseUrl", line, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> BadValues => new()
    {
        { "Storage:UploadUrlExpiry", "30.00:00:00" },
        { "Storage:ServiceUrl", "minio:9000" },
        { "Storage:PublicCacheMaxAge", "-00:00:01" },
        { "CatalogClient:Timeout", "00:00:00" },
    };

    /// <summary>The validators start-up runs (the line above shows how a failure is reported), on configuration bound
    /// as the service binds it: each bad value is refused naming its key.</summary>
    [Theory]
    [MemberData(nameof(BadValues))]
    public void ABadValueIsRefusedNamingItsKey(string key, string value)
    {
        var settings = fixture.AssetsSettings().ToDictionary(kv => kv.Key.Replace("__", ":", StringComparison.Ordinal), kv => (string?)kv.Value);
        settings[key] = value;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();

        var failures = key.StartsWith(StorageOptions.Section, StringComparison.Ordinal)
            ? new StorageOptionsValidator().Validate(null, configuration.GetSection(StorageOptions.Section).Get<StorageOptions>()!).Failures
            : new CatalogClientOptionsValidator().Validate(null, configuration.GetSection(CatalogClientOptions.Section).Get<CatalogClientOptions>()!).Failures;

        Assert.Contains(failures ?? [], failure => failure.Contains(key, StringComparison.Ordinal));
    }
}
