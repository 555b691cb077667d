using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using TestKit;
using static TestKit.CatalogHttp;

namespace Catalog.Api.Tests;

/// <summary>The production path of authentication: Auth:Authority names an OIDC issuer (a Cognito user pool in AWS)
/// whose discovery document and JWKS the service fetches; tokens are RS256 and carry client_id instead of aud, as
/// Cognito access tokens do. The issuer here is a stand-in on 127.0.0.1 serving exactly those two documents.</summary>
public sealed class OidcAuthorityTests
{
    private const string ClientId = "studio-machine-client";
    private const string WriteScope = "catalog/write";

    [Fact]
    public async Task TokensFromTheAuthoritysPublishedKeysAreAcceptedAndOthersAreNot()
    {
        using var signingKey = RSA.Create(2048);
        using var strangerKey = RSA.Create(2048);
        await using var issuer = new OidcIssuer(signingKey, "pool-key-1");
        await using var environment = await CatalogEnvironment.StartAsync(new CatalogEnvironmentOptions
        {
            Cluster = new PostgresClusterOptions { WithStandby = false },
            Settings = new Dictionary<string, string>
            {
                ["Auth__SigningKey"] = "",
                ["Auth__Authority"] = issuer.Authority,
                ["Auth__RequireHttpsMetadata"] = "false",
                ["Auth__Audiences__0"] = "",
                ["Auth__ClientIds__0"] = ClientId,
                ["Auth__WriteScope"] = WriteScope,
            },
        });

        Assert.Equal(HttpStatusCode.Created, await WriteAsync(environment, Token(issuer.Authority, signingKey, "pool-key-1", ClientId, WriteScope)));
        Assert.Contains(issuer.Requests, path => path.EndsWith("/.well-known/openid-configuration", StringComparison.Ordinal));
        Assert.Contains(issuer.Requests, path => path.EndsWith("/jwks.json", StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.Unauthorized, await WriteAsync(environment, Token(issuer.Authority, strangerKey, "pool-key-1", ClientId, WriteScope)));
        Assert.Equal(HttpStatusCode.Unauthorized, await WriteAsync(environment, Token("http://127.0.0.1:1/other-pool", signingKey, "pool-key-1", ClientId, WriteScope)));
        Assert.Equal(HttpStatusCode.Unauthorized, await WriteAsync(environment, Token(issuer.Authority, signingKey, "pool-key-1", "another-client", WriteScope)));
        Assert.Equal(HttpStatusCode.Forbidden, await WriteAsync(environment, Token(issuer.Authority, signingKey, "pool-key-1", ClientId, "catalog/read")));
    }

    private static async Task<HttpStatusCode> WriteAsync(CatalogEnvironment environment, string token)
    {
        using var api = new HttpClient { BaseAddress = environment.Service.Api.BaseAddress };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await api.PostAsJsonAsync("api/v1/products", Product());
        return response.StatusCode;
    }

    /// <summary>An access token shaped like Cognito's: RS256, kid, iss = the pool, client_id and scope, no aud.</summary>
    private static string Token(string issuer, RSA key, string keyId, string clientId, string scope) =>
        new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Subject = new ClaimsIdentity([new Claim("sub", "machine"), new Claim("client_id", clientId), new Claim("scope", scope), new Claim("token_use", "access")]),
            Expires = DateTime.UtcNow.AddMinutes(30),
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(key) { KeyId = keyId }, SecurityAlgorithms.RsaSha256),
        });

    /// <summary>Serves {authority}/.well-known/openid-configuration and {authority}/jwks.json, as a Cognito user pool does.</summary>
    private sealed class OidcIssuer : IAsyncDisposable
    {
        private readonly List<string> _requests = [];
        private readonly LoopbackHttpServer _server;
        private readonly byte[] _discovery;
        private readonly byte[] _jwks;

        public OidcIssuer(RSA key, string keyId)
        {
            _server = new LoopbackHttpServer(AnswerAsync);
            Authority = $"{_server.Url}/eu-west-1_TestPool";
            var parameters = key.ExportParameters(includePrivateParameters: false);
            _discovery = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
            {
                ["issuer"] = Authority,
                ["jwks_uri"] = $"{Authority}/jwks.json",
                ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
            });
            _jwks = JsonSerializer.SerializeToUtf8Bytes(new
            {
                keys = new[]
                {
                    new Dictionary<string, string>
                    {
                        ["kty"] = "RSA", ["alg"] = "RS256", ["use"] = "sig", ["kid"] = keyId,
                        ["n"] = Base64UrlEncoder.Encode(parameters.Modulus), ["e"] = Base64UrlEncoder.Encode(parameters.Exponent),
                    },
                },
            });
        }

        public string Authority { get; }

        public IReadOnlyList<string> Requests
        {
            get { lock (_requests) return [.. _requests]; }
        }

        private async Task AnswerAsync(HttpListenerContext context, CancellationToken cancellationToken)
        {
            var path = context.Request.Url!.AbsolutePath;
            lock (_requests) _requests.Add(path);
            var pool = new Uri(Authority).AbsolutePath;
            var body = path == pool + "/.well-known/openid-configuration" ? _discovery : path == pool + "/jwks.json" ? _jwks : null;
            await LoopbackHttpServer.RespondAsync(context, body is null ? 404 : 200, "application/json", body ?? "{}"u8.ToArray());
        }

        public ValueTask DisposeAsync() => _server.DisposeAsync();
    }
}
