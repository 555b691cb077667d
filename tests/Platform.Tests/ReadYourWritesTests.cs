using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;

namespace Platform.Tests;

public sealed class ReadYourWritesTests
{
    private static readonly TimeSpan s_window = TimeSpan.FromSeconds(2);

    [Theory]
    [InlineData(-500, true)]
    [InlineData(-1999, true)]
    [InlineData(-2001, false)]
    [InlineData(500, true)]
    [InlineData(5000, false)]
    public void ATokenPinsReadsOnlyWhileItIsYoungerThanTheWindow(int issuedRelativeMs, bool pinned)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var context = new DefaultHttpContext();
        context.Request.Headers[ReadYourWritesOptions.Header] =
            (time.GetUtcNow().ToUnixTimeMilliseconds() + issuedRelativeMs).ToString(CultureInfo.InvariantCulture);
        Assert.Equal(pinned, ReadYourWritesExtensions.IsPinned(context.Request, time, s_window));
    }

    [Theory]
    [InlineData("")]
    [InlineData("soon")]
    [InlineData("-5")]
    [InlineData("1e12")]
    [InlineData("99999999999999999999999")]
    public void AMalformedTokenIsIgnored(string token)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers[ReadYourWritesOptions.Header] = token;
        Assert.False(ReadYourWritesExtensions.IsPinned(context.Request, TimeProvider.System, s_window));
    }

    [Fact]
    public void AnIssuedTokenPinsTheNextRead()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var write = new DefaultHttpContext();
        ReadYourWritesExtensions.IssueToken(write.Response, time);
        var read = new DefaultHttpContext();
        read.Request.Headers[ReadYourWritesOptions.Header] = write.Response.Headers[ReadYourWritesOptions.Header];
        time.Advance(TimeSpan.FromMilliseconds(1500));
        Assert.True(ReadYourWritesExtensions.IsPinned(read.Request, time, s_window));
        time.Advance(TimeSpan.FromMilliseconds(600));
        Assert.False(ReadYourWritesExtensions.IsPinned(read.Request, time, s_window));
    }
}
