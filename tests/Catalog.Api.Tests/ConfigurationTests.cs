using System.Net;
using TestKit;

namespace Catalog.Api.Tests;

/// <summary>A bad configuration or secrets file stops start-up with one line naming the file or key and the
/// problem; at run time a broken secrets file keeps the last good values and a missing one makes the pod unready.</summary>
public sealed class ConfigurationTests
{
    private static readonly TimeSpan s_commandTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task AMissingSecretsFileStopsStartupWithOneLineNamingIt()
    {
        using var secrets = new SecretsDirectory();
        var (exitCode, _, stderr) = await ServiceProcess.RunCommandAsync(CatalogEnvironment.Project,
            CatalogEnvironment.Configuration("Host=127.0.0.1;Database=catalog", "", secrets.Path), s_commandTimeout);
        Assert.Equal(1, exitCode);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(Path.Combine(secrets.Path, "database.json"), line, StringComparison.Ordinal);
        Assert.Contains("not found", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMalformedSecretsFileStopsStartupWithOneLineNamingIt()
    {
        using var secrets = new SecretsDirectory();
        secrets.Write("database.json", "{\"Database\": {\"Username\": \"catalog_app\",, }");
        var (exitCode, _, stderr) = await ServiceProcess.RunCommandAsync(CatalogEnvironment.Project,
            CatalogEnvironment.Configuration("Host=127.0.0.1;Database=catalog", "", secrets.Path), s_commandTimeout);
        Assert.Equal(1, exitCode);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("database.json", line, StringComparison.Ordinal);
        Assert.Contains("invalid JSON at line 1", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "Database:Writer is required")]
    [InlineData("Host=127.0.0.1;Database=catalog;Username=admin;Password=hunter2-leak", "Database:Writer must not carry credentials")]
    [InlineData("Host=127.0.0.1;Nonsense=1", "Database:Writer is not a valid connection string")]
    public async Task ABadConnectionStringStopsStartupWithOneLineNamingTheKey(string writer, string expected)
    {
        using var secrets = new SecretsDirectory();
        secrets.WriteDatabase("catalog_app", "irrelevant");
        var (exitCode, _, stderr) = await ServiceProcess.RunCommandAsync(CatalogEnvironment.Project,
            CatalogEnvironment.Configuration(writer, "", secrets.Path), s_commandTimeout);
        Assert.Equal(1, exitCode);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("configuration error:", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2-leak", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SeveralBadSectionsAreAllNamedOnOneLine()
    {
        using var secrets = new SecretsDirectory();
        secrets.WriteDatabase("catalog_app", "irrelevant");
        var settings = CatalogEnvironment.Configuration("", "", secrets.Path);
        settings["Catalog__PublicCacheMaxAge"] = "-00:00:05";
        var (exitCode, _, stderr) = await ServiceProcess.RunCommandAsync(CatalogEnvironment.Project, settings, s_commandTimeout);
        Assert.Equal(1, exitCode);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("Database:Writer is required", line, StringComparison.Ordinal);
        Assert.Contains("Catalog:PublicCacheMaxAge", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingAuthSettingsStopStartupInsteadOfAcceptingAnyToken()
    {
        using var secrets = new SecretsDirectory();
        secrets.WriteDatabase("catalog_app", "irrelevant");
        var settings = CatalogEnvironment.Configuration("Host=127.0.0.1;Database=catalog", "", secrets.Path);
        settings.Remove("Auth__SigningKey");
        var (exitCode, _, stderr) = await ServiceProcess.RunCommandAsync(CatalogEnvironment.Project, settings, s_commandTimeout);
        Assert.Equal(1, exitCode);
        Assert.Contains("Auth: set exactly one of Auth:Authority", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABrokenSecretsFileAtRunTimeKeepsTheLastGoodValuesAndAMissingOneMakesThePodUnready()
    {
        await using var environment = await CatalogEnvironment.StartAsync(new CatalogEnvironmentOptions { Cluster = new PostgresClusterOptions { WithStandby = false } });
        var service = environment.Service;

        environment.Secrets.Write("database.json", "{ half written");
        await Poll.UntilAsync(async () => await service.MetricAsync("secrets_reloads_total", "outcome=\"failure\"") >= 1, TimeSpan.FromSeconds(10), "a refused secrets reload");
        Assert.Equal(HttpStatusCode.OK, (await service.Management.GetAsync(new Uri("health/ready", UriKind.Relative))).StatusCode);
        await CatalogHttp.CreateAsync(service.Api);
        Assert.Contains(service.StdoutLines, line => line.Contains("Secrets reload refused", StringComparison.Ordinal) && line.Contains("database.json: invalid JSON", StringComparison.Ordinal));

        // Well-formed but without the password (a Vault template whose secret went away): refused the same way,
        // rather than failing options validation on the reload thread and ending the process.
        environment.Secrets.Write("database.json", """{"Database":{"Username":"catalog_app"}}""");
        await Poll.UntilAsync(async () => await service.MetricAsync("secrets_reloads_total", "outcome=\"failure\"") >= 2, TimeSpan.FromSeconds(10), "a second refused secrets reload");
        await CatalogHttp.CreateAsync(service.Api);
        Assert.False(service.Exited.IsCompleted);
        Assert.Contains(service.StdoutLines, line => line.Contains("Database:Password no longer set", StringComparison.Ordinal));

        File.Delete(Path.Combine(environment.Secrets.Path, "database.json"));
        await Poll.UntilAsync(async () =>
            (await service.Management.GetAsync(new Uri("health/ready", UriKind.Relative))).StatusCode == HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(10), "readiness to fail");

        environment.Secrets.WriteDatabase("catalog_app", PostgresCluster.DevPassword("catalog_app"));
        await service.WaitReadyAsync(TimeSpan.FromSeconds(10));
    }
}
