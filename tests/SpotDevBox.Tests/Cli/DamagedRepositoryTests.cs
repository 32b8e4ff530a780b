using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using SpotDevBox.Backup.Format;
using SpotDevBox.Backup.Repository;
using SpotDevBox.Backup.Storage;
using TestSupport;

namespace SpotDevBox.Tests.Cli;

/// <summary>
/// The real CLI against a local repository damaged behind its back: a flipped byte in a tree pack, and
/// the temporary files a backup killed mid-upload leaves in the repository directory.
/// </summary>
public sealed class DamagedRepositoryTests : IDisposable
{
    private const string TempSuffix = ".tmp-spotdevbox";

    private readonly TempDir _temp = new("spotdevbox-damage-");
    private readonly SpotDevBoxProcess _cli;

    public DamagedRepositoryTests() => _cli = new SpotDevBoxProcess(_temp.Sub("state"));

    private string Repo => _temp.Sub("repo");

    [Fact]
    public async Task Restore_SubdirectoryTreeDamaged_ExitsOneRestoresTheRestAndNamesTheDirectory()
    {
        await BackupSmallTreeAsync();
        var subTree = await DamageTreeAsync("src", "sub");
        var target = _temp.Sub("target");

        // Another machine's cache: the backup's own cache holds an intact copy of the tree pack.
        var result = await new SpotDevBoxProcess(_temp.Sub("other-machine")).RunAsync("restore", "--repo", Repo, "--target", target);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains($"error: the contents of directory 'src/sub' could not be restored: its tree {subTree.ShortHex} ", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("plain text", await File.ReadAllTextAsync(Path.Combine(target, "src", "notes.txt")));
        Assert.Contains("could NOT be restored", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_SubdirectoryTreeDamaged_ExitsOneNamingTheSnapshotAndTheDirectory()
    {
        var snapshot = await BackupSmallTreeAsync();
        var subTree = await DamageTreeAsync("src", "sub");

        var result = await _cli.RunAsync("check", "--repo", Repo);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains($"error: snapshot {snapshot[..8]}: directory 'src/sub' cannot be read (tree {subTree.ShortHex})", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Backup_KilledWhileWritingAPack_CheckNotesTheTemporaryFilesAndPruneRemovesThemOnceOld()
    {
        var source = _temp.Sub("big");
        Directory.CreateDirectory(source);
        for (var i = 0; i < 24; i++)
        {
            await File.WriteAllBytesAsync(Path.Combine(source, $"f{i:00}.bin"), RandomNumberGenerator.GetBytes(4 * 1024 * 1024));
        }

        // SIGKILL as soon as a temporary file shows up in data/: no handler or finally block can remove it.
        List<string> left = [];
        for (var attempt = 1; left.Count == 0; attempt++)
        {
            Assert.True(attempt <= 4, "no backup was caught while writing a pack");
            if (Directory.Exists(Repo))
            {
                Directory.Delete(Repo, recursive: true);
            }

            using var running = _cli.Start("backup", "--repo", Repo, "--init", source);
            while (!running.HasExited && TempFiles().Count == 0)
            {
                await Task.Delay(1);
            }

            running.Kill();
            var killed = await running.WaitAsync(SpotDevBoxProcess.DefaultTimeout);
            left = TempFiles();
            Assert.True(killed.ExitCode == CliResult.KilledBySigkill || left.Count == 0, killed.ToString());
        }

        var bytes = left.Sum(f => new FileInfo(f).Length);
        var check = await _cli.RunAsync("check", "--repo", Repo);
        Assert.True(check.ExitCode == 0, check.ToString());
        Assert.Contains($"warning: unfinished temporary files: {left.Count} ({bytes} bytes)", check.Stderr, StringComparison.Ordinal);

        // Minutes old at most: a writer may still own them (prune keeps what is younger than Backup:StaleLockAfter).
        var young = await _cli.RunAsync("prune", "--repo", Repo);
        Assert.True(young.ExitCode == 0, young.ToString());
        Assert.Contains($"kept {left.Count} unfinished temporary {(left.Count == 1 ? "file" : "files")} younger than 30 minutes", young.Stdout, StringComparison.Ordinal);
        Assert.Equal(left.Order(StringComparer.Ordinal), TempFiles().Order(StringComparer.Ordinal));

        foreach (var file in left)
        {
            // Two hours before its own last write: on the file system's clock, the one prune compares with.
            File.SetLastWriteTimeUtc(file, File.GetLastWriteTimeUtc(file).AddHours(-2));
        }

        var old = await _cli.RunAsync("prune", "--repo", Repo);
        Assert.True(old.ExitCode == 0, old.ToString());
        Assert.Contains($"removed {left.Count} unfinished temporary {(left.Count == 1 ? "file" : "files")}", old.Stdout, StringComparison.Ordinal);
        Assert.Empty(TempFiles());
        var after = await _cli.RunAsync("check", "--repo", Repo);
        Assert.DoesNotContain("temporary files", after.Stderr, StringComparison.Ordinal);
    }

    private List<string> TempFiles()
    {
        try
        {
            return Directory.Exists(Path.Combine(Repo, "data"))
                ? [.. Directory.EnumerateFiles(Path.Combine(Repo, "data"), "*" + TempSuffix, SearchOption.AllDirectories)]
                : [];
        }
        catch (Exception e) when (e is DirectoryNotFoundException or FileNotFoundException)
        {
            return []; // renamed or created while listed
        }
    }

    private async Task<string> BackupSmallTreeAsync()
    {
        var source = _temp.Sub("src");
        Directory.CreateDirectory(Path.Combine(source, "sub"));
        await File.WriteAllTextAsync(Path.Combine(source, "notes.txt"), "plain text");
        await File.WriteAllTextAsync(Path.Combine(source, "sub", "deep.txt"), "deep text");
        var backup = await _cli.RunAsync("backup", "--repo", Repo, "--init", "--json", source);
        Assert.True(backup.ExitCode == 0, backup.ToString());
        return backup.Json().GetProperty("snapshot_id").GetString()!;
    }

    /// <summary>Flips one byte in the middle of the tree blob that lists <paramref name="path"/>; returns the blob's id.</summary>
    private async Task<BlobId> DamageTreeAsync(params string[] path)
    {
        var repository = await BackupRepository.OpenAsync(
            new LocalDirectoryObjectStore(Repo), new BackupEngineOptions { CacheDirectory = _temp.Sub("test-cache") }, TimeProvider.System, NullLogger.Instance, TestKeys.Source, CancellationToken.None);
        await repository.LoadIndexAsync(CancellationToken.None);
        var id = (await repository.ResolveSnapshotAsync("latest", CancellationToken.None)).Manifest.Tree;
        foreach (var name in path)
        {
            id = (await repository.LoadTreeAsync(id, CancellationToken.None)).Nodes.Single(n => n.Name == name).Subtree!.Value;
        }

        Assert.True(repository.Index.TryGet(id, out var location));
        var pack = Path.Combine(Repo, Pack.Key(location.Pack));
        var bytes = await File.ReadAllBytesAsync(pack);
        bytes[location.Entry.Offset + (location.Entry.StoredLength / 2)] ^= 0x20;
        await File.WriteAllBytesAsync(pack, bytes);
        return id;
    }

    public void Dispose() => _temp.Dispose();
}
