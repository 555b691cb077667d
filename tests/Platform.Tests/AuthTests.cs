using System.Security.Claims;

namespace Platform.Tests;

public sealed class AuthTests
{
    [Theory]
    [InlineData("scope", "openid catalog:write", "catalog:write", true)]
    [InlineData("scope", "catalog/write", "catalog/write", true)]
    [InlineData("scp", "catalog:write", "catalog:write", true)]
    [InlineData("scope", "catalog:writer", "catalog:write", false)]
    [InlineData("scope", "catalog:read", "catalog:write", false)]
    [InlineData("role", "catalog:write", "catalog:write", false)]
    public void TheWriteScopeMustBeOneOfTheTokensScopes(string claim, string value, string required, bool expected)
    {
        var user = new ClaimsPrincipal(new ClaimsIdentity([new Claim(claim, value)], "test"));
        Assert.Equal(expected, Auth.HasScope(user, required));
    }

    [Fact]
    public void AuthorityAndSigningKeyAreMutuallyExclusiveAndOneIsRequired()
    {
        var neither = new AuthOptions { WriteScope = "x" };
        neither.Audiences.Add("a");
        Assert.Contains(Failures(neither), e => e.Contains("exactly one", StringComparison.Ordinal));

        var both = new AuthOptions { WriteScope = "x", Authority = "https://issuer", SigningKey = Convert.ToBase64String(new byte[32]) };
        both.Audiences.Add("a");
        Assert.Contains(Failures(both), e => e.Contains("exactly one", StringComparison.Ordinal));

        var shortKey = new AuthOptions { WriteScope = "x", SigningKey = Convert.ToBase64String(new byte[8]) };
        shortKey.Audiences.Add("a");
        Assert.Contains(Failures(shortKey), e => e.Contains("at least 32 bytes", StringComparison.Ordinal));

        var valid = new AuthOptions { WriteScope = "x", SigningKey = Convert.ToBase64String(new byte[32]) };
        valid.Audiences.Add("a");
        Assert.Empty(Failures(valid));
    }

    /// <summary>What the source-generated validator, the one start-up runs, reports: each failure as written, naming the key.</summary>
    private static IEnumerable<string> Failures(AuthOptions options) => new AuthOptionsValidator().Validate(null, options).Failures ?? [];
}
