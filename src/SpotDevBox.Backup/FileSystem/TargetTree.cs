using Microsoft.Win32.SafeHandles;
using Mono.Unix.Native;

namespace SpotDevBox.Backup.FileSystem;

/// <summary>What restore is about to do to one entry beneath the target (see <see cref="TargetTree.BeforeStep"/>).</summary>
internal enum RestoreStep
{
    CreateDirectory,
    CreateFile,
    Rename,
    HardLink,
    Symlink,
    Metadata,
    Delete,
}

/// <summary>
/// A restore target, held open, and the directories beneath it, each reached from its parent's handle with
/// <c>openat(O_DIRECTORY|O_NOFOLLOW)</c>, one name at a time. Every change goes through an *at() call on the
/// held handle of the entry's directory with a single name and never follows a symlink at that name, so no
/// symlink beneath the target is ever followed: a local writer that swaps a directory for a symlink while
/// the restore runs (as root, at boot) cannot make it write, link, change or remove anything outside.
/// </summary>
/// <remarks>
/// Paths are relative to the target and '/'-separated; their names are the snapshot's, which restore has
/// validated (never empty, ".", ".." or containing '/'). A directory swapped out after its handle was taken
/// keeps being written through that handle, wherever it now is, and a deleted one fails with ENOENT; one
/// swapped before is refused (ELOOP or ENOTDIR). Handles of the most recently used directories stay open
/// (at most <see cref="MaxOpenDirectories"/>), so writing many files in one directory resolves it once; a
/// handle evicted while an operation uses it is closed when that operation ends.
/// </remarks>
internal sealed class TargetTree : IDisposable
{
    internal const int MaxOpenDirectories = 64;

    private const OpenFlags DirectoryFlags = OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY | OpenFlags.O_NOFOLLOW | OpenFlags.O_CLOEXEC;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, LinkedListNode<(string Relative, SafeFileHandle Handle)>> _open = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Relative, SafeFileHandle Handle)> _recent = new();
    private readonly SafeFileHandle _root;

    /// <summary>Opens <paramref name="root"/>, which must be a directory. The root itself is the caller's choice and may be reached through symlinks.</summary>
    public TargetTree(string root)
    {
        Root = root;
        var fd = Syscall.open(root, DirectoryFlags & ~OpenFlags.O_NOFOLLOW);
        _root = fd >= 0 ? new SafeFileHandle(fd, ownsHandle: true) : throw UnixFileSystem.LastError("open", root);
    }

    public string Root { get; }

    /// <summary>Test seam: called with the step and the entry after its directory is resolved and before the step changes anything.</summary>
    public Action<RestoreStep, string>? BeforeStep { get; init; }

    /// <summary>The full path of <paramref name="relative"/>, for messages only: never opened.</summary>
    public string FullPath(string relative) => relative.Length == 0 ? Root : Path.Join(Root, relative);

    /// <summary>lstat of the entry; null when nothing is there. Throws when a directory on its way is not a directory.</summary>
    public FileStatus? TryLstat(string relative, RestoreStep? step = null) => At<FileStatus?>(relative, step, (fd, name) =>
    {
        if (Syscall.fstatat(fd, name, out var st, AtFlags.AT_SYMLINK_NOFOLLOW) == 0)
        {
            return UnixFileSystem.ToStatus(st, FullPath(relative));
        }

        var error = Stdlib.GetLastError();
        return error == Errno.ENOENT ? null : throw UnixFileSystem.ToException(error, "fstatat", FullPath(relative));
    });

    public void CreateDirectory(string relative) => At(relative, RestoreStep.CreateDirectory, (fd, name) =>
        // Owner-only until restore sets the snapshot's mode last: nobody else can reach in meanwhile.
        Check(Syscall.mkdirat(fd, name, FilePermissions.S_IRWXU), "mkdirat", relative));

    /// <summary>Creates a new regular file for writing; fails if anything (a symlink included) is already at the name.</summary>
    public SafeFileHandle CreateNewFile(string relative) => At(relative, RestoreStep.CreateFile, (fd, name) =>
    {
        var file = Syscall.openat(fd, name, OpenFlags.O_WRONLY | OpenFlags.O_CREAT | OpenFlags.O_EXCL | OpenFlags.O_NOFOLLOW | OpenFlags.O_CLOEXEC, FilePermissions.S_IRUSR | FilePermissions.S_IWUSR);
        return file >= 0 ? new SafeFileHandle(file, ownsHandle: true) : throw UnixFileSystem.LastError("openat", FullPath(relative));
    });

    /// <summary>rename(2) of an entry onto another name in the same directory; a symlink at the destination is replaced, not followed.</summary>
    public void Rename(string fromRelative, string toRelative)
    {
        if (!string.Equals(Parent(fromRelative), Parent(toRelative), StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{fromRelative}' and '{toRelative}' are not in one directory");
        }

        At(toRelative, RestoreStep.Rename, (fd, name) => Check(Syscall.renameat(fd, Name(fromRelative), fd, name), "renameat", toRelative));
    }

    /// <summary>Makes <paramref name="newRelative"/> another name of the inode at <paramref name="existingRelative"/> (never of a symlink's target).</summary>
    public void HardLink(string existingRelative, string newRelative)
    {
        using var existingDirectory = Acquire(Parent(existingRelative));
        At(newRelative, RestoreStep.HardLink, (fd, name) => Check(Syscall.linkat(existingDirectory.Fd, Name(existingRelative), fd, name, 0), "linkat", newRelative));
    }

    public void Symlink(string target, string relative) => At(relative, RestoreStep.Symlink, (fd, name) =>
        Check(Syscall.symlinkat(target, fd, name), "symlinkat", relative));

    public string ReadLink(string relative) => At(relative, null, (fd, name) =>
    {
        for (var size = 256; ; size *= 2)
        {
            var buffer = new byte[size];
            var length = Syscall.readlinkat(fd, name, buffer);
            if (length < 0)
            {
                throw UnixFileSystem.LastError("readlinkat", FullPath(relative));
            }

            if (length < size)
            {
                return Mono.Unix.UnixEncoding.Instance.GetString(buffer, 0, (int)length);
            }
        }
    });

    public void SetOwner(string relative, uint uid, uint gid) => At(relative, null, (fd, name) =>
        Check(Syscall.fchownat(fd, name, unchecked((int)uid), unchecked((int)gid), AtFlags.AT_SYMLINK_NOFOLLOW), "fchownat", relative));

    public void SetTimes(string relative, long mtimeNs) => At(relative, null, (fd, name) =>
    {
        var time = UnixFileSystem.ToTimespec(mtimeNs);
        return Check(Syscall.utimensat(fd, name, [time, time], AtFlags.AT_SYMLINK_NOFOLLOW), "utimensat", relative);
    });

    /// <summary>Sets permission bits; refuses a symlink (Linux keeps none on it) instead of changing its target.</summary>
    public void SetMode(string relative, uint mode) => At(relative, null, (fd, name) =>
    {
        if ((mode & ~UnixFileSystem.PermissionBits) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(mode), mode, $"mode must be permission bits only (at most 0o7777), got 0o{Convert.ToString(mode, 8)} for '{FullPath(relative)}'");
        }

        if (Syscall.fchmodat(fd, name, (FilePermissions)mode, AtFlags.AT_SYMLINK_NOFOLLOW) == 0)
        {
            return 0;
        }

        var error = Stdlib.GetLastError();
        if (error != Errno.EOPNOTSUPP)
        {
            throw UnixFileSystem.ToException(error, "fchmodat", FullPath(relative));
        }

        // EOPNOTSUPP: a symlink, or a C library older than glibc 2.32 that cannot do AT_SYMLINK_NOFOLLOW at all.
        // Opening with O_NOFOLLOW refuses a symlink (ELOOP) in the same call that reaches anything else.
        var entry = Syscall.openat(fd, name, OpenFlags.O_RDONLY | OpenFlags.O_NOFOLLOW | OpenFlags.O_NONBLOCK | OpenFlags.O_NOCTTY | OpenFlags.O_CLOEXEC);
        if (entry < 0)
        {
            var openError = Stdlib.GetLastError();
            throw openError == Errno.ELOOP
                ? new IOException($"chmod '{FullPath(relative)}': it is a symbolic link, and Linux keeps no permissions on symbolic links")
                : UnixFileSystem.ToException(openError, "openat", FullPath(relative));
        }

        try
        {
            return Check(Syscall.fchmod(entry, (FilePermissions)mode), "fchmod", relative);
        }
        finally
        {
            _ = Syscall.close(entry);
        }
    });

    /// <summary>Removes a file, symlink or (with <paramref name="directory"/>) a whole directory tree at the name, never following a symlink.</summary>
    public void Remove(string relative, bool directory)
    {
        At(relative, RestoreStep.Delete, (fd, name) =>
        {
            if (directory)
            {
                RemoveTreeAt(fd, name, relative);
            }
            else
            {
                Check(Syscall.unlinkat(fd, name, 0), "unlinkat", relative);
            }

            return 0;
        });

        if (directory)
        {
            Forget(relative);
        }
    }

    /// <summary>Removes a file at the name if it is there; failures are ignored (a leftover temporary file is harmless).</summary>
    public void TryRemoveFile(string relative)
    {
        try
        {
            At(relative, null, (fd, name) => Syscall.unlinkat(fd, name, 0));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // the directory is gone or is no longer a directory: there is nothing of ours to remove
        }
    }

    /// <summary>The names in a directory (without "." and "..").</summary>
    public List<string> List(string relativeDirectory)
    {
        using var directory = Acquire(relativeDirectory);
        return ListFd(directory.Fd, relativeDirectory);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var (_, handle) in _recent)
            {
                handle.Dispose();
            }

            _recent.Clear();
            _open.Clear();
        }

        _root.Dispose();
    }

    private static string Parent(string relative)
    {
        var slash = relative.LastIndexOf('/');
        return slash < 0 ? "" : relative[..slash];
    }

    private static string Name(string relative) => relative[(relative.LastIndexOf('/') + 1)..];

    private int Check(int result, string operation, string relative) =>
        result == 0 ? 0 : throw UnixFileSystem.LastError(operation, FullPath(relative));

    private T At<T>(string relative, RestoreStep? step, Func<int, string, T> operation)
    {
        using var directory = Acquire(Parent(relative));
        if (step is { } s)
        {
            BeforeStep?.Invoke(s, relative);
        }

        return operation(directory.Fd, Name(relative));
    }

    private Lease Acquire(string relativeDirectory)
    {
        if (relativeDirectory.Length == 0)
        {
            return new Lease(_root);
        }

        lock (_gate)
        {
            if (_open.TryGetValue(relativeDirectory, out var node))
            {
                _recent.Remove(node);
                _recent.AddFirst(node);
                return new Lease(node.Value.Handle);
            }
        }

        SafeFileHandle opened;
        using (var parent = Acquire(Parent(relativeDirectory)))
        {
            var fd = Syscall.openat(parent.Fd, Name(relativeDirectory), DirectoryFlags);
            if (fd < 0)
            {
                var error = Stdlib.GetLastError();
                throw error is Errno.ELOOP or Errno.ENOTDIR
                    ? new IOException($"'{FullPath(relativeDirectory)}' is not a directory: a symbolic link or another file is in its place, and restore does not follow or replace it while writing beneath it")
                    : UnixFileSystem.ToException(error, "openat", FullPath(relativeDirectory));
            }

            opened = new SafeFileHandle(fd, ownsHandle: true);
        }

        lock (_gate)
        {
            if (_open.TryGetValue(relativeDirectory, out var raced))
            {
                opened.Dispose();
                return new Lease(raced.Value.Handle);
            }

            _open[relativeDirectory] = _recent.AddFirst((relativeDirectory, opened));
            while (_recent.Count > MaxOpenDirectories)
            {
                var oldest = _recent.Last!;
                _recent.RemoveLast();
                _open.Remove(oldest.Value.Relative);
                oldest.Value.Handle.Dispose();
            }

            return new Lease(opened);
        }
    }

    /// <summary>Drops the handles of a removed directory and of everything that was beneath it.</summary>
    private void Forget(string relative)
    {
        lock (_gate)
        {
            var prefix = relative + "/";
            foreach (var key in _open.Keys.Where(k => k == relative || k.StartsWith(prefix, StringComparison.Ordinal)).ToList())
            {
                var node = _open[key];
                _open.Remove(key);
                _recent.Remove(node);
                node.Value.Handle.Dispose();
            }
        }
    }

    private void RemoveTreeAt(int parentFd, string name, string relative)
    {
        var fd = Syscall.openat(parentFd, name, DirectoryFlags);
        if (fd < 0)
        {
            throw UnixFileSystem.LastError("openat", FullPath(relative));
        }

        try
        {
            foreach (var child in ListFd(fd, relative))
            {
                var childRelative = relative + "/" + child;
                if (Syscall.fstatat(fd, child, out var st, AtFlags.AT_SYMLINK_NOFOLLOW) != 0)
                {
                    throw UnixFileSystem.LastError("fstatat", FullPath(childRelative));
                }

                if ((st.st_mode & FilePermissions.S_IFMT) == FilePermissions.S_IFDIR)
                {
                    RemoveTreeAt(fd, child, childRelative);
                }
                else
                {
                    Check(Syscall.unlinkat(fd, child, 0), "unlinkat", childRelative);
                }
            }
        }
        finally
        {
            _ = Syscall.close(fd);
        }

        Check(Syscall.unlinkat(parentFd, name, AtFlags.AT_REMOVEDIR), "unlinkat", relative);
    }

    private List<string> ListFd(int fd, string relative)
    {
        // fdopendir takes the descriptor it is given; a duplicate leaves the held one open. A duplicate shares
        // the read position, so start from the beginning.
        var copy = Syscall.dup(fd);
        if (copy < 0)
        {
            throw UnixFileSystem.LastError("dup", FullPath(relative));
        }

        var stream = Syscall.fdopendir(copy);
        if (stream == IntPtr.Zero)
        {
            var error = Stdlib.GetLastError();
            _ = Syscall.close(copy);
            throw UnixFileSystem.ToException(error, "fdopendir", FullPath(relative));
        }

        try
        {
            _ = Syscall.rewinddir(stream);
            var names = new List<string>();
            while (true)
            {
                // readdir(3) signals an error only through errno, which Mono.Unix cannot clear first; reading a
                // directory already open does not fail in practice, and a name missed is only an extra file kept.
                var entry = Syscall.readdir(stream);
                if (entry is null)
                {
                    return names;
                }

                if (entry.d_name is not "." and not "..")
                {
                    names.Add(entry.d_name);
                }
            }
        }
        finally
        {
            _ = Syscall.closedir(stream);
        }
    }

    /// <summary>A directory handle kept open for one operation, even if the cache closes it meanwhile.</summary>
    private readonly struct Lease : IDisposable
    {
        private readonly SafeFileHandle _handle;

        public Lease(SafeFileHandle handle)
        {
            var added = false;
            handle.DangerousAddRef(ref added);
            _handle = handle;
            Fd = (int)handle.DangerousGetHandle();
        }

        public int Fd { get; }

        public void Dispose() => _handle.DangerousRelease();
    }
}
