using System.Runtime.Versioning;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;
using SpotDevBox.Agent;
using SpotDevBox.Backup.Engine;
using SpotDevBox.Backup.Repository;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Idle;
using SpotDevBox.Core.Interruption;
using TestSupport;

namespace SpotDevBox.Tests.Agent;

/// <summary>
/// The start-up restore runs as root with overwrite, from snapshots whoever can write the box's prefix
/// may have written. It restores only the configured paths, and installs only SSH host key files into
/// the host key directory. The "outside" places here stand in for /etc/sudoers.d, /root/.ssh and
/// /etc/shadow: all live in the test's temporary tree, which is checked after the restore.
/// </summary>
[UnsupportedOSPlatform("windows")]
public sealed class BootRestoreTrustTests : IDisposable
{
    private const int PathRefusedEventId = 3116;
    private const int HostKeyRefusedEventId = 3117;

    private readonly AgentParts _box = new();
    private readonly TempDir _temp = new("spotdevbox-trust-");

    /// <summary>Beside the home directory, so that "home/../etc/sudoers.d" names it.</summary>
    private string Outside => Path.Combine(Parent, "etc", "sudoers.d");

    private string Parent => Path.GetDirectoryName(_box.Home)!;

    public static TheoryData<string> RefusedPaths => new()
    {
        "{outside}",
        "{home}/../etc/sudoers.d",
        "{home}/./../etc/sudoers.d",
        "{parent}//etc/sudoers.d",
        "{parent}/etc/sudoers.d/",
        "etc/sudoers.d",
    };

    [Theory]
    [MemberData(nameof(RefusedPaths))]
    public async Task StartAsync_ManifestPathNotConfigured_RefusedLoggedAndTheConfiguredPathRestored(string manifestPath)
    {
        File.WriteAllText(Path.Combine(_box.Home, "notes.txt"), "my work\n");
        Directory.CreateDirectory(Outside);
        File.WriteAllText(Path.Combine(Outside, "evil"), "ALL ALL=(ALL) NOPASSWD: ALL\n");
        var crafted = manifestPath.Replace("{outside}", Outside, StringComparison.Ordinal)
            .Replace("{home}", _box.Home, StringComparison.Ordinal)
            .Replace("{parent}", Parent, StringComparison.Ordinal);
        await SnapshotAsync("repo", [_box.Home, Outside], manifestPaths: [_box.Home, crafted]);
        var original = _box.Home + "-earlier";
        Directory.Move(_box.Home, original);
        Directory.CreateDirectory(_box.Home);
        Directory.Delete(Path.Combine(Parent, "etc"), recursive: true);

        await BootRestore().StartAsync(CancellationToken.None);

        Assert.Empty(TreeComparer.Compare(original, _box.Home));
        Assert.False(Directory.Exists(Path.Combine(Parent, "etc")));
        var refused = Assert.Single(_box.Loggers.Entries, e => e.EventId == PathRefusedEventId);
        Assert.Equal(LogLevel.Error, refused.Level);
        Assert.Contains(crafted, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_ConfiguredPathIsASymlinkInTheSnapshot_RefusedAndLeftAsItIs()
    {
        Directory.CreateDirectory(Outside);
        var real = _box.Home + "-real";
        Directory.Move(_box.Home, real);
        File.CreateSymbolicLink(_box.Home, Outside);
        await SnapshotAsync("repo", [_box.Home]);
        File.Delete(_box.Home);
        Directory.CreateDirectory(_box.Home);

        await BootRestore().StartAsync(CancellationToken.None);

        Assert.Null(new DirectoryInfo(_box.Home).LinkTarget);
        Assert.Empty(Directory.GetFileSystemEntries(_box.Home));
        var refused = Assert.Single(_box.Loggers.Entries, e => e.EventId == PathRefusedEventId);
        Assert.Contains("symlink", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_HostKeySnapshotWithOtherEntries_OnlyHostKeyFilesInstalledWithSafeModes()
    {
        var craft = _temp.Path;
        var shadow = Path.Combine(Parent, "shadow");
        File.WriteAllText(shadow, "root:$6$secret:19000:0:99999:7:::\n");
        File.WriteAllText(Path.Combine(craft, "ssh_host_rsa_key"), "-----BEGIN OPENSSH PRIVATE KEY-----\nrsa\n-----END OPENSSH PRIVATE KEY-----\n");
        File.SetUnixFileMode(Path.Combine(craft, "ssh_host_rsa_key"), (UnixFileMode)0b111_111_111);
        if (_box.FileSystem.IsRoot)
        {
            // A restore as root gives files the owner the snapshot names: the key must still end up root's.
            _box.FileSystem.SetOwner(Path.Combine(craft, "ssh_host_rsa_key"), 1000, 1000);
        }
        File.WriteAllText(Path.Combine(craft, "ssh_host_rsa_key.pub"), "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJM8Nz4yV2sIrC07ILVxZNJrbJq5WBq8PFxERZsKv+YI root@box\n");
        File.SetUnixFileMode(Path.Combine(craft, "ssh_host_rsa_key.pub"), (UnixFileMode)0b111_111_111);
        File.WriteAllText(Path.Combine(craft, "authorized_keys"), "ssh-ed25519 AAAA attacker\n");
        File.CreateSymbolicLink(Path.Combine(craft, "ssh_host_ed25519_key"), shadow);
        Directory.CreateDirectory(Path.Combine(craft, "ssh_host_ecdsa_key"));
        File.WriteAllText(Path.Combine(craft, "ssh_host_ecdsa_key", "inner"), "x");
        File.WriteAllText(Path.Combine(craft, "sshd_config"), "PermitRootLogin yes\n");
        await SnapshotAsync("host-keys", [.. Directory.GetFileSystemEntries(craft)]);
        var keys = Path.Combine(Parent, "ssh");
        Directory.CreateDirectory(keys);
        _box.Options.HostKeys = true;
        _box.Options.HostKeyDirectory = keys;

        await BootRestore().StartAsync(CancellationToken.None);

        Assert.Equal(["ssh_host_rsa_key", "ssh_host_rsa_key.pub"], Directory.GetFileSystemEntries(keys).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        var key = Path.Combine(keys, "ssh_host_rsa_key");
        Assert.Equal((UnixFileMode)0b110_000_000, File.GetUnixFileMode(key));
        Assert.Equal((UnixFileMode)0b110_100_100, File.GetUnixFileMode(key + ".pub"));
        Assert.Contains("\nrsa\n", File.ReadAllText(key), StringComparison.Ordinal);
        Assert.Null(new FileInfo(key).LinkTarget);
        Assert.Equal(_box.FileSystem.IsRoot ? 0u : _box.FileSystem.Lstat(craft).Uid, _box.FileSystem.Lstat(key).Uid);
        Assert.Equal("root:$6$secret:19000:0:99999:7:::\n", File.ReadAllText(shadow));
        var refused = _box.Loggers.Entries.Where(e => e.EventId == HostKeyRefusedEventId).ToList();
        Assert.All(refused, e => Assert.Equal(LogLevel.Error, e.Level));
        Assert.Equal(4, refused.Count);
        foreach (var name in new[] { "authorized_keys", "ssh_host_ed25519_key", "ssh_host_ecdsa_key", "sshd_config" })
        {
            Assert.Contains(refused, e => e.Message.Contains($"entry {name}:", StringComparison.Ordinal));
        }

        Assert.False(Directory.Exists(Path.Combine(_box.Options.StateDirectory, "host-keys-staging")));
    }

    [Fact]
    public async Task StartAsync_FirstBootWithOtherFilesBesideTheKeys_SavesOnlyHostKeyFiles()
    {
        var keys = Path.Combine(Parent, "ssh");
        Directory.CreateDirectory(keys);
        File.WriteAllText(Path.Combine(keys, "ssh_host_ed25519_key"), "private\n");
        File.WriteAllText(Path.Combine(keys, "ssh_host_ed25519_key.pub"), "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJM8Nz4yV2sIrC07ILVxZNJrbJq5WBq8PFxERZsKv+YI root@box\n");
        File.WriteAllText(Path.Combine(keys, "ssh_host_dsa_key"), "a key type no restore accepts\n");
        File.WriteAllText(Path.Combine(Parent, "elsewhere"), "not a key\n");
        File.CreateSymbolicLink(Path.Combine(keys, "ssh_host_rsa_key"), Path.Combine(Parent, "elsewhere"));
        _box.Options.HostKeys = true;
        _box.Options.HostKeyDirectory = keys;

        await BootRestore().StartAsync(CancellationToken.None);

        var repository = await _box.Storage.OpenRepositoryAsync("host-keys", CancellationToken.None);
        var saved = Assert.Single(await repository.ListSnapshotsAsync(CancellationToken.None));
        Assert.Equal([Path.Combine(keys, "ssh_host_ed25519_key"), Path.Combine(keys, "ssh_host_ed25519_key.pub")], saved.Manifest.Paths);
    }

    /// <summary>
    /// A snapshot of <paramref name="paths"/> made by the backup engine, into the box's repository
    /// <paramref name="name"/>; with <paramref name="manifestPaths"/>, its manifest is then rewritten to
    /// name those paths, as a hostile writer of the prefix would, and saved as a newer snapshot.
    /// </summary>
    private async Task SnapshotAsync(string name, IReadOnlyList<string> paths, IReadOnlyList<string>? manifestPaths = null)
    {
        var repository = await _box.Storage.OpenRepositoryAsync(name, CancellationToken.None);
        var result = await new BackupEngine(repository, _box.FileSystem, NullLogger<BackupEngine>.Instance)
            .RunAsync(new BackupRequest { Paths = paths }, CancellationToken.None);
        if (manifestPaths is not null)
        {
            await repository.SaveSnapshotAsync(result.Manifest with { Paths = manifestPaths, Time = result.Manifest.Time.AddSeconds(1) }, CancellationToken.None);
        }

        Directory.Delete(_box.EngineOptions.ResolveCacheDirectory(), recursive: true);
    }

    private BootRestore BootRestore()
    {
        var metadata = new Mock<IMetadataClient>();
        metadata.Setup(m => m.GetIdentityAsync(It.IsAny<CancellationToken>()))
            .ReturnsAsync(new MetadataReading<InstanceIdentity>.Unknown("not on EC2"));
        var planner = new StopPlanner(
            new IdleMonitor([], _box.Time, NullLogger<IdleMonitor>.Instance),
            Mock.Of<IStopActions>(),
            Microsoft.Extensions.Options.Options.Create(new IdleOptions()),
            _box.Time,
            NullLogger<StopPlanner>.Instance);
        return new BootRestore(
            metadata.Object, _box.Storage, _box.Backups, _box.Board, _box.FileSystem, Microsoft.Extensions.Options.Options.Create(_box.Options), planner, _box.Time, _box.Loggers);
    }

    public void Dispose()
    {
        _box.Dispose();
        _temp.Dispose();
    }
}
