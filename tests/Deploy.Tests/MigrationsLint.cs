using System.Text.RegularExpressions;
using TestKit;

namespace Deploy.Tests;

/// <summary>Expand/contract for EF Core migrations (rule in deploy/helm/service/README.md): during a blue-green
/// rollout the previous version keeps running on the migrated schema, so a migration's Up() may only add. Dropping or
/// renaming a table or column, making a column non-nullable, or changing its type breaks the running version, and is
/// allowed only as the contract step of an earlier expand, marked in the migration with a comment
/// <c>// Contract step of &lt;earlier migration id&gt;: &lt;why nothing uses it any more&gt;</c>.</summary>
public static partial class MigrationsLint
{
    public sealed record Violation(string File, string Operation);

    /// <summary>Every migration of every service: src/*/Data/Migrations/*.cs without designer files and snapshots.</summary>
    public static IEnumerable<string> MigrationFiles() =>
        Directory.GetDirectories(Repo.PathOf("src"))
            .Select(service => Path.Combine(service, "Data", "Migrations"))
            .Where(Directory.Exists)
            .SelectMany(directory => Directory.GetFiles(directory, "*.cs"))
            .Where(file => !file.EndsWith(".Designer.cs", StringComparison.Ordinal) && !file.EndsWith("ModelSnapshot.cs", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);

    public static IReadOnlyList<Violation> Check(string file, string source, IReadOnlyCollection<string> migrationIds)
    {
        var up = UpBody(source);
        if (up is null) return [new Violation(file, "no Up(MigrationBuilder) method found")];
        var destructive = DestructiveOperations(up).ToList();
        if (destructive.Count == 0) return [];

        var id = Path.GetFileNameWithoutExtension(file);
        var marker = ContractMarker().Match(source);
        if (marker.Success)
        {
            var expand = marker.Groups["id"].Value;
            if (migrationIds.Contains(expand) && string.CompareOrdinal(expand, id) < 0) return [];
            return [new Violation(file, $"marked as the contract step of {expand}, which is not an earlier migration of this service")];
        }
        return destructive.Select(operation => new Violation(file, operation)).ToList();
    }

    public static IReadOnlyList<Violation> CheckAll()
    {
        var files = MigrationFiles().ToList();
        var violations = new List<Violation>();
        foreach (var group in files.GroupBy(f => Path.GetDirectoryName(f)!))
        {
            var ids = group.Select(f => Path.GetFileNameWithoutExtension(f)).ToHashSet(StringComparer.Ordinal);
            foreach (var file in group) violations.AddRange(Check(Path.GetRelativePath(Repo.Root, file), File.ReadAllText(file), ids));
        }
        return violations;
    }

    private static IEnumerable<string> DestructiveOperations(string up)
    {
        foreach (var call in new[] { "DropTable", "DropColumn", "RenameColumn", "RenameTable", "DropSchema" })
        {
            foreach (Match match in Regex.Matches(up, $@"\.{call}\s*\(", RegexOptions.None, TimeSpan.FromSeconds(1)))
                yield return $"{call} at offset {match.Index}";
        }
        foreach (var alter in Calls(up, "AlterColumn"))
        {
            var nullable = Argument(alter, "nullable");
            var oldNullable = Argument(alter, "oldNullable");
            if (nullable == "false" && oldNullable == "true") yield return "AlterColumn making a column non-nullable";
            var type = Argument(alter, "type");
            var oldType = Argument(alter, "oldType");
            if (type is not null && oldType is not null && type != oldType) yield return $"AlterColumn changing a type from {oldType} to {type}";
        }
        foreach (Match sql in SqlCall().Matches(up))
            if (DestructiveSql().IsMatch(sql.Groups["sql"].Value)) yield return $"Sql(\"{sql.Groups["sql"].Value}\")";
    }

    /// <summary>The text of Up(MigrationBuilder ...)'s body, braces balanced; Down() may drop whatever Up() added.</summary>
    private static string? UpBody(string source)
    {
        var signature = UpSignature().Match(source);
        if (!signature.Success) return null;
        var open = source.IndexOf('{', signature.Index + signature.Length);
        var depth = 0;
        for (var i = open; i < source.Length; i++)
        {
            if (source[i] == '{') depth++;
            else if (source[i] == '}' && --depth == 0) return source[(open + 1)..i];
        }
        return null;
    }

    /// <summary>The argument lists of every call to a method (generic or not), parentheses balanced.</summary>
    private static IEnumerable<string> Calls(string code, string method)
    {
        foreach (Match match in Regex.Matches(code, $@"\.{method}\s*(<[^>]*>)?\s*\(", RegexOptions.None, TimeSpan.FromSeconds(1)))
        {
            var start = match.Index + match.Length;
            var depth = 1;
            var i = start;
            for (; i < code.Length && depth > 0; i++)
            {
                if (code[i] == '(') depth++;
                else if (code[i] == ')') depth--;
            }
            yield return code[start..(i - 1)];
        }
    }

    private static string? Argument(string arguments, string name)
    {
        var match = Regex.Match(arguments, $@"(?<![A-Za-z]){name}\s*:\s*(""(?<value>[^""]*)""|(?<value>true|false))", RegexOptions.None, TimeSpan.FromSeconds(1));
        return match.Success ? match.Groups["value"].Value : null;
    }

    [GeneratedRegex(@"void\s+Up\s*\(\s*MigrationBuilder\s+\w+\s*\)")]
    private static partial Regex UpSignature();

    [GeneratedRegex(@"//\s*Contract step of (?<id>\d{14}_\w+)\s*:")]
    private static partial Regex ContractMarker();

    [GeneratedRegex(@"\.Sql\s*\(\s*@?""(?<sql>[^""]*)""")]
    private static partial Regex SqlCall();

    [GeneratedRegex(@"\b(DROP\s+(TABLE|COLUMN|SCHEMA)|RENAME\s+(TO|COLUMN)|ALTER\s+COLUMN\s+\w+\s+(SET\s+NOT\s+NULL|TYPE))\b", RegexOptions.IgnoreCase)]
    private static partial Regex DestructiveSql();
}
