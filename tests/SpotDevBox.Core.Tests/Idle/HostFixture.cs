using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using SpotDevBox.Core.Idle;

namespace SpotDevBox.Core.Tests.Idle;

/// <summary>
/// Writes the /proc, /run and /dev files the idle signals read into a temporary directory, in the kernel's
/// own formats, so each test can set up and then advance a machine's state by hand.
/// </summary>
public sealed class HostFixture : IDisposable
{
    public HostFixture()
    {
        System.IO.Directory.CreateDirectory(Path.Join(Directory, "proc", "net"));
        System.IO.Directory.CreateDirectory(Path.Join(Directory, "run"));
        System.IO.Directory.CreateDirectory(Path.Join(Directory, "dev", "pts"));
        Root = new HostRoot(Directory);
    }

    public string Directory { get; } = Path.Join(Path.GetTempPath(), "spotdevbox-idle-" + Guid.NewGuid().ToString("N"));

    public HostRoot Root { get; }

    /// <summary>/proc/stat with <paramref name="cores"/> cpuN lines; the aggregate line holds the given user and idle ticks.</summary>
    public void WriteCpuStat(long userTicks, long idleTicks, int cores = 4)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"cpu  {userTicks} 0 0 {idleTicks} 0 0 0 0 0 0\n");
        for (var i = 0; i < cores; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"cpu{i} {userTicks / cores} 0 0 {idleTicks / cores} 0 0 0 0 0 0\n");
        }

        text.Append("intr 0\nctxt 0\nbtime 1700000000\nprocesses 1\nprocs_running 1\nprocs_blocked 0\n");
        Write("proc/stat", text.ToString());
    }

    /// <summary>/proc/&lt;pid&gt;/stat, comm and cmdline; CPU times in clock ticks (1/100 s).</summary>
    public void WriteProcess(int pid, string comm, long utime, long stime = 0, long cutime = 0, IReadOnlyList<string>? cmdline = null, long startTicks = 5000)
    {
        // Fields 1..22 as the kernel writes them (the rest are not read).
        var stat = $"{pid} ({comm}) S 1 {pid} {pid} 0 -1 4194560 100 0 0 0 {utime} {stime} {cutime} 0 20 0 1 0 {startTicks} 1000000 100 18446744073709551615\n";
        Write($"proc/{pid}/stat", stat);
        Write($"proc/{pid}/comm", comm + "\n");
        Write($"proc/{pid}/cmdline", string.Concat((cmdline ?? [comm]).Select(a => a + "\0")));
    }

    public void RemoveProcess(int pid) => System.IO.Directory.Delete(Path.Join(Directory, "proc", pid.ToString(CultureInfo.InvariantCulture)), recursive: true);

    public void WriteIo(int pid, long readBytes, long writtenBytes) =>
        Write($"proc/{pid}/io", $"rchar: {readBytes}\nwchar: {writtenBytes}\nsyscr: 10\nsyscw: 10\nread_bytes: 0\nwrite_bytes: 0\ncancelled_write_bytes: 0\n");

    /// <summary>/proc/&lt;pid&gt;/fd/&lt;fd&gt; as a link to "socket:[inode]", as the kernel shows an open socket.</summary>
    public void AddSocket(int pid, int fd, long inode)
    {
        var directory = Path.Join(Directory, "proc", pid.ToString(CultureInfo.InvariantCulture), "fd");
        System.IO.Directory.CreateDirectory(directory);
        File.CreateSymbolicLink(Path.Join(directory, fd.ToString(CultureInfo.InvariantCulture)), $"socket:[{inode}]");
    }

    /// <summary>/proc/net/tcp rows: state "01" is ESTABLISHED, "0A" LISTEN.</summary>
    public void WriteTcp(params (long Inode, string State)[] sockets)
    {
        var text = new StringBuilder("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n");
        for (var i = 0; i < sockets.Length; i++)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"   {i}: 0100007F:A1B2 0100007F:0016 {sockets[i].State} 00000000:00000000 00:00000000 00000000  1000        0 {sockets[i].Inode} 1 0000000000000000 20 4 30 10 -1\n");
        }

        Write("proc/net/tcp", text.ToString());
        Write("proc/net/tcp6", "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n");
    }

    public void WriteNetDev(params (string Interface, long Received, long Sent)[] interfaces)
    {
        var text = new StringBuilder(
            "Inter-|   Receive                                                |  Transmit\n" +
            " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n");
        foreach (var (name, received, sent) in interfaces)
        {
            text.Append(CultureInfo.InvariantCulture, $"{name,6}: {received} 100 0 0 0 0 0 0 {sent} 100 0 0 0 0 0 0\n");
        }

        Write("proc/net/dev", text.ToString());
    }

    /// <summary>/run/utmp: glibc's 384-byte struct utmp per record, serialised field by field.</summary>
    public void WriteUtmp(params UtmpRecord[] records)
    {
        var data = new byte[records.Length * 384];
        for (var i = 0; i < records.Length; i++)
        {
            var r = records[i];
            var span = data.AsSpan(i * 384, 384);
            BinaryPrimitives.WriteInt16LittleEndian(span[0..], r.Type);
            BinaryPrimitives.WriteInt32LittleEndian(span[4..], r.Pid);
            Encoding.ASCII.GetBytes(r.Line).CopyTo(span[8..40]);
            var id = r.Line.Replace("pts/", "", StringComparison.Ordinal);
            Encoding.ASCII.GetBytes(id[Math.Max(0, id.Length - 4)..]).CopyTo(span[40..44]);
            Encoding.ASCII.GetBytes(r.User).CopyTo(span[44..76]);
            Encoding.ASCII.GetBytes(r.Host).CopyTo(span[76..332]);
            BinaryPrimitives.WriteInt32LittleEndian(span[336..], r.Pid);
            BinaryPrimitives.WriteInt32LittleEndian(span[340..], (int)r.LoginTime.ToUnixTimeSeconds());
        }

        File.WriteAllBytes(Path.Join(Directory, "run", "utmp"), data);
    }

    /// <summary>/dev/&lt;line&gt; with its access time at the last keystroke.</summary>
    public void WriteTerminal(string line, DateTimeOffset lastInput)
    {
        var path = Path.Join(Directory, "dev", line);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "");
        File.SetLastAccessTimeUtc(path, lastInput.UtcDateTime);
    }

    public void Dispose()
    {
        if (System.IO.Directory.Exists(Directory))
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }

    private void Write(string relative, string text)
    {
        var path = Path.Join(Directory, relative);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }
}

/// <param name="Type">ut_type: 7 is USER_PROCESS, 8 DEAD_PROCESS, 6 LOGIN_PROCESS.</param>
public sealed record UtmpRecord(short Type, int Pid, string Line, string User, string Host, DateTimeOffset LoginTime)
{
    public static UtmpRecord Login(int pid, string line, string user, string host, DateTimeOffset loginTime) => new(7, pid, line, user, host, loginTime);
}

/// <summary>An <see cref="ISelfActivity"/> whose answers a test sets.</summary>
public sealed class FakeSelfActivity(params int[] processIds) : ISelfActivity
{
    public IReadOnlyCollection<int> ProcessIds { get; } = processIds;

    public bool Busy { get; set; }

    public bool WasBusy(DateTimeOffset from, DateTimeOffset to) => Busy;
}
