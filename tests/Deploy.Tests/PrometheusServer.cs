using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using TestKit;

namespace Deploy.Tests;

/// <summary>The real Prometheus (Debian's prometheus package, 2.42) on 127.0.0.1 with a generated configuration,
/// checked by promtool first; queried through its HTTP API as Argo Rollouts' Prometheus provider queries it.</summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private readonly string _directory;

    private PrometheusServer(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public HttpClient Http { get; }

    public string Log
    {
        get { lock (_log) return _log.ToString(); }
    }

    /// <summary>Writes <paramref name="configuration"/> (JSON is YAML), checks it with promtool, starts Prometheus with
    /// the feature flags named (<c>--enable-feature</c>) and waits until it is ready.</summary>
    public static async Task<PrometheusServer> StartAsync(JsonObject configuration, params string[] features)
    {
        var binary = Tool.Find("prometheus", "Install Debian's prometheus package (apt-get install prometheus). Run ./test.sh, which installs it (tools/deps.sh).");
        var directory = Directory.CreateTempSubdirectory("prometheus-").FullName;
        var file = Path.Combine(directory, "prometheus.yml");
        await File.WriteAllTextAsync(file, configuration.ToJsonString());
        await Tool.RunAsync(DeployTools.Promtool, ["check", "config", file]);

        var port = Ports.Free();
        var info = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        foreach (var arg in new[] { "--config.file=" + file, "--storage.tsdb.path=" + Path.Combine(directory, "data"),
                     $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn" }.Concat(features.Select(f => "--enable-feature=" + f)))
        {
            info.ArgumentList.Add(arg);
        }
        var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start prometheus");
        var server = new PrometheusServer(process, directory, port);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (server._log) server._log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (server._log) server._log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"prometheus exited with {process.ExitCode}:\n{server.Log}");
            try
            {
                using var ready = await server.Http.GetAsync(new Uri("-/ready", UriKind.Relative));
                if (ready.IsSuccessStatusCode) return server;
            }
            catch (HttpRequestException) { }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"prometheus was not ready within 30 s:\n{server.Log}");
            await Task.Delay(100);
        }
    }

    /// <summary>An instant query at the current time (what Argo Rollouts sends): the vector's samples.</summary>
    public async Task<IReadOnlyList<(JsonObject Labels, string Value)>> QueryAsync(string promql)
    {
        var data = await GetDataAsync("api/v1/query?query=" + Uri.EscapeDataString(promql));
        Assert.True(data.Str("resultType") == "vector", $"{promql} returned a {data.Str("resultType")}, not a vector");
        return [.. data.Arr("result").Select(r => (r!.Obj("metric"), r!.Arr("value")[1]!.ToString()))];
    }

    /// <summary>The exemplars stored for the series <paramref name="selector"/> selects between two times
    /// (/api/v1/query_exemplars, what Grafana asks for a panel with exemplars on): each with its series' labels.</summary>
    public async Task<IReadOnlyList<(JsonObject Series, JsonObject Labels, string Value)>> ExemplarsAsync(string selector, DateTimeOffset start, DateTimeOffset end)
    {
        var data = (await GetAsync($"api/v1/query_exemplars?query={Uri.EscapeDataString(selector)}" +
                                   $"&start={start.ToUnixTimeSeconds()}&end={end.ToUnixTimeSeconds() + 1}")).Arr("data");
        return [.. data.SelectMany(series => series!.Arr("exemplars").Select(e => (series!.Obj("seriesLabels"), e!.Obj("labels"), e!["value"]!.ToString())))];
    }

    /// <summary>Every label name of every series Prometheus stores.</summary>
    public async Task<IReadOnlyList<string>> LabelNamesAsync() =>
        [.. (await GetDataArrayAsync("api/v1/labels")).Select(n => n!.ToString())];

    /// <summary>The active targets (after relabelling) with their labels and health.</summary>
    public async Task<IReadOnlyList<JsonObject>> ActiveTargetsAsync() =>
        [.. (await GetDataAsync("api/v1/targets?state=active")).Arr("activeTargets").Select(t => t!.AsObject())];

    /// <summary>Waits until <paramref name="count"/> targets have been scraped successfully.</summary>
    public async Task WaitForHealthyTargetsAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while ((await ActiveTargetsAsync()).Count(t => t.Str("health") == "up") < count)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"fewer than {count} healthy targets after {timeout}: {string.Join(", ", (await ActiveTargetsAsync()).Select(t => $"{t.Str("scrapeUrl")} {t.Str("health")} {t.Str("lastError")}"))}");
            await Task.Delay(500);
        }
    }

    private async Task<JsonObject> GetDataAsync(string path) => (await GetAsync(path)).Obj("data");

    private async Task<JsonArray> GetDataArrayAsync(string path) => (await GetAsync(path)).Arr("data");

    private async Task<JsonObject> GetAsync(string path)
    {
        using var response = await Http.GetAsync(new Uri(path, UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();
        var json = JsonNode.Parse(body)!.AsObject();
        if (json.Str("status") != "success") throw new InvalidOperationException($"prometheus {path}: {body}");
        return json;
    }

    public static string Format(double value) => value.ToString("0.####", CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        try { Directory.Delete(_directory, recursive: true); }
        catch (IOException) { }
    }
}

/// <summary>A pod as Kubernetes service discovery (role pod) presents it to Prometheus: one target per container
/// port, with the pod's labels and names as __meta_kubernetes_* labels.</summary>
public sealed record DiscoveredPod(string Name, string Namespace, IReadOnlyDictionary<string, string> Labels, string Container, IReadOnlyDictionary<string, int> Ports);

/// <summary>The scrape job the Prometheus Operator generates for an endpoint of a PodMonitor, with the pod role's
/// service discovery replaced by static targets carrying the same __meta_kubernetes_* labels. The relabellings are
/// those of prometheus-operator v0.86.2 (the version kube-prometheus-stack 79.7.1 installs),
/// pkg/prometheus/promcfg.go generatePodMonitorConfig, in its order, for what this chart's PodMonitor uses
/// (matchLabels, a port name, relabelings): drop pods not Running; keep the selector's labels and the endpoint's port;
/// namespace, container and pod from the pod; job = namespace/name; endpoint = the port name; then the PodMonitor's
/// own relabelings (generateRelabelConfig: camelCase to snake_case, action lower-cased); then the sharding rules with
/// the single shard $(SHARD) = 0. Prometheus itself applies them: a relabelling that does not do what the chart
/// means shows in the stored series, not in this class.</summary>
public static class PodMonitorScrapeJob
{
    public static JsonObject Build(JsonObject podMonitor, IEnumerable<DiscoveredPod> pods)
    {
        var name = podMonitor.Str("metadata.name")!;
        var @namespace = podMonitor.Str("metadata.namespace") ?? ChartRendering.Namespace;
        var endpoint = podMonitor.Arr("spec.podMetricsEndpoints").Single()!.AsObject();
        var port = endpoint.Str("port") ?? throw new NotSupportedException("only a named port is translated");
        foreach (var unsupported in new[] { "honorLabels", "scheme", "params", "scrapeTimeout", "metricRelabelings" })
            if (endpoint.Node(unsupported) is not null) throw new NotSupportedException($"podMetricsEndpoints[0].{unsupported} is not translated");
        if (podMonitor.Node("spec.selector.matchExpressions") is not null) throw new NotSupportedException("matchExpressions are not translated");

        var relabelings = new JsonArray
        {
            Rule(("source_labels", Labels("job")), ("target_label", "__tmp_prometheus_job_name")),
            Rule(("action", "drop"), ("source_labels", Labels("__meta_kubernetes_pod_phase")), ("regex", "(Failed|Succeeded)")),
        };
        foreach (var (key, value) in podMonitor.Obj("spec.selector.matchLabels").OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            relabelings.Add(Rule(("action", "keep"),
                ("source_labels", Labels("__meta_kubernetes_pod_label_" + Sanitize(key), "__meta_kubernetes_pod_labelpresent_" + Sanitize(key))),
                ("regex", $"({value});true")));
        }
        relabelings.Add(Rule(("action", "keep"), ("source_labels", Labels("__meta_kubernetes_pod_container_port_name")), ("regex", port)));
        relabelings.Add(Rule(("source_labels", Labels("__meta_kubernetes_namespace")), ("target_label", "namespace")));
        relabelings.Add(Rule(("source_labels", Labels("__meta_kubernetes_pod_container_name")), ("target_label", "container")));
        relabelings.Add(Rule(("source_labels", Labels("__meta_kubernetes_pod_name")), ("target_label", "pod")));
        relabelings.Add(Rule(("target_label", "job"), ("replacement", $"{@namespace}/{name}")));
        relabelings.Add(Rule(("target_label", "endpoint"), ("replacement", port)));
        foreach (var relabeling in (endpoint.Node("relabelings") as JsonArray ?? []).Select(r => r!.AsObject()))
        {
            var rule = new JsonObject();
            foreach (var (key, value) in relabeling)
            {
                var snake = key switch
                {
                    "sourceLabels" => "source_labels",
                    "targetLabel" => "target_label",
                    "separator" or "regex" or "modulus" or "replacement" or "action" => key,
                    _ => throw new NotSupportedException($"relabeling field {key} is not translated"),
                };
                rule[snake] = key == "action" ? value!.ToString().ToLowerInvariant() : value!.DeepClone();
            }
            relabelings.Add(rule);
        }
        relabelings.Add(Rule(("source_labels", Labels("__address__", "__tmp_hash")), ("target_label", "__tmp_hash"), ("regex", "(.+);"), ("replacement", "$1"), ("action", "replace")));
        relabelings.Add(Rule(("source_labels", Labels("__tmp_hash")), ("target_label", "__tmp_hash"), ("modulus", 1), ("action", "hashmod")));
        relabelings.Add(Rule(("source_labels", Labels("__tmp_hash", "__tmp_disable_sharding")), ("regex", "0;|.+;.+"), ("action", "keep")));

        var targets = new JsonArray();
        foreach (var pod in pods)
        {
            foreach (var (portName, number) in pod.Ports)
            {
                var labels = new JsonObject
                {
                    ["__meta_kubernetes_namespace"] = pod.Namespace,
                    ["__meta_kubernetes_pod_name"] = pod.Name,
                    ["__meta_kubernetes_pod_phase"] = "Running",
                    ["__meta_kubernetes_pod_container_name"] = pod.Container,
                    ["__meta_kubernetes_pod_container_port_name"] = portName,
                    ["__meta_kubernetes_pod_container_port_number"] = number.ToString(CultureInfo.InvariantCulture),
                };
                foreach (var (key, value) in pod.Labels)
                {
                    labels["__meta_kubernetes_pod_label_" + Sanitize(key)] = value;
                    labels["__meta_kubernetes_pod_labelpresent_" + Sanitize(key)] = "true";
                }
                targets.Add(new JsonObject { ["targets"] = new JsonArray($"127.0.0.1:{number}"), ["labels"] = labels });
            }
        }

        var job = new JsonObject
        {
            ["job_name"] = $"podMonitor/{@namespace}/{name}/0",
            ["honor_labels"] = false,
            ["static_configs"] = targets,
        };
        if (endpoint.Str("interval") is { } interval) job["scrape_interval"] = interval;
        if (endpoint.Str("path") is { } path) job["metrics_path"] = path;
        job["relabel_configs"] = relabelings;
        return job;
    }

    /// <summary>Kubernetes label names as service discovery turns them into Prometheus label names.</summary>
    public static string Sanitize(string label) => new([.. label.Select(c => char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_')]);

    private static JsonArray Labels(params string[] names) => [.. names.Select(n => (JsonNode)n)];

    private static JsonObject Rule(params (string Key, JsonNode Value)[] items)
    {
        var rule = new JsonObject();
        foreach (var (key, value) in items) rule[key] = value;
        return rule;
    }
}
