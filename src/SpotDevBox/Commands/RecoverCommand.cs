using System.ComponentModel;
using System.Globalization;
using Serilog.Core;
using Spectre.Console;
using Spectre.Console.Cli;
using SpotDevBox.Backup.Storage;
using SpotDevBox.Hosting;
using SpotDevBox.Repositories;

namespace SpotDevBox.Commands;

internal sealed class RecoverSettings : RepositorySettings
{
    [CommandOption("--as-of <TIME>")]
    [Description("The moment to go back to: an ISO 8601 instant with Z or an offset (2026-12-01T09:30:00Z, 2026-12-01T10:30+01:00); a date or date-time without one is UTC. Compared with S3's LastModified, to the second.")]
    public string? AsOf { get; set; }

    [CommandOption("-n|--dry-run")]
    [Description("Only print what would be restored and removed.")]
    public bool DryRun { get; set; }

    public override ValidationResult Validate()
    {
        var baseResult = base.Validate();
        if (!baseResult.Successful)
        {
            return baseResult;
        }

        if (string.IsNullOrWhiteSpace(AsOf))
        {
            return ValidationResult.Error("give --as-of TIME: the moment to bring the repository back to (e.g. 2026-12-01T09:30:00Z)");
        }

        if (!ScheduleCommand.TryParseFrom(AsOf, TimeZoneInfo.Utc, out _))
        {
            return ValidationResult.Error($"--as-of '{AsOf}' is not a time: give an ISO 8601 instant such as 2026-12-01T09:30:00Z or 2026-12-01T10:30:00+01:00");
        }

        return RepositoryLocation.Parse(Repository!).Kind == RepositoryKind.S3
            ? ValidationResult.Success()
            : ValidationResult.Error("recover needs an S3 repository in a versioned bucket (s3://bucket/prefix); a local repository keeps no history");
    }
}

/// <summary>
/// <c>spotdevbox recover</c>: an operator's command that brings every object under a repository's prefix back to its
/// state at a time, from the bucket's version history (docs/security.md, "History a box cannot destroy").
/// </summary>
[Description("Operator: bring every object under an S3 repository's prefix back to its state at --as-of, from the versioned bucket's history (copies the old version over today's, hides what did not exist yet behind a delete marker: nothing is lost, and a rerun changes nothing).")]
internal sealed class RecoverCommand(RepositoryOpener opener, TimeProvider time, LoggingLevelSwitch consoleLevel) : RepositoryCommand<RecoverSettings>(consoleLevel)
{
    protected override async Task<int> RunAsync(RecoverSettings settings, CancellationToken cancellationToken)
    {
        ScheduleCommand.TryParseFrom(settings.AsOf!, TimeZoneInfo.Utc, out var asOf);
        var now = time.GetUtcNow();
        if (asOf > now)
        {
            throw new ArgumentException($"--as-of {Utc(asOf)} is in the future (now {Utc(now)}); give a past time, nothing was changed");
        }

        var store = opener.CreateStore(settings);
        try
        {
            var history = (IObjectHistory)store;
            var location = RepositoryLocation.Parse(settings.Repository!);
            var versioning = await history.GetVersioningAsync(cancellationToken);
            if (versioning != VersioningState.Enabled)
            {
                throw new ArgumentException(
                    $"bucket {location.Bucket} has versioning {(versioning == VersioningState.Off ? "not enabled" : "suspended")}, so it keeps no history to recover from; "
                    + $"enable it for the future with: {InitCommand.VersioningCommand(location.Bucket)}; nothing was changed");
            }

            var result = await HistoryRecovery.RecoverAsync(store, history, asOf, settings.DryRun, cancellationToken);
            var changes = result.Steps.Where(s => s.Action != RecoveryAction.Unchanged).ToList();
            if (settings.Json)
            {
                WriteJson(
                    new RecoverOutput(store.Location, asOf, settings.DryRun, result.Restored, result.Removed, result.Unchanged,
                        [.. changes.Select(s => new RecoverStepOutput(s.Key, s.Action == RecoveryAction.Restore ? "restore" : "remove", s.Target?.VersionId, s.Target?.LastModified))]),
                    CommandJson.Default.RecoverOutput);
                return ExitCodes.Ok;
            }

            foreach (var step in changes)
            {
                Console.Out.WriteLine(step.Action == RecoveryAction.Restore
                    ? $"{(settings.DryRun ? "would restore" : "restored")} {step.Key} (the version of {Utc(step.Target!.LastModified)})"
                    : $"{(settings.DryRun ? "would remove" : "removed")} {step.Key} (created after {Utc(asOf)})");
            }

            Console.Out.WriteLine(
                $"{store.Location} as of {Utc(asOf)}: {(settings.DryRun ? "would restore" : "restored")} {result.Restored}, "
                + $"{(settings.DryRun ? "would remove" : "removed")} {result.Removed}, unchanged {result.Unchanged}"
                + (settings.DryRun || changes.Count == 0 ? "" : "; run 'spotdevbox check' on it next"));
            return ExitCodes.Ok;
        }
        finally
        {
            (store as IDisposable)?.Dispose();
        }
    }

    private static string Utc(DateTimeOffset instant) => instant.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
