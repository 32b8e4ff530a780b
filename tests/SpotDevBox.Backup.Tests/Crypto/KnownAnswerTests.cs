using System.Security.Cryptography;
using System.Text;
using SpotDevBox.Backup.Crypto;

namespace SpotDevBox.Backup.Tests.Crypto;

/// <summary>
/// The primitives the encrypted format rests on, checked against their specifications' own vectors
/// (copied from the documents, never computed here): AES-256-GCM from McGrew and Viega, "The
/// Galois/Counter Mode of Operation", test cases 13-16; HKDF-SHA256 from RFC 5869, test cases 1-3;
/// HMAC-SHA256 from RFC 4231, test cases 1-4, 6 and 7, through <see cref="KeyedIds"/> itself.
/// </summary>
public sealed class KnownAnswerTests
{
    private const string Gcm15Key = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308";
    private const string Gcm15Iv = "cafebabefacedbaddecaf888";

    private const string Gcm15Plaintext =
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" +
        "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";

    private const string Gcm15Ciphertext =
        "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa" +
        "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad";

    public static TheoryData<string, string, string, string, string, string, string> GcmCases => new()
    {
        // name, key, iv, plaintext, aad, ciphertext, tag
        { "13", new string('0', 64), "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b" },
        { "14", new string('0', 64), "000000000000000000000000", "00000000000000000000000000000000", "", "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919" },
        { "15", Gcm15Key, Gcm15Iv, Gcm15Plaintext, "", Gcm15Ciphertext, "b094dac5d93471bdec1a502270e3cc6c" },
        { "16", Gcm15Key, Gcm15Iv, Gcm15Plaintext[..120], "feedfacedeadbeeffeedfacedeadbeefabaddad2", Gcm15Ciphertext[..120], "76fc6ece0f4e1768cddf8853bb2d551b" },
    };

    [Theory]
    [MemberData(nameof(GcmCases))]
    public void AesGcm_GcmSpecificationAes256Case_EncryptsAndDecryptsToTheVector(string name, string key, string iv, string plaintext, string aad, string ciphertext, string tag)
    {
        using var aes = new AesGcm(Hex(key), 16);
        var p = Hex(plaintext);
        var c = new byte[p.Length];
        var t = new byte[16];

        aes.Encrypt(Hex(iv), p, c, t, Hex(aad));
        var opened = new byte[c.Length];
        aes.Decrypt(Hex(iv), Hex(ciphertext), Hex(tag), opened, Hex(aad));

        Assert.True(ciphertext == Convert.ToHexStringLower(c), $"case {name}: ciphertext");
        Assert.True(tag == Convert.ToHexStringLower(t), $"case {name}: tag");
        Assert.Equal(p, opened);
    }

    [Fact]
    public void AesGcm_GcmCase16WithOneTagBitFlipped_Refused()
    {
        using var aes = new AesGcm(Hex(Gcm15Key), 16);
        var tag = Hex("76fc6ece0f4e1768cddf8853bb2d551b");
        tag[15] ^= 1;

        Assert.Throws<AuthenticationTagMismatchException>(() =>
            aes.Decrypt(Hex(Gcm15Iv), Hex(Gcm15Ciphertext[..120]), tag, new byte[60], Hex("feedfacedeadbeeffeedfacedeadbeefabaddad2")));
    }

    public static TheoryData<string, string, string, string, int, string, string> HkdfCases => new()
    {
        // name, ikm, salt, info, length, prk, okm
        {
            "1", Repeat("0b", 22), "000102030405060708090a0b0c", "f0f1f2f3f4f5f6f7f8f9", 42,
            "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
        },
        {
            "2", Sequence(0x00, 80), Sequence(0x60, 80), Sequence(0xb0, 80), 82,
            "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
            "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c" +
            "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71" +
            "cc30c58179ec3e87c14c01d5c1f3434f1d87"
        },
        {
            "3", Repeat("0b", 22), "", "", 42,
            "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"
        },
    };

    [Theory]
    [MemberData(nameof(HkdfCases))]
    public void Hkdf_Rfc5869Sha256Case_ExtractsAndExpandsToTheVector(string name, string ikm, string salt, string info, int length, string prk, string okm)
    {
        var extracted = new byte[32];
        HKDF.Extract(HashAlgorithmName.SHA256, Hex(ikm), Hex(salt), extracted);
        var derived = new byte[length];
        // The one call ObjectCipher makes: extract and expand together, spans in, span out.
        HKDF.DeriveKey(HashAlgorithmName.SHA256, Hex(ikm), derived, Hex(salt), Hex(info));

        Assert.True(prk == Convert.ToHexStringLower(extracted), $"case {name}: PRK");
        Assert.True(okm == Convert.ToHexStringLower(derived), $"case {name}: OKM");
    }

    public static TheoryData<string, string, string, string> HmacCases => new()
    {
        // name, key, data, HMAC-SHA-256
        { "1", Repeat("0b", 20), Utf8("Hi There"), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
        { "2", Utf8("Jefe"), Utf8("what do ya want for nothing?"), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
        { "3", Repeat("aa", 20), Repeat("dd", 50), "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
        { "4", Sequence(0x01, 25), Repeat("cd", 50), "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
        { "6", Repeat("aa", 131), Utf8("Test Using Larger Than Block-Size Key - Hash Key First"), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
        {
            "7", Repeat("aa", 131),
            Utf8("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm."),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"
        },
    };

    [Theory]
    [MemberData(nameof(HmacCases))]
    public void KeyedIds_Rfc4231Sha256Case_OneShotAndIncrementalGiveTheVector(string name, string key, string data, string mac)
    {
        using var ids = new KeyedIds(Hex(key));
        var bytes = Hex(data);
        using var hasher = ids.CreateHasher();
        // Odd-sized pieces, so that no piece lines up with the 64-byte block of SHA-256.
        for (var at = 0; at < bytes.Length; at += 7)
        {
            hasher.Append(bytes.AsSpan(at, Math.Min(7, bytes.Length - at)));
        }

        Assert.True(mac == ids.Compute(bytes).ToHex(), $"case {name}: one shot");
        Assert.True(mac == hasher.GetIdAndReset().ToHex(), $"case {name}: incremental");
    }

    private static byte[] Hex(string hex) => Convert.FromHexString(hex);

    private static string Repeat(string hexByte, int count) => string.Concat(Enumerable.Repeat(hexByte, count));

    private static string Sequence(int first, int count) => Convert.ToHexStringLower(Enumerable.Range(first, count).Select(b => (byte)b).ToArray());

    private static string Utf8(string text) => Convert.ToHexStringLower(Encoding.UTF8.GetBytes(text));
}
