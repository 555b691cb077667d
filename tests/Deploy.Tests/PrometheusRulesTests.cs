using TestKit;

namespace Deploy.Tests;

/// <summary>The rule file: valid for promtool (as compose's Prometheus loads it), unit-tested alert by alert, generic
/// over services, and every alert actionable through a runbook page that exists.</summary>
public sealed class PrometheusRulesTests
{
    [Fact]
    public async Task PromtoolAcceptsTheRuleFile()
    {
        var output = await Tool.RunAsync(DeployTools.Promtool, ["check", "rules", PrometheusRuleFile.Path]);

        Assert.Contains("SUCCESS", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PromtoolUnitTestsOfEveryAlertPass()
    {
        var (exitCode, output) = await Tool.RunRawAsync(DeployTools.Promtool, ["test", "rules", PrometheusRuleFile.TestsPath]);

        Assert.True(exitCode == 0, output);
        Assert.Contains("SUCCESS", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PromtoolFailsARuleFileWithABrokenExpressionAndATestWithAWrongExpectation()
    {
        var directory = Directory.CreateTempSubdirectory("rules-");
        try
        {
            var broken = Path.Combine(directory.FullName, "broken.rules.yml");
            await File.WriteAllTextAsync(broken, "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: sum by (service (up)\n");
            var (checkExit, _) = await Tool.RunRawAsync(DeployTools.Promtool, ["check", "rules", broken]);

            // The real rules with the real test file, except that a healthy service is expected to page.
            File.Copy(PrometheusRuleFile.Path, Path.Combine(directory.FullName, "service.rules.yml"));
            var tests = Path.Combine(directory.FullName, "tests");
            Directory.CreateDirectory(tests);
            var wrong = (await File.ReadAllTextAsync(PrometheusRuleFile.TestsPath))
                .Replace("exp_labels: {severity: critical, slo: availability, namespace: studio, service: catalog}",
                         "exp_labels: {severity: critical, slo: availability, namespace: studio, service: assets}", StringComparison.Ordinal);
            await File.WriteAllTextAsync(Path.Combine(tests, "wrong.test.yml"), wrong);
            var (testExit, testOutput) = await Tool.RunRawAsync(DeployTools.Promtool, ["test", "rules", Path.Combine(tests, "wrong.test.yml")]);

            Assert.NotEqual(0, checkExit);
            Assert.NotEqual(0, testExit);
            Assert.Contains("FAILED", testOutput, StringComparison.Ordinal);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task EveryAlertHasASummaryADescriptionAndARunbookThatExists()
    {
        var alerts = await PrometheusRuleFile.AlertsAsync();
        var index = await File.ReadAllTextAsync(Repo.PathOf("deploy", "runbooks", "README.md"));

        Assert.NotEmpty(alerts);
        foreach (var alert in alerts)
        {
            var name = alert.Str("alert")!;
            Assert.False(string.IsNullOrWhiteSpace(alert.Str("annotations.summary")), $"{name} has no summary");
            Assert.False(string.IsNullOrWhiteSpace(alert.Str("annotations.description")), $"{name} has no description");
            Assert.Contains(alert.Str("labels.severity"), new[] { "critical", "warning" });
            var runbook = alert.Str("annotations.runbook_url")!;
            Assert.StartsWith("deploy/runbooks/", runbook, StringComparison.Ordinal);
            var page = Repo.PathOf(runbook.Split('/'));
            Assert.True(File.Exists(page), $"{name}: runbook {runbook} does not exist");
            Assert.StartsWith($"# {name}\n", await File.ReadAllTextAsync(page), StringComparison.Ordinal);
            Assert.Contains($"({Path.GetFileName(page)})", index, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task EveryAlertIsTestedFiringAndSilent()
    {
        var alerts = (await PrometheusRuleFile.AlertsAsync()).Select(a => a.Str("alert")!).ToList();
        var tests = (await ChartRendering.YamlToJsonAsync(await File.ReadAllTextAsync(PrometheusRuleFile.TestsPath))).Single()!
            .Arr("tests").SelectMany(t => t!.Arr("alert_rule_test")).Select(c => c!.AsObject()).ToList();

        foreach (var alert in alerts)
        {
            var cases = tests.Where(c => c.Str("alertname") == alert).ToList();
            Assert.True(cases.Any(c => c.Arr("exp_alerts").Count > 0), $"{alert}: no test proves it fires");
            Assert.True(cases.Any(c => c.Arr("exp_alerts").Count == 0), $"{alert}: no test proves it stays silent");
        }
    }

    [Fact]
    public async Task EverySelectorIsGenericOverServicesAndEveryAggregationKeepsTheService()
    {
        var rules = await PrometheusRuleFile.RulesAsync();

        foreach (var rule in rules)
        {
            var name = rule.Str("alert") ?? rule.Str("record");
            var expression = rule.Str("expr")!;
            var selectors = PromQl.Selectors(expression);
            Assert.NotEmpty(selectors);
            Assert.All(selectors, s => Assert.True(
                s.Metric.StartsWith("kube_", StringComparison.Ordinal) || s.Matchers.Contains("service=~\".+\"", StringComparison.Ordinal),
                $"{name}: {s.Metric} lacks service=~\".+\" (kube-state-metrics series are joined on up{{service=~\".+\"}} instead)"));
            foreach (var by in ByClauses(expression))
                Assert.True(by.Contains("service", StringComparison.Ordinal), $"{name}: by ({by}) drops the service label");
        }
    }

    [Fact]
    public void TheSelectorReaderFindsEveryMetricAndNoLabelOrFunction()
    {
        var selectors = PromQl.Selectors("""
            sum by (namespace, service) (rate(a_total{service=~".+",code=~"5.."}[5m]))
              / on (namespace) group_left (service) max without (pod) (b{x="y"} offset 5m) > 0.5 and c unless histogram_quantile(0.95, d_bucket{le="0.5"})
            """);

        Assert.Equal(["a_total", "b", "c", "d_bucket"], selectors.Select(s => s.Metric));
        Assert.Equal("service=~\".+\",code=~\"5..\"", selectors[0].Matchers);
        Assert.Equal("", selectors[2].Matchers);
    }

    [Fact]
    public async Task TheChartScopesEveryRuleToItsReleasesServiceAndLinksRunbooksByUrl()
    {
        var rendered = await ChartRendering.RenderAsync("catalog", "prod");
        var spec = rendered.Get("PrometheusRule", "catalog").Obj("spec");
        var fileRules = await PrometheusRuleFile.RulesAsync();
        var chartRules = spec.Arr("groups").SelectMany(g => g!.Arr("rules")).Select(r => r!.AsObject()).ToList();

        Assert.Equal(fileRules.Count, chartRules.Count);
        Assert.All(spec.Arr("groups"), g => Assert.StartsWith("catalog-", g!.Str("name"), StringComparison.Ordinal));
        foreach (var rule in chartRules)
        {
            var expression = rule.Str("expr")!;
            Assert.DoesNotContain("=~\".+\"", expression, StringComparison.Ordinal);
            Assert.All(PromQl.Selectors(expression).Where(s => !s.Metric.StartsWith("kube_", StringComparison.Ordinal)),
                s => Assert.Contains("service=\"catalog\"", s.Matchers, StringComparison.Ordinal));
            if (rule.Str("annotations.runbook_url") is { } url)
                Assert.StartsWith("https://eu-west-1.console.aws.amazon.com/codesuite/codecommit/repositories/studio-services/browse/refs/heads/prod/--/deploy/runbooks/service-", url, StringComparison.Ordinal);
        }
    }

    /// <summary>The label lists of every "by (...)" in an expression.</summary>
    private static IEnumerable<string> ByClauses(string expression)
    {
        for (var at = expression.IndexOf("by (", StringComparison.Ordinal); at >= 0; at = expression.IndexOf("by (", at + 1, StringComparison.Ordinal))
        {
            var close = expression.IndexOf(')', at);
            yield return expression[(at + 4)..close];
        }
    }
}
