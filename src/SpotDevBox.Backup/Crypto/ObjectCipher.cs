using System.Security.Cryptography;
using SpotDevBox.Backup.Format;

namespace SpotDevBox.Backup.Crypto;

/// <summary>
/// Seals and opens repository objects with AES-256-GCM (docs/repository-format.md, "Version 3
/// (encrypted)"). A <see cref="Sealer"/> draws a fresh 32-byte salt and derives its own key once,
/// HKDF-SHA256(encryption key, salt, "spotdevbox/v3/object"); it numbers what it seals 0, 1, 2, … and
/// that number is the nonce, so no nonce ever repeats under one key. A pack is sealed by one sealer
/// (its blobs and its header), so the derivation is paid once per pack, not once per blob. Each sealed
/// object carries its salt and nonce, so it opens on its own (a range read of one blob) and a repack
/// can copy it as it is. The associated data binds the object to its repository and its kind, and a
/// blob also to its id: a blob opens only under the id its index entry names, so a restore needs no
/// second hash of the plaintext to know it holds the blob it asked for.
/// <code>
/// sealed = "SDBE" format:uint8 = 1  salt:32 bytes  nonce:12 bytes  ciphertext  tag:16 bytes
/// aad    = "SDBE" format:uint8 = 1  kind:uint8  repository id:16 bytes  [blob id:32 bytes, blobs only]
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
    private const int MaxAadSize = AadSize + BlobId.Size;

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

    /// <summary>Seals one data or tree blob on its own, bound to <paramref name="blobId"/> (tests and tools; packs use a <see cref="Sealer"/>).</summary>
    public byte[] Seal(ReadOnlySpan<byte> plaintext, ObjectKind kind, BlobId blobId)
    {
        using var sealer = CreateSealer();
        return sealer.Seal(plaintext, kind, blobId);
    }

    /// <summary>Seals one object on its own into <paramref name="destination"/>; see <see cref="Sealer.Seal(ReadOnlySpan{byte}, ObjectKind, Span{byte})"/>.</summary>
    public int Seal(ReadOnlySpan<byte> plaintext, ObjectKind kind, Span<byte> destination)
    {
        using var sealer = CreateSealer();
        return sealer.Seal(plaintext, kind, destination);
    }

    /// <summary>Seals one data or tree blob on its own into <paramref name="destination"/>, bound to <paramref name="blobId"/>.</summary>
    public int Seal(ReadOnlySpan<byte> plaintext, ObjectKind kind, Span<byte> destination, BlobId blobId)
    {
        using var sealer = CreateSealer();
        return sealer.Seal(plaintext, kind, destination, blobId);
    }

    /// <summary>
    /// Opens a sealed object of <paramref name="kind"/> into <paramref name="destination"/> (at least
    /// <c>sealedObject.Length - Overhead</c> bytes) and returns the plaintext length. To open without a
    /// copy, pass <c>sealedObject[HeaderSize..^TagSize]</c> as the destination: it is decrypted in place.
    /// Throws <see cref="SealedObjectException"/> when the object is truncated, not sealed, of an unknown
    /// format, or does not authenticate; then nothing of it is left in the destination (opened in place,
    /// that means the ciphertext is cleared too: fetch the object again to look at it). A data or tree blob
    /// opens only under the <paramref name="blobId"/> it was sealed with.
    /// </summary>
    public int Open(ReadOnlySpan<byte> sealedObject, ObjectKind kind, Span<byte> destination) => Open(sealedObject, kind, destination, null);

    /// <summary>Opens a data or tree blob sealed under <paramref name="blobId"/>; see the overload without it.</summary>
    public int Open(ReadOnlySpan<byte> sealedObject, ObjectKind kind, Span<byte> destination, BlobId blobId) => Open(sealedObject, kind, destination, (BlobId?)blobId);

    private int Open(ReadOnlySpan<byte> sealedObject, ObjectKind kind, Span<byte> destination, BlobId? blobId)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        CheckBinding(kind, blobId);
        var plaintextLength = CheckHeader(sealedObject, kind);
        if (destination.Length < plaintextLength)
        {
            throw new ArgumentException($"the destination holds {destination.Length} bytes, the {Describe(kind)} needs {plaintextLength}", nameof(destination));
        }

        var plaintext = destination[..plaintextLength];
        var ciphertext = sealedObject.Slice(HeaderSize, plaintextLength);
        RequireInPlaceOrApart(plaintext, ciphertext, sealedObject, nameof(destination));

        Span<byte> aad = stackalloc byte[MaxAadSize];
        var aadLength = WriteAad(kind, blobId, aad);
        try
        {
            var aes = KeyOf(sealedObject.Slice(MagicSize + 1, SaltSize));
            aes.Decrypt(sealedObject.Slice(MagicSize + 1 + SaltSize, NonceSize), ciphertext, sealedObject.Slice(HeaderSize + plaintextLength, TagSize), plaintext, aad[..aadLength]);
        }
        catch (AuthenticationTagMismatchException e)
        {
            // AesGcm has already cleared the destination: no unauthenticated byte is handed on.
            throw new SealedObjectException(kind, SealedObjectFailure.NotAuthentic, blobId is null
                ? $"the {Describe(kind)} does not authenticate: it was changed or cut short, belongs to another repository or is another kind of object, or the key is not this repository's; run check"
                : $"the {Describe(kind)} does not authenticate: it was changed or cut short, is another blob (moved within the repository, or its index entry altered), belongs to another repository, or the key is not this repository's; run check", e);
        }

        return plaintextLength;
    }

    /// <summary>Opens into a new array of exactly the plaintext length.</summary>
    public byte[] Open(ReadOnlySpan<byte> sealedObject, ObjectKind kind) => Open(sealedObject, kind, (BlobId?)null);

    /// <summary>Opens a data or tree blob sealed under <paramref name="blobId"/> into a new array.</summary>
    public byte[] Open(ReadOnlySpan<byte> sealedObject, ObjectKind kind, BlobId blobId) => Open(sealedObject, kind, (BlobId?)blobId);

    private byte[] Open(ReadOnlySpan<byte> sealedObject, ObjectKind kind, BlobId? blobId)
    {
        var plaintext = GC.AllocateUninitializedArray<byte>(CheckHeader(sealedObject, kind));
        Open(sealedObject, kind, plaintext, blobId);
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

    /// <summary>Writes the associated data into <paramref name="aad"/> (<see cref="MaxAadSize"/> bytes) and returns its length.</summary>
    private int WriteAad(ObjectKind kind, BlobId? blobId, Span<byte> aad)
    {
        Magic.CopyTo(aad);
        aad[MagicSize] = Format;
        aad[MagicSize + 1] = (byte)kind;
        repositoryId.CopyTo(aad[(MagicSize + 2)..]);
        if (blobId is not { } id)
        {
            return AadSize;
        }

        id.WriteTo(aad[AadSize..]);
        return AadSize + BlobId.Size;
    }

    /// <summary>A data or tree blob must be bound to its 32-byte id, and nothing else may be: a caller's slip, never a stored byte.</summary>
    private static void CheckBinding(ObjectKind kind, BlobId? blobId)
    {
        var isBlob = kind is ObjectKind.DataBlob or ObjectKind.TreeBlob;
        if (isBlob != blobId.HasValue)
        {
            throw new ArgumentException(isBlob
                ? $"a {Describe(kind)} is bound to its blob id: give it"
                : $"only data and tree blobs are bound to a blob id, not a {Describe(kind)}", nameof(blobId));
        }
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
        public int Seal(ReadOnlySpan<byte> plaintext, ObjectKind kind, Span<byte> destination) => Seal(plaintext, kind, destination, null);

        /// <summary>Seals a data or tree blob bound to <paramref name="blobId"/>; see the overload without it.</summary>
        public int Seal(ReadOnlySpan<byte> plaintext, ObjectKind kind, Span<byte> destination, BlobId blobId) => Seal(plaintext, kind, destination, (BlobId?)blobId);

        /// <summary>Seals a data or tree blob bound to <paramref name="blobId"/> into a new array.</summary>
        public byte[] Seal(ReadOnlySpan<byte> plaintext, ObjectKind kind, BlobId blobId) => Seal(plaintext, kind, (BlobId?)blobId);

        private int Seal(ReadOnlySpan<byte> plaintext, ObjectKind kind, Span<byte> destination, BlobId? blobId)
        {
            ObjectDisposedException.ThrowIf(cipher.disposed, cipher);
            CheckBinding(kind, blobId);
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

            Span<byte> aad = stackalloc byte[MaxAadSize];
            var aadLength = cipher.WriteAad(kind, blobId, aad);
            aes.Encrypt(nonce, plaintext, ciphertext, destination.Slice(HeaderSize + plaintext.Length, TagSize), aad[..aadLength]);
            return length;
        }

        /// <summary>Seals into a new array of exactly the sealed length.</summary>
        public byte[] Seal(ReadOnlySpan<byte> plaintext, ObjectKind kind) => Seal(plaintext, kind, (BlobId?)null);

        private byte[] Seal(ReadOnlySpan<byte> plaintext, ObjectKind kind, BlobId? blobId)
        {
            var sealedObject = GC.AllocateUninitializedArray<byte>(SealedLength(plaintext.Length));
            Seal(plaintext, kind, sealedObject, blobId);
            return sealedObject;
        }

        public void Dispose() => aes.Dispose();
    }
}
