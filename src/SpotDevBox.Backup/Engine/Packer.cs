using System.Collections.Concurrent;
using System.Threading.Channels;
using SpotDevBox.Backup.Format;

namespace SpotDevBox.Backup.Engine;

/// <summary>A finished pack waiting for upload; its buffer goes back to the pool once uploaded.</summary>
internal sealed record PendingPack(byte[] Bytes, int Length, BlobType Type, IReadOnlyList<PackEntry> Entries);

/// <summary>
/// Pack buffers of one fixed size, reused: a backup's memory is a fixed number of these, and no large
/// buffer becomes garbage for every pack (large-object-heap churn is what made memory grow before).
/// </summary>
internal sealed class PackBufferPool(int size, int keep)
{
    private readonly ConcurrentBag<byte[]> _free = [];

    public int Size => size;

    public byte[] Rent() => _free.TryTake(out var buffer) ? buffer : new byte[size];

    public void Return(byte[] buffer)
    {
        if (buffer.Length == size && _free.Count < keep)
        {
            _free.Add(buffer);
        }
    }
}

/// <summary>
/// Groups blobs of one type into pack objects of at most the pool's buffer size, so thousands of small
/// files cost a handful of PUTs. A pack is closed before a blob that would not fit (with its header
/// entry); full packs go to a bounded channel, which is what bounds memory: a reader adding a blob
/// waits while the uploaders are behind.
/// </summary>
internal sealed class Packer(BlobType type, PackBufferPool pool, ChannelWriter<PendingPack> uploads)
{
    private readonly Lock _gate = new();
    private byte[]? _buffer;
    private int _length;
    private List<PackEntry> _entries = [];

    public async ValueTask AddAsync(BlobId id, ReadOnlyMemory<byte> stored, CompressionKind compression, int rawLength, CancellationToken cancellationToken)
    {
        PendingPack? full = null;
        lock (_gate)
        {
            if (_entries.Count > 0 && !Fits(stored.Length, _entries.Count + 1, pool.Size))
            {
                full = TakeLocked();
            }

            if (_buffer is null)
            {
                // A blob too large for a pooled buffer (a huge directory's tree) gets a pack of its own.
                _buffer = Fits(stored.Length, 1, pool.Size) ? pool.Rent() : new byte[HeaderSize(1) + stored.Length];
            }

            stored.Span.CopyTo(_buffer.AsSpan(_length));
            _entries.Add(new PackEntry(id, type, compression, _length, stored.Length, rawLength));
            _length += stored.Length;
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

    private bool Fits(int blobLength, int entries, int capacity) => _length + blobLength + HeaderSize(entries) <= capacity;

    private static int HeaderSize(int entries) => Pack.HeaderPrefixSize + (entries * Pack.EntrySize) + Pack.TrailerSize;

    private PendingPack TakeLocked()
    {
        var header = Pack.WriteHeader(_entries);
        var bytes = _buffer!;
        header.CopyTo(bytes, _length);
        var pack = new PendingPack(bytes, _length + header.Length, type, _entries);
        _buffer = null;
        _length = 0;
        _entries = [];
        return pack;
    }
}
