using System.ComponentModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Serilog.Core;
using Spectre.Console;
using Spectre.Console.Cli;
using SpotDevBox.Backup.Engine;
using SpotDevBox.Hosting;
using SpotDevBox.Repositories;

namespace SpotDevBox.Commands;

internal sealed class RestoreSettings : RepositorySettings
{
    [CommandOption("-s|--snapshot <ID>")]
    [Description("Snapshot to restore: 'latest' (default) or an id or id prefix from 'spotdevbox snapshots'.")]
    public string Snapshot { get; set; } = "latest";

    [CommandOption("--target <DIR>")]
    [Description("Directory to restore into; each backed-up path appears under it by its last component. Must be empty unless --overwrite.")]
    public string? Target { get; set; }

    [CommandOption("-i|--include <PATTERN>")]
    [Description("Restore only entries matching this gitignore-style pattern, relative to the snapshot root (repeatable), e.g. 'work/src/**'.")]
    public string[] Includes { get; set; } = [];

    [CommandOption("--overwrite")]
    [Description("Update an existing tree in place: files that differ are rewritten, files with the same size and mtime are left alone.")]
    public bool Overwrite { get; set; }

    [CommandOption("--delete")]
    [Description("With --overwrite: also remove files and directories the snapshot does not hold.")]
    public bool Delete { get; set; }

    public override ValidationResult Validate()
    {
        var baseResult = base.Validate();
        if (!baseResult.Successful)
        {
            return baseResult;
        }

        if (string.IsNullOrWhiteSpace(Target))
        {
            return ValidationResult.Error("--target is required: the directory to restore into");
        }

        return Delete && !Overwrite
            ? ValidationResult.Error("--delete needs --overwrite (it removes files from an existing tree)")
            : ValidationResult.Success();
    }
}

[Description("Restore a snapshot into a directory. Every chunk is verified (by its hash, or in an encrypted repository by its authentication tag, which binds it to its id); a snapshot that would write outside the target is refused.")]
internal sealed class RestoreCommand(RepositoryOpener opener, IServiceProvider services, ILogger<RestoreCommand> logger, LoggingLevelSwitch consoleLevel)
    : RepositoryCommand<RestoreSettings>(consoleLevel)
{
    protected override async Task<int> RunAsync(RestoreSettings settings, CancellationToken cancellationToken)
    {
        var repository = await opener.OpenAsync(settings, cancellationToken);
        var engine = ActivatorUtilities.CreateInstance<RestoreEngine>(services, repository);
        var request = new RestoreRequest
        {
            Snapshot = settings.Snapshot,
            Target = settings.Target!,
            Includes = settings.Includes,
            Overwrite = settings.Overwrite,
            Delete = settings.Delete,
        };
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var p = engine.Progress;
        var result = await Terminal.WithProgressAsync(
            "restore",
            () => Sample(p),
            engine.RunAsync(request, cancellationToken),
            logger);
        var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);

        foreach (var warning in result.Warnings)
        {
            Terminal.Warn(warning);
        }

        if (settings.Verbose && result.LeftBehind.Count > RestoreEngine.LeftBehindListedLimit)
        {
            // The warnings only counted them: too many to list unasked.
            foreach (var line in result.LeftBehind)
            {
                Terminal.Warn(line);
            }
        }

        foreach (var error in result.Errors)
        {
            Terminal.Error(error);
        }

        if (settings.Json)
        {
            WriteJson(
                new RestoreOutput(
                    result.SnapshotId,
                    Path.GetFullPath(request.Target),
                    result.Files,
                    result.Dirs,
                    result.Symlinks,
                    result.BytesWritten,
                    result.FilesUnchanged,
                    result.Deleted,
                    elapsed.TotalSeconds,
                    result.Warnings,
                    result.Errors,
                    result.LeftBehind),
                CommandJson.Default.RestoreOutput);
        }
        else
        {
            Console.Out.WriteLine($"restored snapshot {result.SnapshotId[..8]} to {Path.GetFullPath(request.Target)}");
            Console.Out.WriteLine($"  {Terminal.Count(result.Files, "file")} ({result.FilesUnchanged} already up to date), {Terminal.Count(result.Dirs, "directory")}, {Terminal.Count(result.Symlinks, "symlink")}; {Terminal.Bytes(result.BytesWritten)} written in {Terminal.Duration(elapsed)}");
            if (result.Deleted > 0)
            {
                Console.Out.WriteLine($"  {Terminal.Count(result.Deleted, "entry")} not in the snapshot removed");
            }

            if (result.Errors.Count > 0)
            {
                Console.Out.WriteLine($"  {Terminal.Count(result.Errors.Count, "file or directory")} could NOT be restored (see errors above)");
            }
        }

        return result.Errors.Count > 0 ? ExitCodes.Failure : ExitCodes.Ok;
    }

    /// <summary>The restore's totals are its plan's (the files to write): unknown until every tree is read, then final.</summary>
    internal static ProgressSample Sample(RestoreProgress p) =>
        p.Planned
            ? new(p.BytesWritten, p.BytesTotal, TotalKnown: true, p.FilesDone, p.FilesTotal, "file")
            : new(p.BytesWritten, 0, TotalKnown: false, Detail: "reading the snapshot's trees");
}
