using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using SpotDevBox.Backup.Crypto;
using SpotDevBox.Backup.FileSystem;
using SpotDevBox.Backup.Format;
using SpotDevBox.Backup.Repository;
using SpotDevBox.Backup.Selection;
using SpotDevBox.Core.Text;

namespace SpotDevBox.Backup.Engine;

public sealed record RestoreRequest
{
    /// <summary>"latest" or a snapshot id (prefix).</summary>
    public string Snapshot { get; init; } = "latest";
    public required string Target { get; init; }
    /// <summary>Gitignore-style patterns; when any is given only matching entries (and what is under them) are restored.</summary>
    public IReadOnlyList<string> Includes { get; init; } = [];
    /// <summary>Update an existing tree in place instead of requiring an empty target.</summary>
    public bool Overwrite { get; init; }
    /// <summary>With <see cref="Overwrite"/>: remove what the snapshot does not hold.</summary>
    public bool Delete { get; init; }
}

public sealed record RestoreResult(
    string SnapshotId,
    long Files,
    long Dirs,
    long Symlinks,
    long BytesWritten,
    long FilesUnchanged,
    long Deleted,
    IReadOnlyList<string> Warnings,
    IReadOnlyList<string> Errors)
{
    /// <summary>
    /// One line per entry a partial snapshot left at an older version or out. Up to
    /// <see cref="RestoreEngine.LeftBehindListedLimit"/> of them are also in <see cref="Warnings"/>;
    /// beyond that, <see cref="Warnings"/> only counts them.
    /// </summary>
    public IReadOnlyList<string> LeftBehind { get; init; } = [];
}

public sealed class RestoreProgress
{
    private long _filesTotal;
    private long _bytesTotal;
    private long _filesDone;
    private long _bytesWritten;

    public long FilesTotal => Interlocked.Read(ref _filesTotal);
    public long BytesTotal => Interlocked.Read(ref _bytesTotal);
    public long FilesDone => Interlocked.Read(ref _filesDone);
    public long BytesWritten => Interlocked.Read(ref _bytesWritten);

    /// <summary>Whether the totals are known: every tree was read and what to write decided.</summary>
    public bool Planned => Volatile.Read(ref _planned);

    private bool _planned;

    /// <summary>The totals of what is to be written (files already up to date are not: they are never written).</summary>
    internal void Plan(long files, long bytes)
    {
        Interlocked.Exchange(ref _filesTotal, files);
        Interlocked.Exchange(ref _bytesTotal, bytes);
        Volatile.Write(ref _planned, true);
    }

    internal void Wrote(long bytes) => Interlocked.Add(ref _bytesWritten, bytes);
    internal void FileDone() => Interlocked.Increment(ref _filesDone);
}

/// <summary>
/// Restores a snapshot: validates every tree before touching the disk (a hostile manifest is refused
/// whole), creates directories itself and never writes through a symlink, downloads pack ranges in
/// parallel, verifies every blob's hash, then reapplies metadata and records the identity of what it
/// wrote so that the next backup on this machine reads nothing it does not have to.
/// </summary>
public sealed partial class RestoreEngine(BackupRepository repository, IFileSystemMetadata fileSystem, ILogger<RestoreEngine> logger)
{
    private const int MaxDepth = 512;
    private const int MaxEntries = 50_000_000;

    /// <summary>
    /// Entries a partial snapshot left behind are each named in the warnings up to this many; beyond it one
    /// warning counts them (thousands of lines would bury every other message) and <see cref="RestoreResult.LeftBehind"/> lists them.
    /// </summary>
    public const int LeftBehindListedLimit = 20;

    /// <summary>Pack ranges held in memory at once during a restore (at least one, whatever its size).</summary>
    internal const long RangeBytesInFlight = 20L * 1024 * 1024;

    public RestoreProgress Progress { get; } = new();

    /// <summary>
    /// Test seam: called with each step and the entry's path relative to the target after the entry's
    /// directory has been resolved and before anything is created, renamed, linked, changed or removed in it,
    /// so a test can swap that directory for a symlink at the worst moment.
    /// </summary>
    internal Action<RestoreStep, string>? BeforeStep { get; init; }

    /// <summary>Random per restore, so the temporary names cannot be guessed ahead (see <see cref="Item.WriteRelative"/>).</summary>
    private readonly string _tempPrefix = ".sdb-restore-" + Guid.NewGuid().ToString("N")[..12] + "-";

    private sealed record Item(string Relative, string FullPath, Node Node, int Depth, int Seq, string TempPrefix)
    {
        /// <summary>
        /// Where the content is written until every chunk has been verified; only a complete file is
        /// renamed into place, so a failed one never stands at its final name looking whole, and with
        /// --overwrite the old local copy survives a failure. Built when asked for rather than held
        /// by every entry of a large restore.
        /// </summary>
        public string WriteRelative => ParentOf(Relative) is { } parent
            ? parent + "/" + TempPrefix + Seq.ToString(System.Globalization.CultureInfo.InvariantCulture)
            : TempPrefix + Seq.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task<RestoreResult> RunAsync(RestoreRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Delete && !request.Overwrite)
        {
            throw new ArgumentException("--delete needs --overwrite: it removes files from an existing tree");
        }

        var target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(request.Target));
        CheckTarget(target, request.Overwrite);

        await repository.LoadIndexAsync(cancellationToken);
        var snapshot = await repository.ResolveSnapshotAsync(request.Snapshot, cancellationToken);

        // Plan everything (and refuse a hostile manifest) before the first write. A tree that cannot be
        // read is damage, not hostility: it is recorded and what lies under it is skipped.
        var items = new List<Item>();
        var damaged = new List<DamagedTree>();
        await CollectAsync(snapshot.Manifest.Tree, "", target, 0, items, damaged, cancellationToken);
        items = Filter(items, request.Includes);
        var linkedTo = PlanHardLinks(items, out var linkWarnings);

        var warnings = new ConcurrentBag<string>(linkWarnings);
        var errors = new ConcurrentBag<string>();
        foreach (var damagedTree in damaged)
        {
            // With --include it cannot be known whether what was asked for lay under it, so it is always named.
            errors.Add(damagedTree.Relative.Length == 0
                ? $"the snapshot's root tree {damagedTree.Id.ShortHex} cannot be read, so nothing in the snapshot could be restored: {damagedTree.Reason}"
                : $"the contents of directory '{damagedTree.Relative}' could not be restored: its tree {damagedTree.Id.ShortHex} cannot be read: {damagedTree.Reason}");
        }

        foreach (var item in items.Where(i => i.Node.ChangedDuringBackup))
        {
            warnings.Add($"'{item.Relative}' was changing while it was backed up; its content may mix old and new bytes");
        }

        var leftBehind = new List<string>();
        foreach (var item in items.Where(i => i.Node.Stale))
        {
            leftBehind.Add(item.Node.Type == NodeType.Dir
                ? $"directory '{item.Relative}' was not examined by the partial backup: files in it may be older versions, and files new since the previous snapshot are missing"
                : $"'{item.Relative}' is an older version: the snapshot is partial and did not get to save it");
        }

        if (snapshot.Manifest.Partial)
        {
            var manifest = snapshot.Manifest;
            var older = items.Where(i => i.Node.Stale).Select(i => i.Relative).ToHashSet(StringComparer.Ordinal);
            foreach (var missing in manifest.IncompleteFiles.Where(f => !older.Contains(f.TrimEnd('/'))))
            {
                leftBehind.Add(missing.EndsWith('/')
                    ? $"directory '{missing.TrimEnd('/')}' is not in this snapshot: it was new and the partial backup did not get to it"
                    : $"'{missing}' is not in this snapshot: it was new and the partial backup did not get to it");
            }

            warnings.Add($"snapshot {snapshot.ShortId} is partial: its backup reached a deadline and left {Counted.Of(manifest.IncompleteFiles.Count, "entry")} at an older version or out"
                + (leftBehind.Count > LeftBehindListedLimit ? "; too many to name here: restore with --verbose lists each" : ""));
        }

        if (leftBehind.Count <= LeftBehindListedLimit)
        {
            foreach (var line in leftBehind)
            {
                warnings.Add(line);
            }
        }

        Directory.CreateDirectory(target);
        // Everything beneath the target is reached from this handle without following a symlink.
        using var tree = new TargetTree(target) { BeforeStep = BeforeStep };
        var dirs = items.Where(i => i.Node.Type == NodeType.Dir).ToList();
        var files = items.Where(i => i.Node.Type == NodeType.File).ToList();
        var links = items.Where(i => i.Node.Type == NodeType.Symlink).ToList();

        foreach (var dir in dirs)
        {
            try
            {
                EnsureDirectory(tree, dir.Relative, request.Overwrite);
            }
            catch (IOException e) when (e is not FileExistsOrDirectoryException)
            {
                // What was to go in it fails on its own, each entry named.
                errors.Add($"directory '{dir.Relative}' could not be restored: {e.Message}");
            }
        }

        // Files that already hold the right content (same size and mtime) are left alone in --overwrite mode.
        var toWrite = new List<Item>();
        var unchanged = new List<Item>();
        var hardLinks = new List<(Item Link, Item Primary)>();
        foreach (var file in files)
        {
            if (linkedTo.TryGetValue(file, out var primary))
            {
                hardLinks.Add((file, primary));
                continue;
            }

            if (request.Overwrite && IsSameFile(tree, file))
            {
                unchanged.Add(file);
                continue;
            }

            toWrite.Add(file);
        }

        Progress.Plan(toWrite.Count, toWrite.Sum(f => f.Node.Size));
        var failedFiles = new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);
        try
        {
            await WriteContentAsync(tree, toWrite, failedFiles, errors, warnings, cancellationToken);
            foreach (var file in toWrite)
            {
                if (failedFiles.ContainsKey(file.FullPath))
                {
                    continue;
                }

                try
                {
                    if (tree.TryLstat(file.Relative) is { Type: FileKind.Directory })
                    {
                        RemoveExisting(tree, file.Relative, request.Overwrite, allowDirectory: request.Delete);
                    }

                    // rename(2): atomic, and it replaces a symlink at the destination instead of following it.
                    tree.Rename(file.WriteRelative, file.Relative);
                }
                catch (IOException e) when (e is not FileExistsOrDirectoryException)
                {
                    failedFiles.TryAdd(file.FullPath, 0);
                    errors.Add($"'{file.Relative}' could not be restored: {e.Message}");
                }
            }
        }
        finally
        {
            foreach (var file in toWrite)
            {
                tree.TryRemoveFile(file.WriteRelative);
            }
        }

        foreach (var (link, primary) in hardLinks)
        {
            if (failedFiles.ContainsKey(primary.FullPath))
            {
                failedFiles.TryAdd(link.FullPath, 0);
                errors.Add($"'{link.Relative}' could not be restored: it is a hard link to '{primary.Relative}', which could not be restored");
                continue;
            }

            try
            {
                if (request.Overwrite && tree.TryLstat(link.Relative) is { } existing && tree.TryLstat(primary.Relative) is { } original
                    && existing.Inode == original.Inode && existing.Device == original.Device)
                {
                    // Already another name of the restored file: relinking would only move its ctime.
                    continue;
                }

                RemoveExisting(tree, link.Relative, request.Overwrite, allowDirectory: false);
                tree.HardLink(primary.Relative, link.Relative);
            }
            catch (IOException e) when (e is not FileExistsOrDirectoryException)
            {
                failedFiles.TryAdd(link.FullPath, 0);
                errors.Add($"'{link.Relative}' could not be restored: {e.Message}");
            }
        }

        foreach (var link in links)
        {
            try
            {
                if (request.Overwrite && tree.TryLstat(link.Relative) is { Type: FileKind.Symlink } && tree.ReadLink(link.Relative) == link.Node.Target)
                {
                    continue;
                }

                RemoveExisting(tree, link.Relative, request.Overwrite, allowDirectory: false);
                tree.Symlink(link.Node.Target!, link.Relative);
            }
            catch (IOException e) when (e is not FileExistsOrDirectoryException)
            {
                errors.Add($"'{link.Relative}' could not be restored: {e.Message}");
            }
        }

        long deleted = 0;
        if (request.Delete)
        {
            deleted = DeleteExtraneous(tree, items, damaged, request.Includes.Count > 0, errors);
        }

        // Metadata last: writing content would change mtimes, creating entries would change directory mtimes.
        var isRoot = fileSystem.IsRoot;
        foreach (var file in unchanged)
        {
            ApplyMetadata(tree, file, isRoot, warnings);
        }

        foreach (var link in links)
        {
            ApplyMetadata(tree, link, isRoot, warnings);
        }

        foreach (var dir in dirs.OrderByDescending(d => d.Depth))
        {
            ApplyMetadata(tree, dir, isRoot, warnings);
        }

        RecordIdentities(tree, target, request.Includes.Count > 0 ? SelectionRoots(items, request.Includes) : null, toWrite.Concat(unchanged).Concat(hardLinks.Where(h => !failedFiles.ContainsKey(h.Primary.FullPath)).Select(h => h.Link))
            .Where(f => !failedFiles.ContainsKey(f.FullPath)));

        var result = new RestoreResult(
            snapshot.Id,
            files.Count,
            dirs.Count,
            links.Count,
            Progress.BytesWritten,
            unchanged.Count,
            deleted,
            [.. warnings],
            [.. errors])
        {
            LeftBehind = leftBehind,
        };
        LogRestored(logger, snapshot.ShortId, target, files.Count, Progress.BytesWritten, errors.Count);
        return result;
    }

    private static void CheckTarget(string target, bool overwrite)
    {
        if (File.Exists(target))
        {
            throw new ArgumentException($"target '{target}' is a file, not a directory");
        }

        var info = new DirectoryInfo(target);
        if (info.Exists && !overwrite && info.EnumerateFileSystemInfos().Any())
        {
            throw new ArgumentException($"target '{target}' is not empty; restore into an empty directory, or pass --overwrite to update it in place");
        }
    }

    private sealed record DamagedTree(string Relative, string FullPath, BlobId Id, string Reason);

    private async Task CollectAsync(BlobId treeId, string relative, string fullPath, int depth, List<Item> items, List<DamagedTree> damaged, CancellationToken cancellationToken)
    {
        if (depth > MaxDepth)
        {
            throw new InvalidDataException($"snapshot refused: directories nest deeper than {MaxDepth} levels at '{relative}'");
        }

        Tree tree;
        try
        {
            tree = await repository.LoadTreeAsync(treeId, cancellationToken);
        }
        catch (Exception e) when (e is InvalidDataException or RepositoryException
            || (e is Storage.StorageException s && s.Failure is Storage.StorageFailure.NotFound or Storage.StorageFailure.Rejected))
        {
            // Hash mismatch, undecodable, or not in the repository: nothing under it is known, so nothing
            // under it is written, and the walk goes on to refuse any hostile tree elsewhere. An unreachable
            // store is not damage: that still fails the whole restore.
            damaged.Add(new DamagedTree(relative, fullPath, treeId, e.Message));
            return;
        }

        tree.Validate(relative.Length == 0 ? "/" : relative);
        if (items.Count + tree.Nodes.Count > MaxEntries)
        {
            // Shared subtrees can make a tiny hostile snapshot describe an astronomically large tree.
            throw new InvalidDataException($"snapshot refused: it describes more than {MaxEntries:N0} entries");
        }

        foreach (var node in tree.Nodes)
        {
            var rel = relative.Length == 0 ? node.Name : relative + "/" + node.Name;
            var full = Path.Join(fullPath, node.Name);
            items.Add(new Item(rel, full, node, depth, items.Count, _tempPrefix));
            if (node.Type == NodeType.Dir)
            {
                await CollectAsync(node.Subtree!.Value, rel, full, depth + 1, items, damaged, cancellationToken);
            }
        }
    }

    private static List<Item> Filter(List<Item> items, IReadOnlyList<string> includes)
    {
        if (includes.Count == 0)
        {
            return items;
        }

        var matcher = new ExcludeMatcher(includes);
        var selected = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            var parent = ParentOf(item.Relative);
            if ((parent is not null && selected.Contains(parent))
                || matcher.IsExcluded(item.Relative, item.Node.Type == NodeType.Dir))
            {
                selected.Add(item.Relative);
            }
        }

        // Keep the directories that lead to what was selected.
        foreach (var rel in selected.ToList())
        {
            for (var p = ParentOf(rel); p is not null; p = ParentOf(p))
            {
                selected.Add(p);
            }
        }

        return [.. items.Where(i => selected.Contains(i.Relative))];
    }

    /// <summary>What an include list selected as a whole: the matched entries whose parent was not matched.</summary>
    private static List<string> SelectionRoots(List<Item> items, IReadOnlyList<string> includes)
    {
        var matcher = new ExcludeMatcher(includes);
        var whole = new HashSet<string>(StringComparer.Ordinal);
        var roots = new List<string>();
        foreach (var item in items)
        {
            if (ParentOf(item.Relative) is { } parent && whole.Contains(parent))
            {
                whole.Add(item.Relative);
            }
            else if (matcher.IsExcluded(item.Relative, item.Node.Type == NodeType.Dir))
            {
                whole.Add(item.Relative);
                roots.Add(item.FullPath);
            }
        }

        return roots;
    }

    /// <summary>
    /// Maps every further name of a hard link group to the group's first member, and refuses the
    /// snapshot, before anything is written, when the members disagree: restoring them as one file
    /// would put one entry's bytes under another's name. Groups are named by <see cref="Node.Link"/>
    /// (version 2) or by device and inode when <c>links</c> is above 1 (version 1). A member that is
    /// stale (or under a stale directory) is an older version by design and is restored on its own.
    /// </summary>
    private static Dictionary<Item, Item> PlanHardLinks(List<Item> items, out List<string> warnings)
    {
        warnings = [];
        var groups = new Dictionary<string, List<Item>>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            var node = item.Node;
            var key = node.Link is { } link ? "link " + link
                : node.Type != NodeType.Dir && node.Links > 1 && node.Inode != 0 ? $"inode {node.Device} {node.Inode}"
                : null;
            if (key is not null)
            {
                if (!groups.TryGetValue(key, out var members))
                {
                    groups[key] = members = [];
                }

                members.Add(item);
            }
        }

        var linkedTo = new Dictionary<Item, Item>();
        if (groups.Count == 0)
        {
            return linkedTo;
        }

        var staleDirs = items.Where(i => i.Node is { Type: NodeType.Dir, Stale: true }).Select(i => i.Relative + "/").ToList();
        bool IsStale(Item i) => i.Node.Stale || staleDirs.Any(d => i.Relative.StartsWith(d, StringComparison.Ordinal));
        foreach (var members in groups.Values.Where(g => g.Count > 1))
        {
            if (members.All(m => m.Node.Type == NodeType.Symlink))
            {
                // Version 1 recorded hard-linked symlinks too; they were always restored as separate links.
                continue;
            }

            var primary = members.FirstOrDefault(m => !IsStale(m)) ?? members[0];
            foreach (var member in members.Where(m => m != primary))
            {
                var nonFile = new[] { member, primary }.FirstOrDefault(m => m.Node.Type != NodeType.File);
                if (nonFile is not null)
                {
                    throw new InvalidDataException(nonFile == member
                        ? $"snapshot refused: '{member.Relative}' is a hard link to '{primary.Relative}' but is a {member.Node.Type}, not a File"
                        : $"snapshot refused: '{member.Relative}' is a hard link to '{primary.Relative}', which is a {primary.Node.Type}, not a File");
                }

                if (member.Node.Size != primary.Node.Size || !member.Node.Content!.SequenceEqual(primary.Node.Content!))
                {
                    if (!IsStale(member))
                    {
                        throw new InvalidDataException($"snapshot refused: '{member.Relative}' is a hard link to '{primary.Relative}' but its size or content differs");
                    }

                    warnings.Add($"'{member.Relative}' is an older version of a file hard-linked to '{primary.Relative}'; it is restored as a file of its own");
                    continue;
                }

                linkedTo[member] = primary;
            }
        }

        return linkedTo;
    }

    private static string? ParentOf(string relative)
    {
        var slash = relative.LastIndexOf('/');
        return slash < 0 ? null : relative[..slash];
    }

    private static void EnsureDirectory(TargetTree tree, string relative, bool overwrite)
    {
        var st = tree.TryLstat(relative);
        if (st is { Type: FileKind.Directory })
        {
            return;
        }

        if (st is not null)
        {
            RemoveExisting(tree, relative, overwrite, allowDirectory: false);
        }

        tree.CreateDirectory(relative);
    }

    /// <summary>Removes whatever is at <paramref name="relative"/> (a symlink is removed, never followed).</summary>
    private static void RemoveExisting(TargetTree tree, string relative, bool overwrite, bool allowDirectory)
    {
        var st = tree.TryLstat(relative);
        if (st is null)
        {
            return;
        }

        if (!overwrite)
        {
            throw new FileExistsOrDirectoryException($"'{tree.FullPath(relative)}' already exists");
        }

        if (st.Type == FileKind.Directory && !allowDirectory)
        {
            throw new FileExistsOrDirectoryException($"'{tree.FullPath(relative)}' is a directory where the snapshot has a file; remove it or restore elsewhere");
        }

        tree.Remove(relative, directory: st.Type == FileKind.Directory);
    }

    /// <summary>What restore refuses to replace: it ends the restore, as before, rather than being one entry's error.</summary>
    private sealed class FileExistsOrDirectoryException(string message) : IOException(message);

    private static bool IsSameFile(TargetTree tree, Item file)
    {
        FileStatus? st;
        try
        {
            st = tree.TryLstat(file.Relative);
        }
        catch (IOException)
        {
            return false; // written, where its own error is reported
        }

        return st is { Type: FileKind.RegularFile } && st.Size == file.Node.Size && st.MtimeNs == file.Node.MtimeNs;
    }

    /// <summary>
    /// A file being written: opened once, on its first chunk, with O_CREAT|O_EXCL (so a symlink that
    /// appeared at the temporary name is never followed), and closed after its last chunk. Writes to
    /// one file are serialized; different files are written in parallel.
    /// </summary>
    private sealed class OpenFile(TargetTree tree, Item item, int chunks, Action<Microsoft.Win32.SafeHandles.SafeFileHandle, Item> finish)
    {
        private readonly Lock _gate = new();
        private Microsoft.Win32.SafeHandles.SafeFileHandle? _handle;
        private int _pending = chunks;
        private bool _closed;

        public Item Item { get; } = item;

        /// <summary>Writes one chunk; returns true when it was the file's last.</summary>
        public bool Write(ReadOnlySpan<byte> data, long offset)
        {
            lock (_gate)
            {
                if (_closed)
                {
                    return false;
                }

                _handle ??= tree.CreateNewFile(Item.WriteRelative);
                RandomAccess.Write(_handle, data, offset);
                if (--_pending > 0)
                {
                    return false;
                }

                finish(_handle, Item);
                Close();
                return true;
            }
        }

        public void Abandon()
        {
            lock (_gate)
            {
                Close();
            }
        }

        private void Close()
        {
            _closed = true;
            _handle?.Dispose();
            _handle = null;
        }
    }

    private async Task WriteContentAsync(TargetTree tree, List<Item> files, ConcurrentDictionary<string, byte> failedFiles, ConcurrentBag<string> errors, ConcurrentBag<string> warnings, CancellationToken cancellationToken)
    {
        // Metadata goes on through the open handle once the last chunk is written: the rename that
        // follows changes neither mode nor mtime, and no second open or path lookup is needed.
        var owners = fileSystem.IsRoot;
        void finish(Microsoft.Win32.SafeHandles.SafeFileHandle handle, Item file)
        {
            try
            {
                fileSystem.SetMetadata(handle, file.FullPath, file.Node.Mode, file.Node.MtimeNs, owners ? (file.Node.Uid, file.Node.Gid) : null);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                warnings.Add($"metadata of '{file.Relative}' not restored: {e.Message}");
            }
        }

        // Group the work by pack so each pack is fetched once, with one ranged request.
        var byPack = new Dictionary<BlobId, Dictionary<BlobId, (PackEntry Entry, List<(Item File, long Offset)> Targets)>>();
        var open = new Dictionary<Item, OpenFile>();
        foreach (var file in files)
        {
            long offset = 0;
            var count = 0;
            foreach (var blob in file.Node.Content!)
            {
                if (!repository.Index.TryGet(blob, out var location))
                {
                    Fail(file, $"blob {blob.ShortHex} is missing from the repository");
                    break;
                }

                if (!byPack.TryGetValue(location.Pack, out var blobs))
                {
                    byPack[location.Pack] = blobs = [];
                }

                if (!blobs.TryGetValue(blob, out var slot))
                {
                    blobs[blob] = slot = (location.Entry, []);
                }

                slot.Targets.Add((file, offset));
                offset += location.Entry.RawLength;
                count++;
            }

            if (!failedFiles.ContainsKey(file.FullPath) && offset != file.Node.Size)
            {
                Fail(file, $"its chunks add up to {offset} bytes but the snapshot says {file.Node.Size}");
            }

            if (count == 0 && !failedFiles.ContainsKey(file.FullPath))
            {
                try
                {
                    using var handle = tree.CreateNewFile(file.WriteRelative);
                    finish(handle, file);
                    Progress.FileDone();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    Fail(file, e.Message);
                }
            }

            open[file] = new OpenFile(tree, file, count, finish);
        }

        // Every buffer is reused: one range buffer (as large as the largest range) and one chunk buffer
        // (as large as the largest chunk) per download in flight. Fresh arrays per range would leave
        // hundreds of megabytes of large-object garbage between full collections.
        var ranges = byPack.ToDictionary(p => p.Key, p => (
            Start: p.Value.Values.Min(b => b.Entry.Offset),
            Length: checked((int)(p.Value.Values.Max(b => b.Entry.Offset + b.Entry.StoredLength) - p.Value.Values.Min(b => b.Entry.Offset)))));
        // Restoring is bound by creating files, not by downloading: a few whole-pack ranges in flight keep
        // the disk busy, and the byte budget (not the request count) bounds memory, so that small ranges
        // of a partial restore still go out TransferConcurrency at a time.
        var concurrency = repository.Options.TransferConcurrency;
        var largestRange = ranges.Count == 0 ? 0 : ranges.Values.Max(r => r.Length);
        var rangesInFlight = (int)Math.Clamp(RangeBytesInFlight / Math.Max(1L, largestRange), 1, concurrency);
        using var rangeBuffers = new PackBufferPool(largestRange, rangesInFlight);
        // Stored-as-is chunks are verified and written straight from the range; only compressed ones need a buffer.
        var largestCompressed = byPack.Values.SelectMany(b => b.Values).Where(b => b.Entry.Compression != CompressionKind.None).Select(b => b.Entry.RawLength).DefaultIfEmpty(0).Max();
        using var chunkBuffers = new PackBufferPool(largestCompressed, concurrency);
        await Parallel.ForEachAsync(byPack, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken }, async (pack, ct) =>
        {
            var (start, length) = ranges[pack.Key];
            var rangeBuffer = await rangeBuffers.RentAsync(ct);
            try
            {
                await WritePackAsync(pack.Key, pack.Value, start, rangeBuffer.AsMemory(0, length), ct);
            }
            finally
            {
                rangeBuffers.Return(rangeBuffer);
            }
        });

        async Task WritePackAsync(BlobId packId, Dictionary<BlobId, (PackEntry Entry, List<(Item File, long Offset)> Targets)> blobs, long start, Memory<byte> range, CancellationToken ct)
        {
            try
            {
                await repository.Store.ReadRangeAsync(Pack.Key(packId), start, range, ct);
            }
            catch (Storage.StorageException e) when (e.Failure is Storage.StorageFailure.NotFound or Storage.StorageFailure.Rejected)
            {
                // Missing or shorter than the index says: these files cannot be restored, the others can.
                foreach (var target in blobs.Values.SelectMany(b => b.Targets))
                {
                    Fail(target.File, $"pack {packId.ShortHex} cannot be read: {e.Message}");
                }

                return;
            }

            foreach (var (blobId, (entry, targets)) in blobs)
            {
                // Chunks are decompressed into a reused buffer: no large array per chunk for the GC to chase.
                // A chunk stored as-is is its own raw bytes: it is verified where it lies in the range.
                var stored = range.Slice((int)(entry.Offset - start), entry.StoredLength);
                var inPlace = entry.Compression == CompressionKind.None;
                var pooled = !inPlace && entry.RawLength <= chunkBuffers.Size;
                var buffer = inPlace ? null : pooled ? chunkBuffers.Rent() : new byte[entry.RawLength];
                try
                {
                    Memory<byte> raw;
                    try
                    {
                        // A sealed blob is opened where it lies in the range (its plaintext sits between its header and tag).
                        Pack.OpenInPlace(stored.Span, entry, repository.Crypto);
                        var plaintext = repository.Crypto is null ? stored : stored[ObjectCipher.HeaderSize..^ObjectCipher.TagSize];
                        if (inPlace)
                        {
                            raw = plaintext;
                            Pack.VerifyRawBlob(raw.Span, entry, repository.Crypto);
                        }
                        else
                        {
                            raw = buffer.AsMemory(0, entry.RawLength);
                            Compression.DecompressInto(plaintext.Span, entry.Compression, raw.Span);
                            Pack.VerifyRawBlob(raw.Span, entry with { Compression = CompressionKind.None }, repository.Crypto);
                        }
                    }
                    catch (InvalidDataException e)
                    {
                        foreach (var target in targets)
                        {
                            Fail(target.File, e.Message);
                        }

                        continue;
                    }

                    foreach (var (file, offset) in targets)
                    {
                        if (failedFiles.ContainsKey(file.FullPath))
                        {
                            continue;
                        }

                        try
                        {
                            if (open[file].Write(raw.Span, offset))
                            {
                                Progress.FileDone();
                            }
                        }
                        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                        {
                            Fail(file, e.Message);
                            continue;
                        }

                        Progress.Wrote(raw.Length);
                    }
                }
                finally
                {
                    if (pooled)
                    {
                        chunkBuffers.Return(buffer!, rented: false);
                    }
                }
            }
        }

        void Fail(Item file, string reason)
        {
            if (failedFiles.TryAdd(file.FullPath, 0))
            {
                errors.Add($"'{file.Relative}' could not be restored: {reason}");
            }

            if (open.TryGetValue(file, out var writer))
            {
                writer.Abandon();
            }
        }
    }

    private static long DeleteExtraneous(TargetTree tree, List<Item> items, List<DamagedTree> damaged, bool filtered, ConcurrentBag<string> errors)
    {
        if (filtered || damaged.Any(d => d.Relative.Length == 0))
        {
            // With --include only part of the snapshot is in scope; deleting around it would be a surprise.
            // Without the root tree nothing is known to be extraneous.
            return 0;
        }

        var wanted = new HashSet<string>(items.Select(i => i.Relative), StringComparer.Ordinal);
        // What the snapshot holds in a directory whose tree is unreadable is unknown: the local copies stay.
        var unknown = new HashSet<string>(damaged.Select(d => d.Relative), StringComparer.Ordinal);
        long deleted = 0;
        var stack = new Stack<string>();
        stack.Push("");
        while (stack.Count > 0)
        {
            var dir = stack.Pop();
            List<string> names;
            try
            {
                names = tree.List(dir);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                errors.Add($"'{dir}' could not be searched for what the snapshot does not hold: {e.Message}");
                continue;
            }

            foreach (var name in names)
            {
                var relative = dir.Length == 0 ? name : dir + "/" + name;
                try
                {
                    var st = tree.TryLstat(relative);
                    if (st is null)
                    {
                        continue;
                    }

                    var isDirectory = st.Type == FileKind.Directory;
                    if (!wanted.Contains(relative))
                    {
                        tree.Remove(relative, isDirectory);
                        deleted++;
                    }
                    else if (isDirectory && !unknown.Contains(relative))
                    {
                        stack.Push(relative);
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    errors.Add($"'{relative}' could not be removed: {e.Message}");
                }
            }
        }

        return deleted;
    }

    private static void ApplyMetadata(TargetTree tree, Item item, bool isRoot, ConcurrentBag<string> warnings)
    {
        var node = item.Node;
        try
        {
            // Only what differs is set: every chown, chmod or utimes moves the ctime, and a moved ctime
            // makes the next backup store the tree again (a restore over an identical tree changes nothing).
            var st = tree.TryLstat(item.Relative, RestoreStep.Metadata);
            var expected = node.Type switch
            {
                NodeType.Dir => FileKind.Directory,
                NodeType.Symlink => FileKind.Symlink,
                _ => FileKind.RegularFile,
            };
            if (st is not null && st.Type != expected)
            {
                warnings.Add($"metadata of '{item.Relative}' not restored: it is now a {st.Type}, not the {expected} restore made");
                return;
            }

            var chowned = false;
            if (isRoot && (st is null || st.Uid != node.Uid || st.Gid != node.Gid))
            {
                tree.SetOwner(item.Relative, node.Uid, node.Gid);
                chowned = true;
            }

            // chown clears setuid and setgid, so the mode is set again after it.
            if (node.Type != NodeType.Symlink && (chowned || st is null || (st.Mode & 0xFFF) != node.Mode))
            {
                tree.SetMode(item.Relative, node.Mode);
            }

            if (st is null || st.MtimeNs != node.MtimeNs)
            {
                tree.SetTimes(item.Relative, node.MtimeNs);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            warnings.Add($"metadata of '{item.Relative}' not restored: {e.Message}");
        }
    }

    /// <param name="selected">With an include list, the paths it selected as a whole; null for the whole snapshot.</param>
    private void RecordIdentities(TargetTree tree, string target, IReadOnlyList<string>? selected, IEnumerable<Item> files)
    {
        var cache = FileIdentityCache.Load(repository.CacheDirectory);
        foreach (var root in selected ?? [target])
        {
            cache.ForgetUnder(root);
        }

        foreach (var file in files)
        {
            FileStatus? st;
            try
            {
                st = tree.TryLstat(file.Relative);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue; // a directory on its way was swapped: the next backup reads the file
            }

            if (st is { Type: FileKind.RegularFile })
            {
                cache.Record(file.FullPath, st, file.Node.Content!);
            }
        }

        try
        {
            cache.Save(repository.CacheDirectory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogIdentityNotSaved(logger, e.Message);
        }
    }

    [LoggerMessage(EventId = 1200, Level = LogLevel.Information, Message = "Restored snapshot {SnapshotId} to {Target}: {Files} files, {Bytes} bytes written, {Errors} errors")]
    private static partial void LogRestored(ILogger logger, string snapshotId, string target, long files, long bytes, int errors);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Warning, Message = "Restored files' identities could not be saved; the next backup will read them again: {Reason}")]
    private static partial void LogIdentityNotSaved(ILogger logger, string reason);
}
