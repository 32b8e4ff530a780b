using SpotDevBox.Agent;
using SpotDevBox.Backup.FileSystem;
using SpotDevBox.Core.Agent;

namespace SpotDevBox.Tests.Agent;

/// <summary>
/// The agent's backup queue in-process against a box that is a local directory. A running backup is
/// held at the lstat of the home directory by <see cref="GatedFileSystem"/>, so "while another runs"
/// is a fact the test arranges, not a race it hopes to win.
/// </summary>
public sealed class AgentBackupsTests : IDisposable
{
    private readonly AgentParts _box = new();

    public AgentBackupsTests()
    {
        File.WriteAllText(Path.Combine(_box.Home, "notes.txt"), "remember the milk\n");
    }

    [Theory]
    [InlineData("Periodic")]
    [InlineData("Rebalance")]
    [InlineData("Final")]
    public async Task RunAsync_BeforeMarkReady_SkippedAndNothingWritten(string kindName)
    {
        var kind = Enum.Parse<BackupKind>(kindName);
        var outcome = await _box.Backups.RunAsync(kind, "test", null, CancellationToken.None);

        Assert.Equal(BackupOutcome.Skipped(kind, "the start-up restore has not completed"), outcome);
        Assert.Empty(Directory.GetFileSystemEntries(_box.BoxDirectory));
        Assert.Null(_box.Board.Current.LastSnapshotId);
        Assert.Equal(AgentState.Starting, _box.Board.Current.State);
    }

    [Fact]
    public async Task RunAsync_InterruptionBeforeMarkReady_WaitsForTheRestoreThenCommits()
    {
        var run = _box.Backups.RunAsync(BackupKind.Interruption, "notice during the restore", null, CancellationToken.None);
        await Task.Delay(200);
        Assert.False(run.IsCompleted);
        Assert.Empty(Directory.GetFileSystemEntries(_box.BoxDirectory));

        _box.Backups.MarkReady();
        var outcome = await run.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(outcome.Committed, outcome.Error);
        var snapshot = Assert.Single(await _box.SnapshotsAsync());
        Assert.Equal(["agent", "interruption"], snapshot.Manifest.Tags);
    }

    [Fact]
    public async Task RunAsync_AfterMarkReady_CommitsSnapshotTaggedWithItsKind()
    {
        _box.Backups.MarkReady();

        var outcome = await _box.Backups.RunAsync(BackupKind.Periodic, "test", null, CancellationToken.None);

        Assert.True(outcome.Committed, outcome.Error);
        Assert.False(outcome.Partial);
        Assert.Equal(_box.Time.GetUtcNow(), outcome.DurableAt);
        var snapshot = Assert.Single(await _box.SnapshotsAsync());
        Assert.Equal(outcome.SnapshotId, snapshot.Id);
        Assert.Equal(["agent", "periodic"], snapshot.Manifest.Tags);
        Assert.Equal("alice", snapshot.Manifest.Hostname);
        Assert.Equal(outcome.SnapshotId, _box.Board.Current.LastSnapshotId);
    }

    [Fact]
    public async Task RunAsync_Committed_StatusCarriesTheBackupsDurationAndBytesUploaded()
    {
        _box.Backups.MarkReady();
        Assert.Equal((null, null), (_box.Board.Current.LastBackupSeconds, _box.Board.Current.LastBackupBytesUploaded));

        var outcome = await _box.Backups.RunAsync(BackupKind.Periodic, "test", null, CancellationToken.None);

        Assert.True(outcome.Committed, outcome.Error);
        var snapshot = Assert.Single(await _box.SnapshotsAsync());
        // Fake time stands still while the backup runs: 0 s.
        Assert.Equal(0d, _box.Board.Current.LastBackupSeconds);
        Assert.True(snapshot.Manifest.Summary!.BytesUploaded > 0);
        Assert.Equal(snapshot.Manifest.Summary.BytesUploaded, _box.Board.Current.LastBackupBytesUploaded);
    }

    [Fact]
    public async Task RunAsync_PeriodicWhileAnotherRuns_SkippedNamingTheRunningKind()
    {
        var gate = Gate();
        _box.Backups.MarkReady();
        var first = Task.Run(() => _box.Backups.RunAsync(BackupKind.Periodic, "first", null, CancellationToken.None));
        await gate.Reached.WaitAsync(TimeSpan.FromSeconds(10));

        var second = await _box.Backups.RunAsync(BackupKind.Periodic, "second", null, CancellationToken.None);
        var retention = await _box.Backups.RunAsync(BackupKind.Retention, "retention", null, CancellationToken.None);
        gate.Open();
        var firstOutcome = await first.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(BackupOutcome.Skipped(BackupKind.Periodic, "a Periodic backup is running"), second);
        Assert.Equal(BackupOutcome.Skipped(BackupKind.Retention, "a Periodic backup is running"), retention);
        Assert.True(firstOutcome.Committed, firstOutcome.Error);
        Assert.Equal(firstOutcome.SnapshotId, Assert.Single(await _box.SnapshotsAsync()).Id);
    }

    [Theory]
    [InlineData("Interruption", "interruption")]
    [InlineData("Final", "final")]
    public async Task RunAsync_UrgentWhilePeriodicRuns_CancelsItAndCommitsItsOwnSnapshot(string urgentKindName, string tag)
    {
        var urgentKind = Enum.Parse<BackupKind>(urgentKindName);
        var gate = Gate();
        _box.Backups.MarkReady();
        var periodic = Task.Run(() => _box.Backups.RunAsync(BackupKind.Periodic, "periodic", null, CancellationToken.None));
        await gate.Reached.WaitAsync(TimeSpan.FromSeconds(10));

        // The urgent call cancels the periodic backup before its first await, so the gate opens on a cancelled run.
        var urgent = _box.Backups.RunAsync(urgentKind, "urgent", _box.Time.GetUtcNow().AddMinutes(2), CancellationToken.None);
        Assert.False(urgent.IsCompleted);
        gate.Open();
        var periodicOutcome = await periodic.WaitAsync(TimeSpan.FromSeconds(10));
        var urgentOutcome = await urgent.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(BackupOutcome.Skipped(BackupKind.Periodic, "stopped to make way for an urgent backup"), periodicOutcome);
        Assert.True(urgentOutcome.Committed, urgentOutcome.Error);
        Assert.Equal(urgentKind, urgentOutcome.Kind);
        var snapshot = Assert.Single(await _box.SnapshotsAsync());
        Assert.Equal(urgentOutcome.SnapshotId, snapshot.Id);
        Assert.Equal(["agent", tag], snapshot.Manifest.Tags);
        Assert.Equal(urgentOutcome.SnapshotId, _box.Board.Current.LastSnapshotId);
        Assert.Contains(_box.Loggers.Entries, e => e.EventId == 3004);
        Assert.Contains(_box.Loggers.Entries, e => e.EventId == 3005);
    }

    [Fact]
    public async Task RunAsync_WhileRunning_SelfActivityBusyAndStateBackingUp()
    {
        var gate = Gate();
        _box.Backups.MarkReady();
        _box.Board.SetState(AgentState.Running);
        var before = _box.Time.GetUtcNow();
        _box.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.False(_box.Self.WasBusy(before, before));

        var run = Task.Run(() => _box.Backups.RunAsync(BackupKind.Periodic, "periodic", null, CancellationToken.None));
        await gate.Reached.WaitAsync(TimeSpan.FromSeconds(10));
        var during = _box.Time.GetUtcNow();
        var busyDuring = _box.Self.WasBusy(during, during);
        var stateDuring = _box.Board.Current.State;
        var runningDuring = _box.Backups.IsRunning;
        gate.Open();
        var outcome = await run.WaitAsync(TimeSpan.FromSeconds(10));
        _box.Time.Advance(TimeSpan.FromMinutes(1));
        var after = _box.Time.GetUtcNow();

        Assert.True(busyDuring);
        Assert.Equal(AgentState.BackingUp, stateDuring);
        Assert.True(runningDuring);
        Assert.True(outcome.Committed, outcome.Error);
        Assert.False(_box.Self.WasBusy(after, after));
        Assert.False(_box.Backups.IsRunning);
        Assert.Equal(AgentState.Running, _box.Board.Current.State);
    }

    public void Dispose() => _box.Dispose();

    private GatedFileSystem Gate()
    {
        var gate = new GatedFileSystem(_box.FileSystem, _box.Home);
        _box.FileSystem = gate;
        return gate;
    }
}
