using System.ComponentModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Serilog.Core;
using Spectre.Console;
using Spectre.Console.Cli;
using SpotDevBox.Backup.Engine;
using SpotDevBox.Backup.Repository;
using SpotDevBox.Hosting;
using SpotDevBox.Repositories;

namespace SpotDevBox.Commands;

internal sealed class CheckSettings : RepositorySettings
{
    [CommandOption("--read-data")]
    [Description("Also download every pack and verify every byte against its hash.")]
    public bool ReadData { get; set; }
}

[Description("Prove the repository complete: every tree of every snapshot read and verified against its hash (a damaged one is named with each snapshot and path it costs), every pack of their data present; with --read-data, every byte matched against its hash. Also counts a local repository's temporary files left by killed writes (a warning).")]
internal sealed class CheckCommand(RepositoryOpener opener, IServiceProvider services, ILogger<CheckCommand> logger, LoggingLevelSwitch consoleLevel)
    : RepositoryCommand<CheckSettings>(consoleLevel)
{
    protected override async Task<int> RunAsync(CheckSettings settings, CancellationToken cancellationToken)
    {
        var repository = await opener.OpenAsync(settings, cancellationToken);
        var maintenance = ActivatorUtilities.CreateInstance<Maintenance>(services, repository);
        long done = 0, total = 0;
        var result = await Terminal.WithProgressAsync(
            settings.ReadData ? "check --read-data" : "check",
            () => new ProgressSample(Interlocked.Read(ref done), Interlocked.Read(ref total), TotalKnown: true, Detail: "verifying"),
            maintenance.CheckAsync(settings.ReadData, (d, t) => { Interlocked.Exchange(ref done, d); Interlocked.Exchange(ref total, t); }, cancellationToken),
            logger);

        if (settings.Json)
        {
            WriteJson(new CheckOutput(result.Ok, result.Snapshots, result.Packs, result.Blobs, result.BytesVerified, result.Errors, result.Warnings), CommandJson.Default.CheckOutput);
        }
        else
        {
            foreach (var w in result.Warnings)
            {
                Terminal.Warn(w);
            }

            foreach (var e in result.Errors)
            {
                Terminal.Error(e);
            }

            Console.Out.WriteLine(result.Ok
                ? $"no errors: {Terminal.Count(result.Snapshots, "snapshot")}, {Terminal.Count(result.Packs, "pack")}, {Terminal.Count(result.Blobs, "blob")}{(settings.ReadData ? $", {Terminal.Bytes(result.BytesVerified)} read and verified" : "")}"
                : $"{Terminal.Count(result.Errors.Count, "error")} found");
        }

        return result.Ok ? ExitCodes.Ok : ExitCodes.Failure;
    }
}

[Description("Remove stale locks (left by a process that was killed or has not refreshed its lock for Backup:StaleLockAfter).")]
internal sealed class UnlockCommand(RepositoryOpener opener, LoggingLevelSwitch consoleLevel) : RepositoryCommand<RepositorySettings>(consoleLevel)
{
    protected override async Task<int> RunAsync(RepositorySettings settings, CancellationToken cancellationToken)
    {
        var repository = await opener.OpenAsync(settings, cancellationToken);
        var removed = await RepositoryLock.RemoveStaleAsync(repository, cancellationToken);
        Console.Out.WriteLine($"removed {removed} stale locks");
        return ExitCodes.Ok;
    }
}
