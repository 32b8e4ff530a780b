using Microsoft.Extensions.Logging.Abstractions;
using Moq;
using SpotDevBox.Agent;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Idle;
using SpotDevBox.Core.Interruption;
using TestSupport;

namespace SpotDevBox.Tests.Agent;

/// <summary>The start-up restore on a fresh box, then the agent's own backups, in-process against a box that is a local directory.</summary>
public sealed class BootRestoreTests : IDisposable
{
    private readonly AgentParts _box = new();

    [Fact]
    public async Task StartAsync_FreshBox_FirstPeriodicBackupUploadsNothing()
    {
        // An earlier box backed the home up (hard links included), then this box starts with an empty
        // home and an empty cache: every restored file has a new inode and ctime.
        new TreeGenerator(31) { Files = 300, LargeFiles = 1, LargeFileSize = 512 * 1024 }.Generate(_box.Home);
        _box.Backups.MarkReady();
        var earlier = await _box.Backups.RunAsync(BackupKind.Periodic, "the earlier box", null, CancellationToken.None);
        Assert.True(earlier.Committed, earlier.Error);
        var original = _box.Home + "-earlier-box";
        Directory.Move(_box.Home, original);
        Directory.CreateDirectory(_box.Home);
        Directory.Delete(_box.EngineOptions.ResolveCacheDirectory(), recursive: true);

        await BootRestore().StartAsync(CancellationToken.None);
        Assert.Empty(TreeComparer.Compare(original, _box.Home));
        var first = await _box.Backups.RunAsync(BackupKind.Periodic, "the first periodic backup", null, CancellationToken.None);

        Assert.True(first.Committed, first.Error);
        var snapshots = await _box.SnapshotsAsync();
        var (before, after) = (snapshots.Single(s => s.Id == earlier.SnapshotId), snapshots.Single(s => s.Id == first.SnapshotId));
        Assert.Equal(0, after.Manifest.Summary!.BytesRead);
        Assert.Equal(0, after.Manifest.Summary.BytesUploaded);
        Assert.Equal(before.Manifest.Tree, after.Manifest.Tree);
    }

    private const int RollbackRefusedEventId = 3119;
    private const int RollbackAllowedEventId = 3120;

    [Fact]
    public async Task StartAsync_NewestSnapshotDeletedBelowTheFloor_RefusesRestoresNothingAndKeepsBackupsOff()
    {
        var (older, newer) = await TwoSnapshotsThenRollBackAsync();
        _box.Options.MinimumSnapshot.Id = newer.Id;
        _box.Options.MinimumSnapshot.Time = newer.Manifest.Time;

        await BootRestore().StartAsync(CancellationToken.None);

        Assert.Empty(Directory.EnumerateFileSystemEntries(_box.Home));
        Assert.False(_box.Backups.IsReady);
        var status = _box.Board.Current;
        Assert.Equal(AgentState.RestoreFailed, status.State);
        Assert.StartsWith($"the repository looks rolled back: its latest snapshot, {older.ShortId} of 2025-06-02 10:00:00 UTC, is older than snapshot {newer.ShortId} of 2025-06-02 11:00:00 UTC", status.Notice, StringComparison.Ordinal);
        var refused = Assert.Single(_box.Loggers.Entries, e => e.EventId == RollbackRefusedEventId);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Error, refused.Level);
        Assert.Contains("spotdevbox up alice --allow-rollback", refused.Message, StringComparison.Ordinal);
        Assert.StartsWith("spotdevbox did NOT restore your work: the repository looks rolled back", File.ReadAllText(Path.Combine(_box.Options.RunDirectory, "restore-refused")), StringComparison.Ordinal);
        // No marker: an agent restart on this instance refuses again rather than taking the empty home as restored.
        Assert.False(File.Exists(Path.Combine(_box.Options.StateDirectory, "restored.json")));
        var periodic = await _box.Backups.RunAsync(BackupKind.Periodic, "the first periodic backup", null, CancellationToken.None);
        Assert.False(periodic.Committed);
        Assert.Single(await _box.SnapshotsAsync());
    }

    [Fact]
    public async Task FinalBackupAsync_AfterARefusedRestore_LetsTheIdleStopPowerOffAndKeepsTheStatusSayingWhy()
    {
        var (_, newer) = await TwoSnapshotsThenRollBackAsync();
        _box.Options.MinimumSnapshot.Id = newer.Id;
        _box.Options.MinimumSnapshot.Time = newer.Manifest.Time;
        await BootRestore().StartAsync(CancellationToken.None);
        var stop = new AgentStopActions(
            _box.Notifier, _box.Backups, _box.Board, _box.Sessions, Microsoft.Extensions.Options.Options.Create(_box.Options), _box.Loggers.CreateLogger<AgentStopActions>());

        var mayPowerOff = await stop.FinalBackupAsync(StopReason.Idle, CancellationToken.None);

        Assert.True(mayPowerOff);
        Assert.Equal(AgentState.RestoreFailed, _box.Board.Current.State);
        Assert.Single(await _box.SnapshotsAsync());
    }

    [Fact]
    public async Task StartAsync_BelowTheFloorWithAllowRollback_RestoresTheOlderSnapshotAndWarns()
    {
        var (older, newer) = await TwoSnapshotsThenRollBackAsync();
        _box.Options.MinimumSnapshot.Id = newer.Id;
        _box.Options.MinimumSnapshot.Time = newer.Manifest.Time;
        _box.Options.AllowRollback = true;

        await BootRestore().StartAsync(CancellationToken.None);

        Assert.Equal("first\n", File.ReadAllText(Path.Combine(_box.Home, "notes.txt")));
        Assert.True(_box.Backups.IsReady);
        Assert.Equal(older.Id, _box.Board.Current.LastSnapshotId);
        var allowed = Assert.Single(_box.Loggers.Entries, e => e.EventId == RollbackAllowedEventId);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, allowed.Level);
        Assert.DoesNotContain(_box.Loggers.Entries, e => e.EventId == RollbackRefusedEventId);
    }

    [Fact]
    public async Task StartAsync_LatestSnapshotIsTheFloor_RestoresAsWithoutOne()
    {
        var snapshots = await EarlierBoxAsync("first\n", "the newest\n");
        _box.Options.MinimumSnapshot.Id = snapshots[1].Id;
        _box.Options.MinimumSnapshot.Time = snapshots[1].Manifest.Time;

        await BootRestore().StartAsync(CancellationToken.None);

        Assert.Equal("the newest\n", File.ReadAllText(Path.Combine(_box.Home, "notes.txt")));
        Assert.True(_box.Backups.IsReady);
        Assert.DoesNotContain(_box.Loggers.Entries, e => e.EventId is RollbackRefusedEventId or RollbackAllowedEventId);
    }

    private const int RepositoryUnreadableEventId = 3121;

    /// <summary>
    /// A box whose repository was made newer than this build reads (spotdevbox migrate run by a newer client, or any
    /// later format): thrown on, systemd would restart the agent into the same refusal every 30 s.
    /// </summary>
    [Fact]
    public async Task StartAsync_RepositoryOfANewerFormat_StaysUpRestoresNothingAndKeepsBackupsOff()
    {
        await EarlierBoxAsync("first\n");
        var configPath = Path.Combine(_box.RepositoryDirectory, "config");
        File.WriteAllText(configPath, File.ReadAllText(configPath).Replace("\"version\":3,", "\"version\":99,", StringComparison.Ordinal));

        await BootRestore().StartAsync(CancellationToken.None);

        Assert.Empty(Directory.EnumerateFileSystemEntries(_box.Home));
        Assert.False(_box.Backups.IsReady);
        Assert.Equal(AgentState.RestoreFailed, _box.Board.Current.State);
        Assert.Contains("repository format version 99 is not supported by this build", _box.Board.Current.Notice, StringComparison.Ordinal);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Error, Assert.Single(_box.Loggers.Entries, e => e.EventId == RepositoryUnreadableEventId).Level);
        Assert.StartsWith("spotdevbox did NOT restore your work: repository format version 99", File.ReadAllText(Path.Combine(_box.Options.RunDirectory, "restore-refused")), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_box.Options.StateDirectory, "restored.json")));
        var periodic = await _box.Backups.RunAsync(BackupKind.Periodic, "the first periodic backup", null, CancellationToken.None);
        Assert.False(periodic.Committed);
    }

    [Fact]
    public async Task StartAsync_EmptyRepositoryWithAFloor_Refused()
    {
        _box.Options.MinimumSnapshot.Id = new string('a', 64);
        _box.Options.MinimumSnapshot.Time = new DateTimeOffset(2025, 6, 1, 9, 0, 0, TimeSpan.Zero);

        await BootRestore().StartAsync(CancellationToken.None);

        Assert.Equal(AgentState.RestoreFailed, _box.Board.Current.State);
        Assert.Contains("the repository holds no snapshot, but this box reported snapshot aaaaaaaa of 2025-06-01 09:00:00 UTC", _box.Board.Current.Notice, StringComparison.Ordinal);
        Assert.False(_box.Backups.IsReady);
    }

    /// <summary>Two snapshots an hour apart (10:00 "first", 11:00 "second"), then the newer one's object deleted, as whoever can write the prefix could.</summary>
    private async Task<(Backup.Repository.SnapshotRef Older, Backup.Repository.SnapshotRef Newer)> TwoSnapshotsThenRollBackAsync()
    {
        var snapshots = await EarlierBoxAsync("first\n", "second\n");
        File.Delete(Path.Combine(_box.RepositoryDirectory, Backup.Repository.BackupRepository.SnapshotPrefix, snapshots[1].Id));
        Assert.Single(await _box.SnapshotsAsync());
        return (snapshots[0], snapshots[1]);
    }

    /// <summary>
    /// An earlier instance of the box (its own agent parts, the same place and home) backs up each of
    /// <paramref name="contents"/> as notes.txt, an hour apart from 10:00 UTC; then the home is emptied, as on a fresh
    /// instance. Returns the snapshots, oldest first.
    /// </summary>
    private async Task<IReadOnlyList<Backup.Repository.SnapshotRef>> EarlierBoxAsync(params string[] contents)
    {
        using (var earlier = new AgentParts())
        {
            earlier.Options.Box = _box.Options.Box;
            earlier.Options.Paths.Clear();
            earlier.Options.Paths.Add(_box.Home);
            earlier.Backups.MarkReady();
            foreach (var text in contents)
            {
                File.WriteAllText(Path.Combine(_box.Home, "notes.txt"), text);
                earlier.Time.Advance(TimeSpan.FromHours(1));
                var backup = await earlier.Backups.RunAsync(BackupKind.Periodic, "the earlier box", null, CancellationToken.None);
                Assert.True(backup.Committed, backup.Error);
            }
        }

        Directory.Delete(_box.Home, recursive: true);
        Directory.CreateDirectory(_box.Home);
        return [.. (await _box.SnapshotsAsync()).OrderBy(s => s.Manifest.Time)];
    }

    private BootRestore BootRestore()
    {
        var metadata = new Mock<IMetadataClient>();
        metadata.Setup(m => m.GetIdentityAsync(It.IsAny<CancellationToken>()))
            .ReturnsAsync(new MetadataReading<InstanceIdentity>.Unknown("not on EC2"));
        var planner = new StopPlanner(
            new IdleMonitor([], _box.Time, NullLogger<IdleMonitor>.Instance),
            Mock.Of<IStopActions>(),
            Microsoft.Extensions.Options.Options.Create(new IdleOptions()),
            _box.Time,
            NullLogger<StopPlanner>.Instance);
        return new BootRestore(
            metadata.Object, _box.Storage, _box.Backups, _box.Board, _box.FileSystem, Microsoft.Extensions.Options.Options.Create(_box.Options), planner, _box.Time, _box.Loggers);
    }

    public void Dispose() => _box.Dispose();
}
