using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Platform;

/// <summary>X-Forwarded-For/-Proto are honoured only from the configured proxies: in AWS the ALB's subnets (the VPC
/// CIDR). Anybody else could otherwise claim any client address or scheme.</summary>
public sealed class ProxyOptions
{
    public const string Section = "ForwardedHeaders";

    /// <summary>CIDR ranges of trusted proxies, e.g. the VPC CIDR the ALB lives in.</summary>
    public IList<string> KnownNetworks { get; } = [];

    /// <summary>Individual trusted proxy addresses.</summary>
    public IList<string> KnownProxies { get; } = [];

    /// <summary>How many proxy hops to unwind (ALB = 1; CloudFront → ALB = 2 with CloudFront's ranges trusted too).</summary>
    public int ForwardLimit { get; set; } = 1;
}

internal static class ForwardedHeaders
{
    public static void AddPlatformForwardedHeaders(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ProxyOptions>().BindConfiguration(ProxyOptions.Section)
            .Validate(o => o.KnownNetworks.All(n => System.Net.IPNetwork.TryParse(n, out _)), "ForwardedHeaders:KnownNetworks must be CIDR ranges such as 10.0.0.0/16")
            .Validate(o => o.KnownProxies.All(p => IPAddress.TryParse(p, out _)), "ForwardedHeaders:KnownProxies must be IP addresses")
            .Validate(o => o.ForwardLimit >= 1, "ForwardedHeaders:ForwardLimit must be at least 1")
            .ValidateOnStart();
        builder.Services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<ProxyOptions>>((forwarded, proxies) =>
        {
            forwarded.ForwardedHeaders = Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedFor |
                                         Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedProto;
            forwarded.ForwardLimit = proxies.Value.ForwardLimit;
            // The framework trusts loopback by default; trust exactly what is configured instead.
            forwarded.KnownIPNetworks.Clear();
            forwarded.KnownProxies.Clear();
            foreach (var network in proxies.Value.KnownNetworks)
                if (System.Net.IPNetwork.TryParse(network, out var parsed)) forwarded.KnownIPNetworks.Add(parsed);
            foreach (var proxy in proxies.Value.KnownProxies)
                if (IPAddress.TryParse(proxy, out var parsed)) forwarded.KnownProxies.Add(parsed);
        });
    }

    /// <summary>Adds the middleware only when a proxy is configured: with both lists empty it believes every caller.</summary>
    public static void UsePlatformForwardedHeaders(this IApplicationBuilder app)
    {
        var proxies = app.ApplicationServices.GetRequiredService<IOptions<ProxyOptions>>().Value;
        if (proxies.KnownNetworks.Count + proxies.KnownProxies.Count > 0) app.UseForwardedHeaders();
    }
}
