using System.Text.Json;
using System.Text.Json.Serialization;
using Serilog.Core;
using Serilog.Events;
using Spectre.Console.Cli;

namespace SpotDevBox.Commands;

/// <summary>Shared plumbing of the repository verbs: --verbose and JSON output.</summary>
internal abstract class RepositoryCommand<TSettings>(LoggingLevelSwitch consoleLevel) : AsyncCommand<TSettings>
    where TSettings : RepositorySettings
{
    protected static readonly JsonSerializerOptions JsonOutput = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

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

    protected static void WriteJson<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, JsonOutput));
}
