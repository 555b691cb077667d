using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TestKit;

namespace Deploy.Tests;

/// <summary>What docker-compose.yml must keep true for the services and the chart. Each check returns one message per
/// broken rule, so the tests can show it passes on the real file and fails on a broken one.</summary>
public static partial class ComposeContract
{
    /// <summary>The containers that run a service image: the project their image builds, the workload identity they
    /// run as (the service account in the cluster) and the Vault database static role whose credentials that identity
    /// gets (the app role for the service, the migrator role for its migrate one-shot), as deploy/terraform/vault maps them.</summary>
    public static readonly IReadOnlyList<(string Service, string Project, string Identity, string Role)> ServiceContainers =
    [
        ("catalog", "Catalog.Api", "catalog", "catalog-app"),
        ("catalog-migrate", "Catalog.Api", "catalog-migrator", "catalog-migrator"),
        ("assets", "Assets.Api", "assets", "assets-app"),
        ("assets-migrate", "Assets.Api", "assets-migrator", "assets-migrator"),
    ];

    /// <summary>The long-running services and the one-shot that migrates each one's database first.</summary>
    public static readonly IReadOnlyList<(string Service, string Migrate)> Services = [("catalog", "catalog-migrate"), ("assets", "assets-migrate")];

    public const string ChartFiles = "deploy/helm/service/files";

    public static readonly string[] ServiceHealthcheck = ["CMD", "/app/service", "healthcheck"];

    public static IEnumerable<string> ServiceContainerViolations(JsonObject compose)
    {
        var services = compose.Services();
        foreach (var (name, project, _, _) in ServiceContainers)
        {
            if (services[name] is not JsonObject service)
            {
                yield return $"service {name} is missing";
                continue;
            }
            var context = service["build"]?["context"]?.ToString();
            var serviceArg = service["build"]?["args"]?["SERVICE"]?.ToString();
            if (context != Repo.Root || serviceArg != project)
                yield return $"{name} must build the repository's Dockerfile with SERVICE={project} (has context {context}, SERVICE={serviceArg})";
        }

        foreach (var (name, migrate) in Services)
        {
            if (services[name] is not JsonObject service || services[migrate] is not JsonObject migration) continue;
            var published = ContainerPorts(service);
            var project = ServiceContainers.Single(c => c.Service == name).Project;
            foreach (var port in ServicePorts(project))
                if (!published.Contains(port)) yield return $"{name} does not publish container port {port}";
            if (!service["healthcheck"]?["test"].Strings().SequenceEqual(ServiceHealthcheck) ?? true)
                yield return $"{name}'s healthcheck must be [{string.Join(", ", ServiceHealthcheck)}] (the image has no shell or curl)";
            if (!migration["command"].Strings().SequenceEqual(["migrate"]))
                yield return $"{migrate} must run the migrate subcommand";
            if (migration["image"]?.ToString() != service["image"]?.ToString())
                yield return $"{migrate} must run {name}'s image";
            if (service.DependsOn().GetValueOrDefault(migrate) != "service_completed_successfully")
                yield return $"{name} must wait for {migrate} to complete successfully";
        }
    }

    /// <summary>Every variable given to a service container reaches a setting the service binds; none carries credentials.</summary>
    public static IEnumerable<string> EnvironmentViolations(JsonObject compose, Func<string, ConfigurationKeys> keysFor)
    {
        foreach (var (name, project, _, _) in ServiceContainers)
        {
            if (compose.Services()[name] is not JsonObject service) continue;
            var keys = keysFor(project);
            foreach (var (variable, value) in service.Environment())
            {
                if (!keys.Binds(variable))
                    yield return $"{name}: {variable} is not a configuration key {project} binds (option classes, appsettings.json) nor a standard OTEL_/AWS_/ASPNETCORE_/DOTNET_ variable";
                if (Regex.IsMatch(variable, "^Database__(Username|Password)$", RegexOptions.IgnoreCase) || CredentialInConnectionString().IsMatch(value))
                    yield return $"{name}: {variable} carries database credentials; they come only from Vault (/vault/secrets)";
            }
        }
    }

    /// <summary>Each service container reads /vault/secrets from a volume only one Vault Agent writes, and that agent
    /// renders the container's own database role with the AppRole credentials vault-init issued for its identity.</summary>
    public static IEnumerable<string> SecretsWiringViolations(JsonObject compose)
    {
        var services = compose.Services();
        var init = services["vault-init"]?.AsObject();
        foreach (var (name, _, identity, role) in ServiceContainers)
        {
            if (services[name] is not JsonObject service) continue;
            var secrets = service.Mounts().SingleOrDefault(m => m.Target == "/vault/secrets");
            if (secrets is null || secrets.Bind || !secrets.ReadOnly)
            {
                yield return $"{name} must mount a named volume read-only at /vault/secrets";
                continue;
            }
            var writers = services.Where(s => s.Key != name && s.Value!.AsObject().Mounts().Any(m => m.Source == secrets.Source && !m.ReadOnly)).ToList();
            if (writers.Count != 1)
            {
                yield return $"{name}'s secrets volume {secrets.Source} must be written by exactly one Vault Agent (found {string.Join(", ", writers.Select(w => w.Key))})";
                continue;
            }
            var (agentName, agentNode) = (writers[0].Key, writers[0].Value!.AsObject());
            var agentRole = agentNode.Environment().GetValueOrDefault("DB_ROLE");
            if (agentRole != role)
                yield return $"{name} gets the credentials of {agentRole ?? "no role"} from {agentName}; it must get {role}'s";
            var approle = agentNode.Mounts().SingleOrDefault(m => m.Target == "/vault/approle");
            var issued = init?.Mounts().SingleOrDefault(m => m.Target == $"/approle/{identity}");
            if (approle is null || !approle.ReadOnly || issued is null || approle.Source != issued.Source)
                yield return $"{agentName} must mount, read-only at /vault/approle, the volume vault-init writes {identity}'s AppRole credentials into";
        }
    }

    /// <summary>Every bind-mounted host path exists and lies inside the repository (a clean clone runs the stack).</summary>
    public static IEnumerable<string> MountViolations(JsonObject compose)
    {
        foreach (var (name, node) in compose.Services())
        {
            foreach (var mount in node!.AsObject().Mounts().Where(m => m.Bind))
            {
                var relative = Path.GetRelativePath(Repo.Root, mount.Source);
                if (relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative))
                    yield return $"{name} mounts {mount.Source}, outside the repository";
                else if (!File.Exists(mount.Source) && !Directory.Exists(mount.Source))
                    yield return $"{name} mounts {relative}, which does not exist";
            }
        }
    }

    /// <summary>The files compose shares with the chart are mounted from the chart's directory, never copied.</summary>
    public static IEnumerable<string> ChartFileViolations(JsonObject compose)
    {
        var template = Repo.PathOf(ChartFiles, "vault", "database.json.ctmpl");
        var rules = Repo.PathOf(ChartFiles, "prometheus", "service.rules.yml");
        var dashboards = Repo.PathOf(ChartFiles, "grafana");
        var agents = compose.Services().Where(s => s.Key.StartsWith("vault-agent-", StringComparison.Ordinal));
        foreach (var (name, _) in agents.Where(a => !a.Value!.AsObject().Mounts().Any(m =>
                     m.Source == template && m.Target == "/vault/templates/database.json.ctmpl" && m.ReadOnly)))
        {
            yield return $"{name} must mount the chart's {ChartFiles}/vault/database.json.ctmpl read-only at /vault/templates/database.json.ctmpl";
        }
        if (!compose.Service("prometheus").Mounts().Any(m => m.Source == rules && m.Target.StartsWith("/etc/prometheus/rules/", StringComparison.Ordinal)))
            yield return $"prometheus must load the chart's {ChartFiles}/prometheus/service.rules.yml from /etc/prometheus/rules/";
        if (!compose.Service("grafana").Mounts().Any(m => m.Source == dashboards))
            yield return $"grafana must mount the chart's dashboards directory {ChartFiles}/grafana";

        foreach (var file in Directory.EnumerateFiles(Repo.PathOf("deploy", "compose"), "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(Repo.Root, file);
            var chartKind = file.EndsWith(".ctmpl", StringComparison.Ordinal) || file.EndsWith(".rules.yml", StringComparison.Ordinal) ||
                            (file.EndsWith(".json", StringComparison.Ordinal) && relative.Contains("grafana", StringComparison.Ordinal));
            if (chartKind) yield return $"{relative} copies a file the chart owns; mount it from {ChartFiles} instead";
        }
    }

    /// <summary>Everything that keeps running has a healthcheck; only one-shots (restart "no", awaited with
    /// service_completed_successfully) go without, and whatever is awaited as healthy has one.</summary>
    public static IEnumerable<string> HealthcheckViolations(JsonObject compose)
    {
        var services = compose.Services();
        var awaited = services.SelectMany(s => s.Value!.AsObject().DependsOn().Select(d => (Dependent: s.Key, Dependency: d.Key, Condition: d.Value))).ToList();
        foreach (var (name, node) in services)
        {
            var service = node!.AsObject();
            var test = service["healthcheck"]?["test"].Strings() ?? [];
            var hasHealthcheck = test.Length > 0 && test[0] != "NONE" && service["healthcheck"]?["disable"]?.GetValue<bool>() != true;
            var oneShot = service["restart"]?.ToString() is null or "no"
                          && awaited.Where(a => a.Dependency == name).All(a => a.Condition == "service_completed_successfully");
            if (!hasHealthcheck && !oneShot)
                yield return $"{name} keeps running but has no healthcheck";
            foreach (var (dependent, _, _) in awaited.Where(a => a.Dependency == name && a.Condition == "service_healthy"))
                if (!hasHealthcheck) yield return $"{dependent} waits for {name} to be healthy, but {name} has no healthcheck";
        }
    }

    /// <summary>The logging stack is optional: its services are in the `logging` profile and nothing outside it
    /// depends on them, so `docker compose up` without the profile still starts everything else.</summary>
    public static IEnumerable<string> ProfileViolations(JsonObject compose, IReadOnlyCollection<string> loggingServices)
    {
        var services = compose.Services();
        foreach (var (name, node) in services)
        {
            var profiles = node!["profiles"].Strings();
            var expected = loggingServices.Contains(name) ? new[] { "logging" } : [];
            if (!profiles.SequenceEqual(expected))
                yield return $"{name} has profiles [{string.Join(", ", profiles)}], expected [{string.Join(", ", expected)}]";
            var optionalDependencies = loggingServices.Contains(name) ? [] : node.AsObject().DependsOn().Keys.Where(loggingServices.Contains);
            foreach (var dependency in optionalDependencies)
                yield return $"{name} depends on {dependency}, which only runs with the logging profile";
        }
    }

    /// <summary>Every address one container gives another (its environment, and the Prometheus, Grafana and fluent-bit
    /// files under deploy/compose) names a compose service and a container port that service publishes: renaming a
    /// service or moving a port breaks this check instead of the stack.</summary>
    public static IEnumerable<string> AddressViolations(JsonObject compose, IEnumerable<(string Where, string Text)> files)
    {
        var services = compose.Services();
        var sources = services.SelectMany(s => s.Value!.AsObject().Environment().Select(e => (Where: $"{s.Key}: {e.Key}", Text: e.Value))).Concat(files);
        foreach (var (where, text) in sources)
        {
            foreach (var (host, port) in Addresses(text))
            {
                if (host is "localhost" or "127.0.0.1" or "0.0.0.0") continue;
                if (services[host] is not JsonObject target)
                    yield return $"{where} points at {host}{(port is null ? "" : ":" + port)}, but no compose service is called {host}";
                else if (port is not null && !ContainerPorts(target).Contains(port))
                    yield return $"{where} points at {host}:{port}, a port {host} does not publish ({string.Join(", ", ContainerPorts(target).Order())})";
            }
        }
    }

    /// <summary>Host and port (when given) of URLs, Npgsql connection strings, Prometheus targets and fluent-bit outputs.</summary>
    internal static IEnumerable<(string Host, string? Port)> Addresses(string text)
    {
        foreach (Match m in Regex.Matches(text, @"\b[a-z][a-z0-9+.-]*://([a-z][a-z0-9.-]*)(?::(\d+))?", RegexOptions.IgnoreCase))
            yield return (m.Groups[1].Value, m.Groups[2].Success ? m.Groups[2].Value : null);
        if (Regex.IsMatch(text, @"(^|;)\s*Host\s*=", RegexOptions.IgnoreCase))
        {
            var pairs = text.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=', 2)).Where(p => p.Length == 2)
                .ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.OrdinalIgnoreCase);
            yield return (pairs["Host"], pairs.GetValueOrDefault("Port", "5432"));
        }
        foreach (Match targets in Regex.Matches(text, @"targets:\s*\[([^\]]*)\]"))
        {
            foreach (Match m in Regex.Matches(targets.Groups[1].Value, @"([a-z][a-z0-9.-]*):(\d+)"))
                yield return (m.Groups[1].Value, m.Groups[2].Value);
        }
        foreach (Match m in Regex.Matches(text, @"^\s*Host\s+(\S+)\s*\n\s*Port\s+(\d+)", RegexOptions.Multiline))
            yield return (m.Groups[1].Value, m.Groups[2].Value);
    }

    /// <summary>Container ports a service publishes (short "host:container" or long syntax) or exposes.</summary>
    public static HashSet<string> ContainerPorts(JsonObject service) =>
        (service["ports"]?.AsArray() ?? []).Select(p => p is JsonObject o ? o["target"]!.ToString() : p!.ToString().Split('/')[0].Split(':')[^1])
            .Concat(service["expose"].Strings().Select(e => e.Split('/')[0]))
            .ToHashSet();

    /// <summary>The API and management ports a service binds (its appsettings.json, Hosting section).</summary>
    public static string[] ServicePorts(string project)
    {
        var hosting = JsonNode.Parse(File.ReadAllText(Repo.PathOf("src", project, "appsettings.json")))!["Hosting"]!;
        return [hosting["ApiPort"]!.ToString(), hosting["ManagementPort"]!.ToString()];
    }

    [GeneratedRegex(@"(^|;)\s*(password|pwd|user ?name|user ?id|user)\s*=", RegexOptions.IgnoreCase)]
    private static partial Regex CredentialInConnectionString();
}
