using SpotDevBox.Backup.Format;

namespace SpotDevBox.Backup.Crypto;

/// <summary>
/// What an encrypted (format version 3) repository's client holds once its master key is open: the
/// object cipher and the keyed blob ids, both bound to the repository's id. The master key itself is
/// not kept: each part keeps the half it needs, zeroed by <see cref="Dispose"/>.
/// </summary>
public sealed class RepositoryCrypto : IDisposable
{
    public RepositoryCrypto(MasterKey key, string repositoryId)
    {
        ArgumentNullException.ThrowIfNull(key);
        Cipher = new ObjectCipher(key, repositoryId);
        Ids = new KeyedIds(key);
    }

    public ObjectCipher Cipher { get; }

    public KeyedIds Ids { get; }

    /// <summary>The kind a blob of <paramref name="type"/> is sealed as.</summary>
    public static ObjectKind KindOf(BlobType type) => type == BlobType.Tree ? ObjectKind.TreeBlob : ObjectKind.DataBlob;

    public void Dispose()
    {
        Cipher.Dispose();
        Ids.Dispose();
    }
}
