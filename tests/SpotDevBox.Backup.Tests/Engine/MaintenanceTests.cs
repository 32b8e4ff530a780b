using Microsoft.Extensions.Time.Testing;
using SpotDevBox.Backup.Engine;
using SpotDevBox.Backup.Format;
using SpotDevBox.Backup.Repository;
using TestSupport;

namespace SpotDevBox.Backup.Tests.Engine;

public sealed class MaintenanceTests : IDisposable
{
    private readonly TempDir _temp = new();

    private static long StoredBytes(string repo, string folder) =>
        Directory.Exists(Path.Combine(repo, folder)) ? Directory.GetFiles(Path.Combine(repo, folder), "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length) : 0;

    [Fact]
    public async Task ForgetWithPrune_OldSnapshotsData_IsDeletedAndRemainingSnapshotRestores()
    {
        var source = _temp.Sub("src");
        var repo = _temp.Sub("repo");
        new TreeGenerator(21) { Files = 50, LargeFiles = 2, LargeFileSize = 2 * 1024 * 1024 }.Generate(source);
        using var harness = await EngineHarness.LocalAsync(repo);
        await harness.BackupAsync(source);
        var afterFirst = StoredBytes(repo, "data");

        // Replace the large files entirely: their old data is only referenced by the first snapshot.
        foreach (var f in Directory.GetFiles(source, "large-*.bin"))
        {
            await File.WriteAllBytesAsync(f, System.Security.Cryptography.RandomNumberGenerator.GetBytes(2 * 1024 * 1024));
        }

        await harness.BackupAsync(source);
        var maintenance = await harness.MaintenanceAsync();
        var forget = await maintenance.ForgetAsync(new RetentionPolicy(1, 0, 0), dryRun: false, CancellationToken.None);
        var prune = await (await harness.MaintenanceAsync()).PruneAsync(dryRun: false, CancellationToken.None);

        Assert.Equal(1, forget.Removed);
        Assert.True(prune.PacksDeleted + prune.PacksRepacked > 0);
        // 4 MiB became garbage; prune may leave garbage below 20% of a 4 MiB pack in a pack it keeps whole.
        Assert.True(prune.BytesFreed >= 4 * 1024 * 1024 * 0.8, $"freed {prune.BytesFreed}");
        Assert.True(StoredBytes(repo, "data") < afterFirst + (1024 * 1024), "the old large files' data is gone");
        var check = await harness.CheckAsync(readData: true);
        Assert.True(check.Ok, string.Join("\n", check.Errors));
        Assert.Empty(check.Warnings);
        await harness.RestoreAsync(_temp.Sub("out"));
        Assert.Empty(TreeComparer.Compare(source, _temp.Sub("out/src")));
    }

    [Fact]
    public async Task Prune_ManyHalfEmptyPacks_RepacksAllWithItsFewBuffers()
    {
        var source = _temp.Sub("src");
        Directory.CreateDirectory(source);
        for (var i = 0; i < 14; i++)
        {
            await File.WriteAllBytesAsync(Path.Combine(source, $"f{i:00}.bin"), System.Security.Cryptography.RandomNumberGenerator.GetBytes(1536 * 1024));
        }

        using var harness = await EngineHarness.LocalAsync(_temp.Sub("repo"));
        await harness.BackupAsync(source);
        for (var i = 0; i < 14; i += 2)
        {
            File.Delete(Path.Combine(source, $"f{i:00}.bin"));
        }

        await harness.BackupAsync(source);
        await (await harness.MaintenanceAsync()).ForgetAsync(new RetentionPolicy(1, 0, 0), dryRun: false, CancellationToken.None);

        // More packs to rewrite than prune keeps buffers for: it must recycle them, not wait forever.
        var prune = await (await harness.MaintenanceAsync()).PruneAsync(dryRun: false, CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(2));

        Assert.True(prune.PacksRepacked > 3, $"repacked {prune.PacksRepacked}");
        Assert.True((await harness.CheckAsync(readData: true)).Ok);
        await harness.RestoreAsync(_temp.Sub("out"));
        Assert.Empty(TreeComparer.Compare(source, _temp.Sub("out/src")));
    }

    [Fact]
    public async Task Prune_DryRun_ChangesNothing()
    {
        var source = _temp.Sub("src");
        var repo = _temp.Sub("repo");
        new TreeGenerator(22) { Files = 30, LargeFiles = 1 }.Generate(source);
        using var harness = await EngineHarness.LocalAsync(repo);
        await harness.BackupAsync(source);
        await File.WriteAllTextAsync(Path.Combine(source, "large-0.bin"), "small now");
        await harness.BackupAsync(source);
        await (await harness.MaintenanceAsync()).ForgetAsync(new RetentionPolicy(1, 0, 0), dryRun: false, CancellationToken.None);
        var before = Directory.GetFiles(repo, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();

        var prune = await (await harness.MaintenanceAsync()).PruneAsync(dryRun: true, CancellationToken.None);

        Assert.True(prune.BytesFreed > 0);
        Assert.Equal(before, Directory.GetFiles(repo, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray());
    }

    [Fact]
    public async Task Prune_WhileABackupHoldsItsLock_RefusesAndDeletesNothing()
    {
        var source = _temp.Sub("src");
        var repo = _temp.Sub("repo");
        new TreeGenerator(23) { Files = 20, LargeFiles = 1 }.Generate(source);
        using var harness = await EngineHarness.LocalAsync(repo);
        await harness.BackupAsync(source);
        await using var backupLock = await RepositoryLock.AcquireAsync(await harness.OpenAsync(), exclusive: false, "backup", CancellationToken.None);
        var before = Directory.GetFiles(repo, "*", SearchOption.AllDirectories).Length;

        var e = await Assert.ThrowsAsync<RepositoryException>(async () => await (await harness.MaintenanceAsync()).PruneAsync(false, CancellationToken.None));

        Assert.Contains("locked by 'backup'", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, Directory.GetFiles(repo, "*", SearchOption.AllDirectories).Length);
    }

    [Fact]
    public async Task Backup_WhilePruneHoldsExclusiveLock_Refuses()
    {
        var source = _temp.Sub("src");
        Directory.CreateDirectory(source);
        using var harness = await EngineHarness.LocalAsync(_temp.Sub("repo"));
        await using var pruneLock = await RepositoryLock.AcquireAsync(await harness.OpenAsync(), exclusive: true, "prune", CancellationToken.None);

        var e = await Assert.ThrowsAsync<RepositoryException>(() => harness.BackupAsync(source));

        Assert.Contains("locked by 'prune'", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_temp.Sub("repo/snapshots")));
    }

    [Fact]
    public async Task Backup_TwoAtOnce_BothSucceedWithSharedLocks()
    {
        var a = _temp.Sub("a");
        var b = _temp.Sub("b");
        new TreeGenerator(24) { Files = 60, LargeFiles = 1 }.Generate(a);
        new TreeGenerator(25) { Files = 60, LargeFiles = 1 }.Generate(b);
        using var harness = await EngineHarness.LocalAsync(_temp.Sub("repo"));

        await Task.WhenAll(harness.BackupAsync(a), harness.BackupAsync(b));

        Assert.Equal(2, Directory.GetFiles(_temp.Sub("repo/snapshots")).Length);
        Assert.Empty(Directory.GetFiles(_temp.Sub("repo/locks")));
        Assert.True((await harness.CheckAsync(readData: true)).Ok);
    }

    [Fact]
    public async Task Check_TemporaryFilesOfKilledWrites_WarnsWithCountAndBytesAndStaysOk()
    {
        var source = _temp.Sub("src");
        new TreeGenerator(31) { Files = 20, LargeFiles = 1 }.Generate(source);
        var repo = _temp.Sub("repo");
        using var harness = await EngineHarness.LocalAsync(repo);
        await harness.BackupAsync(source);
        PlantTemporaryFile(repo, "ab", 3_000_000, TimeSpan.FromHours(2));
        PlantTemporaryFile(repo, "cd", 2_500_000, TimeSpan.FromMinutes(1));

        var check = await harness.CheckAsync();

        Assert.True(check.Ok, string.Join("\n", check.Errors));
        var warning = Assert.Single(check.Warnings);
        Assert.StartsWith("unfinished temporary files: 2 (5500000 bytes)", warning, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prune_TemporaryFilesOfKilledWrites_RemovesThoseOlderThanStaleLockAfterKeepsYoungerOnes()
    {
        var source = _temp.Sub("src");
        new TreeGenerator(32) { Files = 20, LargeFiles = 1 }.Generate(source);
        var repo = _temp.Sub("repo");
        using var harness = await EngineHarness.LocalAsync(repo);
        await harness.BackupAsync(source);
        var old = PlantTemporaryFile(repo, "ab", 3_000_000, TimeSpan.FromMinutes(31));
        var young = PlantTemporaryFile(repo, "cd", 2_500_000, TimeSpan.FromMinutes(29));

        var dryRun = await (await harness.MaintenanceAsync()).PruneAsync(dryRun: true, CancellationToken.None);
        Assert.True(File.Exists(old));
        var prune = await (await harness.MaintenanceAsync()).PruneAsync(dryRun: false, CancellationToken.None);

        Assert.Equal((1, 3_000_000L, 1), (dryRun.TemporaryFilesRemoved, dryRun.TemporaryBytesRemoved, dryRun.TemporaryFilesKept));
        Assert.Equal((1, 3_000_000L, 1), (prune.TemporaryFilesRemoved, prune.TemporaryBytesRemoved, prune.TemporaryFilesKept));
        Assert.False(File.Exists(old));
        Assert.True(File.Exists(young));
        var check = await harness.CheckAsync(readData: true);
        Assert.True(check.Ok, string.Join("\n", check.Errors));
        Assert.StartsWith("unfinished temporary files: 1 (2500000 bytes)", Assert.Single(check.Warnings), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prune_ThisMachinesClockHoursAheadOfTheFileSystems_KeepsATemporaryFileJustWritten()
    {
        var source = _temp.Sub("src");
        new TreeGenerator(33) { Files = 5 }.Generate(source);
        var repo = _temp.Sub("repo");
        using var harness = await EngineHarness.LocalAsync(repo);
        await harness.BackupAsync(source);
        var running = PlantTemporaryFile(repo, "ab", 1_000, TimeSpan.Zero);
        // A repository on a file server whose clock is behind this machine's by more than StaleLockAfter: a
        // running writer's file must not look abandoned.
        var ahead = new FakeTimeProvider(TimeProvider.System.GetUtcNow() + TimeSpan.FromHours(3));

        var prune = await (await harness.MaintenanceAsync(ahead)).PruneAsync(dryRun: false, CancellationToken.None);

        Assert.Equal((0, 1), (prune.TemporaryFilesRemoved, prune.TemporaryFilesKept));
        Assert.True(File.Exists(running));
        Assert.Empty(Directory.GetFiles(repo, ".clock-probe-*"));
    }

    /// <summary>
    /// Two backups that raced both stored blob A: pack P0 holds A alone, pack P1 holds A and a blob G that no snapshot
    /// uses, and the index points A at P1. Prune deletes P0 (no indexed blob of its own) and repacks P1, whose used part
    /// is A alone: the new pack's bytes are P0's, so it gets P0's name. Deleting P0 afterwards would delete the pack it
    /// just wrote, and A with it.
    /// </summary>
    [Fact]
    public async Task Prune_RepackedPackIsByteIdenticalToAPackItDeletes_KeepsTheNameItWrote()
    {
        var source = _temp.Sub("src");
        Directory.CreateDirectory(source);
        var original = System.Security.Cryptography.RandomNumberGenerator.GetBytes(200 * 1024);
        await File.WriteAllBytesAsync(Path.Combine(source, "a.bin"), original);
        var repo = _temp.Sub("repo");
        using var harness = await EngineHarness.LocalAsync(repo, encrypted: false);
        await harness.BackupAsync(source);

        var repository = await harness.OpenAsync();
        await repository.LoadIndexAsync(CancellationToken.None);
        var packs = new List<IndexPack>();
        foreach (var (packId, size) in repository.Index.Packs)
        {
            var bytes = await repository.Store.GetAsync(Pack.Key(packId), CancellationToken.None);
            packs.Add(new IndexPack(packId, size, Pack.ReadHeaderFromPack(bytes)));
        }

        var p0 = Assert.Single(packs, p => p.Blobs.All(b => b.Type == BlobType.Data));
        var a = Assert.Single(p0.Blobs);
        var p0Bytes = await repository.Store.GetAsync(Pack.Key(p0.Id), CancellationToken.None);
        var (garbage, garbageKind) = Compression.Compress(System.Security.Cryptography.RandomNumberGenerator.GetBytes(200 * 1024), 3);
        var body = new List<byte>(p0Bytes.AsSpan((int)a.Offset, a.StoredLength).ToArray());
        var p1Entries = new List<PackEntry>
        {
            a with { Offset = 0 },
            new(BlobId.Compute(garbage), BlobType.Data, garbageKind, a.StoredLength, garbage.Length, 200 * 1024),
        };
        body.AddRange(garbage);
        body.AddRange(Pack.WriteHeader(p1Entries));
        var p1Bytes = body.ToArray();
        var p1 = new IndexPack(await repository.SavePackAsync(p1Bytes, BlobType.Data, CancellationToken.None), p1Bytes.Length, p1Entries);

        // One index listing P1 before P0, so the index points A at P1.
        var oldIndexes = Directory.GetFiles(Path.Combine(repo, "index")).Select(f => "index/" + Path.GetFileName(f)).ToList();
        await repository.SaveIndexAsync([p1, .. packs], CancellationToken.None);
        await repository.Store.DeleteAsync(oldIndexes, CancellationToken.None);

        var prune = await (await harness.MaintenanceAsync()).PruneAsync(dryRun: false, CancellationToken.None);

        Assert.True(prune.PacksRepacked >= 1, $"repacked {prune.PacksRepacked}");
        Assert.True(File.Exists(Path.Combine(repo, Pack.Key(p0.Id))), "the pack prune rewrote under P0's name is still there");
        var check = await harness.CheckAsync(readData: true);
        Assert.True(check.Ok, string.Join("\n", check.Errors));
        await harness.RestoreAsync(_temp.Sub("out"));
        Assert.Equal(original, await File.ReadAllBytesAsync(Path.Combine(_temp.Sub("out"), "src", "a.bin")));
    }

    /// <summary>A temporary file as the local-directory store leaves it when its writer is killed between create and rename.</summary>
    private static string PlantTemporaryFile(string repo, string prefix, int length, TimeSpan age)
    {
        var directory = Path.Combine(repo, "data", prefix);
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, prefix + new string('0', 62) + ".1a2b3c4d.tmp-spotdevbox");
        File.WriteAllBytes(path, new byte[length]);
        // Aged on the file system's clock (the time it just stamped), which is the one prune compares with.
        File.SetLastWriteTimeUtc(path, File.GetLastWriteTimeUtc(path) - age);
        return path;
    }

    public void Dispose() => _temp.Dispose();
}
