using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using SpotDevBox.Backup.Keys;
using SpotDevBox.Backup.Tests.Repository;

namespace SpotDevBox.Backup.Tests.Keys;

/// <summary>Passphrase key files on an in-memory store, with Argon2id at its floor so each derivation is quick.</summary>
public sealed class KeyRingTests
{
    internal static readonly Argon2idParameters Fast = new(Argon2idParameters.MinMemoryKib, Argon2idParameters.MinIterations);
    private const string Passphrase = "correct horse battery staple";

    private readonly InMemoryObjectStore _store = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 9, 30, 15, 250, TimeSpan.Zero));
    private readonly byte[] _master = Enumerable.Range(0, 64).Select(i => (byte)(i * 3 + 1)).ToArray();

    private KeyRing Ring() => new(_store, _time);

    [Fact]
    public async Task OpenWithPassphraseAsync_KeyAdded_ReturnsTheMasterKey()
    {
        var id = await Ring().AddPassphraseAsync(_master, Passphrase, "alice@laptop", Fast, CancellationToken.None);

        var opened = await Ring().OpenWithPassphraseAsync(Passphrase, CancellationToken.None);

        Assert.Equal(id, opened.KeyId);
        Assert.Equal(_master, opened.MasterKey);
        Assert.Empty(opened.Problems);
    }

    [Fact]
    public async Task AddPassphraseAsync_WritesJsonNamedBySha256OfItsBytes_WithTheParametersAndNoSecret()
    {
        var id = await Ring().AddPassphraseAsync(_master, Passphrase, "alice@laptop", Fast, CancellationToken.None);

        Assert.Equal(["keys/" + id], _store.Keys);
        var bytes = await _store.GetAsync("keys/" + id, CancellationToken.None);
        Assert.Equal(id, Convert.ToHexStringLower(SHA256.HashData(bytes)));
        var json = JsonNode.Parse(bytes)!;
        Assert.Equal(1, (int)json["version"]!);
        Assert.Equal("passphrase", (string)json["kind"]!);
        Assert.Equal("2026-03-01T09:30:15+00:00", (string)json["created"]!);
        Assert.Equal("alice@laptop", (string)json["label"]!);
        Assert.Equal((19456, 2, 1), ((int)json["argon2id"]!["memory_kib"]!, (int)json["argon2id"]!["iterations"]!, (int)json["argon2id"]!["parallelism"]!));
        Assert.Equal(16, Convert.FromBase64String((string)json["argon2id"]!["salt"]!).Length);
        Assert.Equal(12, Convert.FromBase64String((string)json["nonce"]!).Length);
        Assert.Equal(80, Convert.FromBase64String((string)json["wrapped"]!).Length);
        Assert.Null(json["kms"]);
        var text = Encoding.UTF8.GetString(bytes);
        Assert.DoesNotContain(Passphrase, text, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(_master), text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenWithPassphraseAsync_WrongPassphrase_RefusedClearlyAndNothingWritten()
    {
        await Ring().AddPassphraseAsync(_master, Passphrase, "alice@laptop", Fast, CancellationToken.None);
        var before = Snapshot();

        var e = await Assert.ThrowsAsync<KeyRingException>(() => Ring().OpenWithPassphraseAsync("Tr0ub4dor&3", CancellationToken.None));

        Assert.Equal("no passphrase key opens this repository (1 tried): wrong passphrase, or the key file was altered: give the repository's passphrase", e.Message);
        Assert.Equal(before, Snapshot());
        Assert.Empty(_store.Deleted);
    }

    [Fact]
    public async Task OpenWithPassphraseAsync_NoPassphraseKey_SaysSo()
    {
        var e = await Assert.ThrowsAsync<KeyRingException>(() => Ring().OpenWithPassphraseAsync(Passphrase, CancellationToken.None));

        Assert.Equal("no passphrase key opens this repository (0 tried): it has no passphrase key", e.Message);
    }

    /// <summary>Each field changed, the file renamed to its new hash (as an attacker with write access would): refused.</summary>
    [Theory]
    [InlineData("created", "\"2026-03-01T09:30:16+00:00\"")]
    [InlineData("label", "\"mallory@laptop\"")]
    [InlineData("argon2id.memory_kib", "19457")]
    [InlineData("argon2id.iterations", "3")]
    [InlineData("argon2id.salt", "\"AAAAAAAAAAAAAAAAAAAAAA==\"")]
    [InlineData("nonce", "\"AAAAAAAAAAAAAAAA\"")]
    [InlineData("wrapped", "flip")]
    public async Task OpenWithPassphraseAsync_FieldTamperedAndRenamed_Refused(string field, string value)
    {
        var id = await Ring().AddPassphraseAsync(_master, Passphrase, "alice@laptop", Fast, CancellationToken.None);
        var newId = Tamper(id, field, value);

        var e = await Assert.ThrowsAsync<KeyRingException>(() => Ring().OpenWithPassphraseAsync(Passphrase, CancellationToken.None));

        Assert.NotEqual(id, newId);
        Assert.Equal("no passphrase key opens this repository (1 tried): wrong passphrase, or the key file was altered: give the repository's passphrase", e.Message);
    }

    [Fact]
    public async Task OpenWithPassphraseAsync_KindChanged_RefusedAsMalformed()
    {
        var id = await Ring().AddPassphraseAsync(_master, Passphrase, "alice@laptop", Fast, CancellationToken.None);
        var newId = Tamper(id, "kind", "\"kms\"");

        var e = await Assert.ThrowsAsync<KeyRingException>(() => Ring().OpenWithPassphraseAsync(Passphrase, CancellationToken.None));

        Assert.Equal($"key file keys/{newId} is malformed (unknown kind, or fields of another kind)", e.Message);
    }

    [Fact]
    public async Task OpenWithPassphraseAsync_UnknownFieldAdded_RefusedAsNotAKeyFile()
    {
        var id = await Ring().AddPassphraseAsync(_master, Passphrase, "alice@laptop", Fast, CancellationToken.None);
        var newId = Tamper(id, "comment", "\"hello\"");

        var e = await Assert.ThrowsAsync<KeyRingException>(() => Ring().OpenWithPassphraseAsync(Passphrase, CancellationToken.None));

        Assert.Equal($"key file keys/{newId} is not a key file", e.Message);
    }

    [Fact]
    public async Task OpenWithPassphraseAsync_VersionChanged_NamesTheVersion()
    {
        var id = await Ring().AddPassphraseAsync(_master, Passphrase, "alice@laptop", Fast, CancellationToken.None);
        var newId = Tamper(id, "version", "2");

        var e = await Assert.ThrowsAsync<KeyRingException>(() => Ring().OpenWithPassphraseAsync(Passphrase, CancellationToken.None));

        Assert.Equal($"key file keys/{newId} has version 2, this spotdevbox reads version 1: use a newer spotdevbox", e.Message);
    }

    [Fact]
    public async Task OpenWithPassphraseAsync_ContentChangedUnderTheSameName_RefusedAsAltered()
    {
        var id = await Ring().AddPassphraseAsync(_master, Passphrase, "alice@laptop", Fast, CancellationToken.None);
        var bytes = await _store.GetAsync("keys/" + id, CancellationToken.None);
        bytes[^3] ^= 0x01;
        _store.Plant("keys/" + id, bytes);

        var e = await Assert.ThrowsAsync<KeyRingException>(() => Ring().OpenWithPassphraseAsync(Passphrase, CancellationToken.None));

        Assert.Equal($"key file keys/{id} was altered or moved (its content does not match its name): remove it and add the key again", e.Message);
    }

    /// <summary>64 GiB of memory in a planted key file: refused by its bounds before Argon2 allocates anything.</summary>
    [Fact]
    public async Task OpenWithPassphraseAsync_HostileParameters_RefusedBeforeAllocating()
    {
        var id = await Ring().AddPassphraseAsync(_master, Passphrase, "alice@laptop", Fast, CancellationToken.None);
        var hostile = Tamper(id, "argon2id.memory_kib", "67108864");
        var allocated = GC.GetTotalAllocatedBytes(precise: true);

        var e = await Assert.ThrowsAsync<KeyRingException>(() => Ring().OpenWithPassphraseAsync(Passphrase, CancellationToken.None));

        Assert.Equal($"key file keys/{hostile} is refused: Argon2id memory (KiB) 67108864 is outside 19456..1048576", e.Message);
        Assert.InRange(GC.GetTotalAllocatedBytes(precise: true) - allocated, 0, 8 * 1024 * 1024);
    }

    /// <summary>Four lanes (what development builds before libsodium wrote): named, not tried as a wrong passphrase.</summary>
    [Fact]
    public async Task OpenWithPassphraseAsync_FourLanes_RefusedNamingTheLanes()
    {
        var id = await Ring().AddPassphraseAsync(_master, Passphrase, "alice@laptop", Fast, CancellationToken.None);
        var planted = Tamper(id, "argon2id.parallelism", "4");

        var e = await Assert.ThrowsAsync<KeyRingException>(() => Ring().OpenWithPassphraseAsync(Passphrase, CancellationToken.None));

        Assert.Equal($"key file keys/{planted} is refused: Argon2id parallelism 4 is not supported: key files use 1 lane", e.Message);
    }

    [Fact]
    public async Task AddPassphraseAsync_ParametersBelowTheFloor_RefusedAndNothingWritten()
    {
        var e = await Assert.ThrowsAsync<KeyRingException>(() =>
            Ring().AddPassphraseAsync(_master, Passphrase, "alice@laptop", new Argon2idParameters(1024, 2, 1), CancellationToken.None));

        Assert.StartsWith("Argon2id memory (KiB) 1024 is outside 19456..1048576", e.Message, StringComparison.Ordinal);
        Assert.Empty(_store.Keys);
    }

    [Fact]
    public async Task OpenWithPassphraseAsync_TwoKeys_EachPassphraseOpensTheSameMasterKey()
    {
        var first = await Ring().AddPassphraseAsync(_master, Passphrase, "alice@laptop", Fast, CancellationToken.None);
        var second = await Ring().AddPassphraseAsync(_master, "another one", "bob@laptop", Fast, CancellationToken.None);

        var a = await Ring().OpenWithPassphraseAsync(Passphrase, CancellationToken.None);
        var b = await Ring().OpenWithPassphraseAsync("another one", CancellationToken.None);

        Assert.Equal(first, a.KeyId);
        Assert.Equal(_master, a.MasterKey);
        Assert.Equal(second, b.KeyId);
        Assert.Equal(_master, b.MasterKey);
    }

    [Fact]
    public async Task OpenWithPassphraseAsync_OneKeyDamaged_OpensWithTheOtherAndReportsIt()
    {
        var damaged = new string('0', 64);
        _store.Plant("keys/" + damaged, [0x7b]);
        var good = await Ring().AddPassphraseAsync(_master, Passphrase, "alice@desktop", Fast, CancellationToken.None);

        var opened = await Ring().OpenWithPassphraseAsync(Passphrase, CancellationToken.None);

        Assert.Equal(good, opened.KeyId);
        Assert.Equal([$"key file keys/{damaged} was altered or moved (its content does not match its name): remove it and add the key again"], opened.Problems);
    }

    /// <summary>
    /// Each key file costs one GET (its size comes from the listing); a planted file larger than a key file can be is
    /// named and never read, and the real key still opens.
    /// </summary>
    [Fact]
    public async Task OpenWithPassphraseAsync_BesideAnOversizedPlantedFile_OneGetPerKeyFileAndTheLargeOneNeverRead()
    {
        var id = await Ring().AddPassphraseAsync(_master, Passphrase, "alice@laptop", Fast, CancellationToken.None);
        var huge = new byte[65 * 1024];
        var hugeId = Convert.ToHexStringLower(SHA256.HashData(huge));
        _store.Plant("keys/" + hugeId, huge);
        _store.Requests.Clear();

        var opened = await Ring().OpenWithPassphraseAsync(Passphrase, CancellationToken.None);
        var requestsToOpen = _store.Requests.ToList();
        var listed = await Ring().ListAsync(CancellationToken.None);

        Assert.Equal(id, opened.KeyId);
        Assert.Equal(["GET keys/" + id], requestsToOpen);
        Assert.Equal($"key file keys/{hugeId} is too large: remove it", listed.Single(e => e.Id == hugeId).Problem);
        Assert.DoesNotContain("GET keys/" + hugeId, _store.Requests);
    }

    [Fact]
    public async Task ListAsync_TwoKeys_ListsKindTimeAndLabel()
    {
        var id = await Ring().AddPassphraseAsync(_master, Passphrase, "alice@laptop", Fast, CancellationToken.None);

        var entries = await Ring().ListAsync(CancellationToken.None);

        Assert.Equal([new KeyEntry(id, "passphrase", new DateTimeOffset(2026, 3, 1, 9, 30, 15, TimeSpan.Zero), "alice@laptop", null, null, null)], entries);
    }

    [Fact]
    public async Task RemoveAsync_LastKey_RefusedAndKept()
    {
        var id = await Ring().AddPassphraseAsync(_master, Passphrase, "alice@laptop", Fast, CancellationToken.None);

        var e = await Assert.ThrowsAsync<KeyRingException>(() => Ring().RemoveAsync(id, CancellationToken.None));

        Assert.Equal($"key {id} is the repository's last usable key: add another key first, or nobody could open the repository again", e.Message);
        Assert.Equal(["keys/" + id], _store.Keys);
    }

    [Fact]
    public async Task RemoveAsync_LastIntactKeyBesideADamagedOne_Refused()
    {
        var id = await Ring().AddPassphraseAsync(_master, Passphrase, "alice@laptop", Fast, CancellationToken.None);
        _store.Plant("keys/" + new string('0', 64), [0x7b]);

        await Assert.ThrowsAsync<KeyRingException>(() => Ring().RemoveAsync(id, CancellationToken.None));

        Assert.Contains("keys/" + id, _store.Keys);
    }

    [Fact]
    public async Task RemoveAsync_OneOfTwo_DeletesItAndTheOtherStillOpens()
    {
        var removed = await Ring().AddPassphraseAsync(_master, "old passphrase", "alice@laptop", Fast, CancellationToken.None);
        var kept = await Ring().AddPassphraseAsync(_master, Passphrase, "alice@laptop", Fast, CancellationToken.None);

        await Ring().RemoveAsync(removed, CancellationToken.None);

        Assert.Equal(["keys/" + kept], _store.Keys);
        await Assert.ThrowsAsync<KeyRingException>(() => Ring().OpenWithPassphraseAsync("old passphrase", CancellationToken.None));
        Assert.Equal(_master, (await Ring().OpenWithPassphraseAsync(Passphrase, CancellationToken.None)).MasterKey);
    }

    [Fact]
    public async Task RemoveAsync_UnknownId_Refused()
    {
        await Ring().AddPassphraseAsync(_master, Passphrase, "alice@laptop", Fast, CancellationToken.None);

        var e = await Assert.ThrowsAsync<KeyRingException>(() => Ring().RemoveAsync("abc", CancellationToken.None));

        Assert.Equal("there is no key abc in this repository; list the keys and give one of their ids", e.Message);
    }

    [Fact]
    public async Task AddKmsAsync_NoKmsClient_RefusedAndNothingWritten()
    {
        var e = await Assert.ThrowsAsync<KeyRingException>(() =>
            Ring().AddKmsAsync(_master, "alias/spotdevbox", KeyRing.BoxContext("r1", "alice", "dev"), "alice@laptop", CancellationToken.None));

        Assert.Equal("KMS keys need AWS (a region and credentials); this command has no KMS client", e.Message);
        Assert.Empty(_store.Keys);
    }

    [Fact]
    public async Task AddPassphraseAsync_MasterKeyNot64Bytes_Refused() =>
        await Assert.ThrowsAsync<ArgumentException>(() => Ring().AddPassphraseAsync(new byte[32], Passphrase, "alice@laptop", Fast, CancellationToken.None));

    private Dictionary<string, string> Snapshot() =>
        _store.Keys.ToDictionary(k => k, k => Convert.ToHexStringLower(_store.GetAsync(k, CancellationToken.None).Result), StringComparer.Ordinal);

    private string Tamper(string id, string field, string value) => Tamper(_store, id, field, value);

    /// <summary>Sets a field (a dotted path) of a key file and moves it to its new content hash; "flip" flips a bit of a base64 value.</summary>
    internal static string Tamper(InMemoryObjectStore store, string id, string field, string value)
    {
        var json = JsonNode.Parse(store.GetAsync("keys/" + id, CancellationToken.None).Result)!.AsObject();
        var path = field.Split('.');
        var parent = path.Length == 1 ? json : json[path[0]]!.AsObject();
        if (value == "flip")
        {
            var bytes = Convert.FromBase64String((string)parent[path[^1]]!);
            bytes[0] ^= 0x80;
            parent[path[^1]] = Convert.ToBase64String(bytes);
        }
        else
        {
            parent[path[^1]] = JsonNode.Parse(value);
        }

        var content = Encoding.UTF8.GetBytes(json.ToJsonString());
        var newId = Convert.ToHexStringLower(SHA256.HashData(content));
        store.DeleteAsync(["keys/" + id], CancellationToken.None).Wait();
        store.Plant("keys/" + newId, content);
        return newId;
    }
}
