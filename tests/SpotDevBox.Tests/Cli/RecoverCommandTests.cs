using System.Globalization;
using Amazon.S3;
using Amazon.S3.Model;
using TestSupport;

namespace SpotDevBox.Tests.Cli;

/// <summary>
/// spotdevbox recover --as-of and init's versioning check against moto (tests/peers/moto), which implements S3
/// versioning, ListObjectVersions, CopyObject from a version and lifecycle configurations. The time a repository is
/// brought back to is read from moto's own version listing, never from the local clock: recover compares it with
/// S3's LastModified.
/// </summary>
[Collection("moto")]
public sealed class RecoverCommandTests(MotoFixture moto) : IAsyncLifetime
{
    private const string Bucket = "history";
    private readonly TempDir _temp = new("spotdevbox-recover-");
    private AmazonS3Client _s3 = null!;

    private const string Repo = $"s3://{Bucket}/boxes/alice/dev/repo";

    public async Task InitializeAsync()
    {
        await moto.ResetAsync();
        _s3 = moto.CreateS3Client();
        await _s3.PutBucketAsync(new PutBucketRequest { BucketName = Bucket });
    }

    public Task DisposeAsync()
    {
        _s3.Dispose();
        _temp.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Recover_AfterACompromisedBoxDeletedAndOverwroteItsRepository_SnapshotsAndRestoreGiveTheOriginalBytesBack()
    {
        await EnableVersioningAsync();
        var work = _temp.Sub("work");
        Directory.CreateDirectory(work);
        var first = System.Security.Cryptography.RandomNumberGenerator.GetBytes(300 * 1024);
        await File.WriteAllBytesAsync(Path.Combine(work, "a.bin"), first);
        Assert.Equal(0, (await Cli("init", "--repo", Repo)).ExitCode);
        await AssertOk(Cli("backup", "--repo", Repo, work));
        var second = System.Security.Cryptography.RandomNumberGenerator.GetBytes(300 * 1024);
        await File.WriteAllBytesAsync(Path.Combine(work, "b.bin"), second);
        await AssertOk(Cli("backup", "--repo", Repo, work));

        var asOf = (await VersionsAsync()).Max(v => v.LastModified!.Value).ToUniversalTime();
        await WaitUntilServerClockPassesAsync(asOf);

        // The compromised box: deletes every snapshot, index and pack, overwrites the config, adds a forged snapshot.
        var current = await CurrentKeysAsync();
        var deleted = current.Where(k => k.Contains("/snapshots/", StringComparison.Ordinal) || k.Contains("/index/", StringComparison.Ordinal) || k.Contains("/data/", StringComparison.Ordinal)).ToList();
        Assert.True(deleted.Count >= 4, string.Join(", ", current));
        await _s3.DeleteObjectsAsync(new DeleteObjectsRequest { BucketName = Bucket, Objects = [.. deleted.Select(k => new KeyVersion { Key = k })] });
        await _s3.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = "boxes/alice/dev/repo/config", ContentBody = "garbage" });
        var forged = "boxes/alice/dev/repo/snapshots/" + new string('f', 64);
        await _s3.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = forged, ContentBody = "forged" });
        var broken = await Cli("snapshots", "--repo", Repo);
        Assert.NotEqual(0, broken.ExitCode);

        var at = asOf.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var versionsBefore = (await VersionsAsync()).Count;
        var dryRun = await Cli("recover", "--repo", Repo, "--as-of", at, "--dry-run");

        Assert.True(dryRun.ExitCode == 0, dryRun.ToString());
        // Restored: every deleted key and the config; removed: the forged snapshot; unchanged: the lock of each backup,
        // created and deleted before that time (a delete marker then and now), and the repository's key file.
        Assert.Contains($"would restore {deleted.Count + 1}, would remove 1, unchanged 3", dryRun.Stdout, StringComparison.Ordinal);
        Assert.Contains("would remove snapshots/" + new string('f', 64) + " (created after " + at + ")", dryRun.Stdout, StringComparison.Ordinal);
        Assert.Equal(versionsBefore, (await VersionsAsync()).Count);

        var recover = await Cli("recover", "--repo", Repo, "--as-of", at);

        Assert.True(recover.ExitCode == 0, recover.ToString());
        Assert.Contains($"restored {deleted.Count + 1}, removed 1, unchanged 3", recover.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(forged, await CurrentKeysAsync());
        await AssertOk(Cli("check", "--repo", Repo, "--read-data"));
        var snapshots = await Cli("snapshots", "--repo", Repo, "--json");
        Assert.True(snapshots.ExitCode == 0, snapshots.ToString());
        Assert.Equal(2, snapshots.Json().GetArrayLength());
        var target = _temp.Sub("restored");
        await AssertOk(Cli("restore", "--repo", Repo, "--target", target));
        var restored = Directory.GetFiles(target, "*.bin", SearchOption.AllDirectories).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);
        Assert.Equal(first, restored["a.bin"]);
        Assert.Equal(second, restored["b.bin"]);

        // Idempotent: a second run finds everything as it was at that time.
        var versionsAfter = (await VersionsAsync()).Count;
        var again = await Cli("recover", "--repo", Repo, "--as-of", at);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("restored 0, removed 0, unchanged ", again.Stdout, StringComparison.Ordinal);
        Assert.Equal(versionsAfter, (await VersionsAsync()).Count);
    }

    [Fact]
    public async Task Recover_BucketWithoutVersioning_Exit2WithTheCommandThatEnablesIt()
    {
        await _s3.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = "boxes/alice/dev/repo/config", ContentBody = "x" });

        var result = await Cli("recover", "--repo", Repo, "--as-of", "2026-01-01T00:00:00Z");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"bucket {Bucket} has versioning not enabled", result.Stderr, StringComparison.Ordinal);
        Assert.Contains($"aws s3api put-bucket-versioning --bucket {Bucket} --versioning-configuration Status=Enabled", result.Stderr, StringComparison.Ordinal);
        Assert.Single(await VersionsAsync());
    }

    [Theory]
    [InlineData("2999-01-01T00:00:00Z", "--as-of 2999-01-01T00:00:00Z is in the future")]
    [InlineData("yesterday", "--as-of 'yesterday' is not a time")]
    [InlineData("2026-13-01T00:00:00Z", "--as-of '2026-13-01T00:00:00Z' is not a time")]
    public async Task Recover_TimeInTheFutureOrNotATime_Exit2ChangingNothing(string asOf, string expected)
    {
        await EnableVersioningAsync();
        await _s3.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = "boxes/alice/dev/repo/config", ContentBody = "x" });

        var result = await Cli("recover", "--repo", Repo, "--as-of", asOf);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(expected, result.Stderr, StringComparison.Ordinal);
        Assert.Single(await VersionsAsync());
    }

    [Fact]
    public async Task Recover_LocalRepository_Exit2SayingItKeepsNoHistory()
    {
        var result = await Cli("recover", "--repo", _temp.Sub("local"), "--as-of", "2026-01-01T00:00:00Z");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("recover needs an S3 repository in a versioned bucket", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Init_BucketWithoutVersioning_WarnsWithTheAwsCliCommandAndLeavesVersioningOff()
    {
        var result = await Cli("init", "--repo", Repo);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"warning: versioning is not enabled on bucket {Bucket}", result.Stderr, StringComparison.Ordinal);
        Assert.Contains($"aws s3api put-bucket-versioning --bucket {Bucket} --versioning-configuration Status=Enabled", result.Stderr, StringComparison.Ordinal);
        var versioning = await _s3.GetBucketVersioningAsync(new GetBucketVersioningRequest { BucketName = Bucket });
        Assert.NotEqual(VersionStatus.Enabled, versioning.VersioningConfig?.Status);
    }

    [Fact]
    public async Task Init_VersionedBucket_NoWarningAndAHistoryRuleNextToTheUploadRule()
    {
        await EnableVersioningAsync();
        await _s3.PutLifecycleConfigurationAsync(new PutLifecycleConfigurationRequest
        {
            BucketName = Bucket,
            Configuration = new LifecycleConfiguration
            {
                Rules = [new LifecycleRule { Id = "someone-elses", Status = LifecycleRuleStatus.Enabled, Filter = new LifecycleFilter { LifecycleFilterPredicate = new LifecyclePrefixPredicate { Prefix = "logs/" } }, Expiration = new LifecycleRuleExpiration { Days = 7 } }],
            },
        });

        var result = await Cli("init", "--repo", Repo, "--history-days", "45", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.DoesNotContain("warning", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("Enabled", result.Json().GetProperty("versioning").GetString());
        var rules = (await _s3.GetLifecycleConfigurationAsync(new GetLifecycleConfigurationRequest { BucketName = Bucket })).Configuration.Rules;
        Assert.Equal(3, rules.Count);
        Assert.Contains(rules, r => r.Id == "someone-elses");
        var history = Assert.Single(rules, r => r.NoncurrentVersionExpiration is not null);
        Assert.Equal(45, history.NoncurrentVersionExpiration.NoncurrentDays);
        Assert.Equal("boxes/alice/dev/repo/", (history.Filter?.LifecycleFilterPredicate as LifecyclePrefixPredicate)?.Prefix ?? history.Filter?.Prefix);
        Assert.Equal(1, Assert.Single(rules, r => r.AbortIncompleteMultipartUpload is not null).AbortIncompleteMultipartUpload.DaysAfterInitiation);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("3651")]
    public async Task Init_HistoryDaysOutOfRange_Exit2NamingTheLimits(string days)
    {
        var result = await Cli("init", "--repo", Repo, "--history-days", days);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"--history-days must be between 1 and 3650, got {days}", result.Stderr, StringComparison.Ordinal);
    }

    private async Task EnableVersioningAsync() =>
        await _s3.PutBucketVersioningAsync(new PutBucketVersioningRequest { BucketName = Bucket, VersioningConfig = new S3BucketVersioningConfig { Status = VersionStatus.Enabled } });

    private async Task<List<S3ObjectVersion>> VersionsAsync() =>
        (await _s3.ListVersionsAsync(new ListVersionsRequest { BucketName = Bucket, Prefix = "boxes/" })).Versions ?? [];

    private async Task<List<string>> CurrentKeysAsync() =>
        [.. ((await _s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, Prefix = "boxes/" })).S3Objects ?? []).Select(o => o.Key)];

    /// <summary>Writes a probe outside the repository until the server stamps it later than <paramref name="instant"/>: S3's LastModified has whole seconds.</summary>
    private async Task WaitUntilServerClockPassesAsync(DateTime instant)
    {
        for (var i = 0; i < 50; i++)
        {
            await _s3.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = "probe", ContentBody = "p" });
            var stamp = (await _s3.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = Bucket, Key = "probe" })).LastModified!.Value.ToUniversalTime();
            if (stamp > instant)
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("moto's clock did not pass the last backup's time");
    }

    private static async Task AssertOk(Task<CliResult> run)
    {
        var result = await run;
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    private Task<CliResult> Cli(params string[] args) =>
        new SpotDevBoxProcess(_temp.Sub("state")).RunAsync(
            [.. args, .. args.Any(a => a.StartsWith("s3://", StringComparison.Ordinal)) ? new[] { "--endpoint-url", moto.Endpoint } : []],
            new Dictionary<string, string?>
            {
                ["AWS_ACCESS_KEY_ID"] = S3PeerFixture.AccessKey,
                ["AWS_SECRET_ACCESS_KEY"] = S3PeerFixture.SecretKey,
                ["AWS_REGION"] = MotoFixture.Region,
            });
}
