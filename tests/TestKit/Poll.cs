namespace TestKit;

/// <summary>The one way tests wait: poll a condition until it holds or a deadline passes, never a fixed sleep. A
/// loaded machine only makes the wait longer, not the test flaky; a condition that never holds fails with what was
/// awaited and the last error the condition threw.</summary>
public static class Poll
{
    private static readonly TimeSpan s_interval = TimeSpan.FromMilliseconds(100);

    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        Exception? last = null;
        while (true)
        {
            try
            {
                if (await condition()) return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Expected while the condition's target is still coming up (refused connections, a server restarting).
                last = e;
            }
            if (DateTime.UtcNow >= deadline)
                throw new TimeoutException($"Timed out after {timeout} waiting for {what}" + (last is null ? "" : $" (last error: {last.Message})"));
            await Task.Delay(s_interval);
        }
    }

    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what) =>
        UntilAsync(() => Task.FromResult(condition()), timeout, what);
}
