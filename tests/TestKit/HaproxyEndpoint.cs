using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;

namespace TestKit;

/// <summary>HAProxy as a database cluster endpoint: one address in front of a primary and a standby, the way Patroni
/// setups and the Aurora cluster endpoint give clients one name for "the writer". The primary is checked every 100 ms;
/// once it fails two checks, HAProxy cuts the sessions it was carrying and sends new connections to the standby (a
/// backup server), so during a failover clients see exactly what they see at the cluster endpoint: connections that
/// die under them, then a server that may still be read-only for a moment, then the new writer.</summary>
public sealed class HaproxyEndpoint : IAsyncDisposable
{
    private const string InstallHint = "Install HAProxy: apt-get install haproxy (./test.sh does this through tools/deps.sh).";

    private readonly Process _process;
    private readonly string _directory;

    private HaproxyEndpoint(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    public string ConnectionString(string database) => $"Host=127.0.0.1;Port={Port};Database={database}";

    public static async Task<HaproxyEndpoint> StartAsync(int primaryPort, int standbyPort)
    {
        var haproxy = Tool.Find("haproxy", InstallHint, "/usr/sbin", "/usr/local/sbin");
        var port = Ports.Free();
        var directory = Path.Combine(Path.GetTempPath(), "haproxy-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(directory);
        var config = Path.Combine(directory, "haproxy.cfg");
        await File.WriteAllTextAsync(config, string.Create(CultureInfo.InvariantCulture, $"""
            global
              maxconn 1000
            defaults
              mode tcp
              # The endpoint stands for a DNS name: a connection to a dead server fails at once and the client's own
              # retry decides. HAProxy's default retries wait a turn-around second each before trying again.
              retries 0
              timeout connect 1s
              timeout client 1h
              timeout server 1h
            frontend cluster
              bind 127.0.0.1:{port}
              default_backend writer
            backend writer
              default-server inter 100ms fall 2 rise 1 on-marked-down shutdown-sessions
              server primary 127.0.0.1:{primaryPort} check
              server standby 127.0.0.1:{standbyPort} check backup

            """));
        await Tool.RunAsync(haproxy, ["-c", "-q", "-f", config]);

        var info = new ProcessStartInfo(haproxy) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "-db", "-f", config }) info.ArgumentList.Add(arg);
        var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start haproxy. " + InstallHint);
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var endpoint = new HaproxyEndpoint(process, directory, port);
        await Poll.UntilAsync(async () =>
        {
            if (process.HasExited) throw new InvalidOperationException($"haproxy exited with {process.ExitCode}");
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", port);
            return true;
        }, TimeSpan.FromSeconds(10), "haproxy to listen");
        return endpoint;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        try { Directory.Delete(_directory, recursive: true); }
        catch (IOException) { }
    }
}
