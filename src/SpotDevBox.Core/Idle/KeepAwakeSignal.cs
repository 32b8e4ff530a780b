namespace SpotDevBox.Core.Idle;

/// <summary>
/// Processes on the keep-awake list count while they use CPU: utime + stime + cutime + cstime from
/// /proc/&lt;pid&gt;/stat advanced by at least MinCpuTime in the interval. The children's share matters: `make`
/// itself hardly runs, but it waits for every short-lived compiler it starts, and their CPU lands in its
/// cutime. A process merely existing (dockerd at rest) does not count.
/// A process is matched by its name (comm), the file name of argv[0], or, when argv[0] is an interpreter
/// (node, python, sh, ...), the file name of the script it runs (argv[1]). Processes of a remote IDE server
/// (whether or not that signal is enabled) are left to the remote IDE signal, and the agent's own processes are skipped.
/// </summary>
public sealed class KeepAwakeSignal(HostRoot root, KeepAwakeSignalOptions options, RemoteIdeSignalOptions remoteIde, ISelfActivity self) : IIdleSignal
{
    private static readonly HashSet<string> Interpreters =
        new(["node", "nodejs", "python", "python3", "sh", "bash", "dash", "env", "perl", "ruby", "java"], StringComparer.Ordinal);

    private readonly HashSet<string> _names = new(options.EffectiveProcesses, StringComparer.Ordinal);
    private readonly IReadOnlyList<string> _idePatterns = remoteIde.EffectivePatterns;
    private readonly ProcessDeltas _cpu = new();
    private readonly ProcessScanShare? _share;
    private DateTimeOffset _previousAt;

    /// <summary>Takes the remote IDE signal's scan of /proc when it is of the same instant, instead of reading /proc again.</summary>
    internal KeepAwakeSignal(HostRoot root, KeepAwakeSignalOptions options, RemoteIdeSignalOptions remoteIde, ISelfActivity self, ProcessScanShare share)
        : this(root, options, remoteIde, self) => _share = share;

    public string Name => "keep-awake processes";

    public bool Enabled => options.Enabled;

    public ValueTask<SignalReading> SampleAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var busy = new List<(string Name, int Pid, TimeSpan Cpu)>();
        var resting = new List<(string Name, int Pid)>();
        _cpu.Begin();
        foreach (var (process, arguments) in _share?.Take(now) ?? Scan())
        {
            if (self.ProcessIds.Contains(process.Pid) || ListedName(process, arguments) is not { } name)
            {
                continue;
            }

            var used = ProcFs.TicksToTime(_cpu.Observe(process.Key, process.CpuTicks));
            if (used >= options.MinCpuTime)
            {
                busy.Add((name, process.Pid, used));
            }
            else
            {
                resting.Add((name, process.Pid));
            }
        }

        var hadBaseline = _cpu.HasBaseline;
        var elapsed = now - _previousAt;
        _cpu.Complete();
        _previousAt = now;
        if (!hadBaseline)
        {
            return ValueTask.FromResult(SignalReading.Inactive(Name, $"first sample, baseline taken ({resting.Count} listed processes running)"));
        }

        if (busy.Count > 0)
        {
            var interval = Text.Interval(elapsed);
            return ValueTask.FromResult(SignalReading.ActiveBecause(Name, Text.Join(busy
                .OrderByDescending(b => b.Cpu)
                .Take(5)
                .Select(b => $"{b.Name} (pid {b.Pid}) used {Text.CpuSeconds(b.Cpu)} CPU {interval}"))));
        }

        return ValueTask.FromResult(SignalReading.Inactive(Name, resting.Count == 0
            ? "no listed process running"
            : $"{Text.Join(resting.Take(5).Select(p => $"{p.Name} (pid {p.Pid})"))} running but idle"));
    }

    private IEnumerable<ScannedProcess> Scan()
    {
        foreach (var process in ProcFs.ListProcesses(root))
        {
            yield return new ScannedProcess(process, self.ProcessIds.Contains(process.Pid) ? [] : ProcFs.ReadCommandLine(root, process));
        }
    }

    /// <summary>The listed name the process goes by, or null when it is not listed.</summary>
    private string? ListedName(ProcessInfo process, string[] arguments)
    {
        if (arguments.Any(a => _idePatterns.Any(p => a.Contains(p, StringComparison.Ordinal))))
        {
            return null;
        }

        if (_names.Contains(process.Comm))
        {
            return process.Comm;
        }

        if (arguments.Length == 0)
        {
            return null;
        }

        var program = Path.GetFileName(arguments[0]);
        if (_names.Contains(program))
        {
            return program;
        }

        var script = arguments.Length > 1 && Interpreters.Contains(program) ? Path.GetFileName(arguments[1]) : null;
        return script is not null && _names.Contains(script) ? script : null;
    }
}
