using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using SpotDevBox.Core.Idle;

namespace SpotDevBox.Core.Tests.Idle;

/// <summary>
/// The root agent reads the lease file as untrusted input: whoever may write the lease directory must not be able
/// to hang the agent (a FIFO), make it read elsewhere (a symbolic link) or read much (a huge file).
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class LeaseFileTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2025, 6, 2, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);
    private readonly DirectoryInfo _run = Directory.CreateTempSubdirectory("spotdevbox-lease-run-");

    public void Dispose() => _run.Delete(recursive: true);

    private LeaseFile File() => LeaseFile.InRunDirectory(_run.FullName);

    private string LeaseDirectory => Path.Join(_run.FullName, LeaseFile.DirectoryName);

    private string LeasePath => Path.Join(LeaseDirectory, "lease.json");

    [Fact]
    public void InRunDirectory_IsLeaseJsonInTheLeaseDirectory()
    {
        Assert.Equal(Path.Join(_run.FullName, "lease", "lease.json"), File().Path);
    }

    [Fact]
    public void Write_NoLeaseDirectory_CreatesItClosedToOthersAndTheFileGroupWritable()
    {
        File().Write(new Lease(Now.AddHours(2), "alice", null));

        Assert.Equal(LeaseFile.DirectoryMode, System.IO.File.GetUnixFileMode(LeaseDirectory));
        Assert.Equal((UnixFileMode)0b110_110_000, System.IO.File.GetUnixFileMode(LeasePath));
        Assert.Equal(new Lease(Now.AddHours(2), "alice", null), File().Read());
    }

    [Fact]
    public async Task Read_Fifo_ReturnsAtOnceAsUnreadable()
    {
        Directory.CreateDirectory(LeaseDirectory);
        await RunAsync("mkfifo", LeasePath);

        var read = Task.Run(() => Assert.Throws<LeaseUnreadableException>(() => File().Read()));

        var error = await read.WaitAsync(Bound);
        Assert.Contains("is a FIFO, not a regular file", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_SymbolicLinkToAValidLease_NotFollowed()
    {
        var elsewhere = Path.Join(_run.FullName, "elsewhere.json");
        await System.IO.File.WriteAllTextAsync(elsewhere, "{\"until\":\"2025-06-09T12:00:00Z\"}");
        Directory.CreateDirectory(LeaseDirectory);
        System.IO.File.CreateSymbolicLink(LeasePath, elsewhere);

        var error = Assert.Throws<LeaseUnreadableException>(() => File().Read());

        Assert.Contains("is a symbolic link: not followed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_TenMegabytes_IgnoredWithoutReadingIt()
    {
        Directory.CreateDirectory(LeaseDirectory);
        await using (var stream = System.IO.File.Create(LeasePath))
        {
            stream.SetLength(10 * 1024 * 1024);
        }

        var error = Assert.Throws<LeaseUnreadableException>(() => File().Read());

        Assert.Contains("has 10485760 bytes, more than a lease's 4096: ignored", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_WorldWritableLeaseDirectory_NotTrusted()
    {
        File().Write(new Lease(Now.AddHours(2), "alice", null));
        System.IO.File.SetUnixFileMode(LeaseDirectory, (UnixFileMode)0b1_111_111_111);

        var error = Assert.Throws<LeaseUnreadableException>(() => File().Read());

        Assert.Contains("with mode 1777: only a directory others cannot write is trusted", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_FileOfAnotherUserAndGroup_NotTrusted()
    {
        File().Write(new Lease(Now.AddHours(2), "mallory", null));
        // The tests run as root; uid and gid 4242 stand for a local user outside the lease directory's group.
        await RunAsync("chown", "4242:4242", LeasePath);

        var error = Assert.Throws<LeaseUnreadableException>(() => File().Read());

        Assert.Contains("belongs to uid 4242, gid 4242: only root or the lease directory's group may set a lease", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_FileOfTheLeaseDirectorysGroup_Trusted()
    {
        File().Write(new Lease(Now.AddHours(2), "alice", null));
        await RunAsync("chown", "4242:4343", LeaseDirectory);
        await RunAsync("chown", "4343:4343", LeasePath);

        Assert.Equal(new Lease(Now.AddHours(2), "alice", null), File().Read());
    }

    [Fact]
    public async Task IdleMonitor_FifoAtTheLeasePath_SampleCompletesIdleWithTheLeaseUnavailable()
    {
        var time = new FakeTimeProvider(Now);
        var quiet = new FakeSignal("cpu");
        var monitor = new IdleMonitor([quiet, new LeaseSignal(File(), new LeaseSignalOptions())], time, NullLogger<IdleMonitor>.Instance);
        Directory.CreateDirectory(LeaseDirectory);
        await RunAsync("mkfifo", LeasePath);

        var assessment = await monitor.SampleAsync(default).WaitAsync(Bound);

        Assert.True(assessment.IsIdle);
        var lease = Assert.Single(assessment.Readings, r => r.Signal == "lease");
        Assert.Equal(SignalState.Unavailable, lease.State);
        Assert.Contains("is a FIFO, not a regular file: ignored; treated as no lease", lease.Reason, StringComparison.Ordinal);
    }

    private static async Task RunAsync(string file, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true })!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{file}: {error}");
    }
}
