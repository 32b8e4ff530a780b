using SpotDevBox.Backup.Keys;

namespace SpotDevBox.Backup.Tests.Keys;

public sealed class Argon2idTests
{
    /// <summary>RFC 9106 section 5.3: Argon2id v19, 32 KiB, 3 passes, 4 lanes, with a secret and associated data.</summary>
    [Fact]
    public void Derive_Rfc9106Section53Vector_ReturnsTheRfcTag()
    {
        var password = Enumerable.Repeat((byte)0x01, 32).ToArray();
        var salt = Enumerable.Repeat((byte)0x02, 16).ToArray();
        var secret = Enumerable.Repeat((byte)0x03, 8).ToArray();
        var associatedData = Enumerable.Repeat((byte)0x04, 12).ToArray();

        var tag = Argon2id.Derive(password, salt, new Argon2idParameters(32, 3, 4), 32, secret, associatedData);

        Assert.Equal("0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659", Convert.ToHexStringLower(tag));
    }

    [Theory]
    [InlineData(19 * 1024, 2, 1)]
    [InlineData(64 * 1024, 3, 4)]
    [InlineData(1024 * 1024, 20, 16)]
    public void Validate_WithinBounds_Null(int memoryKib, int iterations, int parallelism) =>
        Assert.Null(new Argon2idParameters(memoryKib, iterations, parallelism).Validate());

    [Theory]
    [InlineData(19 * 1024 - 1, 2, 1, "Argon2id memory (KiB) 19455 is outside 19456..1048576")]
    [InlineData(64 * 1024 * 1024, 3, 4, "Argon2id memory (KiB) 67108864 is outside 19456..1048576")]
    [InlineData(64 * 1024, 1, 4, "Argon2id iterations 1 is outside 2..20")]
    [InlineData(64 * 1024, 1_000_000, 4, "Argon2id iterations 1000000 is outside 2..20")]
    [InlineData(64 * 1024, 3, 0, "Argon2id parallelism 0 is outside 1..16")]
    [InlineData(64 * 1024, 3, 255, "Argon2id parallelism 255 is outside 1..16")]
    public void Validate_OutsideBounds_NamesTheFieldValueAndBounds(int memoryKib, int iterations, int parallelism, string expected) =>
        Assert.Equal(expected, new Argon2idParameters(memoryKib, iterations, parallelism).Validate());
}
