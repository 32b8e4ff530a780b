using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using SpotDevBox.Backup.Chunking;
using SpotDevBox.Backup.FileSystem;
using SpotDevBox.Backup.Format;
using SpotDevBox.Backup.Repository;
using SpotDevBox.Backup.Selection;

namespace SpotDevBox.Backup.Engine;

public sealed record BackupRequest
{
    /// <summary>Absolute paths of the files or directories to back up; each becomes a top-level entry named by its last component.</summary>
    public required IReadOnlyList<string> Paths { get; init; }
    public IReadOnlyList<string> Excludes { get; init; } = [];
    public IReadOnlyList<string> Tags { get; init; } = [];
    public string Hostname { get; init; } = Environment.MachineName;
    /// <summary>A snapshot id to compare against; null picks the latest snapshot of the same paths.</summary>
    public string? Parent { get; init; }

    /// <summary>
    /// When set, the snapshot must be durable by this time (a spot interruption notice's deadline). The
    /// walk runs first, then changed files are read most recently modified first until
    /// <see cref="CommitReserve"/> before the deadline; files not read by then keep their parent-snapshot
    /// version (or are left out when new), and the snapshot is saved marked partial, naming each of them.
    /// The walk itself (lstat only) may run into the first half of the reserve; a directory it has not
    /// entered by then keeps its parent-snapshot version and is named (with a trailing '/') as not examined.
    /// <see cref="BackupDeadline.MoveEarlier"/> while the backup runs moves both cut-offs earlier.
    /// </summary>
    public BackupDeadline? Deadline { get; init; }

    /// <summary>Time kept before <see cref="Deadline"/> for the last packs, the trees, the index and the manifest.</summary>
    public TimeSpan CommitReserve { get; init; } = TimeSpan.FromSeconds(5);
}

/// <param name="Unreadable">Entries that could not be read: kept at their parent-snapshot version, or left out.</param>
public sealed record BackupResult(string SnapshotId, SnapshotManifest Manifest, IReadOnlyList<string> Warnings, int Unreadable);

/// <summary>
/// Walks the paths, reads only what changed since the parent snapshot, chunks, deduplicates,
/// compresses and packs it, uploads the packs in parallel, then writes the index and last of all the
/// snapshot manifest. Until that last write the new snapshot does not exist, so a crash at any point
/// leaves every earlier snapshot intact and at worst some packs the next backup reuses.
/// </summary>
public sealed partial class BackupEngine(BackupRepository repository, IFileSystemMetadata fileSystem, ILogger<BackupEngine> logger)
{
    private readonly BackupRepository _repository = repository;
    private readonly IFileSystemMetadata _fileSystem = fileSystem;
    private readonly ILogger _logger = logger;

    public BackupProgress Progress { get; } = new();

    public async Task<BackupResult> RunAsync(BackupRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var started = Stopwatch.GetTimestamp();
        var startTime = _repository.Time.GetUtcNow();
        var roots = ValidatePaths(request.Paths);
        if (request.CommitReserve < TimeSpan.Zero)
        {
            throw new ArgumentException($"the commit reserve must not be negative, got {request.CommitReserve}");
        }

        // The index is read only once the lock is held: a prune that ran in between could otherwise
        // have deleted packs this backup would then deduplicate against.
        await using var repoLock = await RepositoryLock.AcquireAsync(_repository, exclusive: false, "backup", cancellationToken);
        await _repository.UpgradeFormatAsync(cancellationToken);
        var parentTask = FindParentAsync(request, roots, cancellationToken);
        await _repository.LoadIndexAsync(cancellationToken);
        await _repository.RecoverUnindexedPacksAsync(cancellationToken);
        var parent = await parentTask;
        Tree? parentRoot = parent is null ? null : await TryLoadTreeAsync(parent.Manifest.Tree, "/", cancellationToken);

        using var failure = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var run = new Run(this, request, roots, failure.Token);
        var uploaders = Enumerable.Range(0, _repository.Options.TransferConcurrency).Select(_ => run.UploadLoopAsync()).ToArray();
        Node[] rootNodes;
        try
        {
            var reader = run.StartDeferredReader();
            var parentByName = parentRoot?.Nodes.ToDictionary(n => n.Name, StringComparer.Ordinal);
            var tasks = roots.Select(r =>
            {
                Node? parentNode = null;
                parentByName?.TryGetValue(r.Name, out parentNode);
                return run.ProcessRootAsync(r.Path, r.Name, parentNode);
            }).ToArray();
            run.RootsStarted();
            rootNodes = (await WhenAllOrFirstFailure(tasks, failure)).OfType<Node>().ToArray();
            await reader;
            rootNodes = await run.NameHardLinksAsync(rootNodes);
            var rootTree = await run.SaveTreeAsync(new Tree(rootNodes));
            await run.DataPacker.FlushAsync(failure.Token);
            await run.TreePacker.FlushAsync(failure.Token);
            run.Uploads.Writer.Complete();
            await WhenAllOrFirstFailure(uploaders, failure);

            if (!run.NewPacks.IsEmpty)
            {
                await _repository.SaveIndexAsync([.. run.NewPacks], cancellationToken);
            }

            if (_repository.Options.PauseBeforeSnapshot > TimeSpan.Zero)
            {
                LogPausingBeforeSnapshot(_logger, _repository.Options.PauseBeforeSnapshot);
                await Task.Delay(_repository.Options.PauseBeforeSnapshot, _repository.Time, cancellationToken);
            }

            var summary = new SnapshotSummary
            {
                FilesNew = Progress.FilesNew,
                FilesChanged = Progress.FilesChanged,
                FilesUnchanged = Progress.FilesUnchanged,
                DirsTotal = Progress.Dirs,
                BytesTotal = Progress.BytesTotal,
                BytesRead = Progress.BytesRead,
                BytesAdded = Progress.BytesAdded,
                BytesUploaded = Progress.BytesUploaded,
                PacksUploaded = (int)Progress.PacksUploaded,
                Skipped = Progress.Skipped,
                DurationSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds,
            };
            var manifest = new SnapshotManifest
            {
                Time = startTime,
                Hostname = request.Hostname,
                Username = Environment.UserName,
                Paths = [.. roots.Select(r => r.Path)],
                Tags = request.Tags,
                Excludes = request.Excludes,
                Tree = rootTree,
                Parent = parent is null ? null : BlobId.TryParse(parent.Id, out var pid) ? pid : null,
                ChangedDuringBackup = [.. run.ChangedDuringRead.Order(StringComparer.Ordinal)],
                Partial = !run.Incomplete.IsEmpty,
                IncompleteFiles = [.. run.Incomplete.Order(StringComparer.Ordinal)],
                Summary = summary,
            };
            var id = await _repository.SaveSnapshotAsync(manifest, cancellationToken);
            if (manifest.Partial)
            {
                LogPartialSnapshot(_logger, id[..8], manifest.IncompleteFiles.Count, request.Deadline!.Value - _repository.Time.GetUtcNow());
            }

            LogSnapshotSaved(_logger, id[..8], summary.FilesNew, summary.FilesChanged, summary.FilesUnchanged, summary.BytesUploaded, summary.DurationSeconds);
            run.SaveIdentities();
            return new BackupResult(id, manifest, [.. run.Warnings], run.Unreadable);
        }
        catch
        {
            run.Uploads.Writer.TryComplete();
            await failure.CancelAsync();
            try
            {
                await Task.WhenAll(uploaders);
            }
            catch (Exception e) when (e is OperationCanceledException or Storage.StorageException)
            {
                // the first failure is what the caller needs to see
            }

            throw;
        }
    }

    private static async Task<T[]> WhenAllOrFirstFailure<T>(Task<T>[] tasks, CancellationTokenSource failure)
    {
        try
        {
            return await Task.WhenAll(tasks);
        }
        catch
        {
            await failure.CancelAsync();
            // Surface a real error rather than the cancellations it caused elsewhere.
            var real = tasks.Where(t => t.IsFaulted).SelectMany(t => t.Exception!.InnerExceptions).FirstOrDefault(e => e is not OperationCanceledException);
            if (real is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(real);
            }

            throw;
        }
    }

    private static async Task WhenAllOrFirstFailure(Task[] tasks, CancellationTokenSource failure)
    {
        await WhenAllOrFirstFailure(tasks.Select(async t => { await t; return 0; }).ToArray(), failure);
    }

    private static List<(string Path, string Name)> ValidatePaths(IReadOnlyList<string> paths)
    {
        if (paths.Count == 0)
        {
            throw new ArgumentException("name at least one path to back up");
        }

        var roots = new List<(string Path, string Name)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in paths)
        {
            var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(p));
            if (!File.Exists(full) && !Directory.Exists(full) && !IsSymlink(full))
            {
                throw new ArgumentException($"path '{p}' does not exist");
            }

            var name = Path.GetFileName(full);
            if (string.IsNullOrEmpty(name))
            {
                throw new ArgumentException($"cannot back up the file system root '{p}'; name the directories under it");
            }

            if (!names.Add(name))
            {
                throw new ArgumentException($"two paths end in '{name}'; each backed-up path must have a different last component");
            }

            roots.Add((full, name));
        }

        return [.. roots.OrderBy(r => r.Name, StringComparer.Ordinal)];
    }

    private static bool IsSymlink(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget is not null;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private async Task<SnapshotRef?> FindParentAsync(BackupRequest request, List<(string Path, string Name)> roots, CancellationToken cancellationToken)
    {
        if (request.Parent is not null)
        {
            return await _repository.ResolveSnapshotAsync(request.Parent, cancellationToken);
        }

        var paths = roots.Select(r => r.Path).ToList();
        var snapshots = await _repository.ListSnapshotsAsync(cancellationToken);
        return snapshots.LastOrDefault(s => s.Manifest.Paths.SequenceEqual(paths, StringComparer.Ordinal));
    }

    private async Task<Tree?> TryLoadTreeAsync(BlobId id, string where, CancellationToken cancellationToken)
    {
        try
        {
            return await _repository.LoadTreeAsync(id, cancellationToken);
        }
        catch (Exception e) when (e is InvalidDataException or RepositoryException or Storage.StorageException)
        {
            // Without the parent's tree every file here is read again: slower, never wrong.
            LogParentTreeUnreadable(_logger, where, e.Message);
            return null;
        }
    }

    /// <summary>State of one backup run.</summary>
    private sealed class Run : IDisposable
    {
        private readonly BackupEngine _engine;
        private readonly BackupRepository _repo;
        private readonly IFileSystemMetadata _fs;
        private readonly CancellationToken _ct;
        private readonly SemaphoreSlim _readSlots;
        private readonly ConcurrentDictionary<BlobId, byte> _claimed = new();
        private readonly ExcludeMatcher _excludes;
        private readonly HashSet<string> _excludedAbsolute;
        private readonly FileIdentityCache _identities;
        private readonly int _compressionLevel;
        private readonly FastCdcChunker _chunker;
        private int _unreadable;
        private readonly PackBufferPool _scratch;
        private readonly List<(string Path, string Name)> _roots;

        // With a deadline, reads wait until the walk has seen every entry, so that they can go most
        // recently modified first. _outstanding counts entries not yet settled (returned, or queued
        // for reading); it starts at 1 for the walk itself, released once every root has started.
        private readonly bool _deferred;
        private readonly CancellationTokenSource? _cutoff;
        private readonly CancellationTokenSource? _walkCutoff;
        private readonly CancellationTokenSource? _readCancel;
        private readonly IDisposable? _deadlineMoves;
        private readonly List<PendingRead> _pending = [];
        private readonly TaskCompletionSource _discovered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _outstanding = 1;

        public Run(BackupEngine engine, BackupRequest request, List<(string Path, string Name)> roots, CancellationToken ct)
        {
            _roots = roots;
            _engine = engine;
            _repo = engine._repository;
            _fs = engine._fileSystem;
            var readers = _repo.Options.ReadConcurrency;
            _chunker = new FastCdcChunker(
                new ChunkerParameters(_repo.Config.ChunkMin, _repo.Config.ChunkAverage, _repo.Config.ChunkMax),
                System.Buffers.ArrayPool<byte>.Create(2 * _repo.Config.ChunkMax, readers));
            _scratch = new PackBufferPool(Compression.Bound(_repo.Config.ChunkMax), readers);
            _ct = ct;
            _readSlots = new SemaphoreSlim(_repo.Options.ReadConcurrency);
            _excludes = new ExcludeMatcher(request.Excludes);
            _compressionLevel = _repo.Options.CompressionLevel;
            Uploads = Channel.CreateBounded<PendingPack>(new BoundedChannelOptions(1) { SingleReader = false, SingleWriter = false });
            var packSize = _repo.Options.PackSizeMiB * 1024 * 1024;
            // Buffers out at most, per type: one filling, one in the channel, one per uploader.
            var buffers = 2 + _repo.Options.TransferConcurrency;
            DataPacker = new Packer(BlobType.Data, DataBuffers = new PackBufferPool(Math.Max(packSize, _repo.Config.ChunkMax + (64 * 1024)), buffers), Uploads.Writer, _repo.Encrypted);
            // Tree packs stay small so that a walk of one directory does not fetch megabytes.
            TreePacker = new Packer(BlobType.Tree, TreeBuffers = new PackBufferPool(Math.Min(packSize, 4 * 1024 * 1024), buffers), Uploads.Writer, _repo.Encrypted);
            // Never back up the repository into itself, nor the engine's own cache.
            _excludedAbsolute = new HashSet<string>(StringComparer.Ordinal) { Path.TrimEndingDirectorySeparator(_repo.Options.ResolveCacheDirectory()) };
            if (_repo.Store is Storage.LocalDirectoryObjectStore local)
            {
                _excludedAbsolute.Add(Path.TrimEndingDirectorySeparator(Path.GetFullPath(local.Location)));
            }

            _identities = FileIdentityCache.Load(_repo.CacheDirectory);
            if (request.Deadline is { } deadline)
            {
                _deferred = true;
                // Always on the repository's clock, so that a deadline moved earlier later is timed by it too.
                _cutoff = new CancellationTokenSource(CutoffDelay(deadline, request.CommitReserve, TimeSpan.Zero), _repo.Time);
                // The walk only lstats, which is cheap next to reading: it goes on into the first half of the
                // commit reserve, so that the snapshot names each changed or new file it could not read
                // instead of whole directories. A directory it has not entered by then is named as not examined.
                _walkCutoff = new CancellationTokenSource(CutoffDelay(deadline, request.CommitReserve, request.CommitReserve / 2), _repo.Time);
                _readCancel = CancellationTokenSource.CreateLinkedTokenSource(ct, _cutoff.Token);
                var cutoff = _cutoff;
                var walkCutoff = _walkCutoff;
                var reserve = request.CommitReserve;
                _deadlineMoves = deadline.OnMovedEarlier(() =>
                {
                    Move(cutoff, CutoffDelay(deadline, reserve, TimeSpan.Zero));
                    Move(walkCutoff, CutoffDelay(deadline, reserve, reserve / 2));
                });
            }
        }

        private static void Move(CancellationTokenSource cutoff, TimeSpan delay)
        {
            try
            {
                if (delay == TimeSpan.Zero)
                {
                    cutoff.Cancel();
                }
                else
                {
                    cutoff.CancelAfter(delay);
                }
            }
            catch (ObjectDisposedException)
            {
                // the backup is over
            }
        }

        /// <summary>
        /// Until reads stop (<paramref name="grace"/> zero: the deadline less the commit reserve) or the walk stops
        /// (a grace into the reserve). A deadline weeks away is no deadline (and past what a timer can hold).
        /// </summary>
        private TimeSpan CutoffDelay(BackupDeadline deadline, TimeSpan reserve, TimeSpan grace)
        {
            var left = deadline.Value - reserve + grace - _repo.Time.GetUtcNow();
            return left > TimeSpan.FromDays(7) ? Timeout.InfiniteTimeSpan : left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }

        public void Dispose()
        {
            _deadlineMoves?.Dispose();
            _readCancel?.Dispose();
            _cutoff?.Dispose();
            _walkCutoff?.Dispose();
            _readSlots.Dispose();
            DataBuffers.Dispose();
            TreeBuffers.Dispose();
            _scratch.Dispose();
        }

        public Channel<PendingPack> Uploads { get; }
        public Packer DataPacker { get; }
        public PackBufferPool DataBuffers { get; }
        public PackBufferPool TreeBuffers { get; }
        public Packer TreePacker { get; }
        public ConcurrentBag<IndexPack> NewPacks { get; } = [];
        public ConcurrentBag<string> Warnings { get; } = [];
        public ConcurrentBag<string> ChangedDuringRead { get; } = [];
        /// <summary>Snapshot paths a deadline left at their parent version, or out when they had none.</summary>
        public ConcurrentBag<string> Incomplete { get; } = [];
        public int Unreadable => Volatile.Read(ref _unreadable);

        /// <summary>Files whose content this run knows for their current identity: the next backup's change detection.</summary>
        private ConcurrentBag<(string Path, FileStatus Status, IReadOnlyList<BlobId> Content)> Identified { get; } = [];

        /// <summary>
        /// Replaces what the local record held under this backup's paths with what this backup saw, once
        /// the snapshot is durable. A failure only costs the next backup a read of those files.
        /// </summary>
        public void SaveIdentities()
        {
            foreach (var (rootPath, _) in _roots)
            {
                _identities.ForgetUnder(rootPath);
            }

            foreach (var (path, status, content) in Identified)
            {
                _identities.Record(path, status, content);
            }

            try
            {
                _identities.Save(_repo.CacheDirectory);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                LogIdentitiesNotSaved(_engine._logger, e.Message);
            }
        }

        /// <summary>
        /// Names the hard link groups and stores the trees that waited for them. A group is named by the
        /// snapshot path of its first member in walk order (depth first, names sorted), which a restore
        /// reproduces, so the trees of a restored copy are byte-identical. Only names that agree on
        /// everything a restore gives the one file (size, content, mode, mtime, owner) are grouped: a
        /// file edited between the reads of two of its names is stored as separate files, never as a
        /// group a restorer would refuse.
        /// </summary>
        public async Task<Node[]> NameHardLinksAsync(Node[] roots)
        {
            if (!roots.Any(n => n.LinkKey is not null || n.PendingTree is not null))
            {
                return roots;
            }

            var members = new List<(string Path, Node Node)>();
            void Collect(IReadOnlyList<Node> nodes, string prefix)
            {
                foreach (var node in nodes)
                {
                    var path = prefix + node.Name;
                    if (node.LinkKey is not null)
                    {
                        members.Add((path, node));
                    }
                    else if (node.PendingTree is { } pending)
                    {
                        Collect(pending.Nodes, path + "/");
                    }
                }
            }

            Collect(roots, "");
            var names = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var group in members.GroupBy(m => LinkGroupKey(m.Node), StringComparer.Ordinal).Where(g => g.Count() > 1))
            {
                var name = group.First().Path;
                foreach (var (path, _) in group)
                {
                    names[path] = name;
                }
            }

            async Task<List<Node>> MaterializeAsync(IReadOnlyList<Node> nodes, string prefix)
            {
                var result = new List<Node>(nodes.Count);
                foreach (var node in nodes)
                {
                    var path = prefix + node.Name;
                    if (node.LinkKey is not null)
                    {
                        result.Add(node with { LinkKey = null, Link = names.GetValueOrDefault(path) });
                    }
                    else if (node.PendingTree is { } pending)
                    {
                        var subtree = await SaveTreeAsync(new Tree(await MaterializeAsync(pending.Nodes, path + "/")));
                        result.Add(node with { PendingTree = null, Subtree = subtree });
                    }
                    else
                    {
                        result.Add(node);
                    }
                }

                return result;
            }

            return [.. await MaterializeAsync(roots, "")];
        }

        private static string LinkGroupKey(Node n) => string.Create(
            System.Globalization.CultureInfo.InvariantCulture,
            $"{n.LinkKey!.Value.Device}:{n.LinkKey.Value.Inode}:{n.Size}:{n.Mode}:{n.MtimeNs}:{n.Uid}:{n.Gid}:{n.ChangedDuringBackup}:{string.Join(',', n.Content?.Select(c => c.ToHex()) ?? [])}");

        private BackupProgress Progress => _engine.Progress;

        public async Task UploadLoopAsync()
        {
            await foreach (var pack in Uploads.Reader.ReadAllAsync(_ct))
            {
                var (id, length) = await _repo.SavePackAsync(pack, _ct);
                var indexed = new IndexPack(id, length, pack.Entries);
                _repo.Index.AddPack(indexed);
                NewPacks.Add(indexed);
                Progress.Uploaded(length);
                (pack.Type == BlobType.Data ? DataBuffers : TreeBuffers).Return(pack.Bytes);
            }
        }

        public Task<Node?> ProcessRootAsync(string path, string name, Node? parentNode)
        {
            Enter();
            return ProcessEntryAsync(path, "", name, parentNode);
        }

        /// <summary>Reads queued files once the walk is over (deadline mode only); call before the roots start.</summary>
        public Task StartDeferredReader()
        {
            if (!_deferred)
            {
                return Task.CompletedTask;
            }

            return Task.Run(ReadDeferredAsync);
        }

        /// <summary>Called once all roots have started: the walk's own count is released.</summary>
        public void RootsStarted() => Leave();

        private void Enter()
        {
            if (_deferred)
            {
                Interlocked.Increment(ref _outstanding);
            }
        }

        public void Leave()
        {
            if (_deferred && Interlocked.Decrement(ref _outstanding) == 0)
            {
                _discovered.TrySetResult();
            }
        }

        private Task<Node?> ProcessEntryAsync(string path, string relative, string name, Node? parentNode) =>
            _deferred ? ProcessSettledEntryAsync(path, relative, name, parentNode) : ProcessEntryAsync(path, relative, name, parentNode, null);

        private async Task<Node?> ProcessSettledEntryAsync(string path, string relative, string name, Node? parentNode)
        {
            var settle = new Settle(this);
            try
            {
                return await ProcessEntryAsync(path, relative, name, parentNode, settle);
            }
            finally
            {
                settle.Done();
            }
        }

        private async Task<Node?> ProcessEntryAsync(string path, string relative, string name, Node? parentNode, Settle? settle)
        {
            _ct.ThrowIfCancellationRequested();
            FileStatus st;
            try
            {
                st = _fs.Lstat(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return Keep(parentNode, path, e.Message);
            }

            // Excludes are decided on the lstat type, as git does: a symlink to a directory is not a directory.
            if (relative.Length > 0 && (_excludes.IsExcluded(relative, st.Type == FileKind.Directory) || _excludedAbsolute.Contains(path)))
            {
                return null;
            }

            switch (st.Type)
            {
                case FileKind.Directory:
                    return await ProcessDirectoryAsync(path, relative, name, st, parentNode, settle);
                case FileKind.RegularFile:
                    return await ProcessFileAsync(path, name, st, parentNode, settle);
                case FileKind.Symlink:
                    string target;
                    try
                    {
                        target = _fs.ReadLink(path);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        return Keep(parentNode, path, e.Message);
                    }

                    return MetadataNode(name, NodeType.Symlink, st) with { Target = target };
                default:
                    Progress.Skip();
                    Warn($"skipped {st.Type.ToString().ToLowerInvariant()} '{path}': only files, directories and symlinks are backed up");
                    return null;
            }
        }

        private Node? Keep(Node? parentNode, string path, string reason)
        {
            Progress.Skip();
            Interlocked.Increment(ref _unreadable);
            if (parentNode is not null)
            {
                Warn($"cannot read '{path}' ({reason}); keeping its version from the parent snapshot");
                return WithoutIdentity(parentNode);
            }

            Warn($"cannot read '{path}' ({reason}); it is not in this snapshot");
            return null;
        }

        private void Warn(string message)
        {
            Warnings.Add(message);
            LogWarning(_engine._logger, message);
        }

        private Node MetadataNode(string name, NodeType type, FileStatus st) => new()
        {
            Name = name,
            Type = type,
            Mode = st.Mode & 0xFFF,
            MtimeNs = st.MtimeNs,
            Uid = st.Uid,
            Gid = st.Gid,
            User = _fs.UserName(st.Uid),
            Group = _fs.GroupName(st.Gid),
        };

        private async Task<Node?> ProcessDirectoryAsync(string path, string relative, string name, FileStatus st, Node? parentNode, Settle? settle)
        {
            if (_walkCutoff is { IsCancellationRequested: true })
            {
                // Past the walk's cutoff the walk stops too: this directory stays as the parent snapshot had it.
                return LeaveAtOlderVersion(path, parentNode is { Type: NodeType.Dir } ? parentNode : null, "/");
            }

            Progress.Dir();
            Dictionary<string, Node>? parentChildren = null;
            if (parentNode is { Type: NodeType.Dir, Subtree: { } subtree })
            {
                var parentTree = await _engine.TryLoadTreeAsync(subtree, path, _ct);
                parentChildren = parentTree?.Nodes.ToDictionary(n => n.Name, StringComparer.Ordinal);
            }

            List<(string Name, bool IsDir)> children;
            try
            {
                // Names and d_type only: the one lstat per entry that follows is all the metadata we need.
                children = [.. new System.IO.Enumeration.FileSystemEnumerable<(string Name, bool IsDir)>(
                        path,
                        (ref System.IO.Enumeration.FileSystemEntry e) => (e.FileName.ToString(), e.IsDirectory),
                        new EnumerationOptions { IgnoreInaccessible = false, AttributesToSkip = 0, RecurseSubdirectories = false, ReturnSpecialDirectories = false })
                    .OrderBy(c => c.Name, StringComparer.Ordinal)];
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return Keep(parentNode, path, e.Message);
            }

            var tasks = new List<Task<Node?>>(children.Count);
            foreach (var (childName, looksLikeDirectory) in children)
            {
                var childPath = Path.Join(path, childName);
                var childRelative = relative.Length == 0 ? childName : relative + "/" + childName;
                Node? parentChild = null;
                parentChildren?.TryGetValue(childName, out parentChild);
                Enter();
                // Unchanged files complete synchronously, so without a hop the whole walk would run on one
                // thread; each subdirectory goes to a pool thread, so the lstat-and-compare work spreads over
                // every core. (d_type is only a hint here; the lstat inside decides what the entry is.)
                tasks.Add(looksLikeDirectory
                    ? Task.Run(() => ProcessEntryAsync(childPath, childRelative, childName, parentChild), _ct)
                    : ProcessEntryAsync(childPath, childRelative, childName, parentChild));
            }

            settle?.Done();
            var nodes = (await Task.WhenAll(tasks)).OfType<Node>().ToList();
            if (nodes.Any(n => n.LinkKey is not null || n.PendingTree is not null))
            {
                // Its tree names hard link groups, which are named once the whole walk is known.
                return MetadataNode(name, NodeType.Dir, st) with { PendingTree = new Tree(nodes) };
            }

            var treeId = await SaveTreeAsync(new Tree(nodes));
            return MetadataNode(name, NodeType.Dir, st) with { Subtree = treeId };
        }

        public async Task<BlobId> SaveTreeAsync(Tree tree)
        {
            var bytes = JsonSerializer.SerializeToUtf8Bytes(tree, FormatJson.Default.Tree);
            var id = _repo.ComputeBlobId(bytes);
            if (!_repo.Index.Contains(id) && _claimed.TryAdd(id, 0))
            {
                await AddBlobAsync(TreePacker, id, bytes);
            }

            return id;
        }

        /// <summary>Compresses into a pooled scratch buffer and copies the result into the pack: no per-blob arrays.</summary>
        private async ValueTask AddBlobAsync(Packer packer, BlobId id, ReadOnlyMemory<byte> raw)
        {
            // Trees can exceed a chunk; they are rare and get an array of their own.
            var pooled = raw.Length <= _repo.Config.ChunkMax;
            var scratch = pooled ? _scratch.Rent() : new byte[Compression.Bound(raw.Length)];
            try
            {
                var compressed = Compression.CompressInto(raw.Span, scratch, _compressionLevel);
                await (compressed > 0
                    ? packer.AddAsync(id, scratch.AsMemory(0, compressed), CompressionKind.Zstd, raw.Length, _ct)
                    : packer.AddAsync(id, raw, CompressionKind.None, raw.Length, _ct));
            }
            finally
            {
                if (pooled)
                {
                    _scratch.Return(scratch, rented: false);
                }
            }
        }

        private bool AllKnown(IReadOnlyList<BlobId>? content) =>
            content is not null && content.All(id => _repo.Index.Contains(id) || _claimed.ContainsKey(id));

        private async Task<Node?> ProcessFileAsync(string path, string name, FileStatus st, Node? parentNode, Settle? settle)
        {
            var baseNode = MetadataNode(name, NodeType.File, st) with { Size = st.Size, LinkKey = st.LinkCount > 1 ? (st.Device, st.Inode) : null };
            // A version 1 parent still holds the identity the file had when it was backed up.
            if (parentNode is { Type: NodeType.File, Inode: not 0 } p && p.Size == st.Size && p.MtimeNs == st.MtimeNs && p.CtimeNs == st.CtimeNs
                && p.Inode == st.Inode && !p.ChangedDuringBackup && !p.Stale && AllKnown(p.Content))
            {
                Progress.FileUnchanged(st.Size);
                Identified.Add((path, st, p.Content!));
                return baseNode with { Content = p.Content };
            }

            if (_identities.TryMatch(path, st) is { } known && AllKnown(known))
            {
                // Restored or backed up on this machine and untouched since: the content is known.
                Progress.FileUnchanged(st.Size);
                Identified.Add((path, st, known));
                return baseNode with { Content = known };
            }

            if (settle is not null)
            {
                var pending = new PendingRead(path, st, parentNode, baseNode);
                lock (_pending)
                {
                    _pending.Add(pending);
                }

                settle.Done();
                return await pending.Result.Task;
            }

            await _readSlots.WaitAsync(_ct);
            try
            {
                return await ReadChangedFileAsync(path, st, parentNode, baseNode);
            }
            finally
            {
                _readSlots.Release();
            }
        }

        private async Task ReadDeferredAsync()
        {
            try
            {
                await _discovered.Task.WaitAsync(_ct);
                List<PendingRead> order;
                lock (_pending)
                {
                    // The newest edits are the ones no earlier snapshot holds: they go first.
                    order = [.. _pending.OrderByDescending(p => p.Status.MtimeNs).ThenBy(p => p.Path, StringComparer.Ordinal)];
                }

                var reads = new List<Task>(order.Count);
                var next = 0;
                for (; next < order.Count; next++)
                {
                    await _readSlots.WaitAsync(_ct);
                    if (_cutoff!.IsCancellationRequested)
                    {
                        _readSlots.Release();
                        break;
                    }

                    var p = order[next];
                    reads.Add(Task.Run(async () =>
                    {
                        try
                        {
                            p.Result.TrySetResult(await ReadChangedFileAsync(p.Path, p.Status, p.Parent, p.Base));
                        }
                        catch (Exception e)
                        {
                            p.Result.TrySetException(e);
                        }
                        finally
                        {
                            _readSlots.Release();
                        }
                    }));
                }

                for (; next < order.Count; next++)
                {
                    order[next].Result.TrySetResult(LeaveAtOlderVersion(order[next].Path, order[next].Parent, ""));
                }

                await Task.WhenAll(reads);
            }
            catch (Exception e)
            {
                lock (_pending)
                {
                    foreach (var p in _pending)
                    {
                        p.Result.TrySetException(e);
                    }
                }

                throw;
            }
        }

        private Node? LeaveAtOlderVersion(string path, Node? parentNode, string suffix)
        {
            Incomplete.Add(SnapshotPath(path) + suffix);
            return parentNode is null ? null : WithoutIdentity(parentNode) with { Stale = true };
        }

        /// <summary>
        /// A parent snapshot's node as this snapshot keeps it: without the version 1 identity fields, and
        /// out of its hard link group (the group's other names may have moved on; an older version on
        /// its own is restorable, a group whose members disagree is not).
        /// </summary>
        private static Node WithoutIdentity(Node node) => node with { CtimeNs = 0, Inode = 0, Device = 0, Links = 0, Link = null };

        private string SnapshotPath(string path)
        {
            foreach (var (rootPath, rootName) in _roots)
            {
                if (path == rootPath)
                {
                    return rootName;
                }

                if (path.StartsWith(rootPath, StringComparison.Ordinal) && path.Length > rootPath.Length && path[rootPath.Length] == '/')
                {
                    return rootName + path[rootPath.Length..];
                }
            }

            return path;
        }

        private async Task<Node?> ReadChangedFileAsync(string path, FileStatus st, Node? parentNode, Node baseNode)
        {
            try
            {
                var (content, read) = await ReadFileAsync(path);
                var after = _fs.Lstat(path);
                var changed = read != st.Size || after.Size != st.Size || after.MtimeNs != st.MtimeNs || after.CtimeNs != st.CtimeNs;
                if (changed)
                {
                    ChangedDuringRead.Add(path);
                    Warn($"'{path}' changed while it was read; the snapshot keeps what was read and marks it, and the next backup reads it again");
                }
                else
                {
                    Identified.Add((path, st, content));
                }

                if (parentNode is null)
                {
                    Progress.FileNew(read);
                }
                else
                {
                    Progress.FileChanged(read);
                }

                return baseNode with { Size = read, Content = content, ChangedDuringBackup = changed };
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return Keep(parentNode, path, e.Message);
            }
            catch (OperationCanceledException) when (_cutoff is { IsCancellationRequested: true } && !_ct.IsCancellationRequested)
            {
                // The deadline came while this file was read: what was packed is kept for next time.
                return LeaveAtOlderVersion(path, parentNode is { Type: NodeType.File } ? parentNode : null, "");
            }
        }

        private async Task<(List<BlobId> Content, long Read)> ReadFileAsync(string path)
        {
            var content = new List<BlobId>();
            long read = 0;
            await using var file = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.Open,
                Access = FileAccess.Read,
                Share = FileShare.ReadWrite | FileShare.Delete,
                BufferSize = 0,
                Options = FileOptions.SequentialScan,
            });
            await using var stream = new InlineReadStream(file);
            await foreach (var chunk in _chunker.ChunkAsync(stream, _readCancel?.Token ?? _ct))
            {
                var id = _repo.ComputeBlobId(chunk.Span);
                content.Add(id);
                read += chunk.Length;
                Progress.Read(chunk.Length);
                if (!_repo.Index.Contains(id) && _claimed.TryAdd(id, 0))
                {
                    Progress.Added(chunk.Length);
                    await AddBlobAsync(DataPacker, id, chunk);
                }
            }

            return (content, read);
        }
    }

    private sealed record PendingRead(string Path, FileStatus Status, Node? Parent, Node Base)
    {
        public TaskCompletionSource<Node?> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Marks one walk entry as settled exactly once (deadline mode only).</summary>
    private sealed class Settle(Run run)
    {
        private int _done;

        public void Done()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                run.Leave();
            }
        }
    }

    [LoggerMessage(EventId = 1104, Level = LogLevel.Warning, Message = "Snapshot {SnapshotId} is partial: the deadline left {Incomplete} entries at their older version or out, with {Spare} to spare")]
    private static partial void LogPartialSnapshot(ILogger logger, string snapshotId, int incomplete, TimeSpan spare);

    [LoggerMessage(EventId = 1100, Level = LogLevel.Information, Message = "Snapshot {SnapshotId} saved: {FilesNew} new, {FilesChanged} changed, {FilesUnchanged} unchanged files, {BytesUploaded} bytes uploaded in {DurationSeconds:0.00} s")]
    private static partial void LogSnapshotSaved(ILogger logger, string snapshotId, long filesNew, long filesChanged, long filesUnchanged, long bytesUploaded, double durationSeconds);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Parent tree for {Path} is unreadable, reading its files again: {Reason}")]
    private static partial void LogParentTreeUnreadable(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message = "All packs and the index are durable; pausing {Delay} before writing the snapshot (Backup:PauseBeforeSnapshot)")]
    private static partial void LogPausingBeforeSnapshot(ILogger logger, TimeSpan delay);

    [LoggerMessage(EventId = 1105, Level = LogLevel.Warning, Message = "The files' identities could not be saved in the local cache; the next backup will read them again: {Reason}")]
    private static partial void LogIdentitiesNotSaved(ILogger logger, string reason);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "{Warning}")]
    private static partial void LogWarning(ILogger logger, string warning);
}

/// <summary>
/// Reads a file synchronously where an async read is asked for. Local file reads have no async
/// kernel path here, so .NET would hand each one to another pool thread; a backup reads tens of
/// thousands of small files from a bounded number of readers, and doing the read inline saves a
/// thread hop per read.
/// </summary>
internal sealed class InlineReadStream(FileStream inner) : Stream
{
    public override bool CanRead => true;
    public override bool CanSeek => inner.CanSeek;
    public override bool CanWrite => false;
    public override long Length => inner.Length;

    public override long Position
    {
        get => inner.Position;
        set => inner.Position = value;
    }

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    public override int Read(Span<byte> buffer) => inner.Read(buffer);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(inner.Read(buffer.Span));
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush() { }

    public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
