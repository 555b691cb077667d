using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;

namespace TestKit;

/// <summary>A real S3-compatible server (the npm package s3rver, installed into .tools/ by ./test.sh) on a free
/// 127.0.0.1 port with a temporary data directory. It speaks the S3 REST API the SDK and presigned URLs use, checks
/// that presigned URLs have not expired and that the access key is known, but does not verify SigV4 signatures:
/// what only a signature enforces (signed Content-Type, Content-Length, checksum) must be checked elsewhere.</summary>
public sealed class S3Server : IAsyncDisposable
{
    /// <summary>The one key pair s3rver knows.</summary>
    public const string AccessKey = "S3RVER";

    public const string SecretKey = "S3RVER";

    private const string InstallHint =
        "Install the test tools: `. tools/deps.sh && deps_node_tools` (./test.sh does this; it needs node and npm: apt-get install nodejs npm).";

    private readonly Process _process;
    private readonly List<string> _output = [];

    private S3Server(Process process, int port, string directory)
    {
        _process = process;
        Port = port;
        Directory = directory;
    }

    public int Port { get; }

    /// <summary>Where s3rver keeps buckets and objects.</summary>
    public string Directory { get; }

    public string Url => $"http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    public string Output
    {
        get { lock (_output) return string.Join('\n', _output); }
    }

    public static async Task<S3Server> StartAsync(params string[] buckets)
    {
        var node = Tool.Find("node", InstallHint);
        var script = Repo.PathOf(".tools", "node_modules", "s3rver", "bin", "s3rver.js");
        if (!File.Exists(script)) throw new InvalidOperationException($"s3rver not found at {script}. {InstallHint}");

        var port = Ports.Free();
        var directory = Path.Combine(Path.GetTempPath(), "s3rver-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(directory);
        var info = new ProcessStartInfo(node)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { script, "--directory", directory, "--address", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--silent", "--no-vhost-buckets" })
            info.ArgumentList.Add(arg);
        foreach (var bucket in buckets)
        {
            info.ArgumentList.Add("--configure-bucket");
            info.ArgumentList.Add(bucket);
        }

        var process = new Process { StartInfo = info };
        var server = new S3Server(process, port, directory);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await server.WaitListeningAsync(TimeSpan.FromSeconds(30));
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>The environment a service needs to use this server as its bucket store (the SDK's standard
    /// variables for the keys, never configuration).</summary>
    public Dictionary<string, string> ServiceSettings(string bucket) => new()
    {
        ["Storage__Bucket"] = bucket,
        ["Storage__ServiceUrl"] = Url,
        ["Storage__Region"] = "us-east-1",
        ["AWS_ACCESS_KEY_ID"] = AccessKey,
        ["AWS_SECRET_ACCESS_KEY"] = SecretKey,
        ["AWS_EC2_METADATA_DISABLED"] = "true",
    };

    private async Task WaitListeningAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited) throw new InvalidOperationException($"s3rver exited with {_process.ExitCode}:\n{Output}");
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", Port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }
        throw new TimeoutException($"s3rver did not listen on {Url} within {timeout}:\n{Output}");
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.Add(line);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (InvalidOperationException) { }
        catch (TimeoutException) { }
        _process.Dispose();
        try { System.IO.Directory.Delete(Directory, recursive: true); }
        catch (IOException) { }
    }
}
