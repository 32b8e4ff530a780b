using Microsoft.Extensions.Logging.Abstractions;
using SpotDevBox.Aws.Storage;
using SpotDevBox.Backup.Engine;
using SpotDevBox.Backup.FileSystem;
using SpotDevBox.Backup.Repository;
using SpotDevBox.Backup.Storage;
using TestSupport;

namespace SpotDevBox.Backup.Tests.Engine;

/// <summary>A repository on a real store (local directory or the S3 peer) with its own cache, driven through the engine classes.</summary>
internal sealed class EngineHarness : IDisposable
{
    private readonly TempDir _cache = new("spotdevbox-cache-");

    private EngineHarness(IObjectStore store, bool encrypted, TestKeySource? keys = null)
    {
        Store = store;
        Keys = keys ?? (encrypted ? new TestKeySource() : null);
    }

    public IObjectStore Store { get; }

    /// <summary>The key source of an encrypted repository (format version 3, the default); null for an unencrypted one.</summary>
    public TestKeySource? Keys { get; set; }

    public BackupEngineOptions Options => new() { CacheDirectory = _cache.Path, PackSizeMiB = 4, TransferConcurrency = 4, ReadConcurrency = ReadConcurrency };

    public int ReadConcurrency { get; set; } = 2;

    /// <param name="encrypted">false: an unencrypted version 2 repository, as builds before version 3 made.</param>
    public static async Task<EngineHarness> LocalAsync(string directory, bool encrypted = true)
    {
        var h = new EngineHarness(new LocalDirectoryObjectStore(directory), encrypted);
        await h.InitAsync();
        return h;
    }

    /// <summary>An encrypted repository whose master key comes from <paramref name="keys"/> (e.g. one shared with another repository).</summary>
    public static async Task<EngineHarness> LocalAsync(string directory, TestKeySource keys)
    {
        var h = new EngineHarness(new LocalDirectoryObjectStore(directory), encrypted: true, keys);
        await h.InitAsync();
        return h;
    }

    /// <summary>A repository that already exists in <paramref name="directory"/> (a fixture), opened as it is.</summary>
    public static EngineHarness Existing(string directory) => new(new LocalDirectoryObjectStore(directory), encrypted: false);

    public static async Task<EngineHarness> S3Async(S3PeerFixture peer, string? prefix = "repo", bool encrypted = true)
    {
        ArgumentNullException.ThrowIfNull(peer);
        var bucket = peer.NewBucketName("engine");
        await peer.CreateBucketAsync(bucket);
        var location = RepositoryLocation.Parse($"s3://{bucket}/{prefix}");
        var store = S3ObjectStoreFactory.Create(location, new S3StoreOptions(peer.Endpoint, S3PeerFixture.Region, null), S3PeerFixture.Credentials, _ => null, _ => null);
        var h = new EngineHarness(store, encrypted);
        await h.InitAsync();
        return h;
    }

    /// <summary>A repository on moto's S3, which (unlike fauxqs) honours If-None-Match.</summary>
    public static async Task<EngineHarness> MotoAsync(MotoFixture moto, string bucket, bool encrypted = true)
    {
        ArgumentNullException.ThrowIfNull(moto);
        await moto.CreateBucketAsync(bucket);
        var location = RepositoryLocation.Parse($"s3://{bucket}/repo");
        var store = S3ObjectStoreFactory.Create(location, new S3StoreOptions(moto.Endpoint, MotoFixture.Region, null), S3PeerFixture.Credentials, _ => null, _ => null);
        var h = new EngineHarness(store, encrypted);
        await h.InitAsync();
        return h;
    }

    private async Task InitAsync() =>
        await BackupRepository.InitializeAsync(Store, Options, TimeProvider.System, NullLogger.Instance, prepareStore: true, Keys, CancellationToken.None);

    /// <summary>A fresh repository object per operation, as separate CLI runs would have.</summary>
    public Task<BackupRepository> OpenAsync(TimeProvider? time = null) =>
        BackupRepository.OpenAsync(Store, Options, time ?? TimeProvider.System, NullLogger.Instance, Keys, CancellationToken.None);

    public async Task<(BackupResult Result, BackupProgress Progress)> BackupAsync(params string[] paths) => await BackupAsync(new BackupRequest { Paths = paths });

    public async Task<(BackupResult Result, BackupProgress Progress)> BackupAsync(BackupRequest request, TimeProvider? time = null, IFileSystemMetadata? fileSystem = null)
    {
        var engine = new BackupEngine(await OpenAsync(time), fileSystem ?? new UnixFileSystem(), NullLogger<BackupEngine>.Instance);
        var result = await engine.RunAsync(request, CancellationToken.None);
        return (result, engine.Progress);
    }

    public async Task<RestoreResult> RestoreAsync(string target, string snapshot = "latest", bool overwrite = false, bool delete = false, IReadOnlyList<string>? includes = null, Action<RestoreStep, string>? beforeStep = null)
    {
        var engine = new RestoreEngine(await OpenAsync(), new UnixFileSystem(), NullLogger<RestoreEngine>.Instance) { BeforeStep = beforeStep };
        return await engine.RunAsync(new RestoreRequest { Target = target, Snapshot = snapshot, Overwrite = overwrite, Delete = delete, Includes = includes ?? [] }, CancellationToken.None);
    }

    public async Task<CheckResult> CheckAsync(bool readData = false) =>
        await new Maintenance(await OpenAsync(), NullLogger<Maintenance>.Instance).CheckAsync(readData, null, CancellationToken.None);

    public async Task<Maintenance> MaintenanceAsync(TimeProvider? time = null) => new(await OpenAsync(time), NullLogger<Maintenance>.Instance);

    public void Dispose()
    {
        _cache.Dispose();
        (Store as IDisposable)?.Dispose();
    }
}
