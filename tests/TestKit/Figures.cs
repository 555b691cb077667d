using Xunit.Abstractions;

namespace TestKit;

/// <summary>Fault tests report what they measured (recovery time, failed requests, lost writes). Figures go to the
/// test output and to TestResults/figures.txt, which ./test.sh prints at the end and the README quotes.</summary>
public static class Figures
{
    private static readonly object s_lock = new();

    public static void Record(ITestOutputHelper output, string test, string figure)
    {
        var line = $"{test}: {figure}";
        output.WriteLine(line);
        lock (s_lock)
        {
            var directory = Repo.PathOf("TestResults");
            Directory.CreateDirectory(directory);
            File.AppendAllText(Path.Combine(directory, "figures.txt"), line + Environment.NewLine);
        }
    }
}
