using SpotDevBox.Backup.Storage;
using TestSupport;

namespace SpotDevBox.Backup.Tests.Storage;

/// <summary>The object store contract, for a repository in a local directory.</summary>
public sealed class LocalDirectoryObjectStoreTests : ObjectStoreContractTests, IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "sdb-store-" + Guid.NewGuid().ToString("N")[..12]);

    protected override IObjectStore CreateStore() => new LocalDirectoryObjectStore(Path.Combine(_root, Guid.NewGuid().ToString("N")[..8]));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
