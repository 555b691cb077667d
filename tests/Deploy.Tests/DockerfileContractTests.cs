using TestKit;

namespace Deploy.Tests;

/// <summary>The Dockerfile's promises, read from the file itself: chiseled non-root runtime, both ports, one
/// entrypoint for every service, ARG SERVICE selecting the project, and a build context holding every COPY source.</summary>
public sealed class DockerfileContractTests
{
    [Fact]
    public void TheDockerfileKeepsItsContract()
    {
        var violations = DockerfileModel.Load().ContractViolations(DockerIgnore.Load()).ToList();

        Assert.True(violations.Count == 0, string.Join('\n', violations));
    }

    [Fact]
    public void TheRuntimeStageRunsAsTheImagesNonRootUserOnBothPorts()
    {
        var runtime = DockerfileModel.Load().Runtime;

        Assert.Equal(DockerfileModel.RuntimeDepsImage + "10.0-noble-chiseled", runtime.Image);
        Assert.Equal("$APP_UID", runtime.All("USER").Last().Arguments);
        Assert.Equal("8080 8081", runtime.All("EXPOSE").Single().Arguments);
        Assert.Equal("[\"/app/service\"]", runtime.All("ENTRYPOINT").Single().Arguments);
    }

    /// <summary>The runtime stage carries no .NET runtime, so what the Dockerfile's publish produces must bring its own:
    /// MSBuild itself evaluates each service's project as the Dockerfile's publish does (an architecture named).</summary>
    [Theory]
    [InlineData("Catalog.Api")]
    [InlineData("Assets.Api")]
    public async Task ThePublishTheImageRunsIsSelfContainedCompositeReadyToRun(string service)
    {
        var project = Repo.PathOf($"src/{service}/{service}.csproj");
        var output = await Tool.RunAsync("dotnet", ["msbuild", project, "-p:RuntimeIdentifier=linux-x64",
            "-getProperty:SelfContained", "-getProperty:PublishReadyToRun", "-getProperty:PublishReadyToRunComposite"], Repo.Root);

        using var properties = System.Text.Json.JsonDocument.Parse(output[output.IndexOf('{', StringComparison.Ordinal)..]);
        foreach (var name in new[] { "SelfContained", "PublishReadyToRun", "PublishReadyToRunComposite" })
            Assert.Equal("true", properties.RootElement.GetProperty("Properties").GetProperty(name).GetString());
    }

    [Fact]
    public void RestoreIsCachedFromProjectFilesOnly()
    {
        var build = DockerfileModel.Load().Stage("build");
        var beforeRestore = build.Instructions.TakeWhile(i => !(i.Keyword == "RUN" && i.Arguments.Contains("dotnet restore", StringComparison.Ordinal)));

        var copied = beforeRestore.Where(i => i.Keyword == "COPY").SelectMany(i => i.Split().Words.SkipLast(1)).ToList();

        Assert.NotEmpty(copied);
        Assert.All(copied, source => Assert.True(
            source is "global.json" or "Directory.Build.props" or "Directory.Packages.props" or ".editorconfig" || source.EndsWith(".csproj", StringComparison.Ordinal),
            $"{source} is copied before restore: any change to it would invalidate the package cache layer"));
        foreach (var project in Directory.GetFiles(Repo.PathOf("src"), "*.csproj", SearchOption.AllDirectories))
            Assert.Contains(Path.GetRelativePath(Repo.Root, project).Replace('\\', '/'), copied);
    }

    [Fact]
    public void TheBuildContextHoldsSourcesButNoBuildOutputOrLocalState()
    {
        var context = DockerIgnore.Load();

        Assert.False(context.Excludes("src/Catalog.Api/Program.cs"));
        Assert.False(context.Excludes("Directory.Packages.props"));
        Assert.True(context.Excludes("src/Catalog.Api/bin/Release/net10.0/Catalog.Api.dll"));
        Assert.True(context.Excludes("src/Platform/obj/project.assets.json"));
        Assert.True(context.Excludes(".git/config"));
        Assert.True(context.Excludes(".local/run.env"));
        Assert.True(context.Excludes("tests/Catalog.Api.Tests/CatalogFixture.cs"));
    }

    [Fact]
    public void TheContractCheckRejectsABrokenDockerfile()
    {
        var broken = DockerfileModel.Parse("""
            FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build
            ARG SERVICE
            COPY src/DoesNotExist.csproj src/
            COPY test.sh ./
            RUN dotnet publish -o out
            FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble
            ARG VERSION
            LABEL org.opencontainers.image.version="$VERSION" org.opencontainers.image.revision="main" \
                  org.opencontainers.image.source="$SOURCE"
            USER root
            EXPOSE 8080
            ENTRYPOINT ["dotnet", "Catalog.Api.dll"]
            """);

        var violations = broken.ContractViolations(DockerIgnore.Load()).ToList();

        Assert.Contains(violations, v => v.Contains("not a chiseled runtime-deps image", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Contains("USER root", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Contains("port 8081", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Contains("ENTRYPOINT", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Contains("ARG SERVICE", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Contains("src/DoesNotExist.csproj does not exist", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Contains("test.sh is excluded", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Contains("LABEL org.opencontainers.image.revision is main", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Contains("ARG SOURCE is not declared in the runtime stage", StringComparison.Ordinal));
        Assert.DoesNotContain(violations, v => v.Contains("image.version", StringComparison.Ordinal));
    }

    [Fact]
    public void DockerignoreRulesApplyInOrderWithReincludes()
    {
        var context = DockerIgnore.Parse("*\n!src/\n**/bin/\n!src/keep/bin/\n");

        Assert.True(context.Excludes("README.md"));
        Assert.False(context.Excludes("src/a/b.cs"));
        Assert.True(context.Excludes("src/a/bin/b.dll"));
        Assert.False(context.Excludes("src/keep/bin/b.dll"));
    }
}
