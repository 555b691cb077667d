using System.Net;
using System.Net.Sockets;

namespace TestKit;

/// <summary>A TCP forwarder on 127.0.0.1 standing in for a DNS endpoint (the Aurora cluster or reader endpoint):
/// it can be repointed (failover), made to refuse connections (server down) or to stall (accept and hold
/// connections without forwarding a byte, the hardest failure for a client to notice).</summary>
public sealed class TcpForwarder : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(TcpClient Client, TcpClient? Upstream)> _connections = [];
    private volatile int _targetPort;
    private volatile Mode _mode = Mode.Forward;

    public enum Mode
    {
        Forward,
        Stall,
        Refuse,
    }

    public TcpForwarder(int targetPort)
    {
        _targetPort = targetPort;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = AcceptLoopAsync();
    }

    public int Port { get; }

    public string ConnectionString(string database) => $"Host=127.0.0.1;Port={Port};Database={database}";

    /// <summary>Sends new connections to another server (a DNS flip). A failover that restarts the old server cuts
    /// existing connections; a DNS flip alone leaves them talking to the old one (<paramref name="cutExisting"/> false).</summary>
    public void Repoint(int targetPort, bool cutExisting = true)
    {
        _targetPort = targetPort;
        if (cutExisting) CloseAll();
    }

    /// <summary>New and existing connections stop moving bytes; nothing is closed.</summary>
    public void Stall() => _mode = Mode.Stall;

    /// <summary>New connections are accepted then reset at once; existing ones are cut.</summary>
    public void Refuse()
    {
        _mode = Mode.Refuse;
        CloseAll();
    }

    public void Resume() => _mode = Mode.Forward;

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException) { return; }
            _ = HandleAsync(client);
        }
    }

    private async Task HandleAsync(TcpClient client)
    {
        if (_mode == Mode.Refuse)
        {
            client.Client.LingerState = new LingerOption(true, 0);
            client.Dispose();
            return;
        }
        TcpClient? upstream = null;
        lock (_connections) _connections.Add((client, null));
        try
        {
            while (_mode == Mode.Stall && !_stop.IsCancellationRequested) await Task.Delay(50, _stop.Token);
            upstream = new TcpClient();
            await upstream.ConnectAsync(IPAddress.Loopback, _targetPort, _stop.Token);
            lock (_connections)
            {
                _connections.RemoveAll(c => c.Client == client);
                _connections.Add((client, upstream));
            }
            await Task.WhenAny(PumpAsync(client.GetStream(), upstream.GetStream()), PumpAsync(upstream.GetStream(), client.GetStream()));
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
        }
        finally
        {
            lock (_connections) _connections.RemoveAll(c => c.Client == client);
            client.Dispose();
            upstream?.Dispose();
        }
    }

    private async Task PumpAsync(Stream from, Stream to)
    {
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var read = await from.ReadAsync(buffer, _stop.Token);
            if (read == 0) return;
            // A stall holds the bytes: the peer sees an open connection that never answers.
            while (_mode == Mode.Stall) await Task.Delay(50, _stop.Token);
            await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
        }
    }

    private void CloseAll()
    {
        lock (_connections)
        {
            foreach (var (client, upstream) in _connections)
            {
                client.Client.LingerState = new LingerOption(true, 0);
                client.Dispose();
                upstream?.Dispose();
            }
            _connections.Clear();
        }
    }

    public ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        CloseAll();
        _stop.Dispose();
        return ValueTask.CompletedTask;
    }
}
