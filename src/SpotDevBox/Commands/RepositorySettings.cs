using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;
using SpotDevBox.Repositories;

namespace SpotDevBox.Commands;

/// <summary>Options every repository verb shares.</summary>
internal partial class RepositorySettings : CommandSettings, IRepositoryAddress
{
    [CommandOption("-r|--repo <REPOSITORY>")]
    [Description("Repository: s3://bucket/prefix, file:///path or a directory path. Default: $SPOTDEVBOX_REPOSITORY.")]
    public string? Repository { get; set; } = Environment.GetEnvironmentVariable("SPOTDEVBOX_REPOSITORY");

    [CommandOption("--endpoint-url <URL>")]
    [Description("S3-compatible endpoint (else $AWS_ENDPOINT_URL_S3, else AWS).")]
    public string? EndpointUrl { get; set; }

    [CommandOption("--region <REGION>")]
    [Description("AWS region (else the SDK's chain: $AWS_REGION, profile, instance metadata).")]
    public string? Region { get; set; }

    [CommandOption("--kms-key-id <KEY>")]
    [Description("Encrypt new objects with this KMS key (SSE-KMS). Default: SSE-S3.")]
    public string? KmsKeyId { get; set; }

    [CommandOption("--password-file <FILE>")]
    [Description("Read the repository's passphrase from the first line of FILE (readable by you alone). Else --password-command, else $SPOTDEVBOX_PASSWORD, else a prompt on a terminal.")]
    public string? PasswordFile { get; set; }

    [CommandOption("--password-command <COMMAND>")]
    [Description("Run COMMAND (split on spaces, no shell) and read the passphrase from the first line it prints, e.g. 'pass show spotdevbox'.")]
    public string? PasswordCommand { get; set; }

    [CommandOption("--box <OWNER/BOX>")]
    [Description("Open a box's encrypted repository through AWS KMS with that box's encryption context (as its owner, from a laptop), instead of a passphrase; the key's ARN is in the repository's key file.")]
    public string? Box { get; set; }

    [CommandOption("--cache-dir <DIR>")]
    [Description("Local cache of immutable repository objects. Default: $XDG_CACHE_HOME/spotdevbox.")]
    public string? CacheDirectory { get; set; }

    [CommandOption("--json")]
    [Description("Print the result as JSON on stdout (for scripts).")]
    public bool Json { get; set; }

    [CommandOption("-v|--verbose")]
    [Description("Show informational log lines on the console, after a line saying where the log file is; restore also lists every entry a partial snapshot left at an older version (without it: named when 20 or fewer, else counted).")]
    public bool Verbose { get; set; }

    public override ValidationResult Validate()
    {
        if (string.IsNullOrWhiteSpace(Repository))
        {
            return ValidationResult.Error("no repository given: pass --repo (s3://bucket/prefix or a directory) or set SPOTDEVBOX_REPOSITORY");
        }

        try
        {
            _ = Backup.Storage.RepositoryLocation.Parse(Repository);
        }
        catch (FormatException e)
        {
            return ValidationResult.Error("--repo: " + e.Message);
        }

        if (Box is not null && !BoxPattern().IsMatch(Box))
        {
            return ValidationResult.Error("--box must be OWNER/BOX, e.g. alice/dev (the owner and the box's name as the controller knows them)");
        }

        if (Box is not null && (PasswordFile ?? PasswordCommand) is not null)
        {
            return ValidationResult.Error("give --box (open through KMS) or a passphrase (--password-file, --password-command), not both");
        }

        return ValidationResult.Success();
    }

    [System.Text.RegularExpressions.GeneratedRegex("^[A-Za-z0-9._-]{1,64}/[A-Za-z0-9._-]{1,64}$")]
    private static partial System.Text.RegularExpressions.Regex BoxPattern();
}
