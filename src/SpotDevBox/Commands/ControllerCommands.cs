using System.ComponentModel;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Serilog.Core;
using Serilog.Events;
using Spectre.Console.Cli;
using SpotDevBox.Controller;
using SpotDevBox.Hosting;

namespace SpotDevBox.Commands;

internal sealed class ControllerRunSettings : CommandSettings, IVerbHostSettings
{
    public VerbHost Host => VerbHost.Controller;
}

[Description("Run the controller (a worker service off the boxes): starts each box at its schedule's start, asks it to stop at the stop, relaunches it after a spot interruption inside its window, and records sessions and decisions in its database (an SQLite file, or PostgreSQL: Controller:Database). Configured by the \"Controller\" section.")]
internal sealed class ControllerRunCommand(IServiceProvider services, IConfiguration configuration, LoggingLevelSwitch consoleLevel) : AsyncCommand<ControllerRunSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ControllerRunSettings settings, CancellationToken cancellationToken)
    {
        // An invalid box stops the controller before it touches anything, naming the box and the setting.
        var options = ControllerConfiguration.ReadValidated(configuration);
        // A PostgreSQL connection string that cannot work stops the controller here, naming the setting, never its value.
        _ = Controller.ControllerDatabase.Resolve(options.Database);
        if (options.Boxes.Count == 0)
        {
            throw new ArgumentException($"there is no box to run: configure at least one under {Core.Boxes.ControllerOptions.SectionName}:Boxes (see config/controller.example.json)");
        }

        consoleLevel.MinimumLevel = LogEventLevel.Information;
        var host = services.GetRequiredService<IHost>();
        await host.RunAsync(cancellationToken);
        return ExitCodes.Ok;
    }
}
