using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Platform;

/// <summary>JWT bearer authentication. Reads are anonymous; writes need <see cref="WriteScope"/>.
/// In AWS the tokens come from Amazon Cognito (<see cref="Authority"/> = the user pool's issuer URL); Cognito
/// access tokens carry <c>client_id</c> instead of <c>aud</c>, so accepted client ids are configured separately.
/// Local runs use <see cref="SigningKey"/>, which is never set by default.</summary>
public sealed class AuthOptions : IValidatableObject
{
    public const string Section = "Auth";

    /// <summary>OIDC issuer whose signing keys are trusted, e.g. https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc.</summary>
    public string? Authority { get; set; }

    /// <summary>Accepted <c>aud</c> values (tokens that carry an audience).</summary>
    public IList<string> Audiences { get; } = [];

    /// <summary>Accepted <c>client_id</c> values (Cognito access tokens, which carry no audience).</summary>
    public IList<string> ClientIds { get; } = [];

    /// <summary>Scope a token needs to write, e.g. "catalog:write", or "catalog/write" for a Cognito resource server "catalog".</summary>
    public string WriteScope { get; set; } = "";

    /// <summary>Local development only: base64 HMAC-SHA256 key for tokens minted by the <c>dev-token</c> command.</summary>
    public string? SigningKey { get; set; }

    /// <summary>Issuer of locally signed tokens.</summary>
    public string Issuer { get; set; } = "dev-local";

    /// <summary>Set false only for a local OIDC server on plain HTTP.</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var hasAuthority = !string.IsNullOrWhiteSpace(Authority);
        var hasKey = !string.IsNullOrWhiteSpace(SigningKey);
        if (hasAuthority == hasKey)
            yield return new("Auth: set exactly one of Auth:Authority (OIDC issuer, e.g. Cognito) or Auth:SigningKey (local development only)");
        if (hasKey && DecodedKey(SigningKey!) is not { Length: >= 32 })
            yield return new("Auth:SigningKey must be base64 of at least 32 bytes");
        if (Audiences.Count == 0 && ClientIds.Count == 0)
            yield return new("Auth: set Auth:Audiences and/or Auth:ClientIds (tokens for anybody else are refused)");
        if (string.IsNullOrWhiteSpace(WriteScope)) yield return new("Auth:WriteScope is required");
    }

    internal static byte[]? DecodedKey(string key)
    {
        try { return Convert.FromBase64String(key); }
        catch (FormatException) { return null; }
    }
}

/// <summary>Authorization policies the services put on their endpoint groups.</summary>
public static class PlatformPolicies
{
    public const string Write = "write";
}

internal static class Auth
{
    public static void AddPlatformAuth(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section)
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>();

        // No default scheme: reads are anonymous, so a request is authenticated only when its endpoint's policy asks
        // (the write policy names the JWT scheme). Authenticating every request cost about a fifth of a read's CPU.
        AppContext.SetSwitch("Microsoft.AspNetCore.Authentication.SuppressAutoDefaultScheme", true);
        builder.Services.AddAuthentication().AddJwtBearer();
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<AuthOptions>>((jwt, auth) => Configure(jwt, auth.Value));

        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(PlatformPolicies.Write, policy => policy
                .AddAuthenticationSchemes(JwtBearerDefaults.AuthenticationScheme)
                .RequireAuthenticatedUser()
                .RequireAssertion(context => HasScope(context.User,
                    context.Resource is Microsoft.AspNetCore.Http.HttpContext http
                        ? http.RequestServices.GetRequiredService<IOptions<AuthOptions>>().Value.WriteScope
                        : "")));
    }

    private static void Configure(JwtBearerOptions jwt, AuthOptions auth)
    {
        jwt.MapInboundClaims = false;
        jwt.RequireHttpsMetadata = auth.RequireHttpsMetadata;
        var parameters = new TokenValidationParameters
        {
            ValidateIssuer = true,
            ValidateLifetime = true,
            ValidateIssuerSigningKey = true,
            ClockSkew = TimeSpan.FromSeconds(30),
            // aud or client_id, checked together below (Cognito access tokens have no aud).
            ValidateAudience = true,
            AudienceValidator = (audiences, token, _) => IsAcceptedAudience(audiences, token, auth),
            NameClaimType = "sub",
        };
        if (!string.IsNullOrWhiteSpace(auth.Authority))
        {
            jwt.Authority = auth.Authority;
        }
        else if (AuthOptions.DecodedKey(auth.SigningKey ?? "") is { } key)
        {
            parameters.ValidIssuer = auth.Issuer;
            parameters.IssuerSigningKey = new SymmetricSecurityKey(key);
            parameters.ValidAlgorithms = [SecurityAlgorithms.HmacSha256];
        }
        jwt.TokenValidationParameters = parameters;
    }

    private static bool IsAcceptedAudience(IEnumerable<string> audiences, SecurityToken token, AuthOptions auth)
    {
        var tokenAudiences = audiences.ToList();
        if (tokenAudiences.Count > 0) return tokenAudiences.Any(a => auth.Audiences.Contains(a, StringComparer.Ordinal));
        return token is JsonWebToken jwt && jwt.TryGetPayloadValue<string>("client_id", out var clientId) &&
               auth.ClientIds.Contains(clientId, StringComparer.Ordinal);
    }

    /// <summary>Scopes arrive as one space-separated "scope" claim (OAuth 2, Cognito) or as several "scp" claims.</summary>
    internal static bool HasScope(ClaimsPrincipal user, string scope) =>
        !string.IsNullOrEmpty(scope) &&
        user.FindAll(c => c.Type is "scope" or "scp")
            .SelectMany(c => c.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Contains(scope, StringComparer.Ordinal);

}

[OptionsValidator]
internal sealed partial class AuthOptionsValidator : IValidateOptions<AuthOptions>;
