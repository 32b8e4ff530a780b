using SpotDevBox.Core.Idle;

namespace SpotDevBox.Core.Tests.Idle;

public sealed class NetworkSignalTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2025, 6, 2, 12, 0, 0, TimeSpan.Zero);
    private readonly HostFixture _host = new();

    public void Dispose() => _host.Dispose();

    [Fact]
    public async Task SampleAsync_AboveThreshold_Active()
    {
        var signal = new NetworkSignal(_host.Root, new NetworkSignalOptions(), NoSelfActivity.Instance);
        _host.WriteNetDev(("lo", 1_000, 1_000), ("ens5", 10_000_000, 2_000_000));
        await signal.SampleAsync(T0, default);

        // 3 000 000 + 600 000 bytes in 60 s = 60 000 B/s = 58.6 KiB/s.
        _host.WriteNetDev(("lo", 1_000, 1_000), ("ens5", 13_000_000, 2_600_000));
        var reading = await signal.SampleAsync(T0.AddMinutes(1), default);

        Assert.True(reading.Active);
        Assert.Equal("network 58.6 KiB/s in+out in the last minute (mostly ens5)", reading.Reason);
    }

    [Fact]
    public async Task SampleAsync_BelowThreshold_Inactive()
    {
        var signal = new NetworkSignal(_host.Root, new NetworkSignalOptions(), NoSelfActivity.Instance);
        _host.WriteNetDev(("ens5", 10_000_000, 2_000_000));
        await signal.SampleAsync(T0, default);

        // 60 000 bytes in 60 s = 1000 B/s.
        _host.WriteNetDev(("ens5", 10_040_000, 2_020_000));
        var reading = await signal.SampleAsync(T0.AddMinutes(1), default);

        Assert.False(reading.Active);
        Assert.Equal("network 1000 B/s in+out in the last minute (mostly ens5), below 16 KiB/s", reading.Reason);
    }

    [Fact]
    public async Task SampleAsync_LoopbackAndDockerBridgeTraffic_NotCounted()
    {
        var signal = new NetworkSignal(_host.Root, new NetworkSignalOptions(), NoSelfActivity.Instance);
        _host.WriteNetDev(("lo", 0, 0), ("docker0", 0, 0), ("veth1a2b", 0, 0), ("ens5", 0, 0));
        await signal.SampleAsync(T0, default);

        _host.WriteNetDev(("lo", 900_000_000, 900_000_000), ("docker0", 500_000_000, 0), ("veth1a2b", 0, 500_000_000), ("ens5", 0, 0));
        var reading = await signal.SampleAsync(T0.AddMinutes(1), default);

        Assert.False(reading.Active);
        Assert.Equal("network 0 B/s in+out in the last minute, below 16 KiB/s", reading.Reason);
    }

    [Fact]
    public async Task SampleAsync_AgentWasBackingUp_NotCounted()
    {
        var self = new FakeSelfActivity(999);
        var signal = new NetworkSignal(_host.Root, new NetworkSignalOptions(), self);
        _host.WriteNetDev(("ens5", 0, 0));
        await signal.SampleAsync(T0, default);

        self.Busy = true;
        _host.WriteNetDev(("ens5", 1_000_000, 300_000_000));
        var reading = await signal.SampleAsync(T0.AddMinutes(1), default);

        Assert.False(reading.Active);
        Assert.Equal("not counted in the last minute: the agent's own backup was running", reading.Reason);
    }
}
