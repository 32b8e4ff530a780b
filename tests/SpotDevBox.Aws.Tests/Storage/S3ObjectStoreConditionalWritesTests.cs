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

    public void Dispose()
    {
        foreach (var store in _stores)
        {
            store.Dispose();
        }
    }
}
