using System.Security.Cryptography;
using SpotDevBox.Backup.Format;
using SpotDevBox.Backup.Repository;
using SpotDevBox.Backup.Storage;
using TestSupport;

namespace SpotDevBox.Backup.Tests.Engine;

/// <summary>
/// Packs, index files and snapshots are named by the SHA-256 of their bytes and written only if absent: an object
/// already under the name with other content is never replaced (the write fails naming the key), and the same content
/// again (a retried upload) is success. On the local store and on moto's S3, which honours If-None-Match.
/// </summary>
[Collection("moto")]
public sealed class ContentAddressedWriteTests(MotoFixture moto) : IAsyncLifetime, IDisposable
{
    private readonly TempDir _temp = new();
    private int _buckets;

    public Task InitializeAsync() => moto.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => _temp.Dispose();

    private Task<EngineHarness> HarnessAsync(string store) =>
        store == "local" ? EngineHarness.LocalAsync(_temp.Sub($"repo-{++_buckets}"), encrypted: false) : EngineHarness.MotoAsync(moto, $"ca-{++_buckets}", encrypted: false);

    private string Source()
    {
        var source = _temp.Sub($"src-{_buckets}");
        Directory.CreateDirectory(source);
        File.WriteAllBytes(Path.Combine(source, "a.bin"), RandomNumberGenerator.GetBytes(300_000));
        File.WriteAllText(Path.Combine(source, "b.txt"), "hello");
        return source;
    }

    private static async Task<List<string>> KeysAsync(IObjectStore store, string prefix)
    {
        var keys = new List<string>();
        await foreach (var o in store.ListAsync(prefix, CancellationToken.None))
        {
            keys.Add(o.Key);
        }

        return keys;
    }

    [Theory]
    [InlineData("local")]
    [InlineData("moto")]
    public async Task Backup_PackNameHeldByOtherContent_FailsNamingTheKeyAndLeavesTheObject(string store)
    {
        using var harness = await HarnessAsync(store);
        var source = Source();
        await harness.BackupAsync(source);
        var packs = await KeysAsync(harness.Store, "data/");
        Assert.NotEmpty(packs);
        // The repository forgets the run (no index, no snapshot), and someone with put rights plants other bytes
        // under each pack's name: the next backup of the same tree makes the same packs under the same names.
        await harness.Store.DeleteAsync([.. await KeysAsync(harness.Store, "index/"), .. await KeysAsync(harness.Store, "snapshots/")], CancellationToken.None);
        var planted = new Dictionary<string, byte[]>();
        foreach (var key in packs)
        {
            planted[key] = RandomNumberGenerator.GetBytes(1000);
            await harness.Store.PutAsync(key, planted[key], CancellationToken.None);
        }

        var e = await Assert.ThrowsAsync<RepositoryException>(() => harness.BackupAsync(source));

        Assert.True(packs.Any(k => e.Message.Contains($"object '{k}'", StringComparison.Ordinal)), e.Message);
        Assert.Contains("already exists with other content", e.Message, StringComparison.Ordinal);
        foreach (var (key, bytes) in planted)
        {
            Assert.Equal(bytes, await harness.Store.GetAsync(key, CancellationToken.None));
        }

        Assert.Empty(await KeysAsync(harness.Store, "snapshots/"));
    }

    [Theory]
    [InlineData("local")]
    [InlineData("moto")]
    public async Task SavePackIndexAndSnapshot_SameContentTwice_SecondIsSuccessAndStoredBytesUnchanged(string store)
    {
        using var harness = await HarnessAsync(store);
        var repository = await harness.OpenAsync();
        var bytes = RandomNumberGenerator.GetBytes(200_000);

        var first = await repository.SavePackAsync(bytes, BlobType.Data, CancellationToken.None);
        var retried = await repository.SavePackAsync(bytes, BlobType.Data, CancellationToken.None);
        var packs = new List<IndexPack> { new(first, bytes.Length, []) };
        var index = await repository.SaveIndexAsync(packs, CancellationToken.None);
        var indexAgain = await repository.SaveIndexAsync(packs, CancellationToken.None);

        Assert.Equal(first, retried);
        Assert.Equal(BlobId.Compute(bytes), first);
        Assert.Equal(bytes, await harness.Store.GetAsync(Pack.Key(first), CancellationToken.None));
        Assert.Equal(index, indexAgain);
        Assert.Equal([index], await KeysAsync(harness.Store, "index/"));
    }

    [Theory]
    [InlineData("local")]
    [InlineData("moto")]
    public async Task SaveIndex_NameHeldByOtherContent_FailsNamingTheKey(string store)
    {
        using var harness = await HarnessAsync(store);
        var repository = await harness.OpenAsync();
        var packs = new List<IndexPack> { new(BlobId.Compute([1, 2, 3]), 3, []) };
        var key = await repository.SaveIndexAsync(packs, CancellationToken.None);
        await harness.Store.DeleteAsync([key], CancellationToken.None);
        await harness.Store.PutAsync(key, new byte[] { 9, 9, 9 }, CancellationToken.None);

        var e = await Assert.ThrowsAsync<RepositoryException>(() => repository.SaveIndexAsync(packs, CancellationToken.None));

        Assert.Contains($"object '{key}'", e.Message, StringComparison.Ordinal);
        Assert.Equal([9, 9, 9], await harness.Store.GetAsync(key, CancellationToken.None));
    }

    [Theory]
    [InlineData("local")]
    [InlineData("moto")]
    public async Task BackupThenRestore_RoundTrip_StillWorks(string store)
    {
        using var harness = await HarnessAsync(store);
        var source = _temp.Sub($"tree-{_buckets}");
        new TreeGenerator(12) { Files = 60, LargeFiles = 1 }.Generate(source);

        await harness.BackupAsync(source);
        await harness.BackupAsync(source);
        await harness.RestoreAsync(_temp.Sub($"out-{_buckets}"));

        Assert.Empty(TreeComparer.Compare(source, Path.Combine(_temp.Sub($"out-{_buckets}"), Path.GetFileName(source))));
        if (store == "local")
        {
            // If-absent writes go through a hard link: no lock file is left beside each object.
            Assert.Empty(Directory.GetFiles(harness.Store.Location, "*.lock-spotdevbox", SearchOption.AllDirectories));
        }
    }
}
