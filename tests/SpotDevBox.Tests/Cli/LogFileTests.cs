using System.Text.Json;
using TestSupport;

namespace SpotDevBox.Tests.Cli;

/// <summary>
/// The log file as a person finds it: the real CLI says where it is with --verbose and after a failure, the
/// failure is in it at Error with its stack trace (not on the terminal), and Logging:RetainedFiles decides how
/// many daily files stay. Logging:File points into a temporary folder (SpotDevBoxProcess sets it off otherwise).
/// </summary>
public sealed class LogFileTests : IDisposable
{
    private readonly TempDir _temp = new("spotdevbox-logfile-");

    public void Dispose() => _temp.Dispose();

    private string Logs => _temp.Sub("logs");

    private SpotDevBoxProcess Cli(string? logFile = null) =>
        new SpotDevBoxProcess(_temp.Sub("state")).Set("SPOTDEVBOX_Logging__File", logFile ?? Path.Combine(Logs, "spotdevbox-.clef"));

    /// <summary>A controller database that is not one: <c>savings</c> fails at run time (exit 1) before any request.</summary>
    private string BadDatabase()
    {
        var path = _temp.Sub("controller.db");
        File.WriteAllText(path, new string('x', 4096));
        return path;
    }

    [Fact]
    public async Task Failure_LogFileOn_StderrNamesTheFileThatHoldsTheErrorWithItsStackTrace()
    {
        var result = await Cli().Set("SPOTDEVBOX_Controller__Database", BadDatabase()).RunAsync("savings");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal(2, result.StderrLines.Count);
        Assert.StartsWith("spotdevbox: the controller database ", result.StderrLines[0], StringComparison.Ordinal);
        const string Details = "spotdevbox: details in ";
        Assert.StartsWith(Details, result.StderrLines[1], StringComparison.Ordinal);
        var file = result.StderrLines[1][Details.Length..];
        Assert.Equal(Logs, Path.GetDirectoryName(file));
        Assert.Matches(@"^spotdevbox-\d{8}\.clef$", Path.GetFileName(file));
        Assert.Equal([file], Directory.GetFiles(Logs));
        // The stack trace is in the file, not on the terminal.
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        var error = Events(file).Single(e => e.GetProperty("@l").GetString() == "Error");
        Assert.Equal(("CommandFailed", 900), (error.GetProperty("EventId").GetProperty("Name").GetString(), error.GetProperty("EventId").GetProperty("Id").GetInt32()));
        Assert.Equal("savings", error.GetProperty("Command").GetString());
        Assert.Equal(1, error.GetProperty("ExitCode").GetInt32());
        Assert.StartsWith("System.IO.InvalidDataException: the controller database ", error.GetProperty("@x").GetString(), StringComparison.Ordinal);
        Assert.Contains("   at SpotDevBox.", error.GetProperty("@x").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Failure_InvalidConfiguration_LoggedWithoutTheValue()
    {
        const string Secret = "hunter2-not-a-number";

        var result = await Cli().Set("SPOTDEVBOX_Backup__PackSizeMiB", Secret).RunAsync("snapshots", "--repo", _temp.Sub("repo"));

        Assert.True(result.ExitCode == 2, result.ToString());
        var file = Assert.Single(Directory.GetFiles(Logs));
        Assert.Equal("spotdevbox: details in " + file, result.StderrLines[^1]);
        var error = Events(file).Single(e => e.GetProperty("@l").GetString() == "Error");
        Assert.Contains("Backup:PackSizeMiB", error.GetProperty("Error").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, File.ReadAllText(file), StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Failure_VerbEndsWithItsOwnCode_StderrNamesTheFileThatHoldsItsLastErrorLine()
    {
        // status off a box with no box configured returns its exit code itself (no exception): the failure is
        // logged all the same, with the line the verb printed, and the terminal learns where the log is.
        var run = _temp.Sub("run");
        Directory.CreateDirectory(run);

        var result = await Cli().Set("SPOTDEVBOX_Agent__RunDirectory", run).RunAsync("status");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal(2, result.StderrLines.Count);
        Assert.StartsWith("spotdevbox: this is not a box", result.StderrLines[0], StringComparison.Ordinal);
        var file = Assert.Single(Directory.GetFiles(Logs));
        Assert.Equal("spotdevbox: details in " + file, result.StderrLines[1]);
        var error = Events(file).Single(e => e.GetProperty("@l").GetString() == "Error");
        Assert.Equal("status", error.GetProperty("Command").GetString());
        Assert.Equal(2, error.GetProperty("ExitCode").GetInt32());
        Assert.Equal(result.StderrLines[0]["spotdevbox: ".Length..], error.GetProperty("Error").GetString());
    }

    [Fact]
    public async Task DefaultLogFile_HomeThatDoesNotExistYet_UnderThatHomeNeverTheWorkingDirectory()
    {
        // A home that does not exist yet (a fresh user, HOME=/nonexistent under a service manager): .NET answers ""
        // for it, and the default log path became relative to the working directory.
        var home = _temp.Sub("home-not-yet");
        var work = _temp.Sub("work");
        Directory.CreateDirectory(work);

        var result = await new SpotDevBoxProcess(_temp.Sub("state")).In(work)
            .Set("SPOTDEVBOX_Logging__File", "").Set("HOME", home).Set("XDG_STATE_HOME", "")
            .RunAsync("restore", "--repo", _temp.Sub("no-repo"), "--target", _temp.Sub("target"));

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.StartsWith($"spotdevbox: details in {Path.Combine(home, ".local", "state", "spotdevbox", "logs")}{Path.DirectorySeparatorChar}", result.StderrLines[^1], StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(work));
    }

    [Fact]
    public async Task Failure_LogFileOff_OneLineAndNoFile()
    {
        var result = await Cli("off").Set("SPOTDEVBOX_Controller__Database", BadDatabase()).RunAsync("savings");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.StartsWith("spotdevbox: the controller database ", Assert.Single(result.StderrLines), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Logs));
    }

    [Fact]
    public async Task Verbose_LogFileOn_OneLineSayingWhereTheDailyFilesGoAndHowManyStay()
    {
        var repo = _temp.Sub("repo");
        var init = await Cli("off").RunAsync("init", "--repo", repo);
        Assert.True(init.ExitCode == 0, init.ToString());

        var result = await Cli().Set("SPOTDEVBOX_Logging__RetainedFiles", "30").RunAsync("snapshots", "--repo", repo, "--verbose");

        Assert.True(result.ExitCode == 0, result.ToString());
        var line = Assert.Single(result.StderrLines, l => l.StartsWith("log: ", StringComparison.Ordinal));
        Assert.Equal($"log: {Path.Combine(Logs, "spotdevbox-YYYYMMDD.clef")} (a file a day, by local date; the newest 30 kept)", line);
        Assert.Equal(line, result.StderrLines[0]);
    }

    [Theory]
    [InlineData("snapshots")]
    [InlineData("savings", "reconcile")]
    public async Task Help_Verbose_SaysItNamesTheLogFile(params string[] verb)
    {
        var result = await Cli().RunAsync([.. verb, "--help"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        // The help is wrapped into columns: compare with the runs of spaces and line breaks folded.
        Assert.Contains("after a line saying where the log file is", System.Text.RegularExpressions.Regex.Replace(result.Stdout, @"\s+", " "), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Quiet_LogFileOn_SaysNothingAboutTheLog()
    {
        var repo = _temp.Sub("repo");
        await Cli("off").RunAsync("init", "--repo", repo);

        var result = await Cli().RunAsync("snapshots", "--repo", repo);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.DoesNotContain("log: ", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2", new[] { "spotdevbox-20200105.clef" })]
    [InlineData("unlimited", new[] { "spotdevbox-20200101.clef", "spotdevbox-20200102.clef", "spotdevbox-20200103.clef", "spotdevbox-20200104.clef", "spotdevbox-20200105.clef" })]
    public async Task RetainedFiles_OlderDailyFiles_KeepsTheNewestOnesTheSettingAllows(string retained, string[] olderKept)
    {
        Directory.CreateDirectory(Logs);
        for (var day = 1; day <= 5; day++)
        {
            File.WriteAllText(Path.Combine(Logs, $"spotdevbox-2020010{day}.clef"), "{}\n");
        }

        // Any event opens today's file, and opening a file applies the retention.
        var result = await Cli().Set("SPOTDEVBOX_Logging__RetainedFiles", retained).Set("SPOTDEVBOX_Controller__Database", BadDatabase()).RunAsync("savings");

        Assert.True(result.ExitCode == 1, result.ToString());
        var today = Path.GetFileName(result.StderrLines[^1]["spotdevbox: details in ".Length..]);
        Assert.Equal([.. olderKept, today], Directory.GetFiles(Logs).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-3")]
    [InlineData("two weeks")]
    [InlineData("1.5")]
    public async Task RetainedFiles_NotACountOfFiles_Exit2NamingTheSettingNotTheValue(string value)
    {
        var result = await Cli().Set("SPOTDEVBOX_Logging__RetainedFiles", value).RunAsync("snapshots", "--repo", _temp.Sub("repo"));

        Assert.True(result.ExitCode == 2, result.ToString());
        var line = Assert.Single(result.StderrLines);
        Assert.StartsWith("spotdevbox: invalid configuration: Logging:RetainedFiles must be a whole number", line, StringComparison.Ordinal);
        Assert.DoesNotContain("'" + value + "'", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logging_UnknownSetting_Exit2NamingItAndTheSettings()
    {
        var result = await Cli().Set("SPOTDEVBOX_Logging__RetainedDays", "14").RunAsync("snapshots", "--repo", _temp.Sub("repo"));

        Assert.True(result.ExitCode == 2, result.ToString());
        var line = Assert.Single(result.StderrLines);
        Assert.Contains("Logging:RetainedDays is not a setting", line, StringComparison.Ordinal);
        Assert.Contains("RetainedFiles", line, StringComparison.Ordinal);
    }

    private static List<JsonElement> Events(string file) =>
        [.. File.ReadAllLines(file).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement.Clone())];
}
