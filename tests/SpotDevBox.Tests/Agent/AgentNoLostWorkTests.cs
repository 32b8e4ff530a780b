using System.Diagnostics;
using System.Text.Json;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Interruption;
using TestSupport;
using TestSupport.Imds;

namespace SpotDevBox.Tests.Agent;

/// <summary>
/// Issue 10, "no lost work", end to end: the real <c>spotdevbox agent run</c> process against the
/// metadata-service simulator and the S3 peer. A notice whose time moves on every read (the AWS mock's
/// default) gets one response, and an earlier time tightens it; a notice seen during the start-up restore
/// is served once the restore is done; the final backup at <c>systemctl stop</c> commits a partial snapshot
/// within Agent:StopTimeout, and an agent whose final backup committed nothing exits non-zero.
/// </summary>
[Collection("s3")]
public sealed class AgentNoLostWorkTests(S3PeerFixture peer)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task AgentRun_NoticeAndRebalanceTimesMoveOnEveryRead_OneResponseEach()
    {
        await using var box = await AgentHarness.StartAsync(peer);
        using var hook = new WebhookRecorder();
        box.Settings["Agent:WebhookUrl"] = hook.Url;
        await File.WriteAllTextAsync(Path.Combine(box.Home, "notes.txt"), "work in progress\n");
        using var agent = await box.StartAgentAsync();

        // As amazon-ec2-metadata-mock serves them: every read says "2 minutes from now" and "just now".
        box.Imds.ArmMovingNotice(InstanceActionKind.Terminate, TimeSpan.FromMinutes(2));
        box.Imds.ArmMovingRebalance();
        var handled = agent.StderrLineAsync("Interruption handled; waiting for EC2");
        Assert.True(await Task.WhenAny(handled, Task.Delay(Wait)) == handled, agent.Stderr);
        var polledFrom = box.Imds.Requests.Count(r => r.Path == ImdsPaths.InstanceAction && r.Status == 200);
        // polling goes on after the notice is handled: fifteen more reads (one a second; a loaded machine may take longer)
        static int NoticeReads(IReadOnlyList<ImdsRequest> requests) => requests.Count(r => r.Path == ImdsPaths.InstanceAction && r.Status == 200);
        var pollingWentOn = await box.Imds.WaitForRequestsAsync(r => NoticeReads(r) - polledFrom >= 15, Wait);
        Assert.True(pollingWentOn, $"only {NoticeReads(box.Imds.Requests) - polledFrom} notice reads in {Wait.TotalSeconds} s after the notice was handled");

        var records = await box.ListAsync("interruptions/");
        var interruptionSnapshots = (await box.SnapshotsAsync()).EnumerateArray()
            .Count(s => s.GetProperty("tags").EnumerateArray().Any(t => t.GetString() == "interruption"));
        var rebalanceSnapshots = (await box.SnapshotsAsync()).EnumerateArray()
            .Count(s => s.GetProperty("tags").EnumerateArray().Any(t => t.GetString() == "rebalance"));
        var notices = hook.Received.Count(m => m.Body.GetProperty("kind").GetString() == "Notice");
        var rebalances = hook.Received.Count(m => m.Body.GetProperty("kind").GetString() == "Rebalance");
        var figures = $"{NoticeReads(box.Imds.Requests)} notice reads: {records.Count} records, {interruptionSnapshots} interruption snapshots, {notices} notice messages, {rebalanceSnapshots} rebalance snapshots, {rebalances} rebalance messages";
        Assert.True(records.Count == 1, figures);
        Assert.True(interruptionSnapshots == 1, figures);
        Assert.True(notices == 1, figures);
        Assert.True(rebalances == 1, figures);
        Assert.True(rebalanceSnapshots <= 1, figures);
        Assert.Equal(1, agent.Stderr.Split("Interruption: final backup starting").Length - 1);

        var record = await box.ReadJsonAsync(Assert.Single(records), BoxJson.Default.InterruptionRecord);
        Assert.NotNull(record.SnapshotId);
        Assert.True(record.SnapshotDurableAt <= record.Deadline, $"durable at {record.SnapshotDurableAt:O}, deadline {record.Deadline:O}");
    }

    [Fact]
    public async Task AgentRun_NoticeBroughtForwardDuringFinalBackup_DeadlineTightenedNoSecondResponse()
    {
        await using var box = await AgentHarness.StartAsync(peer);
        using var agent = await StartWithAnOldHugeAndANewSmallEditAsync(box);
        // First a notice 100 s out (moving later on every read: ignored), then EC2 brings it forward to 12 s.
        box.Imds.ArmMovingNotice(InstanceActionKind.Terminate, TimeSpan.FromSeconds(100));
        var started = agent.StderrLineAsync("Interruption: final backup starting");
        Assert.True(await Task.WhenAny(started, Task.Delay(Wait)) == started, agent.Stderr);
        await Task.Delay(TimeSpan.FromSeconds(4));
        var earlier = box.Imds.ArmNotice(InstanceActionKind.Terminate, TimeSpan.FromSeconds(12));
        var handled = agent.StderrLineAsync("Interruption handled; waiting for EC2");
        Assert.True(await Task.WhenAny(handled, Task.Delay(TimeSpan.FromSeconds(30))) == handled, agent.Stderr);

        var record = await box.ReadJsonAsync(Assert.Single(await box.ListAsync("interruptions/")), BoxJson.Default.InterruptionRecord);
        Assert.Equal(earlier, record.NoticeTime);
        Assert.Equal(earlier - TimeSpan.FromSeconds(1), record.Deadline);
        Assert.True(record.SnapshotDurableAt <= record.Deadline, $"durable at {record.SnapshotDurableAt:O}, deadline {record.Deadline:O}");
        Assert.True(record.SnapshotPartial, agent.Stderr);
        Assert.Equal(1, agent.Stderr.Split("Interruption: final backup starting").Length - 1);
        var target = box.TempPath("restored");
        var restore = await box.Cli.RunAsync("restore", "--repo", box.Repository, "--snapshot", record.SnapshotId!, "--target", target);
        Assert.True(restore.ExitCode == 0, restore.ToString());
        Assert.Equal("int main() { return 42; }\n", await File.ReadAllTextAsync(Path.Combine(target, "dev", "main.c")));
    }

    [Fact]
    public async Task AgentRun_NoticeDuringStartupRestore_ServedAfterRestoreAndLoginsTold()
    {
        await using var box = await AgentHarness.StartAsync(peer);
        // An earlier box's work, so that the restore has something to do, and then a fresh, empty home.
        var random = new Random(10);
        for (var i = 0; i < 40; i++)
        {
            var bytes = new byte[256 * 1024];
            random.NextBytes(bytes);
            await File.WriteAllBytesAsync(Path.Combine(box.Home, $"data-{i:00}.bin"), bytes);
        }

        await File.WriteAllTextAsync(Path.Combine(box.Home, "notes.txt"), "saved on the earlier box\n");
        var earlier = await box.Cli.RunAsync("backup", "--repo", box.Repository, "--init", box.Home);
        Assert.True(earlier.ExitCode == 0, earlier.ToString());
        Directory.Delete(box.Home, recursive: true);
        Directory.CreateDirectory(box.Home);

        // The notice is there from the agent's first read, which comes before the restore finishes.
        var noticeTime = box.Imds.ArmNotice(InstanceActionKind.Stop, TimeSpan.FromSeconds(80));
        using var agent = await box.StartAgentAsync();
        var stderr = agent.Stderr;
        var seen = stderr.IndexOf("Spot interruption notice", StringComparison.Ordinal);
        var ready = stderr.IndexOf("is ready: backups may run", StringComparison.Ordinal);
        Assert.True(seen >= 0 && seen < ready, "the notice was not seen before the restore finished:\n" + stderr);

        var handled = agent.StderrLineAsync("Interruption handled; waiting for EC2");
        Assert.True(await Task.WhenAny(handled, Task.Delay(Wait)) == handled, agent.Stderr);
        var record = await box.ReadJsonAsync(Assert.Single(await box.ListAsync("interruptions/")), BoxJson.Default.InterruptionRecord);
        Assert.Equal("stop", record.Action);
        Assert.Equal(noticeTime, record.NoticeTime);
        Assert.True(record.SnapshotId is not null, agent.Stderr);
        Assert.True(record.SnapshotDurableAt <= record.Deadline, $"durable at {record.SnapshotDurableAt:O}, deadline {record.Deadline:O}");
        var snapshot = (await box.SnapshotsAsync()).EnumerateArray().Single(s => s.GetProperty("id").GetString() == record.SnapshotId);
        Assert.Contains("interruption", snapshot.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        // The final backup holds the restored work, not an empty home.
        var target = box.TempPath("restored");
        var restore = await box.Cli.RunAsync("restore", "--repo", box.Repository, "--snapshot", record.SnapshotId!, "--target", target);
        Assert.True(restore.ExitCode == 0, restore.ToString());
        Assert.Equal("saved on the earlier box\n", await File.ReadAllTextAsync(Path.Combine(target, "dev", "notes.txt")));

        // A login after ready (the profile script, pointed at this agent's run directory) is told.
        var profile = (await File.ReadAllTextAsync(Path.Combine(S3PeerFixture.RepositoryRoot, "deploy", "systemd", "spotdevbox-profile.sh")))
            .Replace("/run/spotdevbox", box.RunDirectory, StringComparison.Ordinal);
        var login = await RunShellAsync(profile);
        Assert.Contains("interruption", login, StringComparison.OrdinalIgnoreCase);
        Assert.Contains($"{noticeTime:HH:mm:ss} UTC", login, StringComparison.Ordinal);
        Assert.DoesNotContain("restoring", login, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AgentRun_StopTimeoutTooShortForAllChanges_CommitsPartialFinalSnapshotNewestFirst()
    {
        await using var box = await AgentHarness.StartAsync(peer);
        box.Settings["Agent:StopTimeout"] = "00:00:12";
        using var agent = await StartWithAnOldHugeAndANewSmallEditAsync(box);
        var stopping = Stopwatch.StartNew();
        agent.Terminate();
        var exit = await agent.WaitAsync(Wait);
        Assert.True(exit.ExitCode == 0, exit.ToString());
        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(12 + 10), $"stopped after {stopping.Elapsed}");

        var final = (await box.SnapshotsAsync()).EnumerateArray()
            .LastOrDefault(s => s.GetProperty("tags").EnumerateArray().Any(t => t.GetString() == "final"));
        Assert.True(final.ValueKind == JsonValueKind.Object, "no final snapshot was committed:\n" + exit.Stderr);
        Assert.True(final.GetProperty("partial").GetBoolean());
        var target = box.TempPath("restored");
        var restore = await box.Cli.RunAsync("restore", "--repo", box.Repository, "--snapshot", final.GetProperty("id").GetString()!, "--target", target);
        Assert.True(restore.ExitCode == 0, restore.ToString());
        Assert.Equal("int main() { return 42; }\n", await File.ReadAllTextAsync(Path.Combine(target, "dev", "main.c")));
        Assert.Equal("small at first\n", await File.ReadAllTextAsync(Path.Combine(target, "dev", "dataset.bin")));
    }

    [Fact]
    public async Task AgentRun_StopWhileStorageGone_FinalBackupCommitsNothingAndExitCodeIsOne()
    {
        await using var box = await AgentHarness.StartAsync(peer);
        await File.WriteAllTextAsync(Path.Combine(box.Home, "notes.txt"), "unsaved\n");
        using var agent = await box.StartAgentAsync();

        await box.DeleteBucketAsync();
        agent.Terminate();
        var exit = await agent.WaitAsync(Wait);

        Assert.True(exit.ExitCode == 1, exit.ToString());
        Assert.Contains("The final backup at stop did not commit", exit.Stderr, StringComparison.Ordinal);
    }

    private static async Task<string> RunShellAsync(string script)
    {
        var start = new ProcessStartInfo("sh") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        using var shell = Process.Start(start)!;
        await shell.StandardInput.WriteAsync(script);
        shell.StandardInput.Close();
        var output = await shell.StandardOutput.ReadToEndAsync();
        await shell.WaitForExitAsync();
        return output;
    }

    /// <summary>
    /// A snapshot of a home with a small dataset.bin and main.c, then the agent running, then dataset.bin grown
    /// to a 200 GB sparse file (so a final backup reads far longer than any deadline here) with an older mtime,
    /// and main.c edited after it: the newest change, which a deadline backup must save first.
    /// </summary>
    private static async Task<RunningCli> StartWithAnOldHugeAndANewSmallEditAsync(AgentHarness box)
    {
        var huge = Path.Combine(box.Home, "dataset.bin");
        await File.WriteAllTextAsync(huge, "small at first\n");
        await File.WriteAllTextAsync(Path.Combine(box.Home, "main.c"), "int main() { return 0; }\n");
        var baseline = await box.Cli.RunAsync("backup", "--repo", box.Repository, "--init", box.Home);
        Assert.True(baseline.ExitCode == 0, baseline.ToString());
        var agent = await box.StartAgentAsync();

        await using (var stream = new FileStream(huge, FileMode.Open, FileAccess.Write))
        {
            stream.SetLength(200L * 1024 * 1024 * 1024);
        }

        File.SetLastWriteTimeUtc(huge, DateTime.UnixEpoch.AddSeconds(1_790_000_000));
        await File.WriteAllTextAsync(Path.Combine(box.Home, "main.c"), "int main() { return 42; }\n");
        return agent;
    }
}
