using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SpotDevBox.Backup.Keys;
using SpotDevBox.Backup.Repository;
using SpotDevBox.Backup.Storage;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Launch;
using SpotDevBox.Core.Ssh;
using SpotDevBox.Repositories;

namespace SpotDevBox.Agent;

/// <summary>
/// The box's prefix in storage: the backup repository (<c>repo/</c>), the host keys (<c>host-keys/</c>, encrypted)
/// and their public halves (<c>host-keys.pub</c>), <c>status.json</c>, <c>control.json</c>, <c>launch.json</c> (the launch claim), <c>sessions/</c> and
/// <c>interruptions/</c>.
/// </summary>
internal sealed partial class BoxStorage(IOptions<AgentOptions> agentOptions, RepositoryOpener opener, TimeProvider time, ILoggerFactory loggers) : IDisposable
{
    /// <summary>Opened once per repository and kept while the agent runs: a backup every few minutes costs no KMS call or derivation.</summary>
    private readonly Lazy<CachedKeySource> _keys = new(() => new CachedKeySource(KeySourceOf(agentOptions.Value, opener, time)));

    private readonly Lazy<IObjectStore> _store = new(() =>
    {
        var box = agentOptions.Value.Box;
        if (RepositoryLocation.Parse(box) is { Kind: RepositoryKind.Local } local)
        {
            // A directory box is created like a bucket is: before the first status or record is written to it.
            Directory.CreateDirectory(local.LocalPath);
        }

        return opener.CreateStore(Settings(box));
    });

    /// <summary>A box's prefix for the verbs people type from anywhere (status BOX, keepalive BOX).</summary>
    public static BoxStorage ForPrefix(string box, RepositoryOpener opener, TimeProvider time) =>
        new(Microsoft.Extensions.Options.Options.Create(new AgentOptions { Box = box }), opener, time, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);

    public string Location => agentOptions.Value.Box;

    public string BoxName => agentOptions.Value.ResolveBoxName();

    /// <summary>Opens (creating it on first use) the repository under <paramref name="name"/>, e.g. "repo".</summary>
    public async Task<BackupRepository> OpenRepositoryAsync(string name, CancellationToken cancellationToken)
    {
        var settings = Settings(agentOptions.Value.Box.TrimEnd('/') + "/" + name);
        var options = opener.EngineOptions(settings);
        var keys = _keys.Value;
        try
        {
            return await opener.OpenAsync(settings, keys, cancellationToken);
        }
        catch (Exception e) when (e is RepositoryException { Problem: RepositoryProblem.NotFound }
            || (e is StorageException { Failure: StorageFailure.ContainerMissing } && RepositoryLocation.Parse(settings.Repository!).Kind == RepositoryKind.Local))
        {
            // A box's first boot: its repository does not exist yet.
            var logger = loggers.CreateLogger<BackupRepository>();
            try
            {
                return await BackupRepository.InitializeAsync(opener.CreateStore(settings), options, time, logger, prepareStore: true, keys, cancellationToken);
            }
            catch (StorageException bucketDenied) when (bucketDenied.Failure == StorageFailure.AccessDenied)
            {
                // The bucket-level part of creating a repository (HeadBucket, the lifecycle rules) is an operator's
                // (deploy/iam/init-policy.json); the box's role may write its repository's own objects. Create it so,
                // and say that the bucket's rules for this prefix are the operator's to set.
                LogBucketSetUpNotTheBoxs(loggers.CreateLogger<BoxStorage>(), settings.Repository!, bucketDenied.Message);
            }

            try
            {
                return await BackupRepository.InitializeAsync(opener.CreateStore(settings), options, time, logger, prepareStore: false, keys, cancellationToken);
            }
            catch (StorageException denied) when (denied.Failure == StorageFailure.AccessDenied)
            {
                throw new RepositoryException(
                    $"there is no repository at {settings.Repository} and this box may not create one ({denied.Message}); " +
                    $"run 'spotdevbox init --repo {settings.Repository}' once with the permissions of deploy/iam/init-policy.json", denied);
            }
        }
    }

    public async Task<ControlDocument?> ReadControlAsync(CancellationToken cancellationToken)
    {
        byte[] bytes;
        try
        {
            bytes = await _store.Value.GetAsync("control.json", cancellationToken);
        }
        catch (StorageException e) when (e.Failure == StorageFailure.NotFound)
        {
            return null;
        }

        return BoxJson.Parse(bytes, BoxJson.Default.ControlDocument, $"{Location}/control.json");
    }

    public Task WriteControlAsync(ControlDocument control, CancellationToken cancellationToken) =>
        _store.Value.PutAsync("control.json", JsonSerializer.SerializeToUtf8Bytes(control, BoxJson.Default.ControlDocument), cancellationToken);

    /// <summary>launch.json (the launch claim, docs/controller.md "One instance per box") with its ETag, or null when absent.</summary>
    public async Task<VersionedLaunchClaim?> ReadLaunchClaimAsync(CancellationToken cancellationToken)
    {
        var read = await _store.Value.GetVersionedAsync(LaunchClaimName, cancellationToken);
        return read is null ? null : new VersionedLaunchClaim(BoxJson.Parse(read.Content, BoxJson.Default.LaunchClaim, $"{Location}/{LaunchClaimName}"), read.ETag);
    }

    /// <summary>Writes launch.json only if it is as read (absent when <paramref name="expectedETag"/> is null); false when another writer came first.</summary>
    public Task<bool> TryWriteLaunchClaimAsync(LaunchClaim claim, string? expectedETag, CancellationToken cancellationToken) =>
        _store.Value.PutIfAsync(LaunchClaimName, JsonSerializer.SerializeToUtf8Bytes(claim, BoxJson.Default.LaunchClaim), expectedETag, cancellationToken);

    public Task WriteStatusAsync(AgentStatus status, CancellationToken cancellationToken) =>
        _store.Value.PutAsync("status.json", JsonSerializer.SerializeToUtf8Bytes(status, BoxJson.Default.AgentStatus), cancellationToken);

    /// <summary>
    /// Whether an agent ever reported here (its status.json exists, readable or not). Creates nothing: a directory
    /// prefix that does not exist is a no, and stays absent.
    /// </summary>
    public async Task<bool> HasStatusAsync(CancellationToken cancellationToken)
    {
        if (RepositoryLocation.Parse(Location) is { Kind: RepositoryKind.Local } local && !Directory.Exists(local.LocalPath))
        {
            return false;
        }

        try
        {
            return await _store.Value.GetSizeAsync("status.json", cancellationToken) is not null;
        }
        catch (StorageException e) when (e.Failure is StorageFailure.NotFound)
        {
            return false;
        }
    }

    public async Task<AgentStatus?> ReadStatusAsync(CancellationToken cancellationToken)
    {
        try
        {
            return BoxJson.Parse(await _store.Value.GetAsync("status.json", cancellationToken), BoxJson.Default.AgentStatus, $"{Location}/status.json");
        }
        catch (StorageException e) when (e.Failure == StorageFailure.NotFound)
        {
            return null;
        }
    }

    /// <summary>
    /// The box's SSH host public keys, one <c>&lt;keytype&gt; &lt;base64&gt;</c> line each, for the machines that
    /// connect to it (<c>spotdevbox ssh-config</c>). Public keys only: the private ones stay in <c>host-keys/</c>.
    /// </summary>
    public Task WriteHostPublicKeysAsync(IReadOnlyList<HostPublicKey> keys, CancellationToken cancellationToken) =>
        _store.Value.PutAsync(HostPublicKeysName, System.Text.Encoding.UTF8.GetBytes(HostPublicKey.FormatList(keys)), cancellationToken);

    /// <summary><c>host-keys.pub</c> as written (for the caller to check line by line), or null before the box's agent saved its keys.</summary>
    public async Task<string?> ReadHostPublicKeysAsync(CancellationToken cancellationToken)
    {
        try
        {
            return System.Text.Encoding.UTF8.GetString(await _store.Value.GetAsync(HostPublicKeysName, cancellationToken));
        }
        catch (StorageException e) when (e.Failure == StorageFailure.NotFound)
        {
            return null;
        }
    }

    public Task WriteSessionAsync(SessionRecord session, CancellationToken cancellationToken) =>
        _store.Value.PutAsync(
            $"sessions/{session.Start.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}-{session.InstanceId ?? "unknown"}.json",
            JsonSerializer.SerializeToUtf8Bytes(session, BoxJson.Default.SessionRecord),
            cancellationToken);

    public Task WriteInterruptionAsync(InterruptionRecord record, CancellationToken cancellationToken) =>
        _store.Value.PutAsync(
            $"interruptions/{record.NoticeTime.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}-{record.InstanceId ?? "unknown"}.json",
            JsonSerializer.SerializeToUtf8Bytes(record, BoxJson.Default.InterruptionRecord),
            cancellationToken);

    public async Task<IReadOnlyList<string>> ListAsync(string prefix, CancellationToken cancellationToken)
    {
        var keys = new List<string>();
        await foreach (var o in _store.Value.ListAsync(prefix, cancellationToken))
        {
            keys.Add(o.Key);
        }

        return keys;
    }

    public Task<byte[]> GetAsync(string key, CancellationToken cancellationToken) => _store.Value.GetAsync(key, cancellationToken);

    public void Dispose()
    {
        if (_store.IsValueCreated)
        {
            (_store.Value as IDisposable)?.Dispose();
        }

        if (_keys.IsValueCreated)
        {
            _keys.Value.Dispose();
        }
    }

    public const string HostPublicKeysName = "host-keys.pub";

    public const string LaunchClaimName = "launch.json";

    private static RepositoryAddress Settings(string location) => new(location);

    /// <summary>
    /// The key of the box's repositories: the fleet's KMS key under the box's context, else the password file.
    /// (<see cref="AgentOptionsValidator"/> requires one of them; a verb run from a laptop against an unencrypted
    /// box prefix has neither, and is refused only if a repository turns out to be encrypted.)
    /// </summary>
    private static IRepositoryKeySource KeySourceOf(AgentOptions options, RepositoryOpener opener, TimeProvider time)
    {
        var boxName = options.ResolveBoxName();
        if (!string.IsNullOrWhiteSpace(options.RepositoryKeyArn))
        {
            return new KmsKeySource(opener.Kms, options.RepositoryKeyArn, options.Owner, boxName, time, label: "box " + options.Owner + "/" + boxName);
        }

        var file = options.PasswordFile;
        return new PassphraseKeySource(
            ct => string.IsNullOrWhiteSpace(file)
                ? throw new RepositoryException($"the box's repositories are encrypted and neither {AgentOptions.SectionName}:RepositoryKeyArn nor {AgentOptions.SectionName}:PasswordFile is set", RepositoryProblem.KeyNeeded)
                : PasswordSource.ForThisProcess().ReadAsync(file, null, ct),
            time,
            opener.NewKeyParameters,
            label: "box " + boxName);
    }

    [LoggerMessage(EventId = 3118, Level = LogLevel.Warning, Message = "Created the repository {Repository} without the bucket's set-up, which this box may not change ({Reason}): its lifecycle rules (incomplete uploads, the history window) are set by an operator with 'spotdevbox init' or by the bucket's own rules")]
    private static partial void LogBucketSetUpNotTheBoxs(ILogger logger, string repository, string reason);
}
