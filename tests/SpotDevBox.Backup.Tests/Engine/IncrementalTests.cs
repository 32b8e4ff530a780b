using System.Security.Cryptography;
using SpotDevBox.Backup.Engine;
using TestSupport;
using Xunit.Abstractions;

namespace SpotDevBox.Backup.Tests.Engine;

/// <summary>Only what changed travels, and a restore on the same machine makes the next backup incremental too.</summary>
public sealed class IncrementalTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDir _temp = new();

    [Fact]
    public async Task Backup_OneByteChangedInMiddleOf100MiBFile_UploadsAtMostAFewChunks()
    {
        var source = _temp.Sub("src");
        Directory.CreateDirectory(source);
        var big = Path.Combine(source, "big.bin");
        var bytes = RandomNumberGenerator.GetBytes(100 * 1024 * 1024);
        await File.WriteAllBytesAsync(big, bytes);
        using var harness = await EngineHarness.LocalAsync(_temp.Sub("repo"));
        await harness.BackupAsync(source);

        bytes[50 * 1024 * 1024] ^= 0xFF;
        await File.WriteAllBytesAsync(big, bytes);
        var (_, progress) = await harness.BackupAsync(source);

        // The whole file is read (its mtime changed), but content-defined chunking keeps every chunk
        // except the one or two around the edit: at most two chunks of at most 4 MiB each, plus trees.
        Assert.Equal(bytes.Length, progress.BytesRead);
        Assert.Equal(1, progress.FilesChanged);
        Assert.InRange(progress.BytesAdded, 1, 2 * 4 * 1024 * 1024);
        Assert.InRange(progress.BytesUploaded, 1, (2 * 4 * 1024 * 1024) + (64 * 1024));
        var restoredDir = _temp.Sub("restored");
        await harness.RestoreAsync(restoredDir);
        var restored = await File.ReadAllBytesAsync(Path.Combine(restoredDir, "src", "big.bin"));
        Assert.Equal(SHA256.HashData(bytes), SHA256.HashData(restored));
    }

    [Fact]
    public async Task Backup_SmallFilesChanged_ReadsOnlyThoseFiles()
    {
        var source = _temp.Sub("src");
        new TreeGenerator(5) { Files = 400, LargeFiles = 1 }.Generate(source);
        using var harness = await EngineHarness.LocalAsync(_temp.Sub("repo"));
        await harness.BackupAsync(source);
        var files = Directory.GetFiles(source, "*", SearchOption.AllDirectories).Where(f => new FileInfo(f).LinkTarget is null && new FileInfo(f).Length < 100_000).Order(StringComparer.Ordinal).Take(4).ToArray();
        long changedBytes = 0;
        foreach (var f in files)
        {
            await File.AppendAllTextAsync(f, "// edited\n");
            changedBytes += new FileInfo(f).Length;
        }

        var (_, progress) = await harness.BackupAsync(source);

        // Hard links share an inode: appending through one path changes the other, so count by inode, not path.
        Assert.InRange(progress.FilesChanged, files.Length, files.Length + 2);
        Assert.InRange(progress.BytesRead, changedBytes, changedBytes + (64 * 1024));
        Assert.Equal(0, progress.FilesNew);
    }

    [Fact]
    public async Task Backup_AfterRestoreIntoAnotherDirectoryOnThisMachine_ReadsNothing()
    {
        // A fresh box: the work is restored to the same path it was backed up from, but every file has
        // a new inode and ctime. The restore's identity record must make the next backup incremental.
        var original = _temp.Sub("box1/home/work");
        new TreeGenerator(9) { Files = 250, LargeFiles = 2 }.Generate(original);
        using var harness = await EngineHarness.LocalAsync(_temp.Sub("repo"));
        var (first, firstProgress) = await harness.BackupAsync(original);

        // Move the original away and restore in its place, as the agent does on a new instance.
        Directory.Move(_temp.Sub("box1/home"), _temp.Sub("box1/old-home"));
        Directory.CreateDirectory(_temp.Sub("box1/home"));
        var restore = await harness.RestoreAsync(_temp.Sub("box1/home"), overwrite: true);
        Assert.Empty(restore.Errors);

        var (second, progress) = await harness.BackupAsync(original);

        Assert.True(firstProgress.BytesRead > 0);
        Assert.Equal(0, progress.BytesRead);
        Assert.Equal(firstProgress.Files, progress.FilesUnchanged);
        // Directories have new inodes and ctimes on the new box too, but trees do not hold them: nothing travels.
        Assert.Equal(0, progress.BytesAdded);
        Assert.Equal(0, progress.BytesUploaded);
        Assert.Equal(first.Manifest.Tree, second.Manifest.Tree);
        Assert.Empty(TreeComparer.Compare(_temp.Sub("box1/old-home/work"), original));
        Assert.NotEqual(first.SnapshotId, second.SnapshotId);
    }

    [Theory]
    [InlineData(3_000)]
    [InlineData(20_000)]
    public async Task Backup_RestoredTreeWithHardLinksOnFreshInodes_UploadsNothing(int files)
    {
        // A fresh box: the work (hard links included) lands in a new directory, so every entry has a new
        // inode, device number and ctime. Nothing changed, so the backup must cost nothing: no data blob,
        // no tree blob, the same root tree.
        var original = _temp.Sub("box1/work");
        new TreeGenerator(21) { Files = files, LargeFiles = 1, LargeFileSize = 1024 * 1024 }.Generate(original);
        using var harness = await EngineHarness.LocalAsync(_temp.Sub("repo"));
        var (first, _) = await harness.BackupAsync(original);
        var restore = await harness.RestoreAsync(_temp.Sub("box2"));
        Assert.Empty(restore.Errors);
        var restored = _temp.Sub("box2/work");
        Assert.Empty(TreeComparer.Compare(original, restored));

        var (second, progress) = await harness.BackupAsync(new BackupRequest { Paths = [restored], Parent = first.SnapshotId });

        output.WriteLine($"{files} files: first backup after the restore uploaded {progress.BytesUploaded} bytes in {progress.PacksUploaded} packs, read {progress.BytesRead} bytes");
        Assert.Equal(0, progress.BytesRead);
        Assert.Equal(0, progress.BytesUploaded);
        Assert.Equal(0, progress.PacksUploaded);
        Assert.Equal(first.Manifest.Tree, second.Manifest.Tree);
    }

    [Fact]
    public async Task Backup_FileReplacedWithSameSizeAndMtime_IsRead()
    {
        // What the ctime and inode protect against: another file put in place (an editor's save by
        // rename, a checkout) with the same size and mtime but other bytes.
        var source = _temp.Sub("src");
        Directory.CreateDirectory(source);
        var path = Path.Combine(source, "config.json");
        await File.WriteAllTextAsync(path, "{\"a\":1}");
        TreeGenerator.SetMtime(path, 1_700_000_000_000_000_000);
        await File.WriteAllTextAsync(Path.Combine(source, "other.txt"), "unchanged");
        using var harness = await EngineHarness.LocalAsync(_temp.Sub("repo"));
        await harness.BackupAsync(source);

        var replacement = Path.Combine(source, ".config.json.new");
        await File.WriteAllTextAsync(replacement, "{\"a\":2}");
        TreeGenerator.SetMtime(replacement, 1_700_000_000_000_000_000);
        File.Move(replacement, path, overwrite: true);
        var (_, progress) = await harness.BackupAsync(source);

        Assert.Equal(1, progress.FilesChanged);
        Assert.Equal(1, progress.FilesUnchanged);
        Assert.Equal(7, progress.BytesRead);
        await harness.RestoreAsync(_temp.Sub("restored"));
        Assert.Equal("{\"a\":2}", await File.ReadAllTextAsync(_temp.Sub("restored/src/config.json")));
    }

    [Fact]
    public async Task Backup_LocalCacheWiped_ReadsEverythingAgain()
    {
        // Another machine, or a wiped cache: the trees hold no identity, so every file is read (safe).
        var source = _temp.Sub("src");
        new TreeGenerator(17) { Files = 40, LargeFiles = 0 }.Generate(source);
        using var harness = await EngineHarness.LocalAsync(_temp.Sub("repo"));
        var (first, firstProgress) = await harness.BackupAsync(source);
        var repository = await harness.OpenAsync();
        Directory.Delete(repository.CacheDirectory, recursive: true);

        var (second, progress) = await harness.BackupAsync(source);

        Assert.Equal(firstProgress.BytesRead, progress.BytesRead);
        Assert.Equal(0, progress.BytesAdded);
        Assert.Equal(0, progress.BytesUploaded);
        Assert.Equal(first.Manifest.Tree, second.Manifest.Tree);
    }

    [Fact]
    public async Task BackupAndRestore_RepeatedManyTimes_IdentityRecordHoldsOneGenerationPerPath()
    {
        // The agent restores with an include list (the home's last component) into the home's parent,
        // then backs up every few minutes: the record must stay at one entry per file.
        var home = _temp.Sub("box/home");
        new TreeGenerator(19) { Files = 30, LargeFiles = 0 }.Generate(home);
        using var harness = await EngineHarness.LocalAsync(_temp.Sub("repo"));
        var repository = await harness.OpenAsync();
        for (var i = 0; i < 3; i++)
        {
            await harness.BackupAsync(home);
            var restore = await harness.RestoreAsync(_temp.Sub("box"), overwrite: true, includes: ["/home"]);
            Assert.Empty(restore.Errors);
            await File.AppendAllTextAsync(Path.Combine(home, $"new-{i}.txt"), "more\n");
            File.Delete(Directory.GetFiles(home, "*-f*", SearchOption.AllDirectories).Where(f => new FileInfo(f).LinkTarget is null).Order(StringComparer.Ordinal).First());
        }

        await harness.BackupAsync(home);

        var expected = Directory.GetFiles(home, "*", SearchOption.AllDirectories).Count(f => new FileInfo(f).LinkTarget is null);
        Assert.Equal(expected, FileIdentityCache.Load(repository.CacheDirectory).Count);
    }

    [Fact]
    public async Task Restore_OverwriteOntoTheIdenticalTree_ChangesNoCtimeAndTheNextBackupUploadsNothing()
    {
        // The agent restores the latest snapshot over a home that may already hold it: that must not
        // touch the files, or every tree would be stored again by the next backup.
        var home = _temp.Sub("box/home");
        new TreeGenerator(11) { Files = 150, LargeFiles = 1 }.Generate(home);
        using var harness = await EngineHarness.LocalAsync(_temp.Sub("repo"));
        var (first, _) = await harness.BackupAsync(home);
        var before = Directory.GetFileSystemEntries(home, "*", SearchOption.AllDirectories).Append(home)
            .ToDictionary(p => p, p => new SpotDevBox.Backup.FileSystem.UnixFileSystem().Lstat(p).CtimeNs, StringComparer.Ordinal);

        var restore = await harness.RestoreAsync(_temp.Sub("box"), first.SnapshotId, overwrite: true);
        var (next, progress) = await harness.BackupAsync(home);

        Assert.Empty(restore.Errors);
        var fs = new SpotDevBox.Backup.FileSystem.UnixFileSystem();
        Assert.All(before, e => Assert.Equal(e.Value, fs.Lstat(e.Key).CtimeNs));
        Assert.Equal(0, progress.BytesRead);
        Assert.Equal(0, progress.BytesUploaded);
        Assert.Equal(first.Manifest.Tree, next.Manifest.Tree);
    }

    [Fact]
    public async Task Restore_SameTargetTwiceAfterFilesWereRemoved_RecordHoldsOnlyTheLatestRestore()
    {
        var source = _temp.Sub("src");
        new TreeGenerator(13) { Files = 60, LargeFiles = 0 }.Generate(source);
        using var harness = await EngineHarness.LocalAsync(_temp.Sub("repo"));
        await harness.BackupAsync(source);
        var target = _temp.Sub("target");
        await harness.RestoreAsync(target);
        var repository = await harness.OpenAsync();
        var first = FileIdentityCache.Load(repository.CacheDirectory).Count;

        foreach (var f in Directory.GetFiles(source, "*.md", SearchOption.AllDirectories))
        {
            File.Delete(f);
        }

        await harness.BackupAsync(source);
        await harness.RestoreAsync(target, overwrite: true, delete: true);

        // The backups record what they saw under src too: one generation of each place.
        var restored = Directory.GetFiles(target, "*", SearchOption.AllDirectories).Count(f => new FileInfo(f).LinkTarget is null);
        var backedUp = Directory.GetFiles(source, "*", SearchOption.AllDirectories).Count(f => new FileInfo(f).LinkTarget is null);
        Assert.True(restored + backedUp < first, "the second snapshot has fewer files");
        Assert.Equal(restored + backedUp, FileIdentityCache.Load(repository.CacheDirectory).Count);
    }

    [Fact]
    public async Task Backup_KilledBeforeSnapshot_NextBackupReusesUploadedPacks()
    {
        var source = _temp.Sub("src");
        new TreeGenerator(3) { Files = 100, LargeFiles = 3 }.Generate(source);
        using var harness = await EngineHarness.LocalAsync(_temp.Sub("repo"));
        var (_, full) = await harness.BackupAsync(source);

        // Simulate what a kill after the uploads leaves: packs and index present, snapshot missing.
        var snapshots = Directory.GetFiles(_temp.Sub("repo/snapshots"));
        Assert.Single(snapshots);
        File.Delete(snapshots[0]);
        var indexFiles = Directory.GetFiles(_temp.Sub("repo/index"));
        foreach (var f in indexFiles)
        {
            File.Delete(f); // a kill before the index write leaves unindexed packs: the worst case
        }

        // Nor does a killed backup record the files' identities: that happens once the snapshot is durable.
        File.Delete(Path.Combine((await harness.OpenAsync()).CacheDirectory, "restored-files.json.zst"));

        var (_, again) = await harness.BackupAsync(source);

        Assert.Equal(full.BytesRead, again.BytesRead);
        Assert.Equal(0, again.BytesAdded);
        Assert.True(again.BytesUploaded < full.BytesUploaded / 100, $"uploaded {again.BytesUploaded} of {full.BytesUploaded}");
        Assert.True((await harness.CheckAsync(readData: true)).Ok);
    }

    public void Dispose() => _temp.Dispose();
}
