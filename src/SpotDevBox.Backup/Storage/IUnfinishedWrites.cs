namespace SpotDevBox.Backup.Storage;

/// <summary>
/// A store whose writes leave something behind when the writing process dies mid-write: the
/// local-directory store's temporary files, which a SIGKILL between create and rename strands. S3 has
/// no such files (a PUT is all or nothing; an interrupted multipart upload is aborted by the bucket
/// lifecycle rule that init adds), so its store does not implement this.
/// </summary>
public interface IUnfinishedWrites
{
    /// <summary>Every leftover of an unfinished write, keyed relative to the repository root, with its size and last write.</summary>
    IAsyncEnumerable<StoredObject> ListUnfinishedWritesAsync(CancellationToken cancellationToken);

    /// <summary>Deletes leftovers listed by <see cref="ListUnfinishedWritesAsync"/>; refuses any other key.</summary>
    Task DeleteUnfinishedWritesAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken);
}
