using System.ComponentModel;
using Microsoft.Extensions.Logging;
using Spectre.Console;
using Spectre.Console.Cli;
using SpotDevBox.Backup.Storage;
using SpotDevBox.Hosting;
using SpotDevBox.Repositories;

namespace SpotDevBox.Commands;

internal sealed class StorageMigrateSettings : CommandSettings
{
    /// <summary>What a box writes at the top of its prefix: a TO inside FROM must not lie inside one of these.</summary>
    private static readonly string[] BoxLayout =
        ["repo", "host-keys", "sessions", "interruptions", "status.json", "host-keys.pub", "control.json", "launch.json", PrefixMigration.MarkerKey];

    [CommandArgument(0, "<FROM>")]
    [Description("The prefix whose objects move: s3://bucket/prefix (a box's old Storage).")]
    public string From { get; set; } = "";

    [CommandArgument(1, "<TO>")]
    [Description("Where they go, each at the same key relative to it: s3://bucket/ROOT/OWNER/BOX (the box's new Storage). May lie inside FROM (boxes/alice to boxes/alice/alice), but not inside one of FROM's own parts (repo/, host-keys/, ...).")]
    public string To { get; set; } = "";

    [CommandOption("--dry-run")]
    [Description("List what would be copied, what is already at TO and what conflicts, then stop; nothing is written or deleted.")]
    public bool DryRun { get; set; }

    [CommandOption("--endpoint-url <URL>")]
    [Description("S3-compatible endpoint (else Storage:EndpointUrl, $AWS_ENDPOINT_URL_S3, else AWS).")]
    public string? EndpointUrl { get; set; }

    [CommandOption("--region <REGION>")]
    [Description("AWS region (else Storage:Region, else the SDK's chain).")]
    public string? Region { get; set; }

    [CommandOption("--kms-key-id <KEY>")]
    [Description("Encrypt the copies with this KMS key (SSE-KMS). Default: SSE-S3.")]
    public string? KmsKeyId { get; set; }

    internal RepositoryLocation FromLocation => RepositoryLocation.Parse(From);

    internal RepositoryLocation ToLocation => RepositoryLocation.Parse(To);

    /// <summary>TO's prefix relative to FROM when both are in one bucket and TO lies inside FROM; else null.</summary>
    internal string? ToUnderFrom => FromLocation is var f && ToLocation is var t && f.Bucket == t.Bucket && t.Prefix.StartsWith(f.Prefix + "/", StringComparison.Ordinal)
        ? t.Prefix[(f.Prefix.Length + 1)..]
        : null;

    public override ValidationResult Validate()
    {
        foreach (var (name, value) in new[] { ("FROM", From), ("TO", To) })
        {
            // Anything but s3://... is not echoed: a URL of another scheme may carry credentials.
            if (string.IsNullOrWhiteSpace(value) || !value.Trim().StartsWith("s3://", StringComparison.Ordinal))
            {
                return ValidationResult.Error($"{name} must be a prefix in a bucket, s3://bucket/prefix; nothing was changed");
            }

            try
            {
                if (RepositoryLocation.Parse(value).Prefix.Length == 0)
                {
                    return ValidationResult.Error($"{name} must name a prefix in the bucket, s3://bucket/prefix, not a whole bucket, got '{value}'; nothing was changed");
                }
            }
            catch (FormatException e)
            {
                return ValidationResult.Error($"{name}: {e.Message}; nothing was changed");
            }
        }

        var from = FromLocation;
        var to = ToLocation;
        if (from.Bucket == to.Bucket && from.Prefix == to.Prefix)
        {
            return ValidationResult.Error($"FROM and TO are the same prefix ({from}): nothing to move; nothing was changed");
        }

        if (from.Bucket == to.Bucket && from.Prefix.StartsWith(to.Prefix + "/", StringComparison.Ordinal))
        {
            return ValidationResult.Error($"FROM ({from}) lies inside TO ({to}): its objects would land among the ones being moved; move it to a prefix beside it; nothing was changed");
        }

        if (ToUnderFrom is { } inside && BoxLayout.Contains(inside.Split('/')[0], StringComparer.Ordinal))
        {
            return ValidationResult.Error($"TO ({to}) lies inside FROM's {inside.Split('/')[0]}, a part of the box's own layout: choose a TO beside those parts (e.g. {from}/OWNER-OR-BOX) or outside FROM; nothing was changed");
        }

        return ValidationResult.Success();
    }
}

[Description(
    "Move a box's storage to another prefix (an operator's command): every object under FROM is copied to the same relative key under TO, " +
    "each copy is read back and compared (size and SHA-256), FROM/MOVED-TO.json is written, then FROM's objects are deleted and the marker last. " +
    "Killed at any point, run it again with the same arguments: it finishes with nothing lost and nothing doubled. An object already at TO " +
    "with the same content is kept; one with other content stops the move (exit 1) before anything is deleted. Stop the box first (spotdevbox down), " +
    "then point Controller:Boxes:BOX:Storage at TO.")]
internal sealed class StorageMigrateCommand(RepositoryOpener opener, TimeProvider time, ILogger<StorageMigrateCommand> logger) : AsyncCommand<StorageMigrateSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, StorageMigrateSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var fromLocation = settings.FromLocation;
        var toLocation = settings.ToLocation;
        var from = Open(settings, fromLocation.ToString());
        var to = Open(settings, toLocation.ToString());
        try
        {
            return await MigrateAsync(new PrefixMigration(from, to, settings.ToUnderFrom, time), settings, fromLocation, toLocation, cancellationToken);
        }
        finally
        {
            (from as IDisposable)?.Dispose();
            (to as IDisposable)?.Dispose();
        }
    }

    private async Task<int> MigrateAsync(
        PrefixMigration migration, StorageMigrateSettings settings, RepositoryLocation fromLocation, RepositoryLocation toLocation, CancellationToken cancellationToken)
    {
        var marker = await migration.ReadMarkerAsync(cancellationToken);
        if (marker is not null && !string.Equals(marker.To, toLocation.ToString(), StringComparison.Ordinal))
        {
            Console.Error.WriteLine(
                $"spotdevbox: {fromLocation} is being moved to {Terminal.Safe(marker.To)} ({PrefixMigration.MarkerKey} there says so): finish that move with the same TO; nothing was changed");
            return ExitCodes.InvalidInput;
        }

        var objects = await migration.ListAsync(cancellationToken);
        if (settings.DryRun)
        {
            return await DryRunAsync(migration, objects, marker, fromLocation, toLocation, cancellationToken);
        }

        if (objects.Count == 0 && marker is null)
        {
            Console.Out.WriteLine($"nothing to move: {fromLocation} holds no objects; nothing was changed");
            return ExitCodes.Ok;
        }

        try
        {
            var result = await Terminal.WithProgressAsync("migrate", () => migration.Progress, migration.RunAsync(objects, marker, toLocation.ToString(), cancellationToken), logger);
            Console.Out.WriteLine(
                $"moved {Terminal.Count(result.Deleted, "object")} ({Terminal.Bytes(result.Bytes)}) from {fromLocation} to {toLocation}: " +
                $"{result.Copied} copied, {result.AlreadyThere} already there, each verified by size and SHA-256; {fromLocation} is empty" +
                (marker is null ? "" : " (an earlier run was resumed)"));
            return ExitCodes.Ok;
        }
        catch (MigrationConflictException e)
        {
            Console.Error.WriteLine($"spotdevbox: {toLocation}/{e.Message}");
            return ExitCodes.Failure;
        }
    }

    private static async Task<int> DryRunAsync(
        PrefixMigration migration, List<StoredObject> objects, MovedToMarker? marker, RepositoryLocation from, RepositoryLocation to, CancellationToken cancellationToken)
    {
        var plan = await migration.PlanAsync(objects, cancellationToken);
        foreach (var (o, step) in plan)
        {
            var what = step switch
            {
                MigrationStep.Copy => "copy",
                MigrationStep.AlreadyThere => "already at TO",
                _ => "CONFLICT: other content at TO",
            };
            Console.Out.WriteLine($"{what,-14} {Terminal.Safe(o.Key)} ({Terminal.Bytes(o.Size)})");
        }

        var copy = plan.Where(p => p.Step == MigrationStep.Copy).ToList();
        var conflicts = plan.Count(p => p.Step == MigrationStep.Conflict);
        Console.Out.WriteLine(
            $"dry run: would copy {Terminal.Count(copy.Count, "object")} ({Terminal.Bytes(copy.Sum(p => p.Object.Size))}) from {from} to {to}, " +
            $"find {plan.Count - copy.Count - conflicts} already there, then delete {Terminal.Count(objects.Count, "object")} at {from}" +
            (marker is null ? "" : " (resuming a move whose deletes had begun)") + "; nothing was changed");
        if (conflicts > 0)
        {
            Console.Error.WriteLine($"spotdevbox: {Terminal.Count(conflicts, "object")} already at {to} with other content: the move would stop before deleting anything");
            return ExitCodes.Failure;
        }

        return ExitCodes.Ok;
    }

    private IObjectStore Open(StorageMigrateSettings settings, string location) => opener.CreateStore(new RepositorySettings
    {
        Repository = location,
        EndpointUrl = settings.EndpointUrl,
        Region = settings.Region,
        KmsKeyId = settings.KmsKeyId,
    });
}
