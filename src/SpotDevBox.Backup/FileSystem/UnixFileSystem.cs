using System.Collections.Concurrent;
using Mono.Unix;
using Mono.Unix.Native;

namespace SpotDevBox.Backup.FileSystem;

/// <summary>
/// <see cref="IFileSystemMetadata"/> over Mono.Unix's thin syscall bindings.
/// </summary>
/// <remarks>
/// Paths and link targets go through Mono.Unix's <see cref="UnixEncoding"/>: UTF-8, except that bytes
/// which are not valid UTF-8 become escape characters that Mono.Unix turns back into the same bytes.
/// So a name or target read here is restored byte for byte by this class, but the escaped form means
/// nothing to <see cref="System.IO"/> APIs.
/// </remarks>
internal sealed class UnixFileSystem : IFileSystemMetadata
{
    internal const uint PermissionBits = 0xFFF; // 0o7777
    private const long NanosecondsPerSecond = 1_000_000_000;

    // A backup asks for the same few owners once per file; NSS lookups read /etc/passwd (or ask a
    // directory service) each time. Names do not change during a run, so remember them per instance.
    private readonly ConcurrentDictionary<uint, string?> userNames = new();
    private readonly ConcurrentDictionary<uint, string?> groupNames = new();

    public bool IsRoot => Syscall.geteuid() == 0;

    public FileStatus Lstat(string path) => TryLstat(path) ?? throw ToException(Errno.ENOENT, "lstat", path);

    public FileStatus? TryLstat(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Syscall.lstat(path, out var st) != 0)
        {
            // Absent is an answer, not an error: restore asks for every path it is about to create.
            var error = Stdlib.GetLastError();
            return error is Errno.ENOENT or Errno.ENOTDIR ? null : throw ToException(error, "lstat", path);
        }

        return ToStatus(st, path);
    }

    internal static FileStatus ToStatus(Stat st, string path) =>
        new(
            KindOf(st.st_mode, path),
            (uint)st.st_mode & PermissionBits,
            st.st_uid,
            st.st_gid,
            st.st_size,
            st.st_ino,
            st.st_dev,
            st.st_nlink,
            ToNanoseconds(st.st_mtime, st.st_mtime_nsec),
            ToNanoseconds(st.st_ctime, st.st_ctime_nsec));

    public string ReadLink(string path)
    {
        ArgumentNullException.ThrowIfNull(path);

        // readlink(2) does not say how long the target is; a result that fills the buffer may be cut off.
        for (var size = 256; ; size *= 2)
        {
            var buffer = new byte[size];
            var length = Syscall.readlink(path, buffer);
            if (length < 0)
            {
                throw LastError("readlink", path);
            }

            if (length < size)
            {
                return UnixEncoding.Instance.GetString(buffer, 0, (int)length);
            }
        }
    }

    public void SetOwner(string path, uint uid, uint gid)
    {
        ArgumentNullException.ThrowIfNull(path);

        // Mono.Unix marks its uint overload obsolete; the int one passes the same 32 bits to lchown(2).
        if (Syscall.lchown(path, unchecked((int)uid), unchecked((int)gid)) != 0)
        {
            throw LastError("lchown", path);
        }
    }

    public void SetTimes(string path, long mtimeNs, bool isSymlink)
    {
        ArgumentNullException.ThrowIfNull(path);
        var time = ToTimespec(mtimeNs);
        if (Syscall.utimensat(Syscall.AT_FDCWD, path, [time, time], AtFlags.AT_SYMLINK_NOFOLLOW) != 0)
        {
            throw LastError(isSymlink ? "utimensat (symlink)" : "utimensat", path);
        }
    }

    public void SetMode(string path, uint mode)
    {
        ArgumentNullException.ThrowIfNull(path);
        if ((mode & ~PermissionBits) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(mode), mode, $"mode must be permission bits only (at most 0o7777), got 0o{Convert.ToString(mode, 8)} for '{path}'");
        }

        // fchmodat with AT_SYMLINK_NOFOLLOW refuses a symlink (EOPNOTSUPP) in the same call that changes
        // anything else, so a path swapped for a symlink cannot redirect the chmod to its target.
        if (Syscall.fchmodat(Syscall.AT_FDCWD, path, (FilePermissions)mode, AtFlags.AT_SYMLINK_NOFOLLOW) == 0)
        {
            return;
        }

        var error = Stdlib.GetLastError();
        if (error != Errno.EOPNOTSUPP)
        {
            throw ToException(error, "fchmodat", path);
        }

        if (Lstat(path).Type == FileKind.Symlink)
        {
            throw new IOException($"chmod '{path}': it is a symbolic link, and Linux keeps no permissions on symbolic links");
        }

        // C libraries before glibc 2.32 reject AT_SYMLINK_NOFOLLOW outright; the path is not a symlink.
        if (Syscall.chmod(path, (FilePermissions)mode) != 0)
        {
            throw LastError("chmod", path);
        }
    }

    public void CreateSymlink(string target, string linkPath)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(linkPath);
        if (Syscall.symlink(target, linkPath) != 0)
        {
            throw LastError($"symlink '{target}' at", linkPath);
        }
    }

    public void CreateHardLink(string existingPath, string newPath)
    {
        ArgumentNullException.ThrowIfNull(existingPath);
        ArgumentNullException.ThrowIfNull(newPath);
        if (Syscall.link(existingPath, newPath) != 0)
        {
            throw LastError($"link '{existingPath}' as", newPath);
        }
    }

    public string? UserName(uint uid) => userNames.GetOrAdd(uid, static id =>
        // A non-zero result is "not found" on some C libraries and a lookup failure on others;
        // either way the name is unknown and the numeric id is what gets restored.
        Syscall.getpwuid_r(id, new Passwd(), out var entry) == 0 ? entry?.pw_name : null);

    public string? GroupName(uint gid) => groupNames.GetOrAdd(gid, static id =>
        Syscall.getgrgid_r(id, new Group(), out var entry) == 0 ? entry?.gr_name : null);

    public void SetMetadata(Microsoft.Win32.SafeHandles.SafeFileHandle handle, string pathForErrors, uint mode, long mtimeNs, (uint Uid, uint Gid)? owner)
    {
        ArgumentNullException.ThrowIfNull(handle);
        if ((mode & ~PermissionBits) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(mode), mode, $"mode must be permission bits only (at most 0o7777), got 0o{Convert.ToString(mode, 8)} for '{pathForErrors}'");
        }

        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            var fd = (int)handle.DangerousGetHandle();
            if (owner is { } o && Syscall.fchown(fd, (int)o.Uid, (int)o.Gid) != 0)
            {
                throw LastError("fchown", pathForErrors);
            }

            if (Syscall.fchmod(fd, (FilePermissions)mode) != 0)
            {
                throw LastError("fchmod", pathForErrors);
            }

            var time = ToTimespec(mtimeNs);
            if (Syscall.futimens(fd, [time, time]) != 0)
            {
                throw LastError("futimens", pathForErrors);
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    private static FileKind KindOf(FilePermissions mode, string path) => (mode & FilePermissions.S_IFMT) switch
    {
        FilePermissions.S_IFREG => FileKind.RegularFile,
        FilePermissions.S_IFDIR => FileKind.Directory,
        FilePermissions.S_IFLNK => FileKind.Symlink,
        FilePermissions.S_IFSOCK => FileKind.Socket,
        FilePermissions.S_IFIFO => FileKind.Fifo,
        FilePermissions.S_IFCHR => FileKind.CharDevice,
        FilePermissions.S_IFBLK => FileKind.BlockDevice,
        var other => throw new IOException($"lstat '{path}': unknown file type 0o{Convert.ToString((uint)other, 8)}"),
    };

    private static long ToNanoseconds(long seconds, long nanoseconds) => (seconds * NanosecondsPerSecond) + nanoseconds;

    internal static Timespec ToTimespec(long nanoseconds)
    {
        // tv_nsec must be in [0, 1e9) even before 1970, so round the seconds down, not toward zero.
        var seconds = Math.DivRem(nanoseconds, NanosecondsPerSecond, out var remainder);
        if (remainder < 0)
        {
            seconds--;
            remainder += NanosecondsPerSecond;
        }

        return new Timespec { tv_sec = seconds, tv_nsec = remainder };
    }

    internal static Exception LastError(string operation, string path) => ToException(Stdlib.GetLastError(), operation, path);

    internal static Exception ToException(Errno error, string operation, string path)
    {
        var message = $"{operation} '{path}': {UnixMarshal.GetErrorDescription(error)} ({error})";
        return error switch
        {
            Errno.ENOENT or Errno.ENOTDIR => new FileNotFoundException(message, path),
            Errno.EACCES or Errno.EPERM => new UnauthorizedAccessException(message),
            _ => new IOException(message, NativeConvert.FromErrno(error)),
        };
    }
}
