using System.ComponentModel;
using Serilog.Core;
using Spectre.Console;
using Spectre.Console.Cli;
using SpotDevBox.Aws.Storage;
using SpotDevBox.Backup.Storage;
using SpotDevBox.Hosting;
using SpotDevBox.Repositories;

namespace SpotDevBox.Commands;

internal sealed class InitSettings : RepositorySettings
{
    [CommandOption("--history-days <N>")]
    [Description("S3: how many days a version stays after a box overwrote or deleted it (the window 'recover --as-of' can reach), set as a NoncurrentVersionExpiration lifecycle rule on the prefix. Default: 30.")]
    public int HistoryDays { get; set; } = S3StoreOptions.DefaultHistoryDays;

    public override ValidationResult Validate()
    {
        var baseResult = base.Validate();
        return !baseResult.Successful ? baseResult
            : HistoryDays is < 1 or > S3StoreOptions.MaxHistoryDays
                ? ValidationResult.Error($"--history-days must be between 1 and {S3StoreOptions.MaxHistoryDays}, got {HistoryDays}")
                : ValidationResult.Success();
    }
}

[Description("Create a new, empty repository. On S3 it also puts two lifecycle rules on its prefix (abort incomplete multipart uploads; expire overwritten and deleted versions after --history-days) and warns when the bucket's versioning is not enabled (it never enables it).")]
internal sealed class InitCommand(RepositoryOpener opener, LoggingLevelSwitch consoleLevel) : RepositoryCommand<InitSettings>(consoleLevel)
{
    protected override async Task<int> RunAsync(InitSettings settings, CancellationToken cancellationToken)
    {
        var repository = await opener.InitializeAsync(settings, cancellationToken, settings.HistoryDays);
        string? versioning = null;
        if (repository.Store is IObjectHistory history)
        {
            var location = RepositoryLocation.Parse(settings.Repository!);
            try
            {
                var state = await history.GetVersioningAsync(cancellationToken);
                versioning = state.ToString();
                if (state != VersioningState.Enabled)
                {
                    Console.Error.WriteLine(
                        $"spotdevbox: warning: versioning is {(state == VersioningState.Off ? "not enabled" : "suspended")} on bucket {location.Bucket}: what a box deletes or overwrites there cannot be recovered. "
                        + $"Enable it: {VersioningCommand(location.Bucket)}");
                }
            }
            catch (StorageException e)
            {
                // The repository exists by now: a bucket whose versioning cannot be read is a warning, not a failed init.
                var why = e.Failure == StorageFailure.AccessDenied ? "access denied: s3:GetBucketVersioning" : e.Message;
                Console.Error.WriteLine($"spotdevbox: warning: could not read the versioning of bucket {location.Bucket} ({why}); history is protected only if it is enabled: {VersioningCommand(location.Bucket)}");
            }
        }

        if (settings.Json)
        {
            WriteJson(new InitOutput(repository.Store.Location, repository.Config.Id, repository.Config.Created, versioning), CommandJson.Default.InitOutput);
        }
        else
        {
            Console.Out.WriteLine($"created repository {repository.Config.Id[..8]} at {repository.Store.Location}");
        }

        return ExitCodes.Ok;
    }

    /// <summary>The AWS CLI command that turns a bucket's versioning on.</summary>
    internal static string VersioningCommand(string bucket) =>
        $"aws s3api put-bucket-versioning --bucket {bucket} --versioning-configuration Status=Enabled";
}
