using System.Buffers.Binary;
using SpotDevBox.Backup.Format;

namespace SpotDevBox.Backup.Tests.Format;

public sealed class PackTests
{
    private const string Sha256OfAbc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    private static readonly BlobId AbcId = BlobId.Parse(Sha256OfAbc);

    [Fact]
    public void WriteHeader_NoEntries_MagicVersionCountThenTrailer()
    {
        var header = Pack.WriteHeader([]);

        // "SDBP", version 1, count 0 (LE), then the header length 9 (LE) as trailer.
        Assert.Equal(new byte[] { 0x53, 0x44, 0x42, 0x50, 0x01, 0, 0, 0, 0, 0x09, 0, 0, 0 }, header);
    }

    [Fact]
    public void WriteHeader_OneEntry_LayoutAsDocumented()
    {
        var header = Pack.WriteHeader([new PackEntry(AbcId, BlobType.Tree, CompressionKind.Zstd, 0x0102, 7, 0x0A0B0C)]);

        var expected = Convert.FromHexString(
            "53444250" + "01" + "01000000"           // magic, version, count 1
            + "01" + "01"                             // type tree, compression zstd
            + Sha256OfAbc                             // blob id
            + "0201000000000000"                      // offset 0x0102, int64 LE
            + "07000000"                              // stored length 7, int32 LE
            + "0c0b0a00"                              // raw length 0x0A0B0C, int32 LE
            + "3b000000");                            // trailer: header length 9 + 50 = 59
        Assert.Equal(expected, header);
    }

    [Fact]
    public void ReadHeaderFromPack_TwoBlobs_RoundTrips()
    {
        var (pack, entries) = BuildPack(("abc"u8.ToArray(), BlobType.Data), ("hello tree"u8.ToArray(), BlobType.Tree));

        var read = Pack.ReadHeaderFromPack(pack);

        Assert.Equal(entries, read);
        Assert.Equal(0, read[0].Offset);
        Assert.Equal(3, read[1].Offset);
        Assert.Equal(10, read[1].StoredLength);
        Assert.Equal(3 + 10 + 9 + (2 * 50) + 4, pack.Length);
    }

    [Fact]
    public void ReadHeaderFromPack_NoEntries_Empty()
    {
        Assert.Empty(Pack.ReadHeaderFromPack(Pack.WriteHeader([])));
    }

    [Fact]
    public void ReadHeaderLength_TrailerOfAValidPack_HeaderLengthWithoutTrailer()
    {
        var (pack, _) = BuildPack(("abc"u8.ToArray(), BlobType.Data));

        Assert.Equal(59, Pack.ReadHeaderLength(pack.AsSpan(pack.Length - 4), pack.Length));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    [InlineData(12)]
    public void ReadHeaderFromPack_ShorterThanAnEmptyPack_Throws(int length)
    {
        var e = Assert.Throws<InvalidDataException>(() => Pack.ReadHeaderFromPack(new byte[length]));
        Assert.Contains("too short", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0x00)]
    [InlineData(0xFF)]
    [InlineData(0x5A)]
    public void ReadHeaderFromPack_Garbage_Throws(byte fill)
    {
        var garbage = Enumerable.Repeat(fill, 200).ToArray();

        Assert.Throws<InvalidDataException>(() => Pack.ReadHeaderFromPack(garbage));
    }

    [Fact]
    public void ReadHeaderFromPack_TrailerClaimsMoreThanThePack_Throws()
    {
        var (pack, _) = BuildPack(("abc"u8.ToArray(), BlobType.Data));
        BinaryPrimitives.WriteUInt32LittleEndian(pack.AsSpan(pack.Length - 4), 59 + 50);

        var e = Assert.Throws<InvalidDataException>(() => Pack.ReadHeaderFromPack(pack));
        Assert.Contains("impossible", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadHeaderFromPack_TrailerNotAWholeNumberOfEntries_Throws()
    {
        var (pack, _) = BuildPack(("abc"u8.ToArray(), BlobType.Data));
        BinaryPrimitives.WriteUInt32LittleEndian(pack.AsSpan(pack.Length - 4), 58);

        Assert.Throws<InvalidDataException>(() => Pack.ReadHeaderFromPack(pack));
    }

    [Fact]
    public void ReadHeaderFromPack_LastByteCutOff_Throws()
    {
        var (pack, _) = BuildPack(("abc"u8.ToArray(), BlobType.Data));

        Assert.Throws<InvalidDataException>(() => Pack.ReadHeaderFromPack(pack.AsSpan(0, pack.Length - 1)));
    }

    [Fact]
    public void ReadHeaderFromPack_BlobAreaCutOff_EntryOutOfBoundsThrows()
    {
        var (pack, _) = BuildPack(("abc"u8.ToArray(), BlobType.Data), ("defg"u8.ToArray(), BlobType.Data));

        // Drop the first two bytes: the header and trailer are intact, the blobs no longer fit.
        var e = Assert.Throws<InvalidDataException>(() => Pack.ReadHeaderFromPack(pack.AsSpan(2)));
        Assert.Contains("entry 1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadHeaderFromPack_BadMagic_Throws()
    {
        var (pack, _) = BuildPack(("abc"u8.ToArray(), BlobType.Data));
        pack[3] ^= 0x01; // first byte after the 3-byte blob area is the magic's first byte

        var e = Assert.Throws<InvalidDataException>(() => Pack.ReadHeaderFromPack(pack));
        Assert.Contains("magic", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadHeaderFromPack_UnknownVersion_Throws()
    {
        var (pack, _) = BuildPack(("abc"u8.ToArray(), BlobType.Data));
        pack[3 + 4] = 2;

        var e = Assert.Throws<InvalidDataException>(() => Pack.ReadHeaderFromPack(pack));
        Assert.Contains("version 2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadHeaderFromPack_CountDisagreesWithLength_Throws()
    {
        var (pack, _) = BuildPack(("abc"u8.ToArray(), BlobType.Data));
        BinaryPrimitives.WriteUInt32LittleEndian(pack.AsSpan(3 + 5), 2);

        var e = Assert.Throws<InvalidDataException>(() => Pack.ReadHeaderFromPack(pack));
        Assert.Contains("claims 2 entries", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadHeaderFromPack_CountNearUInt32Max_ThrowsWithoutAllocating()
    {
        var (pack, _) = BuildPack(("abc"u8.ToArray(), BlobType.Data));
        BinaryPrimitives.WriteUInt32LittleEndian(pack.AsSpan(3 + 5), uint.MaxValue);

        Assert.Throws<InvalidDataException>(() => Pack.ReadHeaderFromPack(pack));
    }

    public static TheoryData<string, long, int, int, byte, byte> OutOfBoundsEntries => new()
    {
        // name, offset, stored, raw, type, compression; the blob area of the test pack is 3 bytes.
        { "ends past the blob area", 1, 3, 3, 0, 0 },
        { "starts past the blob area", 4, 0, 0, 0, 0 },
        { "starts inside the header", 3, 1, 1, 0, 0 },
        { "negative offset", -1, 1, 1, 0, 0 },
        { "negative stored length", 0, -1, 3, 0, 0 },
        { "negative raw length", 0, 3, -1, 0, 0 },
        { "unknown blob type", 0, 3, 3, 2, 0 },
        { "unknown compression", 0, 3, 3, 0, 2 },
    };

    [Theory]
    [MemberData(nameof(OutOfBoundsEntries))]
    public void ReadHeaderFromPack_EntryOutOfBoundsOrUnknown_Throws(string scenario, long offset, int stored, int raw, byte type, byte compression)
    {
        var header = Pack.WriteHeader([new PackEntry(AbcId, (BlobType)type, (CompressionKind)compression, offset, stored, raw)]);
        var pack = "abc"u8.ToArray().Concat(header).ToArray();

        var e = Assert.Throws<InvalidDataException>(() => Pack.ReadHeaderFromPack(pack));
        Assert.True(e.Message.Contains("entry 0", StringComparison.Ordinal), $"{scenario}: {e.Message}");
    }

    [Fact]
    public void ReadHeaderFromPack_OffsetPlusLengthOverflows_Throws()
    {
        var header = Pack.WriteHeader([new PackEntry(AbcId, BlobType.Data, CompressionKind.None, long.MaxValue - 1, 3, 3)]);
        var pack = "abc"u8.ToArray().Concat(header).ToArray();

        var e = Assert.Throws<InvalidDataException>(() => Pack.ReadHeaderFromPack(pack));
        Assert.Contains("entry 0", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadHeader_EntryExactlyFillingTheBlobArea_Accepted()
    {
        var header = Pack.WriteHeader([new PackEntry(AbcId, BlobType.Data, CompressionKind.None, 0, 3, 3)]);

        var entries = Pack.ReadHeader(header.AsSpan(0, header.Length - 4), 3 + header.Length);

        Assert.Equal(3, Assert.Single(entries).StoredLength);
    }

    [Fact]
    public void ExtractBlob_RawBlob_ReturnsContent()
    {
        var raw = Pack.ExtractBlob("abc"u8, new PackEntry(AbcId, BlobType.Data, CompressionKind.None, 0, 3, 3));

        Assert.Equal("abc"u8.ToArray(), raw);
    }

    [Fact]
    public void ExtractBlob_CompressedBlob_ReturnsContent()
    {
        var content = Enumerable.Repeat((byte)'a', 4096).ToArray();
        var (stored, kind) = Compression.Compress(content, 3);
        Assert.Equal(CompressionKind.Zstd, kind);
        Assert.True(stored.Length < 4096);

        var raw = Pack.ExtractBlob(stored, new PackEntry(BlobId.Compute(content), BlobType.Data, kind, 0, stored.Length, content.Length));

        Assert.Equal(content, raw);
    }

    [Fact]
    public void ExtractBlob_ContentDoesNotHashToId_ThrowsNamingTheBlob()
    {
        var e = Assert.Throws<InvalidDataException>(() =>
            Pack.ExtractBlob("abd"u8, new PackEntry(AbcId, BlobType.Data, CompressionKind.None, 0, 3, 3)));

        Assert.Contains("ba7816bf", e.Message, StringComparison.Ordinal);
        Assert.Contains("corrupt", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ExtractBlob_CompressedBlobWithAnyByteFlipped_ThrowsInvalidDataOrYieldsTheOriginal()
    {
        var content = Enumerable.Range(0, 4096).Select(i => (byte)(i % 7)).ToArray();
        var (stored, kind) = Compression.Compress(content, 3);
        Assert.Equal(CompressionKind.Zstd, kind);
        var entry = new PackEntry(BlobId.Compute(content), BlobType.Data, kind, 0, stored.Length, content.Length);

        // Some frame-header bits do not affect the output; what must never happen is wrong bytes
        // returned, or a failure of another kind that callers do not catch.
        var detected = 0;
        for (var i = 0; i < stored.Length; i++)
        {
            foreach (var bit in new byte[] { 0x01, 0x10, 0x80 })
            {
                var damaged = stored.ToArray();
                damaged[i] ^= bit;
                try
                {
                    Assert.Equal(content, Pack.ExtractBlob(damaged, entry));
                }
                catch (InvalidDataException)
                {
                    detected++;
                }
            }
        }

        Assert.True(detected > stored.Length, $"only {detected} of {stored.Length * 3} flips were detected");
    }

    [Fact]
    public void ExtractBlob_RawLengthDisagreesWithStored_Throws()
    {
        Assert.Throws<InvalidDataException>(() =>
            Pack.ExtractBlob("abc"u8, new PackEntry(AbcId, BlobType.Data, CompressionKind.None, 0, 3, 4)));
    }

    [Fact]
    public void ExtractBlob_UnknownCompression_Throws()
    {
        Assert.Throws<InvalidDataException>(() =>
            Pack.ExtractBlob("abc"u8, new PackEntry(AbcId, BlobType.Data, (CompressionKind)9, 0, 3, 3)));
    }

    [Fact]
    public void Key_Id_TwoHexDigitFolderUnderData()
    {
        Assert.Equal("data/ba/" + Sha256OfAbc, Pack.Key(AbcId));
    }

    [Fact]
    public void TryParseKey_OwnKey_ReturnsId()
    {
        Assert.True(Pack.TryParseKey("data/ba/" + Sha256OfAbc, out var id));
        Assert.Equal(AbcId, id);
    }

    [Theory]
    [InlineData("data/bb/" + Sha256OfAbc)]
    [InlineData("data/" + Sha256OfAbc)]
    [InlineData("index/ba/" + Sha256OfAbc)]
    [InlineData("data/ba/" + Sha256OfAbc + ".tmp")]
    [InlineData("data/BA/BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD")]
    [InlineData("data/ba/x/" + Sha256OfAbc)]
    public void TryParseKey_NotAPackKey_False(string key)
    {
        Assert.False(Pack.TryParseKey(key, out _));
    }

    /// <summary>A pack of raw (uncompressed) blobs, laid out as the documented format says.</summary>
    private static (byte[] Pack, List<PackEntry> Entries) BuildPack(params (byte[] Content, BlobType Type)[] blobs)
    {
        var body = new List<byte>();
        var entries = new List<PackEntry>();
        foreach (var (content, type) in blobs)
        {
            entries.Add(new PackEntry(BlobId.Compute(content), type, CompressionKind.None, body.Count, content.Length, content.Length));
            body.AddRange(content);
        }

        body.AddRange(Pack.WriteHeader(entries));
        return ([.. body], entries);
    }
}
