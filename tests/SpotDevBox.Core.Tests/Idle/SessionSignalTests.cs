using SpotDevBox.Core.Idle;

namespace SpotDevBox.Core.Tests.Idle;

public sealed class SessionSignalTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2025, 6, 2, 12, 0, 0, TimeSpan.Zero);
    private readonly HostFixture _host = new();

    public void Dispose() => _host.Dispose();

    private SessionSignal Signal() => new(_host.Root, new SessionSignalOptions());

    [Fact]
    public async Task SampleAsync_StaleSshSessionWithoutInput_Inactive()
    {
        _host.WriteProcess(1200, "sshd", utime: 5);
        _host.WriteUtmp(UtmpRecord.Login(1200, "pts/0", "alice", "203.0.113.5", Now.AddHours(-3)));
        _host.WriteTerminal("pts/0", Now.AddMinutes(-40));

        var reading = await Signal().SampleAsync(Now, default);

        Assert.Equal(SignalState.Inactive, reading.State);
        Assert.Equal("ssh session pts/0 (alice from 203.0.113.5) typed 40 min ago", reading.Reason);
    }

    [Fact]
    public async Task SampleAsync_FreshKeystroke_Active()
    {
        _host.WriteProcess(1200, "sshd", utime: 5);
        _host.WriteProcess(1300, "sshd", utime: 5);
        _host.WriteUtmp(
            UtmpRecord.Login(1200, "pts/0", "alice", "203.0.113.5", Now.AddHours(-3)),
            UtmpRecord.Login(1300, "pts/1", "bob", "198.51.100.7", Now.AddHours(-1)));
        _host.WriteTerminal("pts/0", Now.AddMinutes(-40));
        _host.WriteTerminal("pts/1", Now.AddMinutes(-2));

        var reading = await Signal().SampleAsync(Now, default);

        Assert.True(reading.Active);
        Assert.Equal("ssh session pts/1 (bob from 198.51.100.7) typed 2 min ago", reading.Reason);
    }

    [Fact]
    public async Task SampleAsync_SessionWhoseProcessIsGone_Ignored()
    {
        _host.WriteUtmp(UtmpRecord.Login(1400, "pts/2", "carol", "192.0.2.1", Now.AddHours(-2)));
        _host.WriteTerminal("pts/2", Now.AddSeconds(-10));

        var reading = await Signal().SampleAsync(Now, default);

        Assert.False(reading.Active);
        Assert.Equal("no login sessions", reading.Reason);
    }

    [Fact]
    public async Task SampleAsync_DeadProcessRecord_Ignored()
    {
        _host.WriteProcess(1500, "bash", utime: 5);
        _host.WriteUtmp(new UtmpRecord(8, 1500, "pts/3", "dave", "192.0.2.2", Now.AddHours(-2)));
        _host.WriteTerminal("pts/3", Now.AddSeconds(-10));

        var reading = await Signal().SampleAsync(Now, default);

        Assert.Equal("no login sessions", reading.Reason);
    }

    [Fact]
    public async Task SampleAsync_ConsoleLogin_DescribedWithoutHost()
    {
        _host.WriteProcess(1600, "login", utime: 5);
        _host.WriteUtmp(UtmpRecord.Login(1600, "tty1", "root", "", Now.AddHours(-2)));
        _host.WriteTerminal("tty1", Now.AddMinutes(-1));

        var reading = await Signal().SampleAsync(Now, default);

        Assert.Equal("login session tty1 (root) typed 1 min ago", reading.Reason);
    }

    [Fact]
    public async Task SampleAsync_NoUtmpFile_Inactive()
    {
        var reading = await Signal().SampleAsync(Now, default);

        Assert.Equal("no login sessions", reading.Reason);
    }
}
