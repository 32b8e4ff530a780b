using System.Collections.Concurrent;
using System.Threading.Channels;
using SpotDevBox.Backup.Crypto;
using SpotDevBox.Backup.Format;

namespace SpotDevBox.Backup.Engine;

/// <summary>
/// A full pack waiting for upload: its blobs fill <c>Bytes[..BlobAreaLength]</c>, and the header area is written
/// by <see cref="Finish"/> (on the uploader's thread, not under the packer's lock). In an encrypted repository the
/// blobs listed in <see cref="ToSeal"/> still hold their plaintext at <c>offset + ObjectCipher.HeaderSize</c> and are
/// sealed in place by <see cref="Finish"/>; blobs copied already sealed (a repack) are not listed. The buffer goes
/// back to the pool once uploaded.
/// </summary>
internal sealed record PendingPack(byte[] Bytes, int BlobAreaLength, BlobType Type, IReadOnlyList<PackEntry> Entries, IReadOnlyList<PackEntry> ToSeal)
{
    /// <summary>Seals what is to be sealed and writes the header area; returns the pack's length.</summary>
    public int Finish(RepositoryCrypto? crypto)
    {
        if (crypto is null)
        {
            return BlobAreaLength + Pack.WriteHeaderArea(Bytes.AsSpan(BlobAreaLength), Entries, sealer: null);
        }

        using var sealer = crypto.Cipher.CreateSealer();
        var kind = RepositoryCrypto.KindOf(Type);
        foreach (var entry in ToSeal)
        {
            var at = checked((int)entry.Offset);
            var sealedObject = Bytes.AsSpan(at, entry.StoredLength);
            sealer.Seal(sealedObject[ObjectCipher.HeaderSize..^ObjectCipher.TagSize], kind, sealedObject, entry.Id);
        }

        return BlobAreaLength + Pack.WriteHeaderArea(Bytes.AsSpan(BlobAreaLength), Entries, sealer);
    }
}

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
/// <param name="seal">true in an encrypted repository: each blob is laid out with room to be sealed in place, and the
/// header area leaves room for the sealed header (<see cref="PendingPack.Finish"/> seals them).</param>
internal sealed class Packer(BlobType type, PackBufferPool pool, ChannelWriter<PendingPack> uploads, bool seal = false)
{
    private readonly Lock _gate = new();
    private byte[]? _buffer;
    private int _length;
    private List<PackEntry> _entries = [];
    private List<PackEntry> _toSeal = [];

    /// <param name="alreadySealed">the stored bytes are a sealed blob copied as it is (a repack in an encrypted repository).</param>
    public async ValueTask AddAsync(BlobId id, ReadOnlyMemory<byte> stored, CompressionKind compression, int rawLength, CancellationToken cancellationToken, bool alreadySealed = false)
    {
        var toSeal = seal && !alreadySealed;
        var room = toSeal ? ObjectCipher.SealedLength(stored.Length) : stored.Length;
        while (true)
        {
            PendingPack? full = null;
            var needBuffer = false;
            lock (_gate)
            {
                if (_entries.Count > 0 && !Fits(room, _entries.Count + 1, pool.Size))
                {
                    full = TakeLocked();
                }
                else if (_buffer is null && Fits(room, 1, pool.Size))
                {
                    needBuffer = true;
                }
                else
                {
                    // A blob too large for a pooled buffer (a huge directory's tree) gets a pack of its own.
                    _buffer ??= new byte[HeaderSize(1) + room];
                    stored.Span.CopyTo(_buffer.AsSpan(_length + (toSeal ? ObjectCipher.HeaderSize : 0)));
                    var entry = new PackEntry(id, type, compression, _length, room, rawLength);
                    _entries.Add(entry);
                    if (toSeal)
                    {
                        _toSeal.Add(entry);
                    }

                    _length += room;
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

    private int HeaderSize(int entries) => Pack.HeaderAreaSize(entries, seal);

    private PendingPack TakeLocked()
    {
        var pack = new PendingPack(_buffer!, _length, type, _entries, _toSeal);
        _buffer = null;
        _length = 0;
        _entries = [];
        _toSeal = [];
        return pack;
    }
}
