using TestSupport;

namespace SpotDevBox.Tests.Cli;

/// <summary>box add and box remove refusing before they ask AWS anything (exit 2, nothing written); against moto in Deploy/BoxAddRemoveTests.</summary>
public sealed class BoxCommandTests : IDisposable
{
    private readonly TempDir _temp = new("spotdevbox-box-");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Add_NoFleetSetUp_ExitsTwoNamingTheFileAndSetupNothingWritten()
    {
        var config = _temp.Sub("spotdevbox.json");
        const string json = """{ "Controller": { "AgentBuilds": "s3://my-bucket/agent" } }""";
        File.WriteAllText(config, json);

        var result = await Cli().RunAsync(["box", "add", "alice", "--owner", "alice"], new Dictionary<string, string?> { ["SPOTDEVBOX_CONFIG"] = config });

        Assert.Equal(2, result.ExitCode);
        Assert.Equal(
            $"spotdevbox: no fleet is set up (no Controller:Fleet in the configuration, which was read with {config}): run 'spotdevbox setup' first",
            Assert.Single(result.StderrLines));
        Assert.Equal(json, File.ReadAllText(config));
    }

    [Fact]
    public async Task Add_ConfigOptionNamesTheFileToWrite_ThatFileIsReadAndNamed()
    {
        var config = _temp.Sub("mine.json");

        var result = await Cli().RunAsync("box", "add", "alice", "--owner", "alice", "--config", config);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"which was read with {config}): run 'spotdevbox setup' first", Assert.Single(result.StderrLines), StringComparison.Ordinal);
        Assert.False(File.Exists(config));
    }

    [Fact]
    public async Task Add_ConfigOptionNamesAFileThatIsNotJson_ExitsTwoNamingItNothingWritten()
    {
        var config = _temp.Sub("mine.json");
        File.WriteAllText(config, "{ \"Controller\": { \"AgentBuilds\": \"hunter2\" \"Database\": \"\" } }");

        var result = await Cli().RunAsync("box", "add", "alice", "--owner", "alice", "--config", config);

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.StderrLines);
        Assert.Contains($"the configuration file {config} is not valid JSON at line 1", line, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Add_NoConfigAtAll_NamesTheUsersOwnFile()
    {
        var result = await Cli().RunAsync("box", "add", "alice", "--owner", "alice");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"which was read with {Path.Combine(_temp.Sub("state"), "xdg-config", "spotdevbox", "spotdevbox.json")})", Assert.Single(result.StderrLines), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "box", "add", "Alice", "--owner", "alice" }, "NAME must be a box name, 1-32 lower-case letters, digits and '-', starting with a letter; nothing was changed")]
    [InlineData(new[] { "box", "add", "alice" }, "--owner is required: whose box it is")]
    [InlineData(new[] { "box", "add", "alice", "--owner", "_operator" }, "--owner must be 1-64 lower-case letters, digits, '.', '_' and '-', starting with a letter; nothing was changed")]
    [InlineData(new[] { "box", "add", "alice", "--owner", "alice", "--tz", "Europe/Berlin" }, "--tz goes with --schedule")]
    [InlineData(new[] { "box", "add", "alice", "--owner", "alice", "--ssh-via", "telnet" }, "--ssh-via must be one of instance-connect, ssm, direct")]
    [InlineData(new[] { "box", "add", "alice", "--owner", "alice", "--budget", "lots" }, "--budget must be an amount in USD above 0")]
    [InlineData(new[] { "box", "remove", "alice_dev" }, "NAME must be a box name")]
    public async Task Verb_BadArgument_ExitsTwoSayingWhich(string[] args, string expected)
    {
        var result = await Cli().RunAsync(args);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(expected, Assert.Single(result.StderrLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Remove_NothingConfiguredNoFleet_SaysSoExitsZero()
    {
        var config = _temp.Sub("spotdevbox.json");
        File.WriteAllText(config, "{}");

        var result = await Cli().RunAsync(["box", "remove", "alice"], new Dictionary<string, string?> { ["SPOTDEVBOX_CONFIG"] = config });

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("nothing to remove: the box alice is not configured (and no Controller:Fleet names a region to look for its stack in)", result.Stdout.Trim());
        Assert.Equal("{}", File.ReadAllText(config));
    }

    private SpotDevBoxProcess Cli() => new(_temp.Sub("state"));
}
