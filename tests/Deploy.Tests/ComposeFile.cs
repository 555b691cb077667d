using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text.Json;
using System.Text.Json.Nodes;
using TestKit;

namespace Deploy.Tests;

/// <summary>docker-compose.yml as Compose itself resolves it (<c>docker-compose config</c>: anchors merged, relative
/// paths made absolute, defaults filled in), as JSON.</summary>
public static class ComposeFile
{
    public static string Path => Repo.PathOf("docker-compose.yml");

    /// <summary>Runs <c>docker-compose config</c> on a file and returns the resolved model.</summary>
    public static async Task<JsonObject> ResolveAsync(string? file = null)
    {
        var yaml = await Tool.RunAsync(DeployTools.DockerCompose, ["-f", file ?? Path, "--profile", "logging", "config"]);
        return (JsonObject)await Yaml.ToJsonAsync(yaml);
    }

    /// <summary>Runs <c>docker-compose config -q</c>: its exit code and messages.</summary>
    public static Task<(int ExitCode, string Output)> ValidateAsync(string file, params string[] profiles) =>
        Tool.RunRawAsync(DeployTools.DockerCompose, ["-f", file, .. profiles.SelectMany(p => new[] { "--profile", p }), "config", "-q"]);

    public static JsonObject Services(this JsonObject compose) => compose["services"]!.AsObject();

    public static JsonObject Service(this JsonObject compose, string name) =>
        compose.Services()[name]?.AsObject() ?? throw new InvalidOperationException($"docker-compose.yml has no service {name}");

    public static Dictionary<string, string> Environment(this JsonObject service) =>
        service["environment"]?.AsObject().ToDictionary(e => e.Key, e => e.Value?.ToString() ?? "") ?? [];

    /// <summary>Volumes as (source, target, read-only, bind mount?), from the short or the long syntax.</summary>
    public static IEnumerable<Mount> Mounts(this JsonObject service)
    {
        foreach (var volume in service["volumes"]?.AsArray() ?? [])
        {
            if (volume is JsonValue value)
            {
                var parts = value.GetValue<string>().Split(':');
                var source = parts[0];
                yield return new Mount(source, parts[1], parts.Length > 2 && parts[2].Split(',').Contains("ro"), source.StartsWith('/') || source.StartsWith('.'));
            }
            else
            {
                var mount = volume!.AsObject();
                yield return new Mount(mount["source"]!.ToString(), mount["target"]!.ToString(),
                    mount["read_only"]?.GetValue<bool>() ?? false, mount["type"]?.ToString() == "bind");
            }
        }
    }

    /// <summary>depends_on as service → condition.</summary>
    public static Dictionary<string, string> DependsOn(this JsonObject service) =>
        service["depends_on"] switch
        {
            JsonObject conditions => conditions.ToDictionary(d => d.Key, d => d.Value?["condition"]?.ToString() ?? "service_started"),
            JsonArray names => names.ToDictionary(n => n!.ToString(), _ => "service_started"),
            _ => [],
        };

    public static string[] Strings(this JsonNode? node) => node?.AsArray().Select(n => n!.ToString()).ToArray() ?? [];
}

public sealed record Mount(string Source, string Target, bool ReadOnly, bool Bind);

/// <summary>YAML to JSON with the interpreter docker-compose itself runs on: Debian's docker-compose is a Python
/// program that depends on PyYAML, so wherever the compose tests can run, so can this.</summary>
public static class Yaml
{
    public static async Task<JsonNode> ToJsonAsync(string yaml)
    {
        var shebang = File.ReadLines(DeployTools.DockerCompose).FirstOrDefault() ?? "";
        if (!shebang.StartsWith("#!", StringComparison.Ordinal))
            throw new InvalidOperationException($"{DeployTools.DockerCompose} is not Debian's Python docker-compose (no #! line); install the docker-compose package.");
        var python = shebang[2..].Trim().Split(' ')[0];
        var json = await Tool.RunAsync(python, ["-c", "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)"], stdin: yaml);
        return JsonNode.Parse(json) ?? throw new InvalidOperationException("empty YAML document");
    }

    public static async Task<JsonNode> LoadAsync(string file) => await ToJsonAsync(await File.ReadAllTextAsync(file));
}

/// <summary>The configuration keys a service binds: every option class (a public type with a
/// <c>public const string Section</c>) contributes Section:Property for each public property, plus every key in the
/// service's appsettings.json. Read from the built assemblies' metadata, so nothing is loaded or run.</summary>
public sealed class ConfigurationKeys
{
    /// <summary>Standard variables read by the SDKs themselves, not by the services' options.</summary>
    private static readonly string[] s_standardPrefixes = ["OTEL_", "AWS_", "ASPNETCORE_", "DOTNET_"];

    private readonly HashSet<string> _keys;

    private ConfigurationKeys(HashSet<string> keys) => _keys = keys;

    public IReadOnlyCollection<string> Keys => _keys;

    public static ConfigurationKeys For(string project)
    {
        var keys = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var directory = System.IO.Path.GetDirectoryName(Repo.ServiceDll(project))!;
        foreach (var assembly in new[] { "Platform.dll", project + ".dll" })
            AddOptionProperties(System.IO.Path.Combine(directory, assembly), keys);
        using var settings = JsonDocument.Parse(File.ReadAllText(Repo.PathOf("src", project, "appsettings.json")));
        AddJsonKeys(settings.RootElement, null, keys);
        return new ConfigurationKeys(keys);
    }

    /// <summary>Whether an environment variable name (Section__Key, "__" for ":") reaches a bound setting.</summary>
    public bool Binds(string variable)
    {
        if (s_standardPrefixes.Any(p => variable.StartsWith(p, StringComparison.Ordinal))) return true;
        var parts = variable.Split("__");
        // Array items (Auth__Audiences__0) bind to the list property.
        var key = string.Join(':', parts.Reverse().SkipWhile(p => p.All(char.IsAsciiDigit)).Reverse());
        return _keys.Contains(key) || (parts.Length > 2 && _keys.Contains(parts[0] + ":" + parts[1]));
    }

    private static void AddOptionProperties(string assemblyPath, HashSet<string> keys)
    {
        using var stream = File.OpenRead(assemblyPath);
        using var pe = new PEReader(stream);
        var metadata = pe.GetMetadataReader();
        foreach (var typeHandle in metadata.TypeDefinitions)
        {
            var type = metadata.GetTypeDefinition(typeHandle);
            if ((type.Attributes & TypeAttributes.VisibilityMask) != TypeAttributes.Public) continue;
            var section = SectionOf(metadata, type);
            if (section is null) continue;
            foreach (var propertyHandle in type.GetProperties())
            {
                var property = metadata.GetPropertyDefinition(propertyHandle);
                var getter = property.GetAccessors().Getter;
                if (getter.IsNil) continue;
                var attributes = metadata.GetMethodDefinition(getter).Attributes;
                if ((attributes & MethodAttributes.MemberAccessMask) != MethodAttributes.Public || attributes.HasFlag(MethodAttributes.Static)) continue;
                keys.Add(section + ":" + metadata.GetString(property.Name));
            }
        }
    }

    private static string? SectionOf(MetadataReader metadata, TypeDefinition type)
    {
        foreach (var fieldHandle in type.GetFields())
        {
            var field = metadata.GetFieldDefinition(fieldHandle);
            if (metadata.GetString(field.Name) != "Section" || !field.Attributes.HasFlag(FieldAttributes.Literal)) continue;
            var constant = metadata.GetConstant(field.GetDefaultValue());
            if (constant.TypeCode != ConstantTypeCode.String) continue;
            var blob = metadata.GetBlobReader(constant.Value);
            return blob.ReadUTF16(blob.Length);
        }
        return null;
    }

    private static void AddJsonKeys(JsonElement element, string? prefix, HashSet<string> keys)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
                AddJsonKeys(property.Value, prefix is null ? property.Name : $"{prefix}:{property.Name}", keys);
        }
        else if (prefix is not null)
        {
            keys.Add(prefix);
        }
    }
}
