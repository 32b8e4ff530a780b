using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace SpotDevBox.Core.FileSystem;

/// <summary>
/// The few libc calls .NET does not offer: an open that neither blocks on a FIFO nor follows a symbolic link,
/// the owner and type of an open file, and an fsync of a directory. Linux with glibc (Debian, Amazon Linux); statx has
/// one layout on every architecture, unlike struct stat.
/// </summary>
internal static partial class Posix
{
    // The soname, not "libc": "libc.so" is a linker script that only a development package installs.
    private const string LibC = "libc.so.6";

    public const int ENOENT = 2;
    public const int EEXIST = 17;
    public const int ENOTDIR = 20;
    public const int ELOOP = 40;

    public const uint S_IFMT = 0xF000;
    public const uint S_IFREG = 0x8000;
    public const uint S_IFDIR = 0x4000;
    public const uint S_IFLNK = 0xA000;

    private const int O_RDONLY = 0;
    private const int O_NOCTTY = 0x100;
    private const int O_NONBLOCK = 0x800;
    private const int O_CLOEXEC = 0x80000;
    private const int AT_EMPTY_PATH = 0x1000;
    private const int AT_SYMLINK_NOFOLLOW = 0x100;
    private const int AT_FDCWD = -100;
    private const uint STATX_BASIC_STATS = 0x7FF;

    // The generic flag values (arm64 and most others) differ from x86's for these two.
    private static int O_DIRECTORY => RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.X86 ? 0x10000 : 0x4000;

    private static int O_NOFOLLOW => RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.X86 ? 0x20000 : 0x8000;

    /// <summary>Opens <paramref name="path"/> for reading without blocking (a FIFO opens at once) and without following a final symbolic link.</summary>
    /// <returns>The handle, or null with <paramref name="errno"/> set.</returns>
    public static SafeFileHandle? OpenNoFollowNonBlocking(string path, out int errno)
    {
        var fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0);
        errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        return fd < 0 ? null : new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>fsync of a directory, so that a rename in it survives a crash.</summary>
    public static void FsyncDirectory(string directory)
    {
        var fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
        if (fd < 0)
        {
            throw new IOException($"cannot open directory {directory} to flush it: errno {Marshal.GetLastPInvokeError()}");
        }

        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        if (fsync(fd) != 0)
        {
            throw new IOException($"cannot flush directory {directory}: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>The type, mode, owner and size of an open file (fstat).</summary>
    public static FileFacts Stat(SafeFileHandle handle)
    {
        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            return Statx((int)handle.DangerousGetHandle(), "", AT_EMPTY_PATH);
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>lstat: the facts of <paramref name="path"/> itself, a symbolic link not followed; null when it does not exist.</summary>
    public static FileFacts? LinkStat(string path)
    {
        try
        {
            return Statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    private static unsafe FileFacts Statx(int dirfd, string path, int flags)
    {
        // struct statx: mask u32 @0, blksize u32 @4, attributes u64 @8, nlink u32 @16, uid u32 @20, gid u32 @24,
        // mode u16 @28, ino u64 @32, size u64 @40; 256 bytes in all.
        var buffer = stackalloc byte[256];
        if (statx(dirfd, path, flags, STATX_BASIC_STATS, buffer) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno is ENOENT or ENOTDIR)
            {
                throw new FileNotFoundException($"{path} does not exist", path);
            }

            throw new IOException($"cannot stat {path}: errno {errno}");
        }

        return new FileFacts(*(ushort*)(buffer + 28), *(uint*)(buffer + 20), *(uint*)(buffer + 24), *(long*)(buffer + 40));
    }

    [LibraryImport(LibC, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags, uint mode);

    [LibraryImport(LibC, SetLastError = true)]
    private static partial int fsync(int fd);

    /// <summary>link(2): a second name for <paramref name="existing"/>; fails with EEXIST when <paramref name="newPath"/> exists, never replacing it.</summary>
    /// <returns>0, or the errno.</returns>
    public static int Link(string existing, string newPath) => link(existing, newPath) == 0 ? 0 : Marshal.GetLastPInvokeError();

    [LibraryImport(LibC, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int link(string existing, string newPath);

    [LibraryImport(LibC, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int statx(int dirfd, string path, int flags, uint mask, byte* buffer);
}

/// <summary>What stat says of a file: <paramref name="Mode"/> holds the type bits (S_IFMT) and the permission bits.</summary>
internal readonly record struct FileFacts(uint Mode, uint Uid, uint Gid, long Size)
{
    public uint Type => Mode & Posix.S_IFMT;

    public bool IsRegularFile => Type == Posix.S_IFREG;

    public bool IsDirectory => Type == Posix.S_IFDIR;

    public bool IsSymbolicLink => Type == Posix.S_IFLNK;

    public string TypeName => Type switch
    {
        Posix.S_IFREG => "regular file",
        Posix.S_IFDIR => "directory",
        Posix.S_IFLNK => "symbolic link",
        0x1000 => "FIFO",
        0x2000 => "character device",
        0x6000 => "block device",
        0xC000 => "socket",
        _ => "unknown file type",
    };
}
