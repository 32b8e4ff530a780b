using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace TestSupport;

/// <summary>
/// One throwaway PostgreSQL cluster (Debian's postgresql package) for the whole test process: <c>initdb</c> into a new
/// temporary directory, started by <c>pg_ctl</c> on a free loopback port with fsync off, stopped and deleted when the
/// process exits. Tests take a database of their own from it (<see cref="CreateDatabaseAsync"/>): creating one is a
/// few tens of milliseconds, starting a cluster about a second.
/// </summary>
/// <remarks>
/// PostgreSQL refuses to run as root: as root, initdb and pg_ctl run as the package's <c>postgres</c> user
/// (<c>runuser</c>), in a directory under /tmp that it owns (the test run's own TMPDIR is root's alone).
/// Process-wide on purpose: xUnit 2 has no assembly fixture, and one server per test class would cost a second each.
/// </remarks>
public sealed class PostgresServer
{
    public const string User = "spotdevbox_test";

    private static readonly Lazy<Task<PostgresServer>> Shared = new(StartAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly string _directory;
    private readonly string _bin;
    private readonly bool _asPostgres;
    private int _watchdog;

    private PostgresServer(string directory, string bin, bool asPostgres, int port)
    {
        _directory = directory;
        _bin = bin;
        _asPostgres = asPostgres;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The process's server, started on first use.</summary>
    public static Task<PostgresServer> SharedAsync() => Shared.Value;

    /// <summary>A connection string to <paramref name="database"/> as the cluster's superuser, without pooling unless asked.</summary>
    public string ConnectionString(string database, bool pooling = false) =>
        new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = Port, Username = User, Database = database, Pooling = pooling }.ConnectionString;

    /// <summary>A new, empty database; the caller drops it with <see cref="DropDatabaseAsync"/>.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "sdb_" + Guid.NewGuid().ToString("N");
        // FILE_COPY: faster than the WAL-logged copy for a database this small, and nothing here needs the WAL.
        await ExecuteAsync($"CREATE DATABASE {name} STRATEGY FILE_COPY");
        return name;
    }

    /// <summary>Drops the database, ending any connection still open to it (a pool's).</summary>
    public Task DropDatabaseAsync(string name) => ExecuteAsync($"DROP DATABASE IF EXISTS {name} WITH (FORCE)");

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The server binaries (not on PATH on Debian): pg_config's bindir, else the newest /usr/lib/postgresql/N/bin.</summary>
    public static string? FindBinaries()
    {
        var candidates = new List<string>();
        try
        {
            var pgConfig = Run("pg_config", ["--bindir"], asPostgres: false, check: false);
            if (pgConfig.Exit == 0)
            {
                candidates.Add(pgConfig.Output.Trim());
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No pg_config on PATH.
        }

        if (Directory.Exists("/usr/lib/postgresql"))
        {
            candidates.AddRange(Directory.GetDirectories("/usr/lib/postgresql")
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0)
                .Select(d => Path.Join(d, "bin")));
        }

        return candidates.FirstOrDefault(d => File.Exists(Path.Join(d, "initdb")) && File.Exists(Path.Join(d, "pg_ctl")));
    }

    private static async Task<PostgresServer> StartAsync()
    {
        var bin = FindBinaries() ?? throw new InvalidOperationException(
            "PostgreSQL is not installed (no initdb from pg_config --bindir or /usr/lib/postgresql/*/bin): run scripts/test, which installs Debian's postgresql package for these tests");
        var asPostgres = Environment.IsPrivilegedProcess;
        var directory = Directory.CreateTempSubdirectory("spotdevbox-postgres-").FullName;
        if (asPostgres && !TraversableByOthers(Path.GetDirectoryName(directory)!))
        {
            directory = Relocate(directory);
        }

        try
        {
            if (asPostgres)
            {
                Run("chown", ["postgres:postgres", directory], asPostgres: false);
            }

            var data = Path.Join(directory, "data");
            Run(Path.Join(bin, "initdb"), ["-D", data, "--auth=trust", "-U", User, "-E", "UTF8", "--no-sync"], asPostgres);
            for (var attempt = 1; ; attempt++)
            {
                var port = FreeTcpPort();
                var options = $"-p {port.ToString(CultureInfo.InvariantCulture)} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off";
                var start = Run(Path.Join(bin, "pg_ctl"), ["start", "-D", data, "-w", "-t", "60", "-l", Path.Join(directory, "server.log"), "-o", options], asPostgres, check: false);
                if (start.Exit == 0)
                {
                    var server = new PostgresServer(directory, bin, asPostgres, port);
                    server.Watch();
                    AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Stop();
                    await server.ExecuteAsync("SELECT 1");
                    return server;
                }

                if (attempt == 3)
                {
                    var log = Path.Join(directory, "server.log");
                    var tail = File.Exists(log) ? string.Join('\n', File.ReadLines(log).TakeLast(20)) : "";
                    throw new InvalidOperationException($"PostgreSQL did not start (pg_ctl exit {start.Exit}): {start.Output}\n{tail}");
                }
            }
        }
        catch
        {
            Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    // The run's TMPDIR (scripts/test) is 0700 and root's: the postgres user could not reach a directory inside it.
    private static bool TraversableByOthers(string directory) =>
        OperatingSystem.IsWindows() || (File.GetUnixFileMode(directory) & UnixFileMode.OtherExecute) != 0;

    private static string Relocate(string created)
    {
        Directory.Delete(created);
        return Directory.CreateDirectory(Path.Join("/tmp", "spotdevbox-postgres-" + Guid.NewGuid().ToString("N")[..8])).FullName;
    }

    /// <summary>
    /// Stops the server and deletes its directory when this process ends without running <see cref="Stop"/> (killed
    /// by the runner's timeout, say): a shell that waits for this process's end.
    /// </summary>
    private void Watch()
    {
        var stop = Command(Path.Join(_bin, "pg_ctl"), ["stop", "-D", Path.Join(_directory, "data"), "-m", "immediate"], _asPostgres);
        var script = $"while kill -0 {Environment.ProcessId.ToString(CultureInfo.InvariantCulture)} 2>/dev/null; do sleep 0.2; done; " +
            $"{string.Join(' ', stop.Select(Quote))} >/dev/null 2>&1; rm -rf {Quote(_directory)}";
        var info = new ProcessStartInfo("setsid", ["bash", "-c", script]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        using var watchdog = Process.Start(info);
        _watchdog = watchdog?.Id ?? 0;
    }

    /// <summary>
    /// At the process's exit, quickly: the runner kills the test host soon after its last test, so no pg_ctl here
    /// (a process of its own, a fraction of a second). SIGQUIT is PostgreSQL's immediate shutdown; the watchdog
    /// goes last, so that whatever this does not finish, it does.
    /// </summary>
    private void Stop()
    {
        var data = Path.Join(_directory, "data");
        var pidFile = Path.Join(data, "postmaster.pid");
        if (File.Exists(pidFile) && int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var postmaster))
        {
            Mono.Unix.Native.Syscall.kill(postmaster, Mono.Unix.Native.Signum.SIGQUIT);
            var deadline = Environment.TickCount64 + 5_000;
            while (File.Exists(pidFile) && Environment.TickCount64 < deadline)
            {
                Thread.Sleep(10);
            }
        }

        for (var attempt = 1; Directory.Exists(_directory); attempt++)
        {
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException) when (attempt < 20)
            {
                // A file the server was still closing.
                Thread.Sleep(50);
            }
        }

        if (_watchdog != 0)
        {
            try
            {
                using var watchdog = Process.GetProcessById(_watchdog);
                // One SIGKILL: Kill(entireProcessTree) stops the tree first, and a host killed in between would leave it stopped.
                watchdog.Kill();
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                // Already gone.
            }
        }
    }

    private static string Quote(string word) => "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static string[] Command(string program, string[] arguments, bool asPostgres) =>
        asPostgres ? ["runuser", "-u", "postgres", "--", program, .. arguments] : [program, .. arguments];

    private static (int Exit, string Output) Run(string program, string[] arguments, bool asPostgres, bool check = true)
    {
        var command = Command(program, arguments, asPostgres);
        var info = new ProcessStartInfo(command[0], command[1..])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{command[0]} did not start");
        // pg_ctl start leaves the server holding its stdout: read only what it wrote until it exited.
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        var output = (stdout.Wait(TimeSpan.FromSeconds(2)) ? stdout.Result : "") + (stderr.Wait(TimeSpan.FromSeconds(2)) ? stderr.Result : "");
        if (check && process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{string.Join(' ', command)} exited with {process.ExitCode}: {output}");
        }

        return (process.ExitCode, output);
    }

    private static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
