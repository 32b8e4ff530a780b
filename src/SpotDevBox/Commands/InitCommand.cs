using System.ComponentModel;
using Serilog.Core;

namespace SpotDevBox.Commands;

[Description("Create a new, empty repository (on S3 also adds a lifecycle rule that aborts incomplete multipart uploads under its prefix).")]
internal sealed class InitCommand(RepositoryOpener opener, LoggingLevelSwitch consoleLevel) : RepositoryCommand<RepositorySettings>(consoleLevel)
{
    protected override async Task<int> RunAsync(RepositorySettings settings, CancellationToken cancellationToken)
    {
        var repository = await opener.InitializeAsync(settings, cancellationToken);
        if (settings.Json)
        {
            WriteJson(new InitOutput(repository.Store.Location, repository.Config.Id, repository.Config.Created), CommandJson.Default.InitOutput);
        }
        else
        {
            Console.Out.WriteLine($"created repository {repository.Config.Id[..8]} at {repository.Store.Location}");
        }

        return ExitCodes.Ok;
    }
}
