using System.Globalization;
using SpotDevBox.Commands;
using SpotDevBox.Core.Idle;
using TestSupport;

namespace SpotDevBox.Tests.Agent;

/// <summary><c>spotdevbox keepalive</c> on the box: the lease file in Agent:RunDirectory, which the agent reads at every tick.</summary>
public sealed class KeepaliveCommandTests : IDisposable
{
    private readonly TempDir _temp = new("spotdevbox-keepalive-");
    private readonly SpotDevBoxProcess _cli;

    public KeepaliveCommandTests()
    {
        _cli = new SpotDevBoxProcess(_temp.Sub("cli"))
            .Set("SPOTDEVBOX_Agent__RunDirectory", RunDirectory)
            .Set("SUDO_USER", "alice");
        // What makes this machine a box for keepalive: its agent's status file in Agent:RunDirectory.
        Directory.CreateDirectory(RunDirectory);
        File.WriteAllText(Path.Combine(RunDirectory, "status.json"), "{}");
    }

    private string RunDirectory => _temp.Sub("run");

    private LeaseFile Lease => LeaseFile.InRunDirectory(RunDirectory);

    [Theory]
    [InlineData("45m", 45)]
    [InlineData("2h", 120)]
    [InlineData("1h30m", 90)]
    [InlineData("1d", 1440)]
    [InlineData("1m", 1)]
    [InlineData("7d", 10080)]
    [InlineData("6d23h59m", 10079)]
    [InlineData(" 2h ", 120)]
    [InlineData("90m", 90)]
    public void TryParseDuration_Valid_Parses(string text, int minutes)
    {
        Assert.True(KeepaliveCommand.TryParseDuration(text, out var duration));
        Assert.Equal(TimeSpan.FromMinutes(minutes), duration);
    }

    [Theory]
    [InlineData("0m")]
    [InlineData("8d")]
    [InlineData("7d1m")]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("2 hours")]
    [InlineData("-1h")]
    [InlineData("2H")]
    [InlineData("30s")]
    [InlineData("1.5h")]
    [InlineData("m")]
    [InlineData("99999999999d")]
    [InlineData("2000000000d")]
    [InlineData("2147483647h")]
    public void TryParseDuration_Invalid_False(string text)
    {
        Assert.False(KeepaliveCommand.TryParseDuration(text, out _));
    }

    [Fact]
    public async Task Keepalive_DurationAndNote_WritesTheLeaseFileAndPrintsTheUntilTime()
    {
        var before = TimeProvider.System.GetUtcNow();
        var result = await _cli.RunAsync("keepalive", "2h", "--note", "training run");
        var after = TimeProvider.System.GetUtcNow();

        Assert.True(result.ExitCode == 0, result.ToString());
        var lease = Lease.Read();
        Assert.NotNull(lease);
        Assert.InRange(lease.Until, before.AddHours(2).AddSeconds(-1), after.AddHours(2));
        Assert.Equal("alice", lease.SetBy);
        Assert.Equal("training run", lease.Note);
        Assert.StartsWith("keeping this box awake: lease until ", result.Stdout, StringComparison.Ordinal);
        Assert.Contains(lease.Until.UtcDateTime.ToString("HH:mm", CultureInfo.InvariantCulture) + " UTC (set by alice: 'training run')", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("(cancel: spotdevbox keepalive --cancel)", result.Stdout, StringComparison.Ordinal);
        Assert.Empty(result.Stderr);
    }

    [Theory]
    [InlineData("2h")]
    [InlineData("--cancel")]
    public async Task Keepalive_NotOnABox_ExitsTwoSayingToNameTheBoxAndWritesNothing(string what)
    {
        // A laptop: Agent:RunDirectory exists (or not) but no agent ever wrote its status there.
        var laptop = _temp.Sub("laptop-run");
        Directory.CreateDirectory(laptop);

        var result = await _cli.RunAsync(["keepalive", what], new Dictionary<string, string?> { ["SPOTDEVBOX_Agent__RunDirectory"] = laptop });

        Assert.True(result.ExitCode == 2, result.ToString());
        var line = Assert.Single(result.StderrLines);
        Assert.StartsWith("spotdevbox: this is not a box: no agent reports here", line, StringComparison.Ordinal);
        Assert.Contains($"spotdevbox keepalive BOX {what}", line, StringComparison.Ordinal);
        Assert.Empty(result.Stdout);
        Assert.Empty(Directory.GetFileSystemEntries(laptop));
    }

    [Fact]
    public async Task Keepalive_Again_ReplacesTheLease()
    {
        Assert.Equal(0, (await _cli.RunAsync("keepalive", "1d", "--note", "long")).ExitCode);
        var before = TimeProvider.System.GetUtcNow();

        var result = await _cli.RunAsync("keepalive", "45m");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lease = Lease.Read()!;
        Assert.InRange(lease.Until, before.AddMinutes(45).AddSeconds(-1), TimeProvider.System.GetUtcNow().AddMinutes(45));
        Assert.Null(lease.Note);
    }

    [Fact]
    public async Task KeepaliveCancel_LeaseExists_RemovesIt()
    {
        Lease.Write(new Lease(TimeProvider.System.GetUtcNow().AddHours(1), "alice", null));

        var result = await _cli.RunAsync("keepalive", "--cancel");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.False(File.Exists(Lease.Path));
        Assert.Equal("lease cancelled: the idle policy decides again\n", result.Stdout);
    }

    [Fact]
    public async Task KeepaliveCancel_NoLease_SaysSoAndSucceeds()
    {
        var result = await _cli.RunAsync("keepalive", "--cancel");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("there was no lease on this box\n", result.Stdout);
    }

    [Fact]
    public async Task Keepalive_NeitherDurationNorCancel_ExitsTwoSayingWhatToGive()
    {
        var result = await _cli.RunAsync("keepalive");

        AssertOneLineError(result, "give a duration (e.g. 'keepalive 2h', 'keepalive alice 2h') or --cancel");
    }

    [Fact]
    public async Task Keepalive_DurationAndCancel_ExitsTwo()
    {
        var result = await _cli.RunAsync("keepalive", "2h", "--cancel");

        AssertOneLineError(result, "give a duration (e.g. 'keepalive 2h', 'keepalive alice 2h') or --cancel");
    }

    [Theory]
    [InlineData("8d")]
    [InlineData("2hours")]
    [InlineData("2000000000d")]
    public async Task Keepalive_BadDuration_ExitsTwoNamingItAndTheLimits(string duration)
    {
        var result = await _cli.RunAsync("keepalive", duration);

        AssertOneLineError(result, $"'{duration}' is not a duration between 1 minute and 7 days (examples: 45m, 2h, 1h30m, 1d)");
    }

    [Fact]
    public async Task KeepaliveHelp_ExplainsDurationCancelNoteAndBox()
    {
        var result = await _cli.RunAsync("keepalive", "--help");

        Assert.True(result.ExitCode == 0, result.ToString());
        foreach (var text in new[] { "spotdevbox keepalive", "[BOX]", "[DURATION]", "90m, 2h, 1h30m, 1d", "--cancel", "--note", "Keep the box awake" })
        {
            Assert.Contains(text, result.Stdout, StringComparison.Ordinal);
        }

        Assert.Empty(result.Stderr);
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task Keepalive_UserOutsideTheLeaseGroup_RefusedInOneLineAndNothingWritten()
    {
        // A box as the agent's unit leaves it: run directory 0755 root, lease directory 2770 (group root here).
        // Under a directory that uid 65534 can reach: scripts/test runs the tests with a TMPDIR of mode 0700.
        var box = Directory.CreateDirectory(Path.Combine(ReachableByOthers(), "spotdevbox-lease-group-" + Guid.NewGuid().ToString("n")));
        try
        {
            var run = Path.Combine(box.FullName, "run");
            var lease = Path.Combine(run, "lease");
            Directory.CreateDirectory(lease);
            File.WriteAllText(Path.Combine(run, "status.json"), "{}");
            File.SetUnixFileMode(box.FullName, (UnixFileMode)0b111_101_101);
            File.SetUnixFileMode(run, (UnixFileMode)0b111_101_101);
            File.SetUnixFileMode(Path.Combine(run, "status.json"), (UnixFileMode)0b110_100_100);
            File.SetUnixFileMode(lease, (UnixFileMode)0b10_111_111_000);
            var start = new System.Diagnostics.ProcessStartInfo("setpriv") { RedirectStandardOutput = true, RedirectStandardError = true };
            // uid and gid 65534 (nobody): a local user outside the spotdevbox group.
            foreach (var a in new[] { "--reuid=65534", "--regid=65534", "--clear-groups", "dotnet", SpotDevBoxProcess.FindDll(), "keepalive", "2h" })
            {
                start.ArgumentList.Add(a);
            }

            start.Environment["HOME"] = box.FullName;
            start.Environment["DOTNET_CLI_HOME"] = box.FullName;
            start.Environment["SPOTDEVBOX_Agent__RunDirectory"] = run;
            using var process = System.Diagnostics.Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();

            Assert.Equal(1, process.ExitCode);
            Assert.Equal(
                $"spotdevbox: cannot set a lease in {lease}: only root and members of the spotdevbox group may (sudo usermod -aG spotdevbox $USER, then log in again); nothing was written",
                stderr.TrimEnd('\n'));
            Assert.Empty(await stdout);
            Assert.Empty(Directory.GetFileSystemEntries(lease));
        }
        finally
        {
            box.Delete(recursive: true);
        }
    }

    public void Dispose() => _temp.Dispose();

    /// <summary>The first of TMPDIR, /dev/shm and /tmp whose every ancestor others may search (o+x).</summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private static string ReachableByOthers()
    {
        foreach (var candidate in new[] { Path.GetTempPath(), "/dev/shm", "/tmp" })
        {
            var reachable = true;
            for (var d = new DirectoryInfo(candidate); d is not null && reachable; d = d.Parent)
            {
                reachable = d.Exists && (File.GetUnixFileMode(d.FullName) & UnixFileMode.OtherExecute) != 0;
            }

            if (reachable)
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("no temporary directory that other users can reach (TMPDIR, /dev/shm, /tmp)");
    }

    private void AssertOneLineError(CliResult result, string text)
    {
        Assert.True(result.ExitCode == 2, result.ToString());
        var line = Assert.Single(result.StderrLines);
        Assert.StartsWith("spotdevbox: ", line, StringComparison.Ordinal);
        Assert.Contains(text, line, StringComparison.Ordinal);
        Assert.Empty(result.Stdout);
        Assert.False(File.Exists(Lease.Path));
    }
}
