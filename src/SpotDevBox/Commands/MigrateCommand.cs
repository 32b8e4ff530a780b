using System.ComponentModel;
using Microsoft.Extensions.Logging;
using Serilog.Core;
using SpotDevBox.Backup.Engine;
using SpotDevBox.Hosting;
using SpotDevBox.Repositories;

namespace SpotDevBox.Commands;

[Description("Encrypt an older (unencrypted, format version 1 or 2) repository in place: every snapshot is rewritten as format version 3 under a new key (a passphrase, or KMS with --box), then the old objects are deleted. Holds the exclusive lock: stop the box's agent first. Snapshot ids change. Safe to kill and run again (docs/backup.md, \"Encrypting an older repository\").")]
internal sealed class MigrateCommand(RepositoryOpener opener, ILoggerFactory loggers, ILogger<MigrateCommand> logger, TimeProvider time, LoggingLevelSwitch consoleLevel)
    : RepositoryCommand<RepositorySettings>(consoleLevel)
{
    protected override async Task<int> RunAsync(RepositorySettings settings, CancellationToken cancellationToken)
    {
        var store = opener.CreateStore(settings);
        var migration = new RepositoryMigration(store, opener.EngineOptions(settings), time, loggers.CreateLogger<RepositoryMigration>());
        var progress = migration.Progress;
        var result = await Terminal.WithProgressAsync(
            "migrate",
            () => new ProgressSample(progress.BytesDone, progress.BytesTotal, TotalKnown: progress.BytesTotal > 0, progress.BlobsDone, progress.BlobsTotal, "blob"),
            migration.RunAsync(opener.KeySource(settings, creating: true), cancellationToken),
            logger);

        if (settings.Json)
        {
            WriteJson(
                new MigrateOutput(store.Location, result.RepositoryId, result.Resumed, result.Snapshots, result.Blobs, result.Bytes, result.Packs, result.ObjectsDeleted, result.CleanedUp,
                    [.. result.SnapshotIds.Select(p => new MigratedSnapshotOutput(p.Key, p.Value)).OrderBy(s => s.OldId, StringComparer.Ordinal)]),
                CommandJson.Default.MigrateOutput);
            return ExitCodes.Ok;
        }

        if (result.Resumed)
        {
            Console.Out.WriteLine($"finished the interrupted migration of {store.Location}: {Terminal.Count(result.ObjectsDeleted, "old object")} deleted; it is encrypted (format version 3)");
            return ExitCodes.Ok;
        }

        Console.Out.WriteLine(
            $"encrypted repository {result.RepositoryId[..8]} at {store.Location} (format version 3): {Terminal.Count(result.Snapshots, "snapshot")}, {Terminal.Count(result.Blobs, "blob")} ({Terminal.Bytes(result.Bytes)}) in {Terminal.Count(result.Packs, "pack")}; {Terminal.Count(result.ObjectsDeleted, "old object")} deleted");
        foreach (var (oldId, newId) in result.SnapshotIds.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            Console.Out.WriteLine($"snapshot {oldId[..8]} is now {newId[..8]}");
        }

        return ExitCodes.Ok;
    }
}
