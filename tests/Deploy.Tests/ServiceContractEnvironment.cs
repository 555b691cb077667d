using System.Text.Json;
using System.Text.RegularExpressions;
using TestKit;

namespace Deploy.Tests;

/// <summary>The real Catalog, configured the way the chart configures it in prod: the rendered ConfigMaps as its
/// environment (only what points at AWS replaced by local equivalents), its credentials in the file the chart's Vault
/// template renders, its schema migrated by the migration Job's command with the migrator's rendered credentials.</summary>
public sealed class ServiceContractFixture : IAsyncLifetime
{
    public const string Service = "catalog";
    public const string Project = "Catalog.Api";

    public ChartManifests Chart { get; private set; } = null!;

    public PostgresCluster Cluster { get; private set; } = null!;

    public SecretsDirectory Secrets { get; } = new();

    public ServiceProcess Process { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Chart = await ChartRendering.RenderAsync(Service, "prod");
        Cluster = await PostgresCluster.StartAsync();

        await MigrateAsync(Chart, Cluster);

        Secrets.Write("database.json", RenderVaultTemplate(Chart.Get("Rollout").Obj("spec.template")));
        Process = Start(Secrets.Path);
        await Process.WaitReadyAsync();
    }

    /// <summary>Starts another Catalog with the chart's configuration and the given secrets directory.</summary>
    public ServiceProcess Start(string secretsDirectory) => ServiceProcess.Start(Project, Environment(Chart.ConfigMapData(Service), secretsDirectory));

    /// <summary>The chart's environment for a local run. Replaced: the Aurora endpoints and RDS CA (local PostgreSQL
    /// without TLS; VerifyFull has its own tests), the Vault directory, the ports (free local ones), the Cognito
    /// authority (offline: a local signing key) and the OTLP collector (none here). Everything else is as rendered.</summary>
    public Dictionary<string, string> Environment(IReadOnlyDictionary<string, string> chart, string secretsDirectory) =>
        LocalEnvironment(chart, secretsDirectory, Cluster.Primary.ServiceConnectionString("catalog"), Cluster.Standby!.ServiceConnectionString("catalog"));

    /// <summary>The chart's environment with the local replacements above, for the given writer and reader.</summary>
    public static Dictionary<string, string> LocalEnvironment(IReadOnlyDictionary<string, string> chart, string secretsDirectory, string writer, string reader)
    {
        string[] local = ["Database__Writer", "Database__Reader", "Database__RootCertificate", "Secrets__Directory",
            "Hosting__ApiPort", "Hosting__ManagementPort", "Auth__Authority", "OTEL_EXPORTER_OTLP_ENDPOINT"];
        var environment = chart.Where(e => !local.Contains(e.Key)).ToDictionary(e => e.Key, e => e.Value);
        Assert.True(chart.ContainsKey("Database__Writer") && chart.ContainsKey("Secrets__Directory"), "the chart's ConfigMap lost its database settings");
        environment["Database__Writer"] = writer;
        if (chart.ContainsKey("Database__Reader")) environment["Database__Reader"] = reader;
        environment["Secrets__Directory"] = secretsDirectory;
        environment["Auth__SigningKey"] = Tokens.SigningKey;
        return environment;
    }

    /// <summary>Migrates the cluster's catalog database the way the chart's migration Job does: its command, its
    /// ConfigMap, and the credentials its Vault template renders for the migrator's static role.</summary>
    public static async Task MigrateAsync(ChartManifests chart, PostgresCluster cluster)
    {
        using var migratorSecrets = new SecretsDirectory();
        migratorSecrets.Write("database.json", RenderVaultTemplate(chart.Get("Job", Service + "-migrator").Obj("spec.template")));
        var migrate = LocalEnvironment(chart.ConfigMapData(Service + "-migrator"), migratorSecrets.Path,
            cluster.Primary.ServiceConnectionString("catalog"), cluster.Standby?.ServiceConnectionString("catalog") ?? "");
        var (exitCode, stdout, stderr) = await ServiceProcess.RunCommandAsync(Project, migrate, TimeSpan.FromSeconds(90), "migrate");
        if (exitCode != 0) throw new InvalidOperationException($"migrate with the chart's migrator configuration exited {exitCode}:\n{stderr}\n{stdout}");
    }

    /// <summary>Renders a pod template's Vault database.json template with the dev credentials of the database user
    /// that the template's static role stands for (deploy/postgres/bootstrap.sql: catalog-app → catalog_app).</summary>
    public static string RenderVaultTemplate(System.Text.Json.Nodes.JsonObject podTemplate)
    {
        var annotations = podTemplate.Annotations();
        var (path, render) = VaultTemplate.Parse(annotations["vault.hashicorp.com/agent-inject-template-database.json"]);
        Assert.Equal(annotations["vault.hashicorp.com/agent-inject-secret-database.json"], path);
        var user = path["database/static-creds/".Length..].Replace('-', '_');
        return render(new Dictionary<string, string> { ["username"] = user, ["password"] = PostgresCluster.DevPassword(user) });
    }

    public async Task DisposeAsync()
    {
        if (Process is not null) await Process.DisposeAsync();
        if (Cluster is not null) await Cluster.DisposeAsync();
        Secrets.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class ServiceContractCollection : ICollectionFixture<ServiceContractFixture>
{
    public const string Name = "service contract";
}

/// <summary>Renders the chart's Vault Agent templates the way Consul Template does, for the subset they use:
/// comments, whitespace trim markers, one <c>with secret "path"</c> block, and <c>.Data.key | toJSON</c>. Anything
/// else throws, so a template that grows beyond what this renderer proves fails the tests instead of passing them.</summary>
public static partial class VaultTemplate
{
    public static (string SecretPath, Func<IReadOnlyDictionary<string, string>, string> Render) Parse(string template)
    {
        var parts = new List<(string Text, string? Action)>();
        var position = 0;
        foreach (Match action in Action().Matches(template))
        {
            var text = template[position..action.Index];
            if (action.Groups["left"].Success) text = text.TrimEnd();
            if (parts.Count > 0 && parts[^1].Action is { } previous && previous.StartsWith('-')) text = text.TrimStart();
            parts.Add((text, null));
            parts.Add(("", (action.Groups["right"].Success ? "-" : "") + action.Groups["body"].Value.Trim()));
            position = action.Index + action.Length;
        }
        var tail = template[position..];
        if (parts.Count > 0 && parts[^1].Action!.StartsWith('-')) tail = tail.TrimStart();
        parts.Add((tail, null));

        string? path = null;
        var body = new List<(string Text, string? Key)>();
        var inside = false;
        foreach (var (text, rawAction) in parts)
        {
            if (rawAction is null)
            {
                if (inside) body.Add((text, null));
                else if (text.Trim().Length > 0) throw new NotSupportedException($"text outside the secret block: {text}");
                continue;
            }
            var action = rawAction.TrimStart('-');
            if (action.StartsWith("/*", StringComparison.Ordinal) && action.EndsWith("*/", StringComparison.Ordinal)) continue;
            if (WithSecret().Match(action) is { Success: true } with && !inside)
            {
                path = with.Groups["path"].Value;
                inside = true;
                continue;
            }
            if (action == "end" && inside)
            {
                inside = false;
                continue;
            }
            var data = DataToJson().Match(action);
            if (!data.Success || !inside) throw new NotSupportedException($"unsupported template action {{{{ {action} }}}}");
            body.Add(("", data.Groups["key"].Value));
        }
        if (path is null || inside) throw new NotSupportedException("the template has no complete {{ with secret \"...\" }} block");

        string Render(IReadOnlyDictionary<string, string> data) =>
            string.Concat(body.Select(part => part.Key is null ? part.Text : JsonSerializer.Serialize(data[part.Key])));
        return (path, Render);
    }

    [GeneratedRegex(@"\{\{(?<left>-\s)?(?<body>.*?)(?<right>\s-)?\}\}", RegexOptions.Singleline)]
    private static partial Regex Action();

    [GeneratedRegex(@"^with secret ""(?<path>[^""]+)""$")]
    private static partial Regex WithSecret();

    [GeneratedRegex(@"^\.Data\.(?<key>\w+) \| toJSON$")]
    private static partial Regex DataToJson();
}
