using SpotDevBox.Core.Idle;

namespace SpotDevBox.Core.Tests.Idle;

public sealed class LeaseTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2025, 6, 2, 12, 0, 0, TimeSpan.Zero);
    private readonly string _directory = Path.Join(Path.GetTempPath(), "spotdevbox-lease-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private LeaseFile File() => new(Path.Join(_directory, "lease.json"));

    [Fact]
    public async Task SampleAsync_LeaseInForce_Active()
    {
        var file = File();
        file.Write(new Lease(new DateTimeOffset(2025, 6, 2, 17, 30, 0, TimeSpan.Zero), "alice", "training run"));

        var reading = await new LeaseSignal(file, new LeaseSignalOptions()).SampleAsync(Now, default);

        Assert.True(reading.Active);
        Assert.Equal("lease until 17:30 UTC (set by alice: 'training run')", reading.Reason);
    }

    [Fact]
    public async Task SampleAsync_ExpiredLease_Inactive()
    {
        var file = File();
        file.Write(new Lease(new DateTimeOffset(2025, 6, 2, 11, 30, 0, TimeSpan.Zero), "alice", null));

        var reading = await new LeaseSignal(file, new LeaseSignalOptions()).SampleAsync(Now, default);

        Assert.False(reading.Active);
        Assert.Equal("lease ended at 11:30 UTC", reading.Reason);
    }

    [Fact]
    public async Task SampleAsync_NoLeaseFile_Inactive()
    {
        var reading = await new LeaseSignal(File(), new LeaseSignalOptions()).SampleAsync(Now, default);

        Assert.Equal(SignalState.Inactive, reading.State);
        Assert.Equal("no lease", reading.Reason);
    }

    [Fact]
    public async Task SampleAsync_MalformedLeaseFile_TreatedAsNoLeaseWithoutThrowing()
    {
        Directory.CreateDirectory(_directory);
        var path = Path.Join(_directory, "lease.json");
        await System.IO.File.WriteAllTextAsync(path, "{\"until\": \"tomorrow-ish\"");

        var reading = await new LeaseSignal(new LeaseFile(path), new LeaseSignalOptions()).SampleAsync(Now, default);

        Assert.Equal(SignalState.Unavailable, reading.State);
        Assert.False(reading.Active);
        Assert.StartsWith($"lease file {path} is not valid JSON: ", reading.Reason, StringComparison.Ordinal);
        Assert.EndsWith("; treated as no lease", reading.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_LeaseWithoutUntil_ThrowsNamingTheFile()
    {
        Directory.CreateDirectory(_directory);
        var path = Path.Join(_directory, "lease.json");
        await System.IO.File.WriteAllTextAsync(path, "{\"setBy\": \"alice\"}");

        var error = Assert.Throws<LeaseUnreadableException>(() => new LeaseFile(path).Read());

        Assert.Equal($"lease file {path} has no \"until\" time", error.Message);
    }

    [Fact]
    public void Write_ThenRead_SameLeaseAndNoTemporaryFilesLeft()
    {
        var file = File();
        var lease = new Lease(new DateTimeOffset(2025, 6, 3, 9, 0, 0, TimeSpan.Zero), "alice", "overnight tests");

        file.Write(lease);
        file.Write(lease with { Note = "overnight tests, take 2" });

        Assert.Equal(lease with { Note = "overnight tests, take 2" }, file.Read());
        Assert.Equal(["lease.json"], Directory.GetFiles(_directory).Select(Path.GetFileName));
    }

    [Fact]
    public void Cancel_ExistingLease_RemovesItOnce()
    {
        var file = File();
        file.Write(new Lease(Now.AddHours(2), null, null));

        Assert.True(file.Cancel());
        Assert.False(file.Cancel());
        Assert.Null(file.Read());
    }

    [Fact]
    public void ClampedAt_ThirtyDaysOut_EndsSevenDaysFromNow()
    {
        var lease = new Lease(Now.AddDays(30), "alice", "note");

        Assert.Equal(new Lease(Now.AddDays(7), "alice", "note"), lease.ClampedAt(Now));
        Assert.Same(lease, lease.ClampedAt(Now.AddDays(23)));
    }

    [Fact]
    public void Describe_LeaseEndingAnotherDay_ShowsTheDate()
    {
        var lease = new Lease(new DateTimeOffset(2025, 6, 3, 9, 0, 0, TimeSpan.Zero), "alice", null);

        Assert.Equal("lease until 2025-06-03 09:00 UTC (set by alice)", lease.Describe(Now));
    }
}
