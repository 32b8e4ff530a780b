using System.Text.Json;
using System.Text.Json.Nodes;
using SpotDevBox.Backup.Format;
using SpotDevBox.Backup.Repository;
using SpotDevBox.Backup.Tests.Engine;
using TestSupport;

namespace SpotDevBox.Backup.Tests.Repository;

/// <summary>
/// Format versions: version 2 trees carry no per-machine identity and name hard link groups by a
/// snapshot path; a repository written by version 1 (Fixtures/repository-v1, made by the version 1
/// binary from a tree with a hard link pair, a symlink, an empty directory and a 0600 file) stays
/// readable, restorable and writable.
/// </summary>
public sealed class BackupRepositoryFormatTests : IDisposable
{
    private static readonly string Fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "repository-v1");
    private readonly TempDir _temp = new();

    [Fact]
    public async Task Restore_RepositoryWrittenByVersion1_RestoresContentModesAndHardLinks()
    {
        using var harness = EngineHarness.Existing(CopyFixture());

        var result = await harness.RestoreAsync(_temp.Sub("target"));

        Assert.Empty(result.Errors);
        var work = _temp.Sub("target/work");
        Assert.Equal("hello from the old format\n", await File.ReadAllTextAsync(Path.Combine(work, "a.txt")));
        Assert.Equal("hello from the old format\n", await File.ReadAllTextAsync(Path.Combine(work, "sub/a-link.txt")));
        var fs = new SpotDevBox.Backup.FileSystem.UnixFileSystem();
        Assert.Equal(fs.Lstat(Path.Combine(work, "a.txt")).Inode, fs.Lstat(Path.Combine(work, "sub/a-link.txt")).Inode);
        Assert.NotEqual(fs.Lstat(Path.Combine(work, "same1.txt")).Inode, fs.Lstat(Path.Combine(work, "sub/same2.txt")).Inode);
        Assert.Equal("a.txt", fs.ReadLink(Path.Combine(work, "link-to-a")));
        Assert.Equal(0x180u, fs.Lstat(Path.Combine(work, "sub/b.txt")).Mode);
        Assert.True(Directory.Exists(Path.Combine(work, "empty")));
    }

    [Fact]
    public async Task Backup_IntoVersion1Repository_UpgradesConfigAndBothSnapshotsRestore()
    {
        var repo = CopyFixture();
        using var harness = EngineHarness.Existing(repo);
        await harness.RestoreAsync(_temp.Sub("restored"));
        var work = _temp.Sub("restored/work");
        await File.WriteAllTextAsync(Path.Combine(work, "new.txt"), "written by version 2\n");

        var (backup, _) = await harness.BackupAsync(work);

        Assert.Equal(2, backup.Manifest.Version);
        // Version 1 binaries check only the config's version: it is what makes them refuse clearly.
        Assert.Equal(2, JsonNode.Parse(await File.ReadAllBytesAsync(Path.Combine(repo, "config")))!["version"]!.GetValue<int>());
        var snapshots = await (await harness.OpenAsync()).ListSnapshotsAsync(CancellationToken.None);
        Assert.Equal([1, 2], snapshots.Select(s => s.Manifest.Version));
        foreach (var snapshot in snapshots)
        {
            var target = _temp.Sub("again-" + snapshot.Manifest.Version);
            var result = await harness.RestoreAsync(target, snapshot.Id);
            Assert.Empty(result.Errors);
            var fs = new SpotDevBox.Backup.FileSystem.UnixFileSystem();
            Assert.Equal(fs.Lstat(Path.Combine(target, "work/a.txt")).Inode, fs.Lstat(Path.Combine(target, "work/sub/a-link.txt")).Inode);
        }

        Assert.Equal("written by version 2\n", await File.ReadAllTextAsync(_temp.Sub("again-2/work/new.txt")));
        Assert.True((await harness.CheckAsync(readData: true)).Ok);
    }

    [Fact]
    public async Task Backup_NewTrees_HoldNoMachineIdentityAndNameHardLinkGroupsByPath()
    {
        var source = _temp.Sub("src");
        Directory.CreateDirectory(Path.Combine(source, "sub"));
        await File.WriteAllTextAsync(Path.Combine(source, "z-first.txt"), "linked\n");
        File.CreateSymbolicLink(Path.Combine(source, "sym"), "z-first.txt");
        Assert.Equal(0, Mono.Unix.Native.Syscall.link(Path.Combine(source, "z-first.txt"), Path.Combine(source, "sub", "second.txt")));
        Assert.Equal(0, Mono.Unix.Native.Syscall.link(Path.Combine(source, "z-first.txt"), Path.Combine(source, "sub", "third.txt")));
        using var harness = await EngineHarness.LocalAsync(_temp.Sub("repo"));

        var (backup, _) = await harness.BackupAsync(source);

        var repository = await harness.OpenAsync();
        await repository.LoadIndexAsync(CancellationToken.None);
        var nodes = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        await CollectAsync(repository, backup.Manifest.Tree, "", nodes);
        Assert.Equal(["src", "src/sub", "src/sub/second.txt", "src/sub/third.txt", "src/sym", "src/z-first.txt"], nodes.Keys.Order(StringComparer.Ordinal));
        foreach (var (path, node) in nodes)
        {
            foreach (var field in new[] { "inode", "device", "ctime_ns", "links" })
            {
                Assert.False(node.ContainsKey(field), $"'{path}' has '{field}'");
            }
        }

        // The group is named by its first member in walk order (names sorted at each level, depth first).
        Assert.Equal("src/sub/second.txt", nodes["src/sub/second.txt"]["link"]!.GetValue<string>());
        Assert.Equal("src/sub/second.txt", nodes["src/sub/third.txt"]["link"]!.GetValue<string>());
        Assert.Equal("src/sub/second.txt", nodes["src/z-first.txt"]["link"]!.GetValue<string>());
        Assert.False(nodes["src/sym"].ContainsKey("link"));
    }

    [Fact]
    public async Task ListSnapshots_ManifestOfAnUnknownVersion_ReportedUnreadableNotMisread()
    {
        using var harness = await EngineHarness.LocalAsync(_temp.Sub("repo"), encrypted: false);
        var repository = await harness.OpenAsync();
        var id = await repository.SaveSnapshotAsync(
            new SnapshotManifest { Version = 4, Time = DateTimeOffset.UnixEpoch, Hostname = "future", Paths = ["/x"], Tree = BlobId.Compute([1]) },
            CancellationToken.None);

        var snapshots = await repository.ListSnapshotsAsync(CancellationToken.None);

        Assert.Empty(snapshots);
        var reason = Assert.Single(repository.UnreadableSnapshots);
        Assert.Equal($"snapshot {id[..8]} is unreadable: snapshot format version 4 is not supported by this build (it reads versions 1 to 3)", reason);
    }

    [Fact]
    public async Task Open_ConfigOfAnUnknownVersion_Refused()
    {
        var repo = CopyFixture();
        var config = JsonNode.Parse(await File.ReadAllBytesAsync(Path.Combine(repo, "config")))!;
        config["version"] = 4;
        await File.WriteAllTextAsync(Path.Combine(repo, "config"), config.ToJsonString());
        using var harness = EngineHarness.Existing(repo);

        var e = await Assert.ThrowsAsync<RepositoryException>(() => harness.OpenAsync());

        Assert.Equal("repository format version 4 is not supported by this build (it reads versions 1 to 3): update spotdevbox", e.Message);
    }

    private static async Task CollectAsync(BackupRepository repository, BlobId tree, string prefix, Dictionary<string, JsonObject> nodes)
    {
        var json = JsonNode.Parse(await repository.LoadBlobAsync(tree, BlobType.Tree, CancellationToken.None))!;
        foreach (var node in json["nodes"]!.AsArray().Select(n => n!.AsObject()))
        {
            var path = prefix + node["name"]!.GetValue<string>();
            nodes[path] = node;
            if (node["subtree"] is { } subtree && BlobId.TryParse(subtree.GetValue<string>(), out var id))
            {
                await CollectAsync(repository, id, path + "/", nodes);
            }
        }
    }

    private string CopyFixture()
    {
        var target = _temp.Sub("repo-v1");
        foreach (var file in Directory.GetFiles(Fixture, "*", SearchOption.AllDirectories))
        {
            var to = Path.Combine(target, Path.GetRelativePath(Fixture, file));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }

        return target;
    }

    public void Dispose() => _temp.Dispose();
}
