using System.Security.Cryptography;
using SpotDevBox.Backup.Crypto;
using SpotDevBox.Backup.Format;
using SpotDevBox.Backup.Repository;
using TestSupport;

namespace SpotDevBox.Backup.Tests.Engine;

/// <summary>
/// Tampering someone who can write the bucket but holds no key can do to an encrypted (version 3) repository: cut
/// objects short, copy them under other names, bring in another repository's objects, move a sealed blob over
/// another, plant an unsealed (version 2) object, or open it all with the wrong key. Each is named by check (with
/// --read-data where only reading the packs can see it) and restore never presents a damaged file as whole.
/// Flipped bits are CorruptionTests' and ObjectCipherTests' subject; rollback of the snapshot list is the
/// controller's floor (not detectable from the repository alone), so it has no case here.
/// </summary>
public sealed class EncryptedTamperTests : IDisposable
{
    private readonly TempDir _temp = new();
    private readonly byte[] _victim = RandomBytes(1, 100_000);
    private readonly byte[] _bystander = RandomBytes(2, 120_000);

    private string Source => Path.Combine(_temp.Path, "src");

    private string Target => Path.Combine(_temp.Path, "target");

    private string RepoPath => Path.Combine(_temp.Path, "repo");

    // ---------- truncated objects ----------

    [Theory]
    [InlineData(1)]
    [InlineData(17)]
    public async Task Check_DataPackCutShortAtItsEnd_NamedWhileItsIntactBlobsStillRestore(int cut)
    {
        using var harness = await BackupSourceAsync();
        var (key, _) = await FindPackHoldingAsync(harness, await IdOfAsync(harness, _victim));
        var packId = PackIdOf(key);
        var bytes = await harness.Store.GetAsync(key, CancellationToken.None);
        await OverwriteAsync(key, bytes[..^cut]);

        var structure = await harness.CheckAsync(readData: false);
        var full = await harness.CheckAsync(readData: true);
        var restored = await harness.RestoreAsync(Target);

        Assert.Contains($"pack {packId.ShortHex} has {bytes.Length - cut} bytes in the store, the index says {bytes.Length}", structure.Errors);
        Assert.Contains($"pack {packId.ShortHex} is corrupt: its bytes do not hash to its name", full.Errors);
        Assert.Contains(full.Errors, e => e.StartsWith($"pack {packId.ShortHex} has an unreadable header: ", StringComparison.Ordinal));
        // Only the header area was cut: every blob is still whole and opens, so what restore writes is authentic.
        Assert.Empty(restored.Errors);
        Assert.Equal(_victim, await File.ReadAllBytesAsync(Path.Combine(Target, "src", "victim.bin")));
    }

    [Fact]
    public async Task CheckAndRestore_DataPackCutToHalf_NamedAndNoDamagedFilePresentedAsWhole()
    {
        using var harness = await BackupSourceAsync();
        var (key, _) = await FindPackHoldingAsync(harness, await IdOfAsync(harness, _victim));
        var packId = PackIdOf(key);
        var bytes = await harness.Store.GetAsync(key, CancellationToken.None);
        await OverwriteAsync(key, bytes[..(bytes.Length / 2)]);

        var structure = await harness.CheckAsync(readData: false);
        var full = await harness.CheckAsync(readData: true);
        var restored = await harness.RestoreAsync(Target);

        Assert.Contains($"pack {packId.ShortHex} has {bytes.Length / 2} bytes in the store, the index says {bytes.Length}", structure.Errors);
        Assert.Contains(full.Errors, e => e.StartsWith($"pack {packId.ShortHex} has an unreadable header: ", StringComparison.Ordinal));
        Assert.NotEmpty(restored.Errors);
        Assert.All(restored.Errors, e => Assert.Contains("could not be restored", e, StringComparison.Ordinal));
        await AssertNoFileWrongAsync();
    }

    [Fact]
    public async Task Check_IndexFileCut_Named()
    {
        using var harness = await BackupSourceAsync();
        var key = await FirstKeyAsync(harness, BackupRepository.IndexPrefix);
        var bytes = await harness.Store.GetAsync(key, CancellationToken.None);
        await OverwriteAsync(key, bytes[..^1]);
        ClearCache(harness);

        var check = await harness.CheckAsync();

        Assert.Contains($"index file '{key}' is unreadable: object '{key}' is corrupt: its bytes do not match its name", check.Errors);
    }

    [Fact]
    public async Task CheckAndRestore_SnapshotCut_NamedAndRestoreOfItRefusedWritingNothing()
    {
        using var harness = await BackupSourceAsync();
        var key = await FirstKeyAsync(harness, BackupRepository.SnapshotPrefix);
        var id = key[BackupRepository.SnapshotPrefix.Length..];
        var bytes = await harness.Store.GetAsync(key, CancellationToken.None);
        await OverwriteAsync(key, bytes[..^17]);
        ClearCache(harness);

        var check = await harness.CheckAsync();
        var restore = await Record.ExceptionAsync(() => harness.RestoreAsync(Target, id[..12]));

        Assert.Contains($"snapshot {id[..8]} is unreadable: object '{key}' is corrupt: its bytes do not match its name", check.Errors);
        Assert.IsType<InvalidDataException>(restore);
        Assert.Equal($"object '{key}' is corrupt: its bytes do not match its name", restore.Message);
        Assert.False(Directory.Exists(Target));
    }

    // ---------- an object copied under another name ----------

    [Fact]
    public async Task Check_PackCopiedUnderAnotherName_ReadDataNamesIt()
    {
        using var harness = await BackupSourceAsync();
        var (key, _) = await FindPackHoldingAsync(harness, await IdOfAsync(harness, _victim));
        var other = AnotherName();
        await OverwriteAsync(Pack.Key(other), await harness.Store.GetAsync(key, CancellationToken.None));

        var full = await harness.CheckAsync(readData: true);

        Assert.Contains($"pack {other.ShortHex} is corrupt: its bytes do not hash to its name", full.Errors);
    }

    [Fact]
    public async Task CheckAndRestore_PackCopiedOverAnotherPack_NamedAndItsFileNotPresented()
    {
        using var harness = await BackupSourceAsync();
        var (firstKey, _) = await FindPackHoldingAsync(harness, await IdOfAsync(harness, _victim));
        var late = RandomBytes(3, 50_000);
        await File.WriteAllBytesAsync(Path.Combine(Source, "late.bin"), late);
        await harness.BackupAsync(Source);
        var (lateKey, _) = await FindPackHoldingAsync(harness, await IdOfAsync(harness, late));
        var latePack = PackIdOf(lateKey);
        var lateBytes = await harness.Store.GetAsync(lateKey, CancellationToken.None);
        var firstBytes = await harness.Store.GetAsync(firstKey, CancellationToken.None);
        await OverwriteAsync(lateKey, firstBytes);

        var structure = await harness.CheckAsync(readData: false);
        var full = await harness.CheckAsync(readData: true);
        var restored = await harness.RestoreAsync(Target);

        Assert.Contains($"pack {latePack.ShortHex} has {firstBytes.Length} bytes in the store, the index says {lateBytes.Length}", structure.Errors);
        Assert.Contains($"pack {latePack.ShortHex} is corrupt: its bytes do not hash to its name", full.Errors);
        Assert.Contains(restored.Errors, e => e.StartsWith("'src/late.bin' could not be restored: ", StringComparison.Ordinal));
        var file = new FileInfo(Path.Combine(Target, "src", "late.bin"));
        Assert.False(file.Exists && file.Length == late.Length, "the file of the replaced pack is in place at its full size");
        Assert.Equal(_victim, await File.ReadAllBytesAsync(Path.Combine(Target, "src", "victim.bin")));
    }

    [Fact]
    public async Task Check_IndexFileCopiedUnderAnotherName_Named()
    {
        using var harness = await BackupSourceAsync();
        var key = await FirstKeyAsync(harness, BackupRepository.IndexPrefix);
        var copy = BackupRepository.IndexPrefix + AnotherName().ToHex();
        await OverwriteAsync(copy, await harness.Store.GetAsync(key, CancellationToken.None));

        var check = await harness.CheckAsync();

        Assert.Contains($"index file '{copy}' is unreadable: object '{copy}' is corrupt: its bytes do not match its name", check.Errors);
    }

    [Fact]
    public async Task CheckAndRestore_SnapshotCopiedUnderAnotherName_NamedAndRestoreOfItRefused()
    {
        using var harness = await BackupSourceAsync();
        var key = await FirstKeyAsync(harness, BackupRepository.SnapshotPrefix);
        var copyId = AnotherName().ToHex();
        var copy = BackupRepository.SnapshotPrefix + copyId;
        await OverwriteAsync(copy, await harness.Store.GetAsync(key, CancellationToken.None));

        var check = await harness.CheckAsync();
        var restore = await Record.ExceptionAsync(() => harness.RestoreAsync(Target, copyId[..12]));

        Assert.Contains($"snapshot {copyId[..8]} is unreadable: object '{copy}' is corrupt: its bytes do not match its name", check.Errors);
        Assert.Equal($"object '{copy}' is corrupt: its bytes do not match its name", Assert.IsType<InvalidDataException>(restore).Message);
        Assert.False(Directory.Exists(Target));
    }

    // ---------- another repository's objects, under their own names ----------

    public static TheoryData<bool> SameMasterKey => new() { false, true };

    [Theory]
    [MemberData(nameof(SameMasterKey))]
    public async Task Check_AnotherRepositorysPackCopiedIn_ReadDataNamesItAndBackupDoesNotAdoptIt(bool sameMasterKey)
    {
        using var harness = await BackupSourceAsync();
        using var other = await OtherRepositoryAsync(harness, sameMasterKey);
        var (key, _) = await FindPackHoldingAsync(other, await IdOfAsync(other, _victim));
        await OverwriteAsync(key, await other.Store.GetAsync(key, CancellationToken.None));

        var full = await harness.CheckAsync(readData: true);
        await harness.BackupAsync(Source);
        var afterBackup = await harness.CheckAsync(readData: false);

        Assert.Contains($"pack {PackIdOf(key).ShortHex} has an unreadable header: the sealed pack header does not authenticate: "
            + "it was changed or cut short, belongs to another repository or is another kind of object, or the key is not this repository's; run check", full.Errors);
        Assert.DoesNotContain(full.Errors, e => e.Contains("do not hash to its name", StringComparison.Ordinal));
        // The recovery of unindexed packs reads its header, which does not open: it stays in no index.
        Assert.Contains("1 pack is in no index (uploads of an interrupted backup: the next backup reuses them, prune removes what stays unused)", afterBackup.Warnings);
    }

    [Theory]
    [MemberData(nameof(SameMasterKey))]
    public async Task CheckAndRestore_AnotherRepositorysIndexFileCopiedIn_NamedAndNotUsed(bool sameMasterKey)
    {
        using var harness = await BackupSourceAsync();
        using var other = await OtherRepositoryAsync(harness, sameMasterKey);
        var key = await FirstKeyAsync(other, BackupRepository.IndexPrefix);
        await OverwriteAsync(key, await other.Store.GetAsync(key, CancellationToken.None));

        var check = await harness.CheckAsync();
        var restored = await harness.RestoreAsync(Target);

        Assert.Contains($"index file '{key}' is unreadable: '{key}': the sealed index file does not authenticate: "
            + "it was changed or cut short, belongs to another repository or is another kind of object, or the key is not this repository's; run check", check.Errors);
        Assert.Empty(restored.Errors);
        Assert.Equal(_victim, await File.ReadAllBytesAsync(Path.Combine(Target, "src", "victim.bin")));
    }

    [Theory]
    [MemberData(nameof(SameMasterKey))]
    public async Task CheckAndRestore_AnotherRepositorysNewerSnapshotCopiedIn_NamedAndLatestIsStillThisRepositorys(bool sameMasterKey)
    {
        using var harness = await BackupSourceAsync();
        using var other = await OtherRepositoryAsync(harness, sameMasterKey);
        var key = await FirstKeyAsync(other, BackupRepository.SnapshotPrefix);
        var id = key[BackupRepository.SnapshotPrefix.Length..];
        await OverwriteAsync(key, await other.Store.GetAsync(key, CancellationToken.None));

        var check = await harness.CheckAsync();
        var restoreIt = await Record.ExceptionAsync(() => harness.RestoreAsync(Path.Combine(_temp.Path, "it"), id[..12]));
        var restored = await harness.RestoreAsync(Target);

        Assert.Contains($"snapshot {id[..8]} is unreadable: '{key}': the sealed snapshot does not authenticate: "
            + "it was changed or cut short, belongs to another repository or is another kind of object, or the key is not this repository's; run check", check.Errors);
        Assert.Contains("the sealed snapshot does not authenticate", Assert.IsType<InvalidDataException>(restoreIt).Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_temp.Path, "it")));
        // The other repository's snapshot is the newer one: accepted, it would have been "latest".
        Assert.Empty(restored.Errors);
        Assert.Equal("plain text", await File.ReadAllTextAsync(Path.Combine(Target, "src", "notes.txt")));
    }

    // ---------- a sealed blob moved within the repository ----------

    [Fact]
    public async Task CheckAndRestore_SealedBlobCopiedOverAnotherOfTheSameSize_DoesNotOpenUnderTheOthersId()
    {
        var (harness, twin, twinKey, twinEntry) = await BackupWithTwinAsync();
        using var _ = harness;
        var (victimKey, victimEntry) = await FindPackHoldingAsync(harness, await IdOfAsync(harness, _victim));
        Assert.NotEqual(victimKey, twinKey);
        Assert.Equal(victimEntry.StoredLength, twinEntry.StoredLength);
        var victimPack = await harness.Store.GetAsync(victimKey, CancellationToken.None);
        var twinPack = await harness.Store.GetAsync(twinKey, CancellationToken.None);
        victimPack.AsSpan((int)victimEntry.Offset, victimEntry.StoredLength).CopyTo(twinPack.AsSpan((int)twinEntry.Offset));
        await OverwriteAsync(twinKey, twinPack);

        var structure = await harness.CheckAsync(readData: false);
        var full = await harness.CheckAsync(readData: true);
        var restored = await harness.RestoreAsync(Target);

        // The blob id is in each sealed blob's associated data: the victim's blob does not open as the twin's.
        var named = $"blob {twinEntry.Id.ShortHex}: the sealed data blob does not authenticate: it was changed or cut short, is another blob (moved within the repository, or its index entry altered), belongs to another repository, or the key is not this repository's; run check";
        Assert.True(structure.Ok, string.Join("\n", structure.Errors));
        Assert.Contains($"pack {PackIdOf(twinKey).ShortHex}: {named}", full.Errors);
        Assert.Equal($"'src/twin.bin' could not be restored: {named}", Assert.Single(restored.Errors));
        var file = Path.Combine(Target, "src", "twin.bin");
        Assert.False(File.Exists(file) && new FileInfo(file).Length == twin.Length, "the file whose blob was replaced is in place at its full size");
        Assert.Equal(_victim, await File.ReadAllBytesAsync(Path.Combine(Target, "src", "victim.bin")));
    }

    /// <summary>
    /// A blob that was wrong before it was sealed (the writer's fault: its content is not what its id says), sealed
    /// with the repository's key: it authenticates, so only check --read-data, which hashes each blob again, finds it.
    /// </summary>
    [Fact]
    public async Task CheckReadData_BlobSealedUnderAnIdItsContentDoesNotHashTo_NamedAsWrongBeforeSealing()
    {
        var (harness, _, twinKey, twinEntry) = await BackupWithTwinAsync();
        using var _ = harness;
        var victimId = await IdOfAsync(harness, _victim);
        var repository = await harness.OpenAsync();
        var faulty = repository.Crypto!.Cipher.Seal(_victim, ObjectKind.DataBlob, twinEntry.Id);
        Assert.Equal(twinEntry.StoredLength, faulty.Length);
        var twinPack = await harness.Store.GetAsync(twinKey, CancellationToken.None);
        faulty.CopyTo(twinPack.AsSpan((int)twinEntry.Offset));
        await OverwriteAsync(twinKey, twinPack);

        var full = await harness.CheckAsync(readData: true);

        Assert.Contains($"pack {PackIdOf(twinKey).ShortHex}: blob {twinEntry.Id.ShortHex} does not hash to its id (its keyed id is {victimId[..8]}), though it authenticates: it was wrong before it was sealed, by a fault of the machine or program that wrote it", full.Errors);
    }

    // ---------- a version 2 (unsealed) object planted ----------

    [Fact]
    public async Task Check_UnsealedIndexFilePlanted_RefusedAsNotSealed()
    {
        using var harness = await BackupSourceAsync();
        var repository = await harness.OpenAsync();
        var sealedIndex = await harness.Store.GetAsync(await FirstKeyAsync(harness, BackupRepository.IndexPrefix), CancellationToken.None);
        var plain = repository.Crypto!.Cipher.Open(sealedIndex, ObjectKind.Index);
        var key = BackupRepository.IndexPrefix + BlobId.Compute(plain).ToHex();
        await OverwriteAsync(key, plain);

        var check = await harness.CheckAsync();

        Assert.Contains($"index file '{key}' is unreadable: '{key}': the sealed index file does not start with the sealed-object magic: "
            + "it is not an encrypted object or its first bytes were changed; run check", check.Errors);
    }

    [Fact]
    public async Task CheckAndRestore_UnsealedSnapshotPlanted_RefusedAsNotSealedAndNotRestored()
    {
        using var harness = await BackupSourceAsync();
        var repository = await harness.OpenAsync();
        var sealedSnapshot = await harness.Store.GetAsync(await FirstKeyAsync(harness, BackupRepository.SnapshotPrefix), CancellationToken.None);
        var plain = repository.Crypto!.Cipher.Open(sealedSnapshot, ObjectKind.Snapshot);
        var id = BlobId.Compute(plain).ToHex();
        var key = BackupRepository.SnapshotPrefix + id;
        await OverwriteAsync(key, plain);

        var check = await harness.CheckAsync();
        var restore = await Record.ExceptionAsync(() => harness.RestoreAsync(Target, id[..12]));

        var named = $"'{key}': the sealed snapshot does not start with the sealed-object magic: it is not an encrypted object or its first bytes were changed; run check";
        Assert.Contains($"snapshot {id[..8]} is unreadable: {named}", check.Errors);
        Assert.Equal(named, Assert.IsType<InvalidDataException>(restore).Message);
        Assert.False(Directory.Exists(Target));
    }

    // ---------- the wrong key ----------

    [Fact]
    public async Task CheckAndRestore_WrongMasterKey_EveryObjectRefusedNamingAuthenticationAndNothingWritten()
    {
        using var harness = await BackupSourceAsync();
        var key = await FirstKeyAsync(harness, BackupRepository.SnapshotPrefix);
        var id = key[BackupRepository.SnapshotPrefix.Length..];
        var index = await FirstKeyAsync(harness, BackupRepository.IndexPrefix);
        harness.Keys!.ReplaceWithAnotherKey();
        ClearCache(harness);

        var check = await harness.CheckAsync();
        var restore = await Record.ExceptionAsync(() => harness.RestoreAsync(Target, id[..12]));
        var latest = await Record.ExceptionAsync(() => harness.RestoreAsync(Target));

        Assert.Contains(check.Errors, e => e.StartsWith($"index file '{index}' is unreadable: '{index}': the sealed index file does not authenticate: ", StringComparison.Ordinal));
        Assert.Contains(check.Errors, e => e.StartsWith($"snapshot {id[..8]} is unreadable: '{key}': the sealed snapshot does not authenticate: ", StringComparison.Ordinal));
        Assert.EndsWith("or the key is not this repository's; run check", Assert.IsType<InvalidDataException>(restore).Message, StringComparison.Ordinal);
        Assert.IsType<RepositoryException>(latest);
        Assert.False(Directory.Exists(Target));
    }

    // ---------- helpers ----------

    private async Task<EngineHarness> BackupSourceAsync()
    {
        Directory.CreateDirectory(Source);
        await File.WriteAllBytesAsync(Path.Combine(Source, "victim.bin"), _victim);
        await File.WriteAllBytesAsync(Path.Combine(Source, "bystander.bin"), _bystander);
        await File.WriteAllTextAsync(Path.Combine(Source, "notes.txt"), "plain text");
        var harness = await EngineHarness.LocalAsync(RepoPath);
        await harness.BackupAsync(Source);
        return harness;
    }

    /// <summary>
    /// A second encrypted repository holding other content, backed up after this one (its snapshot is newer): with a master key of its
    /// own (same passphrase), or with the same master key as <paramref name="harness"/>'s, when only the repository id tells them apart.
    /// </summary>
    /// <summary>The source backed up again with twin.bin, a file the victim's size, and where twin.bin's blob lies.</summary>
    private async Task<(EngineHarness Harness, byte[] Twin, string TwinPackKey, PackEntry TwinEntry)> BackupWithTwinAsync()
    {
        var harness = await BackupSourceAsync();
        var twin = RandomBytes(4, _victim.Length);
        await File.WriteAllBytesAsync(Path.Combine(Source, "twin.bin"), twin);
        await harness.BackupAsync(Source);
        var (twinKey, twinEntry) = await FindPackHoldingAsync(harness, await IdOfAsync(harness, twin));
        return (harness, twin, twinKey, twinEntry);
    }

    private async Task<EngineHarness> OtherRepositoryAsync(EngineHarness harness, bool sameMasterKey)
    {
        var source = Path.Combine(_temp.Path, "other-src", "src");
        Directory.CreateDirectory(source);
        await File.WriteAllBytesAsync(Path.Combine(source, "victim.bin"), _victim);
        await File.WriteAllTextAsync(Path.Combine(source, "notes.txt"), "the other repository's text");
        var directory = Path.Combine(_temp.Path, "other-repo");
        var other = sameMasterKey
            ? await EngineHarness.LocalAsync(directory, TestKeySource.SharingMasterKeyOf(harness.Keys!))
            : await EngineHarness.LocalAsync(directory);
        await other.BackupAsync(source);
        return other;
    }

    /// <summary>Every file restore left at its full size is exactly the original.</summary>
    private async Task AssertNoFileWrongAsync()
    {
        foreach (var (name, content) in new[] { ("victim.bin", _victim), ("bystander.bin", _bystander) })
        {
            var path = Path.Combine(Target, "src", name);
            if (File.Exists(path) && new FileInfo(path).Length == content.Length)
            {
                Assert.Equal(content, await File.ReadAllBytesAsync(path));
            }
        }
    }

    private Task OverwriteAsync(string key, byte[] bytes)
    {
        var path = Path.Combine(RepoPath, key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return File.WriteAllBytesAsync(path, bytes);
    }

    /// <summary>A valid-looking object name no object has.</summary>
    private static BlobId AnotherName() => BlobId.Compute(RandomNumberGenerator.GetBytes(32));

    private static async Task<string> FirstKeyAsync(EngineHarness harness, string prefix)
    {
        await foreach (var obj in harness.Store.ListAsync(prefix, CancellationToken.None))
        {
            return obj.Key;
        }

        throw new InvalidOperationException($"no object under {prefix}");
    }

    private static async Task<(string Key, PackEntry Entry)> FindPackHoldingAsync(EngineHarness harness, string blobHex)
    {
        var crypto = (await harness.OpenAsync()).Crypto;
        var keys = new List<string>();
        await foreach (var obj in harness.Store.ListAsync(Pack.DataPrefix, CancellationToken.None))
        {
            keys.Add(obj.Key);
        }

        foreach (var key in keys)
        {
            var entries = Pack.ReadHeaderFromPack(await harness.Store.GetAsync(key, CancellationToken.None), crypto);
            foreach (var entry in entries.Where(e => e.Id.ToHex() == blobHex))
            {
                return (key, entry);
            }
        }

        throw new InvalidOperationException($"no pack holds blob {blobHex}");
    }

    private static async Task<string> IdOfAsync(EngineHarness harness, byte[] content) =>
        (await harness.OpenAsync()).ComputeBlobId(content).ToHex();

    private static BlobId PackIdOf(string key) => BlobId.Parse(key[(key.LastIndexOf('/') + 1)..]);

    private static void ClearCache(EngineHarness harness)
    {
        foreach (var dir in Directory.EnumerateDirectories(harness.Options.CacheDirectory))
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static byte[] RandomBytes(int seed, int length)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public void Dispose() => _temp.Dispose();
}
