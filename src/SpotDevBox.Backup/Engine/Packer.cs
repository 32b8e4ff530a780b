using System.Collections.Concurrent;
using System.Threading.Channels;
using SpotDevBox.Backup.Format;

namespace SpotDevBox.Backup.Engine;

/// <summary>A finished pack waiting for upload; its buffer goes back to the pool once uploaded.</summary>
internal sealed record PendingPack(byte[] Bytes, int Length, BlobType Type, IReadOnlyList<PackEntry> Entries);

/// <summary>
/// Pack buffers of one fixed size, reused, and at most <c>limit</c> of them out at once: a backup's
/// memory is that many buffers whatever the speed of the uploads, and no large buffer becomes garbage
/// for every pack. <see cref="RentAsync"/> waits while all are out (an upload returns one).
/// </summary>
internal sealed class PackBufferPool(int size, int limit) : IDisposable
{
    private readonly ConcurrentBag<byte[]> _free = [];
    private readonly SemaphoreSlim _slots = new(Math.Max(1, limit));

    public int Size => size;

    public async ValueTask<byte[]> RentAsync(CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        return _free.TryTake(out var buffer) ? buffer : new byte[size];
    }

    /// <summary>For callers that hold at most one buffer each and need no limit.</summary>
    public byte[] Rent() => _free.TryTake(out var buffer) ? buffer : new byte[size];

    /// <summary>
    /// Takes a buffer back. A buffer of another size (a one-off pack for an oversized blob) was never
    /// counted and is left to the GC.
    /// </summary>
    public void Return(byte[] buffer, bool rented = true)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        if (buffer.Length != size)
        {
            return;
        }

        _free.Add(buffer);
        if (rented)
        {
            _slots.Release();
        }
    }

    public void Dispose() => _slots.Dispose();
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
        while (true)
        {
            PendingPack? full = null;
            var needBuffer = false;
            lock (_gate)
            {
                if (_entries.Count > 0 && !Fits(stored.Length, _entries.Count + 1, pool.Size))
                {
                    full = TakeLocked();
                }
                else if (_buffer is null && Fits(stored.Length, 1, pool.Size))
                {
                    needBuffer = true;
                }
                else
                {
                    // A blob too large for a pooled buffer (a huge directory's tree) gets a pack of its own.
                    _buffer ??= new byte[HeaderSize(1) + stored.Length];
                    stored.Span.CopyTo(_buffer.AsSpan(_length));
                    _entries.Add(new PackEntry(id, type, compression, _length, stored.Length, rawLength));
                    _length += stored.Length;
                    return;
                }
            }

            if (full is not null)
            {
                await uploads.WriteAsync(full, cancellationToken);
                continue;
            }

            if (needBuffer)
            {
                // Wait for a free buffer outside the lock; another reader may have installed one meanwhile.
                var buffer = await pool.RentAsync(cancellationToken);
                lock (_gate)
                {
                    if (_buffer is null)
                    {
                        _buffer = buffer;
                        buffer = null;
                    }
                }

                if (buffer is not null)
                {
                    pool.Return(buffer);
                }
            }
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
