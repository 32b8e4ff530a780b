using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SpotDevBox.Aws.Storage;
using SpotDevBox.Backup.Repository;
using SpotDevBox.Backup.Storage;

namespace SpotDevBox.Commands;

/// <summary>Turns --repo and the storage settings into an object store and a repository.</summary>
internal sealed class RepositoryOpener(IOptions<BackupEngineOptions> engineOptions, IOptions<StorageOptions> storageOptions, TimeProvider time, ILoggerFactory loggers)
{
    public BackupEngineOptions EngineOptions(RepositorySettings settings)
    {
        var o = engineOptions.Value;
        var copy = new BackupEngineOptions
        {
            ReadConcurrency = o.ReadConcurrency,
            TransferConcurrency = o.TransferConcurrency,
            PackSizeMiB = o.PackSizeMiB,
            CompressionLevel = o.CompressionLevel,
            CacheDirectory = settings.CacheDirectory ?? o.CacheDirectory,
            StaleLockAfter = o.StaleLockAfter,
            PauseBeforeSnapshot = o.PauseBeforeSnapshot,
        };
        foreach (var e in o.Excludes)
        {
            copy.Excludes.Add(e);
        }

        return copy;
    }

    public IObjectStore CreateStore(RepositorySettings settings)
    {
        var location = RepositoryLocation.Parse(settings.Repository ?? "");
        if (location.Kind == RepositoryKind.Local)
        {
            return new LocalDirectoryObjectStore(location.LocalPath);
        }

        var s = storageOptions.Value;
        return S3ObjectStoreFactory.Create(location, new S3StoreOptions(
            settings.EndpointUrl ?? NullIfEmpty(s.EndpointUrl),
            settings.Region ?? NullIfEmpty(s.Region),
            settings.KmsKeyId ?? NullIfEmpty(s.KmsKeyId)));
    }

    public Task<BackupRepository> OpenAsync(RepositorySettings settings, CancellationToken cancellationToken) =>
        BackupRepository.OpenAsync(CreateStore(settings), EngineOptions(settings), time, loggers.CreateLogger<BackupRepository>(), cancellationToken);

    public Task<BackupRepository> InitializeAsync(RepositorySettings settings, CancellationToken cancellationToken) =>
        BackupRepository.InitializeAsync(CreateStore(settings), EngineOptions(settings), time, loggers.CreateLogger<BackupRepository>(), cancellationToken);

    private static string? NullIfEmpty(string value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
