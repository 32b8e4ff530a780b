using Microsoft.Extensions.Logging.Abstractions;
using SpotDevBox.Backup.Engine;
using SpotDevBox.Backup.FileSystem;
using SpotDevBox.Backup.Repository;
using SpotDevBox.Backup.Storage;
using TestSupport;

namespace SpotDevBox.Tests.Cli;

/// <summary>The real CLI's migrate against a local repository made by a build before version 3 (unencrypted, version 2).</summary>
public sealed class MigrateCommandTests : IDisposable
{
    private readonly TempDir _temp = new("spotdevbox-migrate-");
    private readonly SpotDevBoxProcess _cli;

    public MigrateCommandTests() => _cli = new SpotDevBoxProcess(_temp.Sub("state"));

    private string Repo => _temp.Sub("repo");

    private string Source => _temp.Sub("src");

    /// <summary>An unencrypted repository with one snapshot of a small tree, as builds before version 3 made it; returns the snapshot id.</summary>
    internal static async Task<string> UnencryptedRepositoryAsync(string repo, string source, string cache)
    {
        new TreeGenerator(3) { Files = 30, LargeFiles = 0 }.Generate(source);
        var store = new LocalDirectoryObjectStore(repo);
        var options = new BackupEngineOptions { CacheDirectory = cache };
        var repository = await BackupRepository.InitializeAsync(store, options, TimeProvider.System, NullLogger.Instance, CancellationToken.None);
        var result = await new BackupEngine(repository, new UnixFileSystem(), NullLogger<BackupEngine>.Instance).RunAsync(new BackupRequest { Paths = [source] }, CancellationToken.None);
        return result.SnapshotId;
    }

    [Fact]
    public async Task Migrate_UnencryptedRepository_EncryptsItRestoreAndCheckPassAndASecondRunIsRefused()
    {
        var old = await UnencryptedRepositoryAsync(Repo, Source, _temp.Sub("engine-cache"));

        var result = await _cli.RunAsync("migrate", "--repo", Repo);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"at {Repo} (format version 3): 1 snapshot,", result.Stdout, StringComparison.Ordinal);
        Assert.Contains($"snapshot {old[..8]} is now ", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"version\":3,", await File.ReadAllTextAsync(Path.Combine(Repo, "config")), StringComparison.Ordinal);
        var target = _temp.Sub("restored");
        var restore = await _cli.RunAsync("restore", "--repo", Repo, "--target", target);
        Assert.True(restore.ExitCode == 0, restore.ToString());
        Assert.Empty(TreeComparer.Compare(Source, Path.Combine(target, Path.GetFileName(Source))));
        var check = await _cli.RunAsync("check", "--repo", Repo, "--read-data");
        Assert.True(check.ExitCode == 0, check.ToString());
        var before = Listing();

        var again = await _cli.RunAsync("migrate", "--repo", Repo);

        Assert.True(again.ExitCode == 2, again.ToString());
        Assert.Contains("is already encrypted (format version 3): nothing to migrate, nothing was changed", again.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, Listing());
    }

    [Fact]
    public async Task Migrate_NoRepository_ExitsTwo()
    {
        Directory.CreateDirectory(Repo);

        var result = await _cli.RunAsync("migrate", "--repo", Repo);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("there is no repository at", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Repo));
    }

    [Fact]
    public async Task Migrate_AnAgentBacksUp_RefusedNamingItsLockAndNothingWritten()
    {
        await UnencryptedRepositoryAsync(Repo, Source, _temp.Sub("engine-cache"));
        var repository = await BackupRepository.OpenAsync(new LocalDirectoryObjectStore(Repo), new BackupEngineOptions { CacheDirectory = _temp.Sub("engine-cache") }, TimeProvider.System, NullLogger.Instance, CancellationToken.None);
        await using var agentLock = await RepositoryLock.AcquireAsync(repository, exclusive: false, "backup", CancellationToken.None);
        var before = Listing();

        var result = await _cli.RunAsync("migrate", "--repo", Repo);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains($"the repository is locked by 'backup' on {Environment.MachineName} (pid {Environment.ProcessId}", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("Stop that agent or command (or wait for it to finish) and run 'spotdevbox migrate' again", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, Listing());
    }

    private List<string> Listing() =>
        [.. Directory.GetFiles(Repo, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(Repo, p) + " " + new FileInfo(p).Length).Order(StringComparer.Ordinal)];

    public void Dispose() => _temp.Dispose();
}
