using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using SpotDevBox.Backup.Crypto;
using SpotDevBox.Backup.Format;
using SpotDevBox.Backup.Keys;
using SpotDevBox.Backup.Storage;

namespace SpotDevBox.Backup.Repository;

/// <summary>
/// A backup repository over an object store: its config, index, trees, snapshots and locks.
/// Every object it writes is named by the SHA-256 of its bytes and never changed afterwards
/// (locks excepted). See docs/repository-format.md.
/// </summary>
public sealed partial class BackupRepository
{
    public const string ConfigKey = "config";

    /// <summary>
    /// The record of a migration to version 3 (see <see cref="Engine.RepositoryMigration"/>): beside a version 3 config it
    /// means the migration was committed but its version 2 objects are not all deleted yet.
    /// </summary>
    public const string MigrationRecordKey = "migration";
    public const int ChunkMin = 256 * 1024;
    public const int ChunkAverage = 1024 * 1024;
    public const int ChunkMax = 4 * 1024 * 1024;

    // Lazy: GetOrAdd may run its factory more than once under a race, and a tree pack is fetched whole.
    private readonly ConcurrentDictionary<BlobId, Lazy<Task<byte[]>>> _treePacks = new();
    private readonly ILogger _logger;

    private BackupRepository(IObjectStore store, RepositoryConfig config, BackupEngineOptions options, TimeProvider time, ILogger logger, RepositoryCrypto? crypto)
    {
        Store = store;
        Config = config;
        Crypto = crypto;
        Options = options;
        Time = time;
        _logger = logger;
        CacheDirectory = Path.Combine(options.ResolveCacheDirectory(), config.Id);
    }

    public IObjectStore Store { get; }

    public RepositoryConfig Config { get; private set; }

    /// <summary>The open master key's cipher and keyed ids in an encrypted (version 3) repository; null in a version 1 or 2 one.</summary>
    public RepositoryCrypto? Crypto { get; }

    /// <summary>Whether every object is encrypted and authenticated on the client (format version 3).</summary>
    public bool Encrypted => Crypto is not null;

    /// <summary>The id of a blob's raw bytes: keyed (HMAC-SHA256) in an encrypted repository, SHA-256 otherwise.</summary>
    public BlobId ComputeBlobId(ReadOnlySpan<byte> raw) => Pack.IdOf(raw, Crypto);

    public BackupEngineOptions Options { get; }

    public TimeProvider Time { get; }

    public RepositoryIndex Index { get; } = new();

    /// <summary>This repository's folder in the local cache (index files, tree packs, restore records).</summary>
    public string CacheDirectory { get; }

    internal ILogger Logger => _logger;

    public static Task<BackupRepository> InitializeAsync(IObjectStore store, BackupEngineOptions options, TimeProvider time, ILogger logger, CancellationToken cancellationToken) =>
        InitializeAsync(store, options, time, logger, prepareStore: true, keys: null, cancellationToken);

    public static Task<BackupRepository> InitializeAsync(IObjectStore store, BackupEngineOptions options, TimeProvider time, ILogger logger, bool prepareStore, CancellationToken cancellationToken) =>
        InitializeAsync(store, options, time, logger, prepareStore, keys: null, cancellationToken);

    /// <param name="prepareStore">
    /// False: only the repository's own objects are written; the store's container-level set-up (a bucket's existence
    /// check and lifecycle rules) is left to whoever holds that right. A box's role may create its repositories but not
    /// change the bucket.
    /// </param>
    /// <param name="keys">
    /// Makes the master key of an encrypted (format version 3) repository and writes its first key file; null makes
    /// an unencrypted version 2 repository (kept for tests and for reading old repositories; the command line always
    /// encrypts).
    /// </param>
    public static async Task<BackupRepository> InitializeAsync(
        IObjectStore store, BackupEngineOptions options, TimeProvider time, ILogger logger, bool prepareStore, IRepositoryKeySource? keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(time);
        // Asked before the store is prepared (a folder made, a lifecycle rule set): refusing an existing one changes nothing.
        if (await ConfigExistsAsync(store, cancellationToken))
        {
            throw new RepositoryException($"a repository already exists at {store.Location}: nothing was changed (use it as it is, or give another --repo)", RepositoryProblem.AlreadyExists);
        }

        if (keys is not null)
        {
            // The passphrase first: a missing or mistyped one must leave nothing behind, not even the repository's folder.
            await keys.PrepareAsync(cancellationToken);
        }

        if (prepareStore)
        {
            await store.InitializeAsync(cancellationToken);
        }

        if (await store.GetSizeAsync(ConfigKey, cancellationToken) is not null)
        {
            throw new RepositoryException($"a repository already exists at {store.Location}: nothing was changed (use it as it is, or give another --repo)", RepositoryProblem.AlreadyExists);
        }

        var config = new RepositoryConfig
        {
            Version = keys is null ? FormatVersion.Current : FormatVersion.Encrypted,
            Id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
            Created = time.GetUtcNow(),
            ChunkMin = ChunkMin,
            ChunkAverage = ChunkAverage,
            ChunkMax = ChunkMax,
        };

        // The key file first, the config last: until the config exists there is no repository, and a creation cut
        // short leaves at most an unused key file that the next attempt does not read.
        RepositoryCrypto? crypto = null;
        if (keys is not null)
        {
            using var master = await keys.CreateAsync(store, config.Id, cancellationToken);
            crypto = new RepositoryCrypto(master, config.Id);
        }

        await store.PutAsync(ConfigKey, JsonSerializer.SerializeToUtf8Bytes(config, FormatJson.Default.RepositoryConfig), cancellationToken);
        return new BackupRepository(store, config, options, time, logger, crypto);
    }

    /// <summary>A repository object over a store and config given as they are (a migration writing version 3 beside version 2): nothing is read or checked.</summary>
    internal static BackupRepository ForMigration(IObjectStore store, RepositoryConfig config, BackupEngineOptions options, TimeProvider time, ILogger logger, RepositoryCrypto? crypto) =>
        new(store, config, options, time, logger, crypto);

    private static async Task<bool> ConfigExistsAsync(IObjectStore store, CancellationToken cancellationToken)
    {
        try
        {
            return await store.GetSizeAsync(ConfigKey, cancellationToken) is not null;
        }
        catch (StorageException e) when (e.Failure is StorageFailure.ContainerMissing or StorageFailure.NotFound)
        {
            return false;
        }
    }

    public static Task<BackupRepository> OpenAsync(IObjectStore store, BackupEngineOptions options, TimeProvider time, ILogger logger, CancellationToken cancellationToken) =>
        OpenAsync(store, options, time, logger, keys: null, cancellationToken);

    /// <param name="keys">Opens the master key when the repository is encrypted (version 3); not asked otherwise.</param>
    public static async Task<BackupRepository> OpenAsync(
        IObjectStore store, BackupEngineOptions options, TimeProvider time, ILogger logger, IRepositoryKeySource? keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        byte[] bytes;
        try
        {
            bytes = await store.GetAsync(ConfigKey, cancellationToken);
        }
        catch (StorageException e) when (e.Failure == StorageFailure.NotFound)
        {
            throw new RepositoryException($"there is no repository at {store.Location} (create one with 'spotdevbox init')", RepositoryProblem.NotFound, e);
        }

        RepositoryConfig config;
        try
        {
            config = JsonSerializer.Deserialize(bytes, FormatJson.Default.RepositoryConfig)
                ?? throw new RepositoryException("repository config is empty");
        }
        catch (JsonException e)
        {
            throw new RepositoryException($"repository config at {store.Location} is not readable: {e.Message}", e);
        }

        if (!FormatVersion.IsKnown(config.Version))
        {
            throw new RepositoryException($"repository format version {config.Version} is not supported by this build (it reads versions {FormatVersion.Oldest} to {FormatVersion.Newest}): update spotdevbox", RepositoryProblem.Unreadable);
        }

        if (config.ChunkMin != ChunkMin || config.ChunkAverage != ChunkAverage || config.ChunkMax != ChunkMax)
        {
            throw new RepositoryException("repository uses chunker parameters this build does not support");
        }

        if (!config.Id.All(char.IsAsciiHexDigitLower) || config.Id.Length != 32)
        {
            throw new RepositoryException("repository config has an invalid id");
        }

        if (config.Version < FormatVersion.Encrypted)
        {
            return new BackupRepository(store, config, options, time, logger, crypto: null);
        }

        // A migration committed but not finished leaves version 2 objects no version 3 reader can open: refuse until
        // it is finished, rather than report them as damage or skip them one by one.
        if (await store.GetSizeAsync(MigrationRecordKey, cancellationToken) is not null)
        {
            throw new RepositoryException(
                $"the repository at {store.Location} has an interrupted migration to encryption: run 'spotdevbox migrate' again to finish it (nothing else can use it until then)", RepositoryProblem.Unreadable);
        }

        if (keys is null)
        {
            throw new RepositoryException(
                $"the repository at {store.Location} is encrypted: give its passphrase (SPOTDEVBOX_PASSWORD, --password-file or --password-command), or run where its KMS key may be used",
                RepositoryProblem.KeyNeeded);
        }

        MasterKey master;
        try
        {
            master = await keys.OpenAsync(store, config.Id, cancellationToken);
        }
        catch (KeyRingException e)
        {
            throw new RepositoryException($"the repository at {store.Location} is encrypted and its key did not open with {keys.Description}: {e.Message}", RepositoryProblem.KeyRefused, e);
        }

        using (master)
        {
            return new BackupRepository(store, config, options, time, logger, new RepositoryCrypto(master, config.Id));
        }
    }

    /// <summary>
    /// Before the first snapshot of the current format goes into an older repository: rewrites the
    /// config with the current version (nothing else changes), so that older builds, which check the
    /// config's version but not a snapshot's, refuse the repository instead of misreading new snapshots.
    /// </summary>
    public async Task UpgradeFormatAsync(CancellationToken cancellationToken)
    {
        // An encrypted repository is version 3 from its creation; this upgrades unencrypted ones from 1 to 2 only.
        if (Config.Version >= FormatVersion.Current)
        {
            return;
        }

        var upgraded = Config with { Version = FormatVersion.Current };
        await Store.PutAsync(ConfigKey, JsonSerializer.SerializeToUtf8Bytes(upgraded, FormatJson.Default.RepositoryConfig), cancellationToken);
        LogFormatUpgraded(_logger, Store.Location, Config.Version, upgraded.Version);
        Config = upgraded;
    }

    // ---------- index ----------

    /// <summary>Index files that could not be read, with the reason (check reports them; their packs are recovered from pack headers).</summary>
    public ConcurrentBag<string> IndexErrors { get; } = [];

    /// <summary>Snapshot manifests that could not be read, with the reason (check reports them; prune refuses to run).</summary>
    public ConcurrentBag<string> UnreadableSnapshots { get; } = [];

    /// <summary>
    /// Tree packs read so far whose bytes do not match their name, with the reason (check reports them).
    /// Their blobs are still read one by one, each verified against its id.
    /// </summary>
    public ConcurrentDictionary<string, string> DamagedTreePacks { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Names listed from the store that are not object ids as this repository writes them (each with a
    /// warning): skipped, never read, never made into a local path. Check reports them.
    /// </summary>
    public IReadOnlyCollection<string> ForeignNames => [.. _foreignNames.Values];

    private readonly ConcurrentDictionary<string, string> _foreignNames = new(StringComparer.Ordinal);

    /// <summary>Read every object from the store, never from the local cache (check uses this to prove the store itself).</summary>
    public bool BypassCache { get; set; }

    /// <summary>
    /// Loads every index file (from the local cache when it holds them: they never change). An unreadable
    /// index file is recorded in <see cref="IndexErrors"/> and skipped: its packs then look unindexed and
    /// are recovered from their own headers, so nothing is lost by it.
    /// </summary>
    public async Task<IReadOnlyList<string>> LoadIndexAsync(CancellationToken cancellationToken)
    {
        var ids = await ListIdsAsync(IndexPrefix, cancellationToken);
        var keys = ids.Select(id => IndexPrefix + id.ToHex()).ToList();
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = Options.TransferConcurrency, CancellationToken = cancellationToken }, async (id, ct) =>
        {
            var key = IndexPrefix + id.ToHex();
            try
            {
                var bytes = await GetImmutableCachedAsync(IndexPrefix, id, ct);
                var file = DecodeIndex(Open(bytes, ObjectKind.Index, key), key);
                foreach (var pack in file.Packs)
                {
                    Index.AddPack(pack);
                }
            }
            catch (Exception e) when (e is RepositoryException or InvalidDataException || e is StorageException { Failure: StorageFailure.NotFound })
            {
                IndexErrors.Add($"index file '{key}' is unreadable: {e.Message}");
                LogIndexUnreadable(_logger, key, e.Message);
            }
        });
        return keys;
    }

    public const string IndexPrefix = "index/";
    public const string SnapshotPrefix = "snapshots/";

    /// <summary>
    /// The id in <paramref name="key"/> when it is exactly <paramref name="prefix"/> and an id spelled as this
    /// repository spells one (64 lowercase hex digits); anything else, however close, is not a name it wrote.
    /// </summary>
    public static bool TryParseKey(string key, string prefix, out BlobId id)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(prefix);
        id = default;
        return key.Length == prefix.Length + (BlobId.Size * 2)
            && key.StartsWith(prefix, StringComparison.Ordinal)
            && key[prefix.Length..].All(char.IsAsciiHexDigitLower)
            && BlobId.TryParse(key[prefix.Length..], out id);
    }

    /// <summary>
    /// The ids of the objects listed under <paramref name="prefix"/>; every other listed name is reported
    /// (once per listing) and left alone. Locks use it too: their names are 32 hex digits, see <see cref="RepositoryLock"/>.
    /// </summary>
    internal async Task<List<BlobId>> ListIdsAsync(string prefix, CancellationToken cancellationToken)
    {
        var ids = new List<BlobId>();
        await foreach (var obj in Store.ListAsync(prefix, cancellationToken))
        {
            if (TryParseKey(obj.Key, prefix, out var id))
            {
                ids.Add(id);
            }
            else
            {
                ReportForeignName(obj.Key);
            }
        }

        return ids;
    }

    /// <summary>Warns about a listed name that is not one this repository writes (the name printed with control characters escaped).</summary>
    internal void ReportForeignName(string key)
    {
        var printable = ListedName.Printable(key);
        if (_foreignNames.TryAdd(key, $"'{printable}' is not a name this repository writes: it was skipped, never read (remove it if you do not know where it came from)"))
        {
            LogForeignName(_logger, printable);
        }
    }

    /// <summary>"SDBI" little-endian: the first four bytes of a decompressed index file.</summary>
    private const uint IndexMagic = 0x49424453;

    /// <summary>
    /// An index file is zstd-compressed binary: magic, version, pack count, then per pack its id, size,
    /// entry count and entries in the pack-header layout (see docs/repository-format.md). Binary because
    /// every command reads every index file: tens of thousands of entries parse in milliseconds.
    /// </summary>
    internal static byte[] EncodeIndex(IReadOnlyList<IndexPack> packs)
    {
        var size = 4 + 1 + 4 + packs.Sum(p => BlobId.Size + 8 + 4 + (p.Blobs.Count * Pack.EntrySize));
        var raw = new byte[size];
        var span = raw.AsSpan();
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(span, IndexMagic);
        span[4] = 1;
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(span[5..], packs.Count);
        var at = 9;
        foreach (var pack in packs)
        {
            pack.Id.WriteTo(span[at..]);
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(span[(at + BlobId.Size)..], pack.Size);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(span[(at + BlobId.Size + 8)..], pack.Blobs.Count);
            at += BlobId.Size + 12;
            foreach (var entry in pack.Blobs)
            {
                Pack.WriteEntry(span[at..], entry);
                at += Pack.EntrySize;
            }
        }

        using var compressor = new ZstdSharp.Compressor(3);
        return compressor.Wrap(raw).ToArray();
    }

    internal static IndexFile DecodeIndex(byte[] stored, string key)
    {
        try
        {
            using var decompressor = new ZstdSharp.Decompressor();
            var raw = decompressor.Unwrap(stored).ToArray().AsSpan();
            if (raw.Length < 9 || System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(raw) != IndexMagic)
            {
                throw new InvalidDataException("not a SpotDevBox index file (bad magic)");
            }

            if (raw[4] != 1)
            {
                throw new InvalidDataException($"index version {raw[4]} is not supported");
            }

            var count = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(raw[5..]);
            var packs = new List<IndexPack>(Math.Clamp(count, 0, 1 << 20));
            var at = 9;
            for (var p = 0; p < count; p++)
            {
                if (at + BlobId.Size + 12 > raw.Length)
                {
                    throw new InvalidDataException("index file ends early");
                }

                var id = BlobId.FromBytes(raw.Slice(at, BlobId.Size));
                var size = System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(raw[(at + BlobId.Size)..]);
                var blobs = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(raw[(at + BlobId.Size + 8)..]);
                at += BlobId.Size + 12;
                if (size < 0 || blobs < 0 || at + ((long)blobs * Pack.EntrySize) > raw.Length)
                {
                    throw new InvalidDataException($"pack {id.ShortHex} has an impossible size or entry count");
                }

                var entries = new List<PackEntry>(blobs);
                for (var b = 0; b < blobs; b++)
                {
                    // Never trust lengths that would make a reader allocate or seek beyond the pack.
                    var entry = Pack.ReadEntry(raw[at..], size, b);
                    if (entry.RawLength > MaxBlobSize)
                    {
                        throw new InvalidDataException($"entry for blob {entry.Id.ShortHex} in pack {id.ShortHex} claims {entry.RawLength} bytes");
                    }

                    entries.Add(entry);
                    at += Pack.EntrySize;
                }

                packs.Add(new IndexPack(id, size, entries));
            }

            if (at != raw.Length)
            {
                throw new InvalidDataException("index file has trailing bytes");
            }

            return new IndexFile(1, packs);
        }
        catch (Exception e) when (e is InvalidDataException or ZstdSharp.ZstdException or ArgumentException)
        {
            throw new RepositoryException($"index file '{key}' is not readable: {e.Message}", e);
        }
    }

    /// <summary>
    /// Writes an object named by the SHA-256 of its content (a pack, an index file, a snapshot) without ever replacing
    /// one: only if absent (S3 <c>If-None-Match: *</c>, checked by the service in the same request; a hard link on the
    /// local store). When the name is taken, what is stored is read back and must hash to its name: then it is this
    /// very content (a retried upload, or the same pack from an earlier run) and the write has succeeded. Anything else
    /// was put there by someone else: the write fails naming the key and the object stays as it is.
    /// </summary>
    private async Task PutContentAddressedAsync(string key, BlobId id, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            if (await Store.PutIfAsync(key, content, expectedETag: null, cancellationToken))
            {
                return;
            }

            byte[] stored;
            try
            {
                stored = await Store.GetAsync(key, cancellationToken);
            }
            catch (StorageException e) when (e.Failure == StorageFailure.NotFound && attempt < 3)
            {
                // Deleted between the two requests (a prune of an unreferenced copy): write it again.
                continue;
            }

            var found = BlobId.Compute(stored);
            if (found == id)
            {
                return;
            }

            throw new RepositoryException(
                $"object '{key}' in {Store.Location} already exists with other content (its SHA-256 is {found.ToHex()}, not the one its name states): "
                + "it was not replaced, and this write failed. Someone with write access to the repository put it there; run 'spotdevbox check' and find out who",
                RepositoryProblem.RunTime);
        }
    }

    /// <summary>No blob is larger: chunks are at most 4 MiB, and a tree of that size would list about a million entries.</summary>
    public const int MaxBlobSize = 256 * 1024 * 1024;

    /// <summary>Writes one index file listing <paramref name="packs"/>; returns its key.</summary>
    public async Task<string> SaveIndexAsync(IReadOnlyList<IndexPack> packs, CancellationToken cancellationToken)
    {
        var stored = Seal(EncodeIndex(packs), ObjectKind.Index);
        var id = BlobId.Compute(stored);
        var key = IndexPrefix + id.ToHex();
        await PutContentAddressedAsync(key, id, stored, cancellationToken);
        TryWriteCache(IndexPrefix, id, stored);
        return key;
    }

    /// <summary>
    /// Finds packs that no index lists — uploads of a backup that was killed before it wrote its
    /// index — reads their headers, adds them to the index and writes an index file for them, so
    /// the next backup reuses what was already uploaded.
    /// </summary>
    public async Task<int> RecoverUnindexedPacksAsync(CancellationToken cancellationToken)
    {
        var orphans = new List<(BlobId Id, StoredObject Object)>();
        await foreach (var obj in Store.ListAsync("data/", cancellationToken))
        {
            if (Pack.TryParseKey(obj.Key, out var id) && !Index.HasPack(id))
            {
                orphans.Add((id, obj));
            }
        }

        if (orphans.Count == 0)
        {
            return 0;
        }

        var recovered = new ConcurrentBag<IndexPack>();
        await Parallel.ForEachAsync(orphans, new ParallelOptions { MaxDegreeOfParallelism = Options.TransferConcurrency, CancellationToken = cancellationToken }, async (orphan, ct) =>
        {
            var (id, obj) = orphan;
            try
            {
                var entries = await ReadPackHeaderAsync(obj.Key, obj.Size, ct);
                recovered.Add(new IndexPack(id, obj.Size, entries));
            }
            catch (InvalidDataException e)
            {
                // A pack cut short cannot exist (puts are atomic); a damaged one is left for check to report.
                LogUnreadablePack(_logger, obj.Key, e.Message);
            }
        });

        var packs = recovered.ToList();
        if (packs.Count > 0)
        {
            foreach (var p in packs)
            {
                Index.AddPack(p);
            }

            await SaveIndexAsync(packs, cancellationToken);
            var blobs = packs.Sum(p => p.Blobs.Count);
            LogRecoveredPacks(_logger, packs.Count, blobs);
        }

        return packs.Count;
    }

    public async Task<List<PackEntry>> ReadPackHeaderAsync(string key, long size, CancellationToken cancellationToken)
    {
        if (size < Pack.HeaderPrefixSize + Pack.TrailerSize)
        {
            throw new InvalidDataException($"pack '{key}' is too short ({size} bytes)");
        }

        // One request usually suffices: most headers are far smaller than 64 KiB.
        var guess = (int)Math.Min(size, 64 * 1024);
        var tail = await Store.GetRangeAsync(key, size - guess, guess, cancellationToken);
        var headerLength = Pack.ReadHeaderLength(tail.AsSpan(tail.Length - Pack.TrailerSize), size, Encrypted);
        byte[] header;
        if (headerLength + Pack.TrailerSize <= tail.Length)
        {
            header = tail.AsSpan(tail.Length - Pack.TrailerSize - headerLength, headerLength).ToArray();
        }
        else
        {
            header = await Store.GetRangeAsync(key, size - Pack.TrailerSize - headerLength, headerLength, cancellationToken);
        }

        return Pack.ReadHeaderArea(header, size, Crypto);
    }

    // ---------- packs and blobs ----------

    /// <summary>Seals (in an encrypted repository) and writes the header of a full pack, then uploads it; returns its id and length.</summary>
    internal async Task<(BlobId Id, int Length)> SavePackAsync(Engine.PendingPack pack, CancellationToken cancellationToken)
    {
        var length = pack.Finish(Crypto);
        return (await SavePackAsync(pack.Bytes.AsMemory(0, length), pack.Type, cancellationToken), length);
    }

    /// <summary>Uploads a finished pack. The caller adds it to the index once this returns.</summary>
    public async Task<BlobId> SavePackAsync(ReadOnlyMemory<byte> pack, BlobType type, CancellationToken cancellationToken)
    {
        var id = BlobId.Compute(pack.Span);
        await PutContentAddressedAsync(Pack.Key(id), id, pack, cancellationToken);
        if (type == BlobType.Tree)
        {
            var copy = pack.ToArray();
            _treePacks.TryAdd(id, new Lazy<Task<byte[]>>(Task.FromResult(copy)));
            TryWriteCache(Pack.DataPrefix, id, copy);
        }

        return id;
    }

    public async Task<Tree> LoadTreeAsync(BlobId id, CancellationToken cancellationToken)
    {
        var raw = await LoadBlobAsync(id, BlobType.Tree, cancellationToken);
        try
        {
            return JsonSerializer.Deserialize(raw, FormatJson.Default.Tree) ?? throw new InvalidDataException("empty tree");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"tree {id.ShortHex} is not readable: {e.Message}", e);
        }
    }

    /// <summary>Reads and verifies one blob. Tree packs are fetched whole and cached, since a walk needs most of their trees.</summary>
    public async Task<byte[]> LoadBlobAsync(BlobId id, BlobType expected, CancellationToken cancellationToken)
    {
        if (!Index.TryGet(id, out var location))
        {
            throw new RepositoryException($"{expected.ToString().ToLowerInvariant()} blob {id.ShortHex} is not in the index: the repository is incomplete (run 'spotdevbox check')");
        }

        var entry = location.Entry;
        if (entry.Type == BlobType.Tree)
        {
            var pack = await _treePacks.GetOrAdd(location.Pack, p => new Lazy<Task<byte[]>>(() => LoadTreePackAsync(p, cancellationToken))).Value;
            if (entry.Offset + entry.StoredLength > pack.Length)
            {
                throw new InvalidDataException($"tree blob {id.ShortHex} lies past the end of pack {location.Pack.ShortHex} ({pack.Length} bytes)");
            }

            return Pack.ExtractBlob(pack.AsSpan((int)entry.Offset, entry.StoredLength), entry, Crypto);
        }

        var stored = await Store.GetRangeAsync(Pack.Key(location.Pack), entry.Offset, entry.StoredLength, cancellationToken);
        return Pack.ExtractBlob(stored, entry, Crypto);
    }

    private async Task<byte[]> LoadTreePackAsync(BlobId packId, CancellationToken cancellationToken)
    {
        var key = Pack.Key(packId);
        try
        {
            return await GetImmutableCachedAsync(Pack.DataPrefix, packId, cancellationToken);
        }
        catch (InvalidDataException e)
        {
            // One flipped byte must not cost every directory listed in the pack: each tree blob is still
            // verified against its own id when extracted, so the intact ones are used and only the damaged
            // one fails. The damaged pack is never cached.
            DamagedTreePacks.TryAdd(key, e.Message);
            LogTreePackDamaged(_logger, key, e.Message);
            return await Store.GetAsync(key, cancellationToken);
        }
    }

    /// <summary>
    /// Reads an object that never changes once written, through the local cache. Its key and its cache
    /// path are built from <paramref name="id"/> alone, never from a listed name, and its bytes are always
    /// checked against the id: whether they come from the cache or the store.
    /// </summary>
    private async Task<byte[]> GetImmutableCachedAsync(string prefix, BlobId id, CancellationToken cancellationToken)
    {
        var key = KeyOf(prefix, id);
        var path = CachePathOf(prefix, id);
        if (!BypassCache && File.Exists(path))
        {
            try
            {
                var cached = await File.ReadAllBytesAsync(path, cancellationToken);
                if (BlobId.Compute(cached) == id)
                {
                    return cached;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // fall through to the store
            }
        }

        var bytes = await Store.GetAsync(key, cancellationToken);
        if (BlobId.Compute(bytes) != id)
        {
            throw new InvalidDataException($"object '{key}' is corrupt: its bytes do not match its name");
        }

        TryWriteCache(prefix, id, bytes);
        return bytes;
    }

    /// <summary>The store key of an object: a fixed prefix and the id (packs also sit under their id's first two digits).</summary>
    private static string KeyOf(string prefix, BlobId id) => prefix switch
    {
        IndexPrefix or SnapshotPrefix => prefix + id.ToHex(),
        Pack.DataPrefix => Pack.Key(id),
        _ => throw new ArgumentException($"no object kind has the prefix '{prefix}'", nameof(prefix)),
    };

    private string CachePathOf(string prefix, BlobId id) =>
        Path.Combine(CacheDirectory, KeyOf(prefix, id).Replace('/', Path.DirectorySeparatorChar));

    private void TryWriteCache(string prefix, BlobId id, byte[] bytes)
    {
        try
        {
            var path = CachePathOf(prefix, id);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            Core.FileSystem.AtomicFile.Write(path, bytes, Core.FileSystem.AtomicFile.OwnerOnly);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogCacheUnwritable(_logger, CacheDirectory, e.Message);
        }
    }

    /// <summary>An object's stored form: sealed in an encrypted repository, as it is otherwise.</summary>
    private byte[] Seal(byte[] plaintext, ObjectKind kind) => Crypto is null ? plaintext : Crypto.Cipher.Seal(plaintext, kind);

    /// <summary>An object's plaintext: opened in an encrypted repository (refused with <see cref="InvalidDataException"/> naming <paramref name="key"/> when it does not open), as stored otherwise.</summary>
    private byte[] Open(byte[] stored, ObjectKind kind, string key)
    {
        if (Crypto is null)
        {
            return stored;
        }

        try
        {
            return Crypto.Cipher.Open(stored, kind);
        }
        catch (SealedObjectException e)
        {
            throw new InvalidDataException($"'{key}': {e.Message}", e);
        }
    }

    // ---------- snapshots ----------

    /// <summary>All readable snapshots, oldest first; unreadable ones are recorded in <see cref="UnreadableSnapshots"/>.</summary>
    public async Task<IReadOnlyList<SnapshotRef>> ListSnapshotsAsync(CancellationToken cancellationToken)
    {
        var ids = await ListSnapshotIdsAsync(cancellationToken);
        var result = new ConcurrentBag<SnapshotRef>();
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = Options.TransferConcurrency, CancellationToken = cancellationToken }, async (id, ct) =>
        {
            try
            {
                result.Add(new SnapshotRef(id, await LoadSnapshotAsync(id, ct)));
            }
            catch (StorageException e) when (e.Failure == StorageFailure.NotFound)
            {
                // forgotten between list and read
            }
            catch (InvalidDataException e)
            {
                UnreadableSnapshots.Add($"snapshot {id[..Math.Min(8, id.Length)]} is unreadable: {e.Message}");
                LogSnapshotUnreadable(_logger, id, e.Message);
            }
        });
        return [.. result.OrderBy(s => s.Manifest.Time).ThenBy(s => s.Id, StringComparer.Ordinal)];
    }

    private async Task<List<string>> ListSnapshotIdsAsync(CancellationToken cancellationToken)
    {
        return [.. (await ListIdsAsync(SnapshotPrefix, cancellationToken)).Select(id => id.ToHex())];
    }

    public async Task<SnapshotManifest> LoadSnapshotAsync(string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (!TryParseKey(SnapshotPrefix + id, SnapshotPrefix, out var blob))
        {
            throw new InvalidDataException($"'{ListedName.Printable(id)}' is not a snapshot id (64 lowercase hexadecimal digits)");
        }

        var bytes = Open(await GetImmutableCachedAsync(SnapshotPrefix, blob, cancellationToken), ObjectKind.Snapshot, SnapshotPrefix + id);
        SnapshotManifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(bytes, FormatJson.Default.SnapshotManifest) ?? throw new InvalidDataException("empty");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"snapshot {id[..Math.Min(8, id.Length)]} is not readable: {e.Message}", e);
        }

        // A newer format may mean something else by the same fields: refuse rather than guess.
        return FormatVersion.IsKnown(manifest.Version)
            ? manifest
            : throw new InvalidDataException($"snapshot format version {manifest.Version} is not supported by this build (it reads versions {FormatVersion.Oldest} to {FormatVersion.Newest})");
    }

    public async Task<string> SaveSnapshotAsync(SnapshotManifest manifest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        if (Encrypted)
        {
            manifest = manifest with { Version = FormatVersion.Encrypted };
        }

        var bytes = Seal(JsonSerializer.SerializeToUtf8Bytes(manifest, FormatJson.Default.SnapshotManifest), ObjectKind.Snapshot);
        var id = BlobId.Compute(bytes);
        await PutContentAddressedAsync(SnapshotPrefix + id.ToHex(), id, bytes, cancellationToken);
        return id.ToHex();
    }

    /// <summary>Resolves "latest" or an id prefix (at least 4 characters) to one snapshot.</summary>
    public async Task<SnapshotRef> ResolveSnapshotAsync(string idOrLatest, CancellationToken cancellationToken)
    {
        if (string.Equals(idOrLatest, "latest", StringComparison.OrdinalIgnoreCase))
        {
            var all = await ListSnapshotsAsync(cancellationToken);
            return all.Count > 0 ? all[^1] : throw new RepositoryException($"the repository at {Store.Location} has no readable snapshots", RepositoryProblem.NoSuchSnapshot);
        }

        if (idOrLatest.Length < 4 || !idOrLatest.All(char.IsAsciiHexDigit))
        {
            throw new ArgumentException($"'{idOrLatest}' is not a snapshot id (use 'latest' or at least 4 hex digits of an id from 'spotdevbox snapshots')");
        }

        // Only the matching manifest is read: another, damaged one must not stand in the way.
        var matches = (await ListSnapshotIdsAsync(cancellationToken)).Where(id => id.StartsWith(idOrLatest.ToLowerInvariant(), StringComparison.Ordinal)).ToList();
        return matches.Count switch
        {
            1 => new SnapshotRef(matches[0], await LoadSnapshotAsync(matches[0], cancellationToken)),
            0 => throw new RepositoryException($"no snapshot with id '{idOrLatest}' in {Store.Location} (see 'spotdevbox snapshots')", RepositoryProblem.NoSuchSnapshot),
            _ => throw new ArgumentException($"snapshot id '{idOrLatest}' is ambiguous: {string.Join(", ", matches.Select(m => m[..12]))}"),
        };
    }

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "Index file {Key} is unreadable and was skipped (its packs are recovered from their headers): {Reason}")]
    private static partial void LogIndexUnreadable(ILogger logger, string key, string reason);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Warning, Message = "Snapshot {SnapshotId} is unreadable and was skipped: {Reason}")]
    private static partial void LogSnapshotUnreadable(ILogger logger, string snapshotId, string reason);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning, Message = "Pack {Key} has an unreadable header and was not recovered: {Reason}")]
    private static partial void LogUnreadablePack(ILogger logger, string key, string reason);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Recovered {Packs} packs ({Blobs} blobs) left by an interrupted backup")]
    private static partial void LogRecoveredPacks(ILogger logger, int packs, int blobs);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Warning, Message = "Tree pack {Key} is damaged; its tree blobs are verified one by one and only the damaged ones are unreadable: {Reason}")]
    private static partial void LogTreePackDamaged(ILogger logger, string key, string reason);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Local cache {Directory} is not writable, working without it: {Reason}")]
    private static partial void LogCacheUnwritable(ILogger logger, string directory, string reason);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Warning, Message = "Security: {Name} is listed in the repository but is not a name it writes; skipped, never read or cached (someone else wrote it, or the store was altered)")]
    private static partial void LogForeignName(ILogger logger, string name);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Information, Message = "Repository {Location} upgraded from format version {From} to {To}: builds that read only version {From} now refuse it")]
    private static partial void LogFormatUpgraded(ILogger logger, string location, int from, int to);
}

public sealed record SnapshotRef(string Id, SnapshotManifest Manifest)
{
    public string ShortId => Id[..8];
}

/// <summary>A repository-level problem a user can act on (missing, locked, incomplete, unsupported).</summary>
public sealed class RepositoryException : Exception
{
    public RepositoryException() { }

    public RepositoryException(string message) : base(message) { }

    public RepositoryException(string message, Exception innerException) : base(message, innerException) { }

    public RepositoryException(string message, RepositoryProblem problem, Exception? innerException = null) : base(message, innerException) => Problem = problem;

    /// <summary>What kind of problem: the command decides its exit code from it, never from the message.</summary>
    public RepositoryProblem Problem { get; }
}

/// <summary>
/// The problems a command line must tell apart: those the user fixes by changing what they typed (exit 2) and
/// the rest, found at run time (exit 1).
/// </summary>
public enum RepositoryProblem
{
    /// <summary>Found at run time: unreadable, locked, incomplete, unsupported.</summary>
    RunTime,
    /// <summary>There is no repository at the location given.</summary>
    NotFound,
    /// <summary>A repository already exists where one was to be created.</summary>
    AlreadyExists,
    /// <summary>No snapshot has the id (or prefix) given, or there is none to take as "latest".</summary>
    NoSuchSnapshot,
    /// <summary>The repository is encrypted and no key source was given (no passphrase, no KMS key).</summary>
    KeyNeeded,
    /// <summary>The repository is encrypted and its key did not open with what was given (a wrong passphrase, KMS refused).</summary>
    KeyRefused,
    /// <summary>The repository is already encrypted (format version 3): there is nothing to migrate.</summary>
    AlreadyEncrypted,
    /// <summary>
    /// Found at run time, and no retry of this build will read it: its format version is newer than this build knows,
    /// or a migration to version 3 is unfinished. An agent stays up and says so instead of restarting into it.
    /// </summary>
    Unreadable,
}
