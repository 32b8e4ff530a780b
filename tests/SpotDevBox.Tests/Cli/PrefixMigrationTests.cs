using System.Runtime.CompilerServices;
using Amazon.S3;
using Amazon.S3.Model;
using SpotDevBox.Aws.Storage;
using SpotDevBox.Backup.Storage;
using SpotDevBox.Commands;
using TestSupport;

namespace SpotDevBox.Tests.Cli;

/// <summary>
/// The move behind <c>spotdevbox storage migrate</c>, through the real S3 store against two independent S3
/// implementations: every object lands byte-identical at TO and nothing stays at FROM, also when the move is cut
/// off after any number of storage calls and run again with fresh store objects, as after a killed process.
/// </summary>
public abstract class PrefixMigrationContract
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 9, 30, 0, TimeSpan.Zero);

    /// <summary>A box's objects as the agent writes them, a 0-byte one and one of 300 KiB among them.</summary>
    private static readonly Dictionary<string, byte[]> BoxObjects = new(StringComparer.Ordinal)
    {
        ["repo/config"] = "{\"version\":2}"u8.ToArray(),
        ["repo/data/ab/ab12cd"] = Random(300 * 1024, seed: 1),
        ["repo/index/cd34ef"] = Random(4096, seed: 2),
        ["repo/snapshots/ef56ab"] = Random(700, seed: 3),
        ["host-keys/0001"] = Random(2048, seed: 4),
        ["host-keys.pub"] = "ssh-ed25519 AAAAC3Nza alice\n"u8.ToArray(),
        ["status.json"] = "{\"state\":\"Stopped\"}"u8.ToArray(),
        ["sessions/20261201T080000Z.json"] = [],
    };

    protected abstract Task<string> NewBucketAsync();

    protected abstract AmazonS3Client Client();

    protected abstract IObjectStore Store(string bucket, string prefix);

    [Fact]
    public async Task Run_BesidePrefix_EveryObjectAtToByteIdenticalNothingAtFromNeighbourUntouched()
    {
        var bucket = await SeedAsync("boxes/alice");
        await PutAsync(bucket, "boxes/alice-2/status.json", "neighbour"u8.ToArray());

        var result = await MigrateAsync(bucket, "boxes/alice", "team/alice/alice");

        Assert.Equal(new MigrationResult(BoxObjects.Count, 0, BoxObjects.Count, BoxObjects.Values.Sum(v => (long)v.Length)), result);
        var all = await ReadAllAsync(bucket);
        Assert.Equal(
            BoxObjects.Select(o => ("team/alice/alice/" + o.Key, o.Value)).Append(("boxes/alice-2/status.json", "neighbour"u8.ToArray())).OrderBy(o => o.Item1, StringComparer.Ordinal),
            all.Select(o => (o.Key, o.Value)));
    }

    [Fact]
    public async Task Run_ToNestedInFrom_OnlyFromsOwnObjectsMoveAndNoneTwice()
    {
        var bucket = await SeedAsync("boxes/alice");

        await MigrateAsync(bucket, "boxes/alice", "boxes/alice/alice");
        var again = await MigrateAsync(bucket, "boxes/alice", "boxes/alice/alice");

        Assert.Equal(new MigrationResult(0, 0, 0, 0), again);
        Assert.Equal(
            BoxObjects.Select(o => ("boxes/alice/alice/" + o.Key, o.Value)).OrderBy(o => o.Item1, StringComparer.Ordinal),
            (await ReadAllAsync(bucket)).Select(o => (o.Key, o.Value)));
    }

    [Theory]
    [InlineData("team/alice/alice")]
    [InlineData("boxes/alice/alice")]
    public async Task Run_CutOffAfterEachNumberOfStorageCalls_RerunEndsWithEveryObjectAtToOnce(string to)
    {
        // Every point at which a killed process could have stopped: after the 1st, 2nd, ... call to the store.
        var cuts = 0;
        for (var budget = 1; ; budget++)
        {
            var bucket = await SeedAsync("boxes/alice");
            var countdown = new Countdown(budget);
            var cut = false;
            try
            {
                await MigrateAsync(bucket, "boxes/alice", to, countdown);
            }
            catch (StorageException e) when (e.Message == Countdown.Killed)
            {
                cut = true;
                cuts++;
            }

            // A new process: new store objects, the same arguments.
            await MigrateAsync(bucket, "boxes/alice", to);

            Assert.True(
                BoxObjects.Select(o => (to + "/" + o.Key, o.Value)).OrderBy(o => o.Item1, StringComparer.Ordinal).SequenceEqual(
                    (await ReadAllAsync(bucket)).Select(o => (o.Key, o.Value)), new ObjectComparer()),
                $"cut after {budget} calls: {string.Join(", ", (await ReadAllAsync(bucket)).Select(o => o.Key))}");
            if (!cut)
            {
                break;
            }
        }

        // Reading the marker, two listings, three calls per object, the marker, the deletes, the marker's delete.
        Assert.True(cuts >= 2 + (3 * BoxObjects.Count) + 3, $"only {cuts} cut points");
    }

    [Fact]
    public async Task Run_ObjectAtToWithOtherContentOfTheSameSize_RefusedNamingItNothingDeleted()
    {
        var bucket = await SeedAsync("boxes/alice");
        var other = Random(4096, seed: 99);
        await PutAsync(bucket, "team/alice/alice/repo/index/cd34ef", other);

        var e = await Assert.ThrowsAsync<MigrationConflictException>(() => MigrateAsync(bucket, "boxes/alice", "team/alice/alice"));

        Assert.Equal("repo/index/cd34ef", e.Key);
        var all = (await ReadAllAsync(bucket)).ToDictionary(o => o.Key, o => o.Value, StringComparer.Ordinal);
        Assert.All(BoxObjects, o => Assert.Equal(o.Value, all["boxes/alice/" + o.Key]));
        Assert.Equal(other, all["team/alice/alice/repo/index/cd34ef"]);
        Assert.DoesNotContain("boxes/alice/" + PrefixMigration.MarkerKey, all.Keys);
    }

    [Fact]
    public async Task Run_ObjectAtToOfAnotherSize_RefusedBeforeAnythingIsWritten()
    {
        var bucket = await SeedAsync("boxes/alice");
        await PutAsync(bucket, "team/alice/alice/status.json", "{}"u8.ToArray());

        var e = await Assert.ThrowsAsync<MigrationConflictException>(() => MigrateAsync(bucket, "boxes/alice", "team/alice/alice"));

        Assert.Equal("status.json", e.Key);
        Assert.Equal(
            BoxObjects.Select(o => "boxes/alice/" + o.Key).Append("team/alice/alice/status.json").Order(StringComparer.Ordinal),
            (await ReadAllAsync(bucket)).Select(o => o.Key));
    }

    [Fact]
    public async Task Plan_SomeCopiedOneConflicting_NamesEachStepAndWritesNothing()
    {
        var bucket = await SeedAsync("boxes/alice");
        await PutAsync(bucket, "team/alice/alice/repo/config", BoxObjects["repo/config"]);
        await PutAsync(bucket, "team/alice/alice/status.json", "{\"state\":\"Running\"}"u8.ToArray());
        var before = await ReadAllAsync(bucket);

        var from = Store(bucket, "boxes/alice");
        var migration = new PrefixMigration(from, Store(bucket, "team/alice/alice"), null, new FixedTime(Now));
        var plan = await migration.PlanAsync(await migration.ListAsync(CancellationToken.None), CancellationToken.None);

        Assert.Equal(
            BoxObjects.Keys.Order(StringComparer.Ordinal).Select(k => (k, k switch
            {
                "repo/config" => MigrationStep.AlreadyThere,
                "status.json" => MigrationStep.Conflict,
                _ => MigrationStep.Copy,
            })),
            plan.Select(p => (p.Object.Key, p.Step)));
        Assert.Equal(before.Select(o => o.Key), (await ReadAllAsync(bucket)).Select(o => o.Key));
    }

    private async Task<MigrationResult> MigrateAsync(string bucket, string from, string to, Countdown? countdown = null)
    {
        IObjectStore f = Store(bucket, from), t = Store(bucket, to);
        try
        {
            var toUnderFrom = to.StartsWith(from + "/", StringComparison.Ordinal) ? to[(from.Length + 1)..] : null;
            var migration = countdown is null
                ? new PrefixMigration(f, t, toUnderFrom, new FixedTime(Now))
                : new PrefixMigration(new CountdownStore(f, countdown), new CountdownStore(t, countdown), toUnderFrom, new FixedTime(Now));
            var marker = await migration.ReadMarkerAsync(CancellationToken.None);
            if (marker is not null)
            {
                Assert.Equal($"s3://{bucket}/{to}", marker.To);
                Assert.Equal(Now, marker.At);
            }

            var objects = await migration.ListAsync(CancellationToken.None);
            return objects.Count == 0 && marker is null
                ? new MigrationResult(0, 0, 0, 0)
                : await migration.RunAsync(objects, marker, $"s3://{bucket}/{to}", CancellationToken.None);
        }
        finally
        {
            (f as IDisposable)?.Dispose();
            (t as IDisposable)?.Dispose();
        }
    }

    private async Task<string> SeedAsync(string prefix)
    {
        var bucket = await NewBucketAsync();
        foreach (var (key, content) in BoxObjects)
        {
            await PutAsync(bucket, prefix + "/" + key, content);
        }

        return bucket;
    }

    private async Task PutAsync(string bucket, string key, byte[] content)
    {
        using var client = Client();
        await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, InputStream = new MemoryStream(content) });
    }

    /// <summary>Every object in the bucket with its bytes, by key, read with a plain client.</summary>
    private async Task<List<(string Key, byte[] Value)>> ReadAllAsync(string bucket)
    {
        using var client = Client();
        var list = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket });
        var all = new List<(string, byte[])>();
        foreach (var o in (list.S3Objects ?? []).OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            using var response = await client.GetObjectAsync(bucket, o.Key);
            using var buffer = new MemoryStream();
            await response.ResponseStream.CopyToAsync(buffer);
            all.Add((o.Key, buffer.ToArray()));
        }

        return all;
    }

    private static byte[] Random(int length, int seed)
    {
        var bytes = new byte[length];
#pragma warning disable CA5394 // Test data, not security: a fixed seed so that every run has the same objects.
        new Random(seed).NextBytes(bytes);
#pragma warning restore CA5394
        return bytes;
    }

    private sealed class ObjectComparer : IEqualityComparer<(string Key, byte[] Value)>
    {
        public bool Equals((string Key, byte[] Value) x, (string Key, byte[] Value) y) => x.Key == y.Key && x.Value.AsSpan().SequenceEqual(y.Value);

        public int GetHashCode((string Key, byte[] Value) obj) => obj.Key.GetHashCode(StringComparison.Ordinal);
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    /// <summary>How many storage calls a run may make before it is cut off, shared by its two stores.</summary>
    private sealed class Countdown(int calls)
    {
        public const string Killed = "cut off (the test's kill)";
        private int _left = calls;

        public void Tick()
        {
            if (Interlocked.Decrement(ref _left) < 0)
            {
                throw new StorageException(StorageFailure.Unreachable, Killed);
            }
        }
    }

    /// <summary>Makes no call once the countdown ran out: the state a process killed at that moment leaves.</summary>
    private sealed class CountdownStore(IObjectStore inner, Countdown countdown) : IObjectStore
    {
        public string Location => inner.Location;

        public Task InitializeAsync(CancellationToken cancellationToken) => Run(() => inner.InitializeAsync(cancellationToken));

        public Task PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken) => Run(() => inner.PutAsync(key, content, cancellationToken));

        public Task<byte[]> GetAsync(string key, CancellationToken cancellationToken) => Run(() => inner.GetAsync(key, cancellationToken));

        public Task<byte[]> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken) => Run(() => inner.GetRangeAsync(key, offset, length, cancellationToken));

        public Task ReadRangeAsync(string key, long offset, Memory<byte> destination, CancellationToken cancellationToken) => Run(() => inner.ReadRangeAsync(key, offset, destination, cancellationToken));

        public Task<long?> GetSizeAsync(string key, CancellationToken cancellationToken) => Run(() => inner.GetSizeAsync(key, cancellationToken));

        public async IAsyncEnumerable<StoredObject> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            countdown.Tick();
            await foreach (var o in inner.ListAsync(prefix, cancellationToken))
            {
                yield return o;
            }
        }

        public Task DeleteAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken) => Run(() => inner.DeleteAsync(keys, cancellationToken));

        public Task<VersionedObject?> GetVersionedAsync(string key, CancellationToken cancellationToken) => Run(() => inner.GetVersionedAsync(key, cancellationToken));

        public Task<bool> PutIfAsync(string key, ReadOnlyMemory<byte> content, string? expectedETag, CancellationToken cancellationToken) =>
            Run(() => inner.PutIfAsync(key, content, expectedETag, cancellationToken));

        private Task Run(Func<Task> call)
        {
            countdown.Tick();
            return call();
        }

        private Task<T> Run<T>(Func<Task<T>> call)
        {
            countdown.Tick();
            return call();
        }
    }
}

/// <summary>Against fauxqs, the S3 peer of every S3 test.</summary>
[Collection("s3-controller")]
public sealed class PrefixMigrationS3PeerTests(S3PeerFixture peer) : PrefixMigrationContract
{
    protected override async Task<string> NewBucketAsync()
    {
        var bucket = peer.NewBucketName("migrate");
        await peer.CreateBucketAsync(bucket);
        return bucket;
    }

    protected override AmazonS3Client Client() => peer.CreateClient();

    protected override IObjectStore Store(string bucket, string prefix) =>
        S3ObjectStoreFactory.Create(RepositoryLocation.Parse($"s3://{bucket}/{prefix}"), new S3StoreOptions(peer.Endpoint, S3PeerFixture.Region, null), S3PeerFixture.Credentials, _ => null, _ => null);
}

/// <summary>Against moto, an independent implementation of S3 (with conditional writes).</summary>
[Collection("moto")]
public sealed class PrefixMigrationMotoTests(MotoFixture moto) : PrefixMigrationContract
{
    private static int s_buckets;

    protected override async Task<string> NewBucketAsync()
    {
        var bucket = $"migrate-{Interlocked.Increment(ref s_buckets)}";
        await moto.CreateBucketAsync(bucket);
        return bucket;
    }

    protected override AmazonS3Client Client() => moto.CreateS3Client();

    protected override IObjectStore Store(string bucket, string prefix) =>
        S3ObjectStoreFactory.Create(RepositoryLocation.Parse($"s3://{bucket}/{prefix}"), new S3StoreOptions(moto.Endpoint, MotoFixture.Region, null), S3PeerFixture.Credentials, _ => null, _ => null);
}
