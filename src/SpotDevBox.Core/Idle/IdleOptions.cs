namespace SpotDevBox.Core.Idle;

/// <summary>
/// When the agent considers the box idle and how it stops it, bound from "Agent:Idle".
/// Lists are null by default and then mean the documented defaults: the configuration binder appends
/// to a pre-filled list instead of replacing it, so a configured list could otherwise never remove a default.
/// </summary>
public sealed class IdleOptions
{
    public const string SectionName = "Agent:Idle";

    /// <summary>No signal active for this long: warn, back up, power off.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>How long before a stop logged-in users are warned. Null: 10 and 2 minutes.</summary>
    public IList<TimeSpan>? WarnAt { get; set; }

    /// <summary>How often every enabled signal is sampled and the stop plan reconsidered.</summary>
    public TimeSpan SampleInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>A scheduled stop waits for the box to go idle, but for no longer than this past the stop time.</summary>
    public TimeSpan MaxScheduleOverrun { get; set; } = TimeSpan.FromHours(2);

    /// <summary>
    /// A hard cap on one session, counted from its start, which neither activity nor a lease postpones.
    /// Null (the default): no cap, because a cap nobody asked for would end a long training run.
    /// </summary>
    public TimeSpan? MaxSessionLength { get; set; }

    /// <summary>After a final backup that did not commit, the next attempt comes this much later (the box stays up meanwhile).</summary>
    public TimeSpan FinalBackupRetryInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The command warnings tell users to run to postpone a stop.</summary>
    public string PostponeCommand { get; set; } = "spotdevbox keepalive 1h";

    public SessionSignalOptions Sessions { get; set; } = new();
    public RemoteIdeSignalOptions RemoteIde { get; set; } = new();
    public CpuSignalOptions Cpu { get; set; } = new();
    public GpuSignalOptions Gpu { get; set; } = new();
    public NetworkSignalOptions Network { get; set; } = new();
    public KeepAwakeSignalOptions KeepAwake { get; set; } = new();
    public LeaseSignalOptions Lease { get; set; } = new();

    public static IReadOnlyList<TimeSpan> DefaultWarnAt { get; } = [TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(2)];

    /// <summary>The warning leads in effect, longest first.</summary>
    public IReadOnlyList<TimeSpan> EffectiveWarnAt => [.. ((IEnumerable<TimeSpan>?)WarnAt ?? DefaultWarnAt).Distinct().OrderDescending()];
}

/// <summary>SSH and console logins, active while their terminal saw input recently.</summary>
public sealed class SessionSignalOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// A session counts while its terminal saw a keystroke within this window. Kept short because the idle
    /// timeout only starts when it ends: last keystroke to power-off is InputWindow + IdleTimeout.
    /// </summary>
    public TimeSpan InputWindow { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>Remote IDE servers (VS Code Remote, Cursor, JetBrains Gateway) with a live connection that moves data.</summary>
public sealed class RemoteIdeSignalOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>Substrings of a process command line that mark it as a remote IDE server. Null: the defaults.</summary>
    public IList<string>? Patterns { get; set; }

    /// <summary>An IDE process with an established connection counts when its reads and writes (rchar + wchar) moved at least this much in one sample interval.</summary>
    public long MinIoBytes { get; set; } = 64 * 1024;

    public static IReadOnlyList<string> DefaultPatterns { get; } =
        [".vscode-server", ".vscode-server-insiders", ".cursor-server", ".windsurf-server", "remote-dev-server", "RemoteDev"];

    public IReadOnlyList<string> EffectivePatterns => [.. (IEnumerable<string>?)Patterns ?? DefaultPatterns];
}

/// <summary>Whole-machine CPU use from /proc/stat, less the agent's own.</summary>
public sealed class CpuSignalOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Busy CPU, in cores, averaged over a sample interval, at or above which the box is awake. Counted in
    /// cores rather than a share of the machine so one busy thread counts the same on 2 and on 64 cores.
    /// </summary>
    public double MinBusyCores { get; set; } = 0.5;
}

/// <summary>NVIDIA GPU utilisation from nvidia-smi, when the box has it.</summary>
public sealed class GpuSignalOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>Utilisation of any one GPU, in percent, at or above which the box is awake.</summary>
    public int MinUtilizationPercent { get; set; } = 10;

    /// <summary>The nvidia-smi executable (a name looked up on PATH, or a path).</summary>
    public string Command { get; set; } = "nvidia-smi";

    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>Network throughput from /proc/net/dev, received plus sent.</summary>
public sealed class NetworkSignalOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>Bytes per second (received + sent, averaged over a sample interval) at or above which the box is awake.</summary>
    public long MinBytesPerSecond { get; set; } = 16 * 1024;

    /// <summary>
    /// Interfaces not counted; a trailing * matches a prefix. Null: loopback and container/VM bridges, whose
    /// traffic is local or already counted on the real interface.
    /// </summary>
    public IList<string>? ExcludeInterfaces { get; set; }

    public static IReadOnlyList<string> DefaultExcludeInterfaces { get; } =
        ["lo", "docker*", "br-*", "veth*", "virbr*", "cni*", "flannel*", "podman*"];

    public IReadOnlyList<string> EffectiveExcludeInterfaces => [.. (IEnumerable<string>?)ExcludeInterfaces ?? DefaultExcludeInterfaces];
}

/// <summary>Processes on a keep-awake list, counted only while they (or children they waited for) use CPU.</summary>
public sealed class KeepAwakeSignalOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>Process names that keep the box awake while busy, replacing the defaults. Null: the defaults.</summary>
    public IList<string>? Processes { get; set; }

    /// <summary>Process names added to <see cref="Processes"/> (or to the defaults).</summary>
    public IList<string> ExtraProcesses { get; set; } = [];

    /// <summary>CPU time a listed process (with the children it reaped) must use in one sample interval to count.</summary>
    public TimeSpan MinCpuTime { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Build tools, compilers, test runners, package managers and container builders: what a person starts
    /// and walks away from. General runtimes (node, python, java) are left out on purpose: system daemons and
    /// idle dev servers run in them; their real work shows on the CPU and GPU signals.
    /// </summary>
    public static IReadOnlyList<string> DefaultProcesses { get; } =
    [
        "make", "gmake", "cmake", "ninja", "meson", "bazel", "bazelisk", "buck2", "scons",
        "gcc", "g++", "cc", "c++", "cc1", "cc1plus", "clang", "clang++", "ld", "ld.lld", "ld.gold", "lld", "as",
        "rustc", "cargo", "go", "javac", "kotlinc", "gradle", "mvn", "sbt", "zig", "swiftc", "ghc",
        "dotnet", "msbuild", "tsc", "webpack", "esbuild", "npm", "npx", "yarn", "pnpm", "bun",
        "pytest", "tox", "jest", "vitest", "mocha", "ctest",
        "docker", "dockerd", "containerd", "buildkitd", "podman", "buildah",
        "apt", "apt-get", "dpkg", "dnf", "yum", "pip", "pip3", "uv", "conda", "rsync", "terraform",
    ];

    public IReadOnlyList<string> EffectiveProcesses => [.. ((IEnumerable<string>?)Processes ?? DefaultProcesses).Concat(ExtraProcesses).Distinct(StringComparer.Ordinal)];
}

/// <summary>An explicit lease ("spotdevbox keepalive 2h" on the box, or one set through the control document).</summary>
public sealed class LeaseSignalOptions
{
    public bool Enabled { get; set; } = true;
}
