using System.Text;
using TestSupport;

namespace SpotDevBox.Tests.Cli;

/// <summary>
/// The real CLI against an encrypted repository: a wrong or missing passphrase is refused with one line and exit 2,
/// changing nothing, and what the repository stores shows nothing of the files backed up, not even their names.
/// </summary>
public sealed class EncryptedRepositoryCliTests : IDisposable
{
    private const string SecretContent = "zebra-marmalade-7731 the developer's token";
    private const string SecretFileName = "unmistakable-filename-4471.txt";
    private const string SecretDirectoryName = "very-secret-dir-9912";
    private const string WrongPassphrase = "not-the-passphrase-5521";

    private readonly TempDir _temp = new("spotdevbox-encrypted-");
    private readonly SpotDevBoxProcess _cli;

    public EncryptedRepositoryCliTests() => _cli = new SpotDevBoxProcess(_temp.Sub("state"));

    private string Repo => _temp.Sub("repo");

    private string Source => _temp.Sub("src");

    public static TheoryData<string> Verbs => new() { "snapshots", "restore", "backup" };

    [Theory]
    [MemberData(nameof(Verbs))]
    public async Task Verb_WrongPassphrase_ExitsTwoWithOneLineAndWritesNothing(string verb)
    {
        await BackupAsync();
        var before = Listing(Repo);
        var target = Path.Combine(_temp.Path, "target");

        var result = await new SpotDevBoxProcess(_temp.Sub("other-machine")).Set("SPOTDEVBOX_PASSWORD", WrongPassphrase).RunAsync(Arguments(verb, target));

        Assert.True(result.ExitCode == 2, result.ToString());
        var line = Assert.Single(result.StderrLines);
        Assert.Contains("key did not open", line, StringComparison.Ordinal);
        Assert.DoesNotContain(WrongPassphrase, result.Stderr + result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(TestKeys.Passphrase, result.Stderr + result.Stdout, StringComparison.Ordinal);
        Assert.Equal(before, Listing(Repo));
        Assert.False(Directory.Exists(target));
    }

    [Theory]
    [MemberData(nameof(Verbs))]
    public async Task Verb_NoPassphraseAndStdinNotATerminal_ExitsTwoNamingTheThreeWaysAndWritesNothing(string verb)
    {
        await BackupAsync();
        var before = Listing(Repo);
        var target = Path.Combine(_temp.Path, "target");

        var result = await new SpotDevBoxProcess(_temp.Sub("other-machine")).Set("SPOTDEVBOX_PASSWORD", null).RunAsync(Arguments(verb, target));

        Assert.True(result.ExitCode == 2, result.ToString());
        var line = Assert.Single(result.StderrLines);
        Assert.Contains("SPOTDEVBOX_PASSWORD", line, StringComparison.Ordinal);
        Assert.Contains("--password-file", line, StringComparison.Ordinal);
        Assert.Contains("--password-command", line, StringComparison.Ordinal);
        Assert.Equal(before, Listing(Repo));
        Assert.False(Directory.Exists(target));
    }

    [Theory]
    [InlineData("init")]
    [InlineData("backup")]
    public async Task Create_NoPassphraseAndStdinNotATerminal_ExitsTwoAndLeavesNotEvenTheRepositorysFolder(string verb)
    {
        var repo = Path.Combine(_temp.Path, "new-repo");
        var source = _temp.Sub("new-source");
        Directory.CreateDirectory(source);
        string[] arguments = verb == "init" ? ["init", "--repo", repo] : ["backup", "--repo", repo, "--init", source];

        var result = await new SpotDevBoxProcess(_temp.Sub("no-passphrase")).Set("SPOTDEVBOX_PASSWORD", null).RunAsync(arguments);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("SPOTDEVBOX_PASSWORD", Assert.Single(result.StderrLines), StringComparison.Ordinal);
        Assert.False(Directory.Exists(repo), "a refused creation left the repository's folder behind");
    }

    [Fact]
    public async Task InitAndBackup_EveryStoredObject_HoldsNoContentAndNoNameOfTheFiles()
    {
        await BackupAsync();

        var files = Directory.GetFiles(Repo, "*", SearchOption.AllDirectories);
        Assert.Contains(files, f => f.Contains($"{Path.DirectorySeparatorChar}data{Path.DirectorySeparatorChar}", StringComparison.Ordinal));
        Assert.Contains(files, f => f.Contains($"{Path.DirectorySeparatorChar}snapshots{Path.DirectorySeparatorChar}", StringComparison.Ordinal));
        foreach (var file in files)
        {
            var bytes = await File.ReadAllBytesAsync(file);
            foreach (var secret in new[] { "zebra-marmalade-7731", SecretFileName, SecretDirectoryName, "unmistakable-filename" })
            {
                Assert.False(Contains(bytes, Encoding.UTF8.GetBytes(secret)), $"{Path.GetRelativePath(Repo, file)} holds '{secret}'");
                Assert.DoesNotContain(secret, file, StringComparison.Ordinal);
            }
        }

        // The same repository restores it: the objects are sealed, not lost.
        var restored = await _cli.RunAsync("restore", "--repo", Repo, "--target", _temp.Sub("target"));
        Assert.True(restored.ExitCode == 0, restored.ToString());
        Assert.Equal(SecretContent, await File.ReadAllTextAsync(Path.Combine(_temp.Path, "target", "src", SecretDirectoryName, SecretFileName)));
    }

    private string[] Arguments(string verb, string target) => verb switch
    {
        "snapshots" => ["snapshots", "--repo", Repo],
        "restore" => ["restore", "--repo", Repo, "--target", target],
        "backup" => ["backup", "--repo", Repo, Source],
        _ => throw new ArgumentOutOfRangeException(nameof(verb), verb, null),
    };

    private async Task BackupAsync()
    {
        Directory.CreateDirectory(Path.Combine(Source, SecretDirectoryName));
        await File.WriteAllTextAsync(Path.Combine(Source, SecretDirectoryName, SecretFileName), SecretContent);
        await File.WriteAllTextAsync(Path.Combine(Source, "notes.txt"), "plain text notes");
        var init = await _cli.RunAsync("init", "--repo", Repo);
        Assert.True(init.ExitCode == 0, init.ToString());
        var backup = await _cli.RunAsync("backup", "--repo", Repo, Source);
        Assert.True(backup.ExitCode == 0, backup.ToString());
    }

    /// <summary>Every file under <paramref name="root"/> with its size and its last write time.</summary>
    private static List<string> Listing(string root) =>
        [.. Directory.GetFileSystemEntries(root, "*", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal)
            .Select(p => File.Exists(p) ? $"{Path.GetRelativePath(root, p)} {new FileInfo(p).Length} {File.GetLastWriteTimeUtc(p).Ticks}" : Path.GetRelativePath(root, p) + "/")];

    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;

    public void Dispose() => _temp.Dispose();
}
