using System.Security.Cryptography;
using SpotDevBox.Backup.Crypto;
using SpotDevBox.Backup.Format;

namespace SpotDevBox.Backup.Tests.Crypto;

public sealed class ObjectCipherTests
{
    private const string RepositoryId = "00112233445566778899aabbccddeeff";
    private const string OtherRepositoryId = "00112233445566778899aabbccddeefe";

    // The format's own vector, computed outside .NET (Python's hashlib HKDF by RFC 5869 and the
    // cryptography package's AESGCM) from the layout in docs/repository-format.md, "Version 3":
    // master key 00 01 .. 3f (encryption key 00 .. 1f), repository id above, salt a0 a1 .. bf,
    // kind snapshot (5), plaintext "spotdevbox version 3 sealed object".
    // The first object a sealer seals has nonce 0, the second nonce 1 (little-endian in the first 8 bytes).
    private const string FixedVector =
        "53444245" + "01" + "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf" + "000000000000000000000000" +
        "8a2e2cbe20e0422bd936b888954c2079aabf99858a6cb8afbd7724dc55d773cb07f9" +
        "ecc89da9e8e849410fba4ebdf0138274";

    private const string SecondFixedVector =
        "53444245" + "01" + "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf" + "010000000000000000000000" +
        "20babc847e15fdf11c0104089f717cb2a5867e62fa7542802e6d6256ded0b2c4f29a" +
        "9f7b0f134df50bc9a6fbb3ad53e3c4f4";

    private static readonly byte[] Plaintext = "spotdevbox version 3 sealed object"u8.ToArray();

    /// <summary>The id data and tree blobs are bound to in these tests (any 32 bytes do for the cipher).</summary>
    private static readonly BlobId Id = BlobId.FromBytes(Enumerable.Range(0xc0, 32).Select(b => (byte)b).ToArray());

    private static bool IsBlob(ObjectKind kind) => kind is ObjectKind.DataBlob or ObjectKind.TreeBlob;

    private static byte[] SealAs(ObjectCipher cipher, byte[] plaintext, ObjectKind kind) =>
        IsBlob(kind) ? cipher.Seal(plaintext, kind, Id) : cipher.Seal(plaintext, kind);

    private static byte[] OpenAs(ObjectCipher cipher, byte[] sealedObject, ObjectKind kind) =>
        IsBlob(kind) ? cipher.Open(sealedObject, kind, Id) : cipher.Open(sealedObject, kind);

    [Fact]
    public void SealerWithSalt_FixedVectors_AreTheDocumentedLayoutByteForByte()
    {
        using var cipher = FixedCipher();
        var salt = Enumerable.Range(0xa0, 32).Select(b => (byte)b).ToArray();
        using var sealer = cipher.CreateSealerWithSalt(salt);
        var first = new byte[ObjectCipher.SealedLength(Plaintext.Length)];
        var second = new byte[first.Length];

        var written = sealer.Seal(Plaintext, ObjectKind.Snapshot, first);
        sealer.Seal(Plaintext, ObjectKind.Snapshot, second);

        Assert.Equal(99, written);
        Assert.Equal(2, sealer.Count);
        Assert.Equal(FixedVector, Convert.ToHexStringLower(first));
        Assert.Equal(SecondFixedVector, Convert.ToHexStringLower(second));
        Assert.Equal(Plaintext, cipher.Open(Convert.FromHexString(FixedVector), ObjectKind.Snapshot));
        Assert.Equal(Plaintext, cipher.Open(Convert.FromHexString(SecondFixedVector), ObjectKind.Snapshot));
    }

    // A data blob (kind 1) of the same plaintext, salt and nonce 0, bound to the blob id c0 c1 .. df: the
    // associated data ends with the id. Computed outside .NET the same way as the vectors above.
    private const string BlobFixedVector =
        "53444245" + "01" + "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf" + "000000000000000000000000" +
        "8a2e2cbe20e0422bd936b888954c2079aabf99858a6cb8afbd7724dc55d773cb07f9" +
        "a494815fee4f2638df3e5016827c3247";

    [Fact]
    public void SealerWithSalt_BlobFixedVector_BindsTheBlobIdByteForByte()
    {
        using var cipher = FixedCipher();
        using var sealer = cipher.CreateSealerWithSalt(Enumerable.Range(0xa0, 32).Select(b => (byte)b).ToArray());

        var sealedBlob = sealer.Seal(Plaintext, ObjectKind.DataBlob, Id);

        Assert.Equal(BlobFixedVector, Convert.ToHexStringLower(sealedBlob));
        Assert.Equal(Plaintext, cipher.Open(sealedBlob, ObjectKind.DataBlob, Id));
    }

    /// <summary>A sealed blob put where another blob's entry points: its tag names it, so it does not open as the other.</summary>
    [Fact]
    public void Open_BlobUnderAnotherId_RefusedAsNotAuthenticNamingAMove()
    {
        using var cipher = NewCipher(out _);
        var sealedBlob = cipher.Seal(Plaintext, ObjectKind.DataBlob, Id);
        var other = BlobId.FromBytes(Enumerable.Range(0xc1, 32).Select(b => (byte)b).ToArray());

        var e = Assert.Throws<SealedObjectException>(() => cipher.Open(sealedBlob, ObjectKind.DataBlob, other));

        Assert.Equal(SealedObjectFailure.NotAuthentic, e.Failure);
        Assert.Contains("is another blob (moved within the repository, or its index entry altered)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SealAndOpen_BlobWithoutItsIdOrOtherKindWithOne_RefusedAsTheCallersSlip()
    {
        using var cipher = NewCipher(out _);
        var sealedSnapshot = cipher.Seal(Plaintext, ObjectKind.Snapshot);
        var sealedBlob = cipher.Seal(Plaintext, ObjectKind.TreeBlob, Id);

        Assert.Throws<ArgumentException>(() => cipher.Seal(Plaintext, ObjectKind.DataBlob));
        Assert.Throws<ArgumentException>(() => cipher.Seal(Plaintext, ObjectKind.Snapshot, Id));
        Assert.Throws<ArgumentException>(() => cipher.Open(sealedBlob, ObjectKind.TreeBlob));
        Assert.Throws<ArgumentException>(() => cipher.Open(sealedSnapshot, ObjectKind.Snapshot, Id));
    }

    [Fact]
    public void Sealer_ManyObjects_OneSaltDistinctNoncesAndEachOpensAlone()
    {
        using var cipher = NewCipher(out _);
        using var sealer = cipher.CreateSealer();
        var sealedObjects = Enumerable.Range(0, 300).Select(i => sealer.Seal(new byte[i], ObjectKind.DataBlob, Id)).ToList();

        Assert.Single(sealedObjects.Select(o => Convert.ToHexString(o.AsSpan(5, 32))).Distinct());
        Assert.Equal(300, sealedObjects.Select(o => Convert.ToHexString(o.AsSpan(37, 12))).Distinct().Count());
        for (var i = sealedObjects.Count - 1; i >= 0; i--)
        {
            Assert.Equal(new byte[i], cipher.Open(sealedObjects[i], ObjectKind.DataBlob, Id));
        }
    }

    [Fact]
    public void Open_NonceOfAnotherObjectOfTheSameSealer_RefusedAsNotAuthentic()
    {
        using var cipher = NewCipher(out _);
        using var sealer = cipher.CreateSealer();
        var first = sealer.Seal(Plaintext, ObjectKind.DataBlob, Id);
        var second = sealer.Seal(Plaintext, ObjectKind.DataBlob, Id);
        second.AsSpan(37, 12).CopyTo(first.AsSpan(37, 12));

        var e = Assert.Throws<SealedObjectException>(() => cipher.Open(first, ObjectKind.DataBlob, Id));
        Assert.Equal(SealedObjectFailure.NotAuthentic, e.Failure);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(4096)]
    [InlineData(1 << 20)]
    public void SealThenOpen_AnySize_GivesThePlaintextBackWith65BytesOverhead(int size)
    {
        using var cipher = NewCipher(out _);
        var plaintext = RandomNumberGenerator.GetBytes(size);

        var sealedObject = cipher.Seal(plaintext, ObjectKind.DataBlob, Id);

        Assert.Equal(size + 65, sealedObject.Length);
        Assert.Equal(plaintext, cipher.Open(sealedObject, ObjectKind.DataBlob, Id));
    }

    [Fact]
    public void SealThenOpen_InPlaceInOneBuffer_GivesThePlaintextBack()
    {
        using var cipher = NewCipher(out _);
        var plaintext = RandomNumberGenerator.GetBytes(1000);
        var buffer = new byte[ObjectCipher.SealedLength(plaintext.Length)];
        plaintext.CopyTo(buffer, ObjectCipher.HeaderSize);

        var written = cipher.Seal(buffer.AsSpan(ObjectCipher.HeaderSize, plaintext.Length), ObjectKind.TreeBlob, buffer, Id);
        Assert.NotEqual(plaintext, buffer.AsSpan(ObjectCipher.HeaderSize, plaintext.Length).ToArray());
        var opened = cipher.Open(buffer.AsSpan(0, written), ObjectKind.TreeBlob, buffer.AsSpan(ObjectCipher.HeaderSize, plaintext.Length), Id);

        Assert.Equal(plaintext.Length, opened);
        Assert.Equal(plaintext, buffer.AsSpan(ObjectCipher.HeaderSize, plaintext.Length).ToArray());
    }

    [Fact]
    public void Seal_PlaintextOverlappingTheHeader_RefusedBeforeWritingAnything()
    {
        using var cipher = NewCipher(out _);
        var buffer = new byte[200];
        buffer.AsSpan(0, 100).Fill(7);
        var before = buffer.ToArray();

        Assert.Throws<ArgumentException>(() => cipher.Seal(buffer.AsSpan(0, 100), ObjectKind.DataBlob, buffer, Id));
        Assert.Equal(before, buffer);
    }

    [Fact]
    public void Seal_SamePlaintextTwice_SaltsAndCiphertextsDiffer()
    {
        using var cipher = NewCipher(out _);

        var first = cipher.Seal(Plaintext, ObjectKind.Snapshot);
        var second = cipher.Seal(Plaintext, ObjectKind.Snapshot);

        Assert.NotEqual(first.AsSpan(5, 32).ToArray(), second.AsSpan(5, 32).ToArray());
        Assert.NotEqual(first.AsSpan(ObjectCipher.HeaderSize).ToArray(), second.AsSpan(ObjectCipher.HeaderSize).ToArray());
    }

    [Fact]
    public void Open_EverySingleBitFlipped_RefusedNamingTheFailure()
    {
        using var cipher = FixedCipher();
        var original = Convert.FromHexString(FixedVector);

        for (var bit = 0; bit < original.Length * 8; bit++)
        {
            var flipped = original.ToArray();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));

            var e = Assert.Throws<SealedObjectException>(() => cipher.Open(flipped, ObjectKind.Snapshot));

            var expected = (bit / 8) switch
            {
                < 4 => SealedObjectFailure.NotSealed,
                4 => SealedObjectFailure.UnknownFormat,
                _ => SealedObjectFailure.NotAuthentic,
            };
            Assert.True(expected == e.Failure, $"bit {bit}: {e.Failure}");
            Assert.Equal(ObjectKind.Snapshot, e.Kind);
            Assert.Contains("snapshot", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Open_EveryTruncatedLength_Refused()
    {
        using var cipher = FixedCipher();
        var original = Convert.FromHexString(FixedVector);

        // Every length class: empty, inside the magic, the format byte, the salt, the tag, and the
        // ciphertext (a cut object is shorter by whole tag bytes or more, so its tag never matches).
        for (var length = 0; length < original.Length; length++)
        {
            var e = Assert.Throws<SealedObjectException>(() => cipher.Open(original.AsSpan(0, length), ObjectKind.Snapshot));

            var expected = length < ObjectCipher.Overhead ? SealedObjectFailure.Truncated : SealedObjectFailure.NotAuthentic;
            Assert.True(expected == e.Failure, $"length {length}: {e.Failure}");
        }
    }

    [Fact]
    public void Open_OneByteAppended_RefusedAsNotAuthentic()
    {
        using var cipher = FixedCipher();
        var extended = Convert.FromHexString(FixedVector + "00");

        var e = Assert.Throws<SealedObjectException>(() => cipher.Open(extended, ObjectKind.Snapshot));

        Assert.Equal(SealedObjectFailure.NotAuthentic, e.Failure);
    }

    [Fact]
    public void Open_ObjectOfAnotherRepositoryUnderTheSameKey_RefusedAsNotAuthentic()
    {
        using var key = MasterKey.Generate();
        using var mine = new ObjectCipher(key, RepositoryId);
        using var other = new ObjectCipher(key, OtherRepositoryId);
        var sealedObject = other.Seal(Plaintext, ObjectKind.Index);

        var e = Assert.Throws<SealedObjectException>(() => mine.Open(sealedObject, ObjectKind.Index));

        Assert.Equal(SealedObjectFailure.NotAuthentic, e.Failure);
        Assert.Equal("the sealed index file does not authenticate: it was changed or cut short, belongs to another repository or is another kind of object, or the key is not this repository's; run check", e.Message);
    }

    [Fact]
    public void Open_AsAnyOtherKind_RefusedAsNotAuthentic()
    {
        using var cipher = NewCipher(out _);

        foreach (var sealedAs in Enum.GetValues<ObjectKind>())
        {
            var sealedObject = SealAs(cipher, Plaintext, sealedAs);
            foreach (var openedAs in Enum.GetValues<ObjectKind>().Where(k => k != sealedAs))
            {
                var e = Assert.Throws<SealedObjectException>(() => OpenAs(cipher, sealedObject, openedAs));
                Assert.Equal(SealedObjectFailure.NotAuthentic, e.Failure);
            }

            Assert.Equal(Plaintext, OpenAs(cipher, sealedObject, sealedAs));
        }
    }

    [Fact]
    public void Open_UnderAnotherMasterKey_RefusedAndTheMessageHoldsNoKeyByte()
    {
        using var cipher = NewCipher(out _);
        using var otherKey = MasterKey.Generate();
        using var other = new ObjectCipher(otherKey, RepositoryId);
        var sealedObject = cipher.Seal(Plaintext, ObjectKind.KeyMaterial);
        var keyBytes = new byte[MasterKey.Size];
        otherKey.CopyTo(keyBytes);

        var e = Assert.Throws<SealedObjectException>(() => other.Open(sealedObject, ObjectKind.KeyMaterial));

        Assert.Equal(SealedObjectFailure.NotAuthentic, e.Failure);
        Assert.DoesNotContain(Convert.ToHexStringLower(keyBytes.AsSpan(0, 4)), e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Convert.ToHexStringLower(sealedObject.AsSpan(5, 4)), e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Open_TamperedObject_LeavesNoPlaintextInTheDestination()
    {
        using var cipher = NewCipher(out _);
        var plaintext = new byte[4096];
        plaintext.AsSpan().Fill(0x5a);
        var sealedObject = cipher.Seal(plaintext, ObjectKind.DataBlob, Id);
        sealedObject[^1] ^= 0x80;
        var destination = new byte[plaintext.Length];

        Assert.Throws<SealedObjectException>(() => cipher.Open(sealedObject, ObjectKind.DataBlob, destination, Id));

        Assert.DoesNotContain((byte)0x5a, destination);
    }

    [Fact]
    public void Open_Version2Object_RefusedAsNotSealed()
    {
        using var cipher = NewCipher(out _);
        // A version 2 index file starts with a zstd frame (magic 28 b5 2f fd).
        var zstdFrame = new byte[100];
        new byte[] { 0x28, 0xb5, 0x2f, 0xfd }.CopyTo(zstdFrame, 0);

        var e = Assert.Throws<SealedObjectException>(() => cipher.Open(zstdFrame, ObjectKind.Index));

        Assert.Equal(SealedObjectFailure.NotSealed, e.Failure);
    }

    [Theory]
    [InlineData("")]
    [InlineData("00112233445566778899aabbccddeef")]
    [InlineData("00112233445566778899AABBCCDDEEFF")]
    [InlineData("00112233445566778899aabbccddeefg")]
    public void Constructor_RepositoryIdNotThirtyTwoLowerHexDigits_Refused(string repositoryId)
    {
        using var key = MasterKey.Generate();

        var e = Assert.Throws<ArgumentException>(() => new ObjectCipher(key, repositoryId));

        Assert.Contains("32 lower-case hexadecimal digits", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Seal_EightMiBIntoTheCallersBuffer_AllocatesLessThanTwoKiB()
    {
        using var cipher = NewCipher(out _);
        var plaintext = new byte[8 << 20];
        var destination = new byte[ObjectCipher.SealedLength(plaintext.Length)];
        var opened = new byte[plaintext.Length];
        cipher.Seal(plaintext, ObjectKind.DataBlob, destination, Id);
        cipher.Open(destination, ObjectKind.DataBlob, opened, Id);

        var before = GC.GetAllocatedBytesForCurrentThread();
        cipher.Seal(plaintext, ObjectKind.DataBlob, destination, Id);
        cipher.Open(destination, ObjectKind.DataBlob, opened, Id);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // Only the per-object AesGcm (a small object and its handle), never in proportion to the size.
        Assert.True(allocated < 2048, $"{allocated} bytes allocated");
    }

    [Fact]
    public void SealAndOpen_DestinationOneByteShort_RefusedNamingBothSizes()
    {
        using var cipher = NewCipher(out _);
        var sealedObject = cipher.Seal(Plaintext, ObjectKind.Snapshot);

        var seal = Assert.Throws<ArgumentException>(() => cipher.Seal(Plaintext, ObjectKind.Snapshot, new byte[sealedObject.Length - 1]));
        var open = Assert.Throws<ArgumentException>(() => cipher.Open(sealedObject, ObjectKind.Snapshot, new byte[Plaintext.Length - 1]));

        Assert.StartsWith("the destination holds 98 bytes, sealing 34 bytes needs 99", seal.Message, StringComparison.Ordinal);
        Assert.StartsWith("the destination holds 33 bytes, the sealed snapshot needs 34", open.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SealAndOpen_OneCipherOnManyThreads_EveryObjectOpensToItsOwnPlaintext()
    {
        using var cipher = NewCipher(out _);

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(() =>
        {
            for (var i = 0; i < 200; i++)
            {
                var plaintext = new byte[100 + i];
                plaintext.AsSpan().Fill((byte)worker);
                var opened = cipher.Open(cipher.Seal(plaintext, ObjectKind.DataBlob, Id), ObjectKind.DataBlob, Id);
                if (!opened.AsSpan().SequenceEqual(plaintext))
                {
                    return false;
                }
            }

            return true;
        })));

        Assert.All(results, Assert.True);
    }

    [Fact]
    public void Seal_AfterDispose_Refused()
    {
        var cipher = NewCipher(out _);
        cipher.Dispose();

        Assert.Throws<ObjectDisposedException>(() => cipher.Seal(Plaintext, ObjectKind.Snapshot));
    }

    private static ObjectCipher FixedCipher()
    {
        using var key = MasterKey.FromBytes(Enumerable.Range(0, 64).Select(b => (byte)b).ToArray());
        return new ObjectCipher(key, RepositoryId);
    }

    private static ObjectCipher NewCipher(out string repositoryId)
    {
        repositoryId = RepositoryId;
        using var key = MasterKey.Generate();
        return new ObjectCipher(key, repositoryId);
    }
}
