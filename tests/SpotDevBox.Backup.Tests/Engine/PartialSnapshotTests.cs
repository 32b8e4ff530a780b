using Microsoft.Extensions.Time.Testing;
using Microsoft.Win32.SafeHandles;
using SpotDevBox.Backup.Engine;
using SpotDevBox.Backup.FileSystem;
using TestSupport;

namespace SpotDevBox.Backup.Tests.Engine;

/// <summary>
/// A backup with a deadline (the spot notice's) commits what it could read in a valid snapshot marked
/// partial, newest edits first, and names what it left at an older version; restore warns about them.
/// </summary>
public sealed class PartialSnapshotTests : IDisposable
{
    // Later than any real clock the tests run at, so the snapshot taken on fake time is the latest one.
    private static readonly DateTimeOffset Start = new(2099, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly TempDir _temp = new();
    private readonly string _source;

    public PartialSnapshotTests()
    {
        _source = _temp.Sub("src");
        Directory.CreateDirectory(Path.Combine(_source, "sub"));
    }

    [Fact]
    public async Task Backup_DeadlineReachedAfterTwoReads_KeepsNewestEditsAndMarksTheRestOlder()
    {
        using var harness = await EngineHarness.LocalAsync(_temp.Sub("repo"));
        harness.ReadConcurrency = 1;
        for (var i = 1; i <= 6; i++)
        {
            Write($"sub/f{i}.txt", $"old {i}\n", minutesAgo: 100);
        }

        await harness.BackupAsync(_source);

        // f6 is the most recent edit, f1 the oldest; new.txt is new and older than all of them.
        for (var i = 1; i <= 6; i++)
        {
            Write($"sub/f{i}.txt", $"new {i}\n", minutesAgo: 10 - i);
        }

        Write("new.txt", "brand new\n", minutesAgo: 30);
        var time = new FakeTimeProvider(Start);
        // The deadline arrives while f5 is being read (its second lstat is the after-read check).
        var fs = new TriggeringFileSystem(Path.Combine(_source, "sub", "f5.txt"), onSecondLstat: () => time.Advance(TimeSpan.FromMinutes(5)));

        var (result, _) = await harness.BackupAsync(
            new BackupRequest { Paths = [_source], Deadline = Start.AddSeconds(90), CommitReserve = TimeSpan.FromSeconds(10) }, time, fs);

        Assert.True(result.Manifest.Partial);
        Assert.Equal(["src/new.txt", "src/sub/f1.txt", "src/sub/f2.txt", "src/sub/f3.txt", "src/sub/f4.txt"], result.Manifest.IncompleteFiles);

        var target = _temp.Sub("restored");
        var restore = await harness.RestoreAsync(target, result.SnapshotId);
        Assert.Equal("new 6\n", await File.ReadAllTextAsync(Path.Combine(target, "src", "sub", "f6.txt")));
        Assert.Equal("new 5\n", await File.ReadAllTextAsync(Path.Combine(target, "src", "sub", "f5.txt")));
        for (var i = 1; i <= 4; i++)
        {
            Assert.Equal($"old {i}\n", await File.ReadAllTextAsync(Path.Combine(target, "src", "sub", $"f{i}.txt")));
            Assert.Contains(restore.Warnings, w => w.Contains($"'src/sub/f{i}.txt' is an older version", StringComparison.Ordinal));
        }

        Assert.False(File.Exists(Path.Combine(target, "src", "new.txt")));
        Assert.Contains(restore.Warnings, w => w.Contains("'src/new.txt' is not in this snapshot", StringComparison.Ordinal));
        Assert.Contains(restore.Warnings, w => w.Contains("is partial", StringComparison.Ordinal) && w.Contains("5 entries", StringComparison.Ordinal));
        Assert.True((await harness.CheckAsync(readData: true)).Ok);
    }

    [Fact]
    public async Task Backup_DeadlineMovedEarlierWhileReading_StopsThenAndKeepsNewestEdits()
    {
        using var harness = await EngineHarness.LocalAsync(_temp.Sub("repo"));
        harness.ReadConcurrency = 1;
        for (var i = 1; i <= 6; i++)
        {
            Write($"sub/f{i}.txt", $"old {i}\n", minutesAgo: 100);
        }

        await harness.BackupAsync(_source);
        for (var i = 1; i <= 6; i++)
        {
            Write($"sub/f{i}.txt", $"new {i}\n", minutesAgo: 10 - i);
        }

        var time = new FakeTimeProvider(Start);
        // An hour to spare at first; while f5 is read, the notice is brought forward to 5 s from now,
        // inside the 10 s commit reserve: reading stops there.
        var deadline = new BackupDeadline(Start.AddHours(1));
        var fs = new TriggeringFileSystem(Path.Combine(_source, "sub", "f5.txt"), onSecondLstat: () => Assert.True(deadline.MoveEarlier(Start.AddSeconds(5))));

        var (result, _) = await harness.BackupAsync(
            new BackupRequest { Paths = [_source], Deadline = deadline, CommitReserve = TimeSpan.FromSeconds(10) }, time, fs);

        Assert.True(result.Manifest.Partial);
        Assert.Equal(["src/sub/f1.txt", "src/sub/f2.txt", "src/sub/f3.txt", "src/sub/f4.txt"], result.Manifest.IncompleteFiles);
        Assert.False(deadline.MoveEarlier(Start.AddSeconds(30)));
        Assert.Equal(Start.AddSeconds(5), deadline.Value);
    }

    [Fact]
    public async Task Backup_AfterPartialSnapshot_ReadsTheOlderFilesAgainAndIsComplete()
    {
        using var harness = await EngineHarness.LocalAsync(_temp.Sub("repo"));
        Write("a.txt", "old a\n", minutesAgo: 100);
        Write("sub/b.txt", "old b\n", minutesAgo: 100);
        await harness.BackupAsync(_source);
        Write("a.txt", "new a\n", minutesAgo: 5);
        Write("sub/b.txt", "new b, longer\n", minutesAgo: 4);
        var time = new FakeTimeProvider(Start);
        // A deadline inside the commit reserve: nothing can be read, each changed file keeps its older version.
        var (partial, _) = await harness.BackupAsync(new BackupRequest { Paths = [_source], Deadline = Start.AddSeconds(3) }, time);
        Assert.True(partial.Manifest.Partial);
        Assert.Equal(["src/a.txt", "src/sub/b.txt"], partial.Manifest.IncompleteFiles);

        var (next, progress) = await harness.BackupAsync(_source);

        Assert.False(next.Manifest.Partial);
        Assert.Empty(next.Manifest.IncompleteFiles);
        Assert.Equal(2, progress.FilesChanged);
        var target = _temp.Sub("restored");
        var restore = await harness.RestoreAsync(target, next.SnapshotId);
        Assert.Empty(restore.Warnings);
        Assert.Empty(TreeComparer.Compare(_source, Path.Combine(target, "src")));
    }

    [Fact]
    public async Task Backup_DeadlineLeavesNoTimeToRead_WalksOnAndNamesEachChangedAndNewFile()
    {
        using var harness = await EngineHarness.LocalAsync(_temp.Sub("repo"));
        Write("a.txt", "old a\n", minutesAgo: 100);
        Write("sub/b.txt", "old b\n", minutesAgo: 100);
        Write("sub/same.txt", "same\n", minutesAgo: 100);
        await harness.BackupAsync(_source);
        Write("a.txt", "new a\n", minutesAgo: 5);
        Write("sub/b.txt", "new b, longer\n", minutesAgo: 4);
        Write("sub/c.txt", "brand new\n", minutesAgo: 3);
        var time = new FakeTimeProvider(Start);

        // The deadline is 3 s away and the commit reserve 5 s: no file can be read, yet the walk (lstat only) fits.
        var (result, _) = await harness.BackupAsync(new BackupRequest { Paths = [_source], Deadline = Start.AddSeconds(3) }, time);

        Assert.True(result.Manifest.Partial);
        Assert.Equal(["src/a.txt", "src/sub/b.txt", "src/sub/c.txt"], result.Manifest.IncompleteFiles);
        var target = _temp.Sub("restored");
        var restore = await harness.RestoreAsync(target, result.SnapshotId);
        Assert.Empty(restore.Errors);
        Assert.Equal("old a\n", await File.ReadAllTextAsync(Path.Combine(target, "src", "a.txt")));
        Assert.Equal("old b\n", await File.ReadAllTextAsync(Path.Combine(target, "src", "sub", "b.txt")));
        Assert.Equal("same\n", await File.ReadAllTextAsync(Path.Combine(target, "src", "sub", "same.txt")));
        Assert.False(File.Exists(Path.Combine(target, "src", "sub", "c.txt")));
        Assert.Contains(restore.Warnings, w => w.StartsWith("'src/a.txt' is an older version", StringComparison.Ordinal));
        Assert.Contains(restore.Warnings, w => w.StartsWith("'src/sub/b.txt' is an older version", StringComparison.Ordinal));
        Assert.Contains(restore.Warnings, w => w.StartsWith("'src/sub/c.txt' is not in this snapshot", StringComparison.Ordinal));
        Assert.DoesNotContain(restore.Warnings, w => w.StartsWith("'src' ", StringComparison.Ordinal) || w.StartsWith("'src/sub' ", StringComparison.Ordinal));
        Assert.DoesNotContain(restore.Warnings, w => w.Contains("same.txt", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Backup_DeadlineAlreadyPassed_RecordsTheUnexaminedDirectoryAndRestoreSaysSo()
    {
        using var harness = await EngineHarness.LocalAsync(_temp.Sub("repo"));
        Write("a.txt", "old a\n", minutesAgo: 100);
        await harness.BackupAsync(_source);
        Write("a.txt", "new a\n", minutesAgo: 5);
        var time = new FakeTimeProvider(Start);

        var (result, _) = await harness.BackupAsync(new BackupRequest { Paths = [_source], Deadline = Start.AddSeconds(-1) }, time);

        Assert.True(result.Manifest.Partial);
        Assert.Equal(["src/"], result.Manifest.IncompleteFiles);
        var restore = await harness.RestoreAsync(_temp.Sub("restored"), result.SnapshotId);
        Assert.Contains(restore.Warnings, w => w.StartsWith("directory 'src' was not examined by the partial backup: files in it may be older versions, and files new since the previous snapshot are missing", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Backup_DeadlineMillisecondsAway_EveryChangedFileIsSavedOrNamed()
    {
        using var harness = await EngineHarness.LocalAsync(_temp.Sub("repo"));
        new TreeGenerator(11) { Files = 300, LargeFiles = 2 }.Generate(Path.Combine(_source, "gen"));
        await harness.BackupAsync(_source);
        var changed = Directory.GetFiles(_source, "*", SearchOption.AllDirectories).Where((_, i) => i % 3 == 0).ToList();
        foreach (var file in changed)
        {
            await File.AppendAllTextAsync(file, "edited\n");
        }

        var (result, _) = await harness.BackupAsync(new BackupRequest { Paths = [_source], Deadline = TimeProvider.System.GetUtcNow().AddMilliseconds(30), CommitReserve = TimeSpan.Zero });

        var target = _temp.Sub("restored");
        await harness.RestoreAsync(target, result.SnapshotId);
        foreach (var file in changed)
        {
            var snapshotPath = "src/" + Path.GetRelativePath(_source, file);
            var restored = Path.Combine(target, snapshotPath);
            var expected = await File.ReadAllBytesAsync(file);
            var saved = File.Exists(restored) && (await File.ReadAllBytesAsync(restored)).AsSpan().SequenceEqual(expected);
            var named = result.Manifest.IncompleteFiles.Any(e => e == snapshotPath || (e.EndsWith('/') && snapshotPath.StartsWith(e, StringComparison.Ordinal)));
            Assert.True(saved || named, $"'{snapshotPath}' is neither saved nor named in incomplete_files ({string.Join(", ", result.Manifest.IncompleteFiles)})");
        }
    }

    [Fact]
    public async Task Restore_PartialSnapshotLeftMoreThan20FilesBehind_OneWarningCountsThem()
    {
        using var harness = await EngineHarness.LocalAsync(_temp.Sub("repo"));
        for (var i = 0; i < 25; i++)
        {
            Write($"sub/f{i:00}.txt", $"old {i}\n", minutesAgo: 100);
        }

        await harness.BackupAsync(_source);
        for (var i = 0; i < 25; i++)
        {
            Write($"sub/f{i:00}.txt", $"new {i}\n", minutesAgo: 5);
        }

        var time = new FakeTimeProvider(Start);
        var (result, _) = await harness.BackupAsync(new BackupRequest { Paths = [_source], Deadline = Start.AddSeconds(3) }, time);

        var restore = await harness.RestoreAsync(_temp.Sub("restored"), result.SnapshotId);

        Assert.Equal(25, result.Manifest.IncompleteFiles.Count);
        Assert.DoesNotContain(restore.Warnings, w => w.Contains("is an older version", StringComparison.Ordinal));
        Assert.Contains(restore.Warnings, w => w.Contains("25 entries", StringComparison.Ordinal) && w.Contains("--verbose", StringComparison.Ordinal));
        Assert.Equal(25, restore.LeftBehind.Count);
        Assert.Equal("'src/sub/f00.txt' is an older version: the snapshot is partial and did not get to save it", restore.LeftBehind.Order(StringComparer.Ordinal).First());
    }

    [Fact]
    public async Task Backup_DeadlineWithTimeToSpare_IsCompleteAndNotPartial()
    {
        using var harness = await EngineHarness.LocalAsync(_temp.Sub("repo"));
        new TreeGenerator(7) { Files = 120, LargeFiles = 1 }.Generate(Path.Combine(_source, "gen"));
        await harness.BackupAsync(_source);
        Write("gen/edited.txt", "edited\n", minutesAgo: 1);

        var (result, progress) = await harness.BackupAsync(new BackupRequest { Paths = [_source], Deadline = DateTimeOffset.MaxValue.AddDays(-1) });

        Assert.False(result.Manifest.Partial);
        Assert.Empty(result.Manifest.IncompleteFiles);
        Assert.Equal(1, progress.FilesNew);
        var target = _temp.Sub("restored");
        Assert.Empty((await harness.RestoreAsync(target)).Warnings);
        Assert.Empty(TreeComparer.Compare(_source, Path.Combine(target, "src")));
    }

    [Fact]
    public async Task Backup_NegativeCommitReserve_IsRefused()
    {
        using var harness = await EngineHarness.LocalAsync(_temp.Sub("repo"));
        Write("a.txt", "a", minutesAgo: 1);

        var e = await Assert.ThrowsAsync<ArgumentException>(() => harness.BackupAsync(
            new BackupRequest { Paths = [_source], Deadline = DateTimeOffset.MaxValue.AddDays(-1), CommitReserve = TimeSpan.FromSeconds(-1) }));
        Assert.Contains("commit reserve", e.Message, StringComparison.Ordinal);
    }

    private void Write(string relative, string content, int minutesAgo)
    {
        var path = Path.Combine(_source, relative);
        File.WriteAllText(path, content);
        // Real wall-clock mtimes: the order of edits is what the deadline mode sorts on.
        File.SetLastWriteTimeUtc(path, DateTime.UnixEpoch.AddSeconds(1_790_000_000 - (minutesAgo * 60)));
    }

    public void Dispose() => _temp.Dispose();

    /// <summary>The real file system, plus an action run on the second lstat of one path.</summary>
    private sealed class TriggeringFileSystem(string path, Action onSecondLstat) : IFileSystemMetadata
    {
        private readonly UnixFileSystem _inner = new();
        private int _seen;

        public bool IsRoot => _inner.IsRoot;

        public FileStatus Lstat(string p)
        {
            if (p == path && Interlocked.Increment(ref _seen) == 2)
            {
                onSecondLstat();
            }

            return _inner.Lstat(p);
        }

        public string ReadLink(string p) => _inner.ReadLink(p);
        public void SetOwner(string p, uint uid, uint gid) => _inner.SetOwner(p, uid, gid);
        public void SetTimes(string p, long mtimeNs, bool isSymlink) => _inner.SetTimes(p, mtimeNs, isSymlink);
        public void SetMode(string p, uint mode) => _inner.SetMode(p, mode);
        public void CreateSymlink(string target, string linkPath) => _inner.CreateSymlink(target, linkPath);
        public void CreateHardLink(string existingPath, string newPath) => _inner.CreateHardLink(existingPath, newPath);
        public string? UserName(uint uid) => _inner.UserName(uid);
        public string? GroupName(uint gid) => _inner.GroupName(gid);
        public void SetMetadata(SafeFileHandle handle, string pathForErrors, uint mode, long mtimeNs, (uint Uid, uint Gid)? owner) =>
            _inner.SetMetadata(handle, pathForErrors, mode, mtimeNs, owner);
        public FileStatus? TryLstat(string p) => _inner.TryLstat(p);
    }
}
