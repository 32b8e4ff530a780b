using System.Text.RegularExpressions;
using TestSupport;

namespace SpotDevBox.Tests.Cli;

/// <summary>Every verb's --help carries the one exit-code rule of README "Exit codes".</summary>
public sealed partial class ExitCodeHelpTests : IDisposable
{
    private readonly TempDir _temp = new("spotdevbox-help-");

    [Theory]
    [InlineData("init")]
    [InlineData("backup")]
    [InlineData("restore")]
    [InlineData("snapshots")]
    [InlineData("forget")]
    [InlineData("prune")]
    [InlineData("check")]
    [InlineData("unlock")]
    [InlineData("recover")]
    [InlineData("migrate")]
    [InlineData("agent run")]
    [InlineData("agent publish")]
    [InlineData("controller run")]
    [InlineData("savings")]
    [InlineData("savings reconcile")]
    [InlineData("up")]
    [InlineData("down")]
    [InlineData("schedule")]
    [InlineData("status")]
    [InlineData("keepalive")]
    [InlineData("ssh-config")]
    [InlineData("estimate")]
    [InlineData("prices refresh")]
    [InlineData("ssh")]
    [InlineData("box add")]
    [InlineData("box remove")]
    [InlineData("")]
    public async Task Help_EveryVerb_EndsWithTheExitCodeRule(string verb)
    {
        var result = await new SpotDevBoxProcess(_temp.Sub("state")).RunAsync([.. verb.Split(' ', StringSplitOptions.RemoveEmptyEntries), "--help"], new Dictionary<string, string?>());

        Assert.True(result.ExitCode == 0, result.ToString());
        // The help wraps at the terminal's width: compare the words, not the line breaks.
        var text = Spaces().Replace(result.Stdout, " ");
        Assert.Contains("Exit codes: 0 ok, 1 failed at run time, 2 fix the command or configuration (nothing was changed), 130 interrupted.", text, StringComparison.Ordinal);
        Assert.Equal(verb == "backup", text.Contains("3 the snapshot was saved, but some files could not be read", StringComparison.Ordinal));
    }

    public void Dispose() => _temp.Dispose();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();
}
