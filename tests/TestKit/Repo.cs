using System.Runtime.InteropServices;

namespace TestKit;

/// <summary>Paths in the repository, found from the test assembly's location.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    /// <summary>Build configuration of the running tests (Debug or Release); services are run from the same one.</summary>
    public static string Configuration { get; } =
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    /// <summary>The built service, e.g. src/Catalog.Api/bin/Release/net10.0/Catalog.Api.dll.</summary>
    public static string ServiceDll(string project)
    {
        var dll = PathOf("src", project, "bin", Configuration, "net10.0", project + ".dll");
        if (!File.Exists(dll))
            throw new InvalidOperationException($"{dll} is missing: build the solution first (dotnet build Services.sln -c {Configuration}, as ./test.sh does)");
        return dll;
    }

    public static bool IsRoot => RuntimeInformation.IsOSPlatform(OSPlatform.Linux) && Environment.UserName == "root";

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Services.sln"))) return dir.FullName;
        throw new InvalidOperationException("Services.sln not found above " + AppContext.BaseDirectory);
    }
}
