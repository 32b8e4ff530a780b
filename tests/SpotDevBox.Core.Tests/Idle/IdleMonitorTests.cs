using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using SpotDevBox.Core.Idle;

namespace SpotDevBox.Core.Tests.Idle;

public sealed class IdleMonitorTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2025, 6, 2, 12, 0, 0, TimeSpan.Zero);
    private readonly HostFixture _host = new();
    private readonly FakeTimeProvider _time = new(T0);

    public void Dispose() => _host.Dispose();

    private IdleMonitor Monitor(params IIdleSignal[] signals) => new(signals, _time, NullLogger<IdleMonitor>.Instance);

    /// <summary>Every real signal over the fixture tree, with a GPU answer and a lease file of the test's choosing.</summary>
    private IdleMonitor MachineMonitor(CommandResult gpu, ISelfActivity? self = null) => Monitor([.. IdleSignals.Create(
        new IdleOptions(), _host.Root, new FakeCommandRunner(gpu), new LeaseFile(Path.Join(_host.Directory, "lease.json")), self ?? NoSelfActivity.Instance)]);

    /// <summary>A box at rest: a quiet CPU, no traffic, dockerd idling, one SSH login nobody typed into for an hour.</summary>
    private void QuietMachine(int minute)
    {
        _host.WriteCpuStat(userTicks: 1_000 + (100 * minute), idleTicks: 9_000 + (23_900 * minute), cores: 4);
        _host.WriteNetDev(("lo", 0, 0), ("ens5", 5_000 + (600 * minute), 5_000 + (600 * minute)));
        _host.WriteTcp();
        _host.WriteProcess(700, "dockerd", utime: 50_000 + minute);
        _host.WriteProcess(1200, "sshd", utime: 5);
        _host.WriteUtmp(UtmpRecord.Login(1200, "pts/0", "alice", "203.0.113.5", T0.AddHours(-2)));
        _host.WriteTerminal("pts/0", T0.AddHours(-1));
    }

    private async Task<IdleAssessment> SampleMinutesAsync(IdleMonitor monitor, int minutes, Action<int> machine)
    {
        IdleAssessment? last = null;
        for (var minute = 0; minute <= minutes; minute++)
        {
            machine(minute);
            last = await monitor.SampleAsync(default);
            _time.Advance(TimeSpan.FromMinutes(1));
        }

        return last!;
    }

    [Fact]
    public async Task SampleAsync_QuietMachineWithStaleSshAndIdleDockerd_Idle()
    {
        var monitor = MachineMonitor(CommandResult.NotFound);

        var assessment = await SampleMinutesAsync(monitor, 3, QuietMachine);

        Assert.True(assessment.IsIdle);
        Assert.Equal(T0, assessment.IdleSince);
        Assert.Equal(TimeSpan.FromMinutes(3), assessment.IdleFor);
    }

    [Fact]
    public async Task SampleAsync_RunningBuild_Awake()
    {
        var monitor = MachineMonitor(CommandResult.NotFound);

        var assessment = await SampleMinutesAsync(monitor, 2, minute =>
        {
            QuietMachine(minute);
            _host.WriteProcess(4242, "make", utime: 10 * minute, cutime: 2_000 * minute, cmdline: ["make", "-j4"]);
        });

        Assert.False(assessment.IsIdle);
        Assert.Equal("make (pid 4242) used 20.1 s CPU in the last minute", assessment.AwakeReasons);
    }

    [Fact]
    public async Task SampleAsync_BusyGpuWhileCpuIdle_Awake()
    {
        var monitor = MachineMonitor(CommandResult.Exit(0, "87\n"));

        var assessment = await SampleMinutesAsync(monitor, 2, QuietMachine);

        Assert.False(assessment.IsIdle);
        Assert.Equal(["gpu"], assessment.AwakeBecause.Select(r => r.Signal));
        Assert.Equal("GPU 0 at 87%", assessment.AwakeReasons);
    }

    [Fact]
    public async Task SampleAsync_Lease_Awake()
    {
        var monitor = MachineMonitor(CommandResult.NotFound);
        new LeaseFile(Path.Join(_host.Directory, "lease.json")).Write(new Lease(T0.AddHours(2), "alice", "training run"));

        var assessment = await SampleMinutesAsync(monitor, 1, QuietMachine);

        Assert.Equal("lease until 14:00 UTC (set by alice: 'training run')", assessment.AwakeReasons);
    }

    [Fact]
    public async Task SampleAsync_AgentsOwnBackup_DoesNotKeepTheBoxAwake()
    {
        var self = new FakeSelfActivity(999) { Busy = true };
        var monitor = MachineMonitor(CommandResult.NotFound, self);

        // The agent (run as "dotnet spotdevbox.dll") burns 2 cores and uploads 20 MB a minute; nothing else happens.
        var assessment = await SampleMinutesAsync(monitor, 3, minute =>
        {
            QuietMachine(minute);
            _host.WriteCpuStat(userTicks: 1_000 + (12_100 * minute), idleTicks: 9_000 + (11_900 * minute), cores: 4);
            _host.WriteNetDev(("lo", 0, 0), ("ens5", 5_000, 5_000 + (20_000_000L * minute)));
            _host.WriteProcess(999, "dotnet", utime: 12_000 * minute, cmdline: ["dotnet", "/opt/spotdevbox/spotdevbox.dll", "agent", "run"]);
        });

        Assert.True(assessment.IsIdle);
        Assert.Equal(T0, assessment.IdleSince);
    }

    [Fact]
    public async Task SampleAsync_ActivityThenQuiet_IdleSinceRestartsAfterActivity()
    {
        var ssh = new FakeSignal("sessions");
        var monitor = Monitor(ssh);

        await monitor.SampleAsync(default);
        _time.Advance(TimeSpan.FromMinutes(5));
        ssh.ActiveBecause = "ssh session pts/0 (alice from 203.0.113.5) typed 0 min ago";
        var awake = await monitor.SampleAsync(default);
        _time.Advance(TimeSpan.FromMinutes(1));
        ssh.ActiveBecause = null;
        var idle = await monitor.SampleAsync(default);
        _time.Advance(TimeSpan.FromMinutes(1));
        var stillIdle = await monitor.SampleAsync(default);

        Assert.Null(awake.IdleSince);
        Assert.Equal(T0.AddMinutes(6), idle.IdleSince);
        Assert.Equal(T0.AddMinutes(6), stillIdle.IdleSince);
        Assert.Same(stillIdle, monitor.Latest);
    }

    [Fact]
    public async Task SampleAsync_DisabledSignal_NotSampled()
    {
        var disabled = new FakeSignal("cpu", enabled: false) { ActiveBecause = "busy" };
        var monitor = Monitor(disabled, new FakeSignal("network"));

        var assessment = await monitor.SampleAsync(default);

        Assert.True(assessment.IsIdle);
        Assert.Equal(0, disabled.Samples);
        Assert.Equal(["network"], assessment.Readings.Select(r => r.Signal));
    }

    [Fact]
    public async Task SampleAsync_SignalThrows_CountsAsUnavailable()
    {
        var broken = new FakeSignal("sessions") { Throws = new InvalidDataException("utmp is truncated") };
        var monitor = Monitor(broken, new FakeSignal("cpu") { ActiveBecause = "CPU busy" });

        var assessment = await monitor.SampleAsync(default);

        Assert.Equal(new SignalReading("sessions", SignalState.Unavailable, "failed: utmp is truncated"), assessment.Readings[0]);
        Assert.False(assessment.IsIdle);
    }
}
