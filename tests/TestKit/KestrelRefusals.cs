namespace TestKit;

/// <summary>What the hostile-input tests allow to come back without a problem document.</summary>
public static class KestrelRefusals
{
    /// <summary>Refusals Kestrel answers before any application code runs, without a body: a request target too long
    /// (414), headers too large (431), or a NUL byte in the decoded path (400, invalid request target). Any other
    /// bodiless error would be the application's and is a violation.</summary>
    public static bool IsKestrelRejection(int status, HttpRequestMessage request) => status switch
    {
        414 or 431 => true,
        400 => request.RequestUri!.OriginalString.Split('?')[0].Contains("%00", StringComparison.Ordinal),
        _ => false,
    };
}
