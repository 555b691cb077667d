using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using TestKit;

namespace Deploy.Tests;

/// <summary>Catalog built the way the image builds it (the Dockerfile's build stage replayed, once per run), then run
/// from that output the way the container runs it: /app/service, working directory = the output, against a real
/// PostgreSQL primary + standby, credentials from a secrets directory.</summary>
public sealed class PublishedCatalogFixture : IAsyncLifetime
{
    /// <summary>An image tag as CI passes it; not a valid NuGet version, which the build must cope with.</summary>
    public const string ImageVersion = "develop-1a2b3c4";

    private readonly string _work = Path.Combine(Path.GetTempPath(), "dockerfile-publish-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly SecretsDirectory _migratorSecrets = new();

    public string Output { get; private set; } = "";

    public TimeSpan PublishDuration { get; private set; }

    public PostgresCluster Cluster { get; private set; } = null!;

    public SecretsDirectory Secrets { get; } = new();

    public (int ExitCode, string Output) Migration { get; private set; }

    public PublishedService Service { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var clock = Stopwatch.StartNew();
        Output = await DockerfileBuildStage.RunAsync(
            new Dictionary<string, string> { ["SERVICE"] = "Catalog.Api", ["VERSION"] = ImageVersion }, _work);
        PublishDuration = clock.Elapsed;

        Cluster = await PostgresCluster.StartAsync();
        _migratorSecrets.WriteDatabase("catalog_migrator", PostgresCluster.DevPassword("catalog_migrator"));
        Migration = await PublishedService.RunAsync(Output, Configuration(_migratorSecrets.Path), "migrate");

        Secrets.WriteDatabase("catalog_app", PostgresCluster.DevPassword("catalog_app"));
        Service = PublishedService.Start(Output, Configuration(Secrets.Path));
        await Service.WaitForAsync("/health/ready", TimeSpan.FromSeconds(60));
    }

    /// <summary>What compose gives the catalog container, with this machine's database and free ports.</summary>
    public Dictionary<string, string> Configuration(string secretsDirectory, int? managementPort = null) => new()
    {
        ["Database__Writer"] = Cluster.Primary.ServiceConnectionString("catalog"),
        ["Database__Reader"] = Cluster.Standby!.ServiceConnectionString("catalog"),
        ["Secrets__Directory"] = secretsDirectory,
        ["Auth__SigningKey"] = Tokens.SigningKey,
        ["Shutdown__DrainDelay"] = "00:00:00",
        ["Hosting__BindAddress"] = "127.0.0.1",
        ["Hosting__ApiPort"] = Ports.Free().ToString(CultureInfo.InvariantCulture),
        ["Hosting__ManagementPort"] = (managementPort ?? Ports.Free()).ToString(CultureInfo.InvariantCulture),
    };

    public async Task DisposeAsync()
    {
        if (Service is not null) await Service.DisposeAsync();
        if (Cluster is not null) await Cluster.DisposeAsync();
        Secrets.Dispose();
        _migratorSecrets.Dispose();
        try { Directory.Delete(_work, recursive: true); }
        catch (IOException) { }
    }
}

public sealed class DockerfilePublishTests(PublishedCatalogFixture fixture) : IClassFixture<PublishedCatalogFixture>
{
    [Fact]
    public void TheApphostIsRenamedToServiceBesideItsDll()
    {
        var service = Path.Combine(fixture.Output, "service");

        Assert.True(File.Exists(service), $"{service} is missing; the output holds: {string.Join(", ", Directory.GetFiles(fixture.Output).Select(Path.GetFileName))}");
        Assert.True(File.GetUnixFileMode(service).HasFlag(UnixFileMode.OtherExecute), "the apphost must be executable by the image's non-root user");
        Assert.False(File.Exists(Path.Combine(fixture.Output, "Catalog.Api")), "the apphost was copied, not renamed");
        Assert.True(File.Exists(Path.Combine(fixture.Output, "Catalog.Api.dll")));
        Assert.True(File.Exists(Path.Combine(fixture.Output, "appsettings.json")), "the container's working directory /app must hold appsettings.json");
    }

    [Fact]
    public void ThePublishedServiceCarriesReadyToRunCodeAndTheRuntimeSettingsOfTheProjectFiles()
    {
        // Precompiled for this machine's architecture (the classic builder's case: no TARGETARCH), the service and
        // the packages it spends its start-up in.
        foreach (var assembly in new[] { "Catalog.Api.dll", "Platform.dll", "Npgsql.dll", "Microsoft.EntityFrameworkCore.dll", "Dapper.dll", "Serilog.dll" })
        {
            using var pe = new System.Reflection.PortableExecutable.PEReader(File.OpenRead(Path.Combine(fixture.Output, assembly)));
            Assert.True(pe.PEHeaders.CorHeader!.ManagedNativeHeaderDirectory.Size > 0, $"{assembly} has no ReadyToRun code");
            Assert.Equal(System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.Arm64
                ? System.Reflection.PortableExecutable.Machine.Arm64 : System.Reflection.PortableExecutable.Machine.Amd64,
                (System.Reflection.PortableExecutable.Machine)((int)pe.PEHeaders.CoffHeader.Machine ^ 0x7B79));
        }
        var runtime = JsonDocument.Parse(File.ReadAllText(Path.Combine(fixture.Output, "Catalog.Api.runtimeconfig.json"))).RootElement
            .GetProperty("runtimeOptions").GetProperty("configProperties");
        Assert.False(runtime.GetProperty("System.GC.Server").GetBoolean());
        Assert.False(runtime.GetProperty("System.GC.Concurrent").GetBoolean());
    }

    [Fact]
    public async Task ThePublishedServiceMigratesAsTheMigratorAndPassesEveryProbe()
    {
        Assert.True(fixture.Migration.ExitCode == 0, fixture.Migration.Output);
        Assert.Contains("migrate: applied 1 migration(s)", fixture.Migration.Output, StringComparison.Ordinal);

        foreach (var path in new[] { "/health/live", "/health/startup", "/health/ready", "/metrics" })
        {
            using var response = await fixture.Service.Management.GetAsync(new Uri(path.TrimStart('/'), UriKind.Relative));
            Assert.True(response.IsSuccessStatusCode, $"{path} answered {(int)response.StatusCode}");
        }
        var ready = await fixture.Service.Management.GetStringAsync(new Uri("health/ready", UriKind.Relative));
        Assert.Equal("Healthy", JsonDocument.Parse(ready).RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public async Task ItsHealthcheckSubcommandExitsZeroAgainstTheRunningService()
    {
        var (exitCode, output) = await PublishedService.RunAsync(fixture.Output,
            fixture.Configuration(fixture.Secrets.Path, fixture.Service.ManagementPort), "healthcheck");

        Assert.True(exitCode == 0, output);
    }

    [Fact]
    public async Task ItsHealthcheckSubcommandFailsWhenNothingAnswersOnTheManagementPort()
    {
        var (exitCode, output) = await PublishedService.RunAsync(fixture.Output,
            fixture.Configuration(fixture.Secrets.Path, Ports.Free()), "healthcheck");

        Assert.True(exitCode != 0, "healthcheck passed with nothing listening: " + output);
        Assert.Contains("healthcheck:", output, StringComparison.Ordinal);
    }

    [Fact]
    public void ItReportsTheImageVersionBuildArgAsItsServiceVersion()
    {
        var versions = fixture.Service.StdoutLines
            .Select(line => { try { return JsonDocument.Parse(line); } catch (JsonException) { return null; } })
            .Where(document => document is not null && document.RootElement.TryGetProperty("service", out _))
            .Select(document => document!.RootElement.GetProperty("service").GetProperty("version").GetString())
            .Distinct()
            .ToList();

        Assert.Equal([PublishedCatalogFixture.ImageVersion], versions);
    }
}

/// <summary>The published apphost as its own process, started the way the image's ENTRYPOINT starts it.</summary>
public sealed class PublishedService : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _stdout = [];
    private readonly List<string> _stderr = [];

    private PublishedService(Process process, int managementPort)
    {
        _process = process;
        ManagementPort = managementPort;
        Management = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{managementPort}/"), Timeout = TimeSpan.FromSeconds(10) };
    }

    public int ManagementPort { get; }

    public HttpClient Management { get; }

    public IReadOnlyList<string> StdoutLines
    {
        get { lock (_stdout) return [.. _stdout]; }
    }

    private string Output
    {
        get
        {
            lock (_stdout) lock (_stderr) return string.Join('\n', _stderr.Concat(_stdout.TakeLast(30)));
        }
    }

    public static PublishedService Start(string output, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var info = new ProcessStartInfo(Path.Combine(output, "service"))
        {
            WorkingDirectory = output,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        foreach (var (key, value) in environment) info.Environment[key] = value;

        var process = new Process { StartInfo = info };
        var service = new PublishedService(process, int.Parse(environment["Hosting__ManagementPort"], CultureInfo.InvariantCulture));
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (service._stdout) service._stdout.Add(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (service._stderr) service._stderr.Add(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service;
    }

    /// <summary>Runs a subcommand to completion: its exit code and everything it printed.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string output, IReadOnlyDictionary<string, string> environment, string command)
    {
        await using var service = Start(output, environment, command);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await service._process.WaitForExitAsync(timeout.Token);
        service._process.WaitForExit();
        lock (service._stdout) lock (service._stderr)
            return (service._process.ExitCode, string.Join('\n', service._stderr.Concat(service._stdout)));
    }

    public async Task WaitForAsync(string managementPath, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited) throw new InvalidOperationException($"service exited with {_process.ExitCode} before {managementPath} passed:\n{Output}");
            try
            {
                using var response = await Management.GetAsync(new Uri(managementPath.TrimStart('/'), UriKind.Relative));
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(100);
        }
        throw new TimeoutException($"{managementPath} did not pass within {timeout}:\n{Output}");
    }

    public async ValueTask DisposeAsync()
    {
        Management.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}

/// <summary>The same recipe builds Assets: the build stage replayed with SERVICE=Assets.Api, the output started as the
/// container starts it. Catalog and S3 are left unreachable: they are dependencies, so the pod is ready (Degraded).</summary>
public sealed class DockerfilePublishAssetsTests
{
    [Fact]
    public async Task TheSameRecipeBuildsAssetsWhichMigratesAndBecomesReady()
    {
        var work = Path.Combine(Path.GetTempPath(), "dockerfile-publish-assets-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            var output = await DockerfileBuildStage.RunAsync(
                new Dictionary<string, string> { ["SERVICE"] = "Assets.Api", ["VERSION"] = PublishedCatalogFixture.ImageVersion }, work);
            Assert.True(File.Exists(Path.Combine(output, "service")), "the apphost was not renamed to service");
            Assert.False(File.Exists(Path.Combine(output, "Assets.Api")), "the apphost was copied, not renamed");
            Assert.True(File.Exists(Path.Combine(output, "Assets.Api.dll")));
            Assert.True(File.Exists(Path.Combine(output, "appsettings.json")));

            await using var cluster = await PostgresCluster.StartAsync(new PostgresClusterOptions { WithStandby = false });
            using var migrator = new SecretsDirectory();
            migrator.WriteDatabase("assets_migrator", PostgresCluster.DevPassword("assets_migrator"));
            var migration = await PublishedService.RunAsync(output, Configuration(cluster, migrator.Path), "migrate");
            Assert.True(migration.ExitCode == 0, migration.Output);

            using var secrets = new SecretsDirectory();
            secrets.WriteDatabase("assets_app", PostgresCluster.DevPassword("assets_app"));
            var configuration = Configuration(cluster, secrets.Path);
            await using var service = PublishedService.Start(output, configuration);
            await service.WaitForAsync("/health/ready", TimeSpan.FromSeconds(60));
            var ready = JsonDocument.Parse(await service.Management.GetStringAsync(new Uri("health/ready", UriKind.Relative))).RootElement;
            Assert.Equal("Degraded", ready.GetProperty("status").GetString());

            configuration["Hosting__ManagementPort"] = service.ManagementPort.ToString(CultureInfo.InvariantCulture);
            var (exitCode, healthcheck) = await PublishedService.RunAsync(output, configuration, "healthcheck");
            Assert.True(exitCode == 0, healthcheck);
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); }
            catch (IOException) { }
        }
    }

    private static Dictionary<string, string> Configuration(PostgresCluster cluster, string secretsDirectory) => new()
    {
        ["Database__Writer"] = cluster.Primary.ServiceConnectionString("assets"),
        ["Database__Reader"] = "",
        ["Secrets__Directory"] = secretsDirectory,
        ["Auth__SigningKey"] = Tokens.SigningKey,
        ["Shutdown__DrainDelay"] = "00:00:00",
        ["Hosting__BindAddress"] = "127.0.0.1",
        ["Hosting__ApiPort"] = Ports.Free().ToString(CultureInfo.InvariantCulture),
        ["Hosting__ManagementPort"] = Ports.Free().ToString(CultureInfo.InvariantCulture),
        ["CatalogClient__BaseUrl"] = $"http://127.0.0.1:{Ports.Free()}/",
        ["Storage__Bucket"] = "assets",
        ["Storage__ServiceUrl"] = $"http://127.0.0.1:{Ports.Free()}",
        ["Storage__Region"] = "us-east-1",
        ["AWS_ACCESS_KEY_ID"] = "dev-only-unused",
        ["AWS_SECRET_ACCESS_KEY"] = "dev-only-unused",
        ["AWS_EC2_METADATA_DISABLED"] = "true",
    };
}
