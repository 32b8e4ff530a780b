using System.Globalization;
using Microsoft.Extensions.Options;
using SpotDevBox.Backup.Keys;

namespace SpotDevBox.Commands;

/// <summary>How new repository keys are made, from the "Keys" section (docs/security.md, "Keys").</summary>
internal sealed class KeyOptions
{
    public const string SectionName = "Keys";

    /// <summary>The fleet's KMS key for the repositories (spotdevbox setup writes it): what `init --kms-box` wraps a new key with.</summary>
    public string KmsKeyArn { get; set; } = "";

    /// <summary>The cost of the passphrase derivation written into a new passphrase key file; opening uses the file's own.</summary>
    public Argon2idSettings Argon2id { get; set; } = new();

    public Argon2idParameters Argon2idParameters() => new(Argon2id.MemoryKiB, Argon2id.Iterations, Argon2id.Parallelism);

    internal sealed class Argon2idSettings
    {
        public int MemoryKiB { get; set; } = Backup.Keys.Argon2idParameters.Default.MemoryKib;

        public int Iterations { get; set; } = Backup.Keys.Argon2idParameters.Default.Iterations;

        public int Parallelism { get; set; } = Backup.Keys.Argon2idParameters.Default.Parallelism;
    }
}

internal sealed class KeyOptionsValidator : IValidateOptions<KeyOptions>
{
    public ValidateOptionsResult Validate(string? name, KeyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Argon2idParameters().Validate() is { } problem)
        {
            return ValidateOptionsResult.Fail(string.Create(CultureInfo.InvariantCulture, $"{KeyOptions.SectionName}:Argon2id: {problem}"));
        }

        if (options.KmsKeyArn.Length > 0 && !options.KmsKeyArn.StartsWith("arn:", StringComparison.Ordinal))
        {
            return ValidateOptionsResult.Fail($"{KeyOptions.SectionName}:KmsKeyArn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)");
        }

        return ValidateOptionsResult.Success;
    }
}
