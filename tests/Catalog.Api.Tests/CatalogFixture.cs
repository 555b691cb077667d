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

    public async Task InitializeAsync() => Environment = await CatalogEnvironment.StartAsync(new CatalogEnvironmentOptions
    {
        Settings = new()
        {
            ["Auth__ClientIds__0"] = MachineClientId,
            // The tests' own address plays the ALB, so X-Forwarded-For from it is honoured.
            ["ForwardedHeaders__KnownProxies__0"] = "127.0.0.1",
            // As in the container: a fresh home directory, so nothing a previous run left there hides a start-up warning.
            ["HOME"] = Directory.CreateTempSubdirectory("catalog-home-").FullName,
            ["DOTNET_RUNNING_IN_CONTAINER"] = "true",
        },
    });

    public async Task DisposeAsync()
    {
        if (Environment is not null) await Environment.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class CatalogCollection : ICollectionFixture<CatalogFixture>
{
    public const string Name = "catalog";
}
