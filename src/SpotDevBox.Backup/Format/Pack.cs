using System.Buffers.Binary;
using SpotDevBox.Backup.Crypto;

namespace SpotDevBox.Backup.Format;

/// <summary>Where one blob lives inside a pack.</summary>
public readonly record struct PackEntry(BlobId Id, BlobType Type, CompressionKind Compression, long Offset, int StoredLength, int RawLength);

/// <summary>
/// A pack object: the stored blobs back to back, then a header that lists them, then the header's
/// length as a little-endian uint32. A pack describes itself, so the index can always be rebuilt
/// from the packs alone (this is how a killed backup's uploads are reused). See docs/repository-format.md.
/// </summary>
internal static class Pack
{
    public const uint Magic = 0x50424453; // "SDBP" little-endian
    public const byte Version = 1;
    public const int EntrySize = 1 + 1 + BlobId.Size + 8 + 4 + 4;
    public const int HeaderPrefixSize = 4 + 1 + 4;
    public const int TrailerSize = 4;

    public const string DataPrefix = "data/";

    public static string Key(BlobId packId)
    {
        var hex = packId.ToHex();
        return $"{DataPrefix}{hex[..2]}/{hex}";
    }

    public static bool TryParseKey(string key, out BlobId packId)
    {
        packId = default;
        if (!key.StartsWith("data/", StringComparison.Ordinal))
        {
            return false;
        }

        var name = key[(key.LastIndexOf('/') + 1)..];
        return BlobId.TryParse(name, out packId) && key == Key(packId);
    }

    public static byte[] WriteHeader(IReadOnlyList<PackEntry> entries)
    {
        var header = new byte[HeaderPrefixSize + (entries.Count * EntrySize) + TrailerSize];
        var span = header.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, Magic);
        span[4] = Version;
        BinaryPrimitives.WriteUInt32LittleEndian(span[5..], (uint)entries.Count);
        var at = HeaderPrefixSize;
        foreach (var e in entries)
        {
            WriteEntry(span[at..], e);
            at += EntrySize;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(span[at..], (uint)(header.Length - TrailerSize));
        return header;
    }

    /// <summary>
    /// Length of the header area (without the trailer), read from a pack's last 4 bytes: the header itself,
    /// or in an encrypted repository (<paramref name="sealedHeader"/>) the sealed header.
    /// </summary>
    public static int ReadHeaderLength(ReadOnlySpan<byte> trailer, long packSize, bool sealedHeader = false)
    {
        var length = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
        var overhead = sealedHeader ? ObjectCipher.Overhead : 0;
        if (length < HeaderPrefixSize + overhead || length + TrailerSize > packSize || (length - overhead - HeaderPrefixSize) % EntrySize != 0)
        {
            throw new InvalidDataException($"pack header length {length} is impossible for a pack of {packSize} bytes");
        }

        return (int)length;
    }

    /// <summary>The header area's size for <paramref name="entries"/> entries, trailer included.</summary>
    public static int HeaderAreaSize(int entries, bool sealedHeader) =>
        HeaderPrefixSize + (entries * EntrySize) + (sealedHeader ? ObjectCipher.Overhead : 0) + TrailerSize;

    /// <summary>
    /// Writes the header area (the header, sealed by <paramref name="sealer"/> when given, then the trailer) into
    /// <paramref name="destination"/>, which must hold <see cref="HeaderAreaSize"/> bytes; returns that size.
    /// </summary>
    public static int WriteHeaderArea(Span<byte> destination, IReadOnlyList<PackEntry> entries, ObjectCipher.Sealer? sealer)
    {
        var plain = WriteHeader(entries);
        var headerLength = plain.Length - TrailerSize;
        if (sealer is null)
        {
            plain.CopyTo(destination);
            return plain.Length;
        }

        var sealedLength = sealer.Seal(plain.AsSpan(0, headerLength), ObjectKind.PackHeader, destination);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[sealedLength..], (uint)sealedLength);
        return sealedLength + TrailerSize;
    }

    /// <summary>
    /// Parses a pack's header area (without the trailer): opened first when <paramref name="crypto"/> is given
    /// (an encrypted repository's pack), then checked entry by entry like <see cref="ReadHeader"/>.
    /// </summary>
    public static List<PackEntry> ReadHeaderArea(ReadOnlySpan<byte> area, long packSize, RepositoryCrypto? crypto)
    {
        var dataEnd = packSize - area.Length - TrailerSize;
        if (crypto is null)
        {
            return ReadHeader(area, dataEnd);
        }

        byte[] header;
        try
        {
            header = crypto.Cipher.Open(area, ObjectKind.PackHeader);
        }
        catch (SealedObjectException e)
        {
            throw new InvalidDataException(e.Message, e);
        }

        return ReadHeader(header, dataEnd);
    }

    /// <summary>Parses a plain header (without the trailer) and checks every entry lies inside the blob area of <paramref name="dataEnd"/> bytes.</summary>
    public static List<PackEntry> ReadHeader(ReadOnlySpan<byte> header, long dataEnd)
    {
        if (header.Length < HeaderPrefixSize || BinaryPrimitives.ReadUInt32LittleEndian(header) != Magic)
        {
            throw new InvalidDataException("not a SpotDevBox pack (bad magic)");
        }

        if (header[4] != Version)
        {
            throw new InvalidDataException($"pack format version {header[4]} is not supported (this build reads {Version})");
        }

        var count = BinaryPrimitives.ReadUInt32LittleEndian(header[5..]);
        if (HeaderPrefixSize + ((long)count * EntrySize) != header.Length)
        {
            throw new InvalidDataException($"pack header claims {count} entries but has {header.Length} bytes");
        }

        var entries = new List<PackEntry>((int)count);
        var at = HeaderPrefixSize;
        for (var i = 0; i < count; i++)
        {
            entries.Add(ReadEntry(header[at..], dataEnd, i));
            at += EntrySize;
        }

        return entries;
    }

    /// <summary>One entry as stored in a pack header and in an index file: <see cref="EntrySize"/> bytes.</summary>
    public static void WriteEntry(Span<byte> span, PackEntry e)
    {
        span[0] = (byte)e.Type;
        span[1] = (byte)e.Compression;
        e.Id.WriteTo(span[2..]);
        BinaryPrimitives.WriteInt64LittleEndian(span[(2 + BlobId.Size)..], e.Offset);
        BinaryPrimitives.WriteInt32LittleEndian(span[(10 + BlobId.Size)..], e.StoredLength);
        BinaryPrimitives.WriteInt32LittleEndian(span[(14 + BlobId.Size)..], e.RawLength);
    }

    /// <summary>Reads one entry and checks it lies inside a blob area of <paramref name="dataEnd"/> bytes.</summary>
    public static PackEntry ReadEntry(ReadOnlySpan<byte> span, long dataEnd, int index)
    {
        var type = span[0];
        var compression = span[1];
        var id = BlobId.FromBytes(span.Slice(2, BlobId.Size));
        var offset = BinaryPrimitives.ReadInt64LittleEndian(span[(2 + BlobId.Size)..]);
        var stored = BinaryPrimitives.ReadInt32LittleEndian(span[(10 + BlobId.Size)..]);
        var raw = BinaryPrimitives.ReadInt32LittleEndian(span[(14 + BlobId.Size)..]);
        if (type > 1 || compression > 1 || offset < 0 || stored < 0 || raw < 0 || offset > dataEnd - stored)
        {
            throw new InvalidDataException($"pack header entry {index} is out of bounds or of an unknown kind");
        }

        return new PackEntry(id, (BlobType)type, (CompressionKind)compression, offset, stored, raw);
    }

    /// <summary>Reads the header of a whole pack held in memory.</summary>
    public static List<PackEntry> ReadHeaderFromPack(ReadOnlySpan<byte> pack, RepositoryCrypto? crypto = null)
    {
        if (pack.Length < HeaderPrefixSize + TrailerSize)
        {
            throw new InvalidDataException($"pack of {pack.Length} bytes is too short");
        }

        var length = ReadHeaderLength(pack[^TrailerSize..], pack.Length, crypto is not null);
        return ReadHeaderArea(pack.Slice(pack.Length - TrailerSize - length, length), pack.Length, crypto);
    }

    /// <summary>
    /// The stored bytes of a blob, opened in place when the repository is encrypted (the plaintext lies inside
    /// <paramref name="stored"/>, which is changed); as they are otherwise. A sealed blob opens only under the id its
    /// entry names (the id is in its associated data). Throws <see cref="InvalidDataException"/> naming the blob when
    /// a sealed blob does not open.
    /// </summary>
    public static Span<byte> OpenInPlace(Span<byte> stored, PackEntry entry, RepositoryCrypto? crypto)
    {
        if (crypto is null)
        {
            return stored;
        }

        try
        {
            if (stored.Length < ObjectCipher.Overhead)
            {
                crypto.Cipher.Open(stored, RepositoryCrypto.KindOf(entry.Type), Span<byte>.Empty, entry.Id); // throws, naming the truncation
            }

            var plaintext = stored[ObjectCipher.HeaderSize..^ObjectCipher.TagSize];
            crypto.Cipher.Open(stored, RepositoryCrypto.KindOf(entry.Type), plaintext, entry.Id);
            return plaintext;
        }
        catch (SealedObjectException e)
        {
            throw new InvalidDataException($"blob {entry.Id.ShortHex}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Verifies the opened plaintext of a blob stored without compression: it must be its raw bytes, and (unsealed, or
    /// with <paramref name="recomputeId"/>, as in <see cref="ExtractBlob"/>) hash to its id.
    /// </summary>
    public static void VerifyRawBlob(ReadOnlySpan<byte> raw, PackEntry entry, RepositoryCrypto? crypto, bool recomputeId = false)
    {
        if (entry.Compression != CompressionKind.None || raw.Length != entry.RawLength)
        {
            throw new InvalidDataException($"blob {entry.Id.ShortHex} is not stored as-is in {entry.RawLength} bytes");
        }

        Verify(raw, entry, crypto, recomputeId);
    }

    /// <summary>
    /// Opens, decompresses and verifies one blob into a new array; throws <see cref="InvalidDataException"/> when it does
    /// not verify. An unsealed blob is verified by hashing it (SHA-256). A sealed blob is verified by opening it: its
    /// tag authenticates its bytes and binds them to the id its entry names, so hashing the plaintext again would prove
    /// nothing more about the stored bytes. <paramref name="recomputeId"/> hashes it anyway (keyed id), which
    /// <c>check --read-data</c> does: that also catches a blob that was wrong before it was sealed (a fault of the
    /// writer's memory or code).
    /// </summary>
    public static byte[] ExtractBlob(ReadOnlySpan<byte> stored, PackEntry entry, RepositoryCrypto? crypto = null, bool recomputeId = false)
    {
        if (crypto is null)
        {
            var raw = Compression.Decompress(stored, entry.Compression, entry.RawLength);
            Verify(raw, entry, crypto, recomputeId);
            return raw;
        }

        var copy = stored.ToArray();
        var plaintext = OpenInPlace(copy, entry, crypto);
        var result = Compression.Decompress(plaintext, entry.Compression, entry.RawLength);
        Verify(result, entry, crypto, recomputeId);
        return result;
    }

    /// <summary>The id of raw blob bytes: HMAC-SHA256 with the id key in an encrypted repository, SHA-256 otherwise.</summary>
    public static BlobId IdOf(ReadOnlySpan<byte> raw, RepositoryCrypto? crypto) =>
        crypto is null ? BlobId.Compute(raw) : crypto.Ids.Compute(raw);

    private static void Verify(ReadOnlySpan<byte> raw, PackEntry entry, RepositoryCrypto? crypto, bool recomputeId)
    {
        if (crypto is not null && !recomputeId)
        {
            return; // opened under entry.Id: the tag has verified it
        }

        var actual = IdOf(raw, crypto);
        if (actual != entry.Id)
        {
            throw new InvalidDataException(crypto is null
                ? $"blob {entry.Id.ShortHex} is corrupt: its content hashes to {actual.ShortHex}"
                : $"blob {entry.Id.ShortHex} does not hash to its id (its keyed id is {actual.ShortHex}), though it authenticates: it was wrong before it was sealed, by a fault of the machine or program that wrote it");
        }
    }
}
