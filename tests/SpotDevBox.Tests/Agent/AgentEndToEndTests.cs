using System.Text.Json;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Interruption;
using TestSupport;
using TestSupport.Imds;

namespace SpotDevBox.Tests.Agent;

/// <summary>
/// The real <c>spotdevbox agent run</c> process against the metadata-service simulator and the S3 peer:
/// the spot notice ends in a snapshot holding the last change before the deadline, a deadline too
/// short ends in a valid partial snapshot, faults never look like a notice, a stop requested through
/// the control document ends in a backup and then the power-off, and a restart never restores over
/// newer work.
/// </summary>
[Collection("s3")]
public sealed class AgentEndToEndTests(S3PeerFixture peer)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task AgentRun_FaultStormThenNotice_NoFalseNoticeAndLastChangeSavedBeforeDeadline()
    {
        await using var box = await AgentHarness.StartAsync(peer);
        await File.WriteAllTextAsync(Path.Combine(box.Home, "notes.txt"), "first\n");
        using var agent = await box.StartAgentAsync();

        // A storm of every fault the metadata service has been seen to produce: none is a notice.
        box.Imds.InjectFault(ImdsFault.Status(503, ImdsPaths.InstanceAction, times: 4));
        box.Imds.InjectFault(ImdsFault.Status(429, times: 6));
        box.Imds.InjectFault(ImdsFault.MalformedJson(ImdsPaths.InstanceAction, times: 3));
        box.Imds.InjectFault(ImdsFault.Status(401, ImdsPaths.InstanceAction, times: 3));
        box.Imds.InjectFault(ImdsFault.TokenTimeout(times: 2));
        box.Imds.InjectFault(ImdsFault.Slow(TimeSpan.FromSeconds(3), ImdsPaths.InstanceAction, times: 2));
        box.Imds.RevokeTokens();
        await Task.Delay(TimeSpan.FromSeconds(8));
        box.Imds.ClearFaults();
        Assert.DoesNotContain("Spot interruption notice", agent.Stderr, StringComparison.Ordinal);
        Assert.Empty(await box.ListAsync("interruptions/"));

        await File.WriteAllTextAsync(Path.Combine(box.Home, "notes.txt"), "first\nthe last change before the notice\n");
        var noticeTime = box.Imds.ArmNotice(InstanceActionKind.Terminate, TimeSpan.FromSeconds(60));
        // Logged once the snapshot is durable and the interruption record written.
        var handled = agent.StderrLineAsync("Interruption handled; waiting for EC2");
        Assert.True(await Task.WhenAny(handled, Task.Delay(Wait)) == handled, agent.Stderr);

        var records = await box.ListAsync("interruptions/");
        var record = await box.ReadJsonAsync(Assert.Single(records), BoxJson.Default.InterruptionRecord);
        Assert.Equal("terminate", record.Action);
        Assert.Equal(noticeTime, record.NoticeTime);
        Assert.Equal(noticeTime - TimeSpan.FromSeconds(1), record.Deadline);
        Assert.NotNull(record.SnapshotDurableAt);
        Assert.True(record.SnapshotDurableAt <= record.Deadline, $"durable at {record.SnapshotDurableAt:O}, deadline {record.Deadline:O}");
        Assert.False(record.SnapshotPartial);

        var target = box.TempPath("restored");
        var restore = await box.Cli.RunAsync("restore", "--repo", box.Repository, "--snapshot", record.SnapshotId!, "--target", target);
        Assert.True(restore.ExitCode == 0, restore.ToString());
        Assert.Equal("first\nthe last change before the notice\n", await File.ReadAllTextAsync(Path.Combine(target, "dev", "notes.txt")));

        // The notice was handled once, however many times it was read since.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(1, agent.Stderr.Split("Spot interruption notice").Length - 1);

        // The agent waits for EC2; stopped, it takes no second backup and records the session as interrupted.
        agent.Terminate();
        var exit = await agent.WaitAsync(Wait);
        Assert.True(exit.ExitCode == 0, exit.ToString());
        Assert.False(File.Exists(box.PowerOffMarker));
        Assert.DoesNotContain("Backup (Final)", exit.Stderr, StringComparison.Ordinal);
        var session = await box.ReadJsonAsync(Assert.Single(await box.ListAsync("sessions/")), BoxJson.Default.SessionRecord);
        Assert.Equal(SessionEnd.Interruption, session.EndedBy);
    }

    [Fact]
    public async Task AgentRun_DeadlineTooShortForAllChanges_CommitsValidPartialSnapshotNewestFirst()
    {
        await using var box = await AgentHarness.StartAsync(peer);
        var huge = Path.Combine(box.Home, "dataset.bin");
        await File.WriteAllTextAsync(huge, "small at first\n");
        await File.WriteAllTextAsync(Path.Combine(box.Home, "main.c"), "int main() { return 0; }\n");
        var baseline = await box.Cli.RunAsync("backup", "--repo", box.Repository, "--init", box.Home);
        Assert.True(baseline.ExitCode == 0, baseline.ToString());
        using var agent = await box.StartAgentAsync();

        // A 200 GB sparse file takes no disk but far longer to read than the notice leaves; the newer
        // edit to main.c goes first and is saved, the dataset stays at its older version.
        await using (var stream = new FileStream(huge, FileMode.Open, FileAccess.Write))
        {
            stream.SetLength(200L * 1024 * 1024 * 1024);
        }

        File.SetLastWriteTimeUtc(huge, DateTime.UnixEpoch.AddSeconds(1_790_000_000));
        await File.WriteAllTextAsync(Path.Combine(box.Home, "main.c"), "int main() { return 42; }\n");
        var noticeTime = box.Imds.ArmNotice(InstanceActionKind.Stop, TimeSpan.FromSeconds(15));
        var handled = agent.StderrLineAsync("Interruption handled; waiting for EC2");
        Assert.True(await Task.WhenAny(handled, Task.Delay(Wait)) == handled, agent.Stderr);

        var record = await box.ReadJsonAsync(Assert.Single(await box.ListAsync("interruptions/")), BoxJson.Default.InterruptionRecord);
        Assert.Equal("stop", record.Action);
        Assert.Equal(noticeTime, record.NoticeTime);
        Assert.Equal(noticeTime - TimeSpan.FromSeconds(1), record.Deadline);
        Assert.True(record.SnapshotPartial, agent.Stderr);
        Assert.Equal(1, record.IncompleteFiles);
        Assert.True(record.SnapshotDurableAt <= record.Deadline, $"durable at {record.SnapshotDurableAt:O}, deadline {record.Deadline:O}");

        var snapshots = await box.SnapshotsAsync();
        var last = snapshots.EnumerateArray().Last();
        Assert.Equal(record.SnapshotId, last.GetProperty("id").GetString());
        Assert.True(last.GetProperty("partial").GetBoolean());

        var target = box.TempPath("restored");
        var restore = await box.Cli.RunAsync("restore", "--repo", box.Repository, "--snapshot", record.SnapshotId!, "--target", target);
        Assert.True(restore.ExitCode == 0, restore.ToString());
        Assert.Equal("int main() { return 42; }\n", await File.ReadAllTextAsync(Path.Combine(target, "dev", "main.c")));
        Assert.Equal("small at first\n", await File.ReadAllTextAsync(Path.Combine(target, "dev", "dataset.bin")));
        Assert.Contains("'dev/dataset.bin' is an older version", restore.Stderr, StringComparison.Ordinal);
        Assert.Contains("is partial", restore.Stderr, StringComparison.Ordinal);
        var check = await box.Cli.RunAsync("check", "--repo", box.Repository);
        Assert.True(check.ExitCode == 0, check.ToString());
    }

    [Fact]
    public async Task AgentRun_DownFromAnywhere_WarnsBacksUpThenPowersOff()
    {
        await using var box = await AgentHarness.StartAsync(peer);
        box.Settings["Agent:ControlPollInterval"] = "00:00:05";
        box.Settings["Agent:Idle:SampleInterval"] = "00:00:05";
        await File.WriteAllTextAsync(Path.Combine(box.Home, "todo.txt"), "ship it\n");
        // Left over from the box's earlier instances: a manual stop of yesterday, and a schedule stop
        // meant for another instance. Neither may stop this one.
        await box.PutObjectAsync("control.json", """{"stop_at":"2020-01-01T18:00:00+00:00","stop_reason":"manual","updated_at":"2020-01-01T18:00:00+00:00"}""");
        using var agent = await box.StartAgentAsync();
        await Task.Delay(TimeSpan.FromSeconds(11));
        Assert.DoesNotContain("Stop requested", agent.Stderr, StringComparison.Ordinal);
        var future = TimeProvider.System.GetUtcNow().AddSeconds(2).ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        await box.PutObjectAsync("control.json", $$"""{"stop_at":"{{future}}","stop_reason":"schedule","stop_instance_id":"i-0someotherinstance","updated_at":"{{future}}"}""");
        await Task.Delay(TimeSpan.FromSeconds(11));
        Assert.DoesNotContain("Stop requested", agent.Stderr, StringComparison.Ordinal);

        // spotdevbox down, from "anywhere": it only writes the box's control document.
        var down = await box.Cli.RunAsync("down", "--box", box.Box, "--note", "e2e");
        Assert.True(down.ExitCode == 0, down.ToString());
        var deadline = TimeProvider.System.GetUtcNow() + Wait;
        while (!File.Exists(box.PowerOffMarker) && TimeProvider.System.GetUtcNow() < deadline && !agent.HasExited)
        {
            await Task.Delay(500);
        }

        Assert.True(File.Exists(box.PowerOffMarker), agent.Stderr);
        // The marker can land before the agent's stderr lines are read through the pipe (seen on a loaded machine).
        var loggedPowerOff = agent.StderrLineAsync("Powering off (Manual)");
        await Task.WhenAny(loggedPowerOff, Task.Delay(TimeSpan.FromSeconds(10)));
        var stderr = agent.Stderr;
        var warned = stderr.IndexOf("Telling users (StopWarning)", StringComparison.Ordinal);
        var committed = stderr.IndexOf("Backup (Final) committed", StringComparison.Ordinal);
        var poweredOff = stderr.IndexOf("Powering off (Manual)", StringComparison.Ordinal);
        Assert.True(warned >= 0 && committed > warned && poweredOff > committed, stderr);
        var session = await box.ReadJsonAsync(Assert.Single(await box.ListAsync("sessions/")), BoxJson.Default.SessionRecord);
        Assert.Equal(SessionEnd.Manual, session.EndedBy);

        // Power-off stops the service: no second final backup then.
        agent.Terminate();
        var exit = await agent.WaitAsync(Wait);
        Assert.True(exit.ExitCode == 0, exit.ToString());
        Assert.Equal(1, exit.Stderr.Split("Backup (Final) committed").Length - 1);
    }

    [Fact]
    public async Task AgentRun_FreshBoxThenRestart_RestoresOnceAndNeverOverNewerWork()
    {
        await using var box = await AgentHarness.StartAsync(peer);
        var source = box.TempPath("old-box");
        Directory.CreateDirectory(Path.Combine(source, "dev", "src"));
        await File.WriteAllTextAsync(Path.Combine(source, "dev", "src", "app.py"), "print('saved')\n");
        // A snapshot of the home taken on an earlier box (same path), then a fresh, empty home.
        CopyTree(Path.Combine(source, "dev"), box.Home);
        var earlier = await box.Cli.RunAsync("backup", "--repo", box.Repository, "--init", box.Home);
        Assert.True(earlier.ExitCode == 0, earlier.ToString());
        Directory.Delete(box.Home, recursive: true);
        Directory.CreateDirectory(box.Home);

        using (var first = await box.StartAgentAsync())
        {
            Assert.Equal("print('saved')\n", await File.ReadAllTextAsync(Path.Combine(box.Home, "src", "app.py")));
            Assert.Contains("Restored snapshot", first.Stderr, StringComparison.Ordinal);
            first.Terminate();
            Assert.Equal(0, (await first.WaitAsync(Wait)).ExitCode);
        }

        await File.WriteAllTextAsync(Path.Combine(box.Home, "src", "app.py"), "print('newer work')\n");
        using var second = await box.StartAgentAsync();
        Assert.Contains("was already restored", second.Stderr, StringComparison.Ordinal);
        Assert.Equal("print('newer work')\n", await File.ReadAllTextAsync(Path.Combine(box.Home, "src", "app.py")));
        // The status on the box follows within seconds (the first agent left "Stopped" there).
        AgentStatus? status = null;
        for (var i = 0; i < 40 && status?.State != AgentState.Running; i++)
        {
            await Task.Delay(250);
            status = JsonSerializer.Deserialize(await File.ReadAllBytesAsync(Path.Combine(box.RunDirectory, "status.json")), BoxJson.Default.AgentStatus);
        }

        Assert.Equal(AgentState.Running, status?.State);
    }

    [Fact]
    public async Task AgentRun_RepositoryRolledBackBelowTheFloor_RefusesStaysUpSaysSoInStatusThenAllowRollbackRestores()
    {
        await using var box = await AgentHarness.StartAsync(peer);
        var notes = Path.Combine(box.Home, "notes.txt");
        await File.WriteAllTextAsync(notes, "older\n");
        Assert.Equal(0, (await box.Cli.RunAsync("backup", "--repo", box.Repository, "--init", box.Home)).ExitCode);
        await File.WriteAllTextAsync(notes, "newer\n");
        Assert.Equal(0, (await box.Cli.RunAsync("backup", "--repo", box.Repository, box.Home)).ExitCode);
        var snapshots = (await box.SnapshotsAsync()).EnumerateArray().OrderBy(s => s.GetProperty("time").GetDateTimeOffset()).ToList();
        var newer = snapshots[1];
        // Whoever can write the prefix deletes the newest snapshot: the repository is rolled back to the older one.
        await box.DeleteObjectAsync("repo/snapshots/" + newer.GetProperty("id").GetString());
        File.Delete(notes);
        box.Settings["Agent:MinimumSnapshot:Id"] = newer.GetProperty("id").GetString()!;
        box.Settings["Agent:MinimumSnapshot:Time"] = newer.GetProperty("time").GetDateTimeOffset().ToString("O", System.Globalization.CultureInfo.InvariantCulture);

        using (var refused = await box.StartAgentAsync(waitFor: "boot restore refused"))
        {
            AgentStatus? status = null;
            for (var i = 0; i < 40 && status?.State != AgentState.RestoreFailed; i++)
            {
                await Task.Delay(250);
                status = await box.GetObjectAsync("status.json") is { } json ? JsonSerializer.Deserialize(json, BoxJson.Default.AgentStatus) : null;
            }

            Assert.Equal(AgentState.RestoreFailed, status?.State);
            Assert.StartsWith("the repository looks rolled back: its latest snapshot", status!.Notice, StringComparison.Ordinal);
            Assert.False(File.Exists(notes));
            // Not a restart loop: the agent stays up, publishing its status, without backups.
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.False(refused.HasExited, refused.Stderr);
            refused.Terminate();
            var exit = await refused.WaitAsync(Wait);
            Assert.True(exit.ExitCode == 0, exit.ToString());
            Assert.DoesNotContain("Backup (Final) committed", exit.Stderr, StringComparison.Ordinal);
        }

        Assert.Single((await box.SnapshotsAsync()).EnumerateArray());
        box.Settings["Agent:AllowRollback"] = "true";
        using var allowed = await box.StartAgentAsync(box.TempPath("state-2"));
        Assert.Contains("below its rollback floor because Agent:AllowRollback is set", allowed.Stderr, StringComparison.Ordinal);
        Assert.Equal("older\n", await File.ReadAllTextAsync(notes));
    }

    private static void CopyTree(string from, string to)
    {
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        }

        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
        }
    }
}
