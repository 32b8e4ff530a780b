namespace SpotDevBox.Core.Idle;

/// <summary>
/// Remote IDE servers: processes whose command line contains one of the patterns. One counts only while it
/// holds an ESTABLISHED TCP connection (a socket:[inode] link in /proc/&lt;pid&gt;/fd that /proc/net/tcp or
/// tcp6 lists in state 01) and its reads and writes (rchar + wchar in /proc/&lt;pid&gt;/io) moved at least
/// MinIoBytes in the interval. A server whose laptop went to sleep keeps its connection open but silent,
/// and does not count. CPU alone does not count either: an extension indexing on its own is not a person
/// (and shows on the CPU signal if it is heavy).
/// </summary>
public sealed class RemoteIdeSignal(HostRoot root, RemoteIdeSignalOptions options, ISelfActivity self) : IIdleSignal
{
    private readonly ProcessScanShare? _share;

    /// <summary>Also offers each scan of /proc to the keep-awake signal sampled next.</summary>
    internal RemoteIdeSignal(HostRoot root, RemoteIdeSignalOptions options, ISelfActivity self, ProcessScanShare share)
        : this(root, options, self) => _share = share;

    private readonly IReadOnlyList<string> _patterns = options.EffectivePatterns;
    private readonly ProcessDeltas _io = new();
    private DateTimeOffset _previousAt;

    public string Name => "remote IDE";

    public bool Enabled => options.Enabled;

    public ValueTask<SignalReading> SampleAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        HashSet<long>? established = null;
        var active = new List<string>();
        var quiet = new List<string>();
        _io.Begin();
        var scan = new List<ScannedProcess>();
        foreach (var process in ProcFs.ListProcesses(root))
        {
            if (self.ProcessIds.Contains(process.Pid))
            {
                continue;
            }

            var arguments = ProcFs.ReadCommandLine(root, process);
            scan.Add(new ScannedProcess(process, arguments));
            if (Match(arguments) is not { } pattern)
            {
                continue;
            }

            established ??= ProcFs.ReadEstablishedTcpInodes(root);
            var connected = ProcFs.ReadSocketInodes(root, process.Pid).Overlaps(established);
            var io = ProcFs.ReadIoBytes(root, process.Pid);
            var moved = io is { } bytes ? _io.Observe(process.Key, bytes) : 0;
            var describe = $"{pattern} process {process.Comm} (pid {process.Pid})";
            if (!connected)
            {
                quiet.Add($"{describe} has no established connection");
            }
            else if (moved >= options.MinIoBytes && _io.HasBaseline)
            {
                active.Add($"{describe} connected, {Text.Bytes(moved)} I/O {Text.Interval(now - _previousAt)}");
            }
            else
            {
                quiet.Add($"{describe} connected but silent ({Text.Bytes(moved)} I/O)");
            }
        }

        _share?.Offer(now, scan);
        var hadBaseline = _io.HasBaseline;
        _io.Complete();
        _previousAt = now;
        if (active.Count > 0)
        {
            return ValueTask.FromResult(SignalReading.ActiveBecause(Name, Text.Join(active)));
        }

        return ValueTask.FromResult(SignalReading.Inactive(Name,
            !hadBaseline ? "first sample, baseline taken"
            : quiet.Count == 0 ? "no remote IDE server running"
            : Text.Join(quiet.Take(5))));
    }

    private string? Match(string[] arguments)
    {
        foreach (var pattern in _patterns)
        {
            if (arguments.Any(a => a.Contains(pattern, StringComparison.Ordinal)))
            {
                return pattern;
            }
        }

        return null;
    }
}
