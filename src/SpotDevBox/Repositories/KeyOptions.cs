using System.Globalization;
using Microsoft.Extensions.Options;
using SpotDevBox.Backup.Keys;

namespace SpotDevBox.Repositories;

/// <summary>
/// How new repository keys are made, from the "Keys" section (docs/security.md, "Keys"): the cost of the passphrase
/// key files that <c>init</c>, <c>key add</c> and <c>key passwd</c> write (opening uses the cost recorded in the file;
/// lowering it makes a guessed passphrase cheaper to try; the floor is the library's), and the fleet's KMS key.
/// </summary>
internal sealed class KeyOptions
{
    public const string SectionName = "Keys";

    /// <summary>The fleet's KMS key for the repositories (spotdevbox setup writes it): what `init --box` wraps a new key with.</summary>
    public string KmsKeyArn { get; set; } = "";

    public KeyArgon2idOptions Argon2id { get; set; } = new();

    public Argon2idParameters Parameters => new(Argon2id.MemoryKiB, Argon2id.Iterations);
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

        if (options.KmsKeyArn.Length > 0 && !options.KmsKeyArn.StartsWith("arn:", StringComparison.Ordinal))
        {
            failures.Add($"{KeyOptions.SectionName}:KmsKeyArn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
