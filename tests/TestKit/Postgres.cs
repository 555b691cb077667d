using System.Globalization;
using Npgsql;

namespace TestKit;

/// <summary>One real PostgreSQL server in a temporary directory on 127.0.0.1. When the tests run as root (CI), the
/// server runs as the postgres user, because PostgreSQL refuses to run as root.</summary>
public sealed class PostgresServer
{
    private const string InstallHint =
        "Install the PostgreSQL server: apt-get install postgresql (./test.sh does this), or set PG_BIN to its bin directory.";

    private PostgresServer(string name, string baseDirectory, int port)
    {
        Name = name;
        DataDirectory = Path.Combine(baseDirectory, name);
        Port = port;
        LogFile = Path.Combine(baseDirectory, name + ".log");
    }

    public string Name { get; }

    public string DataDirectory { get; }

    public int Port { get; }

    public string LogFile { get; }

    public bool Running { get; private set; }

    /// <summary>Superuser connection for test set-up and assertions (trusted on loopback, test clusters only).</summary>
    public string AdminConnectionString(string database = "postgres") =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=false;Timeout=5";

    /// <summary>Connection string the way services get it: no credentials.</summary>
    public string ServiceConnectionString(string database) => $"Host=127.0.0.1;Port={Port};Database={database}";

    public static string BinDirectory { get; } = FindBin();

    internal static PostgresServer Create(string name, string baseDirectory, int? port = null) =>
        new(name, baseDirectory, port ?? Ports.Free());

    internal async Task InitAsync(IEnumerable<string> settings, IEnumerable<string> hba)
    {
        await AsPostgresAsync("initdb", "-D", DataDirectory, "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync", "--auth=trust");
        await ConfigureAsync(settings, hba);
    }

    internal async Task ConfigureAsync(IEnumerable<string> settings, IEnumerable<string>? hba)
    {
        var socketDirectory = Path.GetDirectoryName(DataDirectory)!;
        var common = new[]
        {
            "listen_addresses = '127.0.0.1'",
            $"port = {Port}",
            $"unix_socket_directories = '{socketDirectory}'",
            "max_connections = 200",
            "shared_buffers = 32MB",
            "fsync = off",
            "wal_level = replica",
            "max_wal_senders = 10",
            "wal_keep_size = '64MB'",
            "hot_standby = on",
            "hot_standby_feedback = on",
            "log_min_messages = warning",
            "log_line_prefix = '%m [%p] %q%u@%d '",
        };
        await File.AppendAllLinesAsync(Path.Combine(DataDirectory, "postgresql.conf"), common.Concat(settings));
        if (hba is not null) await File.WriteAllLinesAsync(Path.Combine(DataDirectory, "pg_hba.conf"), hba);
        await ChownAsync(DataDirectory);
    }

    public async Task StartAsync()
    {
        await AsPostgresAsync("pg_ctl", "-D", DataDirectory, "-l", LogFile, "-w", "-t", "60", "start");
        Running = true;
    }

    /// <summary>Stops the server: "fast" (clean) or "immediate" (as a crash).</summary>
    public async Task StopAsync(string mode = "fast")
    {
        if (!Running) return;
        await AsPostgresAsync("pg_ctl", "-D", DataDirectory, "-m", mode, "-w", "-t", "60", "stop");
        Running = false;
    }

    /// <summary>Kills the postmaster with SIGKILL, as a host or instance failure would: its backends notice and end
    /// their sessions with 57P01 ("terminating connection due to unexpected postmaster exit"), nothing shuts down cleanly.</summary>
    public async Task KillAsync()
    {
        if (!Running) return;
        var pid = int.Parse((await File.ReadAllLinesAsync(Path.Combine(DataDirectory, "postmaster.pid")))[0].Trim(), CultureInfo.InvariantCulture);
        // In-process (SIGKILL at once), so a test can take the time of the crash right after this returns.
        // Its backends outlive it until each notices (a busy one only when it next waits): remembered for
        // WaitForOrphansAsync.
        _orphans = [.. Directory.EnumerateDirectories("/proc").Select(d => Path.GetFileName(d))
            .Where(name => int.TryParse(name, CultureInfo.InvariantCulture, out var child) && Stat(child) is [_, var parent, ..] && parent == pid.ToString(CultureInfo.InvariantCulture))
            .Select(name => int.Parse(name, CultureInfo.InvariantCulture))];
        using var postmaster = System.Diagnostics.Process.GetProcessById(pid);
        postmaster.Kill();
        Running = false;
    }

    private int[] _orphans = [];

    /// <summary>Waits until every process of the server killed by <see cref="KillAsync"/> has exited. Killing the
    /// postmaster alone leaves its backends running for a few milliseconds, and one that is executing a statement
    /// then can still commit it locally; a whole instance failing (what Aurora fails over from) stops them all at
    /// once. From the moment this returns nothing of the old server executes anything.</summary>
    public async Task WaitForOrphansAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (_orphans.Any(pid => Stat(pid) is [var state, ..] && state != "Z"))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"backends of the killed server still run after {timeout}");
            await Task.Delay(5);
        }
    }

    /// <summary>The fields of /proc/PID/stat after the command name (state, parent pid, …); empty when the process is
    /// gone.</summary>
    private static string[] Stat(int pid)
    {
        try
        {
            // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ')'.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    public Task PromoteAsync() => AsPostgresAsync("pg_ctl", "-D", DataDirectory, "-w", "-t", "60", "promote");

    public async Task<T> ScalarAsync<T>(string sql, string database = "postgres")
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync();
        return (T)Convert.ChangeType(value!, typeof(T), CultureInfo.InvariantCulture);
    }

    public async Task ExecuteAsync(string sql, string database = "postgres")
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Makes every session read-only (what the old writer is after an Aurora failover: writes answer 25006),
    /// or writable again. pg_reload_conf only asks the postmaster to reload; this returns once a new session sees the
    /// setting, by which time the postmaster has signalled the existing sessions too (they apply it at their next
    /// command).</summary>
    public async Task SetReadOnlyAsync(bool readOnly)
    {
        await ExecuteAsync(readOnly ? "ALTER SYSTEM SET default_transaction_read_only = on" : "ALTER SYSTEM RESET default_transaction_read_only");
        await ExecuteAsync("SELECT pg_reload_conf()");
        var expected = readOnly ? "on" : "off";
        await Poll.UntilAsync(async () => await ScalarAsync<string>("SHOW default_transaction_read_only") == expected,
            TimeSpan.FromSeconds(10), $"default_transaction_read_only to be {expected}");
    }

    /// <summary>Runs a SQL file with psql (it may use psql meta-commands such as \connect).</summary>
    public Task<string> PsqlFileAsync(string file) =>
        Tool.RunAsync(Path.Combine(BinDirectory, "psql"),
            ["-v", "ON_ERROR_STOP=1", "-q", "-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", "postgres", "-d", "postgres", "-f", file]);

    public string ReadLog() => File.Exists(LogFile) ? File.ReadAllText(LogFile) : "";

    internal static Task AsPostgresAsync(string tool, params string[] args)
    {
        var path = Path.Combine(BinDirectory, tool);
        return Repo.IsRoot
            ? Tool.RunAsync("runuser", ["-u", "postgres", "--", path, .. args], workingDirectory: "/tmp", timeout: TimeSpan.FromMinutes(2))
            : Tool.RunAsync(path, args, timeout: TimeSpan.FromMinutes(2));
    }

    internal static async Task ChownAsync(string path)
    {
        if (Repo.IsRoot) await Tool.RunAsync("chown", ["-R", "postgres:postgres", path]);
    }

    private static string FindBin()
    {
        if (Environment.GetEnvironmentVariable("PG_BIN") is { Length: > 0 } configured && File.Exists(Path.Combine(configured, "initdb")))
            return configured;
        var installed = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "initdb"))).OrderDescending().FirstOrDefault()
            : null;
        return installed ?? throw new InvalidOperationException("PostgreSQL server binaries (initdb, pg_ctl) not found. " + InstallHint);
    }
}

/// <summary>Options for a test cluster.</summary>
public sealed record PostgresClusterOptions
{
    /// <summary>Commits wait for the standby (as Aurora waits for a storage quorum): no acknowledged write is lost on failover.</summary>
    public bool SynchronousStandby { get; init; }

    /// <summary>Extra postgresql.conf lines for both servers (e.g. ssl settings).</summary>
    public IReadOnlyList<string> Settings { get; init; } = [];

    /// <summary>Extra pg_hba.conf lines placed before the defaults.</summary>
    public IReadOnlyList<string> Hba { get; init; } = [];

    /// <summary>Whether to create a standby at all.</summary>
    public bool WithStandby { get; init; } = true;
}

/// <summary>A primary and a streaming-replication hot standby (the "reader endpoint"), bootstrapped with the same
/// deploy/postgres/bootstrap.sql that run.sh and compose apply. Disposing removes everything.</summary>
public sealed class PostgresCluster : IAsyncDisposable
{
    private readonly string _baseDirectory;
    private readonly List<PostgresServer> _servers;

    private PostgresCluster(string baseDirectory, PostgresServer primary, PostgresServer? standby)
    {
        _baseDirectory = baseDirectory;
        Primary = primary;
        Standby = standby;
        _servers = standby is null ? [primary] : [primary, standby];
    }

    public PostgresServer Primary { get; private set; }

    public PostgresServer? Standby { get; private set; }

    /// <summary>Dev-only passwords from deploy/postgres/bootstrap.sql.</summary>
    public static string DevPassword(string role) => "dev-only-" + role.Replace('_', '-');

    public static async Task<PostgresCluster> StartAsync(PostgresClusterOptions? options = null)
    {
        options ??= new PostgresClusterOptions();
        var baseDirectory = Path.Combine(Path.GetTempPath(), "pgtest-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(baseDirectory);
        await PostgresServer.ChownAsync(baseDirectory);

        var hba = options.Hba.Concat(
        [
            "local all all trust",
            "host all postgres 127.0.0.1/32 trust",
            "host replication replicator 127.0.0.1/32 trust",
            "host all all 127.0.0.1/32 scram-sha-256",
        ]).ToList();
        var primary = PostgresServer.Create("primary", baseDirectory);
        await primary.InitAsync(options.Settings, hba);
        await primary.StartAsync();
        await primary.ExecuteAsync("CREATE ROLE replicator REPLICATION LOGIN");
        await primary.PsqlFileAsync(Repo.PathOf("deploy", "postgres", "bootstrap.sql"));

        PostgresServer? standby = null;
        if (options.WithStandby)
        {
            standby = PostgresServer.Create("standby", baseDirectory);
            await PostgresServer.AsPostgresAsync("pg_basebackup", "-h", "127.0.0.1", "-p", primary.Port.ToString(CultureInfo.InvariantCulture),
                "-U", "replicator", "-D", standby.DataDirectory, "-R", "-X", "stream", "--no-sync", "-c", "fast");
            // cluster_name becomes the walreceiver's application_name (what synchronous_standby_names matches);
            // the standby must not itself wait for a synchronous standby once promoted.
            await standby.ConfigureAsync(["cluster_name = 'standby'", "synchronous_standby_names = ''"], hba: null);
            await standby.StartAsync();
            await Poll.UntilAsync(async () => await primary.ScalarAsync<long>("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") > 0,
                TimeSpan.FromSeconds(30), "the standby to stream from the primary");
            if (options.SynchronousStandby)
            {
                // Only now: with no standby attached, every commit (the bootstrap's too) would wait forever.
                await primary.ExecuteAsync("ALTER SYSTEM SET synchronous_standby_names = 'standby'");
                await primary.ExecuteAsync("SELECT pg_reload_conf()");
                await Poll.UntilAsync(async () => await primary.ScalarAsync<long>("SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'") > 0,
                    TimeSpan.FromSeconds(30), "the standby to become synchronous");
            }
        }
        return new PostgresCluster(baseDirectory, primary, standby);
    }

    /// <summary>Waits until the standby has replayed everything the primary has written so far.</summary>
    public async Task WaitForReplayAsync()
    {
        if (Standby is null) return;
        var lsn = await Primary.ScalarAsync<string>("SELECT pg_current_wal_lsn()::text");
        await Poll.UntilAsync(async () => await Standby.ScalarAsync<bool>($"SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn"),
            TimeSpan.FromSeconds(30), "the standby to replay the primary's WAL");
    }

    public Task PauseReplayAsync() => Standby!.ExecuteAsync("SELECT pg_wal_replay_pause()");

    public Task ResumeReplayAsync() => Standby!.ExecuteAsync("SELECT pg_wal_replay_resume()");

    /// <summary>Promotes the standby; afterwards <see cref="Primary"/> is the promoted server and there is no standby.</summary>
    public async Task FailoverAsync()
    {
        await Standby!.PromoteAsync();
        await Poll.UntilAsync(async () => !await Standby.ScalarAsync<bool>("SELECT pg_is_in_recovery()"), TimeSpan.FromSeconds(30), "promotion");
        (Primary, Standby) = (Standby, null);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var server in _servers)
        {
            try { await server.StopAsync("immediate"); }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException) { }
        }
        try { Directory.Delete(_baseDirectory, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
