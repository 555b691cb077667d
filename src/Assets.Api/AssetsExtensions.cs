using System.Text.Encodings.Web;
using Assets.Api.Assets;
using Assets.Api.CatalogClient;
using Assets.Api.Data;
using Assets.Api.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Platform;
using Platform.Data;

namespace Assets.Api;

public static class AssetsExtensions
{
    public static IHostApplicationBuilder AddAssets(this IHostApplicationBuilder builder)
    {
        builder.AddDatabase<AssetsDbContext>(AssetsDbContext.Schema);
        builder.AddStorage();
        builder.AddCatalogClient();
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, AssetsJsonContext.Default);
            // Presigned URLs and base64 digests are copied out of responses by scripts and people; the default encoder
            // would write '&' and '+' as \u0026 and \u002B. Responses are application/json, never inlined into HTML.
            o.SerializerOptions.Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
        });
        builder.Services.AddSingleton<ISmokeTest, AssetsSmokeTest>();
        return builder;
    }

    private static void AddCatalogClient(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<CatalogClientOptions>().BindConfiguration(CatalogClientOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<CatalogClientOptions>, CatalogClientOptionsValidator>();

        builder.Services.AddHttpClient<CatalogApiClient>((sp, http) =>
                http.BaseAddress = sp.GetRequiredService<IOptions<CatalogClientOptions>>().Value.BaseAddress)
            .AddStandardResilienceHandler()
            .Configure((resilience, sp) =>
            {
                // Read without validation: a bad value is reported once, by CatalogClientOptions' own validation at
                // start, not a second time in the resilience library's words.
                var configured = new CatalogClientOptions();
                sp.GetRequiredService<IConfiguration>().GetSection(CatalogClientOptions.Section).Bind(configured);
                var timeout = configured.Failures().Any() ? new CatalogClientOptions().Timeout : configured.Timeout;
                // Three attempts fit in the total budget; a stalled Catalog costs one attempt, not the whole budget.
                resilience.TotalRequestTimeout.Timeout = timeout;
                resilience.AttemptTimeout.Timeout = timeout / 3;
                resilience.Retry.MaxRetryAttempts = 2;
                resilience.Retry.Delay = TimeSpan.FromMilliseconds(100);
                // Half of the attempts failing among at least ten opens the circuit: requests then fail fast with 503
                // instead of queueing on a Catalog that is down.
                resilience.CircuitBreaker.FailureRatio = 0.5;
                resilience.CircuitBreaker.MinimumThroughput = 10;
                resilience.CircuitBreaker.SamplingDuration = TimeSpan.FromMinutes(1);
                resilience.CircuitBreaker.BreakDuration = CatalogApiClient.BreakDuration;
            });

        builder.Services.AddHttpClient(CatalogHealthCheck.HttpClientName, (sp, http) =>
        {
            http.BaseAddress = sp.GetRequiredService<IOptions<CatalogClientOptions>>().Value.BaseAddress;
            http.Timeout = TimeSpan.FromSeconds(2);
        });
        builder.Services.AddHealthChecks().AddCheck<CatalogHealthCheck>(CatalogApiClient.Dependency,
            failureStatus: HealthStatus.Degraded, tags: [HealthTags.Dependency], timeout: TimeSpan.FromSeconds(3));
    }
}
