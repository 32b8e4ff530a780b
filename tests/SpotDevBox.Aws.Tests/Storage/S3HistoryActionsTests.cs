using Amazon.S3;
using Amazon.S3.Model;
using SpotDevBox.Aws.Storage;
using SpotDevBox.Backup.Storage;
using TestSupport;

namespace SpotDevBox.Aws.Tests.Storage;

/// <summary>
/// The <see cref="IObjectHistory"/> half of <see cref="S3PolicyActionsTests"/>: recover's S3 calls, recorded against
/// moto (fauxqs has no versioning), must be what the table says, so that the operator's and init's policies, held to
/// the table there, allow exactly what recover and init call.
/// </summary>
[Collection("moto")]
public sealed class S3HistoryActionsTests(MotoFixture moto)
{
    [Fact]
    public async Task EveryHistoryMethod_CallsExactlyTheSdkOperationsOfTheTable()
    {
        await moto.ResetAsync();
        const string bucket = "history-actions";
        await moto.CreateBucketAsync(bucket);
        using (var admin = moto.CreateS3Client())
        {
            await admin.PutBucketVersioningAsync(new PutBucketVersioningRequest { BucketName = bucket, VersioningConfig = new S3BucketVersioningConfig { Status = VersionStatus.Enabled } });
        }

        var (recorder, calls) = S3PolicyActionsTests.RecordingS3.Wrap(moto.CreateS3Client());
        using var store = new S3ObjectStore(recorder, RepositoryLocation.Parse($"s3://{bucket}/boxes/alice/alice-dev/repo"), kmsKeyId: null, moto.Endpoint);
        var ct = CancellationToken.None;
        await store.PutAsync("config", "one"u8.ToArray(), ct);
        await store.PutAsync("config", "two"u8.ToArray(), ct);
        var seen = new Dictionary<string, string[]>(StringComparer.Ordinal);

        calls.Clear();
        Assert.Equal(VersioningState.Enabled, await store.GetVersioningAsync(ct));
        seen[nameof(IObjectHistory.GetVersioningAsync)] = [.. calls.Distinct()];
        calls.Clear();
        var versions = await store.ListVersionsAsync("", ct).ToListAsync(ct);
        seen[nameof(IObjectHistory.ListVersionsAsync)] = [.. calls.Distinct()];
        calls.Clear();
        await store.RestoreVersionAsync("config", versions.Single(v => !v.IsLatest).VersionId, ct);
        seen[nameof(IObjectHistory.RestoreVersionAsync)] = [.. calls.Distinct()];

        Assert.Equal("one", System.Text.Encoding.UTF8.GetString(await store.GetAsync("config", ct)));
        Assert.All(typeof(IObjectHistory).GetMethods().Select(m => m.Name), method =>
            Assert.Equal(S3PolicyActionsTests.StoreMethodOperations[method].Order(StringComparer.Ordinal), seen[method].Order(StringComparer.Ordinal)));
    }
}
