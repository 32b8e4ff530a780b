using Amazon.S3.Model;
using TestSupport;

namespace SpotDevBox.Tests.Cli;

/// <summary>spotdevbox storage migrate FROM TO as an operator runs it, against the S3 peer.</summary>
[Collection("s3-controller")]
public sealed class StorageMigrateCommandTests(S3PeerFixture peer) : IDisposable
{
    private readonly TempDir _temp = new("spotdevbox-migrate-");

    private static readonly (string Key, string Content)[] Objects =
    [
        ("repo/config", "{\"version\":2}"),
        ("repo/data/ab/ab12cd", new string('x', 2048)),
        ("status.json", "{\"state\":\"Stopped\"}"),
    ];

    public void Dispose() => _temp.Dispose();

    private SpotDevBoxProcess Cli() => new SpotDevBoxProcess(_temp.Sub("cli"), peer).Set("SPOTDEVBOX_Storage__EndpointUrl", peer.Endpoint);

    [Fact]
    public async Task Migrate_BoxPrefix_MovesEveryObjectPrintsTheSummaryAndARerunFindsNothing()
    {
        var bucket = await SeedAsync();

        var result = await Cli().RunAsync("storage", "migrate", $"s3://{bucket}/boxes/alice", $"s3://{bucket}/boxes/alice/alice");
        var again = await Cli().RunAsync("storage", "migrate", $"s3://{bucket}/boxes/alice", $"s3://{bucket}/boxes/alice/alice");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(
            $"moved 3 objects (2.0 KiB) from s3://{bucket}/boxes/alice to s3://{bucket}/boxes/alice/alice: 3 copied, 0 already there, each verified by size and SHA-256; s3://{bucket}/boxes/alice is empty\n",
            result.Stdout);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal($"nothing to move: s3://{bucket}/boxes/alice holds no objects; nothing was changed\n", again.Stdout);
        Assert.Equal(Objects.Select(o => ("boxes/alice/alice/" + o.Key, o.Content)).OrderBy(o => o.Item1, StringComparer.Ordinal), await ReadAllAsync(bucket));
    }

    [Fact]
    public async Task Migrate_DryRun_ListsEachObjectsStepAndChangesNothing()
    {
        var bucket = await SeedAsync();
        await PutAsync(bucket, "team/alice/alice/repo/config", "{\"version\":2}");
        var before = await ReadAllAsync(bucket);

        var result = await Cli().RunAsync("storage", "migrate", $"s3://{bucket}/boxes/alice", $"s3://{bucket}/team/alice/alice", "--dry-run");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(
            [
                "already at TO  repo/config (13 B)",
                "copy           repo/data/ab/ab12cd (2.0 KiB)",
                "copy           status.json (19 B)",
                $"dry run: would copy 2 objects (2.0 KiB) from s3://{bucket}/boxes/alice to s3://{bucket}/team/alice/alice, find 1 already there, then delete 3 objects at s3://{bucket}/boxes/alice; nothing was changed",
            ],
            result.Stdout.TrimEnd('\n').Split('\n'));
        Assert.Equal(before, await ReadAllAsync(bucket));
    }

    [Fact]
    public async Task Migrate_ObjectAtToWithOtherContent_ExitsOneNamingItAndDeletesNothing()
    {
        var bucket = await SeedAsync();
        await PutAsync(bucket, "team/alice/alice/status.json", "{\"state\":\"Running\"}");
        var before = await ReadAllAsync(bucket);

        var result = await Cli().RunAsync("storage", "migrate", $"s3://{bucket}/boxes/alice", $"s3://{bucket}/team/alice/alice");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(
            $"spotdevbox: s3://{bucket}/team/alice/alice/status.json is already at TO with other content (other content at TO): refusing to overwrite it, and this run deleted nothing at FROM; move or delete it at TO, or choose another TO, and run again",
            result.StderrLines);
        Assert.Equal(before.Where(o => !o.Key.StartsWith("team/", StringComparison.Ordinal)), (await ReadAllAsync(bucket)).Where(o => !o.Key.StartsWith("team/", StringComparison.Ordinal)));
        Assert.Equal(("team/alice/alice/status.json", "{\"state\":\"Running\"}"), (await ReadAllAsync(bucket)).Single(o => o.Key == "team/alice/alice/status.json"));
    }

    [Fact]
    public async Task Migrate_MarkerNamingAnotherTo_ExitsTwoNamingItAndChangesNothing()
    {
        var bucket = await SeedAsync();
        await PutAsync(bucket, "boxes/alice/MOVED-TO.json", $$"""{"to":"s3://{{bucket}}/team/alice/alice","at":"2026-12-07T09:00:00+00:00","objects":3,"bytes":2080}""");
        var before = await ReadAllAsync(bucket);

        var result = await Cli().RunAsync("storage", "migrate", $"s3://{bucket}/boxes/alice", $"s3://{bucket}/boxes/alice/alice");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal(
            $"spotdevbox: s3://{bucket}/boxes/alice is being moved to s3://{bucket}/team/alice/alice (MOVED-TO.json there says so): finish that move with the same TO; nothing was changed",
            result.StderrLines[0]);
        Assert.Equal(before, await ReadAllAsync(bucket));
    }

    [Theory]
    [InlineData("boxes/alice", "boxes/alice", "FROM and TO are the same prefix (s3://BUCKET/boxes/alice): nothing to move; nothing was changed")]
    [InlineData("boxes/alice", "boxes/alice/repo/alice", "TO (s3://BUCKET/boxes/alice/repo/alice) lies inside FROM's repo, a part of the box's own layout: choose a TO beside those parts (e.g. s3://BUCKET/boxes/alice/OWNER-OR-BOX) or outside FROM; nothing was changed")]
    [InlineData("boxes/alice/alice", "boxes/alice", "FROM (s3://BUCKET/boxes/alice/alice) lies inside TO (s3://BUCKET/boxes/alice): its objects would land among the ones being moved; move it to a prefix beside it; nothing was changed")]
    [InlineData("boxes/alice", "https://user:secret@example.com/boxes/alice/alice", "TO must be a prefix in a bucket, s3://bucket/prefix; nothing was changed")]
    [InlineData("./boxes/alice", "boxes/alice/alice", "FROM must be a prefix in a bucket, s3://bucket/prefix; nothing was changed")]
    [InlineData("boxes/alice", "", "TO must be a prefix in a bucket, s3://bucket/prefix; nothing was changed")]
    public async Task Migrate_WrongInput_ExitsTwoNamingItAndChangesNothing(string from, string to, string expected)
    {
        var bucket = await SeedAsync();
        var before = await ReadAllAsync(bucket);
        string S3(string p) => p.Length == 0 || p.Contains(':', StringComparison.Ordinal) || p.StartsWith('.') ? p : $"s3://{bucket}/{p}";

        var result = await Cli().RunAsync("storage", "migrate", S3(from), S3(to));

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("spotdevbox: " + expected.Replace("BUCKET", bucket, StringComparison.Ordinal), result.StderrLines[0]);
        Assert.DoesNotContain("secret", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, await ReadAllAsync(bucket));
    }

    [Fact]
    public async Task Migrate_ProcessKilledWhileCopying_RerunEndsWithEveryObjectAtToOnceAndNothingAtFrom()
    {
        var bucket = peer.NewBucketName("migrate-kill");
        await peer.CreateBucketAsync(bucket);
        var objects = Enumerable.Range(0, 300).Select(i => ($"repo/data/{i:x2}/{i:x8}", $"pack {i} " + new string((char)('a' + (i % 26)), 4000))).ToList();
        await Parallel.ForEachAsync(objects, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (o, _) => await PutAsync(bucket, "boxes/alice/" + o.Item1, o.Item2));
        var from = $"s3://{bucket}/boxes/alice";
        var to = $"s3://{bucket}/team/alice/alice";

        using (var running = Cli().Start("storage", "migrate", from, to))
        {
            // SIGKILL as soon as the first copy is at TO: no handler or finally block runs in the child.
            var deadline = TimeProvider.System.GetUtcNow() + TimeSpan.FromSeconds(60);
            while (await CountAsync(bucket, "team/") == 0)
            {
                Assert.True(TimeProvider.System.GetUtcNow() < deadline, "no copy appeared at TO within 60 s");
                await Task.Delay(10);
            }

            running.Kill();
            var killed = await running.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(CliResult.KilledBySigkill, killed.ExitCode);
        }

        var atTo = await CountAsync(bucket, "team/");
        Assert.True(atTo is > 0 and < 300, $"{atTo} objects at TO when killed: not in the middle of the copy");
        Assert.Equal(300, await CountAsync(bucket, "boxes/"));

        var rerun = await Cli().RunAsync("storage", "migrate", from, to);

        Assert.True(rerun.ExitCode == 0, rerun.ToString());
        Assert.StartsWith($"moved 300 objects (", rerun.Stdout, StringComparison.Ordinal);
        Assert.Equal(objects.Select(o => ("team/alice/alice/" + o.Item1, o.Item2)).OrderBy(o => o.Item1, StringComparer.Ordinal), await ReadAllAsync(bucket));
    }

    [Fact]
    public async Task Migrate_NoTo_ExitsTwoNamingTheMissingArgument()
    {
        var result = await Cli().RunAsync("storage", "migrate", "s3://my-bucket/boxes/alice");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("TO", result.StderrLines[0], StringComparison.Ordinal);
    }

    private async Task<string> SeedAsync()
    {
        var bucket = peer.NewBucketName("migrate-cli");
        await peer.CreateBucketAsync(bucket);
        foreach (var (key, content) in Objects)
        {
            await PutAsync(bucket, "boxes/alice/" + key, content);
        }

        return bucket;
    }

    private async Task PutAsync(string bucket, string key, string content)
    {
        using var client = peer.CreateClient();
        await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, ContentBody = content });
    }

    private async Task<int> CountAsync(string bucket, string prefix)
    {
        using var client = peer.CreateClient();
        var list = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, Prefix = prefix });
        return (list.S3Objects ?? []).Count;
    }

    private async Task<List<(string Key, string Content)>> ReadAllAsync(string bucket)
    {
        using var client = peer.CreateClient();
        var list = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket });
        var all = new List<(string, string)>();
        foreach (var o in (list.S3Objects ?? []).OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            using var response = await client.GetObjectAsync(bucket, o.Key);
            using var reader = new StreamReader(response.ResponseStream);
            all.Add((o.Key, await reader.ReadToEndAsync()));
        }

        return all;
    }
}
