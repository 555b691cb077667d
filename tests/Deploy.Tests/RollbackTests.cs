using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TestKit;

namespace Deploy.Tests;

/// <summary>Rollbacks that stick (deploy/runbooks/release-rollback.md): a hold in the ImageUpdater resource, which
/// Image Updater honours, instead of a hand-reverted pin it overwrites on its next poll. No Image Updater runs here: the
/// hold is validated against its CRD (argocd-image-updater chart 1.1.1) and the choice is made the way its documentation
/// and code describe it (docs/configuration/images.md: allowTags filters the registry's tags, the image-level
/// commonUpdateSettings overrides the applicationRef's, which overrides the resource's; newest-build takes the most
/// recently built; pkg/argocd/update.go needsUpdate: any tag other than the current one is written, older or newer).</summary>
public sealed partial class RollbackTests
{
    private static readonly DateTimeOffset s_day = new(2026, 11, 2, 9, 0, 0, TimeSpan.Zero);

    /// <summary>The prod catalog repository: the good build, the bad one built after it, a build whose scan has not
    /// passed yet (candidate-, never promotable), another branch's build, and the keep- tag the runbook adds.</summary>
    private static readonly (string Tag, DateTimeOffset Built)[] s_registry =
    [
        ("prod-1a2b3c4", s_day),
        ("keep-prod-1a2b3c4", s_day),
        ("prod-9f8e7d6", s_day.AddDays(1)),
        ("candidate-prod-7777777", s_day.AddDays(2)),
        ("develop-8888888", s_day.AddDays(3)),
    ];

    [Fact]
    public async Task TheRunbooksHoldIsAValidImageUpdaterResourceThatPinsTheHeldBuildDespiteANewerOne()
    {
        var hold = await RunbookHoldAsync();
        var heldTag = HeldTag().Match(hold.Str("commonUpdateSettings.allowTags")!).Groups[1].Value;
        Assert.Equal("prod-1a2b3c4", heldTag);
        var updater = await UpdaterAsync("prod");
        var held = WithHold(updater, "catalog-prod", hold);

        Assert.Empty(await GitOpsRepository.SchemaErrorsAsync([held]));
        // Without the hold Image Updater takes the newest build of the branch, the bad one; with it, the held one.
        Assert.Equal("prod-9f8e7d6", Choose(updater, "catalog-prod"));
        Assert.Equal(heldTag, Choose(held, "catalog-prod"));
        // The hold is the only difference, for that service only.
        Assert.Equal(Choose(updater, "assets-prod"), Choose(held, "assets-prod"));

        // Image Updater writes the choice into the pin (the current pin names the bad build, so it is an update),
        // and the chart deploys exactly that image.
        var pin = await PinAfterWriteBackAsync("prod", "catalog", current: "prod-9f8e7d6", Choose(held, "catalog-prod")!);
        try
        {
            // The ApplicationSet passes the pin's image.tag, and nothing else of it, as the Helm parameter image.tag.
            var tag = TagLine().Match(await File.ReadAllTextAsync(pin)).Value.Split(':', 2)[1].Trim();
            var rendered = await ChartRendering.RenderAsync("catalog", ChartRendering.ArgoValueFiles("catalog", "prod"), "image.tag=" + tag);
            Assert.EndsWith(":" + heldTag, rendered.Get("Rollout").Arr("spec.template.spec.containers")[0]!.Str("image"), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(pin);
        }
    }

    [Fact]
    public async Task APinRevertedByHandIsOverwrittenByTheNextPollWithoutAHold()
    {
        var updater = await UpdaterAsync("prod");

        var chosen = Choose(updater, "catalog-prod");

        // The pin says prod-1a2b3c4 after a hand revert; newest-build picks the newer bad build and writes it back.
        Assert.NotEqual("prod-1a2b3c4", chosen);
        Assert.Equal("prod-9f8e7d6", chosen);
    }

    [Theory]
    [MemberData(nameof(GitOpsRepository.EnvironmentData), MemberType = typeof(GitOpsRepository))]
    public async Task OnlyScannedBuildsOfTheEnvironmentsBranchAreCandidates(string environment)
    {
        var updater = await UpdaterAsync(environment);
        var allowTags = Effective(updater, $"catalog-{environment}", "allowTags")!;
        var pattern = new Regex(allowTags["regexp:".Length..]);

        Assert.DoesNotContain(s_registry, t => t.Tag.StartsWith("candidate-", StringComparison.Ordinal) && pattern.IsMatch(t.Tag));
        Assert.DoesNotContain(s_registry, t => t.Tag.StartsWith("keep-", StringComparison.Ordinal) && pattern.IsMatch(t.Tag));
    }

    /// <summary>The tag Image Updater's newest-build strategy picks for the Application's image, or null.</summary>
    private static string? Choose(JsonObject updater, string application)
    {
        Assert.Equal("newest-build", Effective(updater, application, "updateStrategy"));
        var allowTags = Effective(updater, application, "allowTags")!;
        Assert.StartsWith("regexp:", allowTags, StringComparison.Ordinal);
        var pattern = new Regex(allowTags["regexp:".Length..]);
        return s_registry.Where(t => pattern.IsMatch(t.Tag)).OrderByDescending(t => t.Built).Select(t => t.Tag).FirstOrDefault();
    }

    /// <summary>A setting as it applies to the Application's (single) image: image, then applicationRef, then resource.</summary>
    private static string? Effective(JsonObject updater, string application, string setting)
    {
        var reference = updater.Arr("spec.applicationRefs").Single(r => r!.Str("namePattern") == application)!;
        var image = Assert.Single(reference.Arr("images"))!;
        return image.Str($"commonUpdateSettings.{setting}") ?? reference.Str($"commonUpdateSettings.{setting}") ?? updater.Str($"spec.commonUpdateSettings.{setting}");
    }

    private static JsonObject WithHold(JsonObject updater, string application, JsonObject heldImage)
    {
        var copy = updater.DeepClone().AsObject();
        var reference = copy.Arr("spec.applicationRefs").Single(r => r!.Str("namePattern") == application)!;
        var image = Assert.Single(reference.Arr("images"))!;
        Assert.Equal(image.Str("imageName"), heldImage.Str("imageName"));
        Assert.Equal(image.Str("alias"), heldImage.Str("alias"));
        reference["images"] = new JsonArray(heldImage.DeepClone());
        return copy;
    }

    private static async Task<JsonObject> UpdaterAsync(string environment) =>
        (await GitOpsRepository.ArgoCdObjectsAsync()).Single(o => o.Str("kind") == "ImageUpdater" && o.Str("metadata.name") == $"services-{environment}");

    /// <summary>The images entry of the runbook's hold (the YAML block with allowTags).</summary>
    private static async Task<JsonObject> RunbookHoldAsync()
    {
        var runbook = await File.ReadAllTextAsync(Repo.PathOf("deploy", "runbooks", "release-rollback.md"));
        var block = YamlBlock().Matches(runbook).Select(m => m.Groups[1].Value).Single(b => b.Contains("allowTags:", StringComparison.Ordinal));
        var lines = block.Split('\n').Where(l => l.Trim().Length > 0).ToList();
        var indent = lines.Min(l => l.Length - l.TrimStart().Length);
        var yaml = string.Join('\n', lines.Select(l => l[indent..]));
        return Assert.Single((await ChartRendering.YamlToJsonAsync(yaml))[0]!.Arr("images"))!.AsObject();
    }

    /// <summary>The pin as Image Updater's helmvalues write-back leaves it: the tag key set, the rest untouched.</summary>
    private static async Task<string> PinAfterWriteBackAsync(string environment, string service, string current, string tag)
    {
        var text = await File.ReadAllTextAsync(Path.Combine(GitOpsRepository.PinsRoot, environment, service + ".yaml"));
        var before = TagLine().Replace(text, "  tag: " + current);
        var after = TagLine().Replace(before, "  tag: " + tag);
        Assert.NotEqual(before, after);
        var file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, after);
        return file;
    }

    [GeneratedRegex(@"^regexp:\^([a-z0-9-]+)\$$")]
    private static partial Regex HeldTag();

    [GeneratedRegex(@"```yaml\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex YamlBlock();

    [GeneratedRegex(@"(?m)^  tag: .*$")]
    private static partial Regex TagLine();
}
