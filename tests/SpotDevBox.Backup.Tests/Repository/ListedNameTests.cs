using System.Collections.Concurrent;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using SpotDevBox.Aws.Storage;
using SpotDevBox.Backup.Engine;
using SpotDevBox.Backup.FileSystem;
using SpotDevBox.Backup.Format;
using SpotDevBox.Backup.Repository;
using SpotDevBox.Backup.Storage;
using TestSupport;

namespace SpotDevBox.Backup.Tests.Repository;

/// <summary>
/// Names listed from the store are not trusted: whoever can write the repository's prefix can list any
/// key there (S3 takes any byte string). A name that is not an object id is skipped and reported, never
/// read nor turned into a cache path; an object whose bytes do not hash to its name is never used.
/// The cache sits two levels below the temporary tree, so a name that climbs out of it lands inside the
/// tree, where the test sees it.
/// </summary>
[UnsupportedOSPlatform("windows")]
public abstract class ListedNameTests : IAsyncLifetime, IDisposable
{
    private const int ForeignNameEventId = 1008;

    private readonly TempDir _temp = new("spotdevbox-listed-");
    private IObjectStore _store = null!;
    private readonly ListLogger _log = new();

    public ListedNameTests()
    {
        Directory.CreateDirectory(Source);
        File.WriteAllText(Path.Combine(Source, "notes.txt"), "the good snapshot\n");
        Directory.CreateDirectory(Path.Combine(Source, "sub"));
        File.WriteAllBytes(Path.Combine(Source, "sub", "data.bin"), [.. Enumerable.Range(0, 5000).Select(i => (byte)(i * 7))]);
    }

    private protected abstract Task<IObjectStore> CreateStoreAsync();

    /// <summary>Writes an object under <paramref name="key"/> directly, as a hostile writer of the prefix would.</summary>
    private protected abstract Task PlantAsync(IObjectStore store, string key, byte[] content);

    public async Task InitializeAsync() => _store = await CreateStoreAsync();

    public Task DisposeAsync()
    {
        (_store as IDisposable)?.Dispose();
        return Task.CompletedTask;
    }

    private async Task<List<string>> KeysAsync()
    {
        var keys = new List<string>();
        await foreach (var o in _store.ListAsync("", CancellationToken.None))
        {
            keys.Add(o.Key);
        }

        return keys;
    }

    private string Source => _temp.Sub("src");

    private string CacheRoot => Path.Combine(_temp.Path, "a", "b", "cache");

    private BackupEngineOptions Options => new() { CacheDirectory = CacheRoot, PackSizeMiB = 4, TransferConcurrency = 2, ReadConcurrency = 2 };

    public static TheoryData<string, string, string> ForeignNames => new()
    {
        // listed key, which content it is given, the name as the warning prints it
        { "index/../../../../x", "index", "index/../../../../x" },
        { "snapshots/../../../../y", "snapshot", "snapshots/../../../../y" },
        { "snapshots/..%2f..", "snapshot", "snapshots/..%2f.." },
        { "index/{temp}/absolute-index", "index", "index/{temp}/absolute-index" },
        { "snapshots/{temp}/absolute-snapshot", "snapshot", "snapshots/{temp}/absolute-snapshot" },
        { "snapshots/x\ny", "snapshot", "snapshots/x\\x0ay" },
        // not a hash at all, so no hash could be checked: its content must not be trusted either
        { "snapshots/latest", "snapshot", "snapshots/latest" },
        // a hash, but not spelled as this repository writes one
        { "snapshots/{upper}", "snapshot", "snapshots/{upper}" },
    };

    [Theory]
    [MemberData(nameof(ForeignNames))]
    public Task OpenAndRestore_ListedNameNotAnId_SkippedReportedAndNothingWrittenOutsideTheCache(string listed, string content, string printed) =>
        OpenAndRestoreWithForeignNameAsync(listed, content, printed);

    private protected async Task OpenAndRestoreWithForeignNameAsync(string listed, string content, string printed)
    {
        var good = await BackupAsync();
        var key = Expand(listed, good);
        await PlantAsync(_store, key, await ContentAsync(content, good));

        var repository = await OpenAsync();
        await repository.LoadIndexAsync(CancellationToken.None);
        var snapshots = await repository.ListSnapshotsAsync(CancellationToken.None);
        var target = _temp.Sub("restored");
        var restore = await new RestoreEngine(repository, new UnixFileSystem(), Microsoft.Extensions.Logging.Abstractions.NullLogger<RestoreEngine>.Instance)
            .RunAsync(new RestoreRequest { Target = target, Snapshot = "latest" }, CancellationToken.None);

        Assert.Equal([good.SnapshotId], snapshots.Select(s => s.Id));
        Assert.Empty(restore.Errors);
        Assert.Empty(TreeComparer.Compare(Source, Path.Combine(target, "src")));
        var expected = Expand(printed, good);
        var warning = Assert.Single(_log.Entries, e => e.EventId == ForeignNameEventId);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains(expected, warning.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(warning.Message, char.IsControl);
        AssertNothingOutsideTheCache(allowed: [Source, target]);
        AssertCacheHoldsOnlyVerifiedIds(repository.CacheDirectory);
    }

    [Theory]
    [InlineData("index")]
    [InlineData("snapshot")]
    public async Task Open_ObjectNamedByAnotherHash_NeverUsedNorCached(string kind)
    {
        var good = await BackupAsync();
        var other = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("some other object")));
        var key = (kind == "index" ? "index/" : "snapshots/") + other;
        await PlantAsync(_store, key, await ContentAsync(kind, good));

        var repository = await OpenAsync();
        await repository.LoadIndexAsync(CancellationToken.None);
        var snapshots = await repository.ListSnapshotsAsync(CancellationToken.None);

        Assert.Equal([good.SnapshotId], snapshots.Select(s => s.Id));
        var reported = kind == "index" ? repository.IndexErrors : repository.UnreadableSnapshots;
        Assert.Contains(reported, e => e.Contains("do not match its name", StringComparison.Ordinal));
        Assert.False(File.Exists(Path.Combine(repository.CacheDirectory, kind == "index" ? "index" : "snapshots", other)));
        AssertNothingOutsideTheCache(allowed: [Source]);
        AssertCacheHoldsOnlyVerifiedIds(repository.CacheDirectory);
    }

    [Fact]
    public async Task Open_CachedCopyAltered_ReadFromTheStoreAgain()
    {
        var good = await BackupAsync();
        var repository = await OpenAsync();
        await repository.ListSnapshotsAsync(CancellationToken.None);
        var cached = Path.Combine(repository.CacheDirectory, "snapshots", good.SnapshotId);
        Assert.True(File.Exists(cached));
        var altered = JsonSerializer.Serialize(good.Manifest with { Paths = ["/etc/sudoers.d"] }, SpotDevBox.Backup.Format.FormatJson.Default.SnapshotManifest);
        File.WriteAllText(cached, altered);

        var snapshots = await (await OpenAsync()).ListSnapshotsAsync(CancellationToken.None);

        Assert.Equal([Source], Assert.Single(snapshots).Manifest.Paths);
        Assert.Equal(good.SnapshotId, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(cached))));
    }

    [Fact]
    public async Task Check_ListedNameNotAnId_WarnsWithThePrintableName()
    {
        var good = await BackupAsync();
        await PlantAsync(_store, "snapshots/x\ny", await ContentAsync("snapshot", good));

        var check = await new Maintenance(await OpenAsync(), Microsoft.Extensions.Logging.Abstractions.NullLogger<Maintenance>.Instance)
            .CheckAsync(readData: true, null, CancellationToken.None);

        Assert.Empty(check.Errors);
        Assert.Equal(1, check.Snapshots);
        Assert.Contains(check.Warnings, w => w.StartsWith("'snapshots/x\\x0ay' is not a name this repository writes", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RemoveStale_ListedLockNameNotAnId_NeitherTrustedNorDeleted()
    {
        await BackupAsync();
        var stale = JsonSerializer.SerializeToUtf8Bytes(
            new LockRecord { Hostname = "elsewhere", Pid = 1, Exclusive = true, Operation = "prune", Time = DateTimeOffset.UnixEpoch },
            SpotDevBox.Backup.Format.FormatJson.Default.LockRecord);
        await PlantAsync(_store, "locks/../config", stale);
        await PlantAsync(_store, "locks/x\ny", stale);

        var repository = await OpenAsync();
        var removed = await RepositoryLock.RemoveStaleAsync(repository, CancellationToken.None);

        Assert.Equal(0, removed);
        var keys = await KeysAsync();
        Assert.Contains("locks/../config", keys);
        Assert.Contains("locks/x\ny", keys);
        Assert.Contains(BackupRepository.ConfigKey, keys);
        Assert.Equal(2, _log.Entries.Count(e => e.EventId == ForeignNameEventId));
    }

    [Fact]
    public async Task Prune_ListedIndexNameNotAnId_NotDeleted()
    {
        var first = await BackupAsync();
        File.WriteAllText(Path.Combine(Source, "notes.txt"), "a newer version\n");
        await BackupAsync();
        await PlantAsync(_store, "index/../config", await ContentAsync("index", first));

        var maintenance = new Maintenance(await OpenAsync(), Microsoft.Extensions.Logging.Abstractions.NullLogger<Maintenance>.Instance);
        await maintenance.ForgetAsync(new RetentionPolicy(1, 0, 0), dryRun: false, CancellationToken.None);
        var pruned = await maintenance.PruneAsync(dryRun: false, CancellationToken.None);

        Assert.True(pruned.PacksDeleted + pruned.PacksRepacked > 0);
        var keys = await KeysAsync();
        Assert.Contains("index/../config", keys);
        Assert.Contains(BackupRepository.ConfigKey, keys);
    }

    private async Task<BackupResult> BackupAsync()
    {
        if (await _store.GetSizeAsync(BackupRepository.ConfigKey, CancellationToken.None) is null)
        {
            await BackupRepository.InitializeAsync(_store, Options, TimeProvider.System, _log, CancellationToken.None);
        }

        var engine = new BackupEngine(await OpenAsync(), new UnixFileSystem(), Microsoft.Extensions.Logging.Abstractions.NullLogger<BackupEngine>.Instance);
        return await engine.RunAsync(new BackupRequest { Paths = [Source] }, CancellationToken.None);
    }

    private Task<BackupRepository> OpenAsync() => BackupRepository.OpenAsync(_store, Options, TimeProvider.System, _log, CancellationToken.None);

    private string Expand(string name, BackupResult good) =>
        name.Replace("{temp}", _temp.Path, StringComparison.Ordinal).Replace("{upper}", good.SnapshotId.ToUpperInvariant(), StringComparison.Ordinal);

    /// <summary>A copy of a real index file or manifest, so that only its name is wrong.</summary>
    private async Task<byte[]> ContentAsync(string kind, BackupResult good)
    {
        if (kind == "snapshot")
        {
            return await _store.GetAsync("snapshots/" + good.SnapshotId, CancellationToken.None);
        }

        var index = (await KeysAsync()).First(k => k.StartsWith("index/", StringComparison.Ordinal) && !k.Contains("..", StringComparison.Ordinal));
        return await _store.GetAsync(index, CancellationToken.None);
    }

    private void AssertNothingOutsideTheCache(IReadOnlyList<string> allowed)
    {
        var within = allowed.Append(CacheRoot).ToList();
        var ancestors = new[] { _temp.Sub("a"), Path.Combine(_temp.Path, "a", "b") };
        var stray = Directory.EnumerateFileSystemEntries(_temp.Path, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Where(p => !ancestors.Contains(p) && !within.Any(w => p == w || p.StartsWith(w + "/", StringComparison.Ordinal)))
            .ToList();
        Assert.Empty(stray);
    }

    private static void AssertCacheHoldsOnlyVerifiedIds(string cacheDirectory)
    {
        foreach (var folder in new[] { "index", "snapshots" })
        {
            var directory = Path.Combine(cacheDirectory, folder);
            if (!Directory.Exists(directory))
            {
                continue;
            }

            Assert.Empty(Directory.GetDirectories(directory));
            foreach (var file in Directory.GetFiles(directory))
            {
                Assert.Equal(Path.GetFileName(file), Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file))));
            }
        }
    }

    public void Dispose()
    {
        _temp.Dispose();
        _log.Dispose();
        GC.SuppressFinalize(this);
    }

    private sealed class ListLogger : ILogger, IDisposable
    {
        private readonly ConcurrentQueue<(LogLevel Level, int EventId, string Message)> _entries = new();

        public IReadOnlyList<(LogLevel Level, int EventId, string Message)> Entries => [.. _entries];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => this;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _entries.Enqueue((logLevel, eventId.Id, formatter(state, exception)));

        public void Dispose()
        {
        }
    }
}

[UnsupportedOSPlatform("windows")]
public sealed class InMemoryListedNameTests : ListedNameTests
{
    /// <summary>S3 cannot list a key holding NUL (its XML listing cannot carry one); a store that can is covered here.</summary>
    [Theory]
    [InlineData("index/a\0b", "index", "index/a\\x00b")]
    [InlineData("snapshots/\0", "snapshot", "snapshots/\\x00")]
    public Task OpenAndRestore_ListedNameWithNul_SkippedReportedAndNothingWrittenOutsideTheCache(string listed, string content, string printed) =>
        OpenAndRestoreWithForeignNameAsync(listed, content, printed);

    private protected override Task<IObjectStore> CreateStoreAsync() => Task.FromResult<IObjectStore>(new InMemoryObjectStore());

    private protected override Task PlantAsync(IObjectStore store, string key, byte[] content)
    {
        ((InMemoryObjectStore)store).Plant(key, content);
        return Task.CompletedTask;
    }
}

/// <summary>The same against the S3 peer: S3 takes any key, so a listing there can name anything.</summary>
[Collection("s3")]
[UnsupportedOSPlatform("windows")]
public sealed class S3ListedNameTests(S3PeerFixture peer) : ListedNameTests
{
    private protected override async Task<IObjectStore> CreateStoreAsync()
    {
        var bucket = peer.NewBucketName("listed");
        await peer.CreateBucketAsync(bucket);
        var store = S3ObjectStoreFactory.Create(RepositoryLocation.Parse($"s3://{bucket}/repo"), new S3StoreOptions(peer.Endpoint, S3PeerFixture.Region, null), S3PeerFixture.Credentials, _ => null, _ => null);
        return store;
    }

    private protected override async Task PlantAsync(IObjectStore store, string key, byte[] content)
    {
        var location = RepositoryLocation.Parse(store.Location);
        using var client = peer.CreateClient();
        using var body = new MemoryStream(content);
        await client.PutObjectAsync(new Amazon.S3.Model.PutObjectRequest { BucketName = location.Bucket, Key = location.Prefix + "/" + key, InputStream = body });
    }
}
