using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TestKit;
using Xunit.Abstractions;

namespace Deploy.Tests;

/// <summary>The chart's release analyses judged by the engines that judge them in the cluster: the real Prometheus
/// (Debian's 2.42) scraping real Catalog processes with the rendered PodMonitor's interval and relabellings, the smoke
/// run exactly as the rendered Job runs it, every rendered query sent through Prometheus' HTTP API with the args Argo
/// Rollouts substitutes, and every rendered condition evaluated by Argo Rollouts' expression engine
/// (<see cref="AnalysisJudge"/>). Three releases are judged at once against one Prometheus, so the test costs the smoke,
/// one pre-promotion initialDelay (counted from the smoke step's end, as the Rollout's separate steps count it) and one
/// post-promotion window:
/// - healthy: every metric Successful, before and after setWeight 100;
/// - broken (loses its database after start-up, answers 5xx): Failed;
/// - idle (no request reaches it: its smoke went to the stable pods, which is what a smoke aimed at a fixed ping or
///   pong Service does every other release): Failed before promotion; after it, Inconclusive where the release waits
///   for a person (prod) and Successful where it promotes itself without users (dev, staging), each environment's
///   rendered post-promotion template judged on the same samples;
/// while the stable pods get steady background traffic (Assets' health check of Catalog) that must not count.</summary>
public sealed class AnalysisOnRealPrometheusTests(ITestOutputHelper output)
{
    private const string Service = ServiceContractFixture.Service;

    /// <summary>The post-promotion window the test renders (production: analysis.postPromotion.window, 5m): one
    /// minute is the shortest that holds a scrape (every 30 s) before the users' requests and one after them.</summary>
    private const string PostPromotionWindow = "1m";

    // rollouts-pod-template-hash of each ReplicaSet (Argo Rollouts' hashes are 8-10 characters of [a-z0-9]).
    private const string StableHash = "6f8d9c7b5a";

    private static readonly Dictionary<string, string> s_releases = new()
    {
        ["healthy"] = "7c9e8d6b4f",
        ["broken"] = "5b7d6c8e9a",
        ["idle"] = "8e6c5d7f9b",
    };

    [Fact]
    public async Task TheRenderedAnalysesPassAHealthyReleaseAndFailABrokenOrIdleOneOnARealPrometheus()
    {
        var total = Stopwatch.StartNew();
        // Each environment's templates, the post-promotion one with the shorter window and nothing else changed.
        var posts = new Dictionary<string, JsonObject>();
        foreach (var environment in ChartRendering.Environments)
        {
            var shortened = await ChartRendering.RenderAsync(Service, ChartRendering.ValuesFiles(Service, environment), $"analysis.postPromotion.window={PostPromotionWindow}");
            var deployed = (await ChartRendering.RenderAsync(Service, environment)).Get("AnalysisTemplate", Service + "-post-promotion");
            var deployedWindow = deployed.Arr("spec.metrics")[0]!.Str("initialDelay")!;
            posts[environment] = shortened.Get("AnalysisTemplate", Service + "-post-promotion");
            Assert.Equal(deployed.ToJsonString().Replace(deployedWindow, PostPromotionWindow, StringComparison.Ordinal), posts[environment].ToJsonString());
        }
        var chart = await ChartRendering.RenderAsync(Service, "prod");
        var rollout = chart.Get("Rollout");
        var smokeTemplate = chart.Get("AnalysisTemplate", Service + "-smoke");
        var pre = chart.Get("AnalysisTemplate", Service + "-pre-promotion");
        var post = posts["prod"];
        var windowQuery = WindowRequestsQuery(post);
        // Two scrapes of the smoke's requests fit in the initialDelay that follows the smoke's step.
        var initialDelay = Duration(pre.Arr("spec.metrics").Select(m => m!.Str("initialDelay")).OfType<string>().Distinct().Single());
        var scrapeInterval = Duration(Assert.Single(chart.Get("PodMonitor").Arr("spec.podMetricsEndpoints"))!.Str("interval")!);
        Assert.True(initialDelay >= 2 * scrapeInterval, $"initialDelay {initialDelay} holds fewer than two scrapes ({scrapeInterval})");

        // One database for all (the stable pods and two releases), and one release whose database goes away.
        await using var cluster = await PostgresCluster.StartAsync();
        await ServiceContractFixture.MigrateAsync(chart, cluster);
        using var secrets = new SecretsDirectory();
        secrets.Write("database.json", ServiceContractFixture.RenderVaultTemplate(rollout.Obj("spec.template")));
        await using var lostWriter = new TcpForwarder(cluster.Primary.Port);
        await using var lostReader = new TcpForwarder(cluster.Standby!.Port);
        var configuration = chart.ConfigMapData(Service);
        ServiceProcess Start(string writer, string reader) =>
            ServiceProcess.Start(ServiceContractFixture.Project, ServiceContractFixture.LocalEnvironment(configuration, secrets.Path, writer, reader));
        var primary = cluster.Primary.ServiceConnectionString("catalog");
        var standby = cluster.Standby.ServiceConnectionString("catalog");
        await using var stable = Start(primary, standby);
        await using var healthy = Start(primary, standby);
        await using var broken = Start(lostWriter.ConnectionString("catalog"), lostReader.ConnectionString("catalog"));
        await using var idle = Start(primary, standby);
        var processes = new Dictionary<string, ServiceProcess> { ["healthy"] = healthy, ["broken"] = broken, ["idle"] = idle };
        await Task.WhenAll(new[] { stable, healthy, broken, idle }.Select(p => p.WaitReadyAsync(TimeSpan.FromSeconds(120))));

        // Prometheus scrapes the four pods as the operator configures it from the rendered PodMonitor.
        var pods = new List<DiscoveredPod> { Pod(rollout, stable, StableHash) };
        pods.AddRange(s_releases.Select(r => Pod(rollout, processes[r.Key], r.Value)));
        var scrapeJob = PodMonitorScrapeJob.Build(chart.Get("PodMonitor"), pods);
        await using var prometheus = await PrometheusServer.StartAsync(new JsonObject { ["scrape_configs"] = new JsonArray(scrapeJob) });
        await prometheus.WaitForHealthyTargetsAsync(pods.Count, TimeSpan.FromSeconds(90));
        var targets = await prometheus.ActiveTargetsAsync();
        // The keep on the endpoint's port name leaves one target per pod (service discovery offers the API port too).
        Assert.Equal(pods.Count, targets.Count);
        var targetLabels = new Dictionary<string, string>
        {
            ["job"] = $"{ChartRendering.Namespace}/{Service}",
            ["namespace"] = ChartRendering.Namespace,
            ["endpoint"] = "management",
            ["container"] = "app",
            ["service"] = Service,
        };
        Assert.All(targets, t => Assert.Equal(targetLabels, t.Obj("labels").Where(l => targetLabels.ContainsKey(l.Key)).ToDictionary(l => l.Key, l => l.Value!.ToString())));
        Assert.Equal(pods.Select(p => p.Labels["rollouts-pod-template-hash"]).Order(), targets.Select(t => t.Str("labels.rollouts_pod_template_hash")!).Order());

        // The stable pods serve Assets' health check of Catalog all along (CatalogHealthCheck: GET of an unknown id).
        using var stopBackground = new CancellationTokenSource();
        var background = BackgroundTrafficAsync(stable.Api, stopBackground.Token);

        // The broken release loses its database after start-up (readiness stays green: it is not a pod-local fault).
        lostWriter.Refuse();
        lostReader.Refuse();

        // Step 2's AnalysisRun: the smoke Job (exactly its rendered args and environment, against the release's pods
        // instead of <name>-canary). Step 3's starts when it has passed (the healthy and the idle release's; the broken
        // one's fails, which would abort its release there: its queries are judged all the same, at the same time), and
        // its Prometheus metrics wait initialDelay from then.
        var analysisStart = Stopwatch.StartNew();
        var smokeTargets = new Dictionary<string, ServiceProcess> { ["healthy"] = healthy, ["broken"] = broken, ["idle"] = stable };
        var smokes = smokeTargets.ToDictionary(t => t.Key, t => StartSmoke(smokeTemplate, rollout, t.Value));
        await Task.WhenAll(smokes["healthy"].Exited, smokes["idle"].Exited).WaitAsync(TimeSpan.FromMinutes(2));
        var smokeSeconds = analysisStart.Elapsed.TotalSeconds;
        var preStart = Stopwatch.StartNew();
        await WaitUntilAsync(preStart, initialDelay);

        var verdicts = new Dictionary<string, Dictionary<string, (string Value, string Phase)>>();
        foreach (var (release, smoke) in smokes)
        {
            verdicts[release] = new() { ["smoke"] = await SmokeVerdictAsync(smoke) };
            await smoke.DisposeAsync();
        }
        foreach (var (release, hash) in s_releases)
            foreach (var (metric, verdict) in await JudgeAsync(prometheus, pre, hash)) verdicts[release][metric] = verdict;
        var stableVerdicts = await JudgeAsync(prometheus, pre, StableHash);
        var preSeconds = analysisStart.Elapsed.TotalSeconds;
        var preRequests = new Dictionary<string, string>();
        foreach (var (release, hash) in s_releases.Append(new("stable", StableHash)))
            preRequests[release] = await ScalarAsync(prometheus, $"sum(http_request_duration_seconds_count{{namespace=\"{ChartRendering.Namespace}\",service=\"{Service}\",rollouts_pod_template_hash=\"{hash}\"}})");

        // setWeight 100: users reach the releases (the idle one still gets nothing), then step 6's AnalysisRun
        // judges the window after its initialDelay.
        var postStart = Stopwatch.StartNew();
        // Users come a few seconds later, so that the sample `offset <window>` finds at the verdict (taken a moment
        // after the window's end) still predates them.
        await Task.Delay(TimeSpan.FromSeconds(5));
        var users = new Dictionary<string, int> { ["healthy"] = await UsersAsync(healthy.Api), ["broken"] = await UsersAsync(broken.Api), ["idle"] = 0 };
        Assert.True(postStart.Elapsed < TimeSpan.FromSeconds(25), $"the users' requests took until {postStart.Elapsed}: a scrape after them within the window is no longer certain");
        var postDelay = Duration(post.Arr("spec.metrics").Select(m => m!.Str("initialDelay")).OfType<string>().Distinct().Single());
        await WaitUntilAsync(postStart, postDelay);
        var postVerdicts = new Dictionary<string, Dictionary<string, (string Value, string Phase)>>();
        var windowRequests = new Dictionary<string, string>();
        foreach (var (release, hash) in s_releases)
        {
            windowRequests[release] = await ScalarAsync(prometheus, windowQuery.Replace("{{args.canary-hash}}", hash, StringComparison.Ordinal));
        }
        var environmentVerdicts = new Dictionary<string, Dictionary<string, Dictionary<string, (string Value, string Phase)>>>();
        foreach (var (environment, template) in posts)
        {
            environmentVerdicts[environment] = [];
            foreach (var (release, hash) in s_releases) environmentVerdicts[environment][release] = await JudgeAsync(prometheus, template, hash);
        }
        foreach (var release in s_releases.Keys) postVerdicts[release] = environmentVerdicts["prod"][release];
        var labelNames = await prometheus.LabelNamesAsync();
        await stopBackground.CancelAsync();
        var backgroundRequests = await background;

        foreach (var (release, metrics) in verdicts)
        {
            Figures.Record(output, "Analysis on real Prometheus", $"{release} release, pre-promotion {initialDelay.TotalSeconds:0} s after the smoke step: "
                + string.Join(", ", metrics.Select(m => $"{m.Key} {m.Value.Value} {m.Value.Phase}")) + $"; {preRequests[release]} requests counted");
            Figures.Record(output, "Analysis on real Prometheus", $"{release} release, post-promotion window {PostPromotionWindow} ({users[release]} user requests): "
                + string.Join(", ", postVerdicts[release].Select(m => $"{m.Key} {m.Value.Value} {m.Value.Phase}")) + $"; {windowRequests[release]} requests in the window; "
                + string.Join(", ", environmentVerdicts.Select(e => $"{e.Key}: {string.Join("/", e.Value[release].Values.Select(v => v.Phase).Distinct())}")));
        }
        Figures.Record(output, "Analysis on real Prometheus", $"stable pods (background {backgroundRequests} health checks, {preRequests["stable"]} counted), judged by the same pre-promotion queries: "
            + string.Join(", ", stableVerdicts.Select(m => $"{m.Key} {m.Value.Value} {m.Value.Phase}")));
        Figures.Record(output, "Analysis on real Prometheus", $"timings: smoke step {smokeSeconds:0} s, pre-promotion verdicts {preSeconds:0} s after the smoke started, post-promotion verdicts {postStart.Elapsed.TotalSeconds:0} s after setWeight 100, test {total.Elapsed.TotalSeconds:0} s in all");

        // The healthy release passes everything, before and after it takes the traffic.
        Assert.All(verdicts["healthy"], m => Assert.True(m.Value.Phase == "Successful", $"healthy {m.Key}: {m.Value}"));
        Assert.All(postVerdicts["healthy"], m => Assert.True(m.Value.Phase == "Successful", $"healthy post-promotion {m.Key}: {m.Value}"));
        // The broken one fails its smoke and its success rate, before and after (a failed metric fails the run).
        Assert.Equal("Failed", verdicts["broken"]["smoke"].Phase);
        Assert.Equal("Failed", verdicts["broken"]["success-rate"].Phase);
        Assert.Equal("Failed", postVerdicts["broken"]["success-rate"].Phase);
        // The idle one: its smoke passed (against the stable pods), but Prometheus has nothing of its own: Failed,
        // then, after setWeight 100, Inconclusive where a person promotes (prod: the Rollout pauses for them) and
        // Successful where the release promotes itself in an environment without users (dev, staging: it would
        // otherwise pause with nobody to answer).
        Assert.Equal("Successful", verdicts["idle"]["smoke"].Phase);
        Assert.All(verdicts["idle"].Where(m => m.Key != "smoke"), m => Assert.True(m.Value.Phase == "Failed", $"idle {m.Key}: {m.Value}"));
        Assert.All(postVerdicts["idle"], m => Assert.True(m.Value.Phase == "Inconclusive", $"idle post-promotion {m.Key}: {m.Value}"));
        foreach (var environment in new[] { "dev", "staging" })
        {
            Assert.All(environmentVerdicts[environment]["idle"], m => Assert.True(m.Value.Phase == "Successful", $"idle post-promotion in {environment} {m.Key}: {m.Value}"));
            // Traffic that does come there is judged as in prod.
            Assert.All(environmentVerdicts[environment]["healthy"], m => Assert.True(m.Value.Phase == "Successful", $"healthy post-promotion in {environment} {m.Key}: {m.Value}"));
            Assert.Equal("Failed", environmentVerdicts[environment]["broken"]["success-rate"].Phase);
        }
        // The background traffic was there and would have passed the idle release had it counted for it.
        Assert.True(backgroundRequests >= 100, $"only {backgroundRequests} background requests");
        Assert.All(stableVerdicts, m => Assert.True(m.Value.Phase == "Successful", $"stable {m.Key}: {m.Value}"));
        // The post-promotion window holds the users' requests and not the smoke's (counted since the process start).
        Assert.Equal(users["healthy"].ToString(CultureInfo.InvariantCulture), windowRequests["healthy"]);
        Assert.True(double.Parse(preRequests["healthy"], CultureInfo.InvariantCulture) >= 2 * SmokeIterations(smokeTemplate), $"the smoke's requests were not all counted: {preRequests["healthy"]}");
        // Issue 13, item 9: no series carries a label Prometheus renamed because the application's clashed with a target label.
        Assert.DoesNotContain(labelNames, n => n.StartsWith("exported_", StringComparison.Ordinal));
    }

    /// <summary>A release whose every request after setWeight 100 is a 5xx, on pods that never answered anything else
    /// (e.g. restarted after the smoke, counters reset): no success series exists, so the success rate's numerator
    /// must be 0, not absent — an absent numerator empties the result, which is Inconclusive in prod and Successful
    /// where only the failureCondition is rendered. Judged by promtool's PromQL engine (Debian's 2.42, the same as the
    /// test above) on the series such pods expose, then by Argo Rollouts' expression engine with each environment's
    /// conditions.</summary>
    [Fact]
    public async Task AReleaseAnsweringOnly5xxAfterPromotionFailsInEveryEnvironment()
    {
        const string Hash = "4d5e6f7a8b";
        var directory = Directory.CreateTempSubdirectory("post-promotion-5xx-");
        try
        {
            foreach (var environment in ChartRendering.Environments)
            {
                var template = (await ChartRendering.RenderAsync(Service, environment)).Get("AnalysisTemplate", Service + "-post-promotion");
                var metric = template.Arr("spec.metrics").Single(m => m!.Str("name") == "success-rate")!;
                var query = metric.Str("provider.prometheus.query")!.Replace("{{args.canary-hash}}", Hash, StringComparison.Ordinal);
                var window = Duration(metric.Str("initialDelay")!);
                var series = $"http_request_duration_seconds_count{{namespace=\"{ChartRendering.Namespace}\",service=\"{Service}\",rollouts_pod_template_hash=\"{Hash}\",route=\"/api/v1/products\",method=\"GET\",code=\"503\"}}";
                // 30 s scrapes, 10 more 503s each, from the window's start; judged at its end.
                var steps = (int)(window / TimeSpan.FromSeconds(30));
                var test = new JsonObject
                {
                    ["rule_files"] = new JsonArray(),
                    ["tests"] = new JsonArray(new JsonObject
                    {
                        ["interval"] = "30s",
                        ["input_series"] = new JsonArray(new JsonObject { ["series"] = series, ["values"] = $"0+10x{2 * steps}" }),
                        ["promql_expr_test"] = new JsonArray(new JsonObject
                        {
                            ["expr"] = query,
                            ["eval_time"] = $"{2 * steps * 30}s",
                            ["exp_samples"] = new JsonArray(new JsonObject { ["labels"] = "{}", ["value"] = 0 }),
                        }),
                    }),
                };
                var file = Path.Combine(directory.FullName, $"{environment}.test.yml");
                await File.WriteAllTextAsync(file, test.ToJsonString());
                var (exitCode, promtool) = await Tool.RunRawAsync(DeployTools.Promtool, ["test", "rules", file]);

                Assert.True(exitCode == 0, $"{environment}: the success rate of an all-5xx window is not 0:\n{promtool}");
                Assert.Equal("Failed", await AnalysisJudge.JudgeAsync(new Measurement(["0"], metric.Str("successCondition"), metric.Str("failureCondition"))));
            }
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>The pod Kubernetes would run for the Rollout's template in a ReplicaSet with this hash.</summary>
    private static DiscoveredPod Pod(JsonObject rollout, ServiceProcess process, string hash)
    {
        var template = rollout.Obj("spec.template");
        var labels = template.Labels();
        labels["rollouts-pod-template-hash"] = hash;
        var container = template.Arr("spec.containers")[0]!;
        var ports = container.Arr("ports").ToDictionary(p => p!.Str("name")!, p => p!.Str("name") switch
        {
            "http" => process.ApiPort,
            "management" => process.ManagementPort,
            var other => throw new InvalidOperationException($"unknown container port {other}"),
        });
        return new DiscoveredPod($"{rollout.Str("metadata.name")}-{hash}-{hash[..5]}", ChartRendering.Namespace, labels, container.Str("name")!, ports);
    }

    /// <summary>Starts the smoke Job's container command: its rendered args and env, --base-url pointed at the pods
    /// the Job's Service (the Rollout's canaryService) would reach.</summary>
    private static ServiceProcess StartSmoke(JsonObject smokeTemplate, JsonObject rollout, ServiceProcess target)
    {
        var container = smokeTemplate.Arr("spec.metrics").Single(m => m!.Node("provider.job") is not null)!.Arr("provider.job.spec.template.spec.containers")[0]!;
        var args = container.Arr("args").Select(a => a!.ToString()).ToArray();
        var at = Array.IndexOf(args, "--base-url");
        Assert.Equal($"{rollout.Str("spec.strategy.canary.canaryService")}:8080", new Uri(args[at + 1]).Authority);
        args[at + 1] = target.Api.BaseAddress!.ToString();
        var environment = (container.Node("env") as JsonArray ?? []).ToDictionary(e => e!.Str("name")!, e => e!.Str("value")!);
        return ServiceProcess.Start(ServiceContractFixture.Project, environment, args);
    }

    /// <summary>The smoke metric's verdict when the Prometheus metrics are judged (metricproviders/job: the Job's
    /// success is the metric's). A smoke still running then has either logged a failed iteration, after which it can
    /// only exit 1 (Platform/Commands.cs SmokeAsync: exit 0 iff no iteration failed; the Job has backoffLimit 0), or
    /// not, and then Argo Rollouts would still be waiting for it.</summary>
    private static async Task<(string Value, string Phase)> SmokeVerdictAsync(ServiceProcess smoke)
    {
        if (smoke.Exited.IsCompleted)
        {
            var exitCode = await smoke.Exited;
            var summary = smoke.StdoutLines.LastOrDefault(l => l.StartsWith("smoke: ", StringComparison.Ordinal)) ?? smoke.Stderr;
            return ($"(exit {exitCode}, {Regex.Match(summary, @"\d+ failed").Value})", exitCode == 0 ? "Successful" : "Failed");
        }
        var failed = smoke.Stderr.Split('\n').Count(l => l.Contains(" failed: ", StringComparison.Ordinal));
        Assert.True(failed > 0, $"the smoke is still running without a failed iteration; Argo Rollouts would still wait for it:\n{string.Join('\n', smoke.StdoutLines)}");
        return ($"(running, {failed} iterations failed so far: exit 1 to come)", "Failed");
    }

    private static int SmokeIterations(JsonObject pre)
    {
        var args = pre.Arr("spec.metrics").Single(m => m!.Node("provider.job") is not null)!.Arr("provider.job.spec.template.spec.containers")[0]!
            .Arr("args").Select(a => a!.ToString()).ToList();
        return int.Parse(args[args.IndexOf("--iterations") + 1], CultureInfo.InvariantCulture);
    }

    /// <summary>Each Prometheus metric of the template: its query with args.canary-hash substituted (Argo Rollouts
    /// resolves {{args.*}} before querying), sent to Prometheus, the vector's values judged by the conditions.</summary>
    private static async Task<Dictionary<string, (string Value, string Phase)>> JudgeAsync(PrometheusServer prometheus, JsonObject template, string hash)
    {
        Assert.Equal(["canary-hash"], template.Arr("spec.args").Select(a => a!.Str("name")!));
        var verdicts = new Dictionary<string, (string, string)>();
        foreach (var metric in template.Arr("spec.metrics").Select(m => m!.AsObject()).Where(m => m.Node("provider.prometheus") is not null))
        {
            var query = metric.Str("provider.prometheus.query")!.Replace("{{args.canary-hash}}", hash, StringComparison.Ordinal);
            Assert.DoesNotContain("{{", query, StringComparison.Ordinal);
            var values = (await prometheus.QueryAsync(query)).Select(s => s.Value).ToList();
            var phase = await AnalysisJudge.JudgeAsync(new Measurement(values, metric.Str("successCondition"), metric.Str("failureCondition")));
            verdicts[metric.Str("name")!] = ($"[{string.Join(",", values.Select(Round))}]", phase);
        }
        return verdicts;
    }

    /// <summary>The post-promotion success rate's denominator: the requests of the window, per the rendered query.</summary>
    private static string WindowRequestsQuery(JsonObject post)
    {
        var query = post.Arr("spec.metrics").Single(m => m!.Str("name") == "success-rate")!.Str("provider.prometheus.query")!;
        // The template's folded scalar (>-) joins the lines of numerator / denominator with spaces.
        var denominator = query.Split(" / ", 2)[1].Trim();
        Assert.StartsWith("(", denominator, StringComparison.Ordinal);
        Assert.EndsWith(" > 0)", denominator, StringComparison.Ordinal);
        return denominator[1..^" > 0)".Length];
    }

    private static async Task<string> ScalarAsync(PrometheusServer prometheus, string query)
    {
        var samples = await prometheus.QueryAsync(query);
        return samples.Count == 0 ? "none" : Round(samples.Single().Value);
    }

    private static string Round(string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) ? PrometheusServer.Format(number) : value;

    /// <summary>Users after setWeight 100: the reads a client sends (a list, an unknown id), 10 of each, all at once
    /// (a release without its database answers each only after the writer's retry budget).</summary>
    private static async Task<int> UsersAsync(HttpClient api)
    {
        var paths = Enumerable.Range(0, 10).SelectMany(_ => new[] { "api/v1/products?limit=5", $"api/v1/products/{Guid.CreateVersion7()}" }).ToList();
        await Task.WhenAll(paths.Select(async path =>
        {
            using var response = await api.GetAsync(new Uri(path, UriKind.Relative));
        }));
        return paths.Count;
    }

    private static async Task<int> BackgroundTrafficAsync(HttpClient api, CancellationToken stop)
    {
        var sent = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var response = await api.GetAsync(new Uri($"api/v1/products/{Guid.Empty}", UriKind.Relative), stop);
                Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
                sent++;
                await Task.Delay(250, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
        }
        return sent;
    }

    private static async Task WaitUntilAsync(Stopwatch since, TimeSpan delay)
    {
        var remaining = delay - since.Elapsed;
        if (remaining > TimeSpan.Zero) await Task.Delay(remaining);
    }

    /// <summary>Argo Rollouts' durations (initialDelay): a number and s, m or h.</summary>
    private static TimeSpan Duration(string text)
    {
        var match = Regex.Match(text, "^([0-9]+)(s|m|h)$");
        Assert.True(match.Success, $"not a duration this test reads: {text}");
        var amount = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch { "s" => TimeSpan.FromSeconds(amount), "m" => TimeSpan.FromMinutes(amount), _ => TimeSpan.FromHours(amount) };
    }
}
