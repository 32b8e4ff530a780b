using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Mono.Unix.Native;
using SpotDevBox.Backup.FileSystem;

namespace SpotDevBox.Backup.Tests.FileSystem;

public sealed class UnixFileSystemTests : IDisposable
{
    private readonly UnixFileSystem fileSystem = new();
    private readonly string root = Directory.CreateTempSubdirectory("spotdevbox-fs-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void Lstat_RegularFile_ReportsKindSizeOwnerAndOneLink()
    {
        var path = File("data.bin", "hello");

        var status = fileSystem.Lstat(path);

        Assert.Equal(FileKind.RegularFile, status.Type);
        Assert.Equal(5, status.Size);
        Assert.Equal(1UL, status.LinkCount);
        Assert.Equal(Syscall.geteuid(), status.Uid);
        Assert.Equal(Syscall.getegid(), status.Gid);
    }

    [Fact]
    public void Lstat_Directory_ReportsDirectory()
    {
        Assert.Equal(FileKind.Directory, fileSystem.Lstat(root).Type);
    }

    [Fact]
    public void Lstat_Symlink_DescribesTheLinkNotTheTarget()
    {
        var target = File("target.txt", "a longer content than the link");
        var link = Path.Combine(root, "link");
        fileSystem.CreateSymlink("target.txt", link);

        var status = fileSystem.Lstat(link);

        Assert.Equal(FileKind.Symlink, status.Type);
        Assert.Equal("target.txt".Length, status.Size);
        Assert.NotEqual(fileSystem.Lstat(target).Inode, status.Inode);
    }

    [Fact]
    public void Lstat_Fifo_ReportsFifo()
    {
        var path = Path.Combine(root, "pipe");
        Assert.Equal(0, Syscall.mkfifo(path, FilePermissions.S_IRUSR | FilePermissions.S_IWUSR));

        Assert.Equal(FileKind.Fifo, fileSystem.Lstat(path).Type);
    }

    [Fact]
    public void Lstat_UnixSocket_ReportsSocket()
    {
        var path = Path.Combine(root, "agent.sock");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));

        Assert.Equal(FileKind.Socket, fileSystem.Lstat(path).Type);
    }

    [Fact]
    public void Lstat_DevNull_ReportsCharDevice()
    {
        Assert.Equal(FileKind.CharDevice, fileSystem.Lstat("/dev/null").Type);
    }

    [Fact]
    public void Lstat_MissingPath_ThrowsFileNotFoundNamingThePath()
    {
        var path = Path.Combine(root, "missing");

        var e = Assert.Throws<FileNotFoundException>(() => fileSystem.Lstat(path));

        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Equal(path, e.FileName);
    }

    [Fact]
    public void Lstat_PathThroughAFile_ThrowsFileNotFound()
    {
        var path = Path.Combine(File("plain", "x"), "child");

        Assert.Throws<FileNotFoundException>(() => fileSystem.Lstat(path));
    }

    [Fact]
    public void SetTimes_NanosecondMtime_RoundTripsExactly()
    {
        var path = File("file", "x");
        const long mtime = 1_700_000_000_123_456_789; // 2023-11-14T22:13:20.123456789Z

        fileSystem.SetTimes(path, mtime, isSymlink: false);

        Assert.Equal(mtime, fileSystem.Lstat(path).MtimeNs);
    }

    [Fact]
    public void SetTimes_BeforeTheEpoch_RoundTripsExactly()
    {
        var path = File("old", "x");
        const long mtime = -1_500_000_001; // 1969-12-31T23:59:58.499999999Z: seconds -2, nanoseconds 499999999

        fileSystem.SetTimes(path, mtime, isSymlink: false);

        Assert.Equal(mtime, fileSystem.Lstat(path).MtimeNs);
    }

    [Fact]
    public void SetTimes_Symlink_ChangesTheLinkAndNotTheTarget()
    {
        var target = File("target", "x");
        const long targetTime = 1_600_000_000_000_000_001;
        const long linkTime = 1_650_000_000_987_654_321;
        fileSystem.SetTimes(target, targetTime, isSymlink: false);
        var link = Path.Combine(root, "link");
        fileSystem.CreateSymlink("target", link);

        fileSystem.SetTimes(link, linkTime, isSymlink: true);

        Assert.Equal(linkTime, fileSystem.Lstat(link).MtimeNs);
        Assert.Equal(targetTime, fileSystem.Lstat(target).MtimeNs);
    }

    [Fact]
    public void SetTimes_SymlinkPassedAsNotSymlink_StillDoesNotFollowIt()
    {
        var target = File("target", "x");
        const long targetTime = 1_600_000_000_000_000_001;
        fileSystem.SetTimes(target, targetTime, isSymlink: false);
        var link = Path.Combine(root, "link");
        fileSystem.CreateSymlink("target", link);

        fileSystem.SetTimes(link, 1_650_000_000_000_000_000, isSymlink: false);

        Assert.Equal(targetTime, fileSystem.Lstat(target).MtimeNs);
    }

    [Fact]
    public void CreateHardLink_ExistingFile_BothNamesShareTheInodeAndCountTwoLinks()
    {
        var original = File("original", "shared");
        var second = Path.Combine(root, "second");

        fileSystem.CreateHardLink(original, second);

        var first = fileSystem.Lstat(original);
        var other = fileSystem.Lstat(second);
        Assert.Equal(first.Inode, other.Inode);
        Assert.Equal(first.Device, other.Device);
        Assert.Equal(2UL, first.LinkCount);
        Assert.Equal(2UL, other.LinkCount);
    }

    [Fact]
    public void CreateHardLink_Directory_ThrowsUnauthorizedAccessNamingThePath()
    {
        // link(2) refuses directories with EPERM, even for root.
        var directory = Directory.CreateDirectory(Path.Combine(root, "dir")).FullName;
        var newPath = Path.Combine(root, "dir-link");

        var e = Assert.Throws<UnauthorizedAccessException>(() => fileSystem.CreateHardLink(directory, newPath));

        Assert.Contains(newPath, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CreateSymlink_PathExists_ThrowsIOExceptionNamingThePath()
    {
        var existing = File("taken", "x");

        var e = Assert.Throws<IOException>(() => fileSystem.CreateSymlink("elsewhere", existing));

        Assert.Contains(existing, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("4755")]
    [InlineData("2750")]
    [InlineData("0600")]
    [InlineData("0000")]
    [InlineData("7777")]
    public void SetMode_File_RoundTripsAllPermissionBits(string octal)
    {
        var path = File("file", "x");
        var mode = Convert.ToUInt32(octal, 8);

        fileSystem.SetMode(path, mode);

        Assert.Equal(mode, fileSystem.Lstat(path).Mode);
    }

    [Fact]
    public void SetMode_StickyDirectory_RoundTrips()
    {
        var directory = Directory.CreateDirectory(Path.Combine(root, "shared")).FullName;

        fileSystem.SetMode(directory, 0b001_111_111_111); // 0o1777

        Assert.Equal(0b001_111_111_111u, fileSystem.Lstat(directory).Mode);
    }

    [Fact]
    public void SetMode_Symlink_ThrowsAndLeavesTheTargetAlone()
    {
        var target = File("target", "x");
        fileSystem.SetMode(target, 0b110_100_100); // 0o644
        var link = Path.Combine(root, "link");
        fileSystem.CreateSymlink("target", link);

        var e = Assert.Throws<IOException>(() => fileSystem.SetMode(link, 0b111_111_111));

        Assert.Contains(link, e.Message, StringComparison.Ordinal);
        Assert.Equal(0b110_100_100u, fileSystem.Lstat(target).Mode);
    }

    [Fact]
    public void SetMode_FileTypeBits_ThrowsArgumentOutOfRange()
    {
        var path = File("file", "x");

        Assert.Throws<ArgumentOutOfRangeException>(() => fileSystem.SetMode(path, 0b1_000_000_110_100_100)); // 0o100644
    }

    [Fact]
    public void Lstat_AfterChmod_CtimeAdvances()
    {
        var path = File("file", "x");
        var before = fileSystem.Lstat(path).CtimeNs;

        // The kernel stamps ctime from a clock that may only tick every few milliseconds.
        Thread.Sleep(50);
        fileSystem.SetMode(path, 0b111_000_000);

        Assert.True(fileSystem.Lstat(path).CtimeNs > before);
    }

    [Fact]
    public void ReadLink_RelativeDanglingTarget_ReturnsItVerbatim()
    {
        var link = Path.Combine(root, "dangling");
        fileSystem.CreateSymlink("../nowhere/./x", link);

        Assert.Equal("../nowhere/./x", fileSystem.ReadLink(link));
    }

    [Fact]
    public void ReadLink_TargetLongerThanTheFirstBuffer_ReturnsAllOfIt()
    {
        var target = string.Concat(Enumerable.Repeat("segment/", 125)) + "end"; // 1003 characters
        var link = Path.Combine(root, "long");
        fileSystem.CreateSymlink(target, link);

        Assert.Equal(target, fileSystem.ReadLink(link));
    }

    [Fact]
    public void ReadLink_TargetNotValidUtf8_RoundTripsByteForByteThroughCreateSymlink()
    {
        byte[] target = [(byte)'c', (byte)'a', (byte)'f', 0xE9, (byte)'/', 0xFF, (byte)'x'];
        var original = Path.Combine(root, "latin1");
        Assert.Equal(0, RawSymlink([.. target, 0], [.. Encoding.UTF8.GetBytes(original), 0]));
        var copy = Path.Combine(root, "copy");

        fileSystem.CreateSymlink(fileSystem.ReadLink(original), copy);

        var stored = new byte[64];
        var length = Syscall.readlink(copy, stored);
        Assert.Equal(target, stored[..(int)length]);
    }

    [Fact]
    public void ReadLink_RegularFile_ThrowsIOExceptionNamingThePath()
    {
        var path = File("plain", "x");

        var e = Assert.Throws<IOException>(() => fileSystem.ReadLink(path));

        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SetOwner_Symlink_ChangesTheLinkOnlyOrIsRefusedWithoutRoot()
    {
        var target = File("target", "x");
        var link = Path.Combine(root, "link");
        fileSystem.CreateSymlink("target", link);
        var targetOwner = fileSystem.Lstat(target).Uid;

        if (fileSystem.IsRoot)
        {
            fileSystem.SetOwner(link, 4242, 4343);

            var status = fileSystem.Lstat(link);
            Assert.Equal(4242u, status.Uid);
            Assert.Equal(4343u, status.Gid);
        }
        else
        {
            // Only root may give a file away (EPERM).
            var e = Assert.Throws<UnauthorizedAccessException>(() => fileSystem.SetOwner(link, 4242, 4343));
            Assert.Contains(link, e.Message, StringComparison.Ordinal);
        }

        Assert.Equal(targetOwner, fileSystem.Lstat(target).Uid);
    }

    [Fact]
    public void SetOwner_CurrentOwner_Succeeds()
    {
        var path = File("mine", "x");
        var status = fileSystem.Lstat(path);

        fileSystem.SetOwner(path, status.Uid, status.Gid);

        Assert.Equal(status.Uid, fileSystem.Lstat(path).Uid);
    }

    [Fact]
    public void IsRoot_MatchesTheEffectiveUidTheKernelReports()
    {
        // /proc/self/status: "Uid:\t<real>\t<effective>\t<saved>\t<fs>".
        var uidLine = System.IO.File.ReadLines("/proc/self/status").First(l => l.StartsWith("Uid:", StringComparison.Ordinal));
        var effective = uidLine.Split('\t', StringSplitOptions.RemoveEmptyEntries)[2];

        Assert.Equal(effective == "0", fileSystem.IsRoot);
    }

    [Fact]
    public void UserNameAndGroupName_IdZero_AreRoot()
    {
        Assert.Equal("root", fileSystem.UserName(0));
        Assert.Equal("root", fileSystem.GroupName(0));
    }

    [Fact]
    public void UserNameAndGroupName_UnknownId_AreNull()
    {
        Assert.Null(fileSystem.UserName(3_999_999_999));
        Assert.Null(fileSystem.GroupName(3_999_999_999));
    }

    private string File(string name, string content)
    {
        var path = Path.Combine(root, name);
        System.IO.File.WriteAllText(path, content);
        return path;
    }

    // Mono.Unix only takes strings, so a target that is not UTF-8 has to be made with libc directly.
    // DllImport rather than LibraryImport: the generated marshalling needs unsafe code, which this project does not allow.
    [DllImport("libc", EntryPoint = "symlink")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int RawSymlink(byte[] target, byte[] linkPath);
}
