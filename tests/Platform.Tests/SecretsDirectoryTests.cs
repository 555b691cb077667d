using TestKit;

namespace Platform.Tests;

public sealed class SecretsDirectoryTests : IDisposable
{
    private readonly SecretsDirectory _directory = new();

    private SecretsOptions Options(params string[] required)
    {
        var options = new SecretsOptions { Directory = _directory.Path, PollInterval = TimeSpan.FromMilliseconds(50) };
        foreach (var file in required) options.RequiredFiles.Add(file);
        return options;
    }

    [Fact]
    public void EveryJsonFileIsFlattenedIntoConfigurationKeysAndLaterFilesWin()
    {
        _directory.Write("a-database.json", """{"Database":{"Username":"app","Password":"one"},"Tags":["x","y"]}""");
        _directory.Write("b-override.json", """{"Database":{"Password":"two"}}""");
        _directory.Write("ignored.txt", "not json at all");

        var (data, _) = SecretsConfigurationProvider.Read(Options());

        Assert.Equal("app", data["Database:Username"]);
        Assert.Equal("two", data["Database:Password"]);
        Assert.Equal("y", data["Tags:1"]);
    }

    [Fact]
    public void AMissingRequiredFileIsReportedInOneLineNamingIt()
    {
        var error = Assert.Throws<SecretsFileException>(() => SecretsConfigurationProvider.Read(Options("database.json")));
        Assert.True(error.Missing);
        Assert.Contains(Path.Combine(_directory.Path, "database.json"), error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData("{\"Database\": ", "invalid JSON at line 1")]
    [InlineData("{\n  \"a\": 1,\n  \"b\": }", "invalid JSON at line 3")]
    [InlineData("[1, 2]", "the top level must be a JSON object")]
    public void AMalformedFileIsReportedWithItsNameAndWhere(string content, string expected)
    {
        _directory.Write("database.json", content);
        var error = Assert.Throws<SecretsFileException>(() => SecretsConfigurationProvider.Read(Options("database.json")));
        Assert.False(error.Missing);
        Assert.Contains("database.json", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public async Task AChangedFileIsReloadedAndABrokenOneKeepsTheLastGoodValues()
    {
        using var provider = LoadedProvider();
        var reloads = 0;
        provider.Reloaded += () => Interlocked.Increment(ref reloads);

        _directory.WriteDatabase("app", "two");
        await WaitAsync(() => Volatile.Read(ref reloads) == 1);
        Assert.True(provider.TryGet("Database:Password", out var rotated));
        Assert.Equal("two", rotated);

        _directory.Write("database.json", "{ broken");
        await WaitAsync(() => provider.Problem is not null);
        Assert.True(provider.TryGet("Database:Password", out var kept));
        Assert.Equal("two", kept);
        Assert.False(provider.RequiredFileMissing);

        File.Delete(Path.Combine(_directory.Path, "database.json"));
        await WaitAsync(() => provider.RequiredFileMissing);

        await AssertRecoversAsync(provider, "three");
    }

    [Fact]
    public async Task AReloadThatRemovesASecretIsRefusedAndTheLastGoodValuesStay()
    {
        using var provider = LoadedProvider();
        var reloads = 0;
        provider.Reloaded += () => Interlocked.Increment(ref reloads);

        _directory.Write("database.json", """{"Database":{"Username":"app","Password":""}}""");
        await WaitAsync(() => provider.Problem is not null);

        Assert.Contains("Database:Password no longer set", provider.Problem, StringComparison.Ordinal);
        Assert.DoesNotContain("one", provider.Problem, StringComparison.Ordinal);
        Assert.True(provider.TryGet("Database:Password", out var kept));
        Assert.Equal("one", kept);
        Assert.Equal(0, Volatile.Read(ref reloads));
    }

    [Fact]
    public async Task ValuesAConsumerRejectsOnReloadAreRolledBackInsteadOfEndingTheProcess()
    {
        using var provider = LoadedProvider();
        var seen = new List<string?>();
        // Stands for options validation, which throws from the reload callback on the provider's timer thread.
        using var subscription = Microsoft.Extensions.Primitives.ChangeToken.OnChange(provider.GetReloadToken, () =>
        {
            provider.TryGet("Database:Password", out var password);
            lock (seen) seen.Add(password);
            if (password == "rejected") throw new InvalidOperationException("Database:Password must not be 'rejected'");
        });

        _directory.WriteDatabase("app", "rejected");
        await WaitAsync(() => provider.Problem is not null);

        Assert.Contains("the reloaded values are invalid (Database:Password must not be", provider.Problem, StringComparison.Ordinal);
        Assert.True(provider.TryGet("Database:Password", out var kept));
        Assert.Equal("one", kept);
        lock (seen) Assert.Equal(["rejected", "one"], seen);

        await AssertRecoversAsync(provider, "two");
    }

    [Fact]
    public async Task AnAbsentOptionalDirectoryIsNotReloadedOnEveryPoll()
    {
        // smoke and dev-token run without Vault: no directory, nothing required. Every reload would re-validate
        // options that those commands never set.
        var options = new SecretsOptions { Directory = Path.Combine(_directory.Path, "absent"), PollInterval = TimeSpan.FromMilliseconds(20) };
        using var provider = new SecretsConfigurationProvider(options);
        provider.Load();
        var reloads = 0;
        using var subscription = Microsoft.Extensions.Primitives.ChangeToken.OnChange(provider.GetReloadToken, () => Interlocked.Increment(ref reloads));

        await Task.Delay(300);

        Assert.Equal(0, Volatile.Read(ref reloads));
        Assert.Null(provider.Problem);
    }

    /// <summary>A provider over a database.json whose password is "one", loaded as at start-up.</summary>
    private SecretsConfigurationProvider LoadedProvider()
    {
        _directory.WriteDatabase("app", "one");
        var provider = new SecretsConfigurationProvider(Options("database.json"));
        provider.Load();
        return provider;
    }

    /// <summary>Writes a good file and waits until the provider serves its password with no problem left.</summary>
    private async Task AssertRecoversAsync(SecretsConfigurationProvider provider, string password)
    {
        _directory.WriteDatabase("app", password);
        await WaitAsync(() => provider.Problem is null);
        Assert.True(provider.TryGet("Database:Password", out var current));
        Assert.Equal(password, current);
    }

    private static async Task WaitAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached within 10 s");
            await Task.Delay(20);
        }
    }

    public void Dispose() => _directory.Dispose();
}
