using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Amazon.S3;
using Amazon.S3.Model;
using SpotDevBox.Aws.Storage;
using SpotDevBox.Backup.Storage;
using TestSupport;

namespace SpotDevBox.Aws.Tests.Storage;

/// <summary>
/// The S3 store against a real S3 server (fauxqs). fauxqs does not check credentials at all (it even
/// accepts unsigned requests), so wrong-credential mapping is covered in <see cref="S3ErrorMapperTests"/>.
/// It also ignores SSE headers, so what the SDK sends is checked against <see cref="StubS3Server"/>; and it
/// ignores If-Match and If-None-Match, so the conditional-write contract (<see cref="ConditionalWritesContractTests"/>)
/// is not inherited here but runs against moto in <see cref="S3ObjectStoreConditionalWritesTests"/>.
/// </summary>
[Collection("s3")]
public sealed class S3ObjectStoreTests(S3PeerFixture peer) : ObjectStoreContractTests, IAsyncLifetime
{
    private readonly List<S3ObjectStore> _stores = [];
    private string _bucket = "";
    private int _storeCounter;

    public async Task InitializeAsync()
    {
        _bucket = peer.NewBucketName();
        await peer.CreateBucketAsync(_bucket);
    }

    public Task DisposeAsync()
    {
        foreach (var store in _stores)
        {
            store.Dispose();
        }

        return Task.CompletedTask;
    }

    protected override IObjectStore CreateStore() => CreateS3Store($"s3://{_bucket}/repo-{++_storeCounter}");

    [Fact]
    public async Task PutAsync_NineMiBRandomObject_StoresAndReadsBackIdenticalBytes()
    {
        var store = CreateS3Store($"s3://{_bucket}/big");
        var content = RandomBytes(9 * 1024 * 1024, seed: 9);

        await store.PutAsync("data/9m", content, CancellationToken.None);

        Assert.Equal(Sha256Hex(content), Sha256Hex(await store.GetAsync("data/9m", CancellationToken.None)));
        // Read with a plain client as well: a server that stored the SDK's aws-chunked framing would
        // show it here even if the store decoded its own writes consistently.
        Assert.Equal(Sha256Hex(content), Sha256Hex(await RawGetAsync("big/data/9m")));
    }

    [Fact]
    public async Task PutAsync_ZeroBytes_StoresAnEmptyObject()
    {
        var store = CreateS3Store($"s3://{_bucket}/zero");

        await store.PutAsync("nothing", ReadOnlyMemory<byte>.Empty, CancellationToken.None);

        Assert.Empty(await RawGetAsync("zero/nothing"));
        Assert.Empty(await store.GetAsync("nothing", CancellationToken.None));
    }

    [Theory]
    [InlineData("team/box-1", "data/ab/ab01", "team/box-1/data/ab/ab01")]
    [InlineData("", "data/ab/ab01", "data/ab/ab01")]
    public async Task PutAsync_RepositoryPrefix_StoresUnderPrefixSlashKey(string prefix, string key, string expectedObjectKey)
    {
        var store = CreateS3Store(prefix.Length == 0 ? $"s3://{_bucket}" : $"s3://{_bucket}/{prefix}");

        await store.PutAsync(key, new byte[] { 7, 8, 9 }, CancellationToken.None);

        Assert.Equal(new byte[] { 7, 8, 9 }, await RawGetAsync(expectedObjectKey));
    }

    [Fact]
    public async Task GetRangeAsync_RangeRunsPastTheEnd_ThrowsRejected()
    {
        var store = CreateS3Store($"s3://{_bucket}/short");
        await store.PutAsync("ten", CountingBytes(10), CancellationToken.None);

        var partly = await Assert.ThrowsAsync<StorageException>(() => store.GetRangeAsync("ten", 8, 5, CancellationToken.None));
        var wholly = await Assert.ThrowsAsync<StorageException>(() => store.GetRangeAsync("ten", 20, 5, CancellationToken.None));

        Assert.Equal(StorageFailure.Rejected, partly.Failure);
        Assert.Equal(StorageFailure.Rejected, wholly.Failure);
    }

    [Fact]
    public async Task ListAsync_TwoRepositoriesInOneBucket_EachSeesOnlyItsOwnObjects()
    {
        // "alpha" is a string prefix of "alpha-2": the store must list "alpha/", not "alpha".
        var first = CreateS3Store($"s3://{_bucket}/alpha");
        var second = CreateS3Store($"s3://{_bucket}/alpha-2");
        await first.PutAsync("data/one", new byte[1], CancellationToken.None);
        await second.PutAsync("data/two", new byte[2], CancellationToken.None);

        Assert.Equal(["data/one"], (await ListAsync(first, "")).Select(o => o.Key));
        Assert.Equal(["data/two"], (await ListAsync(second, "")).Select(o => o.Key));
        Assert.Equal(["data/two"], (await ListAsync(second, "data/")).Select(o => o.Key));
    }

    [Fact]
    public async Task ListAsync_MoreThan1000Objects_ReturnsEveryKeyAcrossPages()
    {
        var store = CreateS3Store($"s3://{_bucket}/many");
        var keys = Enumerable.Range(0, 1205).Select(i => $"obj/{i.ToString("D5", CultureInfo.InvariantCulture)}").ToList();
        await PutAllAsync(store, keys);

        var listed = await ListAsync(store, "obj/");

        Assert.Equal(1205, listed.Count);
        Assert.Equal(keys, listed.Select(o => o.Key).Order(StringComparer.Ordinal));
        Assert.All(listed, o => Assert.Equal(1L, o.Size));
    }

    [Fact]
    public async Task DeleteAsync_MoreThan1000Keys_DeletesThemAllInBatches()
    {
        var store = CreateS3Store($"s3://{_bucket}/purge");
        var keys = Enumerable.Range(0, 1205).Select(i => $"obj/{i.ToString("D5", CultureInfo.InvariantCulture)}").ToList();
        await PutAllAsync(store, keys);
        await store.PutAsync("keep", new byte[1], CancellationToken.None);

        await store.DeleteAsync([.. keys, "obj/missing"], CancellationToken.None);

        Assert.Equal(["keep"], (await ListAsync(store, "")).Select(o => o.Key));
    }

    [Fact]
    public async Task ListAsync_ObjectJustWritten_ReportsARecentUtcTime()
    {
        var store = CreateS3Store($"s3://{_bucket}/times");
        var before = TimeProvider.System.GetUtcNow().AddMinutes(-5);
        await store.PutAsync("k", new byte[1], CancellationToken.None);

        var item = Assert.Single(await ListAsync(store, ""));

        Assert.Equal(TimeSpan.Zero, item.LastModified.Offset);
        Assert.InRange(item.LastModified, before, TimeProvider.System.GetUtcNow().AddMinutes(5));
    }

    [Fact]
    public async Task InitializeAsync_MissingBucket_ThrowsContainerMissingNamingTheBucket()
    {
        var store = CreateS3Store("s3://no-such-bucket-here/repo");

        var e = await Assert.ThrowsAsync<StorageException>(() => store.InitializeAsync(CancellationToken.None));

        Assert.Equal(StorageFailure.ContainerMissing, e.Failure);
        Assert.Contains("bucket 'no-such-bucket-here' does not exist", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PutAsync_MissingBucket_ThrowsContainerMissing()
    {
        var store = CreateS3Store("s3://no-such-bucket-here/repo");

        var e = await Assert.ThrowsAsync<StorageException>(() => store.PutAsync("k", new byte[1], CancellationToken.None));

        Assert.Equal(StorageFailure.ContainerMissing, e.Failure);
    }

    [Fact]
    public async Task InitializeAsync_Twice_KeepsAForeignRuleAndHoldsTwoRulesOfItsOwn()
    {
        using var raw = peer.CreateClient();
        await raw.PutLifecycleConfigurationAsync(new PutLifecycleConfigurationRequest
        {
            BucketName = _bucket,
            Configuration = new LifecycleConfiguration
            {
                Rules =
                [
                    new LifecycleRule
                    {
                        Id = "someone-elses-log-expiry",
                        Status = LifecycleRuleStatus.Enabled,
                        Filter = new LifecycleFilter { Prefix = "logs/" },
                        Expiration = new LifecycleRuleExpiration { Days = 30 },
                    },
                ],
            },
        });
        var store = CreateS3Store($"s3://{_bucket}/abc");

        await store.InitializeAsync(CancellationToken.None);
        await store.InitializeAsync(CancellationToken.None);

        var rules = (await raw.GetLifecycleConfigurationAsync(new GetLifecycleConfigurationRequest { BucketName = _bucket })).Configuration.Rules;
        Assert.Equal(3, rules.Count);
        var foreign = Assert.Single(rules, r => r.Id == "someone-elses-log-expiry");
        Assert.Equal("logs/", S3ObjectStore.RuleFilterPrefix(foreign));
        Assert.Equal(30, foreign.Expiration?.Days);
        Assert.Equal(LifecycleRuleStatus.Enabled, foreign.Status);
        // SHA-256("abc") starts ba7816bf8f01cfea (the FIPS 180-2 test vector).
        var own = Assert.Single(rules, r => r.Id == "spotdevbox-abort-multipart-ba7816bf8f01cfea");
        Assert.Equal("abc/", S3ObjectStore.RuleFilterPrefix(own));
        Assert.Equal(1, own.AbortIncompleteMultipartUpload?.DaysAfterInitiation);
        Assert.Equal(LifecycleRuleStatus.Enabled, own.Status);
        var history = Assert.Single(rules, r => r.Id == "spotdevbox-history-ba7816bf8f01cfea");
        Assert.Equal("abc/", S3ObjectStore.RuleFilterPrefix(history));
        Assert.Equal(30, history.NoncurrentVersionExpiration?.NoncurrentDays);
        Assert.Equal(LifecycleRuleStatus.Enabled, history.Status);
    }

    [Fact]
    public async Task InitializeAsync_TwoRepositoriesInOneBucket_EachAddsItsOwnRule()
    {
        using var raw = peer.CreateClient();

        await CreateS3Store($"s3://{_bucket}/abc").InitializeAsync(CancellationToken.None);
        await CreateS3Store($"s3://{_bucket}").InitializeAsync(CancellationToken.None);

        var rules = (await raw.GetLifecycleConfigurationAsync(new GetLifecycleConfigurationRequest { BucketName = _bucket })).Configuration.Rules;
        Assert.Equal(
            ["spotdevbox-abort-multipart-ba7816bf8f01cfea", "spotdevbox-abort-multipart-e3b0c44298fc1c14", "spotdevbox-history-ba7816bf8f01cfea", "spotdevbox-history-e3b0c44298fc1c14"],
            rules.Select(r => r.Id).Order(StringComparer.Ordinal));
        // SHA-256("") starts e3b0c44298fc1c14; that rule covers the whole bucket.
        Assert.All(rules.Where(r => r.Id.EndsWith("e3b0c44298fc1c14", StringComparison.Ordinal)), r => Assert.Equal("", S3ObjectStore.RuleFilterPrefix(r) ?? ""));
    }

    [Fact]
    public async Task PutAsync_ClosedLocalPort_ThrowsUnreachableNamingTheEndpointWithinTenSeconds()
    {
        var endpoint = $"http://127.0.0.1:{ClosedPort().ToString(CultureInfo.InvariantCulture)}";
        var store = CreateS3Store($"s3://{_bucket}/x", endpoint: endpoint);
        var clock = Stopwatch.StartNew();

        var put = await Assert.ThrowsAsync<StorageException>(() => store.PutAsync("k", new byte[10], CancellationToken.None));
        var init = await Assert.ThrowsAsync<StorageException>(() => store.InitializeAsync(CancellationToken.None));

        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(10));
        Assert.Equal(StorageFailure.Unreachable, put.Failure);
        Assert.Equal(StorageFailure.Unreachable, init.Failure);
        Assert.Contains(endpoint, put.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PutAsync_NoKmsKey_SendsSseS3Header()
    {
        await using var server = new StubS3Server(StubBehavior.Ok);
        var store = CreateS3Store("s3://bucket/repo", endpoint: server.Endpoint);

        await store.PutAsync("k", new byte[10], CancellationToken.None);

        var put = Assert.Single(server.Requests);
        Assert.Equal("PUT", put.Method);
        Assert.Equal("/bucket/repo/k", put.Target);
        Assert.Equal("AES256", put.Headers["x-amz-server-side-encryption"]);
        Assert.False(put.Headers.ContainsKey("x-amz-server-side-encryption-aws-kms-key-id"));
    }

    [Fact]
    public async Task PutAsync_KmsKeyConfigured_SendsKmsHeaderAndKeyId()
    {
        await using var server = new StubS3Server(StubBehavior.Ok);
        var store = CreateS3Store("s3://bucket/repo", endpoint: server.Endpoint, kmsKeyId: "alias/spotdevbox-backups");

        await store.PutAsync("k", new byte[10], CancellationToken.None);

        var put = Assert.Single(server.Requests);
        Assert.Equal("aws:kms", put.Headers["x-amz-server-side-encryption"]);
        Assert.Equal("alias/spotdevbox-backups", put.Headers["x-amz-server-side-encryption-aws-kms-key-id"]);
    }

    [Fact]
    public async Task PutAsync_ServerAnswers413_ThrowsRejectedWithoutRetrying()
    {
        await using var server = new StubS3Server(StubBehavior.EntityTooLargeAfterBody);
        var store = CreateS3Store("s3://bucket/repo", endpoint: server.Endpoint);

        var e = await Assert.ThrowsAsync<StorageException>(() => store.PutAsync("k", new byte[100_000], CancellationToken.None));

        Assert.Equal(StorageFailure.Rejected, e.Failure);
        Assert.InRange(server.Requests.Count, 1, 1 + S3ObjectStoreFactory.MaxErrorRetry);
    }

    [Fact]
    public async Task PutAsync_ServerCutsTheBodyOffWith413_FailsQuicklyInsteadOfSucceedingOrRetryingForever()
    {
        // This is what fauxqs does above its body limit: the SDK sees a broken pipe, not the 413.
        await using var server = new StubS3Server(StubBehavior.EntityTooLargeMidBody);
        var store = CreateS3Store("s3://bucket/repo", endpoint: server.Endpoint);
        var clock = Stopwatch.StartNew();

        var e = await Assert.ThrowsAsync<StorageException>(() => store.PutAsync("k", new byte[12 * 1024 * 1024], CancellationToken.None));

        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(10));
        Assert.Contains(e.Failure, new[] { StorageFailure.Rejected, StorageFailure.Unreachable });
        Assert.InRange(server.Requests.Count, 1, 20);
    }

    [Fact]
    public async Task GetSizeAsync_EightAtOnce_RunConcurrentlyOverSeparateConnections()
    {
        await using var server = new StubS3Server(StubBehavior.SlowOk);
        var store = CreateS3Store("s3://bucket/repo", endpoint: server.Endpoint);

        var sizes = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => store.GetSizeAsync($"k{i}", CancellationToken.None)));

        Assert.All(sizes, size => Assert.Equal(5L, size));
        Assert.Equal(8, server.PeakConcurrentRequests);
    }

    [Fact]
    public async Task GetAsync_403ForAKeyTheListingDoesNotName_IsNotFoundAfterListingExactlyThatKey()
    {
        await using var server = new StubS3Server(StubBehavior.DeniedReadOfAnUnlistedKey);
        var store = CreateS3Store("s3://bucket/boxes/alice/alice-dev", endpoint: server.Endpoint);

        var e = await Assert.ThrowsAsync<StorageException>(() => store.GetAsync("control.json", CancellationToken.None));

        Assert.Equal(StorageFailure.NotFound, e.Failure);
        Assert.Equal(["GET /bucket/boxes/alice/alice-dev/control.json", "GET /bucket/?list-type=2&max-keys=1&prefix=boxes%2Falice%2Falice-dev%2Fcontrol.json"],
            server.Requests.Select(r => $"{r.Method} {SortedQuery(r.Target)}"));
    }

    [Fact]
    public async Task GetAsync_403ForAKeyTheListingNames_StaysAccessDenied()
    {
        await using var server = new StubS3Server(StubBehavior.DeniedReadOfAListedKey);
        var store = CreateS3Store("s3://bucket/boxes/alice/alice-dev", endpoint: server.Endpoint);

        var e = await Assert.ThrowsAsync<StorageException>(() => store.GetAsync("control.json", CancellationToken.None));

        Assert.Equal(StorageFailure.AccessDenied, e.Failure);
        Assert.Contains("boxes/alice/alice-dev/control.json", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAsync_403AndTheListingRefusedToo_StaysAccessDenied()
    {
        await using var server = new StubS3Server(StubBehavior.DeniedEverything);
        var store = CreateS3Store("s3://bucket/boxes/alice/alice-dev", endpoint: server.Endpoint);

        var e = await Assert.ThrowsAsync<StorageException>(() => store.GetAsync("status.json", CancellationToken.None));

        Assert.Equal(StorageFailure.AccessDenied, e.Failure);
    }

    [Fact]
    public async Task GetVersionedAsync_403ForAnUnlistedKey_IsAbsent()
    {
        await using var server = new StubS3Server(StubBehavior.DeniedReadOfAnUnlistedKey);
        var store = CreateS3Store("s3://bucket/boxes/alice/alice-dev", endpoint: server.Endpoint);

        Assert.Null(await store.GetVersionedAsync("launch.json", CancellationToken.None));
    }

    [Fact]
    public async Task GetVersionedAsync_403ForAListedKey_StaysAccessDenied()
    {
        await using var server = new StubS3Server(StubBehavior.DeniedReadOfAListedKey);
        var store = CreateS3Store("s3://bucket/boxes/alice/alice-dev", endpoint: server.Endpoint);

        var e = await Assert.ThrowsAsync<StorageException>(() => store.GetVersionedAsync("launch.json", CancellationToken.None));

        Assert.Equal(StorageFailure.AccessDenied, e.Failure);
    }

    [Fact]
    public async Task GetSizeAsync_403ForAnUnlistedKey_IsAbsent()
    {
        await using var server = new StubS3Server(StubBehavior.DeniedReadOfAnUnlistedKey);
        var store = CreateS3Store("s3://bucket/boxes/alice/alice-dev", endpoint: server.Endpoint);

        Assert.Null(await store.GetSizeAsync("status.json", CancellationToken.None));
        Assert.Equal(["HEAD", "GET"], server.Requests.Select(r => r.Method));
    }

    [Fact]
    public async Task GetSizeAsync_403ForAListedKey_StaysAccessDenied()
    {
        await using var server = new StubS3Server(StubBehavior.DeniedReadOfAListedKey);
        var store = CreateS3Store("s3://bucket/boxes/alice/alice-dev", endpoint: server.Endpoint);

        var e = await Assert.ThrowsAsync<StorageException>(() => store.GetSizeAsync("status.json", CancellationToken.None));

        Assert.Equal(StorageFailure.AccessDenied, e.Failure);
    }

    /// <summary>The request target with its query parameters in name order, so the SDK's parameter order does not matter.</summary>
    private static string SortedQuery(string target)
    {
        var question = target.IndexOf('?', StringComparison.Ordinal);
        if (question < 0)
        {
            return target;
        }

        var parameters = target[(question + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Where(p => !p.StartsWith("encoding-type=", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);
        return target[..question] + "?" + string.Join("&", parameters);
    }

    private S3ObjectStore CreateS3Store(string location, string? endpoint = null, string? kmsKeyId = null)
    {
        var store = S3ObjectStoreFactory.Create(
            RepositoryLocation.Parse(location),
            new S3StoreOptions(endpoint ?? peer.Endpoint, S3PeerFixture.Region, kmsKeyId),
            S3PeerFixture.Credentials,
            environment: _ => null,
            regionChain: _ => null);
        _stores.Add(store);
        return store;
    }

    private async Task<byte[]> RawGetAsync(string objectKey)
    {
        using var raw = peer.CreateClient();
        using var response = await raw.GetObjectAsync(_bucket, objectKey);
        using var copy = new MemoryStream();
        await response.ResponseStream.CopyToAsync(copy);
        return copy.ToArray();
    }

    private static async Task PutAllAsync(S3ObjectStore store, IEnumerable<string> keys) =>
        await Parallel.ForEachAsync(
            keys,
            new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (key, ct) => await store.PutAsync(key, new byte[] { 1 }, ct));

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
