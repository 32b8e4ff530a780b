namespace SpotDevBox.Backup.Storage;

/// <summary>
/// A store whose writes leave something behind when the writing process dies mid-write: the
/// local-directory store's temporary files, which a SIGKILL between create and rename strands. S3 has
/// no such files (a PUT is all or nothing; an interrupted multipart upload is aborted by the bucket
/// lifecycle rule that init adds), so its store does not implement this.
/// </summary>
public interface IUnfinishedWrites
{
    /// <summary>
    /// Every leftover of an unfinished write, keyed relative to the repository root, with its size and how long
    /// ago it was last written, measured on the store's own clock (see <see cref="UnfinishedWrite.Age"/>), or on
    /// <paramref name="fallbackClock"/> where the store cannot tell its own.
    /// </summary>
    IAsyncEnumerable<UnfinishedWrite> ListUnfinishedWritesAsync(TimeProvider fallbackClock, CancellationToken cancellationToken);

    /// <summary>Deletes leftovers listed by <see cref="ListUnfinishedWritesAsync"/>; refuses any other key.</summary>
    Task DeleteUnfinishedWritesAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken);
}

/// <param name="Age">
/// Since the leftover was last written, on the clock that stamped it: the file system's (a file written just
/// now is the reference), so that a file server whose clock differs from this machine's cannot make a running
/// writer's file look abandoned.
/// </param>
public sealed record UnfinishedWrite(string Key, long Size, TimeSpan Age);
