using System.Collections.Concurrent;
using SpotDevBox.Backup.Format;

namespace SpotDevBox.Backup.Repository;

/// <summary>Where a blob is: its pack and its place in the pack.</summary>
public readonly record struct BlobLocation(BlobId Pack, PackEntry Entry);

/// <summary>The in-memory union of every index file (and of recovered packs): blob id to location.</summary>
public sealed class RepositoryIndex
{
    private readonly ConcurrentDictionary<BlobId, BlobLocation> _blobs = new();
    private readonly ConcurrentDictionary<BlobId, long> _packs = new();

    public int BlobCount => _blobs.Count;

    public int PackCount => _packs.Count;

    public IReadOnlyDictionary<BlobId, long> Packs => _packs;

    public bool Contains(BlobId id) => _blobs.ContainsKey(id);

    public bool TryGet(BlobId id, out BlobLocation location) => _blobs.TryGetValue(id, out location);

    public bool HasPack(BlobId packId) => _packs.ContainsKey(packId);

    public void AddPack(IndexPack pack)
    {
        ArgumentNullException.ThrowIfNull(pack);
        _packs[pack.Id] = pack.Size;
        foreach (var entry in pack.Blobs)
        {
            // When a blob is stored twice (two backups raced, or a repack), either copy serves.
            _blobs.TryAdd(entry.Id, new BlobLocation(pack.Id, entry));
        }
    }

    public IEnumerable<KeyValuePair<BlobId, BlobLocation>> All => _blobs;
}
