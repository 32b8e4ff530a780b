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
              "ImageId": "ami-0123456789abcdef0", "Storage": "s3://my-bucket/boxes/alice/alice", "User": "alice" {{extra}},
              "Schedule": { "TimeZone": "{{zone}}", "Periods": [{{periods}}] } } } } }
            """);
        return path;
    }

    private Task<CliResult> RunAsync(string config, params string[] args) =>
        // Under a zone that is neither the box's nor UTC, so that reading the machine's zone anywhere shows.
        _cli.RunAsync(["schedule", .. args], new Dictionary<string, string?> { ["SPOTDEVBOX_CONFIG"] = config, ["TZ"] = "Asia/Kolkata" });

    [Fact]
    [Trait("Category", "Calendar")]
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
    [Trait("Category", "Calendar")]
    public async Task Schedule_Json_HasTheDecisionAndTransitions()
    {
        // Monday 2027-01-04 10:00 in Berlin (CET, +01:00); seven days ahead end on Monday 2027-01-11 10:00.
        var result = await RunAsync(Config("\"Mon-Fri 08:30-19:00\""), "--box", "alice", "--next", "7d", "--from", "2027-01-04T10:00:00+01:00", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        Assert.Equal("alice", json.GetProperty("box").GetString());
        Assert.Equal("Europe/Berlin", json.GetProperty("time_zone").GetString());
        Assert.Equal("Mon-Fri 08:30-19:00", json.GetProperty("schedule").GetString());
        Assert.Equal("2027-01-04T09:00:00+00:00", json.GetProperty("now").GetString());
        Assert.True(json.GetProperty("up").GetBoolean());
        Assert.Equal("inside Mon-Fri 08:30-19:00 (Europe/Berlin)", json.GetProperty("reason").GetString());
        string[] expected =
        [
            "2027-01-04T18:00:00+00:00 2027-01-04T19:00:00+01:00 down end of Mon-Fri 08:30-19:00",
            "2027-01-05T07:30:00+00:00 2027-01-05T08:30:00+01:00 up start of Mon-Fri 08:30-19:00",
            "2027-01-05T18:00:00+00:00 2027-01-05T19:00:00+01:00 down end of Mon-Fri 08:30-19:00",
            "2027-01-06T07:30:00+00:00 2027-01-06T08:30:00+01:00 up start of Mon-Fri 08:30-19:00",
            "2027-01-06T18:00:00+00:00 2027-01-06T19:00:00+01:00 down end of Mon-Fri 08:30-19:00",
            "2027-01-07T07:30:00+00:00 2027-01-07T08:30:00+01:00 up start of Mon-Fri 08:30-19:00",
            "2027-01-07T18:00:00+00:00 2027-01-07T19:00:00+01:00 down end of Mon-Fri 08:30-19:00",
            "2027-01-08T07:30:00+00:00 2027-01-08T08:30:00+01:00 up start of Mon-Fri 08:30-19:00",
            "2027-01-08T18:00:00+00:00 2027-01-08T19:00:00+01:00 down end of Mon-Fri 08:30-19:00",
            "2027-01-11T07:30:00+00:00 2027-01-11T08:30:00+01:00 up start of Mon-Fri 08:30-19:00",
        ];
        Assert.Equal(expected, Transitions(json));
    }

    [Theory]
    [InlineData("2027-01-04T10:00:00+01:00")]
    [InlineData("2027-01-04T09:00Z")]
    [InlineData("2027-01-04T09:00:00Z")]
    [InlineData("2027-01-04T04:00-05:00")]
    [InlineData("2027-01-04T10:00")]
    [InlineData("2027-01-04 10:00:00")]
    public async Task Schedule_FromInEachForm_EvaluatesThatInstant(string from)
    {
        // With an offset or Z as given; without one on the box's wall clock (Europe/Berlin, +01:00 in January).
        var result = await RunAsync(Config("\"Mon-Fri 08:30-19:00\""), "--box", "alice", "--next", "12h", "--from", from, "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        Assert.Equal("2027-01-04T09:00:00+00:00", json.GetProperty("now").GetString());
        Assert.Equal(["2027-01-04T18:00:00+00:00 2027-01-04T19:00:00+01:00 down end of Mon-Fri 08:30-19:00"], Transitions(json));
    }

    [Fact]
    [Trait("Category", "Calendar")]
    public async Task Schedule_FromADateInTheZone_StartsAtItsMidnight()
    {
        // Saturday 2027-01-09 00:00 in Berlin is 2027-01-08 23:00 UTC: down until Monday.
        var result = await RunAsync(Config("\"Mon-Fri 08:30-19:00\""), "--box", "alice", "--next", "3d", "--from", "2027-01-09");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(
            """
            alice: down at Sat 2027-01-09 00:00 +01:00 — outside every period; next start Mon 08:30
              schedule  Mon-Fri 08:30-19:00 (Europe/Berlin)
              start  Mon 2027-01-11 08:30 +01:00 Europe/Berlin = 2027-01-11 07:30 UTC  start of Mon-Fri 08:30-19:00
              stop   Mon 2027-01-11 19:00 +01:00 Europe/Berlin = 2027-01-11 18:00 UTC  end of Mon-Fri 08:30-19:00

            """.ReplaceLineEndings("\n"),
            result.Stdout);
    }

    [Fact]
    public async Task Schedule_FromALocalTimeTheClocksSkip_IsTheMomentTheyJump()
    {
        // 2027-03-28 is the last Sunday of March: Berlin's clocks go from 02:00 CET to 03:00 CEST, so 02:30 is 03:00 CEST (01:00 UTC).
        var result = await RunAsync(Config("\"Mon-Fri 08:30-19:00\""), "--box", "alice", "--next", "2d", "--from", "2027-03-28T02:30", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        Assert.Equal("2027-03-28T01:00:00+00:00", json.GetProperty("now").GetString());
        Assert.False(json.GetProperty("up").GetBoolean());
        Assert.Equal("outside every period; next start Mon 08:30", json.GetProperty("reason").GetString());
        Assert.Equal(
            [
                "2027-03-29T06:30:00+00:00 2027-03-29T08:30:00+02:00 up start of Mon-Fri 08:30-19:00",
                "2027-03-29T17:00:00+00:00 2027-03-29T19:00:00+02:00 down end of Mon-Fri 08:30-19:00",
            ],
            Transitions(json));
    }

    [Theory]
    [InlineData("next monday")]
    [InlineData("2027-01-04T25:00")]
    [InlineData("04.01.2027 10:00")]
    [InlineData("")]
    public async Task Schedule_BadFrom_Exit2NamingTheOptionAndTheForms(string from)
    {
        var result = await RunAsync(Config("\"Mon-Fri 08:30-19:00\""), "--box", "alice", "--from", from);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal(
            $"spotdevbox: --from: '{from}' is not an instant (2027-01-04T10:00:00+01:00, 2027-01-04T09:00Z) or a date-time in the box's zone (2027-01-04T10:00, 2027-01-04)",
            result.Stderr.Trim());
        Assert.Equal("", result.Stdout);
    }

    [Fact]
    public async Task Schedule_HelpExampleWithFrom_RunsAsPrinted()
    {
        var help = await _cli.RunAsync("schedule", "--help");
        Assert.True(help.ExitCode == 0, help.ToString());
        Assert.Contains("--from <TIME>", help.Stdout, StringComparison.Ordinal);
        var example = help.Stdout.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith("spotdevbox schedule ", StringComparison.Ordinal) && l.Contains("--from", StringComparison.Ordinal));
        Assert.Equal("spotdevbox schedule alice --next 3d --from 2027-01-04T10:00:00+01:00", example);

        var result = await RunAsync(Config("\"Mon-Fri 08:30-19:00\""), example.Split(' ')[2..]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith("alice: up at Mon 2027-01-04 10:00 +01:00 — inside Mon-Fri 08:30-19:00 (Europe/Berlin)\n", result.Stdout, StringComparison.Ordinal);
    }

    /// <summary>Each transition as "at local up|down reason", to compare with hand-written lines.</summary>
    private static List<string> Transitions(System.Text.Json.JsonElement json) =>
        [.. json.GetProperty("transitions").EnumerateArray().Select(t =>
            $"{t.GetProperty("at").GetString()} {t.GetProperty("local").GetString()} {(t.GetProperty("up").GetBoolean() ? "up" : "down")} {t.GetProperty("reason").GetString()}")];

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
