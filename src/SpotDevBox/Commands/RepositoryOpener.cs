using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SpotDevBox.Aws.Storage;
using SpotDevBox.Backup.Repository;
using SpotDevBox.Backup.Storage;

namespace SpotDevBox.Commands;

/// <summary>Turns --repo and the storage settings into an object store and a repository.</summary>
internal sealed class RepositoryOpener(IOptions<BackupEngineOptions> engineOptions, IOptions<StorageOptions> storageOptions, TimeProvider time, ILoggerFactory loggers)
{
    /// <summary>The configured engine options, with --cache-dir applied on a copy (the bound instance is shared).</summary>
    public BackupEngineOptions EngineOptions(RepositorySettings settings) =>
        settings.CacheDirectory is { } cache ? engineOptions.Value.WithCacheDirectory(cache) : engineOptions.Value;

    /// <param name="historyDays">The history window that initializing an S3 repository puts in its lifecycle rule.</param>
    public IObjectStore CreateStore(RepositorySettings settings, int historyDays = S3StoreOptions.DefaultHistoryDays)
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
            settings.KmsKeyId ?? NullIfEmpty(s.KmsKeyId),
            historyDays));
    }

    public Task<BackupRepository> OpenAsync(RepositorySettings settings, CancellationToken cancellationToken) =>
        BackupRepository.OpenAsync(CreateStore(settings), EngineOptions(settings), time, loggers.CreateLogger<BackupRepository>(), cancellationToken);

    public Task<BackupRepository> InitializeAsync(RepositorySettings settings, CancellationToken cancellationToken, int historyDays = S3StoreOptions.DefaultHistoryDays) =>
        BackupRepository.InitializeAsync(CreateStore(settings, historyDays), EngineOptions(settings), time, loggers.CreateLogger<BackupRepository>(), cancellationToken);

    private static string? NullIfEmpty(string value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
