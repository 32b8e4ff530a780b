using Spectre.Console;
using Spectre.Console.Cli;
using Spectre.Console.Cli.Help;
using Spectre.Console.Rendering;

namespace SpotDevBox.Commands;

/// <summary>
/// Spectre's help with one footer on every page: the exit-code rule (README "Exit codes"), so a script author
/// reading any verb's --help learns what its code means without looking elsewhere.
/// </summary>
internal sealed class ExitCodesHelp(ICommandAppSettings settings) : HelpProvider(settings)
{
    public const string Rule = "Exit codes: 0 ok, 1 failed at run time, 2 fix the command or configuration (nothing was changed), 130 interrupted.";

    /// <summary>The extra code of backup, the one verb that can save with some files left out.</summary>
    public const string Backup = "3 the snapshot was saved, but some files could not be read (listed as warnings).";

    public override IEnumerable<IRenderable> GetFooter(ICommandModel model, ICommandInfo? command)
    {
        var text = command?.Name == "backup" ? Rule + " " + Backup : Rule;
        return [.. base.GetFooter(model, command), new Text(Environment.NewLine), new Text(text), new Text(Environment.NewLine)];
    }
}
