using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace TestKit;

/// <summary>Signs test tokens with a per-run key the services are configured with (Auth:SigningKey).</summary>
public static class Tokens
{
    public const string Issuer = "dev-local";

    public static string SigningKey { get; } = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    public static string Create(string scope, string audience, TimeSpan? lifetime = null, string? key = null, string? issuer = null,
        string? clientId = null, DateTime? notBefore = null)
    {
        var now = DateTime.UtcNow;
        var claims = new List<Claim> { new("sub", "test-user"), new("scope", scope) };
        if (clientId is not null) claims.Add(new Claim("client_id", clientId));
        var expires = now + (lifetime ?? TimeSpan.FromHours(1));
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer ?? Issuer,
            Audience = audience.Length == 0 ? null : audience,
            Subject = new ClaimsIdentity(claims),
            NotBefore = notBefore ?? (expires < now ? expires.AddMinutes(-5) : now.AddSeconds(-5)),
            IssuedAt = notBefore ?? (expires < now ? expires.AddMinutes(-5) : now.AddSeconds(-5)),
            Expires = expires,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Convert.FromBase64String(key ?? SigningKey)), SecurityAlgorithms.HmacSha256),
        };
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }
}
