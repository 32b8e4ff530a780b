using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Serilog.Core;
using Serilog.Events;
using Spectre.Console.Cli;

namespace SpotDevBox.Commands;

/// <summary>Shared plumbing of the repository verbs: --verbose and JSON output.</summary>
internal abstract class RepositoryCommand<TSettings>(LoggingLevelSwitch consoleLevel) : AsyncCommand<TSettings>
    where TSettings : RepositorySettings
{
    public override async Task<int> ExecuteAsync(CommandContext context, TSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Verbose)
        {
            consoleLevel.MinimumLevel = LogEventLevel.Information;
        }

        return await RunAsync(settings, cancellationToken);
    }

    protected abstract Task<int> RunAsync(TSettings settings, CancellationToken cancellationToken);

    /// <summary>--json output: one document on stdout, in the shape of <see cref="CommandJson"/>.</summary>
    protected static void WriteJson<T>(T value, JsonTypeInfo<T> type) => Console.Out.WriteLine(JsonSerializer.Serialize(value, type));
}
