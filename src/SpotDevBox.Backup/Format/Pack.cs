using System.Buffers.Binary;

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

    /// <summary>Length of the header (without the trailer), read from a pack's last 4 bytes.</summary>
    public static int ReadHeaderLength(ReadOnlySpan<byte> trailer, long packSize)
    {
        var length = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
        if (length < HeaderPrefixSize || length + TrailerSize > packSize || (length - HeaderPrefixSize) % EntrySize != 0)
        {
            throw new InvalidDataException($"pack header length {length} is impossible for a pack of {packSize} bytes");
        }

        return (int)length;
    }

    /// <summary>Parses a header (without the trailer) and checks every entry lies inside the blob area.</summary>
    public static List<PackEntry> ReadHeader(ReadOnlySpan<byte> header, long packSize)
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

        var dataEnd = packSize - header.Length - TrailerSize;
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
    public static List<PackEntry> ReadHeaderFromPack(ReadOnlySpan<byte> pack)
    {
        if (pack.Length < HeaderPrefixSize + TrailerSize)
        {
            throw new InvalidDataException($"pack of {pack.Length} bytes is too short");
        }

        var length = ReadHeaderLength(pack[^TrailerSize..], pack.Length);
        return ReadHeader(pack.Slice(pack.Length - TrailerSize - length, length), pack.Length);
    }

    /// <summary>Decompresses one blob into <paramref name="destination"/> (exactly its raw length) and verifies its hash.</summary>
    public static void ExtractBlobInto(ReadOnlySpan<byte> stored, PackEntry entry, Span<byte> destination)
    {
        Compression.DecompressInto(stored, entry.Compression, destination);
        var actual = BlobId.Compute(destination);
        if (actual != entry.Id)
        {
            throw new InvalidDataException($"blob {entry.Id.ShortHex} is corrupt: its content hashes to {actual.ShortHex}");
        }
    }

    /// <summary>Verifies a blob stored without compression, in place: its stored bytes are its raw bytes.</summary>
    public static void VerifyStoredBlob(ReadOnlySpan<byte> stored, PackEntry entry)
    {
        if (entry.Compression != CompressionKind.None || stored.Length != entry.RawLength)
        {
            throw new InvalidDataException($"blob {entry.Id.ShortHex} is not stored as-is in {entry.RawLength} bytes");
        }

        var actual = BlobId.Compute(stored);
        if (actual != entry.Id)
        {
            throw new InvalidDataException($"blob {entry.Id.ShortHex} is corrupt: its content hashes to {actual.ShortHex}");
        }
    }

    /// <summary>Decompresses and verifies one blob; throws <see cref="InvalidDataException"/> when its hash does not match.</summary>
    public static byte[] ExtractBlob(ReadOnlySpan<byte> stored, PackEntry entry)
    {
        var raw = Compression.Decompress(stored, entry.Compression, entry.RawLength);
        var actual = BlobId.Compute(raw);
        if (actual != entry.Id)
        {
            throw new InvalidDataException($"blob {entry.Id.ShortHex} is corrupt: its content hashes to {actual.ShortHex}");
        }

        return raw;
    }
}
