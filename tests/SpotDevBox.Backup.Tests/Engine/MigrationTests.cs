using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using SpotDevBox.Backup.Engine;
using SpotDevBox.Backup.Format;
using SpotDevBox.Backup.Repository;
using SpotDevBox.Backup.Storage;
using TestSupport;

namespace SpotDevBox.Backup.Tests.Engine;

/// <summary>spotdevbox migrate's engine: an unencrypted (version 2) repository rewritten in place as version 3.</summary>
public sealed class MigrationTests : IDisposable
{
    private readonly TempDir _temp = new();

    private string Repo => Path.Combine(_temp.Path, "repo");

    private string Source => Path.Combine(_temp.Path, "src", "work");

    /// <summary>A version 2 repository with two snapshots (the second the child of the first) of a tree with symlinks and hard links.</summary>
    private async Task<(EngineHarness Harness, SnapshotRef First, SnapshotRef Second)> UnencryptedWithTwoSnapshotsAsync()
    {
        new TreeGenerator(5) { Files = 120, LargeFiles = 1, LargeFileSize = (2 * 1024 * 1024) + 5 }.Generate(Source);
        var harness = await EngineHarness.LocalAsync(Repo, encrypted: false);
        await harness.BackupAsync(Source);
        await File.WriteAllTextAsync(Path.Combine(Source, "added-later.txt"), "second snapshot only");
        await harness.BackupAsync(Source);
        var snapshots = await (await harness.OpenAsync()).ListSnapshotsAsync(CancellationToken.None);
        Assert.Equal(2, snapshots.Count);
        return (harness, snapshots[0], snapshots[1]);
    }

    private static RepositoryMigration Migration(IObjectStore store, EngineHarness harness) =>
        new(store, harness.Options, TimeProvider.System, NullLogger.Instance);

    [Fact]
    public async Task RunAsync_UnencryptedRepository_EverySnapshotRestoresIdenticallyFromSealedObjectsOnly()
    {
        var (harness, first, second) = await UnencryptedWithTwoSnapshotsAsync();
        using var _ = harness;
        var before = TreeComparer.Describe(Source);
        var keys = new TestKeySource();

        var result = await Migration(harness.Store, harness).RunAsync(keys, CancellationToken.None);

        harness.Keys = keys;
        var repository = await harness.OpenAsync();
        Assert.True(repository.Encrypted);
        Assert.Equal(result.RepositoryId, repository.Config.Id);
        Assert.Equal(2, result.Snapshots);
        var snapshots = await repository.ListSnapshotsAsync(CancellationToken.None);
        Assert.Equal(2, snapshots.Count);
        // Snapshot ids change (their bytes are sealed); times, paths, summary and the parent chain do not.
        Assert.Equal(result.SnapshotIds[first.Id], snapshots[0].Id);
        Assert.Equal(result.SnapshotIds[second.Id], snapshots[1].Id);
        Assert.NotEqual(first.Id, snapshots[0].Id);
        Assert.Equal(first.Manifest.Time, snapshots[0].Manifest.Time);
        Assert.Equal(second.Manifest.Time, snapshots[1].Manifest.Time);
        Assert.Equal(first.Manifest.Paths, snapshots[0].Manifest.Paths);
        Assert.Equal(second.Manifest.Summary, snapshots[1].Manifest.Summary);
        Assert.Equal(second.Manifest.Hostname, snapshots[1].Manifest.Hostname);
        Assert.Null(snapshots[0].Manifest.Parent);
        Assert.Equal(snapshots[0].Id, snapshots[1].Manifest.Parent?.ToHex());
        Assert.All(snapshots, s => Assert.Equal(FormatVersion.Encrypted, s.Manifest.Version));

        var latest = Path.Combine(_temp.Path, "latest");
        Assert.Empty((await harness.RestoreAsync(latest)).Errors);
        Assert.Empty(TreeComparer.Compare(Source, Path.Combine(latest, "work")));
        var older = Path.Combine(_temp.Path, "older");
        Assert.Empty((await harness.RestoreAsync(older, snapshots[0].Id)).Errors);
        var olderTree = TreeComparer.Describe(Path.Combine(older, "work"));
        Assert.Equal(before.Count - 1, olderTree.Count);
        Assert.False(File.Exists(Path.Combine(older, "work", "added-later.txt")));

        var check = await harness.CheckAsync(readData: true);
        Assert.True(check.Ok, string.Join("\n", check.Errors));
        Assert.Empty(check.Warnings);
        AssertOnlySealedObjects(Repo);
        Assert.Single(Directory.GetFiles(Path.Combine(Repo, "keys")));
    }

    [Fact]
    public async Task RunAsync_Migrated_ConfigIsVersion3WithTheNewIdSoBuildsOfVersions1To2RefuseIt()
    {
        var (harness, _, _) = await UnencryptedWithTwoSnapshotsAsync();
        using var _h = harness;
        var oldId = (await harness.OpenAsync()).Config.Id;

        var result = await Migration(harness.Store, harness).RunAsync(new TestKeySource(), CancellationToken.None);

        // A build that knows versions 1 to 2 refuses any config above its newest version with "repository format
        // version N is not supported by this build" (the check is BackupRepository.OpenAsync's; its message is held
        // by BackupRepositoryFormatTests): the config's version is what keeps it off the sealed objects.
        var config = Encoding.UTF8.GetString(await File.ReadAllBytesAsync(Path.Combine(Repo, "config")));
        Assert.Contains("\"version\":3,", config, StringComparison.Ordinal);
        Assert.Contains($"\"id\":\"{result.RepositoryId}\"", config, StringComparison.Ordinal);
        Assert.NotEqual(oldId, result.RepositoryId);
        Assert.True(FormatVersion.Encrypted > FormatVersion.Current);
    }

    [Fact]
    public async Task RunAsync_AlreadyEncrypted_RefusedAndNothingChanged()
    {
        using var harness = await EngineHarness.LocalAsync(Repo);
        new TreeGenerator(2) { Files = 5, LargeFiles = 0 }.Generate(Source);
        await harness.BackupAsync(Source);
        var before = Listing(Repo);

        var e = await Assert.ThrowsAsync<RepositoryException>(() => Migration(harness.Store, harness).RunAsync(new TestKeySource(), CancellationToken.None));

        Assert.Equal(RepositoryProblem.AlreadyEncrypted, e.Problem);
        Assert.Contains("already encrypted", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, Listing(Repo));
    }

    [Fact]
    public async Task RunAsync_NoRepository_RefusedAsNotFound()
    {
        Directory.CreateDirectory(Repo);
        using var cache = new TempDir();
        var options = new BackupEngineOptions { CacheDirectory = cache.Path };

        var e = await Assert.ThrowsAsync<RepositoryException>(() =>
            new RepositoryMigration(new LocalDirectoryObjectStore(Repo), options, TimeProvider.System, NullLogger.Instance).RunAsync(new TestKeySource(), CancellationToken.None));

        Assert.Equal(RepositoryProblem.NotFound, e.Problem);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Repo));
    }

    [Fact]
    public async Task RunAsync_AnotherProcessHoldsALiveLock_RefusedNamingItAndNothingWritten()
    {
        var (harness, _, _) = await UnencryptedWithTwoSnapshotsAsync();
        using var _h = harness;
        await using var agentLock = await RepositoryLock.AcquireAsync(await harness.OpenAsync(), exclusive: false, "backup", CancellationToken.None);
        var before = Listing(Repo);

        var e = await Assert.ThrowsAsync<RepositoryException>(() => Migration(harness.Store, harness).RunAsync(new TestKeySource(), CancellationToken.None));

        Assert.Contains("locked by 'backup' on " + Environment.MachineName, e.Message, StringComparison.Ordinal);
        Assert.Contains("Stop that agent or command (or wait for it to finish) and run 'spotdevbox migrate' again", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, Listing(Repo));
    }

    /// <summary>A kill at each kind of point: among the new objects, right before the commit, among the deletions.</summary>
    [Theory]
    [InlineData("put", 1)]   // the first marker: nothing but it was written
    [InlineData("put", 4)]   // among the key file and the first packs
    [InlineData("put", 12)]  // among packs, index and snapshots
    [InlineData("config", 1)] // the record is written, the config not: not committed
    [InlineData("delete", 1)] // committed, no version 2 object deleted yet
    [InlineData("delete", 2)] // committed, version 2 objects deleted, markers left
    public async Task RunAsync_KilledAtAPoint_OldReadersOrMigrateHandleItAndARerunCompletes(string operation, int failAt)
    {
        var (harness, first, second) = await UnencryptedWithTwoSnapshotsAsync();
        using var _h = harness;
        var crashing = new CrashingStore(harness.Store, operation, failAt);
        var crashedKeys = new TestKeySource();

        await Assert.ThrowsAsync<SimulatedCrashException>(() => Migration(crashing, harness).RunAsync(crashedKeys, CancellationToken.None));
        // A killed process leaves its lock behind; one of a dead process on this host is stale at once, as after a real kill.
        foreach (var lockFile in Directory.GetFiles(Path.Combine(Repo, "locks")))
        {
            File.Delete(lockFile);
        }

        var committed = operation == "delete";
        if (committed)
        {
            var refused = await Assert.ThrowsAsync<RepositoryException>(() => BackupRepository.OpenAsync(harness.Store, harness.Options, TimeProvider.System, NullLogger.Instance, new TestKeySource(), CancellationToken.None));
            Assert.Contains("interrupted migration to encryption: run 'spotdevbox migrate' again", refused.Message, StringComparison.Ordinal);
        }
        else
        {
            // Not committed: the repository is still version 2 and an unencrypted reader restores every snapshot.
            var oldReader = await harness.OpenAsync();
            Assert.False(oldReader.Encrypted);
            Assert.Equal([first.Id, second.Id], (await oldReader.ListSnapshotsAsync(CancellationToken.None)).Select(s => s.Id));
            var early = Path.Combine(_temp.Path, "before-rerun");
            Assert.Empty((await harness.RestoreAsync(early)).Errors);
            Assert.Empty(TreeComparer.Compare(Source, Path.Combine(early, "work")));
            // ... and backs up into it, the sealed leftovers skipped.
            await harness.BackupAsync(Source);
        }

        var keys = new TestKeySource();
        var rerun = await Migration(harness.Store, harness).RunAsync(keys, CancellationToken.None);

        Assert.Equal(committed, rerun.Resumed);
        if (committed)
        {
            // The key made by the interrupted run opens it: the harness keeps it in memory, as a passphrase would.
            keys = crashedKeys;
        }

        harness.Keys = keys;
        var restored = Path.Combine(_temp.Path, "restored");
        Assert.Empty((await harness.RestoreAsync(restored)).Errors);
        Assert.Empty(TreeComparer.Compare(Source, Path.Combine(restored, "work")));
        var snapshots = await (await harness.OpenAsync()).ListSnapshotsAsync(CancellationToken.None);
        Assert.Equal([first.Manifest.Time, second.Manifest.Time], snapshots.Take(2).Select(s => s.Manifest.Time));
        Assert.Equal(committed ? 2 : 3, snapshots.Count);
        Assert.Equal(snapshots[0].Id, snapshots[1].Manifest.Parent?.ToHex());
        var check = await harness.CheckAsync(readData: true);
        Assert.True(check.Ok, string.Join("\n", check.Errors));
        Assert.Empty(check.Warnings);
        AssertOnlySealedObjects(Repo);
        Assert.Single(Directory.GetFiles(Path.Combine(Repo, "keys")));
    }

    /// <summary>Every pack, index file and snapshot starts with the sealed-object magic; no migration record or marker is left.</summary>
    private static void AssertOnlySealedObjects(string repo)
    {
        var objects = new[] { "data", "index", "snapshots" }
            .SelectMany(d => Directory.GetFiles(Path.Combine(repo, d), "*", SearchOption.AllDirectories))
            .ToList();
        Assert.NotEmpty(objects);
        Assert.All(objects, path => Assert.Equal("SDBE"u8.ToArray(), File.ReadAllBytes(path)[..4]));
        Assert.False(File.Exists(Path.Combine(repo, "migration")));
        Assert.False(Directory.Exists(Path.Combine(repo, "migration.pending")) && Directory.EnumerateFileSystemEntries(Path.Combine(repo, "migration.pending")).Any());
    }

    private static List<string> Listing(string repo) =>
        [.. Directory.GetFiles(repo, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(repo, p) + " " + new FileInfo(p).Length).Order(StringComparer.Ordinal)];

    public void Dispose() => _temp.Dispose();

    private sealed class SimulatedCrashException() : Exception("simulated crash");

    /// <summary>
    /// A store that fails (as a killed process would stop) at the <c>failAt</c>-th write of one kind: "put" (any new
    /// object or marker), "config" (the config), "delete" (a deletion of version 2 objects or markers).
    /// </summary>
    private sealed class CrashingStore(IObjectStore inner, string operation, int failAt) : IObjectStore
    {
        private int _count;

        public string Location => inner.Location;

        public Task InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

        public Task PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
        {
            Count(key.StartsWith("locks/", StringComparison.Ordinal) ? "" : key == "config" ? "config" : "put");
            return inner.PutAsync(key, content, cancellationToken);
        }

        public Task<bool> PutIfAsync(string key, ReadOnlyMemory<byte> content, string? expectedETag, CancellationToken cancellationToken)
        {
            Count("put");
            return inner.PutIfAsync(key, content, expectedETag, cancellationToken);
        }

        public Task DeleteAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
        {
            if (keys.Any(k => !k.StartsWith("locks/", StringComparison.Ordinal)))
            {
                Count("delete");
            }

            return inner.DeleteAsync(keys, cancellationToken);
        }

        private void Count(string kind)
        {
            if (kind == operation && Interlocked.Increment(ref _count) == failAt)
            {
                throw new SimulatedCrashException();
            }
        }

        public Task<byte[]> GetAsync(string key, CancellationToken cancellationToken) => inner.GetAsync(key, cancellationToken);

        public Task<byte[]> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken) => inner.GetRangeAsync(key, offset, length, cancellationToken);

        public Task ReadRangeAsync(string key, long offset, Memory<byte> destination, CancellationToken cancellationToken) => inner.ReadRangeAsync(key, offset, destination, cancellationToken);

        public Task<long?> GetSizeAsync(string key, CancellationToken cancellationToken) => inner.GetSizeAsync(key, cancellationToken);

        public IAsyncEnumerable<StoredObject> ListAsync(string prefix, CancellationToken cancellationToken) => inner.ListAsync(prefix, cancellationToken);

        public Task<VersionedObject?> GetVersionedAsync(string key, CancellationToken cancellationToken) => inner.GetVersionedAsync(key, cancellationToken);
    }
}
