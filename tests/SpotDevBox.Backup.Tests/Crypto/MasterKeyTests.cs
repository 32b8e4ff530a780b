using System.Reflection;
using SpotDevBox.Backup.Crypto;

namespace SpotDevBox.Backup.Tests.Crypto;

public sealed class MasterKeyTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(32)]
    [InlineData(63)]
    [InlineData(65)]
    public void FromBytes_NotSixtyFourBytes_RefusedNamingTheSizes(int length)
    {
        var e = Assert.Throws<ArgumentException>(() => MasterKey.FromBytes(new byte[length]));

        Assert.StartsWith($"a master key is exactly 64 bytes, got {length}:", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromBytesThenCopyTo_SixtyFourBytes_TheSameBytes()
    {
        var bytes = Enumerable.Range(100, 64).Select(b => (byte)b).ToArray();
        using var key = MasterKey.FromBytes(bytes);
        var copy = new byte[64];

        key.CopyTo(copy);

        Assert.Equal(bytes, copy);
    }

    [Fact]
    public void Generate_Twice_TwoDifferentNonZeroKeys()
    {
        using var first = MasterKey.Generate();
        using var second = MasterKey.Generate();
        var a = new byte[64];
        var b = new byte[64];

        first.CopyTo(a);
        second.CopyTo(b);

        Assert.NotEqual(a, b);
        Assert.Contains(a, x => x != 0);
    }

    [Fact]
    public void CopyTo_DestinationTooShort_Refused()
    {
        using var key = MasterKey.Generate();

        Assert.Throws<ArgumentException>(() => key.CopyTo(new byte[63]));
    }

    [Fact]
    public void Dispose_Always_ZeroesTheKeyAndRefusesUseAfter()
    {
        var key = MasterKey.FromBytes(Enumerable.Repeat((byte)0xff, 64).ToArray());
        var held = (byte[])typeof(MasterKey).GetField("bytes", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(key)!;

        key.Dispose();

        Assert.All(held, b => Assert.Equal(0, b));
        Assert.Throws<ObjectDisposedException>(() => key.CopyTo(new byte[64]));
        Assert.Throws<ObjectDisposedException>(() => new ObjectCipher(key, "00112233445566778899aabbccddeeff"));
        Assert.Throws<ObjectDisposedException>(() => new KeyedIds(key));
    }
}
