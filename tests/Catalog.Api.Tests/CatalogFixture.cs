using TestKit;

namespace Catalog.Api.Tests;

/// <summary>One environment shared by the tests that do not break it.</summary>
public sealed class CatalogFixture : IAsyncLifetime
{
    public CatalogEnvironment Environment { get; private set; } = null!;

    public ServiceProcess Service => Environment.Service;

    public PostgresCluster Cluster => Environment.Cluster;

    /// <summary>A Cognito-style machine client (its access tokens carry client_id instead of aud).</summary>
    public const string MachineClientId = "machine-client";

    /// <summary>The same service hosted in the test process against the same databases: the tier for validation,
    /// problem documents and auth, which need no process of their own.</summary>
    public InProcessService<Program> InProcess { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Environment = await CatalogEnvironment.StartAsync(new CatalogEnvironmentOptions { Settings = s_settings });
        InProcess = InProcessWith(new Dictionary<string, string>());
    }

    /// <summary>Another in-process host on the same databases, with <paramref name="settings"/> over the fixture's.</summary>
    public InProcessService<Program> InProcessWith(IDictionary<string, string> settings)
    {
        var configuration = CatalogEnvironment.Configuration(Cluster.Primary.ServiceConnectionString("catalog"),
            Cluster.Standby!.ServiceConnectionString("catalog"), Environment.Secrets.Path);
        configuration["Auth__ClientIds__0"] = MachineClientId;
        foreach (var (key, value) in settings) configuration[key] = value;
        return new InProcessService<Program>(configuration);
    }

    /// <summary>A client of the in-process service holding the write token.</summary>
    public HttpClient InProcessClient() => InProcessClient(CatalogEnvironment.WriteToken);

    /// <summary>A client of the in-process service; with a token when one is given.</summary>
    public HttpClient InProcessClient(string? token)
    {
        var client = InProcess.CreateClient();
        if (token is not null) client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private static readonly Dictionary<string, string> s_settings = new()
    {
        ["Auth__ClientIds__0"] = MachineClientId,
        // The tests' own address plays the ALB, so X-Forwarded-For from it is honoured.
        ["ForwardedHeaders__KnownProxies__0"] = "127.0.0.1",
        // As in the container: a fresh home directory, so nothing a previous run left there hides a start-up warning.
        ["HOME"] = Directory.CreateTempSubdirectory("catalog-home-").FullName,
        ["DOTNET_RUNNING_IN_CONTAINER"] = "true",
    };

    public async Task DisposeAsync()
    {
        if (InProcess is not null) await InProcess.DisposeAsync();
        if (Environment is not null) await Environment.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class CatalogCollection : ICollectionFixture<CatalogFixture>
{
    public const string Name = "catalog";
}
