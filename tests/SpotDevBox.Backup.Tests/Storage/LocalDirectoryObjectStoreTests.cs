using SpotDevBox.Backup.Storage;
using TestSupport;

namespace SpotDevBox.Backup.Tests.Storage;

/// <summary>The object store contract, for a repository in a local directory.</summary>
public sealed class LocalDirectoryObjectStoreTests : ObjectStoreContractTests, IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "sdb-store-" + Guid.NewGuid().ToString("N")[..12]);

    protected override IObjectStore CreateStore() => new LocalDirectoryObjectStore(Path.Combine(_root, Guid.NewGuid().ToString("N")[..8]));

    [Fact]
    public async Task PutAsync_Object_LeavesOnlyTheObjectOnDisk()
    {
        var location = Path.Combine(_root, "direct");
        var store = new LocalDirectoryObjectStore(location);
        await store.InitializeAsync(CancellationToken.None);

        await store.PutAsync("data/ab/ab12", new byte[] { 1, 2, 3 }, CancellationToken.None);

        // Written under a temporary name, flushed and renamed: a reader never sees a partial object,
        // and nothing is left beside it.
        var files = Directory.GetFiles(location, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(location, f)).ToList();
        Assert.Equal([Path.Combine("data", "ab", "ab12")], files);
        Assert.Equal(new byte[] { 1, 2, 3 }, await File.ReadAllBytesAsync(Path.Combine(location, "data", "ab", "ab12")));
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}

/// <summary>The conditional-write contract, for a repository in a local directory (a lock file makes it atomic).</summary>
public sealed class LocalDirectoryConditionalWritesTests : ConditionalWritesContractTests, IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "sdb-cond-" + Guid.NewGuid().ToString("N")[..12]);

    protected override async Task<IObjectStore> CreateInitializedStoreAsync()
    {
        var store = new LocalDirectoryObjectStore(Path.Combine(_root, Guid.NewGuid().ToString("N")[..8]));
        await store.InitializeAsync(CancellationToken.None);
        return store;
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
