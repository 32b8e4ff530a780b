using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using SpotDevBox.Aws.Storage;
using SpotDevBox.Backup.Engine;
using SpotDevBox.Backup.FileSystem;
using SpotDevBox.Backup.Repository;
using SpotDevBox.Backup.Storage;
using TestSupport;
using Xunit.Abstractions;
using ListObjectsV2Request = Amazon.S3.Model.ListObjectsV2Request;
using ListObjectsV2Response = Amazon.S3.Model.ListObjectsV2Response;
using S3Object = Amazon.S3.Model.S3Object;

namespace SpotDevBox.Tests.Crash;

/// <summary>
/// The crash test of the issue: `spotdevbox backup` runs as a child process against the S3 peer and is
/// SIGKILLed (no handler, no finally, no flush runs; an exception thrown in-process is not a crash)
/// at moments spread over its run and between the last pack upload and the manifest write. After each
/// kill `check` passes and the first and the latest earlier snapshot restore byte for byte (all of them
/// at the end); the next backup succeeds and uploads less than a full one.
/// </summary>
[Collection("s3-crash")]
public sealed class CrashSafetyTests : IDisposable
{
    // A few random binaries hold most of the bytes, so rewriting one of them is about 30% of the data.
    private const int LargeFiles = 3;
    private const int LargeFileSize = 12 * 1024 * 1024;
    private const int SmallFiles = 300;

    /// <summary>Moments spread over the part of a run from its first write on; one more falls before it.</summary>
    private const int MomentsAfterTheLock = 19;
    private const int RequiredKills = 20;

    private readonly S3PeerFixture _peer;
    private readonly ITestOutputHelper _output;
    private readonly TempDir _temp = new("spotdevbox-crash-");
    private readonly SpotDevBoxProcess _cli;
    private readonly List<Snapshot> _snapshots = [];
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
    private string _repo = "";
    private int _restores;

    public CrashSafetyTests(S3PeerFixture peer, ITestOutputHelper output)
    {
        _peer = peer;
        _output = output;
        // Packs of 1 MiB instead of 8: a run here then stores several packs instead of one or two, so
        // that kills can land between uploads, as they would in a backup of gigabytes.
        _cli = new SpotDevBoxProcess(_temp.Sub("state"), peer).Set("SPOTDEVBOX_Backup__PackSizeMiB", "1");
    }

    private string Source => _temp.Sub("work");

    [Fact]
    public async Task Backup_SigkilledAtMomentsSpreadOverItsRun_CheckPassesEarlierSnapshotsRestoreAndTheNextBackupResumes()
    {
        await FirstSnapshotAsync();
        Modify(variant: 1);
        var (measured, firstWrite) = await MeasuredBackupAsync();
        var window = measured.Elapsed - firstWrite;
        var fullUpload = UploadedBytes(measured);
        Log($"full run of the modified tree: {measured.Elapsed.TotalSeconds:0.00} s, its lock (the first write) seen after {firstWrite.TotalSeconds:0.00} s, {fullUpload} bytes uploaded");

        // Until its first write, the lock, a run has only read: a kill there cannot leave anything
        // behind, yet starting the process takes most of a run this short, and how long varies with the
        // machine's load far more than the rest. So one moment falls in that start, and the others are
        // spread evenly over the rest of the run, counted from when its lock appears in the store.
        List<(double Fraction, bool AfterLock)> moments =
            [(0.5, false), .. Enumerable.Range(0, MomentsAfterTheLock).Select(k => ((k + 0.5) / MomentsAfterTheLock, true))];

        // Every killed run gets new content in the same files (variant 2, 3, ...), so it has the work of
        // the measured run to do and each moment lands at its fraction of a run.
        var kills = new List<(double, bool)>();
        var afterFirstPack = 0;
        var afterSnapshot = 0;
        var finishedFirst = 0;
        var variant = 2;
        for (var k = 0; k < moments.Count; k++)
        {
            var (fraction, afterLock) = moments[k];
            var name = afterLock ? $"{fraction:0.000} of the run after its lock" : $"{fraction:0.000} of the start before the lock";
            Modify(variant++);
            var packsBefore = await CountPacksAsync();
            var (killed, result, lockSeen) = afterLock
                ? await RunAndKillAsync(window * fraction, afterLock: true)
                : await RunAndKillAsync(firstWrite * fraction, afterLock: false);
            if (!killed)
            {
                // Faster than the measured run (a quieter machine): it is a snapshot now, one more every
                // later kill must leave intact. Take its time as the run's and try the moment again.
                await AcceptAsync(result);
                Log($"moment {name}: the run finished first, after {result.Elapsed.TotalSeconds:0.00} s");
                window = lockSeen is { } seen ? result.Elapsed - seen : window;
                k--;
                Assert.True(++finishedFirst <= 8, "runs keep finishing before their moment to be killed");
                continue;
            }

            var packsAfter = await CountPacksAsync();
            afterFirstPack += packsAfter > packsBefore ? 1 : 0;
            kills.Add(moments[k]);
            if (await NewSnapshotIdAsync() is { } saved)
            {
                // Killed while shutting down, after the manifest was written: a whole snapshot, which
                // it may or may not have got round to reporting.
                afterSnapshot++;
                Assert.True(result.Stdout.Length == 0 || result.Stdout.Contains(saved, StringComparison.Ordinal), result.ToString());
                await AddSnapshotAsync(saved);
            }
            else
            {
                // No snapshot in the store, so none may have been reported.
                Assert.True(result.Stdout.Length == 0, result.ToString());
            }

            var verified = await CheckAndRestoreEarlierSnapshotsAsync();
            Log($"moment {name}: SIGKILL after {result.Elapsed.TotalSeconds:0.00} s with {packsAfter - packsBefore} new packs in the store; check and restores {verified.TotalSeconds:0.0} s");
        }

        Log($"{kills.Count} kills: {kills.Count - afterFirstPack} before the run's first pack upload, {afterFirstPack} after it ({afterSnapshot} of them after the snapshot was written); {finishedFirst} runs finished first");
        Assert.True(kills.Count >= RequiredKills);
        Assert.Equal(kills.Count, kills.Distinct().Count());

        // One more kill, among the uploads, then the backup that has to pick them up.
        (int Packs, long Bytes)? left = null;
        for (var attempt = 1; left is null; attempt++)
        {
            Assert.True(attempt <= 3, "three runs finished before one of their packs was seen");
            Modify(variant++);
            left = await RunAndKillAmongTheUploadsAsync();
        }

        var (packs, packBytes) = left.Value;
        await CheckAndRestoreEarlierSnapshotsAsync();
        var resumed = await BackupAsync();

        Log($"killed after {packs} packs ({packBytes} bytes); the next backup uploaded {UploadedBytes(resumed)} bytes, a full one {fullUpload}");
        Assert.True(UploadedBytes(resumed) < fullUpload, $"the resumed backup uploaded {UploadedBytes(resumed)} bytes, a full one {fullUpload}");
        // What the killed run had stored is not sent again; 5% of a full run covers packs cut differently.
        Assert.True(UploadedBytes(resumed) + packBytes < fullUpload + (fullUpload / 20), $"the resumed backup uploaded {UploadedBytes(resumed)} bytes though {packBytes} were stored already");
        await Task.WhenAll([CheckAsync(), .. _snapshots.Select(RestoreInProcessAndCompareAsync)]);
        Log($"all {_snapshots.Count} snapshots restored");
    }

    [Fact]
    public async Task Backup_SigkilledAfterTheLastPackAndIndexBeforeTheSnapshot_NoSnapshotAndTheNextBackupUploadsNothing()
    {
        await FirstSnapshotAsync();
        Modify(variant: 1);
        var packsBefore = await CountPacksAsync();
        var bytesBefore = await PackBytesAsync();

        // The drill setting holds the run right after the last pack and the index are durable and
        // before the manifest is written, and says so on stderr: the kill lands exactly there.
        using var run = _cli.Start(
            ["backup", "--repo", _repo, "--endpoint-url", _peer.Endpoint, "--json", Source],
            new Dictionary<string, string?> { ["SPOTDEVBOX_Backup__PauseBeforeSnapshot"] = "00:00:30" });
        var pausing = run.StderrLineAsync("pausing");
        Assert.True(await Task.WhenAny(pausing, Task.Delay(SpotDevBoxProcess.DefaultTimeout)) == pausing, "no 'pausing' line on stderr:\n" + run.Stderr);
        run.Kill();
        var killed = await run.WaitAsync(SpotDevBoxProcess.DefaultTimeout);

        Log($"SIGKILL after {killed.Elapsed.TotalSeconds:0.00} s, at: {await pausing}");
        Assert.Equal(CliResult.KilledBySigkill, killed.ExitCode);
        Assert.Empty(killed.Stdout);
        var packsAfter = await CountPacksAsync();
        var stored = await PackBytesAsync() - bytesBefore;
        Assert.True(packsAfter > packsBefore, "the killed run stored no pack");
        Assert.Null(await NewSnapshotIdAsync());
        // CheckAsync also asserts that there is still exactly the one snapshot of before.
        var check = await CheckAsync();
        Assert.Equal(packsAfter, check.GetProperty("packs").GetInt32());
        Assert.DoesNotContain(check.GetProperty("warnings").EnumerateArray(), w => w.GetString()!.Contains("in no index", StringComparison.Ordinal));
        await RestoreInProcessAndCompareAsync(_snapshots[0]);

        var next = await BackupAsync();

        Log($"the killed run stored {stored} bytes; the next backup took {next.Elapsed.TotalSeconds:0.00} s and uploaded {UploadedBytes(next)}");
        var summary = next.Json().GetProperty("summary");
        Assert.True(summary.GetProperty("files_changed").GetInt64() > 0);
        Assert.True(summary.GetProperty("bytes_read").GetInt64() >= LargeFileSize);
        // Every data and tree blob of this tree is in a pack the index lists: nothing is new.
        Assert.Equal(0, UploadedBytes(next));
        Assert.Equal(packsAfter, await CountPacksAsync());
        await Task.WhenAll(CheckAsync(), RestoreWithCliAndCompareAsync(_snapshots[^1]));
    }

    public void Dispose() => _temp.Dispose();

    private async Task FirstSnapshotAsync()
    {
        var bucket = _peer.NewBucketName("crash");
        await _peer.CreateBucketAsync(bucket);
        _repo = $"s3://{bucket}/repo";
        new TreeGenerator(20240611) { Files = SmallFiles, LargeFiles = LargeFiles, LargeFileSize = LargeFileSize }.Generate(Source);
        await BackupAsync("--init");
    }

    /// <summary>A backup that must succeed; its snapshot joins the earlier ones with a verified copy of its tree.</summary>
    private async Task<CliResult> BackupAsync(params string[] options)
    {
        var result = await _cli.RunAsync(["backup", "--repo", _repo, "--endpoint-url", _peer.Endpoint, "--json", .. options, Source], new Dictionary<string, string?>());
        await AcceptAsync(result);
        return result;
    }

    /// <summary>As <see cref="BackupAsync"/>, and when its first write, the lock, was seen in the store.</summary>
    private async Task<(CliResult Result, TimeSpan FirstWrite)> MeasuredBackupAsync()
    {
        var locks = await KeysAsync("locks/");
        using var run = _cli.Start("backup", "--repo", _repo, "--endpoint-url", _peer.Endpoint, "--json", Source);
        var firstWrite = await FirstNewObjectAsync(run, "locks/", locks);
        var result = await run.WaitAsync(SpotDevBoxProcess.DefaultTimeout);
        await AcceptAsync(result);
        Assert.True(firstWrite is not null, "the backup's lock was never seen in the store");
        return (result, firstWrite.Value);
    }

    /// <summary>When a new object under <paramref name="folder"/> was first seen, or null if the run exited first.</summary>
    private async Task<TimeSpan?> FirstNewObjectAsync(RunningCli run, string folder, HashSet<string> before)
    {
        while (!run.HasExited)
        {
            if ((await KeysAsync(folder)).Any(k => !before.Contains(k)))
            {
                return run.Elapsed;
            }

            await Task.Delay(5);
        }

        return null;
    }

    private async Task AcceptAsync(CliResult backup)
    {
        Assert.True(backup.ExitCode == 0, backup.ToString());
        var json = backup.Json();
        Assert.Empty(json.GetProperty("warnings").EnumerateArray());
        await AddSnapshotAsync(json.GetProperty("snapshot_id").GetString()!);
    }

    private async Task AddSnapshotAsync(string id)
    {
        var snapshot = new Snapshot(id, _temp.Sub("expected-" + _snapshots.Count.ToString(CultureInfo.InvariantCulture)));

        // Nothing changes the source while the test holds it still, so a restore that equals it now is
        // the tree the snapshot was taken from, kept to compare later restores with.
        await RestoreInProcessAsync(snapshot.Id, snapshot.Expected);
        Assert.Empty(TreeComparer.Compare(Source, Path.Combine(snapshot.Expected, "work")));
        _snapshots.Add(snapshot);
    }

    /// <summary>The id of a snapshot in the store that is not among the known ones, if there is one.</summary>
    private async Task<string?> NewSnapshotIdAsync()
    {
        var ids = (await ListAsync("snapshots/")).Select(o => o.Key[(o.Key.LastIndexOf('/') + 1)..]).ToList();
        var added = ids.Except(_snapshots.Select(s => s.Id), StringComparer.Ordinal).ToList();
        Assert.True(added.Count <= 1, "more than one new snapshot: " + string.Join(", ", added));
        return added.SingleOrDefault();
    }

    /// <summary>
    /// Starts a backup and SIGKILLs it <paramref name="moment"/> after its start or, with
    /// <paramref name="afterLock"/>, after its lock appeared in the store, unless it exits first.
    /// </summary>
    private async Task<(bool Killed, CliResult Result, TimeSpan? LockSeen)> RunAndKillAsync(TimeSpan moment, bool afterLock)
    {
        var locks = await KeysAsync("locks/");
        using var run = _cli.Start("backup", "--repo", _repo, "--endpoint-url", _peer.Endpoint, "--json", Source);
        var origin = afterLock ? await FirstNewObjectAsync(run, "locks/", locks) : TimeSpan.Zero;
        if (origin is not null && !await run.TryWaitForExitAsync(origin.Value + moment - run.Elapsed))
        {
            run.Kill();
        }

        // Exit 0 means it finished on its own, perhaps in the instant before the kill.
        var result = await run.WaitAsync(SpotDevBoxProcess.DefaultTimeout);
        return (result.ExitCode == CliResult.KilledBySigkill, result, afterLock ? origin : null);
    }

    /// <summary>
    /// Starts a backup and SIGKILLs it as soon as one of its packs is seen in the store; the packs it
    /// left, or null if it finished before one was seen (then its snapshot is one of the earlier ones).
    /// </summary>
    private async Task<(int Packs, long Bytes)?> RunAndKillAmongTheUploadsAsync()
    {
        var before = await KeysAsync("data/");
        using var run = _cli.Start("backup", "--repo", _repo, "--endpoint-url", _peer.Endpoint, "--json", Source);
        if (await FirstNewObjectAsync(run, "data/", before) is not null)
        {
            run.Kill();
        }

        var result = await run.WaitAsync(SpotDevBoxProcess.DefaultTimeout);
        if (result.ExitCode != CliResult.KilledBySigkill)
        {
            await AcceptAsync(result);
            return null;
        }

        Assert.Null(await NewSnapshotIdAsync());
        var added = (await ListAsync("data/")).Where(o => !before.Contains(o.Key)).ToList();
        return (added.Count, added.Sum(o => o.Size ?? 0));
    }

    /// <summary>After a crash: `check` passes, and the first and the latest snapshot restore byte for byte.</summary>
    private async Task<TimeSpan> CheckAndRestoreEarlierSnapshotsAsync()
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await Task.WhenAll(
            CheckAsync(),
            RestoreInProcessAndCompareAsync(_snapshots[0]),
            RestoreInProcessAndCompareAsync(_snapshots[^1]));
        return System.Diagnostics.Stopwatch.GetElapsedTime(started);
    }

    private async Task<JsonElement> CheckAsync()
    {
        var check = await _cli.RunAsync("check", "--repo", _repo, "--endpoint-url", _peer.Endpoint, "--json");
        Assert.True(check.ExitCode == 0, check.ToString());
        var json = check.Json();
        Assert.True(json.GetProperty("ok").GetBoolean(), check.ToString());
        Assert.Empty(json.GetProperty("errors").EnumerateArray());
        Assert.Equal(_snapshots.Count, json.GetProperty("snapshots").GetInt32());
        return json;
    }

    private async Task RestoreWithCliAndCompareAsync(Snapshot snapshot)
    {
        var target = NewRestoreTarget();
        var result = await _cli.RunAsync("restore", "--repo", _repo, "--endpoint-url", _peer.Endpoint, "--snapshot", snapshot.Id, "--target", target);
        Assert.True(result.ExitCode == 0, result.ToString());
        CompareAndRemove(snapshot, target);
    }

    private async Task RestoreInProcessAndCompareAsync(Snapshot snapshot)
    {
        var target = NewRestoreTarget();
        await RestoreInProcessAsync(snapshot.Id, target);
        CompareAndRemove(snapshot, target);
    }

    /// <summary>Restores through the engine in this process: no CLI start-up per restore, which keeps the test short.</summary>
    private async Task RestoreInProcessAsync(string snapshotId, string target)
    {
        var store = S3ObjectStoreFactory.Create(
            RepositoryLocation.Parse(_repo), new S3StoreOptions(_peer.Endpoint, S3PeerFixture.Region, null), S3PeerFixture.Credentials, _ => null, _ => null);
        using var _ = store;
        // A cache per snapshot: restores of two snapshots run at once and must not race on one.
        var options = new BackupEngineOptions { CacheDirectory = _temp.Sub("verify-cache-" + snapshotId[..8]) };
        var repository = await BackupRepository.OpenAsync(store, options, TimeProvider.System, NullLogger.Instance, TestKeys.Source, CancellationToken.None);
        var engine = new RestoreEngine(repository, new UnixFileSystem(), NullLogger<RestoreEngine>.Instance);
        var result = await engine.RunAsync(new RestoreRequest { Snapshot = snapshotId, Target = target }, CancellationToken.None);
        Assert.Empty(result.Errors);
        Assert.Equal(snapshotId, result.SnapshotId);
    }

    private static void CompareAndRemove(Snapshot snapshot, string target)
    {
        Assert.Empty(TreeComparer.Compare(Path.Combine(snapshot.Expected, "work"), Path.Combine(target, "work")));
        Directory.Delete(target, recursive: true);
    }

    private string NewRestoreTarget() => _temp.Sub("restore-" + Interlocked.Increment(ref _restores).ToString(CultureInfo.InvariantCulture));

    /// <summary>
    /// Rewrites the first large binary with new random bytes and the same ~30% of the small files with
    /// new text: about a third of the data, new for every variant, and always the same files, so that a
    /// backup of any variant has the same work to do against its parent, the snapshot of another variant.
    /// </summary>
    private void Modify(int variant)
    {
        var content = new Random(variant);
        var large = new byte[LargeFileSize];
        content.NextBytes(large);
        File.WriteAllBytes(Path.Combine(Source, "large-0.bin"), large);

        var generator = new TreeGenerator(variant);
        var pick = new Random(0);
        var small = Directory.EnumerateFiles(Source, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Where(f => new FileInfo(f).LinkTarget is null && !Path.GetFileName(f).StartsWith("large-", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();
        foreach (var file in small.Where(_ => pick.Next(10) < 3))
        {
            File.WriteAllBytes(file, generator.SourceLike(content.Next(1, 16 * 1024)));
        }
    }

    private static long UploadedBytes(CliResult backup) => backup.Json().GetProperty("summary").GetProperty("bytes_uploaded").GetInt64();

    private async Task<int> CountPacksAsync() => (await ListAsync("data/")).Count;

    private async Task<HashSet<string>> KeysAsync(string folder) => (await ListAsync(folder)).Select(o => o.Key).ToHashSet(StringComparer.Ordinal);

    private async Task<long> PackBytesAsync() => (await ListAsync("data/")).Sum(o => o.Size ?? 0);

    /// <summary>The repository's objects under <paramref name="folder"/>, listed straight from the peer.</summary>
    private async Task<List<S3Object>> ListAsync(string folder)
    {
        using var client = _peer.CreateClient();
        var location = RepositoryLocation.Parse(_repo);
        var request = new ListObjectsV2Request { BucketName = location.Bucket, Prefix = location.Prefix + "/" + folder };
        var objects = new List<S3Object>();
        ListObjectsV2Response response;
        do
        {
            response = await client.ListObjectsV2Async(request);
            objects.AddRange(response.S3Objects ?? []);
            request.ContinuationToken = response.NextContinuationToken;
        }
        while (response.IsTruncated == true);

        return objects;
    }

    private void Log(string message) => _output.WriteLine($"[{_clock.Elapsed.TotalSeconds,5:0.0} s] {message}");

    /// <summary>A snapshot and a verified copy of the tree it was taken from (restored into <see cref="Expected"/>).</summary>
    private sealed record Snapshot(string Id, string Expected);
}
