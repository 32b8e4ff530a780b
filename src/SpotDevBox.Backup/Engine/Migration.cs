using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using SpotDevBox.Backup.Crypto;
using SpotDevBox.Backup.Format;
using SpotDevBox.Backup.Keys;
using SpotDevBox.Backup.Repository;
using SpotDevBox.Backup.Storage;

namespace SpotDevBox.Backup.Engine;

/// <summary>What a migration did: the new repository id, what it wrote and deleted, and each snapshot's new id.</summary>
/// <param name="Resumed">True when it only finished the deletions of a migration committed by an earlier, interrupted run.</param>
/// <param name="CleanedUp">Objects of an earlier attempt cut short before its commit that were deleted first.</param>
public sealed record MigrationResult(
    string RepositoryId, int Snapshots, int Blobs, long Bytes, int Packs, int ObjectsDeleted, bool Resumed, int CleanedUp, IReadOnlyDictionary<string, string> SnapshotIds);

/// <summary>How far a migration is: blobs (data and tree) re-stored and the plaintext bytes of the data blobs.</summary>
public sealed class MigrationProgress
{
    private long _blobsDone;
    private long _bytesDone;

    public long BlobsDone => Interlocked.Read(ref _blobsDone);
    public long BlobsTotal { get; internal set; }
    public long BytesDone => Interlocked.Read(ref _bytesDone);
    public long BytesTotal { get; internal set; }

    internal void Add(long bytes)
    {
        Interlocked.Increment(ref _blobsDone);
        Interlocked.Add(ref _bytesDone, bytes);
    }
}

/// <summary>
/// Rewrites an unencrypted (format version 1 or 2) repository as an encrypted one (version 3) in place, under the
/// exclusive lock. Crash-safe by its order (docs/backup.md, "Encrypting an older repository"):
/// <list type="number">
/// <item>every new object (key file, sealed packs, index, snapshots) is written, each name first recorded by an empty
/// marker under <c>migration.pending/</c>, so a rerun after a crash before the commit deletes exactly those;</item>
/// <item>the record <c>migration</c> lists the version 2 objects to delete and the new config;</item>
/// <item>the config is replaced by version 3 with the new repository id in one PUT: the commit point;</item>
/// <item>the listed version 2 objects, the markers and then the record are deleted.</item>
/// </list>
/// Before the commit, builds that read version 2 still read every version 2 snapshot (the sealed objects are
/// unreadable to them and skipped); after it, they refuse the repository by its version. While <c>migration</c>
/// exists beside a version 3 config every other command refuses the repository until a rerun finishes step 4.
/// </summary>
public sealed partial class RepositoryMigration(IObjectStore store, BackupEngineOptions options, TimeProvider time, ILogger logger)
{
    public const string RecordKey = BackupRepository.MigrationRecordKey;
    public const string PendingPrefix = "migration.pending/";

    public MigrationProgress Progress { get; } = new();

    public async Task<MigrationResult> RunAsync(IRepositoryKeySource keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var config = await ReadConfigAsync(cancellationToken);
        var record = await ReadRecordAsync(cancellationToken);
        if (config.Version >= FormatVersion.Encrypted)
        {
            if (record is not null && record.Config.Id == config.Id)
            {
                // Committed by an earlier run that was cut short: only the deletions are left.
                var holder = BackupRepository.ForMigration(store, config, options, time, logger, crypto: null);
                await using var resumeLock = await AcquireLockAsync(holder, cancellationToken);
                var deleted = await FinishAsync(record, cancellationToken);
                LogResumed(logger, store.Location, deleted);
                return new MigrationResult(config.Id, 0, 0, 0, 0, deleted, Resumed: true, CleanedUp: 0, new Dictionary<string, string>());
            }

            throw new RepositoryException(
                $"the repository at {store.Location} is already encrypted (format version {config.Version}): nothing to migrate, nothing was changed", RepositoryProblem.AlreadyEncrypted);
        }

        var source = await BackupRepository.OpenAsync(store, options, time, logger, keys: null, cancellationToken);
        await using var repoLock = await AcquireLockAsync(source, cancellationToken);

        // Under the lock: the sealed leftovers of an attempt cut short before its commit go first (a version 2 reader,
        // this one included, cannot read them), then everything is read and judged again from the start.
        var cleaned = await CleanFailedAttemptAsync(await ListPendingAsync(cancellationToken), record is not null, cancellationToken);

        // Read and judge everything before writing anything: a repository that check would fail is not migrated.
        await source.LoadIndexAsync(cancellationToken);
        if (!source.IndexErrors.IsEmpty)
        {
            throw new RepositoryException($"migrate stopped, nothing written: {source.IndexErrors.First()}; run 'spotdevbox check' and repair the repository first");
        }

        var snapshots = await source.ListSnapshotsAsync(cancellationToken);
        if (!source.UnreadableSnapshots.IsEmpty)
        {
            throw new RepositoryException($"migrate stopped, nothing written: {source.UnreadableSnapshots.First()}; run 'spotdevbox check', then forget or repair it");
        }

        var oldNames = new List<string>();
        foreach (var prefix in new[] { Pack.DataPrefix, BackupRepository.IndexPrefix, BackupRepository.SnapshotPrefix })
        {
            await foreach (var obj in store.ListAsync(prefix, cancellationToken))
            {
                if (IsRepositoryName(obj.Key))
                {
                    oldNames.Add(obj.Key);
                }
            }
        }

        var trees = new Dictionary<BlobId, Tree>();
        var dataBlobs = new HashSet<BlobId>();
        foreach (var snapshot in snapshots)
        {
            await CollectAsync(source, snapshot, snapshot.Manifest.Tree, trees, dataBlobs, cancellationToken);
        }

        var byPack = new Dictionary<BlobId, List<PackEntry>>();
        foreach (var id in dataBlobs)
        {
            if (!source.Index.TryGet(id, out var location))
            {
                throw new RepositoryException($"migrate stopped, nothing written: data blob {id.ShortHex} is referenced but not in the index; run 'spotdevbox check'");
            }

            if (!byPack.TryGetValue(location.Pack, out var list))
            {
                byPack[location.Pack] = list = [];
            }

            list.Add(location.Entry);
            Progress.BytesTotal += location.Entry.RawLength;
        }

        Progress.BlobsTotal = dataBlobs.Count + trees.Count;

        var newConfig = config with { Version = FormatVersion.Encrypted, Id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)) };
        var recording = new PendingRecordingStore(store);
        RepositoryCrypto crypto;
        using (var master = await keys.CreateAsync(recording, newConfig.Id, cancellationToken))
        {
            crypto = new RepositoryCrypto(master, newConfig.Id);
        }

        using (crypto)
        {
            var target = BackupRepository.ForMigration(recording, newConfig, options, time, logger, crypto);
            var (mapped, newPacks) = await WriteBlobsAsync(source, target, byPack, trees, snapshots, cancellationToken);
            foreach (var pack in newPacks)
            {
                target.Index.AddPack(pack);
            }

            if (newPacks.Count > 0)
            {
                await target.SaveIndexAsync(newPacks, cancellationToken);
            }

            var snapshotIds = new Dictionary<string, string>(StringComparer.Ordinal);
            var byId = snapshots.ToDictionary(s => s.Id, StringComparer.Ordinal);
            foreach (var snapshot in snapshots)
            {
                await SaveSnapshotAsync(target, snapshot, byId, mapped, snapshotIds, cancellationToken);
            }

            await VerifyAsync(target, snapshotIds.Values, cancellationToken);

            // Step 2: what to delete once committed (only version 2 names: never a sealed one written above).
            var newRecord = new MigrationRecord { Config = newConfig, Delete = oldNames };
            await store.PutAsync(RecordKey, JsonSerializer.SerializeToUtf8Bytes(newRecord, MigrationJson.Default.MigrationRecord), cancellationToken);

            // Step 3, the commit point: from here the repository is version 3 and its id is the one the objects were sealed under.
            await store.PutAsync(BackupRepository.ConfigKey, JsonSerializer.SerializeToUtf8Bytes(newConfig, FormatJson.Default.RepositoryConfig), cancellationToken);
            LogCommitted(logger, store.Location, snapshots.Count, newPacks.Count);

            var deleted = await FinishAsync(newRecord, cancellationToken);
            return new MigrationResult(newConfig.Id, snapshots.Count, dataBlobs.Count + trees.Count, Progress.BytesDone, newPacks.Count, deleted, Resumed: false, cleaned, snapshotIds);
        }
    }

    /// <summary>The exclusive lock, refused (nothing written) while any live lock exists: an agent backing up holds a shared one.</summary>
    internal static async Task<RepositoryLock> AcquireLockAsync(BackupRepository repository, CancellationToken cancellationToken)
    {
        try
        {
            return await RepositoryLock.AcquireAsync(repository, exclusive: true, "migrate", cancellationToken);
        }
        catch (RepositoryException e)
        {
            throw new RepositoryException(
                $"migrate needs the repository to itself and nothing was changed: {e.Message}. Stop that agent or command (or wait for it to finish) and run 'spotdevbox migrate' again", e);
        }
    }

    private async Task<RepositoryConfig> ReadConfigAsync(CancellationToken cancellationToken)
    {
        byte[] bytes;
        try
        {
            bytes = await store.GetAsync(BackupRepository.ConfigKey, cancellationToken);
        }
        catch (StorageException e) when (e.Failure is StorageFailure.NotFound or StorageFailure.ContainerMissing)
        {
            throw new RepositoryException($"there is no repository at {store.Location}: nothing to migrate (create one with 'spotdevbox init')", RepositoryProblem.NotFound, e);
        }

        try
        {
            return JsonSerializer.Deserialize(bytes, FormatJson.Default.RepositoryConfig) ?? throw new RepositoryException("repository config is empty");
        }
        catch (JsonException e)
        {
            throw new RepositoryException($"repository config at {store.Location} is not readable: {e.Message}", e);
        }
    }

    private async Task<MigrationRecord?> ReadRecordAsync(CancellationToken cancellationToken)
    {
        byte[] bytes;
        try
        {
            bytes = await store.GetAsync(RecordKey, cancellationToken);
        }
        catch (StorageException e) when (e.Failure == StorageFailure.NotFound)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(bytes, MigrationJson.Default.MigrationRecord);
        }
        catch (JsonException e)
        {
            throw new RepositoryException($"the migration record '{RecordKey}' at {store.Location} is not readable: {e.Message}; nothing was changed");
        }
    }

    /// <summary>The names the pending markers record (only names a migration writes; anything else is ignored).</summary>
    private async Task<HashSet<string>> ListPendingAsync(CancellationToken cancellationToken)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var obj in store.ListAsync(PendingPrefix, cancellationToken))
        {
            var name = obj.Key[PendingPrefix.Length..].Replace('.', '/');
            if (IsRepositoryName(name) || IsKeyFileName(name))
            {
                names.Add(name);
            }
        }

        return names;
    }

    /// <summary>Before the commit, a crashed attempt left sealed objects no reader can use: delete exactly those, then the markers (and an uncommitted record).</summary>
    private async Task<int> CleanFailedAttemptAsync(HashSet<string> pending, bool staleRecord, CancellationToken cancellationToken)
    {
        if (pending.Count > 0)
        {
            await store.DeleteAsync([.. pending], cancellationToken);
            await DeleteMarkersAsync(cancellationToken);
            LogCleanedUp(logger, pending.Count);
        }

        if (staleRecord)
        {
            await store.DeleteAsync([RecordKey], cancellationToken);
        }

        return pending.Count;
    }

    private async Task<int> FinishAsync(MigrationRecord record, CancellationToken cancellationToken)
    {
        // Only version 2 names are ever deleted from a record, whoever wrote it.
        var delete = record.Delete.Where(IsRepositoryName).ToList();
        await store.DeleteAsync(delete, cancellationToken);
        await DeleteMarkersAsync(cancellationToken);
        await store.DeleteAsync([RecordKey], cancellationToken);
        return delete.Count;
    }

    private async Task DeleteMarkersAsync(CancellationToken cancellationToken)
    {
        var markers = new List<string>();
        await foreach (var obj in store.ListAsync(PendingPrefix, cancellationToken))
        {
            markers.Add(obj.Key);
        }

        await store.DeleteAsync(markers, cancellationToken);
    }

    private static bool IsRepositoryName(string key) =>
        Pack.TryParseKey(key, out _)
        || BackupRepository.TryParseKey(key, BackupRepository.IndexPrefix, out _)
        || BackupRepository.TryParseKey(key, BackupRepository.SnapshotPrefix, out _);

    private static bool IsKeyFileName(string key) => BackupRepository.TryParseKey(key, KeyRing.Prefix, out _);

    private static async Task CollectAsync(BackupRepository source, SnapshotRef snapshot, BlobId treeId, Dictionary<BlobId, Tree> trees, HashSet<BlobId> data, CancellationToken cancellationToken)
    {
        if (trees.ContainsKey(treeId))
        {
            return;
        }

        Tree tree;
        try
        {
            tree = await source.LoadTreeAsync(treeId, cancellationToken);
        }
        catch (Exception e) when (e is InvalidDataException or RepositoryException or StorageException)
        {
            throw new RepositoryException($"migrate stopped, nothing written: snapshot {snapshot.ShortId} cannot be read ({e.Message}); run 'spotdevbox check'", e);
        }

        trees[treeId] = tree;
        foreach (var node in tree.Nodes)
        {
            if (node.Content is not null)
            {
                data.UnionWith(node.Content);
            }

            if (node.Subtree is { } sub)
            {
                await CollectAsync(source, snapshot, sub, trees, data, cancellationToken);
            }
        }
    }

    private sealed record Mapped(Dictionary<BlobId, BlobId> Data, Dictionary<BlobId, BlobId> Trees);

    /// <summary>Re-stores every data blob (read pack by pack) and then every tree (its ids mapped) into sealed packs.</summary>
    private async Task<(Mapped Ids, List<IndexPack> Packs)> WriteBlobsAsync(
        BackupRepository source, BackupRepository target, Dictionary<BlobId, List<PackEntry>> byPack, Dictionary<BlobId, Tree> trees, IReadOnlyList<SnapshotRef> snapshots, CancellationToken cancellationToken)
    {
        var mapped = new Mapped([], []);
        var written = new List<IndexPack>();
        var uploads = Channel.CreateBounded<PendingPack>(2);
        var size = options.PackSizeMiB * 1024 * 1024;
        using var dataBuffers = new PackBufferPool(Math.Max(size, target.Config.ChunkMax + (64 * 1024)), 3);
        using var treeBuffers = new PackBufferPool(Math.Min(size, 4 * 1024 * 1024), 3);
        var dataPacker = new Packer(BlobType.Data, dataBuffers, uploads.Writer, seal: true);
        var treePacker = new Packer(BlobType.Tree, treeBuffers, uploads.Writer, seal: true);
        // A failed upload stops the reader too, wherever it waits (for the channel or for a buffer the upload held).
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Exception? uploadFailure = null;
        var uploader = Task.Run(async () =>
        {
            try
            {
                await foreach (var pack in uploads.Reader.ReadAllAsync(cancellationToken))
                {
                    var (id, length) = await target.SavePackAsync(pack, cancellationToken);
                    written.Add(new IndexPack(id, length, pack.Entries));
                    (pack.Type == BlobType.Data ? dataBuffers : treeBuffers).Return(pack.Bytes);
                }
            }
            catch (Exception e)
            {
                uploadFailure = e;
                await stop.CancelAsync();
                throw;
            }
        }, cancellationToken);

        var added = new HashSet<BlobId>();
        try
        {
            var ct = stop.Token;
            foreach (var (packId, entries) in byPack)
            {
                var bytes = await source.Store.GetAsync(Pack.Key(packId), ct);
                foreach (var entry in entries)
                {
                    if (entry.Offset + entry.StoredLength > bytes.Length)
                    {
                        throw new RepositoryException($"migrate stopped before its commit: pack {packId.ShortHex} is shorter than its index says; run 'spotdevbox check'");
                    }

                    // Verified against its old id while extracted: a corrupt blob is not laundered into a sealed one.
                    var raw = ExtractVerified(bytes, entry, packId);
                    var id = target.ComputeBlobId(raw);
                    mapped.Data[entry.Id] = id;
                    if (added.Add(id))
                    {
                        await AddAsync(dataPacker, id, raw, ct);
                    }

                    Progress.Add(raw.Length);
                }
            }

            foreach (var snapshot in snapshots)
            {
                await MapTreeAsync(target, snapshot.Manifest.Tree, trees, mapped, treePacker, added, ct);
            }

            await dataPacker.FlushAsync(ct);
            await treePacker.FlushAsync(ct);
        }
        catch (OperationCanceledException) when (uploadFailure is not null)
        {
            // The upload's own failure, not the cancellation it caused.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(uploadFailure);
        }
        finally
        {
            uploads.Writer.TryComplete();
        }

        await uploader;
        return (mapped, written);
    }

    private static byte[] ExtractVerified(byte[] pack, PackEntry entry, BlobId packId)
    {
        try
        {
            return Pack.ExtractBlob(pack.AsSpan((int)entry.Offset, entry.StoredLength), entry);
        }
        catch (InvalidDataException e)
        {
            throw new RepositoryException($"migrate stopped before its commit: pack {packId.ShortHex}: {e.Message}; run 'spotdevbox check'", e);
        }
    }

    private async ValueTask AddAsync(Packer packer, BlobId id, byte[] raw, CancellationToken cancellationToken)
    {
        var (stored, kind) = Compression.Compress(raw, options.CompressionLevel);
        await packer.AddAsync(id, stored, kind, raw.Length, cancellationToken);
    }

    private async Task<BlobId> MapTreeAsync(
        BackupRepository target, BlobId oldId, Dictionary<BlobId, Tree> trees, Mapped mapped, Packer treePacker, HashSet<BlobId> added, CancellationToken cancellationToken)
    {
        if (mapped.Trees.TryGetValue(oldId, out var known))
        {
            return known;
        }

        var nodes = new List<Node>(trees[oldId].Nodes.Count);
        foreach (var node in trees[oldId].Nodes)
        {
            nodes.Add(node with
            {
                Content = node.Content?.Select(id => mapped.Data[id]).ToList(),
                Subtree = node.Subtree is { } sub ? await MapTreeAsync(target, sub, trees, mapped, treePacker, added, cancellationToken) : null,
            });
        }

        var raw = JsonSerializer.SerializeToUtf8Bytes(new Tree(nodes), FormatJson.Default.Tree);
        var id = target.ComputeBlobId(raw);
        if (added.Add(id))
        {
            await AddAsync(treePacker, id, raw, cancellationToken);
        }

        mapped.Trees[oldId] = id;
        Progress.Add(0);
        return id;
    }

    /// <summary>Parents first, so that each snapshot's parent id is mapped to the parent's new id.</summary>
    private static async Task SaveSnapshotAsync(
        BackupRepository target, SnapshotRef snapshot, Dictionary<string, SnapshotRef> byId, Mapped mapped, Dictionary<string, string> done, CancellationToken cancellationToken)
    {
        if (done.ContainsKey(snapshot.Id))
        {
            return;
        }

        done[snapshot.Id] = ""; // a parent cycle (only a forged manifest has one) ends here
        BlobId? parent = null;
        if (snapshot.Manifest.Parent is { } oldParent && byId.TryGetValue(oldParent.ToHex(), out var parentSnapshot))
        {
            await SaveSnapshotAsync(target, parentSnapshot, byId, mapped, done, cancellationToken);
            parent = BlobId.TryParse(done[parentSnapshot.Id], out var p) ? p : null;
        }

        // A parent that was forgotten names nothing in the new repository: it is dropped rather than left dangling.
        var manifest = snapshot.Manifest with { Tree = mapped.Trees[snapshot.Manifest.Tree], Parent = parent, Version = FormatVersion.Encrypted };
        done[snapshot.Id] = await target.SaveSnapshotAsync(manifest, cancellationToken);
    }

    /// <summary>Cheap checks before the commit: every new snapshot opens, every tree it reaches opens and every blob its files need is in the new index.</summary>
    private static async Task VerifyAsync(BackupRepository target, IEnumerable<string> snapshotIds, CancellationToken cancellationToken)
    {
        var seen = new HashSet<BlobId>();
        foreach (var id in snapshotIds)
        {
            var manifest = await target.LoadSnapshotAsync(id, cancellationToken);
            await VerifyTreeAsync(target, manifest.Tree, seen, cancellationToken);
        }
    }

    private static async Task VerifyTreeAsync(BackupRepository target, BlobId treeId, HashSet<BlobId> seen, CancellationToken cancellationToken)
    {
        if (!seen.Add(treeId))
        {
            return;
        }

        var tree = await target.LoadTreeAsync(treeId, cancellationToken);
        foreach (var node in tree.Nodes)
        {
            if (node.Content is not null && node.Content.Where(b => !target.Index.Contains(b)).Take(1).ToList() is [var missing])
            {
                throw new RepositoryException($"migrate stopped before its commit: the new copy of '{node.Name}' needs blob {missing.ShortHex}, which is not in the new index (the repository is still version 2; run 'spotdevbox migrate' again)");
            }

            if (node.Subtree is { } sub)
            {
                await VerifyTreeAsync(target, sub, seen, cancellationToken);
            }
        }
    }

    [LoggerMessage(EventId = 1400, Level = LogLevel.Information, Message = "Repository {Location} is now encrypted (format version 3): {Snapshots} snapshots, {Packs} packs written; deleting the version 2 objects")]
    private static partial void LogCommitted(ILogger logger, string location, int snapshots, int packs);

    [LoggerMessage(EventId = 1401, Level = LogLevel.Information, Message = "Deleted {Objects} objects left by a migration cut short before its commit; starting over")]
    private static partial void LogCleanedUp(ILogger logger, int objects);

    [LoggerMessage(EventId = 1402, Level = LogLevel.Information, Message = "Finished the migration of {Location} that an earlier run committed: {Objects} version 2 objects deleted")]
    private static partial void LogResumed(ILogger logger, string location, int objects);
}

/// <summary>The record <c>migration</c>: the committed config and the version 2 objects a rerun still has to delete.</summary>
internal sealed record MigrationRecord
{
    public required RepositoryConfig Config { get; init; }
    public required IReadOnlyList<string> Delete { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = false)]
[JsonSerializable(typeof(MigrationRecord))]
internal sealed partial class MigrationJson : JsonSerializerContext;

/// <summary>
/// The store a migration writes through: before each new object, an empty marker naming it under
/// <see cref="RepositoryMigration.PendingPrefix"/>, so that a rerun after a crash finds exactly what the failed attempt wrote.
/// </summary>
internal sealed class PendingRecordingStore(IObjectStore inner) : IObjectStore
{
    public string Location => inner.Location;

    public Task InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

    public async Task PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        await MarkAsync(key, cancellationToken);
        await inner.PutAsync(key, content, cancellationToken);
    }

    public async Task<bool> PutIfAsync(string key, ReadOnlyMemory<byte> content, string? expectedETag, CancellationToken cancellationToken)
    {
        await MarkAsync(key, cancellationToken);
        return await inner.PutIfAsync(key, content, expectedETag, cancellationToken);
    }

    private Task MarkAsync(string key, CancellationToken cancellationToken) =>
        inner.PutAsync(RepositoryMigration.PendingPrefix + key.Replace('/', '.'), ReadOnlyMemory<byte>.Empty, cancellationToken);

    public Task<byte[]> GetAsync(string key, CancellationToken cancellationToken) => inner.GetAsync(key, cancellationToken);

    public Task<byte[]> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken) => inner.GetRangeAsync(key, offset, length, cancellationToken);

    public Task ReadRangeAsync(string key, long offset, Memory<byte> destination, CancellationToken cancellationToken) => inner.ReadRangeAsync(key, offset, destination, cancellationToken);

    public Task<long?> GetSizeAsync(string key, CancellationToken cancellationToken) => inner.GetSizeAsync(key, cancellationToken);

    public IAsyncEnumerable<StoredObject> ListAsync(string prefix, CancellationToken cancellationToken) => inner.ListAsync(prefix, cancellationToken);

    public Task DeleteAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken) => inner.DeleteAsync(keys, cancellationToken);

    public Task<VersionedObject?> GetVersionedAsync(string key, CancellationToken cancellationToken) => inner.GetVersionedAsync(key, cancellationToken);
}
