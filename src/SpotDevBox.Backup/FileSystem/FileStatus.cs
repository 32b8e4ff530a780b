namespace SpotDevBox.Backup.FileSystem;

/// <summary>The kind of a directory entry, from the file-type bits of <c>st_mode</c>.</summary>
public enum FileKind
{
    RegularFile,
    Directory,
    Symlink,
    Socket,
    Fifo,
    CharDevice,
    BlockDevice,
}

/// <summary>
/// What <c>lstat(2)</c> says about a path, in the units the repository stores. Times are nanoseconds since
/// the Unix epoch (a long covers the years 1678 to 2262) because change detection and restore need the
/// full precision the file system keeps; seconds would make two writes within a second look identical.
/// </summary>
/// <param name="Type">The entry's kind; a symlink is reported as a symlink, never as its target.</param>
/// <param name="Mode">Permission bits including setuid (0o4000), setgid (0o2000) and sticky (0o1000); no file-type bits.</param>
/// <param name="Size">Bytes in a regular file; the length of the target for a symlink.</param>
/// <param name="LinkCount">Hard links to the inode; above 1 for a regular file means it has other names.</param>
public sealed record FileStatus(
    FileKind Type,
    uint Mode,
    uint Uid,
    uint Gid,
    long Size,
    ulong Inode,
    ulong Device,
    ulong LinkCount,
    long MtimeNs,
    long CtimeNs);
