using Assets.Api.Data;
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

    public static TheoryData<string, string, string[]> BadSettings => new()
    {
        { "Storage__Bucket", "", ["Storage:Bucket"] },
        { "Storage__UploadUrlExpiry", "30.00:00:00", ["Storage:UploadUrlExpiry"] },
        { "Storage__ServiceUrl", "minio:9000", ["Storage:ServiceUrl"] },
        { "CatalogClient__BaseUrl", "catalog:8080", ["CatalogClient:BaseUrl"] },
        { "CatalogClient__Timeout", "00:00:00", ["CatalogClient:Timeout"] },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public async Task ABadSettingStopsStartUpWithOneLineNamingTheKey(string variable, string value, string[] keys)
    {
        await using var assets = fixture.StartAssets(new Dictionary<string, string> { [variable] = value });

        var exitCode = await assets.Exited.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.NotEqual(0, exitCode);
        var line = Assert.Single(assets.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("configuration error:", line, StringComparison.Ordinal);
        foreach (var key in keys) Assert.Contains(key, line, StringComparison.Ordinal);
    }
}
