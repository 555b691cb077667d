using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace TestKit;

/// <summary>A service hosted inside the test process (WebApplicationFactory over its real Program), for what needs no
/// process of its own: validation, problem documents, auth. Requests go through the whole middleware pipeline and
/// the real handlers in memory, in milliseconds. Ports, signals, probes, logs and failures stay with
/// <see cref="ServiceProcess"/>. Settings use the environment-variable spelling ("Database__Writer").</summary>
public sealed class InProcessService<TEntryPoint>(IReadOnlyDictionary<string, string> settings) : WebApplicationFactory<TEntryPoint>
    where TEntryPoint : class
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in settings) builder.UseSetting(key.Replace("__", ":", StringComparison.Ordinal), value);
        // Request lines of thousands of in-memory requests would bury the test output; errors still show.
        builder.UseSetting("Logging:Level", "Error");
        // A tracer provider in the test process would also trace the tests' own HttpClient calls to the service
        // processes, replacing the traceparent a tracing test sends. Tracing is proven against the processes.
        builder.UseSetting("OTEL_SDK_DISABLED", "true");
        // Nothing routes to the test host through a load balancer: stopping it need not wait for one to drain.
        builder.UseSetting("Shutdown:DrainDelay", "00:00:00");
    }
}
