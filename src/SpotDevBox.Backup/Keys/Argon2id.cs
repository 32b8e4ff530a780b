using System.Globalization;

namespace SpotDevBox.Backup.Keys;

/// <summary>
/// Argon2id parameters as a key file records them. <see cref="Validate"/> runs before any derivation, so a
/// hostile key file cannot make the client allocate or compute without bound: memory is what Argon2 allocates
/// (KiB), iterations multiply the time. Lanes (parallelism) are always 1: libsodium's Argon2id, which derives the
/// keys, computes one lane only (as OWASP's recommended settings have it); the field is recorded so that the file
/// says which Argon2id it took.
/// </summary>
public sealed record Argon2idParameters(int MemoryKib, int Iterations, int Parallelism = 1)
{
    /// <summary>
    /// 32 MiB, 2 passes, 1 lane: restic's scrypt works about as hard (32 MiB); every command that opens a repository
    /// pays it once, about 35 ms here (docs/security.md, "Keys"; docs/benchmarks.md, "Encryption").
    /// </summary>
    public static Argon2idParameters Default { get; } = new(32 * 1024, 2);

    /// <summary>OWASP's floor for Argon2id (19 MiB, 2 passes, 1 lane): below it a key file is refused.</summary>
    public const int MinMemoryKib = 19 * 1024;
    public const int MinIterations = 2;
    public const int MaxMemoryKib = 1024 * 1024;
    public const int MaxIterations = 20;

    /// <summary>16 bytes, RFC 9106's recommendation and the only salt length libsodium's Argon2id takes.</summary>
    public const int SaltSize = 16;

    /// <summary>Null when the parameters may be used, else why not (one line, naming the field, the value and the bound).</summary>
    public string? Validate()
    {
        static string Out(string name, int value, int min, int max) => string.Create(
            CultureInfo.InvariantCulture, $"Argon2id {name} {value} is outside {min}..{max}");

        if (MemoryKib is < MinMemoryKib or > MaxMemoryKib)
        {
            return Out("memory (KiB)", MemoryKib, MinMemoryKib, MaxMemoryKib);
        }

        if (Iterations is < MinIterations or > MaxIterations)
        {
            return Out("iterations", Iterations, MinIterations, MaxIterations);
        }

        return Parallelism != 1
            ? string.Create(CultureInfo.InvariantCulture, $"Argon2id parallelism {Parallelism} is not supported: key files use 1 lane")
            : null;
    }
}

/// <summary>
/// Argon2id (RFC 9106, version 0x13) through NSec.Cryptography, that is libsodium's native <c>crypto_pwhash</c>:
/// about four times faster than a managed implementation, and the time is what every command pays when it opens a
/// repository by passphrase.
/// </summary>
internal static class Argon2id
{
    /// <summary>
    /// Derives <paramref name="length"/> bytes. The parameters are checked by <see cref="Argon2idParameters.Validate"/>
    /// first (a key file's are hostile until then); the salt must be <see cref="Argon2idParameters.SaltSize"/> bytes.
    /// </summary>
    public static byte[] Derive(ReadOnlySpan<byte> password, ReadOnlySpan<byte> salt, Argon2idParameters parameters, int length)
    {
        if (parameters.Validate() is { } invalid)
        {
            throw new ArgumentException(invalid, nameof(parameters));
        }

        if (salt.Length != Argon2idParameters.SaltSize)
        {
            throw new ArgumentException($"the salt must be {Argon2idParameters.SaltSize} bytes", nameof(salt));
        }

        var algorithm = NSec.Cryptography.PasswordBasedKeyDerivationAlgorithm.Argon2id(new NSec.Cryptography.Argon2Parameters
        {
            DegreeOfParallelism = 1,
            MemorySize = parameters.MemoryKib,
            NumberOfPasses = parameters.Iterations,
        });
        // libsodium allocates the memory itself and hands it back before returning: nothing stays on the managed heap.
        return algorithm.DeriveBytes(password, salt, length);
    }
}
