using Microsoft.Extensions.Logging;
using SpotDevBox.Agent;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Idle;
using TestSupport;

namespace SpotDevBox.Tests.Agent;

public sealed class AgentLeasesTests : IDisposable
{
    private static readonly DateTimeOffset Noon = new(2025, 6, 2, 12, 0, 0, TimeSpan.Zero);

    private readonly TempDir _temp = new("spotdevbox-leases-");
    private readonly RecordingLoggerFactory _loggers = new();
    private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _time = new(Noon);
    private readonly AgentLeases _leases;

    public AgentLeasesTests()
    {
        _leases = new AgentLeases(
            Microsoft.Extensions.Options.Options.Create(new AgentOptions { RunDirectory = _temp.Sub("run") }),
            _time,
            _loggers.CreateLogger<AgentLeases>());
    }

    [Fact]
    public void Local_IsTheLeaseFileInTheRunDirectory()
    {
        Assert.Equal(Path.Combine(_temp.Sub("run"), "lease", "lease.json"), _leases.Local.Path);
    }

    [Fact]
    public async Task GetLeaseAsync_NeitherLocalNorRemote_Null()
    {
        Assert.Null(await _leases.GetLeaseAsync(CancellationToken.None));
    }

    [Fact]
    public async Task GetLeaseAsync_LocalLaterThanRemote_Local()
    {
        var local = new Lease(Noon.AddHours(3), "alice", "training run");
        _leases.Local.Write(local);
        _leases.SetRemote(new Lease(Noon.AddHours(1), "bob", null));

        Assert.Equal(local, await _leases.GetLeaseAsync(CancellationToken.None));
    }

    [Fact]
    public async Task GetLeaseAsync_RemoteLaterThanLocal_Remote()
    {
        _leases.Local.Write(new Lease(Noon.AddHours(1), "alice", null));
        var remote = new Lease(Noon.AddHours(5), "bob", "demo");
        _leases.SetRemote(remote);

        Assert.Equal(remote, await _leases.GetLeaseAsync(CancellationToken.None));
    }

    [Fact]
    public async Task GetLeaseAsync_OnlyRemote_Remote()
    {
        var remote = new Lease(Noon.AddHours(2), "bob", null);
        _leases.SetRemote(remote);

        Assert.Equal(remote, await _leases.GetLeaseAsync(CancellationToken.None));
    }

    [Fact]
    public async Task GetLeaseAsync_OnlyLocal_Local()
    {
        var local = new Lease(Noon.AddHours(2), "alice", null);
        _leases.Local.Write(local);

        Assert.Equal(local, await _leases.GetLeaseAsync(CancellationToken.None));
    }

    [Fact]
    public async Task GetLeaseAsync_RemoteClearedAfterwards_LocalOnly()
    {
        _leases.SetRemote(new Lease(Noon.AddHours(9), "bob", null));
        _leases.SetRemote(null);

        Assert.Null(await _leases.GetLeaseAsync(CancellationToken.None));
    }

    [Theory]
    [InlineData("{ not json")]
    [InlineData("{\"set_by\":\"alice\"}")]
    [InlineData("")]
    public async Task GetLeaseAsync_MalformedLocalFile_RemoteUsedAndWarningLogged(string content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_leases.Local.Path)!);
        await File.WriteAllTextAsync(_leases.Local.Path, content);
        var remote = new Lease(Noon.AddHours(1), "bob", null);
        _leases.SetRemote(remote);

        var lease = await _leases.GetLeaseAsync(CancellationToken.None);

        Assert.Equal(remote, lease);
        var warning = Assert.Single(_loggers.Entries, e => e.EventId == 3400);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains(_leases.Local.Path, warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetLeaseAsync_MalformedLocalFileAndNoRemote_Null()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_leases.Local.Path)!);
        await File.WriteAllTextAsync(_leases.Local.Path, "[1,2,3]");

        Assert.Null(await _leases.GetLeaseAsync(CancellationToken.None));
    }

    [Fact]
    public async Task GetLeaseAsync_LocalLease30DaysOut_ClampedTo7DaysAndLogged()
    {
        _leases.Local.Write(new Lease(Noon.AddDays(30), "alice", "forever"));

        var lease = await _leases.GetLeaseAsync(CancellationToken.None);

        Assert.Equal(new Lease(Noon.AddDays(7), "alice", "forever"), lease);
        var warning = Assert.Single(_loggers.Entries, e => e.EventId == 3403);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("the local lease file", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetLeaseAsync_RemoteLease30DaysOut_ClampedTo7Days()
    {
        _leases.SetRemote(new Lease(Noon.AddDays(30), "bob", null));

        Assert.Equal(new Lease(Noon.AddDays(7), "bob", null), await _leases.GetLeaseAsync(CancellationToken.None));
    }

    [Fact]
    public async Task GetLeaseAsync_LeaseWithinTheCap_Unchanged()
    {
        _leases.Local.Write(new Lease(Noon.AddDays(6), "alice", null));

        Assert.Equal(new Lease(Noon.AddDays(6), "alice", null), await _leases.GetLeaseAsync(CancellationToken.None));
        Assert.DoesNotContain(_loggers.Entries, e => e.EventId == 3403);
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task GetLeaseAsync_FifoAtTheLeasePath_ReturnsWithinABoundAsNoLeaseAndLogs()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_leases.Local.Path)!);
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [_leases.Local.Path]))
        {
            await mkfifo.WaitForExitAsync();
            Assert.Equal(0, mkfifo.ExitCode);
        }

        var lease = await _leases.GetLeaseAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Null(lease);
        var warning = Assert.Single(_loggers.Entries, e => e.EventId == 3400);
        Assert.Contains("is a FIFO, not a regular file", warning.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();
}
