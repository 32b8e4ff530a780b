using SpotDevBox.Hosting;
using SpotDevBox.Commands;
using TestSupport;

namespace SpotDevBox.Tests.Cli;

/// <summary>
/// On macOS and Windows the box's verbs refuse in one line before anything is read; the laptop's run. The other
/// system is played on Linux with SPOTDEVBOX_TEST_OS. Every registered verb is classified: a new one fails here
/// until it is put on one side.
/// </summary>
public sealed class PlatformVerbsTests : IDisposable
{
    private readonly TempDir _temp = new("spotdevbox-platform-");

    /// <summary>Written by hand: what reads or writes Linux files (owners, modes, links) or runs as a Linux service.</summary>
    private static readonly string[] LinuxOnly =
        ["init", "backup", "restore", "snapshots", "forget", "prune", "check", "unlock", "recover", "migrate", "agent run", "controller run"];

    private static readonly string[] LaptopVerbs =
        ["up", "down", "status", "ssh", "ssh-config", "keepalive", "schedule", "savings", "savings reconcile", "estimate", "prices refresh", "agent publish", "storage migrate", "box add", "box remove", "setup", "key list", "key add", "key remove", "key passwd", "controller status"];

    public static TheoryData<string> Registered() => [.. SpotDevBoxApp.RegisteredVerbs().Settings.Keys.Order(StringComparer.Ordinal)];

    /// <summary>A configuration file that does not exist: a verb that gets as far as reading it stops with exit 2, naming it.</summary>
    private Dictionary<string, string?> OnWindows() => new(StringComparer.Ordinal)
    {
        [PlatformVerbs.TestVariable] = "windows",
        ["SPOTDEVBOX_CONFIG"] = _temp.Sub("missing.json"),
    };

    [Fact]
    public void RegisteredVerbs_EachIsOnTheLaptopListOrLinuxOnly()
    {
        var registered = SpotDevBoxApp.RegisteredVerbs().Settings.Keys.Order(StringComparer.Ordinal).ToList();

        Assert.Equal(LaptopVerbs.Order(StringComparer.Ordinal), PlatformVerbs.Laptop.Order(StringComparer.Ordinal));
        Assert.Equal(registered, LinuxOnly.Concat(LaptopVerbs).Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Registered))]
    public async Task Verb_OnWindows_LinuxOnlyRefusesInOneLineBeforeReadingAnythingAndLaptopVerbsGoOn(string verb)
    {
        var result = await new SpotDevBoxProcess(_temp.Sub("state")).In(_temp.Path).RunAsync(verb.Split(' '), OnWindows());

        Assert.Equal(2, result.ExitCode);
        if (LinuxOnly.Contains(verb))
        {
            var where = verb == "controller run" ? "the controller's server" : "the box: spotdevbox ssh BOX";
            Assert.Equal(
                [$"spotdevbox: '{verb}' runs on Linux ({where}), not on Windows; on Windows use agent publish, box add, box remove, controller status, down, estimate, keepalive, key add, key list, key passwd, key remove, " +
                    "prices refresh, savings, savings reconcile, schedule, setup, ssh, ssh-config, status, storage migrate, up"],
                result.StderrLines);
        }
        else
        {
            // Past the check: it read the configuration, and stopped there (setup and box add create the file
            // SPOTDEVBOX_CONFIG names, so they stop further on, at their own checks).
            if (!ConfigurationFiles.WritesConfiguration(verb.Split(' ')))
            {
                Assert.Contains("SPOTDEVBOX_CONFIG names the configuration file", result.Stderr, StringComparison.Ordinal);
            }

            Assert.DoesNotContain("runs on Linux", result.Stderr, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Backup_OnMacOS_RefusesAndOnLinuxRuns()
    {
        var cli = new SpotDevBoxProcess(_temp.Sub("state")).In(_temp.Path);
        Directory.CreateDirectory(_temp.Sub("src"));
        File.WriteAllText(Path.Combine(_temp.Sub("src"), "a.txt"), "a");

        var mac = await cli.RunAsync(["backup", "--repo", "repo", "--init", "src"], new Dictionary<string, string?> { [PlatformVerbs.TestVariable] = "macos" });
        var linux = await cli.RunAsync(["backup", "--repo", "repo", "--init", "src"], new Dictionary<string, string?> { [PlatformVerbs.TestVariable] = "linux" });

        Assert.Equal(2, mac.ExitCode);
        Assert.StartsWith("spotdevbox: 'backup' runs on Linux (the box: spotdevbox ssh BOX), not on macOS; on macOS use agent publish, box add, box remove, controller status, down,", mac.Stderr, StringComparison.Ordinal);
        Assert.True(linux.ExitCode == 0, linux.ToString());
    }

    [Fact]
    public async Task Help_OnWindows_ShowsForALinuxOnlyVerb()
    {
        var result = await new SpotDevBoxProcess(_temp.Sub("state")).In(_temp.Path).RunAsync(["restore", "--help"], OnWindows());

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("--target", result.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("windows", "Windows")]
    [InlineData("MacOS", "macOS")]
    [InlineData("linux", null)]
    public void OtherSystem_TestVariable_NamesTheSystemPlayed(string value, string? expected) =>
        Assert.Equal(expected, PlatformVerbs.OtherSystem(name => name == PlatformVerbs.TestVariable ? value : null));

    public void Dispose() => _temp.Dispose();
}
