using System.Text;
using System.Text.Json;
using SpotDevBox.Backup.Format;

namespace SpotDevBox.Backup.Tests.Format;

public sealed class BlobIdTests
{
    // FIPS 180-2 test vectors, copied from the standard rather than computed here.
    private const string Sha256OfAbc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    private const string Sha256OfEmpty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    [Fact]
    public void Compute_Abc_IsTheFipsSha256()
    {
        var id = BlobId.Compute("abc"u8);

        Assert.Equal(Sha256OfAbc, id.ToHex());
        Assert.Equal(Sha256OfAbc, id.ToString());
    }

    [Fact]
    public void Compute_Empty_IsTheSha256OfNothing()
    {
        Assert.Equal(Sha256OfEmpty, BlobId.Compute([]).ToHex());
    }

    [Fact]
    public void Parse_HexOfAbc_EqualsComputedAndRoundTrips()
    {
        var parsed = BlobId.Parse(Sha256OfAbc);

        Assert.Equal(BlobId.Compute("abc"u8), parsed);
        Assert.Equal(Sha256OfAbc, parsed.ToHex());
    }

    [Fact]
    public void Parse_UpperCaseHex_AcceptedAndFormattedLowerCase()
    {
        var parsed = BlobId.Parse(Sha256OfAbc.ToUpperInvariant());

        Assert.Equal(Sha256OfAbc, parsed.ToHex());
    }

    [Fact]
    public void FromBytes_BigEndianWords_MapToFieldsInOrder()
    {
        var bytes = new byte[32];
        bytes[7] = 1;   // last byte of A
        bytes[8] = 0x80; // first byte of B
        bytes[31] = 0xFF;

        var id = BlobId.FromBytes(bytes);

        Assert.Equal(1UL, id.A);
        Assert.Equal(0x8000_0000_0000_0000UL, id.B);
        Assert.Equal(0UL, id.C);
        Assert.Equal(0xFFUL, id.D);
        Assert.Equal("00000000000000018000000000000000000000000000000000000000000000ff", id.ToHex());
    }

    [Fact]
    public void WriteTo_ThenFromBytes_RoundTrips()
    {
        var id = BlobId.Parse(Sha256OfAbc);
        var bytes = new byte[BlobId.Size];

        id.WriteTo(bytes);

        Assert.Equal(0xba, bytes[0]);
        Assert.Equal(0xad, bytes[31]);
        Assert.Equal(id, BlobId.FromBytes(bytes));
    }

    [Fact]
    public void ShortHex_Abc_FirstEightHexDigits()
    {
        Assert.Equal("ba7816bf", BlobId.Parse(Sha256OfAbc).ShortHex);
    }

    [Theory]
    [InlineData("")]
    [InlineData("ba7816bf")]
    [InlineData("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a")]
    [InlineData("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0")]
    [InlineData("za7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    [InlineData("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015 d")]
    public void Parse_NotSixtyFourHexDigits_ThrowsFormatException(string text)
    {
        Assert.Throws<FormatException>(() => BlobId.Parse(text));
        Assert.False(BlobId.TryParse(text, out var id));
        Assert.Equal(default, id);
    }

    [Fact]
    public void TryParse_Null_False()
    {
        Assert.False(BlobId.TryParse(null, out _));
    }

    [Fact]
    public void Parse_Null_ThrowsArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>(() => BlobId.Parse(null!));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(33)]
    public void FromBytes_WrongLength_ThrowsArgumentException(int length)
    {
        Assert.Throws<ArgumentException>(() => BlobId.FromBytes(new byte[length]));
    }

    [Fact]
    public void CompareTo_OrdersLikeTheBytes()
    {
        var low = BlobId.Parse("00000000000000ff" + new string('f', 48));
        var high = BlobId.Parse("0000000000000100" + new string('0', 48));
        var lastByte = BlobId.Parse(new string('0', 62) + "01");

        Assert.True(low < high);
        Assert.True(high > low);
        Assert.True(lastByte < low);
        Assert.True(low <= BlobId.Parse("00000000000000ff" + new string('f', 48)));
        Assert.True(high >= BlobId.Parse("0000000000000100" + new string('0', 48)));
        Assert.Equal(0, low.CompareTo(low));
        Assert.Equal([lastByte, low, high], new[] { high, lastByte, low }.Order().ToArray());
    }

    [Fact]
    public void Json_BlobIdInATree_IsWrittenAsLowerCaseHexAndReadBack()
    {
        var tree = new Tree([new Node { Name = "a", Type = NodeType.File, Size = 3, Content = [BlobId.Parse(Sha256OfAbc)] }]);

        var json = Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(tree, FormatJson.Default.Tree));
        var back = JsonSerializer.Deserialize("{\"nodes\":[{\"name\":\"a\",\"type\":\"File\",\"size\":3,\"content\":[\"" + Sha256OfAbc.ToUpperInvariant() + "\"]}]}", FormatJson.Default.Tree);

        Assert.Contains("\"content\":[\"" + Sha256OfAbc + "\"]", json, StringComparison.Ordinal);
        Assert.Equal(BlobId.Parse(Sha256OfAbc), Assert.Single(back!.Nodes[0].Content!));
    }

    [Fact]
    public void Json_NotABlobId_ThrowsJsonException()
    {
        Assert.Throws<JsonException>(() =>
            JsonSerializer.Deserialize("{\"nodes\":[{\"name\":\"a\",\"type\":\"File\",\"content\":[\"abc\"]}]}", FormatJson.Default.Tree));
    }
}
