using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TestKit;
using static TestKit.CatalogHttp;

namespace Catalog.Api.Tests;

/// <summary>In AWS the service connects with SSL Mode=VerifyFull and the RDS CA bundle: it must work against a
/// server whose certificate chains to the configured CA, and refuse one that does not.</summary>
public sealed class TlsTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "tls-" + Guid.NewGuid().ToString("N")[..12]);

    [Fact]
    public async Task VerifyFullConnectsWithTheRightCaAndRefusesAnotherOne()
    {
        Directory.CreateDirectory(_directory);
        var (ca, wrongCa) = await WriteCertificatesAsync();
        await using var environment = await CatalogEnvironment.StartAsync(new CatalogEnvironmentOptions
        {
            Cluster = new PostgresClusterOptions
            {
                WithStandby = false,
                Settings = ["ssl = on", $"ssl_cert_file = '{_directory}/server.crt'", $"ssl_key_file = '{_directory}/server.key'"],
                // The app role may only connect over TLS, so a plaintext fallback could not pass this test.
                Hba = ["hostnossl all catalog_app 127.0.0.1/32 reject", "hostssl all catalog_app 127.0.0.1/32 scram-sha-256"],
            },
            WaitReady = false,
        });
        var port = environment.Cluster.Primary.Port;
        var verifyFull = $"Host=localhost;Port={port};Database=catalog;SSL Mode=VerifyFull";
        var settings = new Dictionary<string, string>
        {
            ["Database__Writer"] = verifyFull,
            ["Database__Reader"] = "",
            ["Database__RootCertificate"] = ca,
        };

        await environment.RestartAsync(settings);
        await CreateAsync(environment.Service.Api);
        Assert.True(await environment.Cluster.Primary.ScalarAsync<bool>(
            "SELECT bool_and(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.usename = 'catalog_app'"));

        settings["Database__RootCertificate"] = wrongCa;
        await using var refused = ServiceProcess.Start(CatalogEnvironment.Project,
            new Dictionary<string, string>(CatalogEnvironment.Configuration(verifyFull, "", environment.Secrets.Path)) { ["Database__RootCertificate"] = wrongCa });
        await Poll.UntilAsync(() => refused.StdoutLines.Any(line => line.Contains("Waiting for the writer", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(30), "the start-up gate to try the writer");
        using var startup = await refused.Management.GetAsync(new Uri("health/startup", UriKind.Relative));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, startup.StatusCode);
        Assert.Contains(refused.StdoutLines, line => line.Contains("Waiting for the writer", StringComparison.Ordinal) &&
                                                     line.Contains("certificate", StringComparison.OrdinalIgnoreCase));
    }

    private async Task<(string Ca, string WrongCa)> WriteCertificatesAsync()
    {
        var now = DateTimeOffset.UtcNow;
        using var caKey = RSA.Create(2048);
        using var ca = CreateCa("CN=Test RDS CA", caKey, now);
        using var otherKey = RSA.Create(2048);
        using var other = CreateCa("CN=Some other CA", otherKey, now);

        using var serverKey = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var server = request.Create(ca, now.AddDays(-1), now.AddDays(1), RandomNumberGenerator.GetBytes(8));

        await File.WriteAllTextAsync(Path.Combine(_directory, "server.crt"), server.ExportCertificatePem());
        await File.WriteAllTextAsync(Path.Combine(_directory, "server.key"), serverKey.ExportPkcs8PrivateKeyPem());
        await File.WriteAllTextAsync(Path.Combine(_directory, "ca.crt"), ca.ExportCertificatePem());
        await File.WriteAllTextAsync(Path.Combine(_directory, "wrong-ca.crt"), other.ExportCertificatePem());
        // PostgreSQL refuses a key file others can read; it runs as postgres when the tests run as root.
        File.SetUnixFileMode(Path.Combine(_directory, "server.key"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        if (Repo.IsRoot) await Tool.RunAsync("chown", ["-R", "postgres:postgres", _directory]);
        File.SetUnixFileMode(_directory, (UnixFileMode)0b111_101_101);
        return (Path.Combine(_directory, "ca.crt"), Path.Combine(_directory, "wrong-ca.crt"));
    }

    private static X509Certificate2 CreateCa(string subject, RSA key, DateTimeOffset now)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        return request.CreateSelfSigned(now.AddDays(-1), now.AddDays(1));
    }

    public void Dispose()
    {
        try { Directory.Delete(_directory, recursive: true); }
        catch (IOException) { }
    }
}
