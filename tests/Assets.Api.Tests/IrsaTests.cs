using System.Net;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using static Assets.Api.Tests.AssetsHttp;

namespace Assets.Api.Tests;

/// <summary>IAM roles for service accounts: on EKS the pod gets AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE (a
/// projected service account token) and no keys. These tests give the SDK exactly that, with STS played by
/// <see cref="FakeSts"/> on loopback, and prove the default chain exchanges the token for credentials.</summary>
[Collection(AssetsCollection.Name)]
public sealed class IrsaTests(AssetsFixture fixture) : IDisposable
{
    private const string RoleArn = "arn:aws:iam::123456789012:role/studio-assets";

    private readonly string _tokenFile = Path.Combine(Path.GetTempPath(), "irsa-token-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly string _token = "eyJhbGciOiJSUzI1NiJ9.service-account-token." + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task TheDefaultChainTurnsTheIrsaVariablesIntoWebIdentityCredentials()
    {
        await using var sts = new FakeSts();
        File.WriteAllText(_tokenFile, _token);
        var saved = new Dictionary<string, string?>();
        try
        {
            foreach (var (name, value) in IrsaEnvironment(sts))
            {
                saved[name] = Environment.GetEnvironmentVariable(name);
                Environment.SetEnvironmentVariable(name, value);
            }

            var credentials = DefaultAWSCredentialsIdentityResolver.GetCredentials();

            Assert.IsType<AssumeRoleWithWebIdentityCredentials>(credentials);
            var resolved = await credentials.GetCredentialsAsync();
            Assert.Equal(FakeSts.SessionToken, resolved.Token);
            var call = Assert.Single(sts.Calls);
            Assert.Equal("AssumeRoleWithWebIdentity", call["Action"]);
            Assert.Equal(RoleArn, call["RoleArn"]);
            Assert.Equal(_token, call["WebIdentityToken"]);
        }
        finally
        {
            foreach (var (name, value) in saved) Environment.SetEnvironmentVariable(name, value);
        }
    }

    [Fact]
    public async Task TheServiceUploadsWithWebIdentityCredentialsAndNoKeys()
    {
        await using var sts = new FakeSts();
        File.WriteAllText(_tokenFile, _token);
        var settings = IrsaEnvironment(sts).ToDictionary(e => e.Name, e => e.Value ?? "");
        await using var assets = fixture.StartAssets(settings);
        await assets.WaitReadyAsync();
        var productId = await fixture.CreateProductAsync();

        var (created, completed) = await UploadAsync(assets.Api, productId, Image());

        Assert.Equal("available", completed.GetProperty("status").GetString());
        Assert.Contains($"X-Amz-Security-Token={FakeSts.SessionToken}", created.UploadUrl, StringComparison.Ordinal);
        Assert.Contains(sts.Calls, call => call["RoleArn"] == RoleArn && call["WebIdentityToken"] == _token);
        using var download = await new HttpClient().GetAsync(new Uri(completed.GetProperty("downloadUrl").GetString()!));
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
    }

    /// <summary>What the EKS pod identity webhook injects, plus STS on loopback; no keys, no profile, no IMDS.</summary>
    private IEnumerable<(string Name, string? Value)> IrsaEnvironment(FakeSts sts) =>
    [
        ("AWS_ROLE_ARN", RoleArn),
        ("AWS_WEB_IDENTITY_TOKEN_FILE", _tokenFile),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL_STS", sts.Url),
        ("AWS_ACCESS_KEY_ID", null),
        ("AWS_SECRET_ACCESS_KEY", null),
        ("AWS_SESSION_TOKEN", null),
        ("AWS_PROFILE", null),
        ("AWS_SHARED_CREDENTIALS_FILE", _tokenFile + ".no-credentials"),
        ("AWS_CONFIG_FILE", _tokenFile + ".no-config"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ];

    public void Dispose() => File.Delete(_tokenFile);
}
