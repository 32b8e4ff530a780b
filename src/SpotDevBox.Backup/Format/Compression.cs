using ZstdSharp;

namespace SpotDevBox.Backup.Format;

public enum CompressionKind : byte
{
    None = 0,
    Zstd = 1,
}

/// <summary>zstd for what compresses, raw bytes for what does not (media, archives, random data).</summary>
internal static class Compression
{
    // zstd contexts are costly to create and not thread-safe; one per thread is reused across the
    // tens of thousands of small blobs of a source tree. They hold no state between calls.
    [ThreadStatic] private static Compressor? t_compressor;
    [ThreadStatic] private static int t_level;
    [ThreadStatic] private static Decompressor? t_decompressor;

    private static Compressor CompressorFor(int level)
    {
        if (t_compressor is null || t_level != level)
        {
            t_compressor?.Dispose();
            t_compressor = new Compressor(level);
            t_level = level;
        }

        return t_compressor;
    }

    public static (byte[] Stored, CompressionKind Kind) Compress(ReadOnlySpan<byte> raw, int level)
    {
        var buffer = new byte[Bound(raw.Length)];
        var written = CompressInto(raw, buffer, level);
        return written == 0 ? (raw.ToArray(), CompressionKind.None) : (buffer[..written], CompressionKind.Zstd);
    }

    /// <summary>
    /// Compresses into <paramref name="destination"/> (at least <see cref="Bound"/> bytes). Returns the
    /// compressed length, or 0 when the blob should be stored raw.
    /// </summary>
    public static int CompressInto(ReadOnlySpan<byte> raw, Span<byte> destination, int level)
    {
        if (raw.Length < 64)
        {
            return 0;
        }

        // Keep the compressed form only when it saves at least 1/32 of the size: below that the
        // decompression cost on restore buys nothing worth having.
        var written = CompressorFor(level).Wrap(raw, destination);
        return written > raw.Length - (raw.Length >> 5) ? 0 : written;
    }

    public static int Bound(int rawLength) => Compressor.GetCompressBound(rawLength);

    /// <summary>Decompresses into <paramref name="destination"/>, which must be exactly the raw length.</summary>
    public static void DecompressInto(ReadOnlySpan<byte> stored, CompressionKind kind, Span<byte> destination)
    {
        switch (kind)
        {
            case CompressionKind.None:
                if (stored.Length != destination.Length)
                {
                    throw new InvalidDataException($"stored blob has {stored.Length} bytes, expected {destination.Length}");
                }

                stored.CopyTo(destination);
                return;
            case CompressionKind.Zstd:
                int written;
                try
                {
                    written = (t_decompressor ??= new Decompressor()).Unwrap(stored, destination);
                }
                catch (ZstdException e)
                {
                    throw new InvalidDataException("compressed blob is corrupt: " + e.Message, e);
                }

                if (written != destination.Length)
                {
                    throw new InvalidDataException($"blob decompressed to {written} bytes, expected {destination.Length}");
                }

                return;
            default:
                throw new InvalidDataException($"unknown compression kind {(byte)kind}");
        }
    }

    public static byte[] Decompress(ReadOnlySpan<byte> stored, CompressionKind kind, int rawLength)
    {
        var output = new byte[rawLength];
        DecompressInto(stored, kind, output);
        return output;
    }
}
