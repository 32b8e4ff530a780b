using System.Globalization;

namespace SpotDevBox.Core.Idle;

/// <summary>One process as /proc shows it at one moment.</summary>
/// <param name="StartTicks">Start time in clock ticks since boot: with the pid, tells a reused pid from the old process.</param>
/// <param name="CpuTicks">utime + stime + cutime + cstime: its own CPU and that of the children it waited for.</param>
/// <param name="IsKernelThread">PF_KTHREAD in the flags: a kernel thread, whose command line is always empty.</param>
internal sealed record ProcessInfo(int Pid, long StartTicks, string Comm, long CpuTicks, bool IsKernelThread = false)
{
    public (int Pid, long StartTicks) Key => (Pid, StartTicks);
}

/// <summary>Readers of the /proc, /run and /dev files the signals use, all under a <see cref="HostRoot"/>.</summary>
internal static class ProcFs
{
    /// <summary>USER_HZ: the unit of /proc CPU times; 100 on every Linux x86_64 and aarch64 kernel.</summary>
    public const int ClockTicksPerSecond = 100;

    public static TimeSpan TicksToTime(long ticks) => TimeSpan.FromSeconds(ticks / (double)ClockTicksPerSecond);

    /// <summary>Every process that could be read; ones that exit while being read are left out.</summary>
    public static List<ProcessInfo> ListProcesses(HostRoot root)
    {
        var result = new List<ProcessInfo>();
        IEnumerable<string> directories;
        try
        {
            directories = Directory.EnumerateDirectories(root.Resolve("/proc"));
        }
        catch (DirectoryNotFoundException)
        {
            return result;
        }

        foreach (var directory in directories)
        {
            if (int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && ReadProcessStat(root, pid) is { } process)
            {
                result.Add(process);
            }
        }

        return result;
    }

    public static bool ProcessExists(HostRoot root, int pid) => pid > 0 && Directory.Exists(root.Resolve($"/proc/{pid}"));

    public static ProcessInfo? ReadProcessStat(HostRoot root, int pid)
    {
        var text = TryReadText(root.Resolve($"/proc/{pid}/stat"));
        if (text is null)
        {
            return null;
        }

        // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so it ends at the last ')'.
        var open = text.IndexOf('(', StringComparison.Ordinal);
        var close = text.LastIndexOf(')');
        if (open < 0 || close < open)
        {
            return null;
        }

        var comm = text[(open + 1)..close];
        var fields = text[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // fields[0] is field 3 (state): flags is field 9, utime 14, stime 15, cutime 16, cstime 17, starttime 22.
        if (fields.Length < 20
            || !long.TryParse(fields[11], CultureInfo.InvariantCulture, out var utime)
            || !long.TryParse(fields[12], CultureInfo.InvariantCulture, out var stime)
            || !long.TryParse(fields[13], CultureInfo.InvariantCulture, out var cutime)
            || !long.TryParse(fields[14], CultureInfo.InvariantCulture, out var cstime)
            || !long.TryParse(fields[19], CultureInfo.InvariantCulture, out var start))
        {
            return null;
        }

        var kernelThread = ulong.TryParse(fields[6], CultureInfo.InvariantCulture, out var flags) && (flags & KernelThreadFlag) != 0;
        return new ProcessInfo(pid, start, comm, utime + stime + cutime + cstime, kernelThread);
    }

    /// <summary>PF_KTHREAD (include/linux/sched.h).</summary>
    private const ulong KernelThreadFlag = 0x00200000;

    /// <summary>The arguments of <paramref name="process"/>; a kernel thread has none, and its cmdline is not read.</summary>
    public static string[] ReadCommandLine(HostRoot root, ProcessInfo process) =>
        process.IsKernelThread ? [] : ReadCommandLine(root, process.Pid);

    /// <summary>The arguments from /proc/&lt;pid&gt;/cmdline (empty for kernel threads and unreadable processes).</summary>
    public static string[] ReadCommandLine(HostRoot root, int pid)
    {
        var text = TryReadText(root.Resolve($"/proc/{pid}/cmdline"));
        return text is null ? [] : text.Split('\0', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>rchar + wchar from /proc/&lt;pid&gt;/io, or null when it cannot be read.</summary>
    public static long? ReadIoBytes(HostRoot root, int pid)
    {
        var text = TryReadText(root.Resolve($"/proc/{pid}/io"));
        if (text is null)
        {
            return null;
        }

        long total = 0;
        foreach (var line in text.Split('\n'))
        {
            if ((line.StartsWith("rchar:", StringComparison.Ordinal) || line.StartsWith("wchar:", StringComparison.Ordinal))
                && long.TryParse(line.AsSpan(6).Trim(), CultureInfo.InvariantCulture, out var value))
            {
                total += value;
            }
        }

        return total;
    }

    /// <summary>The socket inodes among the process's open files ("socket:[12345]" links in fd/).</summary>
    public static HashSet<long> ReadSocketInodes(HostRoot root, int pid)
    {
        var result = new HashSet<long>();
        IEnumerable<string> links;
        try
        {
            links = Directory.EnumerateFileSystemEntries(root.Resolve($"/proc/{pid}/fd"));
            foreach (var link in links)
            {
                var target = new FileInfo(link).LinkTarget;
                if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal) && target.EndsWith(']')
                    && long.TryParse(target.AsSpan(8, target.Length - 9), CultureInfo.InvariantCulture, out var inode))
                {
                    result.Add(inode);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Exited while being read, or not ours to look at: no sockets seen.
        }

        return result;
    }

    /// <summary>Inodes of TCP sockets in state ESTABLISHED (01), from /proc/net/tcp and tcp6.</summary>
    public static HashSet<long> ReadEstablishedTcpInodes(HostRoot root)
    {
        var result = new HashSet<long>();
        foreach (var file in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            var text = TryReadText(root.Resolve(file));
            if (text is null)
            {
                continue;
            }

            // "sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ..."
            foreach (var line in text.Split('\n').Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length >= 10 && fields[3] == "01" && long.TryParse(fields[9], CultureInfo.InvariantCulture, out var inode))
                {
                    result.Add(inode);
                }
            }
        }

        return result;
    }

    /// <summary>The aggregate "cpu" line of /proc/stat: busy and total ticks, and the number of cpuN lines.</summary>
    public static CpuTimes? ReadCpuTimes(HostRoot root)
    {
        var text = TryReadText(root.Resolve("/proc/stat"));
        if (text is null)
        {
            return null;
        }

        CpuTimes? aggregate = null;
        var cores = 0;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith("cpu ", StringComparison.Ordinal))
            {
                // user nice system idle iowait irq softirq steal (guest time is already inside user and nice)
                var values = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8)
                    .Select(v => long.TryParse(v, CultureInfo.InvariantCulture, out var n) ? n : 0).ToArray();
                if (values.Length < 4)
                {
                    return null;
                }

                long Value(int i) => i < values.Length ? values[i] : 0;
                var busy = Value(0) + Value(1) + Value(2) + Value(5) + Value(6);
                aggregate = new CpuTimes(busy, busy + Value(3) + Value(4) + Value(7), 0);
            }
            else if (line.StartsWith("cpu", StringComparison.Ordinal) && line.Length > 3 && char.IsAsciiDigit(line[3]))
            {
                cores++;
            }
        }

        return aggregate is null ? null : aggregate with { Cores = Math.Max(cores, 1) };
    }

    /// <summary>Received and sent bytes per interface from /proc/net/dev.</summary>
    public static Dictionary<string, (long Received, long Sent)>? ReadNetworkCounters(HostRoot root)
    {
        var text = TryReadText(root.Resolve("/proc/net/dev"));
        if (text is null)
        {
            return null;
        }

        var result = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                continue;
            }

            // "  eth0: rx_bytes packets errs drop fifo frame compressed multicast tx_bytes ..."
            var fields = line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 9
                && long.TryParse(fields[0], CultureInfo.InvariantCulture, out var received)
                && long.TryParse(fields[8], CultureInfo.InvariantCulture, out var sent))
            {
                result[line[..colon].Trim()] = (received, sent);
            }
        }

        return result;
    }

    public static string? TryReadText(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Gone (the process exited) or not readable: the caller treats it as absent.
            return null;
        }
    }
}

internal sealed record CpuTimes(long BusyTicks, long TotalTicks, int Cores);

/// <summary>One process with its command line, as one scan of /proc read them.</summary>
internal readonly record struct ScannedProcess(ProcessInfo Process, string[] Arguments);

/// <summary>
/// Hands one sample's scan of /proc (every process's stat and cmdline) from the remote IDE signal to the
/// keep-awake signal, sampled right after it with the same instant, so /proc is read once a minute instead
/// of twice. The scan is taken once; a signal that finds none (or one of another instant) reads /proc itself.
/// </summary>
internal sealed class ProcessScanShare
{
    private readonly Lock _gate = new();
    private (DateTimeOffset At, List<ScannedProcess> Processes)? _scan;

    public void Offer(DateTimeOffset at, List<ScannedProcess> processes)
    {
        lock (_gate)
        {
            _scan = (at, processes);
        }
    }

    public List<ScannedProcess>? Take(DateTimeOffset at)
    {
        lock (_gate)
        {
            var scan = _scan;
            _scan = null;
            return scan is { } s && s.At == at ? s.Processes : null;
        }
    }
}
