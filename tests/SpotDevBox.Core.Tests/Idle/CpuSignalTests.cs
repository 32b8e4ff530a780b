using SpotDevBox.Core.Idle;

namespace SpotDevBox.Core.Tests.Idle;

public sealed class CpuSignalTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2025, 6, 2, 12, 0, 0, TimeSpan.Zero);
    private readonly HostFixture _host = new();

    public void Dispose() => _host.Dispose();

    [Fact]
    public async Task SampleAsync_TwoOfFourCoresBusy_Active()
    {
        var signal = new CpuSignal(_host.Root, new CpuSignalOptions(), NoSelfActivity.Instance);
        _host.WriteCpuStat(userTicks: 1_000, idleTicks: 9_000, cores: 4);
        await signal.SampleAsync(T0, default);

        // 4 cores x 60 s = 24 000 ticks, half of them busy: 2 cores.
        _host.WriteCpuStat(userTicks: 13_000, idleTicks: 21_000, cores: 4);
        var reading = await signal.SampleAsync(T0.AddMinutes(1), default);

        Assert.True(reading.Active);
        Assert.Equal("CPU 2.0 of 4 cores busy (50%) in the last minute", reading.Reason);
    }

    [Fact]
    public async Task SampleAsync_QuietMachine_Inactive()
    {
        var signal = new CpuSignal(_host.Root, new CpuSignalOptions(), NoSelfActivity.Instance);
        _host.WriteCpuStat(userTicks: 1_000, idleTicks: 9_000, cores: 4);
        await signal.SampleAsync(T0, default);

        // 240 of 24 000 ticks busy: 1%, 0.04 cores.
        _host.WriteCpuStat(userTicks: 1_240, idleTicks: 32_760, cores: 4);
        var reading = await signal.SampleAsync(T0.AddMinutes(1), default);

        Assert.False(reading.Active);
        Assert.Equal("CPU 0.04 of 4 cores busy (1%) in the last minute, below 0.5 cores", reading.Reason);
    }

    [Fact]
    public async Task SampleAsync_AgentsOwnBackupCpu_Subtracted()
    {
        var signal = new CpuSignal(_host.Root, new CpuSignalOptions(), new FakeSelfActivity(999));
        _host.WriteCpuStat(userTicks: 1_000, idleTicks: 9_000, cores: 4);
        _host.WriteProcess(999, "spotdevbox", utime: 500);
        await signal.SampleAsync(T0, default);

        // 9 600 busy ticks of 24 000, 8 000 of them the agent's: 1 600 left, 0.27 cores.
        _host.WriteCpuStat(userTicks: 10_600, idleTicks: 23_400, cores: 4);
        _host.WriteProcess(999, "spotdevbox", utime: 8_500);
        var reading = await signal.SampleAsync(T0.AddMinutes(1), default);

        Assert.False(reading.Active);
        Assert.Equal("CPU 0.27 of 4 cores busy (7%) in the last minute, below 0.5 cores", reading.Reason);
    }
}
