using Catalog.Api.Data;
using Microsoft.EntityFrameworkCore;
using TestKit;

namespace Catalog.Api.Tests;

/// <summary>The binary's subcommands: migrate (the pre-upgrade Job), smoke (the pre-promotion analysis Job).</summary>
[Collection(CatalogCollection.Name)]
public sealed class CommandsTests(CatalogFixture fixture)
{
    [Fact]
    public async Task MigrateIsIdempotentAndTheModelHasNoChangeWithoutAMigration()
    {
        using var secrets = new SecretsDirectory();
        secrets.WriteDatabase("catalog_migrator", PostgresCluster.DevPassword("catalog_migrator"));
        var (exitCode, stdout, stderr) = await ServiceProcess.RunCommandAsync(CatalogEnvironment.Project,
            CatalogEnvironment.Configuration(fixture.Cluster.Primary.ServiceConnectionString("catalog"), "", secrets.Path),
            TimeSpan.FromSeconds(60), "migrate");
        Assert.True(exitCode == 0, stderr);
        Assert.Contains("migrate: applied 0 migration(s)", stdout, StringComparison.Ordinal);

        await using var db = new CatalogDbContext(new DbContextOptionsBuilder<CatalogDbContext>().UseNpgsql("Host=unused").Options);
        Assert.False(db.Database.HasPendingModelChanges(), "the model changed without a migration: dotnet ef migrations add <Name>");
    }

    [Fact]
    public async Task TheAppRoleCannotChangeTheSchema()
    {
        var error = await Assert.ThrowsAsync<Npgsql.PostgresException>(async () =>
        {
            await using var connection = new Npgsql.NpgsqlConnection(
                $"Host=127.0.0.1;Port={fixture.Cluster.Primary.Port};Database=catalog;Username=catalog_app;Password={PostgresCluster.DevPassword("catalog_app")};Pooling=false");
            await connection.OpenAsync();
            await using var command = new Npgsql.NpgsqlCommand("DROP TABLE catalog.products", connection);
            await command.ExecuteNonQueryAsync();
        });
        Assert.Equal(Npgsql.PostgresErrorCodes.InsufficientPrivilege, error.SqlState);
    }

    [Theory]
    [InlineData("nonsense")]
    [InlineData("smoke", "--base-url", "http://127.0.0.1:1/", "--iterations", "many")]
    // What the configuration provider for the command line could not parse (a FormatException before Main could answer).
    [InlineData("-n=5")]
    // A short switch among settings: the usage, not a stack trace from the configuration provider.
    [InlineData("--environment=Staging", "-x")]
    public async Task BadArgumentsPrintTheUsageAndExitTwo(params string[] args)
    {
        var settings = CatalogEnvironment.Configuration("Host=127.0.0.1;Database=catalog", "", fixture.Environment.Secrets.Path);
        var (exitCode, _, stderr) = await ServiceProcess.RunCommandAsync(CatalogEnvironment.Project, settings, TimeSpan.FromSeconds(60), args);
        Assert.True(exitCode == 2, $"exit {exitCode}: {stderr}");
        Assert.Contains("usage: <service> [", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SmokePassesAgainstAHealthyServiceAndFailsAgainstNothing()
    {
        await CatalogHttp.CreateAsync(fixture.Service.Api);
        // The pre-promotion Job has no Vault identity: smoke must run without any secrets file.
        var settings = CatalogEnvironment.Configuration("Host=127.0.0.1;Database=catalog", "", Path.Combine(Path.GetTempPath(), "no-secrets-here"));
        var (passed, stdout, stderr) = await ServiceProcess.RunCommandAsync(CatalogEnvironment.Project, settings, TimeSpan.FromSeconds(60),
            "smoke", "--base-url", fixture.Service.Api.BaseAddress!.ToString(), "--iterations", "20");
        Assert.True(passed == 0, stderr);
        Assert.Contains("20 iterations", stdout, StringComparison.Ordinal);
        Assert.Contains("0 failed", stdout, StringComparison.Ordinal);

        var (failed, _, _) = await ServiceProcess.RunCommandAsync(CatalogEnvironment.Project, settings, TimeSpan.FromSeconds(60),
            "smoke", "--base-url", $"http://127.0.0.1:{Ports.Free()}/", "--iterations", "3");
        Assert.Equal(1, failed);
    }
}
