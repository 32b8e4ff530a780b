using System.Globalization;

namespace SpotDevBox.Backup.Keys;

/// <summary>
/// Argon2id parameters as a key file records them. <see cref="Validate"/> runs before any derivation, so a
/// hostile key file cannot make the client allocate or compute without bound: memory is what Argon2 allocates
/// (KiB), iterations and lanes multiply the time.
/// </summary>
public sealed record Argon2idParameters(int MemoryKib, int Iterations, int Parallelism)
{
    /// <summary>
    /// 32 MiB, 2 passes, 4 lanes: restic's scrypt works about as hard (32 MiB); every command that opens a repository
    /// pays it once (docs/security.md, "Keys"; docs/benchmarks.md, "Encryption").
    /// </summary>
    public static Argon2idParameters Default { get; } = new(32 * 1024, 2, 4);

    /// <summary>OWASP's floor for Argon2id (19 MiB, 2 passes, 1 lane): below it a key file is refused.</summary>
    public const int MinMemoryKib = 19 * 1024;
    public const int MinIterations = 2;
    public const int MaxMemoryKib = 1024 * 1024;
    public const int MaxIterations = 20;
    public const int MaxParallelism = 16;
    public const int SaltSize = 32;

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

        if (Parallelism is < 1 or > MaxParallelism)
        {
            return Out("parallelism", Parallelism, 1, MaxParallelism);
        }

        // Argon2 needs at least 8 KiB per lane; the floor above already gives that for 16 lanes.
        return null;
    }
}

/// <summary>Argon2id (RFC 9106) through Konscious.Security.Cryptography.Argon2, version 0x13.</summary>
internal static class Argon2id
{
    /// <summary>
    /// Derives <paramref name="length"/> bytes. The parameters are not checked here: the RFC's test vector uses
    /// 32 KiB; key files go through <see cref="Argon2idParameters.Validate"/> first.
    /// </summary>
    public static byte[] Derive(
        ReadOnlySpan<byte> password,
        ReadOnlySpan<byte> salt,
        Argon2idParameters parameters,
        int length,
        ReadOnlySpan<byte> secret = default,
        ReadOnlySpan<byte> associatedData = default)
    {
        var passwordBytes = password.ToArray();
        try
        {
            using var argon = new Konscious.Security.Cryptography.Argon2id(passwordBytes)
            {
                Salt = salt.ToArray(),
                MemorySize = parameters.MemoryKib,
                Iterations = parameters.Iterations,
                DegreeOfParallelism = parameters.Parallelism,
                KnownSecret = secret.IsEmpty ? null : secret.ToArray(),
                AssociatedData = associatedData.IsEmpty ? null : associatedData.ToArray(),
            };
            return argon.GetBytes(length);
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(passwordBytes);
            // The derivation's memory (Keys:Argon2id:MemoryKiB, 32 MiB by default) is garbage now: give it back to the
            // system before the command's real work, so that it does not add to the command's peak memory.
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        }
    }
}
