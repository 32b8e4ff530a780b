using System.Runtime.Versioning;
using System.Text;
using System.Text.Json;
using SpotDevBox.Backup.Format;
using SpotDevBox.Backup.Repository;
using TestSupport;

namespace SpotDevBox.Backup.Tests.Engine;

/// <summary>
/// Snapshots written object by object, as a hostile or broken client could write them, restored into a
/// target next to an "outside" directory that must never change. Restore plans and validates every
/// tree before its first write, so a refused snapshot leaves not even the target directory behind.
/// The objects are forged in an unencrypted repository; in an encrypted one only a holder of the key could
/// forge them, and the same validation runs on what opens.
/// </summary>
[UnsupportedOSPlatform("windows")] // symlinks and POSIX modes are the subject
public sealed class HostileManifestTests : IDisposable
{
    private const string SentinelContent = "keep me";

    // 2001-09-09T01:46:40Z, a time no test run produces by accident.
    private const long FixedMtimeNs = 1_000_000_000_000_000_000;

    private readonly TempDir _temp = new();

    public HostileManifestTests()
    {
        Directory.CreateDirectory(Outside);
        File.WriteAllText(Sentinel, SentinelContent);
        File.SetLastWriteTimeUtc(Sentinel, new DateTime(2001, 9, 9, 1, 46, 40, DateTimeKind.Utc));
        File.SetUnixFileMode(Outside, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
        Directory.SetLastWriteTimeUtc(Outside, new DateTime(2001, 9, 9, 1, 46, 40, DateTimeKind.Utc));
    }

    private string Outside => _temp.Sub("outside");

    private string Sentinel => Path.Combine(Outside, "sentinel.txt");

    private string Target => _temp.Sub("target");

    private string RepoPath => _temp.Sub("repo");

    public static TheoryData<string, string> HostileNames => new()
    {
        // name ("{outside}" is replaced by the absolute path of the outside directory), as the error quotes it
        { "..", "'..'" },
        { ".", "'.'" },
        { "../../outside", "'../../outside'" },
        { "../../escape", "'../../escape'" },
        { "{outside}", "'{outside}'" },
        { "/tmp/x", "'/tmp/x'" },
        { "sub/dir", "'sub/dir'" },
        { "", "''" },
        { "a\0b", "'a\\x00b'" },
        { "..\0", "'..\\x00'" },
    };

    [Theory]
    [MemberData(nameof(HostileNames))]
    public async Task Restore_DirectoryWithHostileName_RefusedBeforeAnyWrite(string name, string quoted)
    {
        name = name.Replace("{outside}", Outside, StringComparison.Ordinal);
        quoted = quoted.Replace("{outside}", Outside, StringComparison.Ordinal);
        using var harness = await EngineHarness.LocalAsync(RepoPath, encrypted: false);
        var forger = new RepositoryForger(await harness.OpenAsync());
        // Joined as is, work/../../outside/pwned (or work/<name>/pwned) would land in the outside directory.
        var escape = forger.Tree(forger.File("pwned", "escaped"));
        var subtree = name == ".." ? forger.Tree(Dir("..", forger.Tree(Dir("outside", escape)))) : escape;
        await forger.SnapshotAsync(forger.Tree(
            forger.File("a.txt", "legit and first"),
            Dir("work", forger.Tree(forger.File("first.txt", "legit"), Dir(name, subtree)))));

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => harness.RestoreAsync(Target));

        Assert.Equal($"snapshot refused: entry name {quoted} in 'work' is not a plain file name", e.Message);
        AssertNothingWritten();
    }

    [Theory]
    [MemberData(nameof(HostileNames))]
    public async Task Restore_FileWithHostileName_RefusedBeforeAnyWrite(string name, string quoted)
    {
        name = name.Replace("{outside}", Outside, StringComparison.Ordinal);
        quoted = quoted.Replace("{outside}", Outside, StringComparison.Ordinal);
        using var harness = await EngineHarness.LocalAsync(RepoPath, encrypted: false);
        var forger = new RepositoryForger(await harness.OpenAsync());
        await forger.SnapshotAsync(forger.Tree(
            forger.File("a.txt", "legit and first"),
            Dir("work", forger.Tree(forger.File(name, "escaped")))));

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => harness.RestoreAsync(Target));

        Assert.Equal($"snapshot refused: entry name {quoted} in 'work' is not a plain file name", e.Message);
        AssertNothingWritten();
    }

    [Fact]
    public async Task Restore_SymlinkWithHostileNameAtRoot_RefusedBeforeAnyWrite()
    {
        using var harness = await EngineHarness.LocalAsync(RepoPath, encrypted: false);
        var forger = new RepositoryForger(await harness.OpenAsync());
        await forger.SnapshotAsync(forger.Tree(forger.File("a.txt", "legit"), Link("../outside/link", "/etc/passwd")));

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => harness.RestoreAsync(Target));

        Assert.Equal("snapshot refused: entry name '../outside/link' in '/' is not a plain file name", e.Message);
        AssertNothingWritten();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Restore_SymlinkAndDirectoryOfTheSameName_RefusedAsDuplicate(bool linkFirst)
    {
        // The classic escape: "d" -> outside, then files written into the directory "d" go through the link.
        using var harness = await EngineHarness.LocalAsync(RepoPath, encrypted: false);
        var forger = new RepositoryForger(await harness.OpenAsync());
        var link = Link("d", Outside);
        var dir = Dir("d", forger.Tree(forger.File("pwned", "escaped")));
        await forger.SnapshotAsync(forger.Tree(Dir("work", forger.Tree(linkFirst ? [link, dir] : [dir, link]))));

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => harness.RestoreAsync(Target));

        Assert.Equal("snapshot refused: duplicate entry 'd' in 'work'", e.Message);
        AssertNothingWritten();
    }

    [Fact]
    public async Task Restore_TwoFilesOfTheSameName_RefusedAsDuplicate()
    {
        using var harness = await EngineHarness.LocalAsync(RepoPath, encrypted: false);
        var forger = new RepositoryForger(await harness.OpenAsync());
        await forger.SnapshotAsync(forger.Tree(forger.File("x", "one"), forger.File("x", "two")));

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => harness.RestoreAsync(Target));

        Assert.Equal("snapshot refused: duplicate entry 'x' in '/'", e.Message);
        AssertNothingWritten();
    }

    [Fact]
    public async Task Restore_Version1HardLinksWithDifferentContent_RefusedBeforeAnyWrite()
    {
        // Version 1 trees name a hard link group by device and inode: two entries that claim one inode
        // but hold different bytes cannot both be restored as one file.
        using var harness = await EngineHarness.LocalAsync(RepoPath, encrypted: false);
        var forger = new RepositoryForger(await harness.OpenAsync());
        await forger.SnapshotAsync(forger.Tree(
            forger.File("a", "first content") with { Device = 7, Inode = 42, Links = 2 },
            Dir("work", forger.Tree(forger.File("b", "other content") with { Device = 7, Inode = 42, Links = 2 }))));

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => harness.RestoreAsync(Target));

        Assert.Equal("snapshot refused: 'work/b' is a hard link to 'a' but its size or content differs", e.Message);
        AssertNothingWritten();
    }

    [Fact]
    public async Task Restore_LinkGroupWithDifferentContent_RefusedBeforeAnyWrite()
    {
        using var harness = await EngineHarness.LocalAsync(RepoPath, encrypted: false);
        var forger = new RepositoryForger(await harness.OpenAsync());
        await forger.SnapshotAsync(forger.Tree(
            forger.File("a", "first content") with { Link = "a" },
            Dir("work", forger.Tree(forger.File("b", "other content") with { Link = "a" }))));

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => harness.RestoreAsync(Target));

        Assert.Equal("snapshot refused: 'work/b' is a hard link to 'a' but its size or content differs", e.Message);
        AssertNothingWritten();
    }

    [Fact]
    public async Task Restore_LinkOnASymlink_RefusedAsInconsistent()
    {
        using var harness = await EngineHarness.LocalAsync(RepoPath, encrypted: false);
        var forger = new RepositoryForger(await harness.OpenAsync());
        await forger.SnapshotAsync(forger.Tree(forger.File("a", "content") with { Link = "a" }, Link("b", "a") with { Link = "a" }));

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => harness.RestoreAsync(Target));

        Assert.Equal("snapshot refused: entry 'b' in '/' is an inconsistent Symlink", e.Message);
        AssertNothingWritten();
    }

    [Fact]
    public async Task Restore_LinkGroupMemberUnderStaleDirectoryDisagrees_RestoredOnItsOwnWithWarning()
    {
        // A partial snapshot keeps a directory it did not get to at the parent's version, hard link
        // names included; a newer version of the file elsewhere must not make the snapshot unrestorable.
        using var harness = await EngineHarness.LocalAsync(RepoPath, encrypted: false);
        var forger = new RepositoryForger(await harness.OpenAsync());
        await forger.SnapshotAsync(forger.Tree(
            forger.File("a", "new content") with { Link = "a" },
            forger.File("c", "new content") with { Link = "a" },
            Dir("old", forger.Tree(forger.File("b", "old content") with { Link = "a" })) with { Stale = true }));

        var result = await harness.RestoreAsync(Target);

        Assert.Empty(result.Errors);
        Assert.Contains("'old/b' is an older version of a file hard-linked to 'a'; it is restored as a file of its own", result.Warnings);
        Assert.Equal("old content", File.ReadAllText(Path.Combine(Target, "old", "b")));
        var fs = new SpotDevBox.Backup.FileSystem.UnixFileSystem();
        Assert.Equal(fs.Lstat(Path.Combine(Target, "a")).Inode, fs.Lstat(Path.Combine(Target, "c")).Inode);
    }

    [Fact]
    public async Task Restore_Version1HardLinksToASymlink_RefusedBeforeAnyWrite()
    {
        using var harness = await EngineHarness.LocalAsync(RepoPath, encrypted: false);
        var forger = new RepositoryForger(await harness.OpenAsync());
        await forger.SnapshotAsync(forger.Tree(
            forger.File("a", "content") with { Device = 7, Inode = 42, Links = 2 },
            Link("b", "a") with { Device = 7, Inode = 42, Links = 2 }));

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => harness.RestoreAsync(Target));

        Assert.Equal("snapshot refused: 'b' is a hard link to 'a' but is a Symlink, not a File", e.Message);
        AssertNothingWritten();
    }

    [Fact]
    public async Task Restore_DirectoryWithoutSubtree_RefusedAsInconsistent()
    {
        using var harness = await EngineHarness.LocalAsync(RepoPath, encrypted: false);
        var forger = new RepositoryForger(await harness.OpenAsync());
        await forger.SnapshotAsync(forger.Tree(
            forger.File("a.txt", "legit"),
            Dir("work", forger.Tree(new Node { Name = "d", Type = NodeType.Dir, Mode = 0x1ED }))));

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => harness.RestoreAsync(Target));

        Assert.Equal("snapshot refused: entry 'd' in 'work' is an inconsistent Dir", e.Message);
        AssertNothingWritten();
    }

    [Fact]
    public async Task Restore_SymlinkWithNulInTarget_RefusedAsInconsistent()
    {
        using var harness = await EngineHarness.LocalAsync(RepoPath, encrypted: false);
        var forger = new RepositoryForger(await harness.OpenAsync());
        await forger.SnapshotAsync(forger.Tree(Link("l", "/etc\0/passwd")));

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => harness.RestoreAsync(Target));

        Assert.Equal("snapshot refused: entry 'l' in '/' is an inconsistent Symlink", e.Message);
        AssertNothingWritten();
    }

    [Fact]
    public async Task Restore_ModeWithFileTypeBits_Refused()
    {
        using var harness = await EngineHarness.LocalAsync(RepoPath, encrypted: false);
        var forger = new RepositoryForger(await harness.OpenAsync());
        await forger.SnapshotAsync(forger.Tree(forger.File("f", "x") with { Mode = 0x8000 | 0x1A4 }));

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => harness.RestoreAsync(Target));

        Assert.Equal("snapshot refused: entry 'f' in '/' has invalid mode bits", e.Message);
        AssertNothingWritten();
    }

    [Fact]
    public async Task Restore_DirectoriesNestedDeeperThan512_RefusedBeforeAnyWrite()
    {
        using var harness = await EngineHarness.LocalAsync(RepoPath, encrypted: false);
        var forger = new RepositoryForger(await harness.OpenAsync());
        var tree = forger.Tree(forger.File("bottom", "deep"));
        for (var i = 0; i < 520; i++)
        {
            tree = forger.Tree(Dir("d", tree));
        }

        await forger.SnapshotAsync(tree);

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => harness.RestoreAsync(Target));

        Assert.StartsWith("snapshot refused: directories nest deeper than 512 levels at 'd/d/d/", e.Message, StringComparison.Ordinal);
        AssertNothingWritten();
    }

    [Fact]
    public async Task Restore_UnreadableSubtreeBeforeAHostileOne_StillRefusedBeforeAnyWrite()
    {
        using var harness = await EngineHarness.LocalAsync(RepoPath, encrypted: false);
        var forger = new RepositoryForger(await harness.OpenAsync());
        // A tree the snapshot names but no pack holds: damage, which must not end the walk that looks for hostility.
        var missing = BlobId.Compute(Encoding.UTF8.GetBytes("a tree that was never stored"));
        await forger.SnapshotAsync(forger.Tree(
            Dir("a-damaged", missing),
            Dir("work", forger.Tree(forger.File("../escape", "escaped")))));

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => harness.RestoreAsync(Target));

        Assert.Equal("snapshot refused: entry name '../escape' in 'work' is not a plain file name", e.Message);
        AssertNothingWritten();
    }

    [Fact]
    public async Task Check_HostileSnapshot_ReportsTheEntry()
    {
        using var harness = await EngineHarness.LocalAsync(RepoPath, encrypted: false);
        var forger = new RepositoryForger(await harness.OpenAsync());
        var id = await forger.SnapshotAsync(forger.Tree(Dir("work", forger.Tree(forger.File("../escape", "x")))));

        var check = await harness.CheckAsync();

        var error = Assert.Single(check.Errors);
        Assert.Contains($"snapshot {id[..8]}", error, StringComparison.Ordinal);
        Assert.Contains("'../escape'", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restore_FileWhoseChunksDoNotAddUpToItsSize_ErrorPerFileOthersRestored()
    {
        using var harness = await EngineHarness.LocalAsync(RepoPath, encrypted: false);
        var forger = new RepositoryForger(await harness.OpenAsync());
        await forger.SnapshotAsync(forger.Tree(Dir("work", forger.Tree(
            forger.File("good.txt", "all good"),
            forger.File("short.txt", "hello") with { Size = 4096 },
            forger.File("long.txt", "hello world") with { Size = 3 }))));

        var result = await harness.RestoreAsync(Target);

        Assert.Equal(
            [
                "'work/long.txt' could not be restored: its chunks add up to 11 bytes but the snapshot says 3",
                "'work/short.txt' could not be restored: its chunks add up to 5 bytes but the snapshot says 4096",
            ],
            result.Errors.Order(StringComparer.Ordinal));
        Assert.Equal("all good", await File.ReadAllTextAsync(Path.Combine(Target, "work", "good.txt")));
        Assert.NotEqual("hello", ReadIfPresent(Path.Combine(Target, "work", "short.txt")));
        Assert.NotEqual("hello world", ReadIfPresent(Path.Combine(Target, "work", "long.txt")));
        AssertOutsideUntouched();
        AssertOnlyTopLevel("outside", "repo", "target");
    }

    [Fact]
    public async Task Restore_FileWhoseBlobIsMissing_ErrorPerFile()
    {
        using var harness = await EngineHarness.LocalAsync(RepoPath, encrypted: false);
        var forger = new RepositoryForger(await harness.OpenAsync());
        var missing = BlobId.Parse("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        await forger.SnapshotAsync(forger.Tree(
            forger.File("good.txt", "all good"),
            new Node { Name = "lost.txt", Type = NodeType.File, Mode = 0x1A4, Size = 3, Content = [missing] }));

        var result = await harness.RestoreAsync(Target);

        Assert.Equal(["'lost.txt' could not be restored: blob ba7816bf is missing from the repository"], result.Errors);
        Assert.Equal("all good", await File.ReadAllTextAsync(Path.Combine(Target, "good.txt")));
        AssertOutsideUntouched();
    }

    [Fact]
    public async Task Restore_SymlinksPointingOutside_RestoredAsLinksNeverFollowed()
    {
        using var harness = await EngineHarness.LocalAsync(RepoPath, encrypted: false);
        var forger = new RepositoryForger(await harness.OpenAsync());
        await forger.SnapshotAsync(forger.Tree(Dir("work", forger.Tree(
            Link("abs", Outside),
            Link("rel", "../../outside"),
            Link("file", "../../outside/sentinel.txt"),
            Link("etc", "/etc"),
            Link("dangling", "../../outside/missing"),
            forger.File("plain.txt", "plain")))));

        var result = await harness.RestoreAsync(Target);

        Assert.Empty(result.Errors);
        Assert.Equal(5, result.Symlinks);
        var work = Path.Combine(Target, "work");
        Assert.Equal(Outside, new FileInfo(Path.Combine(work, "abs")).LinkTarget);
        Assert.Equal("../../outside", new FileInfo(Path.Combine(work, "rel")).LinkTarget);
        Assert.Equal("../../outside/sentinel.txt", new FileInfo(Path.Combine(work, "file")).LinkTarget);
        Assert.Equal("/etc", new FileInfo(Path.Combine(work, "etc")).LinkTarget);
        Assert.Equal("../../outside/missing", new FileInfo(Path.Combine(work, "dangling")).LinkTarget);
        Assert.Equal("plain", await File.ReadAllTextAsync(Path.Combine(work, "plain.txt")));
        // The links' mode 0777 and mtime went to the links themselves, if anywhere: not to their targets.
        AssertOutsideUntouched();
        Assert.False(File.Exists(Path.Combine(Outside, "missing")));
    }

    [Fact]
    public async Task RestoreOverwrite_DirectoryInTargetIsSymlinkToOutside_ReplacedByRealDirectory()
    {
        Directory.CreateDirectory(Target);
        File.CreateSymbolicLink(Path.Combine(Target, "work"), Outside);
        using var harness = await EngineHarness.LocalAsync(RepoPath, encrypted: false);
        var forger = new RepositoryForger(await harness.OpenAsync());
        await forger.SnapshotAsync(forger.Tree(Dir("work", forger.Tree(
            forger.File("f.txt", "restored"),
            forger.File("sentinel.txt", "overwritten?"),
            Dir("sub", forger.Tree(forger.File("g.txt", "deeper")))))));

        var result = await harness.RestoreAsync(Target, overwrite: true);

        Assert.Empty(result.Errors);
        var work = new DirectoryInfo(Path.Combine(Target, "work"));
        Assert.Null(work.LinkTarget);
        Assert.True(work.Exists);
        Assert.Equal("restored", await File.ReadAllTextAsync(Path.Combine(work.FullName, "f.txt")));
        Assert.Equal("overwritten?", await File.ReadAllTextAsync(Path.Combine(work.FullName, "sentinel.txt")));
        Assert.Equal("deeper", await File.ReadAllTextAsync(Path.Combine(work.FullName, "sub", "g.txt")));
        AssertOutsideUntouched();
    }

    [Fact]
    public async Task RestoreOverwrite_FileInTargetIsSymlinkToOutsideFile_LinkReplacedTargetUntouched()
    {
        Directory.CreateDirectory(Path.Combine(Target, "work"));
        File.CreateSymbolicLink(Path.Combine(Target, "work", "f.txt"), Sentinel);
        using var harness = await EngineHarness.LocalAsync(RepoPath, encrypted: false);
        var forger = new RepositoryForger(await harness.OpenAsync());
        await forger.SnapshotAsync(forger.Tree(Dir("work", forger.Tree(forger.File("f.txt", "restored content")))));

        var result = await harness.RestoreAsync(Target, overwrite: true);

        Assert.Empty(result.Errors);
        var restored = new FileInfo(Path.Combine(Target, "work", "f.txt"));
        Assert.Null(restored.LinkTarget);
        Assert.Equal("restored content", await File.ReadAllTextAsync(restored.FullName));
        AssertOutsideUntouched();
    }

    [Fact]
    public async Task RestoreOverwrite_SymlinkToOutsideFileWithSameSizeAndMtime_NotTakenForTheRestoredFile()
    {
        // The outside file looks exactly like the snapshot's (size 7, same mtime): only lstat tells them apart.
        Directory.CreateDirectory(Path.Combine(Target, "work"));
        File.CreateSymbolicLink(Path.Combine(Target, "work", "f.txt"), Sentinel);
        using var harness = await EngineHarness.LocalAsync(RepoPath, encrypted: false);
        var forger = new RepositoryForger(await harness.OpenAsync());
        await forger.SnapshotAsync(forger.Tree(Dir("work", forger.Tree(forger.File("f.txt", "mine!!!")))));

        var result = await harness.RestoreAsync(Target, overwrite: true);

        Assert.Empty(result.Errors);
        Assert.Equal(0, result.FilesUnchanged);
        var restored = new FileInfo(Path.Combine(Target, "work", "f.txt"));
        Assert.Null(restored.LinkTarget);
        Assert.Equal("mine!!!", await File.ReadAllTextAsync(restored.FullName));
        AssertOutsideUntouched();
    }

    [Fact]
    public async Task RestoreOverwriteDelete_ExtraSymlinkToOutsideDirectory_LinkRemovedOutsideKept()
    {
        Directory.CreateDirectory(Target);
        File.CreateSymbolicLink(Path.Combine(Target, "extra"), Outside);
        File.CreateSymbolicLink(Path.Combine(Target, "extra-file"), Sentinel);
        using var harness = await EngineHarness.LocalAsync(RepoPath, encrypted: false);
        var forger = new RepositoryForger(await harness.OpenAsync());
        await forger.SnapshotAsync(forger.Tree(forger.File("kept.txt", "kept")));

        var result = await harness.RestoreAsync(Target, overwrite: true, delete: true);

        Assert.Empty(result.Errors);
        Assert.Equal(2, result.Deleted);
        Assert.Equal(["kept.txt"], Directory.EnumerateFileSystemEntries(Target).Select(Path.GetFileName));
        AssertOutsideUntouched();
    }

    [Fact]
    public async Task RestoreOverwrite_SymlinkInSnapshotWhereTargetHasOutsideLink_LinkReplacedNotFollowed()
    {
        Directory.CreateDirectory(Target);
        File.CreateSymbolicLink(Path.Combine(Target, "l"), Outside);
        using var harness = await EngineHarness.LocalAsync(RepoPath, encrypted: false);
        var forger = new RepositoryForger(await harness.OpenAsync());
        await forger.SnapshotAsync(forger.Tree(Link("l", "elsewhere")));

        var result = await harness.RestoreAsync(Target, overwrite: true);

        Assert.Empty(result.Errors);
        Assert.Equal("elsewhere", new FileInfo(Path.Combine(Target, "l")).LinkTarget);
        AssertOutsideUntouched();
    }

    [Fact]
    public async Task Backup_NameWithBackslash_SnapshotStaysRestorable()
    {
        var source = _temp.Sub("src");
        Directory.CreateDirectory(source);
        await File.WriteAllTextAsync(Path.Combine(source, "a\\b.txt"), "backslash");
        await File.WriteAllTextAsync(Path.Combine(source, "plain.txt"), "plain");
        using var harness = await EngineHarness.LocalAsync(RepoPath, encrypted: false);
        var (backup, _) = await harness.BackupAsync(source);

        var result = await harness.RestoreAsync(Target);

        // Either way is fine: restored as is, or left out of the snapshot with a warning that names it.
        Assert.Empty(result.Errors);
        Assert.Equal("plain", await File.ReadAllTextAsync(Path.Combine(Target, "src", "plain.txt")));
        Assert.True(
            File.Exists(Path.Combine(Target, "src", "a\\b.txt")) || backup.Warnings.Any(w => w.Contains("a\\b.txt", StringComparison.Ordinal)),
            "the file was neither restored nor reported as skipped");
    }

    private void AssertNothingWritten()
    {
        Assert.False(Directory.Exists(Target), "the refused restore created its target directory");
        AssertOutsideUntouched();
        AssertOnlyTopLevel("outside", "repo");
    }

    private void AssertOutsideUntouched()
    {
        Assert.Equal(["sentinel.txt"], Directory.EnumerateFileSystemEntries(Outside).Select(Path.GetFileName));
        Assert.Equal(SentinelContent, File.ReadAllText(Sentinel));
        var sentinel = new FileInfo(Sentinel);
        Assert.Null(sentinel.LinkTarget);
        Assert.Equal(new DateTime(2001, 9, 9, 1, 46, 40, DateTimeKind.Utc), sentinel.LastWriteTimeUtc);
        Assert.Equal(new DateTime(2001, 9, 9, 1, 46, 40, DateTimeKind.Utc), Directory.GetLastWriteTimeUtc(Outside));
        Assert.Equal(
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute,
            File.GetUnixFileMode(Outside));
    }

    private void AssertOnlyTopLevel(params string[] names) =>
        Assert.Equal(names, Directory.EnumerateFileSystemEntries(_temp.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));

    private static Node Dir(string name, BlobId subtree) =>
        new() { Name = name, Type = NodeType.Dir, Mode = 0x1ED, MtimeNs = FixedMtimeNs, Subtree = subtree };

    private static Node Link(string name, string target) =>
        new() { Name = name, Type = NodeType.Symlink, Mode = 0x1FF, MtimeNs = FixedMtimeNs, Target = target };

    private static string? ReadIfPresent(string path) => File.Exists(path) ? File.ReadAllText(path) : null;

    public void Dispose() => _temp.Dispose();

    /// <summary>
    /// Writes repository objects the way the format describes them, with none of the engine's checks:
    /// blobs into one data pack and one tree pack, both listed in one index file, then a snapshot.
    /// </summary>
    private sealed class RepositoryForger(BackupRepository repository)
    {
        private readonly Dictionary<BlobId, byte[]> _data = [];
        private readonly Dictionary<BlobId, byte[]> _trees = [];

        public Node File(string name, string content)
        {
            var bytes = Encoding.UTF8.GetBytes(content);
            var id = BlobId.Compute(bytes);
            _data[id] = bytes;
            return new Node { Name = name, Type = NodeType.File, Mode = 0x1A4, MtimeNs = FixedMtimeNs, Size = bytes.Length, Content = [id] };
        }

        public BlobId Tree(params Node[] nodes)
        {
            var bytes = JsonSerializer.SerializeToUtf8Bytes(new Tree(nodes), FormatJson.Default.Tree);
            var id = BlobId.Compute(bytes);
            _trees[id] = bytes;
            return id;
        }

        public async Task<string> SnapshotAsync(BlobId root)
        {
            var packs = new List<IndexPack>();
            foreach (var (type, blobs) in new[] { (BlobType.Data, _data), (BlobType.Tree, _trees) })
            {
                if (blobs.Count > 0)
                {
                    packs.Add(await SavePackAsync(type, blobs));
                }
            }

            await repository.SaveIndexAsync(packs, CancellationToken.None);
            return await repository.SaveSnapshotAsync(
                new SnapshotManifest
                {
                    Time = new DateTimeOffset(2024, 5, 1, 12, 0, 0, TimeSpan.Zero),
                    Hostname = "forger",
                    Paths = ["/home/forger/work"],
                    Tree = root,
                },
                CancellationToken.None);
        }

        private async Task<IndexPack> SavePackAsync(BlobType type, Dictionary<BlobId, byte[]> blobs)
        {
            var body = new List<byte>();
            var entries = new List<PackEntry>();
            foreach (var (id, raw) in blobs)
            {
                var (stored, kind) = Compression.Compress(raw, 3);
                entries.Add(new PackEntry(id, type, kind, body.Count, stored.Length, raw.Length));
                body.AddRange(stored);
            }

            body.AddRange(Pack.WriteHeader(entries));
            var pack = body.ToArray();
            var packId = await repository.SavePackAsync(pack, type, CancellationToken.None);
            return new IndexPack(packId, pack.Length, entries);
        }
    }
}
