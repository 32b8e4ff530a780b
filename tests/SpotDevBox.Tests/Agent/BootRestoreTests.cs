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
