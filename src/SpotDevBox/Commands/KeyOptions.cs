using System.Globalization;
using Microsoft.Extensions.Options;
using SpotDevBox.Backup.Keys;

namespace SpotDevBox.Commands;

/// <summary>
/// The cost of the passphrase key files that <c>key add</c> and <c>key passwd</c> write, from "Keys:Argon2id"
/// (docs/security.md, "Keys"). Lowering it makes a guessed passphrase cheaper to try; the floor is the library's.
/// </summary>
internal sealed class KeyOptions
{
    public const string SectionName = "Keys";

    public KeyArgon2idOptions Argon2id { get; set; } = new();

    public Argon2idParameters Parameters => new(Argon2id.MemoryKiB, Argon2id.Iterations, Argon2idParameters.Default.Parallelism);
}

internal sealed class KeyArgon2idOptions
{
    public int MemoryKiB { get; set; } = Argon2idParameters.Default.MemoryKib;

    public int Iterations { get; set; } = Argon2idParameters.Default.Iterations;
}

internal sealed class KeyOptionsValidator : IValidateOptions<KeyOptions>
{
    public ValidateOptionsResult Validate(string? name, KeyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        var a = options.Argon2id;
        if (a.MemoryKiB is < Argon2idParameters.MinMemoryKib or > Argon2idParameters.MaxMemoryKib)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture,
                $"{KeyOptions.SectionName}:Argon2id:MemoryKiB must be between {Argon2idParameters.MinMemoryKib} and {Argon2idParameters.MaxMemoryKib}, got {a.MemoryKiB}"));
        }

        if (a.Iterations is < Argon2idParameters.MinIterations or > Argon2idParameters.MaxIterations)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture,
                $"{KeyOptions.SectionName}:Argon2id:Iterations must be between {Argon2idParameters.MinIterations} and {Argon2idParameters.MaxIterations}, got {a.Iterations}"));
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
