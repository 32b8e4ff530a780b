using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using SpotDevBox.Backup.Format;
using SpotDevBox.Backup.Repository;
using SpotDevBox.Backup.Storage;
using SpotDevBox.Core.Text;

namespace SpotDevBox.Backup.Engine;

public sealed record ForgetResult(IReadOnlyList<(SnapshotRef Snapshot, bool Keep, string Reason)> Decisions, bool DryRun)
{
    public int Removed => Decisions.Count(d => !d.Keep);
}

/// <param name="TemporaryFilesRemoved">Temporary files of unfinished writes (a local repository's, left by a killed process) removed, or that would be with a dry run.</param>
/// <param name="TemporaryFilesKept">Temporary files kept because they are younger than <see cref="BackupEngineOptions.StaleLockAfter"/>: a writer may still own them.</param>
public sealed record PruneResult(
    int PacksDeleted,
    int PacksRepacked,
    int PacksKept,
    long BytesFreed,
    int BlobsRemoved,
    bool DryRun,
    int TemporaryFilesRemoved = 0,
    long TemporaryBytesRemoved = 0,
    int TemporaryFilesKept = 0);

public sealed record CheckResult(int Snapshots, int Packs, int Blobs, long BytesVerified, IReadOnlyList<string> Errors, IReadOnlyList<string> Warnings)
{
    public bool Ok => Errors.Count == 0;
}

/// <summary>forget, prune and check: the repository's housekeeping.</summary>
public sealed partial class Maintenance(BackupRepository repository, ILogger<Maintenance> logger)
{
    /// <summary>A pack is rewritten when at least this share of its bytes is garbage; below it, it is kept as is.</summary>
    private const double RepackThreshold = 0.2;

    public async Task<ForgetResult> ForgetAsync(RetentionPolicy policy, bool dryRun, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(policy);
        policy.Validate();
        var snapshots = await repository.ListSnapshotsAsync(cancellationToken);
        var decisions = policy.Apply(snapshots, repository.Time.GetUtcNow());
        foreach (var d in decisions.Where(d => d.Reason.Contains(RetentionPolicy.FutureReason, StringComparison.Ordinal)))
        {
            LogFutureSnapshot(logger, d.Snapshot.ShortId, d.Snapshot.Manifest.Time);
        }

        if (!dryRun)
        {
            var remove = decisions.Where(d => !d.Keep).Select(d => "snapshots/" + d.Snapshot.Id).ToList();
            await repository.Store.DeleteAsync(remove, cancellationToken);
            foreach (var d in decisions.Where(d => !d.Keep))
            {
                LogForgot(logger, d.Snapshot.ShortId, d.Snapshot.Manifest.Time);
            }
        }

        return new ForgetResult(decisions, dryRun);
    }

    /// <summary>
    /// Deletes data no snapshot references. Holds the exclusive lock, so no backup can be running that
    /// is about to reference a blob this deletes. Order: new packs, new index, then deletions — a crash
    /// anywhere leaves a repository that check accepts (at worst with garbage).
    /// </summary>
    public async Task<PruneResult> PruneAsync(bool dryRun, CancellationToken cancellationToken)
    {
        await using var repoLock = await RepositoryLock.AcquireAsync(repository, exclusive: true, "prune", cancellationToken);
        var (tempRemoved, tempBytes, tempKept) = await RemoveUnfinishedWritesAsync(dryRun, cancellationToken);
        await repository.LoadIndexAsync(cancellationToken);
        await repository.RecoverUnindexedPacksAsync(cancellationToken);
        var used = await CollectUsedBlobsAsync(cancellationToken);

        // Blob usage per pack, counting a blob stored twice only where the index points.
        var packBlobs = new Dictionary<BlobId, List<(PackEntry Entry, bool Used)>>();
        foreach (var (id, location) in repository.Index.All)
        {
            if (!packBlobs.TryGetValue(location.Pack, out var list))
            {
                packBlobs[location.Pack] = list = [];
            }

            list.Add((location.Entry, used.Contains(id)));
        }

        var delete = new List<BlobId>();
        var repack = new List<BlobId>();
        var keep = new List<BlobId>();
        long freed = 0;
        var blobsRemoved = 0;
        foreach (var (packId, size) in repository.Index.Packs)
        {
            packBlobs.TryGetValue(packId, out var blobs);
            blobs ??= [];
            var usedBytes = blobs.Where(b => b.Used).Sum(b => (long)b.Entry.StoredLength);
            blobsRemoved += blobs.Count(b => !b.Used);
            if (usedBytes == 0)
            {
                delete.Add(packId);
                freed += size;
            }
            else if (size - usedBytes >= size * RepackThreshold)
            {
                repack.Add(packId);
                freed += size - usedBytes;
            }
            else
            {
                keep.Add(packId);
            }
        }

        if (dryRun || (delete.Count == 0 && repack.Count == 0))
        {
            return new PruneResult(delete.Count, repack.Count, keep.Count, freed, blobsRemoved, dryRun, tempRemoved, tempBytes, tempKept);
        }

        var newPacks = await RepackAsync(repack, packBlobs, cancellationToken);

        // Every index file present now (those read at the start and the one recovery may have written)
        // is replaced by one new file; nothing else can write one while we hold the exclusive lock.
        // Only names this repository writes: a listed "index/../config" is reported, never deleted.
        var replacedIndexes = (await repository.ListIdsAsync(BackupRepository.IndexPrefix, cancellationToken)).Select(id => BackupRepository.IndexPrefix + id.ToHex()).ToList();

        var indexPacks = keep.Select(p => new IndexPack(p, repository.Index.Packs[p], packBlobs.TryGetValue(p, out var b) ? [.. b.Select(x => x.Entry)] : []))
            .Concat(newPacks)
            .ToList();
        var newIndex = indexPacks.Count > 0 ? await repository.SaveIndexAsync(indexPacks, cancellationToken) : "";
        await repository.Store.DeleteAsync([.. replacedIndexes.Where(k => k != newIndex)], cancellationToken);

        // Packs are named by their content and a repack copies stored bytes as they are: when one blob is stored twice
        // (two backups raced), a repacked pack can be byte for byte a pack this run deletes, and gets its name. A name
        // written in this run holds data the new index points at, so it is never deleted.
        var written = newPacks.Select(p => p.Id).ToHashSet();
        await repository.Store.DeleteAsync([.. delete.Concat(repack).Where(p => !written.Contains(p)).Select(Pack.Key)], cancellationToken);
        LogPruned(logger, delete.Count, repack.Count, freed);
        return new PruneResult(delete.Count, repack.Count, keep.Count, freed, blobsRemoved, dryRun, tempRemoved, tempBytes, tempKept);
    }

    /// <summary>
    /// Removes the temporary files of writes that never finished (a local repository's, left by a killed
    /// backup). Prune holds the exclusive lock, so no backup is writing now; a temporary file is still
    /// only removed once it has not been written to for <see cref="BackupEngineOptions.StaleLockAfter"/>,
    /// the same silence after which a lock is taken for a dead writer's: this also covers a writer that
    /// does not honour locks, or a lock record written (under locks/) while this prune runs.
    /// </summary>
    private async Task<(int Removed, long Bytes, int Kept)> RemoveUnfinishedWritesAsync(bool dryRun, CancellationToken cancellationToken)
    {
        if (repository.Store is not IUnfinishedWrites unfinished)
        {
            return (0, 0, 0);
        }

        var remove = new List<UnfinishedWrite>();
        var kept = 0;
        await foreach (var obj in unfinished.ListUnfinishedWritesAsync(repository.Time, cancellationToken))
        {
            if (obj.Age > repository.Options.StaleLockAfter)
            {
                remove.Add(obj);
            }
            else
            {
                kept++;
            }
        }

        var bytes = remove.Sum(o => o.Size);
        if (!dryRun && remove.Count > 0)
        {
            await unfinished.DeleteUnfinishedWritesAsync([.. remove.Select(o => o.Key)], cancellationToken);
            LogUnfinishedWritesRemoved(logger, remove.Count, bytes);
        }

        return (remove.Count, bytes, kept);
    }

    private async Task<HashSet<BlobId>> CollectUsedBlobsAsync(CancellationToken cancellationToken)
    {
        var used = new HashSet<BlobId>();
        var snapshots = await repository.ListSnapshotsAsync(cancellationToken);
        if (!repository.UnreadableSnapshots.IsEmpty)
        {
            // An unreadable manifest still references data; deleting blind could destroy it.
            throw new RepositoryException($"prune stopped, nothing deleted: {repository.UnreadableSnapshots.First()}; run 'spotdevbox check', then forget or repair it");
        }

        foreach (var snapshot in snapshots)
        {
            try
            {
                await WalkAsync(snapshot.Manifest.Tree, used, cancellationToken);
            }
            catch (Exception e) when (e is InvalidDataException or RepositoryException or StorageException)
            {
                // Deleting while unsure what is referenced could destroy a snapshot: stop instead.
                throw new RepositoryException($"prune stopped, nothing deleted: snapshot {snapshot.ShortId} cannot be read ({e.Message}); run 'spotdevbox check'", e);
            }
        }

        return used;
    }

    private async Task WalkAsync(BlobId treeId, HashSet<BlobId> used, CancellationToken cancellationToken)
    {
        if (!used.Add(treeId))
        {
            return; // identical subtrees are shared between snapshots: walk each once
        }

        var tree = await repository.LoadTreeAsync(treeId, cancellationToken);
        foreach (var node in tree.Nodes)
        {
            if (node.Content is not null)
            {
                used.UnionWith(node.Content);
            }

            if (node.Subtree is { } sub)
            {
                await WalkAsync(sub, used, cancellationToken);
            }
        }
    }

    private async Task<List<IndexPack>> RepackAsync(List<BlobId> packs, Dictionary<BlobId, List<(PackEntry Entry, bool Used)>> packBlobs, CancellationToken cancellationToken)
    {
        var result = new ConcurrentBag<IndexPack>();
        if (packs.Count == 0)
        {
            return [];
        }

        var uploads = Channel.CreateBounded<PendingPack>(2);
        var size = repository.Options.PackSizeMiB * 1024 * 1024;
        using var dataBuffers = new PackBufferPool(Math.Max(size, repository.Config.ChunkMax + (64 * 1024)), 3);
        using var treeBuffers = new PackBufferPool(Math.Min(size, 4 * 1024 * 1024), 3);
        var packers = new Dictionary<BlobType, Packer>
        {
            [BlobType.Data] = new Packer(BlobType.Data, dataBuffers, uploads.Writer, repository.Encrypted),
            [BlobType.Tree] = new Packer(BlobType.Tree, treeBuffers, uploads.Writer, repository.Encrypted),
        };
        var uploader = Task.Run(async () =>
        {
            await foreach (var pack in uploads.Reader.ReadAllAsync(cancellationToken))
            {
                var (id, length) = await repository.SavePackAsync(pack, cancellationToken);
                result.Add(new IndexPack(id, length, pack.Entries));
                (pack.Type == BlobType.Data ? dataBuffers : treeBuffers).Return(pack.Bytes);
            }
        }, cancellationToken);

        try
        {
            foreach (var packId in packs)
            {
                var bytes = await repository.Store.GetAsync(Pack.Key(packId), cancellationToken);
                foreach (var (entry, isUsed) in packBlobs[packId])
                {
                    if (!isUsed)
                    {
                        continue;
                    }

                    // Verify before copying: repacking must not launder a corrupt blob into a fresh pack.
                    var stored = bytes.AsSpan((int)entry.Offset, entry.StoredLength);
                    Pack.ExtractBlob(stored, entry, repository.Crypto);
                    // Sealed blobs are copied as they are: each carries its own salt and nonce.
                    await packers[entry.Type].AddAsync(entry.Id, bytes.AsMemory((int)entry.Offset, entry.StoredLength), entry.Compression, entry.RawLength, cancellationToken, alreadySealed: repository.Encrypted);
                }
            }

            foreach (var packer in packers.Values)
            {
                await packer.FlushAsync(cancellationToken);
            }
        }
        finally
        {
            uploads.Writer.TryComplete();
        }

        await uploader;
        return [.. result];
    }

    /// <summary>
    /// Proves the repository complete: every indexed pack exists with its size, every blob each snapshot
    /// needs is indexed, every tree reads; with <paramref name="readData"/>, every pack is downloaded and
    /// every blob's hash checked.
    /// </summary>
    public async Task<CheckResult> CheckAsync(bool readData, Action<long, long>? onPackVerified, CancellationToken cancellationToken)
    {
        var errors = new ConcurrentBag<string>();
        var warnings = new ConcurrentBag<string>();
        await using var repoLock = await RepositoryLock.AcquireAsync(repository, exclusive: false, "check", cancellationToken);
        // Prove what the store holds, not what this machine's cache remembers.
        repository.BypassCache = true;
        await repository.LoadIndexAsync(cancellationToken);
        foreach (var e in repository.IndexErrors)
        {
            errors.Add(e);
        }

        var stored = new Dictionary<BlobId, long>();
        await foreach (var obj in repository.Store.ListAsync("data/", cancellationToken))
        {
            if (Pack.TryParseKey(obj.Key, out var id))
            {
                stored[id] = obj.Size;
            }
            else
            {
                warnings.Add($"unexpected object '{ListedName.Printable(obj.Key)}' in data/");
            }
        }

        foreach (var (packId, size) in repository.Index.Packs)
        {
            if (!stored.TryGetValue(packId, out var actual))
            {
                errors.Add($"pack {packId.ShortHex} is listed in the index but missing from the store");
            }
            else if (actual != size)
            {
                errors.Add($"pack {packId.ShortHex} has {actual} bytes in the store, the index says {size}");
            }
        }

        if (repository.Store is IUnfinishedWrites unfinished)
        {
            // A warning, not an error: no snapshot refers to them, nothing is damaged, only space is
            // wasted; and check runs beside backups (shared lock), so some may be a running backup's.
            var (count, bytes) = (0, 0L);
            await foreach (var obj in unfinished.ListUnfinishedWritesAsync(repository.Time, cancellationToken))
            {
                count++;
                bytes += obj.Size;
            }

            if (count > 0)
            {
                warnings.Add($"unfinished temporary files: {count} ({bytes} bytes), left by writes that never finished (a backup killed while writing a pack, or one writing now); "
                    + $"no snapshot refers to them, and 'spotdevbox prune' removes those not written to for {Counted.Of((long)Math.Round(repository.Options.StaleLockAfter.TotalMinutes), "minute")}");
            }
        }

        var unindexed = stored.Keys.Count(k => !repository.Index.HasPack(k));
        if (unindexed > 0)
        {
            warnings.Add($"{Counted.Of(unindexed, "pack")} {(unindexed == 1 ? "is" : "are")} in no index (uploads of an interrupted backup: the next backup reuses them, prune removes what stays unused)");
        }

        var snapshots = await repository.ListSnapshotsAsync(cancellationToken);
        foreach (var e in repository.UnreadableSnapshots)
        {
            errors.Add(e);
        }

        // Names no client writes are never read, so they damage nothing; they are reported for someone to look at.
        foreach (var name in repository.ForeignNames)
        {
            warnings.Add(name);
        }

        var seenTrees = new HashSet<BlobId>();
        var unreadableTrees = new Dictionary<BlobId, string>();
        foreach (var snapshot in snapshots)
        {
            await CheckTreeAsync(snapshot, snapshot.Manifest.Tree, "", seenTrees, unreadableTrees, errors, cancellationToken);
        }

        foreach (var damage in repository.DamagedTreePacks.Values)
        {
            errors.Add(damage);
        }

        long verifiedBytes = 0;
        if (readData)
        {
            long done = 0;
            var total = stored.Values.Sum();
            await Parallel.ForEachAsync(stored, new ParallelOptions { MaxDegreeOfParallelism = repository.Options.TransferConcurrency, CancellationToken = cancellationToken }, async (pack, ct) =>
            {
                await VerifyPackAsync(pack.Key, errors, ct);
                var now = Interlocked.Add(ref done, pack.Value);
                onPackVerified?.Invoke(now, total);
            });
            verifiedBytes = done;
        }

        return new CheckResult(snapshots.Count, repository.Index.PackCount, repository.Index.BlobCount, verifiedBytes, [.. errors.Order(StringComparer.Ordinal)], [.. warnings]);
    }

    /// <param name="unreadable">Trees found unreadable so far, with the reason: a tree shared by several snapshots is read once, and reported for each.</param>
    private async Task CheckTreeAsync(SnapshotRef snapshot, BlobId treeId, string path, HashSet<BlobId> seen, Dictionary<BlobId, string> unreadable, ConcurrentBag<string> errors, CancellationToken cancellationToken)
    {
        var where = $"snapshot {snapshot.ShortId}: directory '{(path.Length == 0 ? "/" : path)}' cannot be read (tree {treeId.ShortHex}): ";
        if (!seen.Add(treeId))
        {
            if (unreadable.TryGetValue(treeId, out var known))
            {
                errors.Add(where + known);
            }

            return;
        }

        Tree tree;
        try
        {
            tree = await repository.LoadTreeAsync(treeId, cancellationToken);
            tree.Validate(path.Length == 0 ? "/" : path);
        }
        catch (Exception e) when (e is InvalidDataException or RepositoryException or StorageException)
        {
            unreadable[treeId] = e.Message;
            errors.Add(where + e.Message);
            return;
        }

        foreach (var node in tree.Nodes)
        {
            var child = path.Length == 0 ? node.Name : path + "/" + node.Name;
            if (node.Content is not null)
            {
                var missing = node.Content.Count(id => !repository.Index.Contains(id));
                if (missing > 0)
                {
                    errors.Add($"snapshot {snapshot.ShortId}: file '{child}' needs {Counted.Of(missing, "blob")} that {(missing == 1 ? "is" : "are")} not in the repository");
                }
            }

            if (node.Subtree is { } sub)
            {
                await CheckTreeAsync(snapshot, sub, child, seen, unreadable, errors, cancellationToken);
            }
        }
    }

    private async Task VerifyPackAsync(BlobId packId, ConcurrentBag<string> errors, CancellationToken cancellationToken)
    {
        byte[] bytes;
        try
        {
            bytes = await repository.Store.GetAsync(Pack.Key(packId), cancellationToken);
        }
        catch (StorageException e)
        {
            errors.Add($"pack {packId.ShortHex} cannot be read: {e.Message}");
            return;
        }

        if (BlobId.Compute(bytes) != packId)
        {
            errors.Add($"pack {packId.ShortHex} is corrupt: its bytes do not hash to its name");
        }

        List<PackEntry> entries;
        try
        {
            entries = Pack.ReadHeaderFromPack(bytes, repository.Crypto);
        }
        catch (InvalidDataException e)
        {
            errors.Add($"pack {packId.ShortHex} has an unreadable header: {e.Message}");
            return;
        }

        foreach (var entry in entries)
        {
            try
            {
                Pack.ExtractBlob(bytes.AsSpan((int)entry.Offset, entry.StoredLength), entry, repository.Crypto, recomputeId: true);
            }
            catch (InvalidDataException e)
            {
                errors.Add($"pack {packId.ShortHex}: {e.Message}");
            }

            if (repository.Index.TryGet(entry.Id, out var location) && location.Pack == packId && location.Entry != entry)
            {
                errors.Add($"pack {packId.ShortHex}: the index describes blob {entry.Id.ShortHex} differently from the pack header");
            }
        }
    }

    [LoggerMessage(EventId = 1300, Level = LogLevel.Information, Message = "Forgot snapshot {SnapshotId} of {Time:u}")]
    private static partial void LogForgot(ILogger logger, string snapshotId, DateTimeOffset time);

    [LoggerMessage(EventId = 1303, Level = LogLevel.Warning, Message = "Snapshot {SnapshotId} is dated {Time:u}, after now: kept, and counted for no retention rule (a wrong clock, or a forged snapshot)")]
    private static partial void LogFutureSnapshot(ILogger logger, string snapshotId, DateTimeOffset time);

    [LoggerMessage(EventId = 1302, Level = LogLevel.Information, Message = "Removed {Files} temporary files ({Bytes} bytes) of writes that never finished")]
    private static partial void LogUnfinishedWritesRemoved(ILogger logger, int files, long bytes);

    [LoggerMessage(EventId = 1301, Level = LogLevel.Information, Message = "Pruned: {Deleted} packs deleted, {Repacked} repacked, {BytesFreed} bytes freed")]
    private static partial void LogPruned(ILogger logger, int deleted, int repacked, long bytesFreed);
}
