using System.Runtime.CompilerServices;
using SpotDevBox.Core.FileSystem;

namespace SpotDevBox.Backup.Storage;

/// <summary>
/// A repository in a local directory (another disk, an NFS mount, tests). Writes go to a temporary
/// file that is flushed to disk and then renamed, so a reader never sees half an object.
/// </summary>
public sealed class LocalDirectoryObjectStore(string root) : IObjectStore, IUnfinishedWrites
{
    private const string TempSuffix = ".tmp-spotdevbox";

    /// <summary>Beside an object written with <see cref="PutIfAsync"/>: the file whose lock makes read-compare-write one step.</summary>
    private const string LockSuffix = ".lock-spotdevbox";

    /// <summary>How long a conditional write waits for another process's (they hold the lock for a read and a rename).</summary>
    private static readonly TimeSpan LockWait = TimeSpan.FromSeconds(30);

    public string Location => root;

    public Task InitializeAsync(CancellationToken cancellationToken)
    {
        try
        {
            Directory.CreateDirectory(root);
            return Task.CompletedTask;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StorageException(StorageFailure.AccessDenied, $"cannot create repository directory '{root}': {e.Message}", e);
        }
    }

    public async Task PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        EnsureRoot();
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await AtomicFile.WriteAsync(path, content, AtomicFile.OwnerOnly, cancellationToken, TempSuffix);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StorageException(StorageFailure.Other, $"cannot write '{path}': {e.Message}", e);
        }
    }

    public async Task<byte[]> GetAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        try
        {
            return await File.ReadAllBytesAsync(path, cancellationToken);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            EnsureRoot();
            throw new StorageException(StorageFailure.NotFound, $"object '{key}' does not exist in {root}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StorageException(StorageFailure.Other, $"cannot read '{path}': {e.Message}", e);
        }
    }

    public async Task<byte[]> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var buffer = new byte[length];
        await ReadRangeAsync(key, offset, buffer, cancellationToken);
        return buffer;
    }

    public async Task ReadRangeAsync(string key, long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        var length = destination.Length;
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.Asynchronous);
            var size = RandomAccess.GetLength(handle);
            if (offset < 0 || offset + length > size)
            {
                throw new StorageException(StorageFailure.Rejected, $"range {offset}+{length} is outside '{key}' ({size} bytes)");
            }

            var done = 0;
            while (done < length)
            {
                var n = await RandomAccess.ReadAsync(handle, destination[done..], offset + done, cancellationToken);
                if (n == 0)
                {
                    throw new StorageException(StorageFailure.Other, $"'{key}' ended early while reading a range");
                }

                done += n;
            }
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            EnsureRoot();
            throw new StorageException(StorageFailure.NotFound, $"object '{key}' does not exist in {root}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StorageException(StorageFailure.Other, $"cannot read '{path}': {e.Message}", e);
        }
    }

    public Task<long?> GetSizeAsync(string key, CancellationToken cancellationToken)
    {
        EnsureRoot();
        var info = new FileInfo(PathOf(key));
        return Task.FromResult(info.Exists ? info.Length : (long?)null);
    }

    public async IAsyncEnumerable<StoredObject> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        EnsureRoot();
        await Task.Yield();
        // Walk only the directory the prefix names (keys use '/' and map to folders).
        var slash = prefix.LastIndexOf('/');
        var start = slash < 0 ? root : Path.Combine(root, prefix[..slash]);
        if (!Directory.Exists(start))
        {
            yield break;
        }

        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = false, AttributesToSkip = 0 };
        foreach (var file in new DirectoryInfo(start).EnumerateFiles("*", options))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (file.Name.EndsWith(TempSuffix, StringComparison.Ordinal) || file.Name.EndsWith(LockSuffix, StringComparison.Ordinal))
            {
                continue;
            }

            var key = Path.GetRelativePath(root, file.FullName).Replace(Path.DirectorySeparatorChar, '/');
            if (key.StartsWith(prefix, StringComparison.Ordinal))
            {
                yield return new StoredObject(key, file.Length, new DateTimeOffset(file.LastWriteTimeUtc, TimeSpan.Zero));
            }
        }
    }

    public Task DeleteAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        foreach (var key in keys)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                File.Delete(PathOf(key));
            }
            catch (DirectoryNotFoundException)
            {
                // already gone
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new StorageException(StorageFailure.Other, $"cannot delete '{key}': {e.Message}", e);
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>The ETag of a local object is the SHA-256 of its content, in hex.</summary>
    public async Task<VersionedObject?> GetVersionedAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var content = await GetAsync(key, cancellationToken);
            return new VersionedObject(content, ETagOf(content));
        }
        catch (StorageException e) when (e.Failure == StorageFailure.NotFound)
        {
            return null;
        }
    }

    /// <summary>
    /// If absent (<paramref name="expectedETag"/> null): creates the object through a hard link, which never replaces
    /// an existing name (see <see cref="AtomicFile.TryCreateAsync"/>). Otherwise, and on a file system without hard links,
    /// holds an exclusive lock (flock through <see cref="FileShare.None"/>) on <c>KEY.lock-spotdevbox</c> while it
    /// compares the object with <paramref name="expectedETag"/> and renames the new content into place: two
    /// processes on one machine (or on an NFS mount with working locks) cannot both win.
    /// </summary>
    public async Task<bool> PutIfAsync(string key, ReadOnlyMemory<byte> content, string? expectedETag, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        EnsureRoot();
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StorageException(StorageFailure.Other, $"cannot write '{path}': {e.Message}", e);
        }

        if (expectedETag is null)
        {
            // If absent: a hard link from a flushed temporary file, which the kernel refuses when the name exists.
            // No lock file is left beside every pack and nothing extra is read on the normal path.
            bool? created;
            try
            {
                created = await AtomicFile.TryCreateAsync(path, content, AtomicFile.OwnerOnly, cancellationToken, TempSuffix);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new StorageException(StorageFailure.Other, $"cannot write '{path}': {e.Message}", e);
            }

            if (created is { } decided)
            {
                return decided;
            }

            // A file system without hard links: the lock below decides.
        }

        using var held = await LockAsync(path + LockSuffix, cancellationToken);
        var current = await GetVersionedAsync(key, cancellationToken);
        if (expectedETag is null ? current is not null : current is null || !string.Equals(current.ETag, expectedETag, StringComparison.Ordinal))
        {
            return false;
        }

        await PutAsync(key, content, cancellationToken);
        return true;
    }

    private static string ETagOf(ReadOnlySpan<byte> content) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(content));

    private static async Task<FileStream> LockAsync(string lockPath, CancellationToken cancellationToken)
    {
        var waited = TimeSpan.Zero;
        var pause = TimeSpan.FromMilliseconds(10);
        while (true)
        {
            try
            {
                return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            }
            catch (IOException e) when (waited < LockWait && e is not FileNotFoundException and not DirectoryNotFoundException)
            {
                // Another writer holds it for the moment of a read and a rename.
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new StorageException(StorageFailure.Other, $"cannot lock '{lockPath}' for a conditional write: {e.Message}", e);
            }

            await Task.Delay(pause, cancellationToken);
            waited += pause;
        }
    }

    public async IAsyncEnumerable<UnfinishedWrite> ListUnfinishedWritesAsync(TimeProvider fallbackClock, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        EnsureRoot();
        ArgumentNullException.ThrowIfNull(fallbackClock);
        await Task.Yield();
        var now = FileSystemNow(fallbackClock);
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = false, AttributesToSkip = 0 };
        foreach (var file in new DirectoryInfo(root).EnumerateFiles("*" + TempSuffix, options))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var key = Path.GetRelativePath(root, file.FullName).Replace(Path.DirectorySeparatorChar, '/');
            var age = now - file.LastWriteTimeUtc;
            yield return new UnfinishedWrite(key, file.Length, age > TimeSpan.Zero ? age : TimeSpan.Zero);
        }
    }

    /// <summary>
    /// "Now" as the file system stamps it: the last-write time of a file created here this instant. A repository
    /// on a file server gets the server's times, which need not agree with this machine's clock; comparing a
    /// leftover's time with another file's keeps the comparison on one clock. Where nothing can be written
    /// (a read-only repository), the caller's clock.
    /// </summary>
    private DateTime FileSystemNow(TimeProvider fallbackClock)
    {
        var probe = Path.Combine(root, $".clock-probe-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            using (File.Create(probe, 1, FileOptions.None))
            {
            }

            return File.GetLastWriteTimeUtc(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return fallbackClock.GetUtcNow().UtcDateTime;
        }
        finally
        {
            try
            {
                File.Delete(probe);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // a leftover probe is an empty file that no listing reads
            }
        }
    }

    public Task DeleteUnfinishedWritesAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var other = keys.FirstOrDefault(k => !k.EndsWith(TempSuffix, StringComparison.Ordinal));
        if (other is not null)
        {
            // Only temporary files: a repository object must never go through this door.
            throw new ArgumentException($"'{other}' is not a temporary file of an unfinished write", nameof(keys));
        }

        return DeleteAsync(keys, cancellationToken);
    }

    private string PathOf(string key)
    {
        if (key.Length == 0 || key.StartsWith('/') || key.Split('/').Any(p => p is "" or "." or ".."))
        {
            throw new ArgumentException($"invalid object key '{key}'", nameof(key));
        }

        return Path.Combine(root, key.Replace('/', Path.DirectorySeparatorChar));
    }

    private void EnsureRoot()
    {
        if (!Directory.Exists(root))
        {
            throw new StorageException(StorageFailure.ContainerMissing, $"repository directory '{root}' does not exist");
        }
    }
}
