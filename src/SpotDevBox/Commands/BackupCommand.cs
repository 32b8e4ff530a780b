using System.ComponentModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Serilog.Core;
using Spectre.Console;
using Spectre.Console.Cli;
using SpotDevBox.Backup.Engine;
using SpotDevBox.Backup.FileSystem;
using SpotDevBox.Backup.Repository;
using SpotDevBox.Backup.Selection;
using SpotDevBox.Hosting;
using SpotDevBox.Repositories;

namespace SpotDevBox.Commands;

internal sealed class BackupSettings : RepositorySettings
{
    [CommandArgument(0, "<PATH>")]
    [Description("Files or directories to back up. Each becomes a top-level entry named by its last component.")]
    public string[] Paths { get; set; } = [];

    [CommandOption("-e|--exclude <PATTERN>")]
    [Description("Gitignore-style pattern to leave out (repeatable), added to Backup:Excludes from the config, e.g. 'node_modules/' or '*.o'.")]
    public string[] Excludes { get; set; } = [];

    [CommandOption("-t|--tag <TAG>")]
    [Description("Tag the snapshot (repeatable).")]
    public string[] Tags { get; set; } = [];

    [CommandOption("--host <NAME>")]
    [Description("Host name recorded in the snapshot. Default: this machine's name.")]
    public string? Host { get; set; }

    [CommandOption("--parent <SNAPSHOT>")]
    [Description("Compare against this snapshot instead of the latest one of the same paths.")]
    public string? Parent { get; set; }

    [CommandOption("--init")]
    [Description("Create the repository first if there is none at --repo; an existing one is used as it is (never re-created). Unlike 'init', which refuses an existing repository.")]
    public bool Init { get; set; }

    public override ValidationResult Validate()
    {
        var baseResult = base.Validate();
        if (!baseResult.Successful)
        {
            return baseResult;
        }

        foreach (var path in Paths)
        {
            var full = Path.GetFullPath(path);
            if (!File.Exists(full) && !Directory.Exists(full))
            {
                return ValidationResult.Error($"path '{path}' does not exist");
            }
        }

        foreach (var pattern in Excludes)
        {
            try
            {
                _ = new ExcludeMatcher([pattern]);
            }
            catch (ArgumentException e)
            {
                return ValidationResult.Error($"--exclude '{pattern}': {e.Message}");
            }
        }

        return ValidationResult.Success();
    }
}

[Description("Back up files and directories: only what changed since the last snapshot of the same paths is read and uploaded.")]
internal sealed class BackupCommand(RepositoryOpener opener, IServiceProvider services, ILogger<BackupCommand> logger, LoggingLevelSwitch consoleLevel)
    : RepositoryCommand<BackupSettings>(consoleLevel)
{
    protected override async Task<int> RunAsync(BackupSettings settings, CancellationToken cancellationToken)
    {
        BackupRepository repository;
        try
        {
            repository = await opener.OpenAsync(settings, cancellationToken);
        }
        catch (Exception e) when (settings.Init && e is RepositoryException { Problem: RepositoryProblem.NotFound } or Backup.Storage.StorageException { Failure: Backup.Storage.StorageFailure.ContainerMissing })
        {
            // Only a repository that is not there: an unreadable or newer-format one is reported, never created over.
            repository = await opener.InitializeAsync(settings, cancellationToken);
            Console.Error.WriteLine($"created repository {repository.Config.Id[..8]} at {repository.Store.Location}");
        }

        if (settings.Parent is { } parent)
        {
            // A parent that is not there is the command's mistake: said before the backup takes its lock or reads a file.
            _ = await repository.ResolveSnapshotAsync(parent, cancellationToken);
        }

        var engine = ActivatorUtilities.CreateInstance<BackupEngine>(services, repository);
        var excludes = repository.Options.Excludes.Concat(settings.Excludes).ToList();
        var request = new BackupRequest
        {
            Paths = [.. settings.Paths.Select(Path.GetFullPath)],
            Excludes = excludes,
            Tags = settings.Tags,
            Hostname = settings.Host ?? Environment.MachineName,
            Parent = settings.Parent,
        };

        // The total the progress shows: walked beside the backup (cheap: names and sizes only), "at least" until done.
        var estimate = TreeEstimate.Start(request.Paths, excludes, cancellationToken);
        var work = engine.RunAsync(request, cancellationToken);
        var result = await Terminal.WithProgressAsync("backup", () => Sample(engine.Progress, estimate), work, logger);

        foreach (var warning in result.Warnings)
        {
            Terminal.Warn(warning);
        }

        var s = result.Manifest.Summary!;
        if (settings.Json)
        {
            WriteJson(new BackupOutput(result.SnapshotId, result.Manifest.Time, result.Manifest.Paths, s, result.Warnings), CommandJson.Default.BackupOutput);
        }
        else
        {
            Console.Out.WriteLine($"snapshot {result.SnapshotId[..8]} saved");
            Console.Out.WriteLine($"  files:    {s.FilesNew} new, {s.FilesChanged} changed, {s.FilesUnchanged} unchanged ({Terminal.Count(s.DirsTotal, "directory")}, {Terminal.Bytes(s.BytesTotal)})");
            Console.Out.WriteLine($"  read:     {Terminal.Bytes(s.BytesRead)}, new data {Terminal.Bytes(s.BytesAdded)}");
            Console.Out.WriteLine($"  uploaded: {Terminal.Bytes(s.BytesUploaded)} in {Terminal.Count(s.PacksUploaded, "pack")}");
            Console.Out.WriteLine($"  duration: {Terminal.Duration(TimeSpan.FromSeconds(s.DurationSeconds))}");
        }

        return result.Unreadable > 0 ? ExitCodes.Incomplete : ExitCodes.Ok;
    }

    /// <summary>Files and bytes dealt with, of the walk's totals (final once the walk finished), and what was uploaded.</summary>
    internal static ProgressSample Sample(BackupProgress p, TreeEstimate estimate) =>
        new(p.BytesProcessed, estimate.Bytes, estimate.Finished, p.Files, estimate.Files, "file", Terminal.Bytes(p.BytesUploaded) + " uploaded");

    /// <summary>A cheap parallel walk that gives the progress a total, as the backup runs.</summary>
    internal sealed class TreeEstimate
    {
        private long _files;
        private long _bytes;
        private bool _finished;

        public long Files => Interlocked.Read(ref _files);
        public long Bytes => Interlocked.Read(ref _bytes);

        /// <summary>The walk is over: the totals are final (as far as the tree holds still).</summary>
        public bool Finished => Volatile.Read(ref _finished);

        public static TreeEstimate Start(IReadOnlyList<string> paths, IReadOnlyList<string> excludes, CancellationToken cancellationToken)
        {
            var estimate = new TreeEstimate();
            var matcher = new ExcludeMatcher(excludes);
            _ = Task.Run(() =>
            {
                foreach (var root in paths)
                {
                    estimate.Walk(root, "", matcher, cancellationToken);
                }

                Volatile.Write(ref estimate._finished, true);
            }, cancellationToken);
            return estimate;
        }

        private void Walk(string path, string relative, ExcludeMatcher matcher, CancellationToken cancellationToken)
        {
            if (File.Exists(path))
            {
                Interlocked.Increment(ref _files);
                Interlocked.Add(ref _bytes, new FileInfo(path).Length);
                return;
            }

            try
            {
                foreach (var info in new DirectoryInfo(path).EnumerateFileSystemInfos("*", new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = true }))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var rel = relative.Length == 0 ? info.Name : relative + "/" + info.Name;
                    var isDir = info is DirectoryInfo && info.LinkTarget is null;
                    if (matcher.IsExcluded(rel, isDir))
                    {
                        continue;
                    }

                    if (isDir)
                    {
                        Walk(info.FullName, rel, matcher, cancellationToken);
                    }
                    else if (info is FileInfo { LinkTarget: null } f)
                    {
                        Interlocked.Increment(ref _files);
                        Interlocked.Add(ref _bytes, f.Length);
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // only an estimate
            }
        }
    }
}
