using TestSupport;

namespace SpotDevBox.Tests.Cli;

/// <summary>
/// A configuration file the user got wrong (not JSON, not there, a value of the wrong type, a misspelled
/// section) stops every verb with exit code 2 and one "spotdevbox: ..." line on stderr that names the file
/// and the setting, says what is expected, and never shows the value (it may be a secret); --help works
/// whatever the configuration.
/// </summary>
public sealed class ConfigurationFileTests : IDisposable
{
    private const string Secret = "hunter2-not-for-logs";

    private readonly TempDir _temp = new("spotdevbox-config-");
    private readonly SpotDevBoxProcess _cli;

    public ConfigurationFileTests()
    {
        _cli = new SpotDevBoxProcess(_temp.Sub("state"));
    }

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Backup_ConfigFileNotJson_ExitsTwoNamingTheFileLineAndColumn()
    {
        // Line 3, after the value: a missing comma.
        var file = Config("{\n  \"Backup\": {\n    \"CacheDirectory\": \"" + Secret + "\"\n    \"ReadConcurrency\": 4\n  }\n}\n");

        var result = await _cli.RunAsync(["backup", "--repo", _temp.Sub("repo"), _temp.Path], Env(file));

        AssertOneLineError(result, file, "not valid JSON", "line 4", "column 5");
    }

    [Fact]
    public async Task Status_ConfigFileNotJson_ExitsTwo()
    {
        var file = Config("{ \"Controller\": { \"Boxes\": { \"alice\": { ,} } } }");

        var result = await _cli.RunAsync(["status"], Env(file));

        AssertOneLineError(result, file, "not valid JSON", "line 1");
    }

    [Fact]
    public async Task Backup_ConfigFileMissing_ExitsTwoNamingTheFileAndTheVariable()
    {
        var file = _temp.Sub("no-such-config.json");

        var result = await _cli.RunAsync(["backup", "--repo", _temp.Sub("repo"), _temp.Path], Env(file));

        AssertOneLineError(result, file, "SPOTDEVBOX_CONFIG", "does not exist");
    }

    [Fact]
    public async Task AgentRun_ConfigFileMissing_ExitsTwo()
    {
        var file = _temp.Sub("no-such-config.json");

        var result = await _cli.RunAsync(["agent", "run"], Env(file));

        AssertOneLineError(result, file, "SPOTDEVBOX_CONFIG", "does not exist");
    }

    [Fact]
    public async Task AgentRun_DurationNotADuration_ExitsTwoNamingFileSettingAndFormatWithoutTheValue()
    {
        var file = Config("{ \"Agent\": { \"StopTimeout\": \"" + Secret + "\" } }");

        var result = await _cli.RunAsync(["agent", "run"], Env(file));

        AssertOneLineError(result, file, "Agent:StopTimeout", "a duration", "00:05:00");
    }

    [Fact]
    public async Task AgentRun_NumberNotANumber_ExitsTwoNamingFileSettingAndWholeNumber()
    {
        var file = Config("{ \"Agent\": { \"KeepLast\": \"" + Secret + "\" } }");

        var result = await _cli.RunAsync(["agent", "run"], Env(file));

        AssertOneLineError(result, file, "Agent:KeepLast", "a whole number");
    }

    [Fact]
    public async Task Backup_NumberNotANumber_ExitsTwoNamingFileSettingAndWholeNumber()
    {
        var file = Config("{ \"Backup\": { \"ReadConcurrency\": \"" + Secret + "\" } }");

        var result = await _cli.RunAsync(["backup", "--repo", _temp.Sub("repo"), "--init", _temp.Path], Env(file));

        AssertOneLineError(result, file, "Backup:ReadConcurrency", "a whole number");
        Assert.False(Directory.Exists(_temp.Sub("repo")));
    }

    [Fact]
    public async Task ControllerRun_DurationNotADuration_ExitsTwoNamingFileAndSetting()
    {
        var file = Config("{ \"Controller\": { \"Reconcile\": { \"Interval\": \"" + Secret + "\" } } }");

        var result = await _cli.RunAsync(["controller", "run"], Env(file));

        AssertOneLineError(result, file, "Controller:Reconcile:Interval", "a duration");
    }

    [Fact]
    public async Task Backup_MisspelledSection_ExitsTwoNamingTheSectionAndTheNearestOne()
    {
        var file = Config("{ \"Bakup\": { \"ReadConcurrency\": 4 } }");

        var result = await _cli.RunAsync(["backup", "--repo", _temp.Sub("repo"), "--init", _temp.Path], Env(file));

        AssertOneLineError(result, file, "'Bakup' is not a section", "did you mean 'Backup'?");
        Assert.False(Directory.Exists(_temp.Sub("repo")));
    }

    [Fact]
    public async Task Status_SectionFarFromAnyKnownOne_ExitsTwoListingTheSections()
    {
        var file = Config("{ \"Frobnicate\": { \"X\": 1 } }");

        var result = await _cli.RunAsync(["status"], Env(file));

        AssertOneLineError(result, file, "'Frobnicate' is not a section", "Agent, Aws, Backup, Controller, Keys, Logging, Prices, Serilog, Storage");
        Assert.DoesNotContain("did you mean", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Snapshots_EnvironmentVariablesOfThePrefix_AreNotSections()
    {
        // SPOTDEVBOX_CONFIG and SPOTDEVBOX_REPOSITORY become the keys CONFIG and REPOSITORY: not the file's sections.
        var file = Config("{ \"backup\": { \"ReadConcurrency\": 4 } }");
        var repo = _temp.Sub("repo");
        var init = await _cli.RunAsync(["init", "--repo", repo], Env(file));
        Assert.True(init.ExitCode == 0, init.ToString());

        var result = await _cli.RunAsync(["snapshots"], new Dictionary<string, string?> { ["SPOTDEVBOX_CONFIG"] = file, ["SPOTDEVBOX_REPOSITORY"] = repo });

        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("backup", "--help")]
    [InlineData("restore", "-h")]
    [InlineData("agent", "run", "--help")]
    [InlineData("controller", "run", "--help")]
    [InlineData("status", "--help")]
    public async Task Help_ConfigFileMissing_PrintsHelpAndExitsZero(params string[] args)
    {
        var result = await _cli.RunAsync(args, Env(_temp.Sub("no-such-config.json")));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("USAGE", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_ConfigFileWithWrongTypesAndUnknownSection_PrintsHelpAndExitsZero()
    {
        var file = Config("{ \"Bakup\": {}, \"Agent\": { \"StopTimeout\": \"x\" }, \"Serilog\": { \"Nope\": 1 } }");

        var result = await _cli.RunAsync(["agent", "run", "--help"], Env(file));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("USAGE", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Snapshots_MisspelledSettingInASection_ExitsTwoNamingTheKeyAndTheFile()
    {
        var file = Config("""{ "Backup": { "PackSizeMB": 8 } }""");

        var result = await _cli.RunAsync(["snapshots", "--repo", _temp.Sub("repo")], Env(file));

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal(
            $"spotdevbox: invalid configuration: Backup:PackSizeMB is not a setting (in the configuration file {file}) (a typo, or a setting of another version?)",
            Assert.Single(result.StderrLines));
    }

    [Fact]
    public async Task Snapshots_MisspelledSettingInAnEnvironmentVariable_ExitsTwoNamingTheVariable()
    {
        var result = await _cli.RunAsync(["snapshots", "--repo", _temp.Sub("repo")], new Dictionary<string, string?> { ["SPOTDEVBOX_Backup__Foo"] = "1" });

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal(
            "spotdevbox: invalid configuration: Backup:Foo is not a setting (in the environment variable SPOTDEVBOX_Backup__Foo) (a typo, or a setting of another version?)",
            Assert.Single(result.StderrLines));
    }

    [Fact]
    public async Task Up_MisspelledSettingOfABox_ExitsTwoNamingTheKeyAndTheFile()
    {
        var file = Config("""{ "Controller": { "Boxes": { "alice": { "Owner": "alice", "Regoin": "eu-central-1" } } } }""");

        var result = await _cli.RunAsync(["up", "alice"], Env(file));

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains($"Controller:Boxes:alice:Regoin is not a setting (in the configuration file {file})", Assert.Single(result.StderrLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Up_MisspelledFleetSetting_ExitsTwoNamingTheKeyAndTheFile()
    {
        var file = Config("""{ "Controller": { "Fleet": { "Regoin": "eu-central-1" } } }""");

        var result = await _cli.RunAsync(["up", "alice"], Env(file));

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains($"Controller:Fleet:Regoin is not a setting (in the configuration file {file})", Assert.Single(result.StderrLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_UserConfigFileNotJson_ExitsTwoNamingIt()
    {
        var home = _temp.Sub("xdg-config");
        var file = Path.Combine(home, "spotdevbox", "spotdevbox.json");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllText(file, "{ \"Controller\": { \"AgentBuilds\": \"" + Secret + "\" \"Database\": \"\" } }");

        var result = await _cli.RunAsync(["status"], new Dictionary<string, string?> { ["XDG_CONFIG_HOME"] = home });

        AssertOneLineError(result, file, "not valid JSON", "line 1");
    }

    [Fact]
    public async Task Up_UserConfigFileAndSpotDevBoxConfig_BothReadEachKeyNamedWithItsFile()
    {
        var home = _temp.Sub("xdg-config");
        var user = Path.Combine(home, "spotdevbox", "spotdevbox.json");
        Directory.CreateDirectory(Path.GetDirectoryName(user)!);
        File.WriteAllText(user, """{ "Controller": { "Boxes": { "alice": { "Owner": "alice", "Regoin": "eu-central-1" } } } }""");
        var file = Config("""{ "Controller": { "Boxes": { "alice": { "Owner": "alice", "Reigon": "eu-central-1" } } } }""");

        var result = await _cli.RunAsync(["up", "alice"], new Dictionary<string, string?> { ["XDG_CONFIG_HOME"] = home, ["SPOTDEVBOX_CONFIG"] = file });

        Assert.True(result.ExitCode == 2, result.ToString());
        var line = Assert.Single(result.StderrLines);
        Assert.Contains($"Controller:Boxes:alice:Regoin is not a setting (in the configuration file {user})", line, StringComparison.Ordinal);
        Assert.Contains($"Controller:Boxes:alice:Reigon is not a setting (in the configuration file {file})", line, StringComparison.Ordinal);
    }

    private static Dictionary<string, string?> Env(string configFile) => new() { ["SPOTDEVBOX_CONFIG"] = configFile };

    private string Config(string json)
    {
        var file = _temp.Sub("spotdevbox.json");
        File.WriteAllText(file, json);
        return file;
    }

    private static void AssertOneLineError(CliResult result, string file, params string[] words)
    {
        Assert.True(result.ExitCode == 2, $"expected exit 2; {result}");
        var line = Assert.Single(result.StderrLines);
        Assert.StartsWith("spotdevbox: ", line, StringComparison.Ordinal);
        Assert.Contains(file, line, StringComparison.Ordinal);
        foreach (var word in words)
        {
            Assert.Contains(word, line, StringComparison.Ordinal);
        }

        Assert.DoesNotContain(Secret, line, StringComparison.Ordinal);
        Assert.Empty(result.Stdout);
    }
}
