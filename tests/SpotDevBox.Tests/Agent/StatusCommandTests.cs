using System.Globalization;
using System.Text.Json;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Idle;
using TestSupport;

namespace SpotDevBox.Tests.Agent;

/// <summary><c>spotdevbox status</c> on the box: the status.json the agent keeps in Agent:RunDirectory, and the local lease.</summary>
public sealed class StatusCommandTests : IDisposable
{
    private readonly TempDir _temp = new("spotdevbox-status-");
    private readonly SpotDevBoxProcess _cli;

    public StatusCommandTests()
    {
        _cli = new SpotDevBoxProcess(_temp.Sub("cli")).Set("SPOTDEVBOX_Agent__RunDirectory", RunDirectory);
    }

    private string RunDirectory => _temp.Sub("run");

    internal static AgentStatus IdleStatus(DateTimeOffset now) => new()
    {
        Box = "alice",
        State = AgentState.Running,
        UpdatedAt = now.AddSeconds(-30),
        AgentVersion = "1.2.3",
        InstanceId = "i-0123456789abcdef0",
        InstanceType = "m7i.large",
        AvailabilityZone = "eu-west-1a",
        Lifecycle = "spot",
        SessionStart = now.AddMinutes(-40),
        LastSnapshotId = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        LastSnapshotTime = now.AddMinutes(-5),
        Activity = "idle for 23 min, stopping in 7 min",
        AwakeReasons = [],
        IdleSince = now.AddMinutes(-23),
    };

    [Fact]
    public async Task Status_IdleBoxWithLocalLease_PrintsActivitySnapshotAgeAndLease()
    {
        var now = TimeProvider.System.GetUtcNow();
        WriteStatus(IdleStatus(now));
        var until = now.AddHours(1);
        LeaseFile.InRunDirectory(RunDirectory).Write(new Lease(until, "alice", "training run"));

        var result = await _cli.RunAsync("status");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("alice: running — idle for 23 min, stopping in 7 min", lines[0]);
        Assert.Matches(@"^  instance   i-0123456789abcdef0 \(m7i\.large, eu-west-1a, spot\), up 40m \d\ds$", lines[1]);
        // Five minutes ago, give or take the time the CLI took to start.
        Assert.Matches(@"^  snapshot   01234567, 5m 0\ds ago$", lines[2]);
        var when = until.UtcDateTime.Date == now.UtcDateTime.Date
            ? until.UtcDateTime.ToString("HH:mm", CultureInfo.InvariantCulture)
            : until.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
        Assert.Equal($"  keepalive  lease until {when} UTC (set by alice: 'training run') (cancel: spotdevbox keepalive --cancel)", lines[3]);
        Assert.Matches(@"^  updated    (\d\d\.\ds|1m \d\ds) ago \(agent 1\.2\.3\)$", lines[4]);
        Assert.Equal(5, lines.Length);
        Assert.Empty(result.Stderr);
    }

    [Fact]
    public async Task Status_NoSnapshotErrorAndNotice_PrintsEach()
    {
        var now = TimeProvider.System.GetUtcNow();
        WriteStatus(IdleStatus(now) with
        {
            State = AgentState.Interrupted,
            InstanceId = null,
            LastSnapshotId = null,
            LastSnapshotTime = null,
            LastBackupError = "the bucket 'b' does not exist",
            Activity = null,
            Notice = "terminate at 2025-06-02 09:10:00Z",
        });

        var result = await _cli.RunAsync("status");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("alice: interrupted", lines[0]);
        Assert.Equal("  snapshot   none yet", lines[1]);
        Assert.Equal("  last error the bucket 'b' does not exist", lines[2]);
        Assert.Equal("  notice     terminate at 2025-06-02 09:10:00Z", lines[3]);
        Assert.StartsWith("  updated    ", lines[4], StringComparison.Ordinal);
        Assert.Equal(5, lines.Length);
    }

    [Fact]
    public async Task Status_RemoteLeaseInStatusAndNoLocalLease_PrintsTheStatusLease()
    {
        var now = TimeProvider.System.GetUtcNow();
        var until = now.AddHours(2);
        WriteStatus(IdleStatus(now) with { LeaseUntil = until, LeaseSetBy = "bob" });

        var result = await _cli.RunAsync("status");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains(" UTC (set by bob) (cancel: spotdevbox keepalive --cancel)", result.Stdout, StringComparison.Ordinal);
        // A lease that ends tomorrow (near midnight UTC) is shown with its date.
        var when = until.UtcDateTime.Date == now.UtcDateTime.Date
            ? until.UtcDateTime.ToString("HH:mm", CultureInfo.InvariantCulture)
            : until.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
        Assert.Contains("  keepalive  lease until " + when, result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_ExpiredLocalLease_NoLeaseLine()
    {
        var now = TimeProvider.System.GetUtcNow();
        WriteStatus(IdleStatus(now));
        LeaseFile.InRunDirectory(RunDirectory).Write(new Lease(now.AddMinutes(-1), "alice", null));

        var result = await _cli.RunAsync("status");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.DoesNotContain("keepalive", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_MalformedLocalLease_WarnsAndStillPrintsTheStatus()
    {
        var now = TimeProvider.System.GetUtcNow();
        WriteStatus(IdleStatus(now));
        Directory.CreateDirectory(Path.Combine(RunDirectory, "lease"));
        await File.WriteAllTextAsync(Path.Combine(RunDirectory, "lease", "lease.json"), "{ not json");

        var result = await _cli.RunAsync("status");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith("alice: running", result.Stdout, StringComparison.Ordinal);
        var warning = Assert.Single(result.StderrLines);
        Assert.StartsWith("warning: lease file " + Path.Combine(RunDirectory, "lease", "lease.json") + " is not valid JSON", warning, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StatusJson_RoundTripsTheDocument()
    {
        var status = IdleStatus(TimeProvider.System.GetUtcNow()) with { AwakeReasons = ["ssh session of alice (pts/0)", "cpu busy"] };
        WriteStatus(status);

        var result = await _cli.RunAsync("status", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var parsed = JsonSerializer.Deserialize(result.Stdout, BoxJson.Default.AgentStatus)!;
        Assert.Equal(["ssh session of alice (pts/0)", "cpu busy"], parsed.AwakeReasons);
        Assert.Equal(status, parsed with { AwakeReasons = status.AwakeReasons });
        Assert.Equal("idle for 23 min, stopping in 7 min", result.Json().GetProperty("activity").GetString());
        Assert.Empty(result.Stderr);
    }

    [Fact]
    public async Task Status_NoStatusFileAndNoBoxConfigured_ExitsTwoNamingThePathAndWhatToGive()
    {
        var result = await _cli.RunAsync("status");

        Assert.True(result.ExitCode == 2, result.ToString());
        var line = Assert.Single(result.StderrLines);
        Assert.Equal(
            $"spotdevbox: this is not a box (no agent status at {Path.Combine(RunDirectory, "status.json")}) and no box is configured " +
            "(Controller:Boxes): name one, spotdevbox status s3://bucket/ROOT/OWNER/BOX, or set SPOTDEVBOX_CONFIG; on a box: systemctl status spotdevbox-agent",
            line);
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public async Task Status_StatusFileNotJson_ExitsOneNamingThePath()
    {
        Directory.CreateDirectory(RunDirectory);
        await File.WriteAllTextAsync(Path.Combine(RunDirectory, "status.json"), "{ truncated");

        var result = await _cli.RunAsync("status");

        Assert.True(result.ExitCode == 1, result.ToString());
        var line = Assert.Single(result.StderrLines);
        Assert.StartsWith($"spotdevbox: {Path.Combine(RunDirectory, "status.json")} is not valid", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_ControlSequencesInTheBoxsText_PrintedWithoutEscOrBel()
    {
        var now = TimeProvider.System.GetUtcNow();
        WriteStatus(IdleStatus(now) with
        {
            Box = "alice\u001b]0;pwned\u0007",
            Activity = "idle\u001b[2J for 23 min\u009b1m",
            LastBackupError = "denied\u001b[2J\r\nspotdevbox: all good\u202e",
            Notice = "terminate\u001bP1;2|payload\u001b\\ soon",
        });
        LeaseFile.InRunDirectory(RunDirectory).Write(new Lease(now.AddHours(1), "mallory\u001b]0;pwned\u0007", "note\u001b[2J"));

        var result = await _cli.RunAsync("status");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.DoesNotContain('\u001b', result.Stdout);
        Assert.DoesNotContain('\u0007', result.Stdout);
        Assert.DoesNotContain('\u009b', result.Stdout);
        Assert.DoesNotContain('\u202e', result.Stdout);
        Assert.DoesNotContain('\r', result.Stdout);
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("alice: running — idle for 23 min1m", lines[0]);
        Assert.Equal("  last error denied  spotdevbox: all good", lines[3]);
        Assert.Contains(lines, l => l.StartsWith("  keepalive  lease until ", StringComparison.Ordinal) && l.Contains("(set by mallory: 'note')", StringComparison.Ordinal));
        Assert.Contains("  notice     terminate soon", lines);
    }

    [Fact]
    public async Task StatusHelp_ExplainsBoxAndJson()
    {
        var result = await _cli.RunAsync("status", "--help");

        Assert.True(result.ExitCode == 0, result.ToString());
        foreach (var text in new[] { "spotdevbox status", "[BOX]", "--json", "On a box: what its agent is doing", "\"awake because ...\"", "Elsewhere: every" })
        {
            Assert.Contains(text, result.Stdout, StringComparison.Ordinal);
        }
    }

    public void Dispose() => _temp.Dispose();

    private void WriteStatus(AgentStatus status)
    {
        Directory.CreateDirectory(RunDirectory);
        File.WriteAllBytes(Path.Combine(RunDirectory, "status.json"), JsonSerializer.SerializeToUtf8Bytes(status, BoxJson.Default.AgentStatus));
    }
}
