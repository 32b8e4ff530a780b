using SpotDevBox.Core.Idle;

namespace SpotDevBox.Core.Tests.Idle;

public sealed class RemoteIdeSignalTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2025, 6, 2, 12, 0, 0, TimeSpan.Zero);
    private static readonly string[] VsCodeServer = ["/home/alice/.vscode-server/bin/1a2b3c/node", "--dns-result-order=ipv4first", "/home/alice/.vscode-server/bin/1a2b3c/out/server-main.js"];
    private readonly HostFixture _host = new();

    public RemoteIdeSignalTests()
    {
        _host.WriteProcess(311, "node", utime: 2_000, cmdline: VsCodeServer);
        _host.AddSocket(311, 19, 5551);
        _host.AddSocket(311, 20, 5552);
    }

    public void Dispose() => _host.Dispose();

    private RemoteIdeSignal Signal() => new(_host.Root, new RemoteIdeSignalOptions(), NoSelfActivity.Instance);

    [Fact]
    public async Task SampleAsync_EstablishedButSilent_Inactive()
    {
        var signal = Signal();
        _host.WriteTcp((5551, "01"), (5552, "0A"));
        _host.WriteIo(311, 1_000_000, 500_000);
        await signal.SampleAsync(T0, default);

        // The laptop is asleep: the connection stays open, 2 KiB of timers and logs move.
        _host.WriteIo(311, 1_001_024, 501_024);
        var reading = await signal.SampleAsync(T0.AddMinutes(1), default);

        Assert.False(reading.Active);
        Assert.Equal(".vscode-server process node (pid 311) connected but silent (2 KiB I/O)", reading.Reason);
    }

    [Fact]
    public async Task SampleAsync_EstablishedWithIo_Active()
    {
        var signal = Signal();
        _host.WriteTcp((5551, "01"));
        _host.WriteIo(311, 1_000_000, 500_000);
        await signal.SampleAsync(T0, default);

        // 300 KiB read and 100 KiB written: 400 KiB.
        _host.WriteIo(311, 1_000_000 + (300 * 1024), 500_000 + (100 * 1024));
        var reading = await signal.SampleAsync(T0.AddMinutes(1), default);

        Assert.True(reading.Active);
        Assert.Equal(".vscode-server process node (pid 311) connected, 400 KiB I/O in the last minute", reading.Reason);
    }

    [Fact]
    public async Task SampleAsync_OnlyListeningSocket_InactiveWhateverItsIo()
    {
        var signal = Signal();
        _host.WriteTcp((5551, "0A"));
        _host.WriteIo(311, 0, 0);
        await signal.SampleAsync(T0, default);

        _host.WriteIo(311, 50_000_000, 50_000_000);
        var reading = await signal.SampleAsync(T0.AddMinutes(1), default);

        Assert.False(reading.Active);
        Assert.Equal(".vscode-server process node (pid 311) has no established connection", reading.Reason);
    }

    [Fact]
    public async Task SampleAsync_NoIdeServer_Inactive()
    {
        _host.RemoveProcess(311);
        var signal = Signal();
        _host.WriteTcp();
        await signal.SampleAsync(T0, default);

        var reading = await signal.SampleAsync(T0.AddMinutes(1), default);

        Assert.Equal("no remote IDE server running", reading.Reason);
    }
}
