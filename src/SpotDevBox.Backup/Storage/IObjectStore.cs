namespace SpotDevBox.Backup.Storage;

/// <summary>
/// The only thing the backup engine needs from a storage service: a flat namespace of immutable
/// objects under one repository root. Keys are relative to the root and use '/' ("data/ab/ab12...").
/// Every failure surfaces as <see cref="StorageException"/> so the engine decides without seeing the SDK.
/// </summary>
public interface IObjectStore
{
    /// <summary>Human-readable location, e.g. <c>s3://bucket/prefix</c> or <c>/srv/repo</c>.</summary>
    string Location { get; }

    /// <summary>Creates what the repository needs to exist (a directory; on S3 checks the bucket and adds the lifecycle rule).</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Stores an object. When this returns the object is durable. Encrypted at rest where the store supports it.</summary>
    Task PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken);

    /// <summary>Reads a whole object. Throws <see cref="StorageException"/> with <see cref="StorageFailure.NotFound"/> when absent.</summary>
    Task<byte[]> GetAsync(string key, CancellationToken cancellationToken);

    /// <summary>Reads <paramref name="length"/> bytes from <paramref name="offset"/>.</summary>
    Task<byte[]> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken);

    /// <summary>
    /// Reads <c>destination.Length</c> bytes from <paramref name="offset"/> straight into
    /// <paramref name="destination"/> (a caller's buffer, usually a reused one), so that a large read
    /// allocates nothing. Fails like <see cref="GetRangeAsync"/>: <see cref="StorageFailure.NotFound"/>
    /// when the object is absent, <see cref="StorageFailure.Rejected"/> when the range runs past its end.
    /// </summary>
    Task ReadRangeAsync(string key, long offset, Memory<byte> destination, CancellationToken cancellationToken);

    /// <summary>Size of an object, or null when it does not exist.</summary>
    Task<long?> GetSizeAsync(string key, CancellationToken cancellationToken);

    /// <summary>Every object whose key starts with <paramref name="prefix"/> ("" lists everything), in no guaranteed order.</summary>
    IAsyncEnumerable<StoredObject> ListAsync(string prefix, CancellationToken cancellationToken);

    /// <summary>Deletes objects; keys that do not exist are ignored.</summary>
    Task DeleteAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken);

    /// <summary>
    /// Reads a whole object with its version tag (its ETag), to write it back with <see cref="PutIfAsync"/>;
    /// null when the object does not exist.
    /// </summary>
    Task<VersionedObject?> GetVersionedAsync(string key, CancellationToken cancellationToken);

    /// <summary>
    /// Stores an object only if it is still as the caller last read it: absent when <paramref name="expectedETag"/>
    /// is null (S3's <c>If-None-Match: *</c>), else with that ETag (<c>If-Match</c>). Atomic: of two writers that
    /// read the same version, one succeeds and the other gets false and nothing is written.
    /// </summary>
    /// <returns>true when stored; false when the object changed (or appeared, or went) since it was read.</returns>
    Task<bool> PutIfAsync(string key, ReadOnlyMemory<byte> content, string? expectedETag, CancellationToken cancellationToken);
}

/// <summary>An object's content and the tag of that version (opaque: compare it only with what the same store returned).</summary>
public sealed record VersionedObject(byte[] Content, string ETag);

public sealed record StoredObject(string Key, long Size, DateTimeOffset LastModified);

public enum StorageFailure
{
    /// <summary>The object does not exist.</summary>
    NotFound,
    /// <summary>The endpoint cannot be reached (DNS, refused connection, timeout, TLS).</summary>
    Unreachable,
    /// <summary>The bucket (or the local repository root) does not exist.</summary>
    ContainerMissing,
    /// <summary>Credentials are missing, wrong, or not allowed to do this.</summary>
    AccessDenied,
    /// <summary>The service refused the request (too large, invalid), retrying will not help.</summary>
    Rejected,
    /// <summary>Anything else, e.g. a 5xx after retries or a local I/O error.</summary>
    Other,
}

public sealed class StorageException : Exception
{
    public StorageException(StorageFailure failure, string message, Exception? innerException = null)
        : base(message, innerException) => Failure = failure;

    public StorageException() : this(StorageFailure.Other, "storage failure") { }

    public StorageException(string message) : this(StorageFailure.Other, message) { }

    public StorageException(string message, Exception innerException) : this(StorageFailure.Other, message, innerException) { }

    public StorageFailure Failure { get; }
}
