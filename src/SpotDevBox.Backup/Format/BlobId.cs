using System.Buffers.Binary;
using System.Security.Cryptography;

namespace SpotDevBox.Backup.Format;

/// <summary>A SHA-256 content address. Blobs are named by the hash of their plaintext, packs by the hash of their bytes.</summary>
public readonly record struct BlobId(ulong A, ulong B, ulong C, ulong D) : IComparable<BlobId>
{
    public const int Size = 32;

    public static BlobId Compute(ReadOnlySpan<byte> data)
    {
        Span<byte> hash = stackalloc byte[Size];
        SHA256.HashData(data, hash);
        return FromBytes(hash);
    }

    public static BlobId FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
        {
            throw new ArgumentException($"a blob id has {Size} bytes, got {bytes.Length}", nameof(bytes));
        }

        return new BlobId(
            BinaryPrimitives.ReadUInt64BigEndian(bytes),
            BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]),
            BinaryPrimitives.ReadUInt64BigEndian(bytes[16..]),
            BinaryPrimitives.ReadUInt64BigEndian(bytes[24..]));
    }

    public static BlobId Parse(string hex)
    {
        ArgumentNullException.ThrowIfNull(hex);
        if (hex.Length != Size * 2)
        {
            throw new FormatException($"'{hex}' is not a 64-character hexadecimal id");
        }

        Span<byte> bytes = stackalloc byte[Size];
        if (Convert.FromHexString(hex, bytes, out _, out var written) != System.Buffers.OperationStatus.Done || written != Size)
        {
            throw new FormatException($"'{hex}' is not a 64-character hexadecimal id");
        }

        return FromBytes(bytes);
    }

    public static bool TryParse(string? hex, out BlobId id)
    {
        id = default;
        if (hex is null || hex.Length != Size * 2)
        {
            return false;
        }

        try
        {
            id = Parse(hex);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, A);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], B);
        BinaryPrimitives.WriteUInt64BigEndian(destination[16..], C);
        BinaryPrimitives.WriteUInt64BigEndian(destination[24..], D);
    }

    public string ToHex()
    {
        Span<byte> bytes = stackalloc byte[Size];
        WriteTo(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    public string ShortHex => ToHex()[..8];

    public override string ToString() => ToHex();

    public int CompareTo(BlobId other)
    {
        var c = A.CompareTo(other.A);
        if (c != 0) return c;
        c = B.CompareTo(other.B);
        if (c != 0) return c;
        c = C.CompareTo(other.C);
        return c != 0 ? c : D.CompareTo(other.D);
    }

    public static bool operator <(BlobId left, BlobId right) => left.CompareTo(right) < 0;
    public static bool operator >(BlobId left, BlobId right) => left.CompareTo(right) > 0;
    public static bool operator <=(BlobId left, BlobId right) => left.CompareTo(right) <= 0;
    public static bool operator >=(BlobId left, BlobId right) => left.CompareTo(right) >= 0;
}

public enum BlobType : byte
{
    Data = 0,
    Tree = 1,
}
