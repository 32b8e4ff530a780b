using SpotDevBox.Hosting;
using TestSupport;

namespace SpotDevBox.Tests.Cli;

/// <summary>The host a verb runs in is chosen from what the parser makes of the arguments, not from their raw words.</summary>
public sealed class VerbHostTests : IDisposable
{
    private readonly TempDir _temp = new("spotdevbox-verbhost-");

    [Theory]
    [InlineData("Agent", "agent", "run")]
    [InlineData("Controller", "controller", "run")]
    [InlineData("Cli", "status")]
    [InlineData("Cli", "agent", "publish", "--to", "s3://my-bucket/agent", "--agent-archive", "a.tar.gz")]
    [InlineData("Cli", "savings")]
    public void HostOf_AVerb_TheHostItsSettingsName(string expected, params string[] args) =>
        Assert.Equal(expected, SpotDevBoxApp.HostOf(args).ToString());

    [Theory]
    // Help, a branch without its command, an unknown option or argument: nothing runs, so no worker is registered.
    [InlineData("controller", "run", "--help")]
    [InlineData("agent", "run", "-h")]
    [InlineData("controller")]
    [InlineData("controller", "run", "--no-such-option")]
    [InlineData("agent", "run", "extra")]
    [InlineData("run", "controller")]
    public void HostOf_NothingToRun_TheCommonHost(params string[] args) =>
        Assert.Equal(VerbHost.Cli, SpotDevBoxApp.HostOf(args));

    [Fact]
    public void HostOf_ArgumentsAfterDoubleDash_TheVerbBeforeThem()
    {
        // After "--" the words are the verb's remaining arguments, as the parser has them.
        Assert.Equal(VerbHost.Agent, SpotDevBoxApp.HostOf(["agent", "run", "--", "--help"]));
    }

    [Fact]
    public async Task ControllerRun_UnknownOptionAndAnUnreadableInterval_Exit2NamingTheOption()
    {
        // The raw words "controller run" used to register the controller before the parser ran: reading its interval
        // failed first, and the line blamed the configuration for a mistyped command line.
        var cli = new SpotDevBoxProcess(_temp.Sub("state")).Set("SPOTDEVBOX_Controller__Reconcile__Interval", "soon");

        var result = await cli.RunAsync("controller", "run", "--no-such-option");

        Assert.True(result.ExitCode == 2, result.ToString());
        var line = Assert.Single(result.StderrLines);
        Assert.Contains("--no-such-option", line, StringComparison.Ordinal);
        Assert.DoesNotContain("Interval", line, StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();
}
