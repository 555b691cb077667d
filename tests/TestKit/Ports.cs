using System.Net;
using System.Net.Sockets;

namespace TestKit;

public static class Ports
{
    private static readonly HashSet<int> s_handedOut = [];

    /// <summary>A free TCP port on 127.0.0.1, never handed out twice in this process.</summary>
    public static int Free()
    {
        lock (s_handedOut)
        {
            while (true)
            {
                using var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                if (s_handedOut.Add(port)) return port;
            }
        }
    }
}
