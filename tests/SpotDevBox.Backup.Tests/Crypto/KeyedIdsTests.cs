using SpotDevBox.Backup.Crypto;
using SpotDevBox.Backup.Format;

namespace SpotDevBox.Backup.Tests.Crypto;

public sealed class KeyedIdsTests
{
    // HMAC-SHA256 with the id key 20 21 .. 3f (the second half of master key 00 01 .. 3f) over "abc",
    // computed with Python's hmac module.
    private const string KeyedIdOfAbc = "3e03ceb816ef30e07bd35997162111fcbff457ed8013fa282d736fb2417c9672";
    private const string Sha256OfAbc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    [Fact]
    public void Compute_Abc_IsTheHmacUnderTheSecondHalfOfTheMasterKey()
    {
        using var key = MasterKey.FromBytes(Enumerable.Range(0, 64).Select(b => (byte)b).ToArray());
        using var ids = new KeyedIds(key);

        var id = ids.Compute("abc"u8);

        Assert.Equal(KeyedIdOfAbc, id.ToHex());
        Assert.NotEqual(Sha256OfAbc, id.ToHex());
        Assert.NotEqual(BlobId.Compute("abc"u8), id);
    }

    [Fact]
    public void Compute_SameContentUnderTwoMasterKeys_TwoUnrelatedIds()
    {
        using var first = MasterKey.Generate();
        using var second = MasterKey.Generate();
        using var a = new KeyedIds(first);
        using var b = new KeyedIds(second);

        Assert.NotEqual(a.Compute("same file"u8), b.Compute("same file"u8));
    }

    [Fact]
    public void Hasher_BlobsInPiecesOneAfterAnother_EachIdAsComputedWhole()
    {
        using var key = MasterKey.Generate();
        using var ids = new KeyedIds(key);
        var first = new byte[3 << 20];
        var second = new byte[100_000];
        new Random(14).NextBytes(first);
        new Random(15).NextBytes(second);
        using var hasher = ids.CreateHasher();

        foreach (var piece in first.Chunk(65_537))
        {
            hasher.Append(piece);
        }

        var firstId = hasher.GetIdAndReset();
        hasher.Append(second);
        var secondId = hasher.GetIdAndReset();

        Assert.Equal(ids.Compute(first), firstId);
        Assert.Equal(ids.Compute(second), secondId);
        Assert.Matches("^[0-9a-f]{64}$", secondId.ToHex());
    }

    [Fact]
    public void Compute_AfterDispose_Refused()
    {
        using var key = MasterKey.Generate();
        var ids = new KeyedIds(key);
        ids.Dispose();

        Assert.Throws<ObjectDisposedException>(() => ids.Compute("abc"u8));
    }
}
