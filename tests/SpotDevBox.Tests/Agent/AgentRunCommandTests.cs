using System.Text.Json.Nodes;
using TestSupport;

namespace SpotDevBox.Tests.Agent;

/// <summary>
/// <c>spotdevbox agent run</c> as systemd starts it, with a configuration file that is wrong: exit 2,
/// one line naming the setting, and nothing created (no box, no state, no run directory).
/// </summary>
public sealed class AgentRunCommandTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    private readonly TempDir _temp = new("spotdevbox-agent-cli-");
    private readonly SpotDevBoxProcess _cli;

    public AgentRunCommandTests()
    {
        _cli = new SpotDevBoxProcess(_temp.Sub("cli"));
        Directory.CreateDirectory(_temp.Sub("home"));
    }

    public static TheoryData<string, string?, string[]> InvalidSettings => new()
    {
        { "Box", null, ["invalid configuration", "Agent:Box is required"] },
        { "BackupIntervall", "00:10:00", ["invalid configuration", "BackupIntervall"] },
        { "Interruption:PollInterval", "00:00:09", ["invalid configuration", "Agent:Interruption:PollInterval must be between 00:00:01 and 00:00:05, got 00:00:09"] },
        { "Idle:Typo", "1", ["invalid configuration", "Typo"] },
        { "StatusInterval", "00:00:01", ["invalid configuration", "Agent:StatusInterval must be between 00:00:10 and 00:05:00, got 00:00:01"] },
        { "WebhookUrl", "hooks.example.com/x", ["invalid configuration", "Agent:WebhookUrl must be an http(s) URL (the value is not printed: a URL may carry a secret)"] },
        { "WebhookParameter", "https://hooks.example.com/x", ["invalid configuration", "Agent:WebhookParameter must be the name of an SSM parameter such as /spotdevbox/alice/webhook"] },
    };

    [Theory]
    [MemberData(nameof(InvalidSettings))]
    public async Task AgentRun_InvalidConfiguration_ExitsTwoNamingTheSettingAndChangesNothing(string setting, string? value, string[] words)
    {
        var config = WriteConfig(setting, value);

        using var agent = _cli.Start(["agent", "run"], new Dictionary<string, string?> { ["SPOTDEVBOX_CONFIG"] = config });
        var result = await agent.WaitAsync(Limit);

        Assert.True(result.ExitCode == 2, result.ToString());
        var line = Assert.Single(result.StderrLines);
        Assert.StartsWith("spotdevbox: ", line, StringComparison.Ordinal);
        foreach (var word in words)
        {
            Assert.Contains(word, line, StringComparison.Ordinal);
        }

        if (setting is "WebhookUrl" or "WebhookParameter")
        {
            // A webhook URL is a secret (its path is the credential): the error names the setting, never the value.
            Assert.DoesNotContain(value!, line, StringComparison.Ordinal);
        }

        Assert.Empty(result.Stdout);
        Assert.False(Directory.Exists(_temp.Sub("box")), "the box was created");
        Assert.False(Directory.Exists(_temp.Sub("state")), "the state directory was created");
        Assert.False(Directory.Exists(_temp.Sub("run")), "the run directory was created");
        Assert.False(File.Exists(_temp.Sub("powered-off")), "the power-off command ran");
    }

    [Fact]
    public async Task AgentHelp_ListsRunWithWhatItDoes()
    {
        var result = await _cli.RunAsync("agent", "--help");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("spotdevbox agent", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("run", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("Run the on-box agent", result.Stdout, StringComparison.Ordinal);
        Assert.Empty(result.Stderr);
    }

    // The agent's options are validated at start only when the agent runs, not for its help.
    [Fact]
    public async Task AgentRunHelp_NoAgentConfiguration_SaysWhatTheAgentDoesAndWhereItIsConfigured()
    {
        var result = await _cli.RunAsync("agent", "run", "--help");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("spotdevbox agent run", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("Run the on-box agent", result.Stdout, StringComparison.Ordinal);
        Assert.Empty(result.Stderr);
    }

    [Fact]
    public async Task AgentRunHelp_ConfiguredBox_SaysWhatTheAgentDoesWithoutStartingIt()
    {
        var config = WriteConfig("Wall", "false");

        using var agent = _cli.Start(["agent", "run", "--help"], new Dictionary<string, string?> { ["SPOTDEVBOX_CONFIG"] = config });
        var result = await agent.WaitAsync(Limit);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("spotdevbox agent run", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("Run the on-box agent", result.Stdout, StringComparison.Ordinal);
        Assert.Empty(result.Stderr);
        Assert.False(Directory.Exists(_temp.Sub("box")), "the agent ran");
        Assert.False(Directory.Exists(_temp.Sub("run")), "the agent ran");
    }

    [Fact]
    public async Task Help_NoVerb_ListsTheAgentVerbs()
    {
        var result = await _cli.RunAsync("--help");

        Assert.True(result.ExitCode == 0, result.ToString());
        foreach (var verb in new[] { "agent", "status", "keepalive" })
        {
            Assert.Contains("    " + verb + " ", result.Stdout, StringComparison.Ordinal);
        }
    }

    public void Dispose() => _temp.Dispose();

    /// <summary>A configuration that starts the agent, with <paramref name="setting"/> under "Agent" set to <paramref name="value"/> (null: removed).</summary>
    private string WriteConfig(string setting, string? value)
    {
        var agent = new JsonObject
        {
            ["Box"] = _temp.Sub("box"),
            ["Paths"] = new JsonArray(_temp.Sub("home")),
            ["StateDirectory"] = _temp.Sub("state"),
            ["RunDirectory"] = _temp.Sub("run"),
            ["HostKeys"] = "false",
            ["Wall"] = "false",
            ["RetentionInterval"] = "00:00:00",
            ["PowerOffCommand"] = new JsonArray("touch", _temp.Sub("powered-off")),
            ["HostRoot"] = _temp.Sub("host-root"),
            // Nothing listens there: were the agent to start, it would find no metadata service, not a real one.
            ["Metadata"] = new JsonObject { ["BaseUrl"] = $"http://127.0.0.1:{WebhookRecorder.FreePort()}/" },
        };
        var parts = setting.Split(':');
        var node = agent;
        foreach (var part in parts[..^1])
        {
            node = (JsonObject)(node[part] ??= new JsonObject());
        }

        if (value is null)
        {
            node.Remove(parts[^1]);
        }
        else
        {
            node[parts[^1]] = value;
        }

        var path = _temp.Sub("spotdevbox.json");
        File.WriteAllText(path, new JsonObject { ["Agent"] = agent, ["Logging"] = new JsonObject { ["File"] = "off" } }.ToJsonString());
        return path;
    }
}
