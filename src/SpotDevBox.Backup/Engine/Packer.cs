using System.Threading.Channels;
using SpotDevBox.Backup.Format;
using SpotDevBox.Backup.Repository;

namespace SpotDevBox.Backup.Engine;

/// <summary>A finished pack waiting for upload.</summary>
internal sealed record PendingPack(byte[] Bytes, int Length, BlobType Type, IReadOnlyList<PackEntry> Entries);

/// <summary>
/// Groups blobs of one type into pack objects of about the target size, so thousands of small files
/// cost a handful of PUTs. Full packs go to a bounded channel, which is what bounds memory: a reader
/// adding a blob waits while the uploaders are behind.
/// </summary>
internal sealed class Packer(BlobType type, int targetSize, ChannelWriter<PendingPack> uploads)
{
    private readonly Lock _gate = new();
    private byte[] _buffer = [];
    private int _length;
    private List<PackEntry> _entries = [];

    public async ValueTask AddAsync(BlobId id, byte[] stored, CompressionKind compression, int rawLength, CancellationToken cancellationToken)
    {
        PendingPack? full = null;
        lock (_gate)
        {
            if (_buffer.Length == 0)
            {
                _buffer = new byte[Math.Max(targetSize + (targetSize / 2), stored.Length + (64 * 1024))];
            }
            else if (_length + stored.Length > _buffer.Length)
            {
                Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + stored.Length + (64 * 1024)));
            }

            stored.CopyTo(_buffer, _length);
            _entries.Add(new PackEntry(id, type, compression, _length, stored.Length, rawLength));
            _length += stored.Length;
            if (_length >= targetSize)
            {
                full = TakeLocked();
            }
        }

        if (full is not null)
        {
            await uploads.WriteAsync(full, cancellationToken);
        }
    }

    /// <summary>Sends the last, partly filled pack.</summary>
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        PendingPack? last;
        lock (_gate)
        {
            last = _entries.Count > 0 ? TakeLocked() : null;
        }

        if (last is not null)
        {
            await uploads.WriteAsync(last, cancellationToken);
        }
    }

    private PendingPack TakeLocked()
    {
        var header = Pack.WriteHeader(_entries);
        var bytes = _buffer;
        if (_length + header.Length > bytes.Length)
        {
            Array.Resize(ref bytes, _length + header.Length);
        }

        header.CopyTo(bytes, _length);
        var pack = new PendingPack(bytes, _length + header.Length, type, _entries);
        _buffer = [];
        _length = 0;
        _entries = [];
        return pack;
    }
}
