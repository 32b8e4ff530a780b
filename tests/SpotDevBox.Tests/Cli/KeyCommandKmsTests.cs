using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using Microsoft.Extensions.Time.Testing;
using SpotDevBox.Backup.Keys;
using SpotDevBox.Backup.Storage;
using TestSupport;

namespace SpotDevBox.Tests.Cli;

/// <summary>key add --to-kms-key and opening with --box, against moto's KMS (it checks encryption contexts).</summary>
[Collection("moto")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class KeyCommandKmsTests(MotoFixture moto) : IAsyncLifetime, IDisposable
{
    private readonly TempDir _temp = new("spotdevbox-keys-kms-");
    private readonly byte[] _master = Enumerable.Range(0, 64).Select(i => (byte)(200 - i)).ToArray();
    private string _keyArn = "";

    private string Repo => _temp.Sub("repo");

    public async Task InitializeAsync()
    {
        using var client = new AmazonKeyManagementServiceClient(S3PeerFixture.Credentials, new AmazonKeyManagementServiceConfig
        {
            ServiceURL = moto.Endpoint,
            AuthenticationRegion = MotoFixture.Region,
        });
        _keyArn = (await client.CreateKeyAsync(new CreateKeyRequest { Description = "spotdevbox key verbs" })).KeyMetadata.Arn;
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private SpotDevBoxProcess Cli() => KeyCommandTests.Cli(_temp)
        .Set("AWS_ACCESS_KEY_ID", S3PeerFixture.AccessKey)
        .Set("AWS_SECRET_ACCESS_KEY", S3PeerFixture.SecretKey)
        .Set("AWS_REGION", MotoFixture.Region)
        .Set("AWS_ENDPOINT_URL_KMS", moto.Endpoint);

    private async Task<string> PassphraseRepositoryAsync()
    {
        KeyCommandTests.WriteConfig(Repo, version: 3);
        var ring = new KeyRing(new LocalDirectoryObjectStore(Repo), new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 9, 30, 15, TimeSpan.Zero)));
        return await ring.AddPassphraseAsync(_master, "first secret", "alice@laptop", KeyCommandTests.Cheap, CancellationToken.None);
    }

    private string[] KeyFiles() => [.. Directory.GetFiles(Path.Combine(Repo, "keys")).Select(Path.GetFileName).Order(StringComparer.Ordinal)!];

    [Fact]
    public async Task AddToKms_ThenTheBoxOpensThroughKms_ListShowsArnAndContextAndMarksIt()
    {
        var passphraseKey = await PassphraseRepositoryAsync();

        var added = await Cli().Set("SPOTDEVBOX_PASSWORD", "first secret")
            .RunAsync("key", "add", "--repo", Repo, "--to-kms-key", _keyArn, "--to-box", "alice/dev", "--label", "alice/dev box", "--json");

        Assert.True(added.ExitCode == 0, added.ToString());
        var id = added.Json().GetProperty("id").GetString()!;
        Assert.Equal(new[] { passphraseKey, id }.Order(StringComparer.Ordinal), KeyFiles());

        var listed = await Cli().RunAsync("key", "list", "--repo", Repo, "--box", "alice/dev", "--json");

        Assert.True(listed.ExitCode == 0, listed.ToString());
        var json = listed.Json();
        Assert.Equal(id, json.GetProperty("opened").GetString());
        var kms = json.GetProperty("keys").EnumerateArray().Single(k => k.GetProperty("id").GetString() == id);
        Assert.Equal("kms", kms.GetProperty("kind").GetString());
        Assert.Equal(_keyArn, kms.GetProperty("key_arn").GetString());
        Assert.Equal(KeyCommandTests.RepositoryId, kms.GetProperty("context").GetProperty("spotdevbox:repository").GetString());
        Assert.Equal("alice/dev", kms.GetProperty("context").GetProperty("spotdevbox:box").GetString());
    }

    [Fact]
    public async Task OpenWithAnotherBoxsContext_RefusedExitsOneWritesNothing()
    {
        var passphraseKey = await PassphraseRepositoryAsync();
        var added = await Cli().Set("SPOTDEVBOX_PASSWORD", "first secret")
            .RunAsync("key", "add", "--repo", Repo, "--to-kms-key", _keyArn, "--to-box", "alice/dev");
        Assert.True(added.ExitCode == 0, added.ToString());
        var before = KeyFiles();
        var newFile = _temp.Sub("new.txt");
        File.WriteAllText(newFile, "bob's secret\n");
        File.SetUnixFileMode(newFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var result = await Cli().RunAsync("key", "add", "--repo", Repo, "--box", "bob/dev", "--new-password-file", newFile);

        Assert.True(result.ExitCode == 1, result.ToString());
        var line = Assert.Single(result.StderrLines);
        Assert.Contains("spotdevbox:box=bob/dev", line, StringComparison.Ordinal);
        Assert.Equal(before, KeyFiles());
        Assert.Contains(passphraseKey, before);
    }

    /// <summary>
    /// An owner's laptop, end to end through KMS: init --box makes a repository whose key KMS wraps under alice/dev's
    /// context, backup and restore --box use it with no passphrase anywhere, and bob's context opens nothing.
    /// </summary>
    [Fact]
    public async Task InitBackupRestore_WithBox_RoundTripsThroughKmsAndAnotherBoxIsRefusedWritingNothing()
    {
        var source = _temp.Sub("home");
        Directory.CreateDirectory(Path.Combine(source, "src"));
        File.WriteAllText(Path.Combine(source, "src", "main.c"), "int main(void) { return 0; }\n");
        File.WriteAllBytes(Path.Combine(source, "blob.bin"), Enumerable.Range(0, 300_000).Select(i => (byte)(i * 7)).ToArray());
        SpotDevBoxProcess Box() => Cli().Set("SPOTDEVBOX_Keys__KmsKeyArn", _keyArn);

        var init = await Box().RunAsync("init", "--repo", Repo, "--box", "alice/dev");
        var backup = await Box().RunAsync("backup", "--repo", Repo, "--box", "alice/dev", source);
        var restored = _temp.Sub("restored");
        var restore = await Box().RunAsync("restore", "--repo", Repo, "--box", "alice/dev", "--snapshot", "latest", "--target", restored);
        var otherTarget = _temp.Sub("bob");
        var bob = await Box().RunAsync("restore", "--repo", Repo, "--box", "bob/dev", "--snapshot", "latest", "--target", otherTarget);

        Assert.True(init.ExitCode == 0, init.ToString());
        Assert.True(backup.ExitCode == 0, backup.ToString());
        Assert.True(restore.ExitCode == 0, restore.ToString());
        var kmsKey = Assert.Single(KeyFiles());
        Assert.Contains("\"kind\": \"kms\"", File.ReadAllText(Path.Combine(Repo, "keys", kmsKey)), StringComparison.Ordinal);
        var restoredRoot = Path.Combine(restored, "home");
        Assert.Equal(File.ReadAllBytes(Path.Combine(source, "blob.bin")), File.ReadAllBytes(Path.Combine(restoredRoot, "blob.bin")));
        Assert.Equal("int main(void) { return 0; }\n", File.ReadAllText(Path.Combine(restoredRoot, "src", "main.c")));
        Assert.True(bob.ExitCode == 2, bob.ToString()); // a key that does not open is refused like bad input
        Assert.Contains("spotdevbox:box=bob/dev", bob.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(otherTarget), "a refused restore created its target");
    }

    public void Dispose() => _temp.Dispose();
}
