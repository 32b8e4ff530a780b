using System.Security.Cryptography;
using Amazon.S3.Model;
using SpotDevBox.Backup.Format;
using SpotDevBox.Backup.Repository;
using SpotDevBox.Backup.Storage;
using TestSupport;

namespace SpotDevBox.Backup.Tests.Engine;

/// <summary>
/// One byte flipped in a stored object, as bit rot or a bad disk would: restore names what it could not
/// restore instead of presenting it as whole, and check finds the damage (a flipped byte keeps the pack's
/// size, so only check with data reading sees damage in a data pack).
/// </summary>
public abstract class CorruptionTests : IDisposable
{
    private readonly TempDir _temp = new();
    private readonly byte[] _victim = RandomBytes(1, 100_000);
    private readonly byte[] _bystander = RandomBytes(2, 120_000);

    protected string Temp => _temp.Path;

    private string Source => Path.Combine(Temp, "src");

    private string Target => Path.Combine(Temp, "target");

    internal abstract Task<EngineHarness> CreateHarnessAsync();

    /// <summary>Replaces a stored object's bytes behind the repository's back.</summary>
    internal abstract Task OverwriteObjectAsync(EngineHarness harness, string key, byte[] bytes);

    [Fact]
    public async Task Restore_ByteFlippedInDataBlob_ErrorNamesTheFileOthersRestored()
    {
        using var harness = await BackupSourceAsync();
        var (key, entry) = await FindPackHoldingAsync(harness, await IdOfAsync(harness, _victim));
        await FlipByteAsync(harness, key, entry.Offset + (entry.StoredLength / 2));

        var result = await harness.RestoreAsync(Target);

        var error = Assert.Single(result.Errors);
        Assert.StartsWith("'src/victim.bin' could not be restored: ", error, StringComparison.Ordinal);
        Assert.Contains(CorruptBlob(entry.Id), error, StringComparison.Ordinal);
        Assert.Equal(_bystander, await File.ReadAllBytesAsync(Path.Combine(Target, "src", "bystander.bin")));
        Assert.Equal("plain text", await File.ReadAllTextAsync(Path.Combine(Target, "src", "notes.txt")));
        var victim = Path.Combine(Target, "src", "victim.bin");
        Assert.False(File.Exists(victim) && (await File.ReadAllBytesAsync(victim)).AsSpan().SequenceEqual(_victim), "the damaged file was presented as whole");
    }

    [Fact]
    public async Task Restore_ByteFlippedInDataBlob_DamagedFileNotLeftAtFullLength()
    {
        using var harness = await BackupSourceAsync();
        var (key, entry) = await FindPackHoldingAsync(harness, await IdOfAsync(harness, _victim));
        await FlipByteAsync(harness, key, entry.Offset + (entry.StoredLength / 2));

        await harness.RestoreAsync(Target);

        var victim = new FileInfo(Path.Combine(Target, "src", "victim.bin"));
        Assert.False(victim.Exists && victim.Length == _victim.Length, "the damaged file is in place with its full size");
    }

    [Fact]
    public async Task Check_ByteFlippedInDataBlob_OnlyReadDataReportsThePack()
    {
        using var harness = await BackupSourceAsync();
        var (key, entry) = await FindPackHoldingAsync(harness, await IdOfAsync(harness, _victim));
        var packId = PackIdOf(key);
        Assert.Equal(CompressionKind.None, entry.Compression); // random bytes: a flip shows as a hash mismatch, not a zstd error
        await FlipByteAsync(harness, key, entry.Offset + (entry.StoredLength / 2));

        var structure = await harness.CheckAsync(readData: false);
        var full = await harness.CheckAsync(readData: true);

        Assert.True(structure.Ok, string.Join("\n", structure.Errors));
        Assert.Equal(2, full.Errors.Count);
        Assert.Equal($"pack {packId.ShortHex} is corrupt: its bytes do not hash to its name", full.Errors[0]);
        Assert.StartsWith($"pack {packId.ShortHex}: {CorruptBlob(entry.Id)}", full.Errors[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restore_ByteFlippedInSubdirectoryTree_RestoresTheRestAndNamesTheDirectory()
    {
        using var harness = await BackupSourceAsync();
        var subTree = await TreeIdAsync(harness, "src", "sub");
        var (key, entry) = await FindPackHoldingAsync(harness, subTree.ToHex());
        await FlipByteAsync(harness, key, entry.Offset + (entry.StoredLength / 2));
        ClearCache(harness); // as on another machine: the cache holds an intact copy of every tree pack written here

        var result = await harness.RestoreAsync(Target);

        var error = Assert.Single(result.Errors);
        Assert.StartsWith("the contents of directory 'src/sub' could not be restored: its tree ", error, StringComparison.Ordinal);
        Assert.Contains($"tree {subTree.ShortHex}", error, StringComparison.Ordinal);
        Assert.Equal(_victim, await File.ReadAllBytesAsync(Path.Combine(Target, "src", "victim.bin")));
        Assert.Equal(_bystander, await File.ReadAllBytesAsync(Path.Combine(Target, "src", "bystander.bin")));
        Assert.Equal("plain text", await File.ReadAllTextAsync(Path.Combine(Target, "src", "notes.txt")));
        Assert.False(File.Exists(Path.Combine(Target, "src", "sub", "deep.txt")));
    }

    [Fact]
    public async Task Restore_ByteFlippedInRootTree_SaysSoAndRestoresNothing()
    {
        using var harness = await BackupSourceAsync();
        var root = (await LatestAsync(harness)).Manifest.Tree;
        var (key, entry) = await FindPackHoldingAsync(harness, root.ToHex());
        await FlipByteAsync(harness, key, entry.Offset + (entry.StoredLength / 2));
        ClearCache(harness);

        var result = await harness.RestoreAsync(Target);

        var error = Assert.Single(result.Errors);
        Assert.StartsWith($"the snapshot's root tree {root.ShortHex} cannot be read, so nothing in the snapshot could be restored: ", error, StringComparison.Ordinal);
        Assert.Equal(0, result.Files);
        Assert.False(Directory.Exists(Path.Combine(Target, "src")));
    }

    [Fact]
    public async Task RestoreOverwriteDelete_SubdirectoryTreeDamaged_LocalFilesInItAreKept()
    {
        using var harness = await BackupSourceAsync();
        var subTree = await TreeIdAsync(harness, "src", "sub");
        var (key, entry) = await FindPackHoldingAsync(harness, subTree.ToHex());
        await FlipByteAsync(harness, key, entry.Offset + (entry.StoredLength / 2));
        ClearCache(harness);
        Directory.CreateDirectory(Path.Combine(Target, "src", "sub"));
        await File.WriteAllTextAsync(Path.Combine(Target, "src", "sub", "deep.txt"), "local copy");
        await File.WriteAllTextAsync(Path.Combine(Target, "src", "sub", "local-only.txt"), "local only");

        var result = await harness.RestoreAsync(Target, overwrite: true, delete: true);

        Assert.Single(result.Errors);
        Assert.Equal("local copy", await File.ReadAllTextAsync(Path.Combine(Target, "src", "sub", "deep.txt")));
        Assert.Equal("local only", await File.ReadAllTextAsync(Path.Combine(Target, "src", "sub", "local-only.txt")));
        Assert.Equal("plain text", await File.ReadAllTextAsync(Path.Combine(Target, "src", "notes.txt")));
    }

    [Fact]
    public async Task Check_ByteFlippedInSubdirectoryTreeTwoSnapshotsShare_NamesBothSnapshotsAndThePath()
    {
        using var harness = await BackupSourceAsync();
        var first = (await LatestAsync(harness)).Id;
        await File.WriteAllTextAsync(Path.Combine(Source, "notes.txt"), "second version");
        var (second, _) = await harness.BackupAsync(Source);
        var subTree = await TreeIdAsync(harness, "src", "sub");
        var (key, entry) = await FindPackHoldingAsync(harness, subTree.ToHex());
        await FlipByteAsync(harness, key, entry.Offset + (entry.StoredLength / 2));
        ClearCache(harness);

        var check = await harness.CheckAsync(readData: false);

        Assert.False(check.Ok);
        foreach (var snapshot in new[] { first, second.SnapshotId })
        {
            Assert.Contains(check.Errors, e => e.StartsWith($"snapshot {snapshot[..8]}: directory 'src/sub' cannot be read (tree {subTree.ShortHex}): ", StringComparison.Ordinal));
        }

        Assert.Contains($"object '{key}' is corrupt: its bytes do not match its name", check.Errors);
        Assert.DoesNotContain(check.Errors, e => e.Contains("directory '/'", StringComparison.Ordinal) || e.Contains("directory 'src' ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Check_ByteFlippedInTreePack_ReportedWithAndWithoutReadData()
    {
        using var harness = await BackupSourceAsync();
        var (key, entry) = await FindTreePackAsync(harness);
        var packId = PackIdOf(key);
        await FlipByteAsync(harness, key, entry.Offset + (entry.StoredLength / 2));
        ClearCache(harness);

        var structure = await harness.CheckAsync(readData: false);
        var full = await harness.CheckAsync(readData: true);

        // The flipped byte lies in the largest tree blob, src's; only that directory is unreadable.
        Assert.Contains(structure.Errors, e => e.Contains($"directory 'src' cannot be read (tree {entry.Id.ShortHex})", StringComparison.Ordinal));
        Assert.Contains(structure.Errors, e => e.Contains($"object '{key}' is corrupt", StringComparison.Ordinal));
        Assert.Contains($"pack {packId.ShortHex} is corrupt: its bytes do not hash to its name", full.Errors);
    }

    [Fact]
    public async Task CheckReadData_ByteFlippedInTreePackWhileCacheIsIntact_StillReported()
    {
        using var harness = await BackupSourceAsync();
        var (key, entry) = await FindTreePackAsync(harness);
        await FlipByteAsync(harness, key, entry.Offset + (entry.StoredLength / 2));

        var full = await harness.CheckAsync(readData: true);

        Assert.Contains($"pack {PackIdOf(key).ShortHex} is corrupt: its bytes do not hash to its name", full.Errors);
    }

    [Fact]
    public async Task Check_ByteFlippedInTreePackWhileCacheIsIntact_Reported()
    {
        using var harness = await BackupSourceAsync();
        var (key, entry) = await FindTreePackAsync(harness);
        await FlipByteAsync(harness, key, entry.Offset + (entry.StoredLength / 2));

        var structure = await harness.CheckAsync(readData: false);

        Assert.Contains(structure.Errors, e => e.Contains($"'{key}' is corrupt", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Restore_DataPackTruncated_ErrorNamesEachFile()
    {
        using var harness = await BackupSourceAsync();
        var (key, _) = await FindPackHoldingAsync(harness, await IdOfAsync(harness, _victim));
        var bytes = await harness.Store.GetAsync(key, CancellationToken.None);
        await OverwriteObjectAsync(harness, key, bytes[..(bytes.Length / 2)]);

        var result = await harness.RestoreAsync(Target);

        Assert.Contains(result.Errors, e => e.StartsWith("'src/victim.bin' could not be restored: ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Restore_OtherSnapshotCorrupt_RestoresTheIntactOne()
    {
        using var harness = await BackupSourceAsync();
        await File.WriteAllTextAsync(Path.Combine(Source, "notes.txt"), "second version");
        var (second, _) = await harness.BackupAsync(Source);
        var firstKey = await FirstKeyAsync(harness, "snapshots/", k => !k.EndsWith(second.SnapshotId, StringComparison.Ordinal));
        await FlipByteAsync(harness, firstKey, 10);
        ClearCache(harness);

        var result = await harness.RestoreAsync(Target, second.SnapshotId[..12]);

        Assert.Empty(result.Errors);
        Assert.Equal("second version", await File.ReadAllTextAsync(Path.Combine(Target, "src", "notes.txt")));
    }

    [Fact]
    public async Task Backup_OtherSnapshotCorrupt_StillBacksUp()
    {
        using var harness = await BackupSourceAsync();
        var firstKey = await FirstKeyAsync(harness, "snapshots/", _ => true);
        await FlipByteAsync(harness, firstKey, 10);
        ClearCache(harness);

        var (second, _) = await harness.BackupAsync(Source);

        Assert.NotEqual(firstKey, "snapshots/" + second.SnapshotId);
    }

    [Fact]
    public async Task Check_IndexFileCorrupt_ReportedAsError()
    {
        using var harness = await BackupSourceAsync();
        var indexKey = await FirstKeyAsync(harness, "index/", _ => true);
        await FlipByteAsync(harness, indexKey, 20);
        ClearCache(harness);

        var check = await harness.CheckAsync();

        Assert.Contains(check.Errors, e => e.Contains(indexKey, StringComparison.Ordinal));
    }

    private static async Task<string> FirstKeyAsync(EngineHarness harness, string prefix, Func<string, bool> predicate)
    {
        await foreach (var obj in harness.Store.ListAsync(prefix, CancellationToken.None))
        {
            if (predicate(obj.Key))
            {
                return obj.Key;
            }
        }

        throw new InvalidOperationException($"no object under {prefix}");
    }

    private async Task<EngineHarness> BackupSourceAsync()
    {
        Directory.CreateDirectory(Source);
        await File.WriteAllBytesAsync(Path.Combine(Source, "victim.bin"), _victim);
        await File.WriteAllBytesAsync(Path.Combine(Source, "bystander.bin"), _bystander);
        await File.WriteAllTextAsync(Path.Combine(Source, "notes.txt"), "plain text");
        Directory.CreateDirectory(Path.Combine(Source, "sub"));
        await File.WriteAllTextAsync(Path.Combine(Source, "sub", "deep.txt"), "deep text");
        var harness = await CreateHarnessAsync();
        await harness.BackupAsync(Source);
        return harness;
    }

    private static async Task<(string Key, PackEntry Entry)> FindPackHoldingAsync(EngineHarness harness, string blobHex)
    {
        await foreach (var (key, entries) in PacksAsync(harness))
        {
            foreach (var entry in entries.Where(e => e.Id.ToHex() == blobHex))
            {
                return (key, entry);
            }
        }

        throw new InvalidOperationException($"no pack holds blob {blobHex}");
    }

    private static async Task<SnapshotRef> LatestAsync(EngineHarness harness)
    {
        var repository = await harness.OpenAsync();
        return await repository.ResolveSnapshotAsync("latest", CancellationToken.None);
    }

    /// <summary>The id of the tree blob listing the directory at <paramref name="path"/> in the latest snapshot.</summary>
    private static async Task<BlobId> TreeIdAsync(EngineHarness harness, params string[] path)
    {
        var repository = await harness.OpenAsync();
        await repository.LoadIndexAsync(CancellationToken.None);
        var id = (await repository.ResolveSnapshotAsync("latest", CancellationToken.None)).Manifest.Tree;
        foreach (var name in path)
        {
            var tree = await repository.LoadTreeAsync(id, CancellationToken.None);
            id = tree.Nodes.Single(n => n.Name == name).Subtree!.Value;
        }

        return id;
    }

    private static async Task<(string Key, PackEntry Entry)> FindTreePackAsync(EngineHarness harness)
    {
        await foreach (var (key, entries) in PacksAsync(harness))
        {
            if (entries.All(e => e.Type == BlobType.Tree))
            {
                // The largest tree blob: the root's or src's, both on the way to every file.
                return (key, entries.MaxBy(e => e.StoredLength));
            }
        }

        throw new InvalidOperationException("no tree pack in the repository");
    }

    private static async IAsyncEnumerable<(string Key, List<PackEntry> Entries)> PacksAsync(EngineHarness harness)
    {
        var keys = new List<string>();
        await foreach (var obj in harness.Store.ListAsync("data/", CancellationToken.None))
        {
            keys.Add(obj.Key);
        }

        foreach (var key in keys)
        {
            var crypto = (await harness.OpenAsync()).Crypto;
            yield return (key, Pack.ReadHeaderFromPack(await harness.Store.GetAsync(key, CancellationToken.None), crypto));
        }
    }

    private async Task FlipByteAsync(EngineHarness harness, string key, long offset)
    {
        var bytes = await harness.Store.GetAsync(key, CancellationToken.None);
        bytes[offset] ^= 0x20;
        await OverwriteObjectAsync(harness, key, bytes);
    }

    private static void ClearCache(EngineHarness harness)
    {
        foreach (var dir in Directory.EnumerateDirectories(harness.Options.CacheDirectory))
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static BlobId PackIdOf(string key) => BlobId.Parse(key[(key.LastIndexOf('/') + 1)..]);

    /// <summary>How a reader names a blob whose stored bytes were changed: a hash mismatch, or in an encrypted repository a seal that does not open.</summary>
    internal virtual string CorruptBlob(BlobId id) => $"blob {id.ShortHex} is corrupt";

    /// <summary>The blob id of <paramref name="content"/> in the harness's repository (keyed when it is encrypted).</summary>
    private static async Task<string> IdOfAsync(EngineHarness harness, byte[] content) =>
        (await harness.OpenAsync()).ComputeBlobId(content).ToHex();

    private static byte[] RandomBytes(int seed, int length)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public void Dispose()
    {
        _temp.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>An unencrypted (version 2) repository, as builds before version 3 wrote and this one still reads.</summary>
public sealed class LocalCorruptionTests : CorruptionTests
{
    private string RepoPath => Path.Combine(Temp, "repo");

    internal override Task<EngineHarness> CreateHarnessAsync() => EngineHarness.LocalAsync(RepoPath, encrypted: false);

    internal override Task OverwriteObjectAsync(EngineHarness harness, string key, byte[] bytes) =>
        File.WriteAllBytesAsync(Path.Combine(RepoPath, key), bytes);
}

/// <summary>The same damage in an encrypted (version 3) repository: every sealed object that was changed fails to open, and is named.</summary>
public sealed class EncryptedLocalCorruptionTests : CorruptionTests
{
    private string RepoPath => Path.Combine(Temp, "repo");

    internal override Task<EngineHarness> CreateHarnessAsync() => EngineHarness.LocalAsync(RepoPath);

    internal override string CorruptBlob(BlobId id) => $"blob {id.ShortHex}: the sealed data blob does not authenticate";

    internal override Task OverwriteObjectAsync(EngineHarness harness, string key, byte[] bytes) =>
        File.WriteAllBytesAsync(Path.Combine(RepoPath, key), bytes);
}

[Collection("s3")]
public sealed class S3CorruptionTests(S3PeerFixture peer) : CorruptionTests
{
    internal override Task<EngineHarness> CreateHarnessAsync() => EngineHarness.S3Async(peer);

    internal override string CorruptBlob(BlobId id) => $"blob {id.ShortHex}: the sealed data blob does not authenticate";

    internal override async Task OverwriteObjectAsync(EngineHarness harness, string key, byte[] bytes)
    {
        var location = RepositoryLocation.Parse(harness.Store.Location);
        using var client = peer.CreateClient();
        using var body = new MemoryStream(bytes);
        await client.PutObjectAsync(new PutObjectRequest { BucketName = location.Bucket, Key = location.Prefix + "/" + key, InputStream = body });
    }
}
