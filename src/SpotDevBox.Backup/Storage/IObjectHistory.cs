namespace SpotDevBox.Backup.Storage;

/// <summary>
/// The history of a versioned store (an S3 bucket with versioning): what <c>recover --as-of</c> reads and writes.
/// Kept apart from <see cref="IObjectStore"/>, which the engine uses and which stays small; only the S3 store
/// implements both. Keys are relative to the repository root, as in <see cref="IObjectStore"/>.
/// </summary>
public interface IObjectHistory
{
    /// <summary>The bucket's versioning (S3 GetBucketVersioning).</summary>
    Task<VersioningState> GetVersioningAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Every version and delete marker under <paramref name="prefix"/> (S3 ListObjectVersions), each key's newest first,
    /// as S3 lists them.
    /// </summary>
    IAsyncEnumerable<ObjectVersion> ListVersionsAsync(string prefix, CancellationToken cancellationToken);

    /// <summary>
    /// Makes an old version current again by copying it over the key (S3 CopyObject with the source's version id): a new
    /// version, so the one it replaces stays in the history.
    /// </summary>
    Task RestoreVersionAsync(string key, string versionId, CancellationToken cancellationToken);
}

public enum VersioningState
{
    /// <summary>Never enabled: an overwrite or a delete is final.</summary>
    Off,
    Enabled,
    /// <summary>Was enabled, now suspended: old versions stay, new writes replace the "null" version.</summary>
    Suspended,
}

/// <param name="ETag">The version's ETag, to tell two versions with the same content (a copy keeps it for SSE-S3 objects).</param>
public sealed record ObjectVersion(string Key, string VersionId, DateTimeOffset LastModified, bool IsDeleteMarker, bool IsLatest, string ETag, long Size);
