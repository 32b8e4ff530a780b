using System.Security.Cryptography;

namespace SpotDevBox.Backup.Crypto;

/// <summary>
/// Seals and opens repository objects with AES-256-GCM (docs/repository-format.md, "Version 3
/// (encrypted)"). A <see cref="Sealer"/> draws a fresh 32-byte salt and derives its own key once,
/// HKDF-SHA256(encryption key, salt, "spotdevbox/v3/object"); it numbers what it seals 0, 1, 2, … and
/// that number is the nonce, so no nonce ever repeats under one key. A pack is sealed by one sealer
/// (its blobs and its header), so the derivation is paid once per pack, not once per blob. Each sealed
/// object carries its salt and nonce, so it opens on its own (a range read of one blob) and a repack
/// can copy it as it is. The associated data binds the object to its repository and its kind.
/// <code>
/// sealed = "SDBE" format:uint8 = 1  salt:32 bytes  nonce:12 bytes  ciphertext  tag:16 bytes
/// aad    = "SDBE" format:uint8 = 1  kind:uint8  repository id:16 bytes
/// </code>
/// Thread-safe (a <see cref="Sealer"/> is not: one per pack). It keeps its own pinned copy of the
/// encryption key, zeroed by <see cref="Dispose"/>.
/// </summary>
public sealed class ObjectCipher : IDisposable
{
    public const int MagicSize = 4;
    public const int SaltSize = 32;
    public const int TagSize = 16;
    public const int NonceSize = 12;
    public const int RepositoryIdSize = 16;

    /// <summary>Bytes before the ciphertext: magic, format, salt, nonce.</summary>
    public const int HeaderSize = MagicSize + 1 + SaltSize + NonceSize;

    /// <summary>A sealer refuses to seal more than this many objects (far beyond any pack's blob count).</summary>
    public const long MaxSealsPerSealer = 1L << 32;

    /// <summary>What sealing adds to a plaintext: the header and the tag.</summary>
    public const int Overhead = HeaderSize + TagSize;

    public const byte Format = 1;

    private const int AadSize = MagicSize + 1 + 1 + RepositoryIdSize;

    private readonly byte[] encryptionKey = GC.AllocateUninitializedArray<byte>(MasterKey.EncryptionKeySize, pinned: true);
    private readonly byte[] repositoryId = new byte[RepositoryIdSize];

    /// <summary>
    /// Per thread, the last salt opened and its key's AesGcm: the blobs of one pack share their pack's salt, so a
    /// restore reading a pack's blobs derives its key once, not once per blob.
    /// </summary>
    private readonly ThreadLocal<OpenKey?> lastOpened = new(trackAllValues: true);
    private bool disposed;

    private sealed class OpenKey(byte[] salt, AesGcm aes)
    {
        public byte[] Salt { get; } = salt;

        public AesGcm Aes { get; } = aes;
    }

    /// <param name="key">the repository's master key (its encryption half is copied; the caller may dispose it after).</param>
    /// <param name="repositoryId">the repository's id as in its config: 32 lower-case hex digits.</param>
    public ObjectCipher(MasterKey key, string repositoryId)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(repositoryId);
        if (repositoryId.Length != RepositoryIdSize * 2
            || repositoryId.Any(c => c is not (>= '0' and <= '9') and not (>= 'a' and <= 'f'))
            || Convert.FromHexString(repositoryId, this.repositoryId, out _, out var written) != System.Buffers.OperationStatus.Done
            || written != RepositoryIdSize)
        {
            throw new ArgumentException(
                $"a repository id is {RepositoryIdSize * 2} lower-case hexadecimal digits (the id in the repository's config)",
                nameof(repositoryId));
        }

        key.EncryptionKey.CopyTo(encryptionKey);
    }

    /// <summary>The info string of the object-key derivation; part of the format.</summary>
    internal static ReadOnlySpan<byte> DerivationInfo => "spotdevbox/v3/object"u8;

    private static ReadOnlySpan<byte> Magic => "SDBE"u8;

    public static int SealedLength(int plaintextLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(plaintextLength);
        return checked(plaintextLength + Overhead);
    }

    /// <summary>A sealer with a fresh salt and key: seal one pack's blobs and header with it, then dispose it.</summary>
    public Sealer CreateSealer()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        Span<byte> salt = stackalloc byte[SaltSize];
        RandomNumberGenerator.Fill(salt);
        return new Sealer(this, salt);
    }

    /// <summary>The seam for the format's fixed test vector: a sealer with a given salt. Never reuse a salt.</summary>
    internal Sealer CreateSealerWithSalt(ReadOnlySpan<byte> salt)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (salt.Length != SaltSize)
        {
            throw new ArgumentException($"a salt is {SaltSize} bytes", nameof(salt));
        }

        return new Sealer(this, salt);
    }

    /// <summary>
    /// Seals one object on its own (an index file, a snapshot) into a new array of exactly the sealed
    /// length, with a sealer of its own.
    /// </summary>
    public byte[] Seal(ReadOnlySpan<byte> plaintext, ObjectKind kind)
    {
        using var sealer = CreateSealer();
        return sealer.Seal(plaintext, kind);
    }

    /// <summary>Seals one object on its own into <paramref name="destination"/>; see <see cref="Sealer.Seal(ReadOnlySpan{byte}, ObjectKind, Span{byte})"/>.</summary>
    public int Seal(ReadOnlySpan<byte> plaintext, ObjectKind kind, Span<byte> destination)
    {
        using var sealer = CreateSealer();
        return sealer.Seal(plaintext, kind, destination);
    }

    /// <summary>
    /// Opens a sealed object of <paramref name="kind"/> into <paramref name="destination"/> (at least
    /// <c>sealedObject.Length - Overhead</c> bytes) and returns the plaintext length. To open without a
    /// copy, pass <c>sealedObject[HeaderSize..^TagSize]</c> as the destination: it is decrypted in place.
    /// Throws <see cref="SealedObjectException"/> when the object is truncated, not sealed, of an unknown
    /// format, or does not authenticate; then nothing of it is left in the destination (opened in place,
    /// that means the ciphertext is cleared too: fetch the object again to look at it).
    /// </summary>
    public int Open(ReadOnlySpan<byte> sealedObject, ObjectKind kind, Span<byte> destination)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var plaintextLength = CheckHeader(sealedObject, kind);
        if (destination.Length < plaintextLength)
        {
            throw new ArgumentException($"the destination holds {destination.Length} bytes, the {Describe(kind)} needs {plaintextLength}", nameof(destination));
        }

        var plaintext = destination[..plaintextLength];
        var ciphertext = sealedObject.Slice(HeaderSize, plaintextLength);
        RequireInPlaceOrApart(plaintext, ciphertext, sealedObject, nameof(destination));

        Span<byte> aad = stackalloc byte[AadSize];
        WriteAad(kind, aad);
        try
        {
            var aes = KeyOf(sealedObject.Slice(MagicSize + 1, SaltSize));
            aes.Decrypt(sealedObject.Slice(MagicSize + 1 + SaltSize, NonceSize), ciphertext, sealedObject.Slice(HeaderSize + plaintextLength, TagSize), plaintext, aad);
        }
        catch (AuthenticationTagMismatchException e)
        {
            // AesGcm has already cleared the destination: no unauthenticated byte is handed on.
            throw new SealedObjectException(kind, SealedObjectFailure.NotAuthentic,
                $"the {Describe(kind)} does not authenticate: it was changed or cut short, belongs to another repository or is another kind of object, or the key is not this repository's; run check", e);
        }

        return plaintextLength;
    }

    /// <summary>Opens into a new array of exactly the plaintext length.</summary>
    public byte[] Open(ReadOnlySpan<byte> sealedObject, ObjectKind kind)
    {
        var plaintext = GC.AllocateUninitializedArray<byte>(CheckHeader(sealedObject, kind));
        Open(sealedObject, kind, plaintext);
        return plaintext;
    }

    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        foreach (var opened in lastOpened.Values)
        {
            opened?.Aes.Dispose();
        }

        lastOpened.Dispose();
        CryptographicOperations.ZeroMemory(encryptionKey);
    }

    /// <summary>The AesGcm of <paramref name="salt"/>'s key: this thread's last one when the salt is the same, else derived.</summary>
    private AesGcm KeyOf(ReadOnlySpan<byte> salt)
    {
        if (lastOpened.Value is { } last && salt.SequenceEqual(last.Salt))
        {
            return last.Aes;
        }

        Span<byte> objectKey = stackalloc byte[32];
        try
        {
            DeriveObjectKey(salt, objectKey);
            var opened = new OpenKey(salt.ToArray(), new AesGcm(objectKey, TagSize));
            lastOpened.Value?.Aes.Dispose();
            lastOpened.Value = opened;
            return opened.Aes;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(objectKey);
        }
    }

    private static int CheckHeader(ReadOnlySpan<byte> sealedObject, ObjectKind kind)
    {
        if (sealedObject.Length < Overhead)
        {
            throw new SealedObjectException(kind, SealedObjectFailure.Truncated,
                $"the {Describe(kind)} is {sealedObject.Length} bytes, shorter than the {Overhead} bytes of a sealed object's header and tag: it is truncated or not an encrypted object; run check");
        }

        if (!sealedObject.StartsWith(Magic))
        {
            throw new SealedObjectException(kind, SealedObjectFailure.NotSealed,
                $"the {Describe(kind)} does not start with the sealed-object magic: it is not an encrypted object or its first bytes were changed; run check");
        }

        if (sealedObject[MagicSize] != Format)
        {
            throw new SealedObjectException(kind, SealedObjectFailure.UnknownFormat,
                $"the {Describe(kind)} is sealed in format {sealedObject[MagicSize]}, which this build does not know ({Format} only): update spotdevbox, or run check if the byte was changed");
        }

        return sealedObject.Length - Overhead;
    }

    /// <summary>
    /// AesGcm accepts the same span for input and output (in place) or spans apart; the caller's
    /// <paramref name="buffer"/> must be exactly <paramref name="inPlace"/> or lie outside the sealed
    /// object, so that neither the header nor the tag is overwritten or read from the wrong bytes.
    /// </summary>
    private static void RequireInPlaceOrApart(ReadOnlySpan<byte> buffer, ReadOnlySpan<byte> inPlace, ReadOnlySpan<byte> sealedObject, string parameter)
    {
        if (buffer.Overlaps(sealedObject)
            && !(buffer.Overlaps(inPlace, out var offset) && offset == 0 && buffer.Length == inPlace.Length))
        {
            throw new ArgumentException("the plaintext and the sealed object overlap other than exactly in place (the plaintext at HeaderSize)", parameter);
        }
    }

    private static string Describe(ObjectKind kind) => kind switch
    {
        ObjectKind.DataBlob => "sealed data blob",
        ObjectKind.TreeBlob => "sealed tree blob",
        ObjectKind.PackHeader => "sealed pack header",
        ObjectKind.Index => "sealed index file",
        ObjectKind.Snapshot => "sealed snapshot",
        ObjectKind.KeyMaterial => "sealed key material",
        _ => $"sealed object of kind {(byte)kind}",
    };

    private void DeriveObjectKey(ReadOnlySpan<byte> salt, Span<byte> objectKey) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, encryptionKey, objectKey, salt, DerivationInfo);

    private void WriteAad(ObjectKind kind, Span<byte> aad)
    {
        Magic.CopyTo(aad);
        aad[MagicSize] = Format;
        aad[MagicSize + 1] = (byte)kind;
        repositoryId.CopyTo(aad[(MagicSize + 2)..]);
    }

    /// <summary>
    /// Seals objects under one salt's key, numbering them: the first gets nonce 0, the next 1, and so on
    /// (the number little-endian in the nonce's first 8 bytes). Not thread-safe; dispose it to zero its key.
    /// </summary>
    public sealed class Sealer : IDisposable
    {
        private readonly ObjectCipher cipher;
        private readonly byte[] salt = new byte[SaltSize];
        private readonly AesGcm aes;
        private long next;

        internal Sealer(ObjectCipher cipher, ReadOnlySpan<byte> salt)
        {
            this.cipher = cipher;
            salt.CopyTo(this.salt);
            Span<byte> objectKey = stackalloc byte[32];
            try
            {
                cipher.DeriveObjectKey(salt, objectKey);
                aes = new AesGcm(objectKey, TagSize);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(objectKey);
            }
        }

        /// <summary>How many objects this sealer has sealed.</summary>
        public long Count => next;

        /// <summary>
        /// Seals <paramref name="plaintext"/> into <paramref name="destination"/> (at least
        /// <see cref="SealedLength"/> bytes) and returns the sealed length. To seal without a copy, put the
        /// plaintext at <c>destination[HeaderSize..]</c> and pass that span: it is encrypted in place. Any
        /// other overlap of the two is refused.
        /// </summary>
        public int Seal(ReadOnlySpan<byte> plaintext, ObjectKind kind, Span<byte> destination)
        {
            ObjectDisposedException.ThrowIf(cipher.disposed, cipher);
            var length = SealedLength(plaintext.Length);
            if (destination.Length < length)
            {
                throw new ArgumentException($"the destination holds {destination.Length} bytes, sealing {plaintext.Length} bytes needs {length}", nameof(destination));
            }

            if (next >= MaxSealsPerSealer)
            {
                throw new InvalidOperationException($"a sealer seals at most {MaxSealsPerSealer} objects; create another");
            }

            var ciphertext = destination.Slice(HeaderSize, plaintext.Length);
            RequireInPlaceOrApart(plaintext, ciphertext, destination[..length], nameof(plaintext));

            Magic.CopyTo(destination);
            destination[MagicSize] = Format;
            salt.CopyTo(destination[(MagicSize + 1)..]);
            var nonce = destination.Slice(MagicSize + 1 + SaltSize, NonceSize);
            nonce.Clear();
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(nonce, next++);

            Span<byte> aad = stackalloc byte[AadSize];
            cipher.WriteAad(kind, aad);
            aes.Encrypt(nonce, plaintext, ciphertext, destination.Slice(HeaderSize + plaintext.Length, TagSize), aad);
            return length;
        }

        /// <summary>Seals into a new array of exactly the sealed length.</summary>
        public byte[] Seal(ReadOnlySpan<byte> plaintext, ObjectKind kind)
        {
            var sealedObject = GC.AllocateUninitializedArray<byte>(SealedLength(plaintext.Length));
            Seal(plaintext, kind, sealedObject);
            return sealedObject;
        }

        public void Dispose() => aes.Dispose();
    }
}
