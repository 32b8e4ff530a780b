using TestSupport;

namespace SpotDevBox.Tests.Cli;

/// <summary>spotdevbox schedule: a box's decision now and its next transitions, from the controller's configuration.</summary>
public sealed class ScheduleCommandTests : IDisposable
{
    private readonly TempDir _temp = new("spotdevbox-schedule-");
    private readonly SpotDevBoxProcess _cli;

    public ScheduleCommandTests() => _cli = new SpotDevBoxProcess(_temp.Path);

    private string Config(string periods, string zone = "Europe/Berlin", string extra = "", string controller = "\"AgentBuilds\": \"s3://my-bucket/agent\",")
    {
        var path = Path.Combine(_temp.Path, "controller.json");
        File.WriteAllText(path, $$"""
            { "Controller": { {{controller}} "Boxes": { "alice": { "Owner": "alice", "Region": "eu-central-1", "InstanceTypes": ["m7i.large"],
              "ImageId": "ami-0123456789abcdef0", "Storage": "s3://my-bucket/boxes/alice", "User": "alice" {{extra}},
              "Schedule": { "TimeZone": "{{zone}}", "Periods": [{{periods}}] } } } } }
            """);
        return path;
    }

    private Task<CliResult> RunAsync(string config, params string[] args) =>
        _cli.RunAsync(["schedule", .. args], new Dictionary<string, string?> { ["SPOTDEVBOX_CONFIG"] = config });

    [Fact]
    public async Task Schedule_DailyPeriod_PrintsDecisionAndTwoTransitionsPerDay()
    {
        var result = await RunAsync(Config("\"daily 08:30-19:00\""), "--box", "alice", "--next", "3d");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches("^alice: (up|down) now — ", lines[0]);
        Assert.Equal("  schedule  Mon-Sun 08:30-19:00 (Europe/Berlin)", lines[1]);
        var transitions = lines.Skip(2).ToList();
        // Three days hold three starts and three stops, give or take the one in progress at either end.
        Assert.InRange(transitions.Count, 5, 6);
        Assert.All(transitions, t => Assert.Matches(@"^  (start|stop )  \w{3} \d{4}-\d\d-\d\d (08:30|19:00) \+0[12]:00 Europe/Berlin = \d{4}-\d\d-\d\d \d\d:\d\d UTC  ", t));
    }

    [Fact]
    public async Task Schedule_Json_HasTheDecisionAndTransitions()
    {
        var result = await RunAsync(Config("\"Mon-Fri 08:30-19:00\""), "--box", "alice", "--next", "8d", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        Assert.Equal("alice", json.GetProperty("box").GetString());
        Assert.Equal("Europe/Berlin", json.GetProperty("time_zone").GetString());
        // Eight days always hold five working days: ten transitions, give or take one at either end.
        Assert.InRange(json.GetProperty("transitions").GetArrayLength(), 9, 11);
    }

    [Fact]
    public async Task Schedule_UnknownBox_Exit2NamingTheConfiguredOnes()
    {
        var result = await RunAsync(Config("\"daily 08:30-19:00\""), "--box", "bob");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("spotdevbox: there is no box 'bob'; configured: alice", result.Stderr.Trim());
    }

    [Fact]
    public async Task Schedule_InvalidBoxConfiguration_Exit2NamingTheSetting()
    {
        var result = await RunAsync(Config("\"daily 08:30-19:00\"", extra: ", \"RootVolumeGiB\": 2"), "--box", "alice");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Controller:Boxes:alice:RootVolumeGiB must be between 8 and 16384, got 2", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Schedule_UnknownSettingInABox_Exit2()
    {
        var result = await RunAsync(Config("\"daily 08:30-19:00\"", extra: ", \"InstanceType\": \"m7i.large\""), "--box", "alice");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Controller:Boxes:alice:InstanceType is not a setting", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Schedule_BoxWithoutAgentBuilds_Exit2NamingTheSetting()
    {
        var result = await RunAsync(Config("\"daily 08:30-19:00\"", controller: ""), "--box", "alice");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Controller:AgentBuilds is required to launch a box", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Schedule_UnknownControllerSetting_Exit2NamingIt()
    {
        var result = await RunAsync(Config("\"daily 08:30-19:00\"", controller: "\"AgentBuilds\": \"s3://my-bucket/agent\", \"AgentBuild\": \"s3://my-bucket/agent\","), "--box", "alice");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Controller:AgentBuild is not a setting", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0h")]
    [InlineData("367d")]
    [InlineData("a week")]
    public async Task Schedule_BadSpan_Exit2(string span)
    {
        var result = await RunAsync(Config("\"daily 08:30-19:00\""), "--box", "alice", "--next", span);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"--next: '{span}' is not a span", result.Stderr, StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();
}
