using System.Reflection;
using System.Text.Json;
using Spectre.Console.Cli;
using SpotDevBox.Commands;
using TestSupport;

namespace SpotDevBox.Tests.Cli;

/// <summary>
/// One grammar for every verb: the box is the first argument (--box/-b an alias), a short flag means one thing
/// everywhere, --version names the build, and a mistyped option or verb is answered with the nearest one.
/// </summary>
public sealed class CommandLineGrammarTests : IDisposable
{
    private readonly TempDir _temp = new("spotdevbox-grammar-");

    private SpotDevBoxProcess Cli() => new SpotDevBoxProcess(_temp.Sub("state")).In(_temp.Path);

    private string Config()
    {
        var path = _temp.Sub("config.json");
        File.WriteAllText(path, """
            { "Controller": { "AgentBuilds": "s3://my-bucket/agent", "Boxes": { "alice": { "Owner": "alice", "Region": "eu-central-1",
              "InstanceTypes": ["m7i.large"], "ImageId": "ami-0123456789abcdef0", "Storage": "s3://my-bucket/boxes/alice/alice", "User": "alice",
              "Schedule": { "TimeZone": "Europe/Berlin", "Periods": ["Mon-Fri 08:30-19:00"] } } } } }
            """);
        return path;
    }

    [Fact]
    public void ShortFlags_OfEveryVerb_EachLetterHasOneLongName()
    {
        var settings = typeof(BackupSettings).Assembly.GetTypes().Where(t => typeof(CommandSettings).IsAssignableFrom(t) && !t.IsAbstract).ToList();
        var meanings = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var option in settings.SelectMany(VerbTable.OptionAttributes))
        {
            foreach (var letter in option.ShortNames)
            {
                if (!meanings.TryGetValue(letter, out var longNames))
                {
                    meanings[letter] = longNames = new HashSet<string>(StringComparer.Ordinal);
                }

                longNames.UnionWith(option.LongNames);
            }
        }

        Assert.True(settings.Count > 15, $"only {settings.Count} settings classes found");
        Assert.All(meanings, m => Assert.True(m.Value.Count == 1, $"-{m.Key} means --{string.Join(" and --", m.Value.Order(StringComparer.Ordinal))}"));
        // The README lists these: -r is --repo only, -t is --tag only.
        Assert.Equal(["--repo"], meanings["r"].Select(l => "--" + l));
        Assert.Equal(["--tag"], meanings["t"].Select(l => "--" + l));
        Assert.Equal(["--box"], meanings["b"].Select(l => "--" + l));
        Assert.Equal(["--verbose"], meanings["v"].Select(l => "--" + l));
    }

    [Fact]
    public async Task UnknownOption_OneEditFromAKnownOne_SuggestsIt()
    {
        var result = await Cli().RunAsync("backup", "--exlude", "x", "src");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("spotdevbox: unknown option '--exlude' for 'backup'; did you mean '--exclude'?", result.Stderr.Trim());
    }

    [Fact]
    public async Task UnknownOption_OfABranchCommand_SuggestsItsOwn()
    {
        var result = await Cli().RunAsync("prices", "refresh", "--regoin", "eu-west-3");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("spotdevbox: unknown option '--regoin' for 'prices refresh'; did you mean '--region'?", result.Stderr.Trim());
    }

    [Fact]
    public async Task UnknownOption_FarFromEveryOne_PointsAtHelp()
    {
        var result = await Cli().RunAsync("estimate", "--colour", "red");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("spotdevbox: unknown option '--colour' for 'estimate'; see spotdevbox estimate --help", result.Stderr.Trim());
    }

    [Fact]
    public async Task UnknownVerb_OneEditFromAKnownOne_SuggestsIt()
    {
        var result = await Cli().RunAsync("bakup", "src");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("spotdevbox: unknown command 'bakup'; did you mean 'backup'?", result.Stderr.Trim());
    }

    [Fact]
    public async Task UnknownCommand_InABranch_SuggestsTheBranchsCommand()
    {
        var result = await Cli().RunAsync("savings", "reconcle");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("spotdevbox: unknown command 'reconcle' for 'savings'; did you mean 'reconcile'?", result.Stderr.Trim());
    }

    [Fact]
    public async Task Version_WithABrokenConfiguration_PrintsTheVersionAndTheCommitOfThisBuild()
    {
        var broken = _temp.Sub("broken.json");
        File.WriteAllText(broken, "{ not json");
        // The tests are built from the same checkout as spotdevbox, in the same build: the same commit.
        var informational = typeof(CommandLineGrammarTests).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        var plus = informational.IndexOf('+', StringComparison.Ordinal);
        var commit = plus < 0 ? "unknown" : informational[(plus + 1)..][..12];

        var result = await Cli().Set("SPOTDEVBOX_CONFIG", broken).RunAsync("--version");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(@"^spotdevbox \d+\.\d+\.\d+\S* \(commit ([0-9a-f]{12}|unknown)\)$", result.Stdout.Trim());
        Assert.EndsWith($"(commit {commit})", result.Stdout.Trim(), StringComparison.Ordinal);
        Assert.Equal("", result.Stderr);
    }

    [Theory]
    [InlineData("1.0.0+0123456789abcdef0123456789abcdef01234567", "spotdevbox 1.0.0 (commit 0123456789ab)")]
    [InlineData("1.0.0", "spotdevbox 1.0.0 (commit unknown)")]
    [InlineData("2.1.0-beta.1+abc1234", "spotdevbox 2.1.0-beta.1 (commit abc1234)")]
    public void VersionLine_InformationalVersion_NamesTheCommitOrUnknown(string informational, string expected) =>
        Assert.Equal(expected, SpotDevBoxApp.VersionLine(informational));

    [Fact]
    public async Task ShortV_AtTheRoot_IsNotVersion()
    {
        var result = await Cli().RunAsync("-v");

        Assert.Equal(2, result.ExitCode);
        Assert.DoesNotContain("commit", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AgentPublish_OldVersionOption_IsRefusedWithTheNewName()
    {
        var result = await Cli().RunAsync("agent", "publish", "--to", _temp.Sub("builds"), "--build", "linux-x64=a.tar.gz", "--version", "v1");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("spotdevbox: unknown option '--version' for 'agent publish'; did you mean '--agent-version'?", result.Stderr.Trim());
    }

    [Theory]
    [InlineData("schedule alice --box bob", "alice", "bob")]
    [InlineData("schedule alice -b bob", "alice", "bob")]
    [InlineData("down ./box-a --box ./box-b", "./box-a", "./box-b")]
    [InlineData("status alice --box bob", "alice", "bob")]
    [InlineData("ssh-config alice --box bob", "alice", "bob")]
    [InlineData("keepalive alice 2h --box bob", "alice", "bob")]
    public async Task Box_GivenAsArgumentAndAsBoxDifferently_ExitsTwo(string command, string box, string other)
    {
        var verb = command.Split(' ')[0];

        var result = await Cli().Set("SPOTDEVBOX_CONFIG", Config()).RunAsync(command.Split(' '));

        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"spotdevbox: the box is given twice ('{box}' and --box '{other}'); give it once: spotdevbox {verb} BOX", result.Stderr.Trim());
    }

    [Theory]
    [InlineData("alice")]
    [InlineData("--box", "alice")]
    [InlineData("-b", "alice")]
    [InlineData("alice", "--box", "alice")]
    public async Task Schedule_BoxAsArgumentOrAlias_SameDecision(params string[] box)
    {
        var result = await Cli().Set("SPOTDEVBOX_CONFIG", Config()).RunAsync(["schedule", .. box, "--next", "1d", "--from", "2027-01-04T10:00:00+01:00", "--json"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("alice", result.Json().GetProperty("box").GetString());
        Assert.True(result.Json().GetProperty("up").GetBoolean());
    }

    [Fact]
    public async Task Down_BoxAsArgument_WritesItsControlDocument()
    {
        // A storage prefix given directly, here a local folder: no AWS account involved. An agent reported in
        // each (down refuses a prefix where none ever did).
        foreach (var box in new[] { "box-a", "box-b" })
        {
            Directory.CreateDirectory(_temp.Sub(box));
            File.WriteAllText(Path.Combine(_temp.Sub(box), "status.json"), "{}");
        }

        var byArgument = await Cli().RunAsync("down", "./box-a", "--note", "done");
        var byAlias = await Cli().RunAsync("down", "--box", "./box-b");

        Assert.True(byArgument.ExitCode == 0, byArgument.ToString());
        Assert.True(byAlias.ExitCode == 0, byAlias.ToString());
        Assert.Contains("(follow it with: spotdevbox status ./box-a)", byArgument.Stdout, StringComparison.Ordinal);
        Assert.NotNull(StopAt(_temp.Sub("box-a")));
        Assert.NotNull(StopAt(_temp.Sub("box-b")));
    }

    private static string? StopAt(string prefix)
    {
        using var control = JsonDocument.Parse(File.ReadAllText(Path.Combine(prefix, "control.json")));
        return control.RootElement.GetProperty("stop_at").GetString();
    }

    [Fact]
    public async Task Keepalive_OneArgumentThatIsADuration_IsThisBoxsLease()
    {
        var run = _temp.Sub("run");
        Directory.CreateDirectory(run);
        // What makes this machine a box for keepalive: its agent's status file in Agent:RunDirectory.
        File.WriteAllText(Path.Combine(run, "status.json"), "{}");

        var result = await Cli().Set("SPOTDEVBOX_Agent__RunDirectory", run).RunAsync("keepalive", "2h", "--note", "training run", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        Assert.Equal(Path.Combine(run, "lease", "lease.json"), json.GetProperty("written_to").GetString());
        Assert.Equal("training run", json.GetProperty("note").GetString());
        Assert.False(json.GetProperty("cancelled").GetBoolean());
        Assert.True(File.Exists(Path.Combine(run, "lease", "lease.json")));
    }

    [Theory]
    [InlineData("./box-a", "90m")]
    [InlineData("90m", "--box", "./box-a")]
    public async Task Keepalive_BoxThenDuration_WritesTheBoxsControlDocument(params string[] args)
    {
        var result = await Cli().RunAsync(["keepalive", .. args, "--json"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("./box-a/control.json", result.Json().GetProperty("written_to").GetString());
        using var control = JsonDocument.Parse(File.ReadAllText(Path.Combine(_temp.Sub("box-a"), "control.json")));
        Assert.Equal(JsonValueKind.String, control.RootElement.GetProperty("lease_until").ValueKind);
    }

    [Fact]
    public async Task Keepalive_DurationBeforeTheBox_ExitsTwoSayingTheOrder()
    {
        var result = await Cli().RunAsync("keepalive", "2h", "./box-a");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("spotdevbox: '2h' is a duration, and the box comes first: spotdevbox keepalive BOX DURATION", result.Stderr.Trim());
    }

    [Fact]
    public async Task Keepalive_OneArgumentStartingWithADigitButNoDuration_IsRefusedAsADuration()
    {
        var result = await Cli().RunAsync("keepalive", "8d");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("spotdevbox: '8d' is not a duration between 1 minute and 7 days (examples: 45m, 2h, 1h30m, 1d)", result.Stderr.Trim());
    }

    [Fact]
    public async Task Keepalive_BoxWithoutDurationOrCancel_ExitsTwo()
    {
        var result = await Cli().RunAsync("keepalive", "./box-a");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("spotdevbox: give a duration (e.g. 'keepalive 2h', 'keepalive alice 2h') or --cancel", result.Stderr.Trim());
    }

    [Fact]
    public async Task PricesRefresh_Json_NamesTheTablesWritten()
    {
        var offer = _temp.Sub("index.csv");
        File.WriteAllText(offer, SpotDevBox.Core.Tests.Savings.OfferFixture.Csv);

        var result = await Cli().RunAsync("prices", "refresh", "--region", "eu-west-3", "--offer", offer, "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        Assert.Equal("eu-west-3", json.GetProperty("region").GetString());
        Assert.Equal(offer, json.GetProperty("offer").GetString());
        Assert.EndsWith("ondemand-linux-eu-west-3.csv", json.GetProperty("on_demand_table").GetString(), StringComparison.Ordinal);
        Assert.True(File.Exists(json.GetProperty("on_demand_table").GetString()));
    }

    public void Dispose() => _temp.Dispose();
}
