using System.Security.Cryptography;

namespace SpotDevBox.Core.FileSystem;

/// <summary>
/// Replaces a file so that a reader, or a crash, sees the old content or the new one, never half of either:
/// a temporary file with a unique random name in the same directory, created exclusively (O_CREAT|O_EXCL, so a
/// planted file or symbolic link of that name is never written through), given its mode explicitly, written,
/// flushed to disk, renamed over the target, and the directory flushed so that the rename survives a crash.
/// On failure the temporary file is removed. The one copy of this pattern in the code.
/// </summary>
public static class AtomicFile
{
    /// <summary>Owner read and write (0600).</summary>
    public const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Owner read and write, everyone else read (0644).</summary>
    public const UnixFileMode WorldReadable = OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    public static void Write(string path, ReadOnlySpan<byte> content, UnixFileMode mode)
    {
        var full = Path.GetFullPath(path);
        var temporary = TemporaryName(full);
        try
        {
            using (var stream = Create(temporary, mode, FileOptions.None))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }

            Commit(temporary, full);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    public static void Write(string path, Action<Stream> write, UnixFileMode mode)
    {
        ArgumentNullException.ThrowIfNull(write);
        var full = Path.GetFullPath(path);
        var temporary = TemporaryName(full);
        try
        {
            using (var stream = Create(temporary, mode, FileOptions.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }

            Commit(temporary, full);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    /// <param name="temporarySuffix">How the temporary file's name ends (".tmp"): a store that lists its unfinished writes names its own.</param>
    public static async Task WriteAsync(string path, ReadOnlyMemory<byte> content, UnixFileMode mode, CancellationToken cancellationToken, string temporarySuffix = ".tmp")
    {
        var full = Path.GetFullPath(path);
        var temporary = TemporaryName(full, temporarySuffix);
        try
        {
            await using (var stream = Create(temporary, mode, FileOptions.Asynchronous))
            {
                await stream.WriteAsync(content, cancellationToken);
                stream.Flush(flushToDisk: true);
            }

            Commit(temporary, full);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    /// <summary>
    /// Creates <paramref name="path"/> with <paramref name="content"/> only if no file of that name exists, atomically:
    /// the content goes to a temporary file (flushed), which is then hard-linked (link(2)) to the name, and link never
    /// replaces an existing name. No lock file and no extra read: the kernel decides.
    /// </summary>
    /// <returns>true when created; false when the name already existed (nothing was changed); null when this file system
    /// cannot make hard links (or this is not Linux), so the caller must decide another way.</returns>
    public static async Task<bool?> TryCreateAsync(string path, ReadOnlyMemory<byte> content, UnixFileMode mode, CancellationToken cancellationToken, string temporarySuffix = ".tmp")
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        var full = Path.GetFullPath(path);
        var temporary = TemporaryName(full, temporarySuffix);
        try
        {
            await using (var stream = Create(temporary, mode, FileOptions.Asynchronous))
            {
                await stream.WriteAsync(content, cancellationToken);
                stream.Flush(flushToDisk: true);
            }

            var errno = Posix.Link(temporary, full);
            switch (errno)
            {
                case 0:
                    Posix.FsyncDirectory(Path.GetDirectoryName(full)!);
                    return true;
                case Posix.EEXIST:
                    return false;
                case 1 or 13 or 18 or 31 or 38 or 95: // EPERM, EACCES, EXDEV, EMLINK, ENOSYS, EOPNOTSUPP: no hard links here
                    return null;
                default:
                    throw new IOException($"cannot create {full}: link failed with errno {errno}");
            }
        }
        finally
        {
            // After a link the content has its own name; before one (or without one) the temporary file is all there is.
            TryDelete(temporary);
        }
    }

    /// <summary>".name.5f0c9a1e2b3d4c6f.tmp" beside the target: unique among concurrent writers, ignored by globs for the name.</summary>
    internal static string TemporaryName(string fullPath, string suffix = ".tmp")
    {
        if (suffix.Length < 2 || suffix[0] != '.' || suffix.IndexOfAny(['/', '\\']) >= 0)
        {
            throw new ArgumentException($"'{suffix}' is not a file name suffix: it must start with '.' and name no directory", nameof(suffix));
        }

        return Path.Join(Path.GetDirectoryName(fullPath), $".{Path.GetFileName(fullPath)}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}{suffix}");
    }

    private static FileStream Create(string temporary, UnixFileMode mode, FileOptions options)
    {
        var settings = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            Options = options,
            BufferSize = 0,
        };
        if (!OperatingSystem.IsWindows())
        {
            settings.UnixCreateMode = mode;
        }

        var stream = new FileStream(temporary, settings);
        if (!OperatingSystem.IsWindows())
        {
            try
            {
                // The creation mode is masked by the umask; the mode asked for is the mode the file gets.
                File.SetUnixFileMode(stream.SafeFileHandle, mode);
            }
            catch
            {
                stream.Dispose();
                throw;
            }
        }

        return stream;
    }

    private static void Commit(string temporary, string full)
    {
        File.Move(temporary, full, overwrite: true);
        if (OperatingSystem.IsLinux())
        {
            Posix.FsyncDirectory(Path.GetDirectoryName(full)!);
        }
    }

    private static void TryDelete(string temporary)
    {
        try
        {
            File.Delete(temporary);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The original failure is the one to report.
        }
    }
}
