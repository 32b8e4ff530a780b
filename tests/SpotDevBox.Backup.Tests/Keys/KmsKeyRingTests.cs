using System.Text.Json.Nodes;
using Amazon;
using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using Microsoft.Extensions.Time.Testing;
using SpotDevBox.Aws.Keys;
using SpotDevBox.Backup.Keys;
using SpotDevBox.Backup.Tests.Repository;
using TestSupport;

namespace SpotDevBox.Backup.Tests.Keys;

/// <summary>KMS key files against moto's KMS (which checks encryption contexts; it does not evaluate key policies).</summary>
[Collection("moto")]
public sealed class KmsKeyRingTests(MotoFixture moto) : IAsyncLifetime, IDisposable
{
    private readonly InMemoryObjectStore _store = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 9, 30, 15, TimeSpan.Zero));
    private readonly byte[] _master = Enumerable.Range(0, 64).Select(i => (byte)(255 - i)).ToArray();
    private readonly IReadOnlyDictionary<string, string> _aliceDev = KeyRing.BoxContext("5f0c1a", "alice", "dev");
    private KmsKeyService? _kms;
    private string _keyArn = "";

    public async Task InitializeAsync()
    {
        await moto.ResetAsync();
        using var client = Client();
        _keyArn = (await client.CreateKeyAsync(new CreateKeyRequest { Description = "spotdevbox repositories" })).KeyMetadata.Arn;
        _kms = new KmsKeyService(_ => moto.Endpoint, _ => RegionEndpoint.GetBySystemName(MotoFixture.Region), S3PeerFixture.Credentials);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => _kms?.Dispose();

    private KeyRing Ring() => new(_store, _time, _kms);

    [Fact]
    public async Task OpenWithKmsAsync_SameContext_ReturnsTheMasterKey()
    {
        var id = await Ring().AddKmsAsync(_master, _keyArn, _aliceDev, "alice@dev", CancellationToken.None);

        var opened = await Ring().OpenWithKmsAsync(KeyRing.BoxContext("5f0c1a", "alice", "dev"), CancellationToken.None);

        Assert.Equal(id, opened.KeyId);
        Assert.Equal(_master, opened.MasterKey);
    }

    [Fact]
    public async Task AddKmsAsync_RecordsTheArnAndTheContext_NotTheMasterKey()
    {
        var id = await Ring().AddKmsAsync(_master, _keyArn, _aliceDev, "alice@dev", CancellationToken.None);

        var json = JsonNode.Parse(await _store.GetAsync("keys/" + id, CancellationToken.None))!;
        Assert.Equal("kms", (string)json["kind"]!);
        Assert.Equal(_keyArn, (string)json["kms"]!["key_arn"]!);
        Assert.Equal("5f0c1a", (string)json["kms"]!["context"]!["spotdevbox:repository"]!);
        Assert.Equal("alice/dev", (string)json["kms"]!["context"]!["spotdevbox:box"]!);
        Assert.Equal(32, Convert.FromBase64String((string)json["seal"]!).Length);
        Assert.DoesNotContain(Convert.ToBase64String(_master), json.ToJsonString(), StringComparison.Ordinal);
        Assert.Null(json["argon2id"]);
    }

    [Fact]
    public async Task DecryptAsync_OtherContext_InvalidCiphertext()
    {
        var encrypted = await _kms!.EncryptAsync(_keyArn, _master, _aliceDev, CancellationToken.None);

        var e = await Assert.ThrowsAsync<KeyServiceException>(() =>
            _kms.DecryptAsync(_keyArn, encrypted.Ciphertext, KeyRing.BoxContext("5f0c1a", "bob", "dev"), CancellationToken.None));

        Assert.Equal(KeyServiceFailure.InvalidCiphertext, e.Failure);
        Assert.Equal(_master, await _kms.DecryptAsync(_keyArn, encrypted.Ciphertext, _aliceDev, CancellationToken.None));
    }

    /// <summary>Alice's key file relabelled as Bob's box: KMS, asked with Bob's context, refuses; the error names the key and the context.</summary>
    [Fact]
    public async Task OpenWithKmsAsync_KeyFileMovedToAnotherBoxContext_RefusedNamingKeyAndContext_NothingWritten()
    {
        var id = await Ring().AddKmsAsync(_master, _keyArn, _aliceDev, "alice@dev", CancellationToken.None);
        KeyRingTests.Tamper(_store, id, "kms.context", """{"spotdevbox:box":"bob/dev","spotdevbox:repository":"5f0c1a"}""");
        var before = _store.Keys.Order(StringComparer.Ordinal).ToArray();

        var e = await Assert.ThrowsAsync<KeyRingException>(() => Ring().OpenWithKmsAsync(KeyRing.BoxContext("5f0c1a", "bob", "dev"), CancellationToken.None));

        Assert.Equal(
            $"KMS refused to decrypt with key {_keyArn} and context {{spotdevbox:box=bob/dev, spotdevbox:repository=5f0c1a}} (InvalidCiphertextException): check that the key policy lets you use this key with this context",
            e.Message);
        Assert.Equal(before, _store.Keys.Order(StringComparer.Ordinal).ToArray());
    }

    [Fact]
    public async Task OpenWithKmsAsync_NoKeyFileForTheContext_SaysWhichContext()
    {
        await Ring().AddKmsAsync(_master, _keyArn, _aliceDev, "alice@dev", CancellationToken.None);

        var e = await Assert.ThrowsAsync<KeyRingException>(() => Ring().OpenWithKmsAsync(KeyRing.BoxContext("5f0c1a", "bob", "dev"), CancellationToken.None));

        Assert.Equal("no KMS key file is recorded for context {spotdevbox:box=bob/dev, spotdevbox:repository=5f0c1a}: open the repository another way and add one", e.Message);
    }

    [Theory]
    [InlineData("label", "\"mallory@dev\"")]
    [InlineData("created", "\"2027-01-01T00:00:00+00:00\"")]
    [InlineData("seal", "flip")]
    public async Task OpenWithKmsAsync_FieldTamperedAndRenamed_RefusedAsAltered(string field, string value)
    {
        var id = await Ring().AddKmsAsync(_master, _keyArn, _aliceDev, "alice@dev", CancellationToken.None);
        var newId = KeyRingTests.Tamper(_store, id, field, value);

        var e = await Assert.ThrowsAsync<KeyRingException>(() => Ring().OpenWithKmsAsync(_aliceDev, CancellationToken.None));

        Assert.Equal(
            $"key file keys/{newId} was altered (its fields do not match what KMS decrypted): remove it and add the key again",
            e.Message);
    }

    [Fact]
    public async Task OpenWithKmsAsync_WrappedBlobFlipped_RefusedByKms()
    {
        var id = await Ring().AddKmsAsync(_master, _keyArn, _aliceDev, "alice@dev", CancellationToken.None);
        KeyRingTests.Tamper(_store, id, "wrapped", "flip");

        var e = await Assert.ThrowsAsync<KeyRingException>(() => Ring().OpenWithKmsAsync(_aliceDev, CancellationToken.None));

        Assert.StartsWith($"KMS refused to decrypt with key {_keyArn} and context {{spotdevbox:box=alice/dev, spotdevbox:repository=5f0c1a}}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddKmsAsync_KeyThatDoesNotExist_RefusedNamingKeyAndContext_NothingWritten()
    {
        var missing = _keyArn[..(_keyArn.LastIndexOf('/') + 1)] + "00000000-0000-0000-0000-000000000000";

        var e = await Assert.ThrowsAsync<KeyRingException>(() => Ring().AddKmsAsync(_master, missing, _aliceDev, "alice@dev", CancellationToken.None));

        Assert.StartsWith($"KMS refused to encrypt with key {missing} and context {{spotdevbox:box=alice/dev, spotdevbox:repository=5f0c1a}} (", e.Message, StringComparison.Ordinal);
        Assert.EndsWith("); nothing was written: check that you may use this key with this context", e.Message, StringComparison.Ordinal);
        Assert.Empty(_store.Keys);
    }

    [Fact]
    public async Task OpenWithKmsAsync_PassphraseAndKmsKeys_KmsOpensWithoutThePassphrase()
    {
        await Ring().AddPassphraseAsync(_master, "a passphrase", "alice@laptop", KeyRingTests.Fast, CancellationToken.None);
        var kmsId = await Ring().AddKmsAsync(_master, _keyArn, _aliceDev, "alice@dev", CancellationToken.None);

        var opened = await Ring().OpenWithKmsAsync(_aliceDev, CancellationToken.None);

        Assert.Equal(kmsId, opened.KeyId);
        Assert.Equal(_master, opened.MasterKey);
    }

    [Fact]
    public async Task CreateKmsAsync_SameContext_OpensToTheGeneratedMasterKey()
    {
        var created = await Ring().CreateKmsAsync(_keyArn, _aliceDev, "alice@dev", CancellationToken.None);

        var opened = await Ring().OpenWithKmsAsync(KeyRing.BoxContext("5f0c1a", "alice", "dev"), CancellationToken.None);

        Assert.Equal(64, created.MasterKey.Length);
        Assert.Contains(created.MasterKey, b => b != 0);
        Assert.Equal(created.KeyId, opened.KeyId);
        Assert.Equal(created.MasterKey, opened.MasterKey);
        Assert.Equal([created.KeyId], _store.Keys.Select(k => k["keys/".Length..]));
    }

    /// <summary>Given an alias, the file records the key's ARN, in the same format as a key added with AddKmsAsync.</summary>
    [Fact]
    public async Task CreateKmsAsync_ByAlias_WritesTheSameFormatAsAddKms_RecordingTheArn()
    {
        using (var client = Client())
        {
            await client.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/spotdevbox/repositories", TargetKeyId = _keyArn });
        }

        var created = await Ring().CreateKmsAsync("alias/spotdevbox/repositories", _aliceDev, "alice@dev", CancellationToken.None);
        var added = await Ring().AddKmsAsync(created.MasterKey, _keyArn, _aliceDev, "alice@dev", CancellationToken.None);

        var createdJson = JsonNode.Parse(await _store.GetAsync("keys/" + created.KeyId, CancellationToken.None))!.AsObject();
        var addedJson = JsonNode.Parse(await _store.GetAsync("keys/" + added, CancellationToken.None))!.AsObject();
        Assert.Equal(_keyArn, (string)createdJson["kms"]!["key_arn"]!);
        Assert.Equal(addedJson.Select(p => p.Key), createdJson.Select(p => p.Key));
        foreach (var field in new[] { "version", "kind", "created", "label", "kms" })
        {
            Assert.Equal(addedJson[field]!.ToJsonString(), createdJson[field]!.ToJsonString());
        }

        Assert.DoesNotContain(Convert.ToBase64String(created.MasterKey), createdJson.ToJsonString(), StringComparison.Ordinal);
    }

    /// <summary>A generated master key's key file relabelled as Bob's box: KMS, asked with Bob's context, refuses; nothing is written.</summary>
    [Fact]
    public async Task CreateKmsAsync_KeyFileOpenedWithAnotherBoxContext_RefusedNamingKeyAndContext_NothingWritten()
    {
        var created = await Ring().CreateKmsAsync(_keyArn, _aliceDev, "alice@dev", CancellationToken.None);
        KeyRingTests.Tamper(_store, created.KeyId, "kms.context", """{"spotdevbox:box":"bob/dev","spotdevbox:repository":"5f0c1a"}""");
        var before = _store.Keys.Order(StringComparer.Ordinal).ToArray();

        var e = await Assert.ThrowsAsync<KeyRingException>(() => Ring().OpenWithKmsAsync(KeyRing.BoxContext("5f0c1a", "bob", "dev"), CancellationToken.None));

        Assert.Equal(
            $"KMS refused to decrypt with key {_keyArn} and context {{spotdevbox:box=bob/dev, spotdevbox:repository=5f0c1a}} (InvalidCiphertextException): check that the key policy lets you use this key with this context",
            e.Message);
        Assert.Equal(before, _store.Keys.Order(StringComparer.Ordinal).ToArray());
    }

    [Fact]
    public async Task GenerateDataKeyAsync_OtherBoxContext_InvalidCiphertext()
    {
        var generated = await _kms!.GenerateDataKeyAsync(_keyArn, 64, _aliceDev, CancellationToken.None);

        var e = await Assert.ThrowsAsync<KeyServiceException>(() =>
            _kms.DecryptAsync(_keyArn, generated.Ciphertext, KeyRing.BoxContext("5f0c1a", "bob", "dev"), CancellationToken.None));

        Assert.Equal(KeyServiceFailure.InvalidCiphertext, e.Failure);
        Assert.Equal(_keyArn, generated.KeyArn);
        Assert.Equal(generated.Plaintext, await _kms.DecryptAsync(_keyArn, generated.Ciphertext, _aliceDev, CancellationToken.None));
    }

    [Fact]
    public async Task CreateKmsAsync_KeyThatDoesNotExist_RefusedNamingKeyAndContext_NothingWritten()
    {
        var missing = _keyArn[..(_keyArn.LastIndexOf('/') + 1)] + "00000000-0000-0000-0000-000000000000";

        var e = await Assert.ThrowsAsync<KeyRingException>(() => Ring().CreateKmsAsync(missing, _aliceDev, "alice@dev", CancellationToken.None));

        Assert.StartsWith($"KMS refused to generate a master key with key {missing} and context {{spotdevbox:box=alice/dev, spotdevbox:repository=5f0c1a}} (", e.Message, StringComparison.Ordinal);
        Assert.EndsWith("); nothing was written: check that you may use this key with this context", e.Message, StringComparison.Ordinal);
        Assert.Empty(_store.Keys);
    }

    private AmazonKeyManagementServiceClient Client() =>
        new(S3PeerFixture.Credentials, new AmazonKeyManagementServiceConfig { ServiceURL = moto.Endpoint, AuthenticationRegion = MotoFixture.Region });
}
