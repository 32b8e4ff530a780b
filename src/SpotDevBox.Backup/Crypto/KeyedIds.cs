using System.Security.Cryptography;
using SpotDevBox.Backup.Format;

namespace SpotDevBox.Backup.Crypto;

/// <summary>
/// Blob ids of an encrypted repository: HMAC-SHA256(id key, plaintext), written as ids are today (64
/// lower-case hex digits, <see cref="BlobId"/>). Without the id key an id says nothing about the
/// content, so nobody can test whether a file they know is stored by hashing it. Thread-safe; it keeps
/// its own pinned copy of the id key, zeroed by <see cref="Dispose"/>.
/// </summary>
public sealed class KeyedIds : IDisposable
{
    private readonly byte[] idKey;
    private readonly ThreadLocal<IncrementalHash> perThread;
    private bool disposed;

    /// <param name="key">the repository's master key (its id half is copied; the caller may dispose it after).</param>
    public KeyedIds(MasterKey key)
        : this(Validated(key).IdKey)
    {
    }

    /// <summary>The seam for the HMAC-SHA256 known-answer tests, whose keys are not 32 bytes.</summary>
    internal KeyedIds(ReadOnlySpan<byte> idKey)
    {
        this.idKey = GC.AllocateUninitializedArray<byte>(idKey.Length, pinned: true);
        idKey.CopyTo(this.idKey);
        // One HMAC per thread, reset after each blob: the key schedule is set up once, not once per blob (a
        // backup of small files computes tens of thousands of ids).
        perThread = new ThreadLocal<IncrementalHash>(() => IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, this.idKey), trackAllValues: true);
    }

    /// <summary>The id of a blob held whole in memory.</summary>
    public BlobId Compute(ReadOnlySpan<byte> plaintext)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        Span<byte> mac = stackalloc byte[BlobId.Size];
        var hmac = perThread.Value!;
        hmac.AppendData(plaintext);
        hmac.GetHashAndReset(mac);
        return BlobId.FromBytes(mac);
    }

    /// <summary>An incremental hasher for a blob read in pieces; dispose it when done.</summary>
    public Hasher CreateHasher()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        return new Hasher(IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, idKey));
    }

    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        foreach (var hmac in perThread.Values)
        {
            hmac.Dispose();
        }

        perThread.Dispose();
        CryptographicOperations.ZeroMemory(idKey);
    }

    private static MasterKey Validated(MasterKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key;
    }

    /// <summary>Feeds a blob's bytes piece by piece; <see cref="GetIdAndReset"/> gives its id and starts the next blob.</summary>
    public sealed class Hasher : IDisposable
    {
        private readonly IncrementalHash hmac;

        internal Hasher(IncrementalHash hmac) => this.hmac = hmac;

        public void Append(ReadOnlySpan<byte> piece) => hmac.AppendData(piece);

        public BlobId GetIdAndReset()
        {
            Span<byte> mac = stackalloc byte[BlobId.Size];
            hmac.GetHashAndReset(mac);
            return BlobId.FromBytes(mac);
        }

        public void Dispose() => hmac.Dispose();
    }
}
