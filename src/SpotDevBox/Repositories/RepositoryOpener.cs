using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SpotDevBox.Aws.Storage;
using SpotDevBox.Backup.Keys;
using SpotDevBox.Backup.Repository;
using SpotDevBox.Backup.Storage;

namespace SpotDevBox.Repositories;

/// <summary>Turns --repo and the storage settings into an object store and a repository.</summary>
internal sealed class RepositoryOpener(
    IOptions<BackupEngineOptions> engineOptions, IOptions<StorageOptions> storageOptions, IOptions<KeyOptions> keyOptions, TimeProvider time, ILoggerFactory loggers)
{
    private readonly Lazy<IKeyManagementService> kms = new(() => new SpotDevBox.Aws.Keys.KmsKeyService());
    private readonly PasswordSource passwords = PasswordSource.ForThisProcess();

    /// <summary>The configured engine options, with --cache-dir applied on a copy (the bound instance is shared).</summary>
    public BackupEngineOptions EngineOptions(IRepositoryAddress settings) =>
        settings.CacheDirectory is { } cache ? engineOptions.Value.WithCacheDirectory(cache) : engineOptions.Value;

    /// <param name="historyDays">The history window that initializing an S3 repository puts in its lifecycle rule.</param>
    public IObjectStore CreateStore(IRepositoryAddress settings, int historyDays = S3StoreOptions.DefaultHistoryDays)
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

    /// <summary>Opens with a key source of the caller's (the agent's: its KMS key or its password file).</summary>
    public Task<BackupRepository> OpenAsync(IRepositoryAddress settings, IRepositoryKeySource keys, CancellationToken cancellationToken) =>
        BackupRepository.OpenAsync(CreateStore(settings), EngineOptions(settings), time, loggers.CreateLogger<BackupRepository>(), keys, cancellationToken);

    /// <summary>The KMS client the key sources share (created on first use).</summary>
    public IKeyManagementService Kms => kms.Value;

    public Argon2idParameters NewKeyParameters => keyOptions.Value.Parameters;

    public Task<BackupRepository> OpenAsync(IRepositoryAddress settings, CancellationToken cancellationToken) =>
        BackupRepository.OpenAsync(CreateStore(settings), EngineOptions(settings), time, loggers.CreateLogger<BackupRepository>(), KeySource(settings, creating: false), cancellationToken);

    /// <summary>Creates an encrypted repository; its master key is wrapped by the passphrase (or by KMS with --box).</summary>
    public Task<BackupRepository> InitializeAsync(IRepositoryAddress settings, CancellationToken cancellationToken, int historyDays = S3StoreOptions.DefaultHistoryDays) =>
        BackupRepository.InitializeAsync(
            CreateStore(settings, historyDays), EngineOptions(settings), time, loggers.CreateLogger<BackupRepository>(), prepareStore: true, KeySource(settings, creating: true), cancellationToken);

    /// <summary>
    /// Where an encrypted repository's key comes from: KMS with the box's context (--box), else a passphrase from
    /// --password-file, --password-command, $SPOTDEVBOX_PASSWORD or a terminal prompt (asked twice when creating).
    /// Nothing is asked until a repository turns out to be encrypted.
    /// </summary>
    public IRepositoryKeySource KeySource(IRepositoryAddress settings, bool creating)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Box is { } box)
        {
            var slash = box.IndexOf('/', StringComparison.Ordinal);
            var keyArn = keyOptions.Value.KmsKeyArn;
            if (creating && string.IsNullOrWhiteSpace(keyArn))
            {
                throw new ArgumentException("init --box wraps the new repository's key with the fleet's repository key: set Keys:KmsKeyArn (spotdevbox setup writes it)");
            }

            return new KmsKeySource(kms.Value, keyArn, box[..slash], box[(slash + 1)..], time, label: "kms " + box);
        }

        var source = passwords;
        return new PassphraseKeySource(
            ct => source.ReadAsync(settings.PasswordFile, settings.PasswordCommand, ct, confirm: creating),
            time,
            keyOptions.Value.Parameters,
            label: DefaultKeyLabel());
    }

    /// <summary>The label of a passphrase key this process adds: user@host.</summary>
    public static string DefaultKeyLabel() => Environment.UserName + "@" + Environment.MachineName;

    private static string? NullIfEmpty(string value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
