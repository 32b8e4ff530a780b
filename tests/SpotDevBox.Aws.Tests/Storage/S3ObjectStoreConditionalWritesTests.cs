using SpotDevBox.Aws.Storage;
using SpotDevBox.Backup.Storage;
using TestSupport;

namespace SpotDevBox.Aws.Tests.Storage;

/// <summary>
/// The conditional-write contract of the S3 store (If-None-Match: *, If-Match), against moto's S3: fauxqs, which the
/// rest of <see cref="S3ObjectStoreTests"/> runs against, ignores both headers and stores every write, so it
/// cannot tell a store that sends them from one that does not.
/// </summary>
[Collection("moto")]
public sealed class S3ObjectStoreConditionalWritesTests(MotoFixture moto) : ConditionalWritesContractTests, IAsyncLifetime, IDisposable
{
    private readonly List<S3ObjectStore> _stores = [];
    private int _storeCounter;

    public Task InitializeAsync() => moto.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    protected override async Task<IObjectStore> CreateInitializedStoreAsync()
    {
        var bucket = $"cond-{++_storeCounter}";
        await moto.CreateBucketAsync(bucket);
        var store = S3ObjectStoreFactory.Create(
            RepositoryLocation.Parse($"s3://{bucket}/repo"),
            new S3StoreOptions(moto.Endpoint, MotoFixture.Region, null),
            S3PeerFixture.Credentials,
            environment: _ => null,
            regionChain: _ => null);
        _stores.Add(store);
        return store;
    }

    [Theory]
    [InlineData(412, "PreconditionFailed", true, true)]
    [InlineData(409, "ConditionalRequestConflict", false, true)]
    [InlineData(404, "NoSuchKey", true, true)]
    [InlineData(404, "NoSuchKey", false, false)]
    [InlineData(404, "NoSuchBucket", true, false)]
    [InlineData(403, "AccessDenied", true, false)]
    public void IsLostCondition_S3Answer_MeansAnotherWriterCameFirstOnlyForConditionFailures(int status, string code, bool ifMatch, bool lost)
    {
        // 409 is what S3 answers while another conditional write to the key is in flight; moto never does.
        var e = new Amazon.S3.AmazonS3Exception("answer") { StatusCode = (System.Net.HttpStatusCode)status, ErrorCode = code };

        Assert.Equal(lost, S3ObjectStore.IsLostCondition(e, ifMatch));
    }

    public void Dispose()
    {
        foreach (var store in _stores)
        {
            store.Dispose();
        }
    }
}
