using System.Text.Json;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Interruption;

namespace SpotDevBox.Tests.Agent;

public sealed class SessionRecorderTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2025, 6, 2, 9, 0, 0, TimeSpan.Zero);

    private readonly AgentParts _box = new();

    [Fact]
    public async Task RecordAsync_CalledTwice_WritesOneRecord()
    {
        _box.Board.SetIdentity(new InstanceIdentity("i-0123456789abcdef0", "m7i.large", "eu-west-1a", "eu-west-1", "spot"));
        _box.Time.Advance(TimeSpan.FromHours(3));
        await _box.Sessions.RecordAsync(CancellationToken.None);
        _box.Time.Advance(TimeSpan.FromMinutes(1));
        _box.Board.DecideEnd(SessionEnd.Manual, "too late to count");

        await _box.Sessions.RecordAsync(CancellationToken.None);

        var file = Assert.Single(_box.FilesUnder("sessions"));
        Assert.Equal("20250602T090000Z-i-0123456789abcdef0.json", Path.GetFileName(file));
        var record = await ReadAsync(file);
        Assert.Equal("alice", record.Box);
        Assert.Equal("i-0123456789abcdef0", record.InstanceId);
        Assert.Equal("m7i.large", record.InstanceType);
        Assert.Equal("eu-west-1a", record.AvailabilityZone);
        Assert.Equal("spot", record.Lifecycle);
        Assert.Equal(Start, record.Start);
        Assert.Equal(Start.AddHours(3), record.End);
        Assert.Equal(SessionEnd.ServiceStopped, record.EndedBy);
        Assert.Null(record.Detail);
    }

    [Fact]
    public async Task RecordAsync_InterruptionDecidedAfterIdle_EndedByInterruption()
    {
        _box.Board.DecideEnd(SessionEnd.Idle, "idle for 30 min");
        _box.Board.DecideEnd(SessionEnd.Interruption, "spot terminate notice for 2025-06-02 09:10:00Z");

        await _box.Sessions.RecordAsync(CancellationToken.None);

        var record = await ReadAsync(Assert.Single(_box.FilesUnder("sessions")));
        Assert.Equal(SessionEnd.Interruption, record.EndedBy);
        Assert.Equal("spot terminate notice for 2025-06-02 09:10:00Z", record.Detail);
        Assert.Equal("Interruption: spot terminate notice for 2025-06-02 09:10:00Z", _box.Board.Current.StopReason);
    }

    [Fact]
    public async Task RecordAsync_IdleDecidedAfterInterruption_StillEndedByInterruption()
    {
        _box.Board.DecideEnd(SessionEnd.Interruption, "spot stop notice for 2025-06-02 09:10:00Z");
        _box.Board.DecideEnd(SessionEnd.Idle, "idle for 30 min");

        await _box.Sessions.RecordAsync(CancellationToken.None);

        var record = await ReadAsync(Assert.Single(_box.FilesUnder("sessions")));
        Assert.Equal(SessionEnd.Interruption, record.EndedBy);
        Assert.Equal("spot stop notice for 2025-06-02 09:10:00Z", record.Detail);
        Assert.Equal("Interruption: spot stop notice for 2025-06-02 09:10:00Z", _box.Board.Current.StopReason);
    }

    [Fact]
    public async Task RecordAsync_ScheduleDecidedAfterIdle_FirstReasonWins()
    {
        _box.Board.DecideEnd(SessionEnd.Idle, "idle for 30 min");
        _box.Board.DecideEnd(SessionEnd.Schedule, "19:00 weekday stop");

        await _box.Sessions.RecordAsync(CancellationToken.None);

        var record = await ReadAsync(Assert.Single(_box.FilesUnder("sessions")));
        Assert.Equal(SessionEnd.Idle, record.EndedBy);
        Assert.Equal("idle for 30 min", record.Detail);
    }

    [Fact]
    public async Task RecordAsync_AfterACommittedBackup_NamesTheLastSnapshot()
    {
        await File.WriteAllTextAsync(Path.Combine(_box.Home, "notes.txt"), "remember the milk\n");
        _box.Backups.MarkReady();
        var outcome = await _box.Backups.RunAsync(SpotDevBox.Agent.BackupKind.Final, "stop", null, CancellationToken.None);

        await _box.Sessions.RecordAsync(CancellationToken.None);

        var record = await ReadAsync(Assert.Single(_box.FilesUnder("sessions")));
        Assert.Equal(outcome.SnapshotId, record.LastSnapshotId);
        Assert.False(record.LastSnapshotPartial);
    }

    public void Dispose() => _box.Dispose();

    private static async Task<SessionRecord> ReadAsync(string file) =>
        JsonSerializer.Deserialize(await File.ReadAllBytesAsync(file), BoxJson.Default.SessionRecord)!;
}
