using System.ComponentModel;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;
using Spectre.Console;
using Spectre.Console.Cli;
using SpotDevBox.Backup.Engine;
using SpotDevBox.Hosting;
using SpotDevBox.Repositories;

namespace SpotDevBox.Commands;

internal sealed class ForgetSettings : RepositorySettings
{
    [CommandOption("--keep-last <N>")]
    [Description("Keep the N newest snapshots.")]
    public int KeepLast { get; set; }

    [CommandOption("--keep-daily <N>")]
    [Description("Keep the newest snapshot of each of the last N days that have one (UTC days).")]
    public int KeepDaily { get; set; }

    [CommandOption("--keep-weekly <N>")]
    [Description("Keep the newest snapshot of each of the last N ISO weeks that have one (UTC).")]
    public int KeepWeekly { get; set; }

    [CommandOption("--keep-within <DURATION>")]
    [Description("Keep every snapshot dated within DURATION before now (30d, 12h, 2w, 1w3d): measured from the clock, not from the newest snapshot. Snapshots dated in the future are always kept, and reported.")]
    public string? KeepWithin { get; set; }

    /// <summary>--keep-within as a duration (zero when not given).</summary>
    public TimeSpan KeepWithinDuration => RetentionPolicy.TryParseDuration(KeepWithin, out var d) ? d : TimeSpan.Zero;

    [CommandOption("--prune")]
    [Description("Then delete the data no remaining snapshot references (takes the exclusive lock).")]
    public bool Prune { get; set; }

    [CommandOption("-n|--dry-run")]
    [Description("Only show what would be removed.")]
    public bool DryRun { get; set; }

    public override ValidationResult Validate()
    {
        var baseResult = base.Validate();
        if (!baseResult.Successful)
        {
            return baseResult;
        }

        if (KeepLast < 0 || KeepDaily < 0 || KeepWeekly < 0)
        {
            return ValidationResult.Error("--keep-* counts cannot be negative");
        }

        if (KeepWithin is not null && !RetentionPolicy.TryParseDuration(KeepWithin, out _))
        {
            return ValidationResult.Error($"--keep-within '{KeepWithin}' is not a duration: weeks, days and hours such as 30d, 12h, 2w or 1w3d (more than 0)");
        }

        return KeepLast == 0 && KeepDaily == 0 && KeepWeekly == 0 && KeepWithin is null
            ? ValidationResult.Error("give a retention policy: at least one of --keep-last, --keep-daily, --keep-weekly, --keep-within")
            : ValidationResult.Success();
    }
}

[Description("Remove snapshots by a retention policy (applied per set of backed-up paths); with --prune also delete unreferenced data.")]
internal sealed class ForgetCommand(RepositoryOpener opener, IServiceProvider services, LoggingLevelSwitch consoleLevel) : RepositoryCommand<ForgetSettings>(consoleLevel)
{
    protected override async Task<int> RunAsync(ForgetSettings settings, CancellationToken cancellationToken)
    {
        var repository = await opener.OpenAsync(settings, cancellationToken);
        var maintenance = ActivatorUtilities.CreateInstance<Maintenance>(services, repository);
        var forget = await maintenance.ForgetAsync(new RetentionPolicy(settings.KeepLast, settings.KeepDaily, settings.KeepWeekly, settings.KeepWithinDuration), settings.DryRun, cancellationToken);
        PruneResult? prune = settings.Prune ? await maintenance.PruneAsync(settings.DryRun, cancellationToken) : null;

        if (settings.Json)
        {
            WriteJson(
                new ForgetOutput(settings.DryRun, [.. forget.Decisions.Select(d => new ForgetDecisionOutput(d.Snapshot.Id, d.Snapshot.Manifest.Time, d.Keep, d.Reason))], prune),
                CommandJson.Default.ForgetOutput);
            return ExitCodes.Ok;
        }

        var verb = settings.DryRun ? "would remove" : "removed";
        foreach (var d in forget.Decisions.OrderBy(d => d.Snapshot.Manifest.Time))
        {
            Console.Out.WriteLine($"{(d.Keep ? "keep  " : "remove")} {d.Snapshot.ShortId}  {d.Snapshot.Manifest.Time.UtcDateTime:yyyy-MM-dd HH:mm:ss}  {d.Reason}");
        }

        Console.Out.WriteLine($"{verb} {forget.Removed} of {Terminal.Count(forget.Decisions.Count, "snapshot")}");
        if (prune is not null)
        {
            Console.Out.WriteLine("prune: " + PruneCommand.Summary(prune));
            PruneCommand.WriteTemporaryFiles(prune, repository.Options.StaleLockAfter, "prune: ");
        }

        return ExitCodes.Ok;
    }
}

[Description("Delete data that no snapshot references, and a local repository's temporary files left by killed writes once untouched for Backup:StaleLockAfter (takes the exclusive lock: waits for no backup, refuses while one runs).")]
internal sealed class PruneCommand(RepositoryOpener opener, IServiceProvider services, LoggingLevelSwitch consoleLevel) : RepositoryCommand<PruneSettings>(consoleLevel)
{
    protected override async Task<int> RunAsync(PruneSettings settings, CancellationToken cancellationToken)
    {
        var repository = await opener.OpenAsync(settings, cancellationToken);
        var maintenance = ActivatorUtilities.CreateInstance<Maintenance>(services, repository);
        var prune = await maintenance.PruneAsync(settings.DryRun, cancellationToken);
        if (settings.Json)
        {
            WriteJson(prune, CommandJson.Default.PruneResult);
        }
        else
        {
            Console.Out.WriteLine(Summary(prune));
            WriteTemporaryFiles(prune, repository.Options.StaleLockAfter, "");
        }

        return ExitCodes.Ok;
    }

    /// <summary>"deleted 2 packs, repacked 1, kept 7; 3.0 MiB freed" (or "would ..." for a dry run).</summary>
    internal static string Summary(PruneResult prune) =>
        $"{(prune.DryRun ? "would delete" : "deleted")} {Terminal.Count(prune.PacksDeleted, "pack")}, {(prune.DryRun ? "would repack" : "repacked")} {prune.PacksRepacked}, kept {prune.PacksKept}; {Terminal.Bytes(prune.BytesFreed)} freed";

    /// <summary>The lines about a local repository's temporary files of unfinished writes, when there were any.</summary>
    internal static void WriteTemporaryFiles(PruneResult prune, TimeSpan keptYoungerThan, string prefix)
    {
        if (prune.TemporaryFilesRemoved > 0)
        {
            Console.Out.WriteLine($"{prefix}{(prune.DryRun ? "would remove" : "removed")} {Terminal.Count(prune.TemporaryFilesRemoved, "unfinished temporary file")} ({Terminal.Bytes(prune.TemporaryBytesRemoved)})");
        }

        if (prune.TemporaryFilesKept > 0)
        {
            Console.Out.WriteLine($"{prefix}kept {Terminal.Count(prune.TemporaryFilesKept, "unfinished temporary file")} younger than {Terminal.Count((long)Math.Round(keptYoungerThan.TotalMinutes), "minute")} (a backup may still be writing them; a later prune removes them)");
        }
    }
}

internal sealed class PruneSettings : RepositorySettings
{
    [CommandOption("-n|--dry-run")]
    [Description("Only show what would be deleted.")]
    public bool DryRun { get; set; }
}
