namespace SpotDevBox.Backup.FileSystem;

/// <summary>
/// The POSIX metadata calls the backup and restore engines need and .NET does not expose (lstat with
/// nanosecond times, lchown, utimensat on symlinks, hard links, user and group names). None of them
/// follows a symlink at the last path component. Failures surface as <see cref="FileNotFoundException"/>
/// (the path does not exist), <see cref="UnauthorizedAccessException"/> (EACCES, EPERM) or
/// <see cref="IOException"/>, each naming the path.
/// </summary>
public interface IFileSystemMetadata
{
    /// <summary>True when the process runs with effective uid 0, i.e. may restore ownership.</summary>
    bool IsRoot { get; }

    /// <summary>Status of the entry itself (lstat): a symlink is described, not followed.</summary>
    FileStatus Lstat(string path);

    /// <summary>The target stored in a symlink, verbatim (not resolved, may be relative or dangling).</summary>
    string ReadLink(string path);

    /// <summary>Sets the owner of the entry itself (lchown); on a symlink the target keeps its owner.</summary>
    void SetOwner(string path, uint uid, uint gid);

    /// <summary>
    /// Sets the modification time (and the access time, to the same value) with nanosecond precision.
    /// The call never follows a symlink at <paramref name="path"/>, whatever <paramref name="isSymlink"/>
    /// says: a restore must not touch a file outside the tree through a link that was swapped in.
    /// <paramref name="isSymlink"/> documents the caller's intent.
    /// </summary>
    void SetTimes(string path, long mtimeNs, bool isSymlink);

    /// <summary>
    /// Sets permission bits (0 to 0o7777, including setuid, setgid and sticky). Throws <see cref="IOException"/>
    /// for a symlink instead of changing its target: Linux keeps no permissions on symlinks.
    /// </summary>
    void SetMode(string path, uint mode);

    /// <summary>Creates <paramref name="linkPath"/> as a symlink whose content is <paramref name="target"/>, stored as given.</summary>
    void CreateSymlink(string target, string linkPath);

    /// <summary>Creates <paramref name="newPath"/> as another name of the inode at <paramref name="existingPath"/>.</summary>
    void CreateHardLink(string existingPath, string newPath);

    /// <summary>The name of user <paramref name="uid"/>, or null when the system does not know it.</summary>
    string? UserName(uint uid);

    /// <summary>The name of group <paramref name="gid"/>, or null when the system does not know it.</summary>
    string? GroupName(uint gid);

    /// <summary>
    /// Sets owner (when given), permission bits and mtime of an open regular file through its handle:
    /// no path lookup, so nothing can redirect it, and no extra open. Owner first, since chown clears setuid.
    /// </summary>
    void SetMetadata(Microsoft.Win32.SafeHandles.SafeFileHandle handle, string pathForErrors, uint mode, long mtimeNs, (uint Uid, uint Gid)? owner);

    /// <summary>Like <see cref="Lstat"/>, but null when nothing exists at the path (no exception).</summary>
    FileStatus? TryLstat(string path);
}
