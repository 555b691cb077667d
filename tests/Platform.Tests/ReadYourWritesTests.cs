using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;
using Platform.Data;

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
        context.Request.Headers[ReadYourWrites.Header] =
            (time.GetUtcNow().ToUnixTimeMilliseconds() + issuedRelativeMs).ToString(CultureInfo.InvariantCulture);
        Assert.Equal(pinned, ReadYourWrites.From(context, time, s_window).Pinned);
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
        context.Request.Headers[ReadYourWrites.Header] = token;
        Assert.False(ReadYourWrites.From(context, TimeProvider.System, s_window).Pinned);
    }

    [Fact]
    public void AnIssuedTokenPinsTheNextRead()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var write = new DefaultHttpContext();
        ReadYourWrites.IssueToken(write, time);
        var read = new DefaultHttpContext();
        read.Request.Headers[ReadYourWrites.Header] = write.Response.Headers[ReadYourWrites.Header];
        time.Advance(TimeSpan.FromMilliseconds(1500));
        Assert.True(ReadYourWrites.From(read, time, s_window).Pinned);
        time.Advance(TimeSpan.FromMilliseconds(600));
        Assert.False(ReadYourWrites.From(read, time, s_window).Pinned);
    }
}
