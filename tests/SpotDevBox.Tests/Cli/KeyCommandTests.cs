using Microsoft.Extensions.Time.Testing;
using SpotDevBox.Backup.Keys;
using SpotDevBox.Backup.Storage;
using TestSupport;

namespace SpotDevBox.Tests.Cli;

/// <summary>
/// key list, add, remove and passwd run as a user runs them, on a local repository whose key files the test writes
/// through KeyRing (cheap Argon2id: the library's floor). The CLI's own passphrase keys are made as cheap through
/// Keys:Argon2id.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class KeyCommandTests : IDisposable
{
    internal const string RepositoryId = "0123456789abcdef0123456789abcdef";
    internal static readonly Argon2idParameters Cheap = new(Argon2idParameters.MinMemoryKib, Argon2idParameters.MinIterations);

    private readonly TempDir _temp = new("spotdevbox-keys-");
    private readonly byte[] _master = Enumerable.Range(0, 64).Select(i => (byte)(i * 3)).ToArray();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 9, 30, 15, TimeSpan.Zero));

    private string Repo => _temp.Sub("repo");

    private KeyRing Ring() => new(new LocalDirectoryObjectStore(Repo), _time);

    internal static SpotDevBoxProcess Cli(TempDir temp) => new SpotDevBoxProcess(temp.Sub("state"))
        .Set("SPOTDEVBOX_Keys__Argon2id__MemoryKiB", Argon2idParameters.MinMemoryKib.ToString(System.Globalization.CultureInfo.InvariantCulture))
        .Set("SPOTDEVBOX_Keys__Argon2id__Iterations", Argon2idParameters.MinIterations.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private SpotDevBoxProcess Cli(string? password = null) => Cli(_temp).Set("SPOTDEVBOX_PASSWORD", password);

    /// <summary>A version-2 config as `init` writes it (by hand: the key verbs read only id and version).</summary>
    internal static void WriteConfig(string repo, int version = 2)
    {
        Directory.CreateDirectory(repo);
        File.WriteAllText(Path.Combine(repo, "config"),
            $$"""{"version":{{version}},"id":"{{RepositoryId}}","created":"2026-03-01T09:00:00+00:00","chunk_min":262144,"chunk_average":1048576,"chunk_max":4194304}""");
    }

    /// <summary>A repository with passphrase keys for "first secret" (label alice@laptop) and "second secret" (bob@laptop).</summary>
    private async Task<(string First, string Second)> TwoKeysAsync()
    {
        WriteConfig(Repo);
        var first = await Ring().AddPassphraseAsync(_master, "first secret", "alice@laptop", Cheap, CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(5));
        var second = await Ring().AddPassphraseAsync(_master, "second secret", "bob@laptop", Cheap, CancellationToken.None);
        return (first, second);
    }

    private static string[] Sorted(params string[] ids) => [.. ids.Order(StringComparer.Ordinal)];

    private string[] KeyFiles() => [.. Directory.GetFiles(Path.Combine(Repo, "keys")).Select(Path.GetFileName).Order(StringComparer.Ordinal)!];

    private string PasswordFile(string name, string content)
    {
        var path = _temp.Sub(name);
        File.WriteAllText(path, content + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }

    [Fact]
    public async Task List_WithoutAKey_ShowsShortIdsKindLabelTimeAndNamesAnUnreadableFile()
    {
        var (first, second) = await TwoKeysAsync();
        await File.WriteAllTextAsync(Path.Combine(Repo, "keys", "deadbeefdeadbeef"), "{}");

        var result = await Cli().RunAsync("key", "list", "--repo", Repo);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains(result.StdoutLines, l => l.Contains(first[..8], StringComparison.Ordinal) && l.Contains("passphrase", StringComparison.Ordinal)
            && l.Contains("alice@laptop", StringComparison.Ordinal) && l.Contains("2026-03-01 09:30:15", StringComparison.Ordinal));
        Assert.Contains(result.StdoutLines, l => l.Contains(second[..8], StringComparison.Ordinal) && l.Contains("bob@laptop", StringComparison.Ordinal)
            && l.Contains("2026-03-01 09:35:15", StringComparison.Ordinal));
        Assert.Contains(result.StdoutLines, l => l.Contains("deadbeef", StringComparison.Ordinal) && l.Contains("unreadable", StringComparison.Ordinal));
        Assert.DoesNotContain(first, result.Stdout, StringComparison.Ordinal);
        Assert.Contains("3 keys, 1 unreadable", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("*", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_JsonWithThePassphrase_FullIdsAndTheKeyThatOpenedMarked()
    {
        var (first, second) = await TwoKeysAsync();

        var result = await Cli("second secret").RunAsync("key", "list", "--repo", Repo, "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        Assert.Equal(second, json.GetProperty("opened").GetString());
        var keys = json.GetProperty("keys").EnumerateArray().ToList();
        Assert.Equal(Sorted(first, second), keys.Select(k => k.GetProperty("id").GetString()!).Order(StringComparer.Ordinal));
        var bob = keys.Single(k => k.GetProperty("id").GetString() == second);
        Assert.Equal(second[..8], bob.GetProperty("short_id").GetString());
        Assert.Equal("passphrase", bob.GetProperty("kind").GetString());
        Assert.Equal("bob@laptop", bob.GetProperty("label").GetString());
        Assert.True(bob.GetProperty("opened").GetBoolean());
        Assert.False(keys.Single(k => k.GetProperty("id").GetString() == first).GetProperty("opened").GetBoolean());
    }

    [Fact]
    public async Task List_UnencryptedRepository_SaysSoNamesMigrateExitsTwo()
    {
        WriteConfig(Repo);

        var result = await Cli().RunAsync("key", "list", "--repo", Repo);

        Assert.True(result.ExitCode == 2, result.ToString());
        var line = Assert.Single(result.StderrLines);
        Assert.Contains("is not encrypted (format version 2)", line, StringComparison.Ordinal);
        Assert.Contains("'spotdevbox migrate' encrypts it", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Add_NewPasswordFile_PrintsTheIdAndTheNewPassphraseOpensTheSameMasterKey()
    {
        var (first, second) = await TwoKeysAsync();
        var newFile = PasswordFile("new.txt", "third secret");

        var result = await Cli("first secret").RunAsync("key", "add", "--repo", Repo, "--new-password-file", newFile, "--label", "carol@desk");

        Assert.True(result.ExitCode == 0, result.ToString());
        var added = KeyFiles().Except([first, second]).Single();
        Assert.Equal($"added passphrase key {added}", result.StdoutLines.Single());
        var opened = await Ring().OpenWithPassphraseAsync("third secret", CancellationToken.None);
        Assert.Equal(added, opened.KeyId);
        Assert.Equal(_master, opened.MasterKey);
        var entry = (await Ring().ListAsync(CancellationToken.None)).Single(k => k.Id == added);
        Assert.Equal("carol@desk", entry.Label);
        Assert.DoesNotContain("secret", result.Stdout + result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Add_WithCheapArgon2idSetting_RecordsThoseParameters()
    {
        await TwoKeysAsync();
        var newFile = PasswordFile("new.txt", "third secret");

        var result = await Cli("first secret").RunAsync("key", "add", "--repo", Repo, "--new-password-file", newFile, "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var id = result.Json().GetProperty("id").GetString()!;
        using var file = System.Text.Json.JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(Repo, "keys", id)));
        var argon = file.RootElement.GetProperty("argon2id");
        Assert.Equal(19 * 1024, argon.GetProperty("memory_kib").GetInt32());
        Assert.Equal(2, argon.GetProperty("iterations").GetInt32());
    }

    [Fact]
    public async Task Add_WrongPassphrase_ExitsOneInOneLineWritesNothing()
    {
        var (first, second) = await TwoKeysAsync();
        var newFile = PasswordFile("new.txt", "third secret");

        var result = await Cli("not the secret").RunAsync("key", "add", "--repo", Repo, "--new-password-file", newFile);

        Assert.True(result.ExitCode == 1, result.ToString());
        var line = Assert.Single(result.StderrLines);
        Assert.Contains("wrong passphrase", line, StringComparison.Ordinal);
        Assert.Contains("nothing was written", line, StringComparison.Ordinal);
        Assert.DoesNotContain("not the secret", line, StringComparison.Ordinal);
        Assert.Equal(Sorted(first, second), KeyFiles());
    }

    [Fact]
    public async Task Add_NoNewPassphraseSource_RefusesWithoutReusingTheEnvironmentsExitsTwo()
    {
        var (first, second) = await TwoKeysAsync();

        var result = await Cli("first secret").RunAsync("key", "add", "--repo", Repo);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("no new password: give --new-password-file or --new-password-command", Assert.Single(result.StderrLines), StringComparison.Ordinal);
        Assert.Equal(Sorted(first, second), KeyFiles());
    }

    [Fact]
    public async Task Add_NewPasswordCommandFails_NamesTheNewOptionExitsOneWritesNothing()
    {
        var (first, second) = await TwoKeysAsync();

        var result = await Cli("first secret").RunAsync("key", "add", "--repo", Repo, "--new-password-command", "sh -c 'exit 3'");

        Assert.True(result.ExitCode == 1, result.ToString());
        var line = Assert.Single(result.StderrLines);
        Assert.Contains("--new-password-command exited with code 3", line, StringComparison.Ordinal);
        Assert.Contains("nothing was written", line, StringComparison.Ordinal);
        Assert.Equal(Sorted(first, second), KeyFiles());
    }

    [Fact]
    public async Task Add_NewPassphraseIsTheCurrentOne_ExitsTwoWritesNothing()
    {
        var (first, second) = await TwoKeysAsync();
        var same = PasswordFile("same.txt", "first secret");

        var result = await Cli("first secret").RunAsync("key", "add", "--repo", Repo, "--new-password-file", same);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("the new password is the one the repository was opened with", Assert.Single(result.StderrLines), StringComparison.Ordinal);
        Assert.Equal(Sorted(first, second), KeyFiles());
    }

    [Fact]
    public async Task Remove_AnotherKeyByPrefix_RemovesItAndSaysItDoesNotRevokeTheMasterKey()
    {
        var (first, second) = await TwoKeysAsync();

        var result = await Cli("first secret").RunAsync("key", "remove", second[..8], "--repo", Repo);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal([first], KeyFiles());
        Assert.Equal($"removed key {second}", result.StdoutLines[0]);
        Assert.Contains("does not revoke the master key", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("needs a new master key and a rewrite of the repository", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Remove_Json_NamesTheKeyAndThatItIsNotRevoked()
    {
        var (first, second) = await TwoKeysAsync();

        var result = await Cli("second secret").RunAsync("key", "remove", first, "--repo", Repo, "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(first, result.Json().GetProperty("removed").GetString());
        Assert.Contains("does not revoke the master key", result.Json().GetProperty("note").GetString(), StringComparison.Ordinal);
        Assert.Equal([second], KeyFiles());
    }

    [Theory]
    [InlineData("add", "--box", "alice/dev", "--password-file", "pass.txt")]
    [InlineData("add", "--to-kms-key", "alias/spotdevbox")]
    [InlineData("add", "--to-box", "alice")]
    [InlineData("add", "--to-kms-key", "alias/spotdevbox", "--to-box", "alice/dev", "--new-password-file", "new.txt")]
    [InlineData("add", "--new-password-file", "new.txt", "--new-password-command", "echo x")]
    [InlineData("add", "--new-password-file", "new.txt", "--label", "")]
    [InlineData("list", "--box", "alice")]
    [InlineData("passwd", "--box", "alice/dev", "--new-password-file", "new.txt")]
    public async Task Arguments_ThatDoNotGoTogether_ExitTwoInOneLineWriteNothing(params string[] args)
    {
        var (first, second) = await TwoKeysAsync();

        var result = await Cli("first secret").In(_temp.Path).RunAsync(["key", .. args, "--repo", Repo]);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Single(result.StderrLines, l => l.StartsWith("spotdevbox:", StringComparison.Ordinal) || l.StartsWith("Error:", StringComparison.Ordinal));
        Assert.Equal(Sorted(first, second), KeyFiles());
    }

    [Fact]
    public async Task Remove_TheKeyThatOpened_RefusedExitsTwoRemovesNothing()
    {
        var (first, second) = await TwoKeysAsync();

        var result = await Cli("first secret").RunAsync("key", "remove", first[..8], "--repo", Repo);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("is the one that opened the repository: open with another key", Assert.Single(result.StderrLines), StringComparison.Ordinal);
        Assert.Equal(Sorted(first, second), KeyFiles());
    }

    [Fact]
    public async Task Remove_TheLastUsableKey_RefusedExitsTwoRemovesNothing()
    {
        WriteConfig(Repo);
        var only = await Ring().AddPassphraseAsync(_master, "first secret", "alice@laptop", Cheap, CancellationToken.None);
        await File.WriteAllTextAsync(Path.Combine(Repo, "keys", "deadbeefdeadbeef"), "{}");

        var result = await Cli("first secret").RunAsync("key", "remove", only, "--repo", Repo);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("is the repository's last usable key", Assert.Single(result.StderrLines), StringComparison.Ordinal);
        Assert.Contains(only, KeyFiles());
    }

    [Fact]
    public async Task Remove_WrongPassphrase_ExitsOneRemovesNothing()
    {
        var (first, second) = await TwoKeysAsync();

        var result = await Cli("not the secret").RunAsync("key", "remove", second, "--repo", Repo);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("wrong passphrase", Assert.Single(result.StderrLines), StringComparison.Ordinal);
        Assert.Equal(Sorted(first, second), KeyFiles());
    }

    [Theory]
    [InlineData("0a1b2c")]
    [InlineData("0A1B2C3D")]
    public async Task Remove_IdShorterThanEightDigitsOrNotHex_ExitsTwoRemovesNothing(string id)
    {
        var (first, second) = await TwoKeysAsync();

        var result = await Cli("first secret").RunAsync("key", "remove", id, "--repo", Repo);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("at least 8 lowercase hex digits", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(Sorted(first, second), KeyFiles());
    }

    [Fact]
    public async Task Remove_NoSuchKey_ExitsTwoNamingKeyList()
    {
        var (first, second) = await TwoKeysAsync();

        var result = await Cli("first secret").RunAsync("key", "remove", "ffffffff", "--repo", Repo);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("there is no key ffffffff", Assert.Single(result.StderrLines), StringComparison.Ordinal);
        Assert.Equal(Sorted(first, second), KeyFiles());
    }

    [Fact]
    public async Task Passwd_ReplacesTheKeyThatOpenedWithTheNewPassphrase()
    {
        var (first, second) = await TwoKeysAsync();
        var newFile = PasswordFile("new.txt", "changed secret");

        var result = await Cli("first secret").RunAsync("key", "passwd", "--repo", Repo, "--new-password-file", newFile);

        Assert.True(result.ExitCode == 0, result.ToString());
        var files = KeyFiles();
        Assert.DoesNotContain(first, files);
        Assert.Contains(second, files);
        var added = Assert.Single(files.Except([second]));
        var opened = await Ring().OpenWithPassphraseAsync("changed secret", CancellationToken.None);
        Assert.Equal(added, opened.KeyId);
        Assert.Equal("alice@laptop", (await Ring().ListAsync(CancellationToken.None)).Single(k => k.Id == added).Label);
        await Assert.ThrowsAsync<KeyRingException>(() => Ring().OpenWithPassphraseAsync("first secret", CancellationToken.None));
    }

    [Fact]
    public async Task Add_Argon2idMemoryBelowTheFloor_InvalidConfigurationExitsTwo()
    {
        var (first, second) = await TwoKeysAsync();
        var newFile = PasswordFile("new.txt", "third secret");

        var result = await Cli("first secret").Set("SPOTDEVBOX_Keys__Argon2id__MemoryKiB", "1024")
            .RunAsync("key", "add", "--repo", Repo, "--new-password-file", newFile);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("Keys:Argon2id:MemoryKiB must be between 19456 and 1048576, got 1024", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(Sorted(first, second), KeyFiles());
    }

    public void Dispose() => _temp.Dispose();
}
