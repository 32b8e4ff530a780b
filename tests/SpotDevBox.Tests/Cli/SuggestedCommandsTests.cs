using System.Text.RegularExpressions;
using TestSupport;

namespace SpotDevBox.Tests.Cli;

/// <summary>
/// Every command a message suggests ("start it with 'spotdevbox up alice'") parses as printed: each one
/// found in the string literals under src/ runs with --help appended, which parses the arguments and stops.
/// </summary>
public sealed partial class SuggestedCommandsTests : IDisposable
{
    /// <summary>The verbs and branches of the command line (SpotDevBoxApp); a word after "spotdevbox " that is none of them is prose ("spotdevbox is restoring").</summary>
    private static readonly HashSet<string> Verbs = new(StringComparer.Ordinal)
    {
        "init", "backup", "restore", "snapshots", "forget", "prune", "check", "unlock", "migrate", "agent", "controller", "savings",
        "up", "down", "schedule", "status", "keepalive", "ssh-config", "estimate", "prices", "ssh", "recover",
    };

    private readonly TempDir _temp = new("spotdevbox-suggested-");

    public static TheoryData<string> Suggestions()
    {
        var data = new TheoryData<string>();
        foreach (var command in Found())
        {
            data.Add(command);
        }

        return data;
    }

    private static SortedSet<string> Found()
    {
        var found = new SortedSet<string>(StringComparer.Ordinal);
        var sources = Path.Combine(S3PeerFixture.RepositoryRoot, "src");
        foreach (var file in Directory.EnumerateFiles(sources, "*.cs", SearchOption.AllDirectories).Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
        {
            foreach (var line in File.ReadLines(file).Where(l => !l.TrimStart().StartsWith("//", StringComparison.Ordinal) && l.Contains('"', StringComparison.Ordinal)))
            {
                foreach (Match match in Suggestion().Matches(line))
                {
                    var words = Interpolation().Replace(match.Groups["args"].Value, "e2e").Split(' ');
                    // Prose after the command ("... --region r or set ...", "... up alice does") is not part of it.
                    var command = words.TakeWhile(w => w is not ("or" or "then" or "does" or "for" or "at" or "and")).ToArray();
                    if (command.Length > 0 && Verbs.Contains(command[0]))
                    {
                        found.Add(string.Join(' ', command));
                    }
                }
            }
        }

        return found;
    }

    [Fact]
    public void Suggestions_FoundInTheSources_IncludeTheOnesUsersSeeMost()
    {
        var all = Found();

        // The reconciler's "not relaunched" reason, ssh's "not running" and up's connection hints.
        Assert.Contains("up e2e", all);
        Assert.Contains("ssh-config", all);
        Assert.Contains("status e2e", all);
    }

    [Theory]
    [MemberData(nameof(Suggestions))]
    public async Task Suggestion_WithHelpAppended_Parses(string command)
    {
        var cli = new SpotDevBoxProcess(_temp.Sub("state"));

        var result = await cli.RunAsync([.. command.Split(' '), "--help"]);

        Assert.True(result.ExitCode == 0, $"'spotdevbox {command}' does not parse: {result}");
    }

    public void Dispose() => _temp.Dispose();

    /// <summary>"spotdevbox " then its arguments: words, options and interpolations, one space apart, up to a quote, a parenthesis or two spaces.</summary>
    [GeneratedRegex(@"spotdevbox (?<args>(?:[a-z][a-z-]*|--[a-z-]+|\{[^{}]+\}|[0-9]+[mhd])(?: (?:[a-z][a-z-]*|--[a-z-]+|\{[^{}]+\}|[0-9]+[mhd]))*)")]
    private static partial Regex Suggestion();

    [GeneratedRegex(@"\{[^{}]+\}")]
    private static partial Regex Interpolation();
}
