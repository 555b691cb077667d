using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace TestKit;

/// <summary>A service (Catalog.Api, Assets.Api) running as its own process, exactly as built, on free loopback
/// ports: real Kestrel, real subcommands, real stdout, real signals.</summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _stdout = [];
    private readonly List<string> _stderr = [];
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServiceProcess(string project, Process process, int apiPort, int managementPort)
    {
        Project = project;
        _process = process;
        ApiPort = apiPort;
        ManagementPort = managementPort;
        Api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{apiPort}/"), Timeout = TimeSpan.FromSeconds(30) };
        Management = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{managementPort}/"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public string Project { get; }

    public int ApiPort { get; }

    public int ManagementPort { get; }

    public HttpClient Api { get; }

    public HttpClient Management { get; }

    public int ProcessId => _process.Id;

    public Task<int> Exited => _exited.Task;

    /// <summary>Lines the service wrote to stdout so far (its JSON logs).</summary>
    public IReadOnlyList<string> StdoutLines
    {
        get { lock (_stdout) return [.. _stdout]; }
    }

    public string Stderr
    {
        get { lock (_stderr) return string.Join('\n', _stderr); }
    }

    /// <summary>Stdout lines parsed as JSON (lines that are not JSON are returned as null so tests can fail on them).</summary>
    public IReadOnlyList<JsonDocument?> LogDocuments() => StdoutLines.Select(line =>
    {
        try { return JsonDocument.Parse(line); }
        catch (JsonException) { return null; }
    }).ToList();

    /// <summary>Starts the service with the given configuration (environment variables, "__" for ":").
    /// Ports and bind address are chosen here; <paramref name="args"/> selects a subcommand.</summary>
    public static ServiceProcess Start(string project, IDictionary<string, string> environment, params string[] args)
    {
        var apiPort = Ports.Free();
        var managementPort = Ports.Free();
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(Repo.ServiceDll(project))!,
        };
        info.ArgumentList.Add(Repo.ServiceDll(project));
        foreach (var arg in args) info.ArgumentList.Add(arg);
        info.Environment["Hosting__ApiPort"] = apiPort.ToString(CultureInfo.InvariantCulture);
        info.Environment["Hosting__ManagementPort"] = managementPort.ToString(CultureInfo.InvariantCulture);
        info.Environment["Hosting__BindAddress"] = "127.0.0.1";
        info.Environment["Shutdown__DrainDelay"] = "00:00:00";
        foreach (var (key, value) in environment) info.Environment[key] = value;

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var service = new ServiceProcess(project, process, apiPort, managementPort);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (service._stdout) service._stdout.Add(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (service._stderr) service._stderr.Add(e.Data); };
        process.Exited += (_, _) =>
        {
            process.WaitForExit();
            service._exited.TrySetResult(process.ExitCode);
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service;
    }

    /// <summary>Runs a subcommand to completion and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunCommandAsync(string project, IDictionary<string, string> environment,
        TimeSpan timeout, params string[] args)
    {
        await using var process = Start(project, environment, args);
        var finished = await Task.WhenAny(process.Exited, Task.Delay(timeout));
        if (finished != process.Exited) throw new TimeoutException($"{project} {string.Join(' ', args)} did not exit within {timeout}:\n{process.Stderr}");
        return (await process.Exited, string.Join('\n', process.StdoutLines), process.Stderr);
    }

    /// <summary>Waits for /health/ready to answer 200, failing early with the service's output if it exits.</summary>
    public async Task WaitReadyAsync(TimeSpan? timeout = null) => await WaitForAsync("/health/ready", timeout ?? TimeSpan.FromSeconds(60));

    public async Task WaitForAsync(string managementPath, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_exited.Task.IsCompleted)
                throw new InvalidOperationException($"{Project} exited with {_exited.Task.Result} before {managementPath} passed:\n{Stderr}\n{string.Join('\n', StdoutLines.TakeLast(30))}");
            try
            {
                using var response = await Management.GetAsync(new Uri(managementPath.TrimStart('/'), UriKind.Relative));
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(50);
        }
        throw new TimeoutException($"{Project}: {managementPath} did not pass within {timeout}:\n{Stderr}\n{string.Join('\n', StdoutLines.TakeLast(30))}");
    }

    /// <summary>Sends SIGTERM (what the kubelet sends) and waits for the exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan? timeout = null)
    {
        if (!_exited.Task.IsCompleted) _ = Kill(_process.Id, 15);
        var finished = await Task.WhenAny(_exited.Task, Task.Delay(timeout ?? TimeSpan.FromSeconds(60)));
        if (finished != _exited.Task) throw new TimeoutException($"{Project} did not exit after SIGTERM");
        return await _exited.Task;
    }

    /// <summary>The current /metrics text.</summary>
    public async Task<string> MetricsAsync() => await Management.GetStringAsync(new Uri("metrics", UriKind.Relative));

    /// <summary>The sum of a metric's samples whose label set contains every given label (e.g. role="reader").</summary>
    public async Task<double> MetricAsync(string name, params string[] labels)
    {
        var text = await MetricsAsync();
        return PrometheusText.Sum(text, name, labels);
    }

    public void UseToken(string token)
    {
        Api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    public async ValueTask DisposeAsync()
    {
        Api.Dispose();
        Management.Dispose();
        if (!_exited.Task.IsCompleted)
        {
            try { _process.Kill(entireProcessTree: true); }
            catch (InvalidOperationException) { }
            await Task.WhenAny(_exited.Task, Task.Delay(5000));
        }
        _process.Dispose();
    }
}

/// <summary>Reads the Prometheus text format, enough for assertions.</summary>
public static class PrometheusText
{
    /// <summary>Metric family names present in a scrape (from # TYPE lines, plus sample names).</summary>
    public static HashSet<string> Names(string text)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal)) names.Add(line.Split(' ')[2]);
            else if (line.Length > 0 && line[0] != '#') names.Add(line.Split('{', ' ')[0]);
        }
        return names;
    }

    public static double Sum(string text, string name, params string[] labels)
    {
        double sum = 0;
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            var sampleName = line.Split('{', ' ')[0];
            if (sampleName != name) continue;
            if (labels.Any(l => !line.Contains(l, StringComparison.Ordinal))) continue;
            sum += double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
        }
        return sum;
    }
}
