using SpotDevBox.Core.Idle;

namespace SpotDevBox.Core.Tests.Idle;

public sealed class KeepAwakeSignalTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2025, 6, 2, 12, 0, 0, TimeSpan.Zero);
    private readonly HostFixture _host = new();

    public void Dispose() => _host.Dispose();

    private KeepAwakeSignal Signal(params int[] selfPids) =>
        new(_host.Root, new KeepAwakeSignalOptions(), new RemoteIdeSignalOptions(), new FakeSelfActivity(selfPids));

    [Fact]
    public async Task SampleAsync_RunningBuild_Active()
    {
        var signal = Signal();
        _host.WriteProcess(4242, "make", utime: 20, cutime: 1000, cmdline: ["make", "-j8"]);
        await signal.SampleAsync(T0, default);

        // make's own 0.5 s plus 37.5 s of compilers it reaped = 38 s.
        _host.WriteProcess(4242, "make", utime: 70, cutime: 4750, cmdline: ["make", "-j8"]);
        var reading = await signal.SampleAsync(T0.AddMinutes(1), default);

        Assert.True(reading.Active);
        Assert.Equal("make (pid 4242) used 38 s CPU in the last minute", reading.Reason);
    }

    [Fact]
    public async Task SampleAsync_CompilerStartedDuringInterval_CountsAllItsCpu()
    {
        var signal = Signal();
        _host.WriteProcess(4242, "make", utime: 20);
        await signal.SampleAsync(T0, default);

        _host.WriteProcess(4300, "cc1plus", utime: 230, stime: 20);
        var reading = await signal.SampleAsync(T0.AddMinutes(1), default);

        Assert.True(reading.Active);
        Assert.Equal("cc1plus (pid 4300) used 2.5 s CPU in the last minute", reading.Reason);
    }

    [Fact]
    public async Task SampleAsync_DockerdWithoutCpu_Inactive()
    {
        var signal = Signal();
        _host.WriteProcess(700, "dockerd", utime: 50_000, stime: 9_000, cmdline: ["/usr/bin/dockerd", "-H", "fd://"]);
        await signal.SampleAsync(T0, default);

        // 0.1 s of housekeeping in a minute.
        _host.WriteProcess(700, "dockerd", utime: 50_008, stime: 9_002, cmdline: ["/usr/bin/dockerd", "-H", "fd://"]);
        var reading = await signal.SampleAsync(T0.AddMinutes(1), default);

        Assert.False(reading.Active);
        Assert.Equal("dockerd (pid 700) running but idle", reading.Reason);
    }

    [Fact]
    public async Task SampleAsync_FirstSample_InactiveWithBaseline()
    {
        var signal = Signal();
        _host.WriteProcess(4242, "make", utime: 90_000);

        var reading = await signal.SampleAsync(T0, default);

        Assert.Equal(SignalState.Inactive, reading.State);
        Assert.Equal("first sample, baseline taken (1 listed processes running)", reading.Reason);
    }

    [Fact]
    public async Task SampleAsync_NpmRunByNode_MatchedByScriptName()
    {
        var signal = Signal();
        _host.WriteProcess(31, "node", utime: 0, cmdline: ["node", "/usr/bin/npm", "install"]);
        await signal.SampleAsync(T0, default);

        _host.WriteProcess(31, "node", utime: 400, cmdline: ["node", "/usr/bin/npm", "install"]);
        var reading = await signal.SampleAsync(T0.AddMinutes(1), default);

        Assert.Equal("npm (pid 31) used 4 s CPU in the last minute", reading.Reason);
    }

    [Fact]
    public async Task SampleAsync_ListedNameInsideRemoteIdeServer_LeftToRemoteIdeSignal()
    {
        var signal = Signal();
        string[] languageServer = ["dotnet", "/home/alice/.vscode-server/extensions/ms-dotnettools.csharp/server.dll"];
        _host.WriteProcess(512, "dotnet", utime: 0, cmdline: languageServer);
        await signal.SampleAsync(T0, default);

        _host.WriteProcess(512, "dotnet", utime: 3_000, cmdline: languageServer);
        var reading = await signal.SampleAsync(T0.AddMinutes(1), default);

        Assert.False(reading.Active);
        Assert.Equal("no listed process running", reading.Reason);
    }

    [Fact]
    public async Task SampleAsync_AgentsOwnProcess_NotCounted()
    {
        var signal = Signal(999);
        string[] agent = ["dotnet", "/opt/spotdevbox/spotdevbox.dll", "agent", "run"];
        _host.WriteProcess(999, "dotnet", utime: 0, cmdline: agent);
        await signal.SampleAsync(T0, default);

        _host.WriteProcess(999, "dotnet", utime: 5_000, cmdline: agent);
        var reading = await signal.SampleAsync(T0.AddMinutes(1), default);

        Assert.False(reading.Active);
        Assert.Equal("no listed process running", reading.Reason);
    }

    [Fact]
    public async Task SampleAsync_PidReusedByAnotherProcess_CountsTheNewOneFromZero()
    {
        var signal = Signal();
        _host.WriteProcess(800, "cargo", utime: 10_000, startTicks: 1_000);
        await signal.SampleAsync(T0, default);

        // Same pid, a new process (later start) that has used 0.3 s: under the 1 s threshold.
        _host.WriteProcess(800, "cargo", utime: 30, startTicks: 90_000);
        var reading = await signal.SampleAsync(T0.AddMinutes(1), default);

        Assert.False(reading.Active);
    }
}
