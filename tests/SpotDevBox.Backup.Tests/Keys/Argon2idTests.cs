using SpotDevBox.Backup.Keys;

namespace SpotDevBox.Backup.Tests.Keys;

public sealed class Argon2idTests
{
    /// <summary>
    /// Known answers from Argon2's reference implementation (the specification's authors' phc-winner-argon2, as Debian's
    /// <c>argon2</c> command), computed outside .NET and libsodium with, for example,
    /// <c>printf 'password' | argon2 'somesaltsomesalt' -id -v 13 -t 2 -k 65536 -p 1 -l 32 -r</c>. libsodium takes
    /// 16-byte salts only, so the reference's own test vector (salt "somesalt", 8 bytes) cannot be used as it is; the
    /// command above reproduces that vector with its salt (09316115…3cf7), which is how the command itself was checked.
    /// </summary>
    [Theory]
    [InlineData("password", "somesaltsomesalt", 65536, 2, "fc33b78139231d34b71626bd6245c1d72efa190ad605c3d8166a72adcedfa2c2")]
    [InlineData("spotdevbox test", "0123456789abcdef", 19456, 2, "7e9a81fbaf35f32c625c96ef16df12cb8e2ae4d3eec6886450c5ac7bc10e17c3")]
    [InlineData("correct horse battery staple", "sixteen byte slt", 19456, 3, "438b33a3a6529e51955862e9feaafdda4833f8faa414e97413c3edf1fd6a3c80")]
    [InlineData("pässwörd ☃", "ßalt, 16 bytes!", 32768, 2, "916236ab1c61683992ee151ee0cc7cc94f38a91714af74a00cc1737764eb6b58")]
    public void Derive_ReferenceImplementationVectors_ReturnsTheReferenceTag(string password, string salt, int memoryKib, int iterations, string expected)
    {
        var tag = Argon2id.Derive(System.Text.Encoding.UTF8.GetBytes(password), System.Text.Encoding.UTF8.GetBytes(salt),
            new Argon2idParameters(memoryKib, iterations), 32);

        Assert.Equal(expected, Convert.ToHexStringLower(tag));
    }

    [Fact]
    public void Derive_SaltNotSixteenBytes_Refused()
    {
        var e = Assert.Throws<ArgumentException>(() => Argon2id.Derive("x"u8, new byte[32], Argon2idParameters.Default, 32));
        Assert.StartsWith("the salt must be 16 bytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Derive_ParametersOutsideBounds_RefusedBeforeAnyWork()
    {
        var e = Assert.Throws<ArgumentException>(() => Argon2id.Derive("x"u8, new byte[16], new Argon2idParameters(64 * 1024 * 1024, 2), 32));
        Assert.StartsWith("Argon2id memory (KiB) 67108864 is outside 19456..1048576", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(19 * 1024, 2, 1)]
    [InlineData(64 * 1024, 3, 1)]
    [InlineData(1024 * 1024, 20, 1)]
    public void Validate_WithinBounds_Null(int memoryKib, int iterations, int parallelism) =>
        Assert.Null(new Argon2idParameters(memoryKib, iterations, parallelism).Validate());

    [Theory]
    [InlineData(19 * 1024 - 1, 2, 1, "Argon2id memory (KiB) 19455 is outside 19456..1048576")]
    [InlineData(64 * 1024 * 1024, 3, 1, "Argon2id memory (KiB) 67108864 is outside 19456..1048576")]
    [InlineData(64 * 1024, 1, 1, "Argon2id iterations 1 is outside 2..20")]
    [InlineData(64 * 1024, 1_000_000, 1, "Argon2id iterations 1000000 is outside 2..20")]
    [InlineData(64 * 1024, 3, 0, "Argon2id parallelism 0 is not supported: key files use 1 lane")]
    [InlineData(64 * 1024, 3, 4, "Argon2id parallelism 4 is not supported: key files use 1 lane")]
    public void Validate_OutsideBounds_NamesTheFieldValueAndBounds(int memoryKib, int iterations, int parallelism, string expected) =>
        Assert.Equal(expected, new Argon2idParameters(memoryKib, iterations, parallelism).Validate());
}
