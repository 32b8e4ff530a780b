using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using Spectre.Console;
using Spectre.Console.Cli;
using Spectre.Console.Cli.Help;
using Spectre.Console.Rendering;
using SpotDevBox.Hosting;

namespace SpotDevBox.Commands;

/// <summary>Arguments written for a POSIX shell, so that an example pasted from --help runs as printed.</summary>
internal static partial class ShellWords
{
    /// <summary>The columns an example fits in: a terminal of 80, and 80 when the output is not a terminal.</summary>
    public const int Width = 79;

    /// <summary>The argument as is when the shell leaves it alone, else in single quotes.</summary>
    public static string Quote(string argument) =>
        Plain().IsMatch(argument) ? argument : "'" + argument.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>
    /// "spotdevbox" and the quoted arguments, indented by <paramref name="indent"/>; a line that would pass
    /// <see cref="Width"/> continues on the next after " \" (the shell joins them), between an option and the next one.
    /// </summary>
    public static IEnumerable<string> Lines(string program, IReadOnlyList<string> arguments, int indent)
    {
        var line = new StringBuilder(new string(' ', indent)).Append(program);
        foreach (var group in Groups(arguments))
        {
            if (line.Length + 1 + group.Length + 2 > Width && line.Length > indent + program.Length)
            {
                yield return line.Append(" \\").ToString();
                line.Clear().Append(' ', indent + 4).Append(group);
            }
            else
            {
                line.Append(' ').Append(group);
            }
        }

        yield return line.ToString();
    }

    /// <summary>An option with its value stays on one line: "--schedule 'Mon-Fri 09:00-18:00'".</summary>
    private static IEnumerable<string> Groups(IReadOnlyList<string> arguments)
    {
        for (var i = 0; i < arguments.Count; i++)
        {
            var word = Quote(arguments[i]);
            if (arguments[i].StartsWith("--", StringComparison.Ordinal) && arguments[i].Length > 2 && i + 1 < arguments.Count && !arguments[i + 1].StartsWith('-'))
            {
                yield return word + " " + Quote(arguments[++i]);
            }
            else
            {
                yield return word;
            }
        }
    }

    [GeneratedRegex("^[A-Za-z0-9_@%+=:,./-]+$")]
    private static partial Regex Plain();
}

/// <summary>
/// Spectre's help, with the examples written for the shell: quoted where needed and continued with " \" rather than
/// wrapped in the middle of a word (Spectre joins an example's arguments with spaces and lets the terminal wrap them).
/// </summary>
internal sealed class ShellHelpProvider(ICommandAppSettings settings) : HelpProvider(settings)
{
    public override IEnumerable<IRenderable> GetExamples(ICommandModel model, ICommandInfo? command)
    {
        ArgumentNullException.ThrowIfNull(model);
        var examples = (command?.Examples ?? model.Examples).ToList();
        var limit = int.MaxValue;
        if (examples.Count == 0)
        {
            // As Spectre does: without examples of its own, a branch (or the root) shows a few of its commands'.
            limit = MaximumIndirectExamples;
            var queue = new Queue<ICommandContainer>([command ?? (ICommandContainer)model]);
            while (queue.Count > 0 && examples.Count < limit)
            {
                foreach (var child in queue.Dequeue().Commands.Where(c => !c.IsHidden))
                {
                    examples.AddRange(child.Examples);
                    queue.Enqueue(child);
                }
            }
        }

        if (examples.Count == 0)
        {
            return [];
        }

        var text = new StringBuilder("\n");
        text.Append("EXAMPLES:\n");
        foreach (var example in examples.Take(limit))
        {
            foreach (var line in ShellWords.Lines(model.ApplicationName, example, indent: 4))
            {
                text.Append(line).Append('\n');
            }
        }

        return [new Text(text.ToString())];
    }

    /// <summary>
    /// One footer on every page: the exit-code rule (README "Exit codes"), so a script author reading any verb's
    /// --help learns what its code means without looking elsewhere; the root's also says what --version prints.
    /// </summary>
    public override IEnumerable<IRenderable> GetFooter(ICommandModel model, ICommandInfo? command)
    {
        var rule = command?.Name == "backup" ? ExitCodeRule + " " + BackupExitCode : ExitCodeRule;
        var version = command is null ? "\nspotdevbox --version prints the version and the commit it was built from.\n" : "";
        return [.. base.GetFooter(model, command), new Text(version + Environment.NewLine + rule + Environment.NewLine)];
    }

    public const string ExitCodeRule = "Exit codes: 0 ok, 1 failed at run time, 2 fix the command or configuration (nothing was changed), 130 interrupted.";

    /// <summary>The extra code of backup, the one verb that can save with some files left out.</summary>
    public const string BackupExitCode = "3 the snapshot was saved, but some files could not be read (listed as warnings).";
}

/// <summary>
/// The verbs and their options, as registered: an unknown option or verb is answered with the nearest known one
/// ("did you mean '--exclude'?"), by the same distance as the configuration's section names.
/// </summary>
internal sealed class VerbTable
{
    private readonly Dictionary<string, Type> _settings = new(StringComparer.Ordinal);
    private readonly HashSet<string> _branches = new(StringComparer.Ordinal);

    /// <summary>Every verb's path ("backup", "savings reconcile") and its settings class.</summary>
    public IReadOnlyDictionary<string, Type> Settings => _settings;

    public ICommandConfigurator Add<TCommand>(IConfigurator configurator, string name)
        where TCommand : class, ICommand
    {
        ArgumentNullException.ThrowIfNull(configurator);
        _settings[name] = SettingsOf(typeof(TCommand));
        return configurator.AddCommand<TCommand>(name);
    }

    public ICommandConfigurator Add<TCommand>(IConfigurator<CommandSettings> branch, string path, string name)
        where TCommand : class, ICommandLimiter<CommandSettings>
    {
        ArgumentNullException.ThrowIfNull(branch);
        _settings[path + " " + name] = SettingsOf(typeof(TCommand));
        return branch.AddCommand<TCommand>(name);
    }

    /// <summary>A branch ("savings") and, if it has one, its default command (the report).</summary>
    public void Branch(string path, Type? defaultCommand = null)
    {
        _branches.Add(path);
        if (defaultCommand is not null)
        {
            _settings[path] = SettingsOf(defaultCommand);
        }
    }

    /// <summary>The registered verb the arguments name ("backup", "agent run", "savings"), or null when they name none.</summary>
    public string? PathOf(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        string? found = null;
        var path = "";
        foreach (var word in args.TakeWhile(a => !a.StartsWith('-')))
        {
            path = path.Length == 0 ? word : path + " " + word;
            if (_settings.ContainsKey(path))
            {
                found = path;
            }
            else if (!_branches.Contains(path))
            {
                break;
            }
        }

        return found;
    }

    /// <summary>
    /// One line when the arguments name a branch that has no command of its own and no command of it was given
    /// (<c>spotdevbox storage</c>): the parser shows the branch's help and fails without saying why.
    /// </summary>
    public string? DescribeMissingCommand(IReadOnlyList<string> args)
    {
        var words = args.TakeWhile(a => a != "--").Where(a => !a.StartsWith('-')).ToList();
        var path = string.Join(' ', words);
        return words.Count > 0 && _branches.Contains(path) && !_settings.ContainsKey(path)
            ? $"'{path}' needs a command: {string.Join(", ", Children(path))} (see spotdevbox {path} --help)"
            : null;
    }

    /// <summary>
    /// One line for an argument the parser refused, when it is an unknown option or verb:
    /// "unknown option '--exlude' for 'backup'; did you mean '--exclude'?"; null for any other mistake.
    /// </summary>
    public string? DescribeUnknown(IReadOnlyList<string> args)
    {
        var words = args.TakeWhile(a => a != "--").ToList();
        var path = "";
        var used = 0;
        while (used < words.Count && !words[used].StartsWith('-'))
        {
            var next = path.Length == 0 ? words[used] : path + " " + words[used];
            if (!_settings.ContainsKey(next) && !_branches.Contains(next))
            {
                break;
            }

            path = next;
            used++;
        }

        if (used < words.Count && !words[used].StartsWith('-') && (path.Length == 0 || _branches.Contains(path)))
        {
            // A verb (or a branch's command) that does not exist.
            var known = Children(path);
            var where = path.Length == 0 ? "" : $" for '{path}'";
            return Nearest(words[used], known) is { } near
                ? $"unknown command '{words[used]}'{where}; did you mean '{near}'?"
                : $"unknown command '{words[used]}'{where}; the commands are {string.Join(", ", known)}";
        }

        if (!_settings.TryGetValue(path, out var settings))
        {
            return null;
        }

        var options = Options(settings);
        foreach (var word in words.Skip(used).Where(w => w.StartsWith('-') && w.Length > 1))
        {
            var name = word.Split('=', 2)[0];
            if (!options.Contains(name) && name is not ("-h" or "--help" or "-?"))
            {
                var longNames = options.Where(o => o.StartsWith("--", StringComparison.Ordinal)).ToList();
                // Else the one option that holds the word whole: --version, renamed --agent-version where it clashed.
                var holding = longNames.Where(o => o.EndsWith("-" + name.TrimStart('-'), StringComparison.Ordinal)).ToList();
                return (Nearest(name, longNames) ?? (holding.Count == 1 && name.StartsWith("--", StringComparison.Ordinal) ? holding[0] : null)) is { } near
                    ? $"unknown option '{name}' for '{path}'; did you mean '{near}'?"
                    : $"unknown option '{name}' for '{path}'; see spotdevbox {path} --help";
            }
        }

        return null;
    }

    private List<string> Children(string path) =>
        [.. _settings.Keys.Concat(_branches)
            .Where(k => path.Length == 0 ? !k.Contains(' ', StringComparison.Ordinal) : k.StartsWith(path + " ", StringComparison.Ordinal))
            .Select(k => path.Length == 0 ? k : k[(path.Length + 1)..])
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)];

    private static string? Nearest(string name, IEnumerable<string> known) => ConfigurationFiles.Nearest(name, known);

    /// <summary>Every option name of a settings class ("-e", "--exclude"), hidden aliases included.</summary>
    public static HashSet<string> Options(Type settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var option in OptionAttributes(settings))
        {
            names.UnionWith(option.ShortNames.Select(s => "-" + s));
            names.UnionWith(option.LongNames.Select(l => "--" + l));
        }

        return names;
    }

    /// <summary>The [CommandOption] attributes of a settings class and the classes it derives from.</summary>
    [UnconditionalSuppressMessage(
        "Trimming",
        "IL2070",
        Justification = "The settings classes are this assembly's, which the native AOT build roots whole (SpotDevBox.csproj), as Spectre.Console.Cli's own reflection over them needs.")]
    public static IEnumerable<CommandOptionAttribute> OptionAttributes(Type settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => p.GetCustomAttribute<CommandOptionAttribute>())
            .OfType<CommandOptionAttribute>();
    }

    private static Type SettingsOf(Type command)
    {
        for (var type = command; type is not null; type = type.BaseType)
        {
            if (type.IsGenericType && type.GetGenericArguments() is [var settings] && typeof(CommandSettings).IsAssignableFrom(settings))
            {
                return settings;
            }
        }

        throw new InvalidOperationException($"{command.Name} has no settings class");
    }
}
