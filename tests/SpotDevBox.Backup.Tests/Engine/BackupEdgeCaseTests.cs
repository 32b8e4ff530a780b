using Microsoft.Extensions.Logging.Abstractions;
using Mono.Unix.Native;
using SpotDevBox.Backup.Engine;
using SpotDevBox.Backup.FileSystem;
using TestSupport;

namespace SpotDevBox.Backup.Tests.Engine;

public sealed class BackupEdgeCaseTests : IDisposable
{
    private readonly TempDir _temp = new();

    /// <summary>The real file system, except that one file appears modified once it has been read, or cannot be read at all.</summary>
    private sealed class ChangesAfterRead(string path, bool denied = false) : IFileSystemMetadata
    {
        private readonly UnixFileSystem _real = new();
        private int _calls;

        public bool IsRoot => _real.IsRoot;

        public FileStatus Lstat(string p)
        {
            if (denied && p == path)
            {
                throw new UnauthorizedAccessException($"lstat '{p}': permission denied");
            }

            var st = _real.Lstat(p);
            // First call: the walk; second: the check after reading. Report a write that landed in between.
            return p == path && Interlocked.Increment(ref _calls) >= 2 ? st with { MtimeNs = st.MtimeNs + 1, Size = st.Size + 10 } : st;
        }

        public FileStatus? TryLstat(string p) => _real.TryLstat(p);
        public string ReadLink(string p) => _real.ReadLink(p);
        public void SetOwner(string p, uint uid, uint gid) => _real.SetOwner(p, uid, gid);
        public void SetTimes(string p, long mtimeNs, bool isSymlink) => _real.SetTimes(p, mtimeNs, isSymlink);
        public void SetMode(string p, uint mode) => _real.SetMode(p, mode);
        public void CreateSymlink(string target, string linkPath) => _real.CreateSymlink(target, linkPath);
        public void CreateHardLink(string existingPath, string newPath) => _real.CreateHardLink(existingPath, newPath);
        public string? UserName(uint uid) => _real.UserName(uid);
        public string? GroupName(uint gid) => _real.GroupName(gid);
        public void SetMetadata(Microsoft.Win32.SafeHandles.SafeFileHandle handle, string pathForErrors, uint mode, long mtimeNs, (uint Uid, uint Gid)? owner) =>
            _real.SetMetadata(handle, pathForErrors, mode, mtimeNs, owner);
    }

    /// <summary>The real file system, plus an action run just before the first lstat of one path.</summary>
    private sealed class ActsAtFirstLstat(string path, Action action) : IFileSystemMetadata
    {
        private readonly UnixFileSystem _real = new();
        private int _calls;

        public bool IsRoot => _real.IsRoot;

        public FileStatus Lstat(string p)
        {
            if (p == path && Interlocked.Increment(ref _calls) == 1)
            {
                action();
            }

            return _real.Lstat(p);
        }

        public FileStatus? TryLstat(string p) => _real.TryLstat(p);
        public string ReadLink(string p) => _real.ReadLink(p);
        public void SetOwner(string p, uint uid, uint gid) => _real.SetOwner(p, uid, gid);
        public void SetTimes(string p, long mtimeNs, bool isSymlink) => _real.SetTimes(p, mtimeNs, isSymlink);
        public void SetMode(string p, uint mode) => _real.SetMode(p, mode);
        public void CreateSymlink(string target, string linkPath) => _real.CreateSymlink(target, linkPath);
        public void CreateHardLink(string existingPath, string newPath) => _real.CreateHardLink(existingPath, newPath);
        public string? UserName(uint uid) => _real.UserName(uid);
        public string? GroupName(uint gid) => _real.GroupName(gid);
        public void SetMetadata(Microsoft.Win32.SafeHandles.SafeFileHandle handle, string pathForErrors, uint mode, long mtimeNs, (uint Uid, uint Gid)? owner) =>
            _real.SetMetadata(handle, pathForErrors, mode, mtimeNs, owner);
    }

    [Fact]
    public async Task Backup_HardLinkedFileEditedBetweenItsNames_EachNameRestoresWhatWasRead()
    {
        // The names of one file are read one after the other; an edit in between leaves them with
        // different content. Stored as one group, the snapshot would restore the first name's bytes
        // under the second (version 1) or be refused (version 2): they must be stored apart.
        var source = _temp.Sub("src");
        Directory.CreateDirectory(source);
        var first = Path.Combine(source, "a.txt");
        var second = Path.Combine(source, "b.txt");
        await File.WriteAllTextAsync(first, "version one\n");
        Assert.Equal(0, Syscall.link(first, second));
        using var harness = await EngineHarness.LocalAsync(_temp.Sub("repo"));
        var engine = new BackupEngine(await harness.OpenAsync(), new ActsAtFirstLstat(second, () => File.AppendAllText(first, "version two\n")), NullLogger<BackupEngine>.Instance);
        await engine.RunAsync(new BackupRequest { Paths = [source] }, CancellationToken.None);

        var restore = await harness.RestoreAsync(_temp.Sub("restored"));

        Assert.Empty(restore.Errors);
        Assert.Equal("version one\nversion two\n", await File.ReadAllTextAsync(_temp.Sub("restored/src/b.txt")));
    }

    [Fact]
    public async Task Backup_FileChangesWhileRead_IsReportedMarkedAndReadAgainNextTime()
    {
        var source = _temp.Sub("src");
        Directory.CreateDirectory(source);
        var log = Path.Combine(source, "build.log");
        await File.WriteAllTextAsync(log, "line 1\n");
        await File.WriteAllTextAsync(Path.Combine(source, "stable.txt"), "stable");
        using var harness = await EngineHarness.LocalAsync(_temp.Sub("repo"));

        var engine = new BackupEngine(await harness.OpenAsync(), new ChangesAfterRead(log), NullLogger<BackupEngine>.Instance);
        var result = await engine.RunAsync(new BackupRequest { Paths = [source] }, CancellationToken.None);

        Assert.Equal([log], result.Manifest.ChangedDuringBackup);
        Assert.Contains(result.Warnings, w => w.Contains("build.log", StringComparison.Ordinal) && w.Contains("changed while it was read", StringComparison.Ordinal));
        var restore = await harness.RestoreAsync(_temp.Sub("out"));
        Assert.Contains(restore.Warnings, w => w.Contains("src/build.log", StringComparison.Ordinal));
        Assert.Equal("line 1\n", await File.ReadAllTextAsync(_temp.Sub("out/src/build.log")));

        // A file marked as changed is never trusted as unchanged: the next backup reads it again.
        var (_, progress) = await harness.BackupAsync(source);
        Assert.Equal(new FileInfo(log).Length, progress.BytesRead);
    }

    [Fact]
    public async Task Backup_FileUnreadable_KeepsParentVersionAndCountsIt()
    {
        var source = _temp.Sub("src");
        Directory.CreateDirectory(source);
        var secret = Path.Combine(source, "secret.txt");
        await File.WriteAllTextAsync(secret, "version 1");
        await File.WriteAllTextAsync(Path.Combine(source, "new.txt"), "new");
        using var harness = await EngineHarness.LocalAsync(_temp.Sub("repo"));
        await harness.BackupAsync(source);
        await File.WriteAllTextAsync(secret, "version 2");

        var engine = new BackupEngine(await harness.OpenAsync(), new ChangesAfterRead(secret, denied: true), NullLogger<BackupEngine>.Instance);
        var result = await engine.RunAsync(new BackupRequest { Paths = [source] }, CancellationToken.None);

        Assert.Equal(1, result.Unreadable);
        Assert.Contains(result.Warnings, w => w.Contains("secret.txt", StringComparison.Ordinal) && w.Contains("keeping its version from the parent", StringComparison.Ordinal));
        await harness.RestoreAsync(_temp.Sub("out"), result.SnapshotId);
        Assert.Equal("version 1", await File.ReadAllTextAsync(_temp.Sub("out/src/secret.txt")));
    }

    [Fact]
    public async Task Backup_FifoAndSocketInTree_SkippedWithWarning()
    {
        var source = _temp.Sub("src");
        Directory.CreateDirectory(source);
        await File.WriteAllTextAsync(Path.Combine(source, "keep.txt"), "kept");
        Assert.Equal(0, Syscall.mkfifo(Path.Combine(source, "pipe"), FilePermissions.DEFFILEMODE));
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        socket.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(Path.Combine(source, "agent.sock")));
        using var harness = await EngineHarness.LocalAsync(_temp.Sub("repo"));

        var (result, progress) = await harness.BackupAsync(source);

        Assert.Equal(2, progress.Skipped);
        Assert.Contains(result.Warnings, w => w.Contains("skipped fifo", StringComparison.Ordinal) && w.Contains("pipe", StringComparison.Ordinal));
        Assert.Contains(result.Warnings, w => w.Contains("skipped socket", StringComparison.Ordinal) && w.Contains("agent.sock", StringComparison.Ordinal));
        await harness.RestoreAsync(_temp.Sub("out"));
        Assert.Equal(["keep.txt"], Directory.EnumerateFileSystemEntries(_temp.Sub("out/src")).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Backup_ExcludePatterns_LeaveOutMatchesAtAnyDepthAndAnchoredOnes()
    {
        var source = _temp.Sub("src");
        foreach (var f in new[] { "app/node_modules/x/index.js", "node_modules/y.js", "app/main.js", "build/out.o", "lib/build/keep.c", "lib/a.o", "lib/keep.o" })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(source, f))!);
            await File.WriteAllTextAsync(Path.Combine(source, f), f);
        }

        using var harness = await EngineHarness.LocalAsync(_temp.Sub("repo"));
        var (result, _) = await harness.BackupAsync(new BackupRequest { Paths = [source], Excludes = ["node_modules/", "/build", "*.o", "!keep.o"] });
        await harness.RestoreAsync(_temp.Sub("out"));

        var restored = Directory.GetFiles(_temp.Sub("out/src"), "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(_temp.Sub("out/src"), f)).Order(StringComparer.Ordinal);
        Assert.Equal(["app/main.js", "lib/build/keep.c", "lib/keep.o"], restored);
        Assert.Equal(["node_modules/", "/build", "*.o", "!keep.o"], result.Manifest.Excludes);
    }

    [Fact]
    public async Task Backup_LocalRepositoryInsideTheTree_IsNotBackedUpIntoItself()
    {
        var source = _temp.Sub("src");
        Directory.CreateDirectory(source);
        await File.WriteAllTextAsync(Path.Combine(source, "a.txt"), "a");
        using var harness = await EngineHarness.LocalAsync(Path.Combine(source, ".repo"));

        await harness.BackupAsync(source);
        await harness.RestoreAsync(_temp.Sub("out"));

        Assert.Equal(["a.txt"], Directory.EnumerateFileSystemEntries(_temp.Sub("out/src")).Select(Path.GetFileName));
    }

    [Fact]
    public async Task BackupThenRestore_AsRoot_OwnerAndGroupRestored()
    {
        Assert.True(new UnixFileSystem().IsRoot, "this test runs as root (CI does); owners are only restored by root");
        var source = _temp.Sub("src");
        Directory.CreateDirectory(source);
        var file = Path.Combine(source, "owned.txt");
        await File.WriteAllTextAsync(file, "x");
        Assert.Equal(0, Syscall.lchown(file, 1234, 5678));
        File.CreateSymbolicLink(Path.Combine(source, "owned-link"), "owned.txt");
        Assert.Equal(0, Syscall.lchown(Path.Combine(source, "owned-link"), 4321, 8765));
        using var harness = await EngineHarness.LocalAsync(_temp.Sub("repo"));

        await harness.BackupAsync(source);
        await harness.RestoreAsync(_temp.Sub("out"));

        Assert.Empty(TreeComparer.Compare(source, _temp.Sub("out/src"), compareOwners: true));
        var st = new UnixFileSystem().Lstat(_temp.Sub("out/src/owned-link"));
        Assert.Equal((4321u, 8765u), (st.Uid, st.Gid));
    }

    public void Dispose() => _temp.Dispose();
}
