using System.Net;
using System.Text;
using System.Web;
using TestKit;

namespace Assets.Api.Tests;

/// <summary>Stands in for AWS STS on 127.0.0.1 (the SDK is pointed at it with AWS_ENDPOINT_URL_STS): answers
/// AssumeRoleWithWebIdentity with fixed credentials and remembers every call, so a test can prove the IRSA chain
/// really exchanged the service account token. The credentials are the local S3 server's keys.</summary>
public sealed class FakeSts : IAsyncDisposable
{
    public const string SessionToken = "session-token-from-fake-sts";

    private readonly List<IReadOnlyDictionary<string, string>> _calls = [];
    private readonly LoopbackHttpServer _server;

    public FakeSts() => _server = new LoopbackHttpServer(AnswerAsync);

    public int Port => _server.Port;

    public string Url => _server.Url;

    /// <summary>Form fields of every call received (Action, RoleArn, WebIdentityToken, …).</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, string>> Calls
    {
        get { lock (_calls) return [.. _calls]; }
    }

    private async Task AnswerAsync(HttpListenerContext context, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
        var form = HttpUtility.ParseQueryString(await reader.ReadToEndAsync(cancellationToken));
        lock (_calls) _calls.Add(form.AllKeys.Where(k => k is not null).ToDictionary(k => k!, k => form[k] ?? ""));
        var xml = Encoding.UTF8.GetBytes($"""
            <AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
              <AssumeRoleWithWebIdentityResult>
                <Credentials>
                  <AccessKeyId>{S3Server.AccessKey}</AccessKeyId>
                  <SecretAccessKey>{S3Server.SecretKey}</SecretAccessKey>
                  <SessionToken>{SessionToken}</SessionToken>
                  <Expiration>{DateTime.UtcNow.AddHours(1):yyyy-MM-ddTHH:mm:ssZ}</Expiration>
                </Credentials>
                <SubjectFromWebIdentityToken>system:serviceaccount:studio:assets</SubjectFromWebIdentityToken>
                <AssumedRoleUser>
                  <Arn>arn:aws:sts::123456789012:assumed-role/assets/session</Arn>
                  <AssumedRoleId>AROAEXAMPLE:session</AssumedRoleId>
                </AssumedRoleUser>
              </AssumeRoleWithWebIdentityResult>
              <ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata>
            </AssumeRoleWithWebIdentityResponse>
            """);
        await LoopbackHttpServer.RespondAsync(context, 200, "text/xml", xml);
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
