using System.Security.Cryptography;

namespace SpotDevBox.Backup.Crypto;

/// <summary>
/// A repository's master key: 64 random bytes, the first 32 the encryption key that every object key is
/// derived from (<see cref="ObjectCipher"/>), the last 32 the id key (<see cref="KeyedIds"/>). It is
/// stored only wrapped (by a passphrase or by KMS); whoever unwraps it treats it as 64 opaque bytes.
/// The bytes live in one pinned array (the garbage collector never leaves a moved copy behind) that
/// <see cref="Dispose"/> zeroes.
/// </summary>
public sealed class MasterKey : IDisposable
{
    public const int Size = 64;
    public const int EncryptionKeySize = 32;
    public const int IdKeySize = 32;

    private readonly byte[] bytes = GC.AllocateUninitializedArray<byte>(Size, pinned: true);
    private bool disposed;

    private MasterKey()
    {
    }

    /// <summary>A new master key from the operating system's cryptographic random number generator.</summary>
    public static MasterKey Generate()
    {
        var key = new MasterKey();
        RandomNumberGenerator.Fill(key.bytes);
        return key;
    }

    /// <summary>A master key from its 64 bytes (as unwrapped from a key file); the caller keeps and zeroes its own copy.</summary>
    public static MasterKey FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
        {
            throw new ArgumentException(
                $"a master key is exactly {Size} bytes, got {bytes.Length}: the unwrapped key is damaged or is not a SpotDevBox master key",
                nameof(bytes));
        }

        var key = new MasterKey();
        bytes.CopyTo(key.bytes);
        return key;
    }

    /// <summary>Copies the 64 bytes into <paramref name="destination"/> (to wrap them); the caller zeroes that copy.</summary>
    public void CopyTo(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            throw new ArgumentException($"the destination holds {destination.Length} bytes, a master key needs {Size}", nameof(destination));
        }

        Bytes.CopyTo(destination);
    }

    internal ReadOnlySpan<byte> EncryptionKey => Bytes[..EncryptionKeySize];

    internal ReadOnlySpan<byte> IdKey => Bytes[EncryptionKeySize..];

    private ReadOnlySpan<byte> Bytes
    {
        get
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            return bytes;
        }
    }

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(bytes);
        disposed = true;
    }
}
