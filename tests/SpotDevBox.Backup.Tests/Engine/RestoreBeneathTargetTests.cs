using System.Security.Cryptography;
using Mono.Unix.Native;
using SpotDevBox.Backup.Engine;
using SpotDevBox.Backup.FileSystem;
using TestSupport;

namespace SpotDevBox.Backup.Tests.Engine;

/// <summary>
/// A local writer that swaps a directory of the target for a symlink to a directory outside it, at the
/// moment restore has resolved the directory and is about to create, rename, link, change or remove
/// something in it. Nothing outside the target may change, and the entry is reported, not written.
/// </summary>
public sealed class RestoreBeneathTargetTests : IDisposable
{
    private static readonly DateTime OldTime = new(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc);
    private readonly TempDir _temp = new();

    private static void Chmod(string path, string octal) => Assert.Equal(0, Syscall.chmod(path, (FilePermissions)Convert.ToUInt32(octal, 8)));

    private string Target => _temp.Sub("out");

    private string Outside => _temp.Sub("outside");

    private string SwappedDir => Path.Combine(Target, "work/d");

    /// <summary>
    /// Backs up work/{a-hard, d/file.txt, d/same.txt, d/hard2 (another name of a-hard), d/link, d/sub/, d/newdir/},
    /// restores it, then changes the restored copy so that an --overwrite --delete restore has to do every
    /// kind of step inside work/d. The outside directory holds entries of the same names for a write to land on.
    /// </summary>
    private async Task<EngineHarness> PreparedAsync()
    {
        var source = _temp.Sub("work");
        Directory.CreateDirectory(Path.Combine(source, "d/sub"));
        Directory.CreateDirectory(Path.Combine(source, "d/newdir"));
        await File.WriteAllTextAsync(Path.Combine(source, "a-hard"), "linked content");
        Assert.Equal(0, Syscall.link(Path.Combine(source, "a-hard"), Path.Combine(source, "d/hard2")));
        await File.WriteAllTextAsync(Path.Combine(source, "d/file.txt"), "snapshot content");
        await File.WriteAllTextAsync(Path.Combine(source, "d/same.txt"), "same");
        File.CreateSymbolicLink(Path.Combine(source, "d/link"), "file.txt");
        Chmod(Path.Combine(source, "d/same.txt"), "644");
        Chmod(Path.Combine(source, "d/sub"), "755");

        var harness = await EngineHarness.LocalAsync(_temp.Sub("repo"));
        await harness.BackupAsync(source);
        var first = await harness.RestoreAsync(Target);
        Assert.Empty(first.Errors);

        var d = SwappedDir;
        await File.WriteAllTextAsync(Path.Combine(d, "file.txt"), "edited locally, a different size");
        Chmod(Path.Combine(d, "same.txt"), "600");
        Chmod(Path.Combine(d, "sub"), "700");
        if (Syscall.geteuid() == 0)
        {
            Assert.Equal(0, Syscall.lchown(Path.Combine(d, "same.txt"), 4321, 4321));
            Assert.Equal(0, Syscall.lchown(Path.Combine(d, "sub"), 4321, 4321));
        }

        File.Delete(Path.Combine(d, "hard2"));
        File.Delete(Path.Combine(d, "link"));
        Directory.Delete(Path.Combine(d, "newdir"));
        await File.WriteAllTextAsync(Path.Combine(d, "extra.txt"), "not in the snapshot");

        Directory.CreateDirectory(Path.Combine(Outside, "sub"));
        foreach (var name in new[] { "file.txt", "same.txt", "extra.txt", "hard2", "link" })
        {
            await File.WriteAllTextAsync(Path.Combine(Outside, name), "outside " + name);
            Chmod(Path.Combine(Outside, name), "640");
            File.SetLastWriteTimeUtc(Path.Combine(Outside, name), OldTime);
        }

        Chmod(Path.Combine(Outside, "sub"), "750");
        Directory.SetLastWriteTimeUtc(Path.Combine(Outside, "sub"), OldTime);
        Directory.SetLastWriteTimeUtc(Outside, OldTime);
        return harness;
    }

    /// <summary>Every entry under <paramref name="root"/> (and the root itself) with its type, mode, owner, mtime and content hash, as lstat sees it.</summary>
    private static List<string> Describe(string root)
    {
        var fs = new UnixFileSystem();
        var lines = new List<string>();
        void Add(string path)
        {
            var st = fs.Lstat(path);
            var content = st.Type == FileKind.RegularFile ? Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path))) : "";
            lines.Add($"{Path.GetRelativePath(root, path)} {st.Type} {Convert.ToString(st.Mode, 8)} {st.Uid}:{st.Gid} {st.MtimeNs} {st.Size} {content}");
        }

        Add(root);
        foreach (var entry in Directory.EnumerateFileSystemEntries(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            Add(entry);
        }

        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    /// <summary>Removes work/d (moving any temporary file restore made in it outside first) and puts a symlink to the outside directory in its place.</summary>
    private void SwapForSymlink(bool carryTemporaryFiles)
    {
        if (carryTemporaryFiles)
        {
            foreach (var temporary in Directory.EnumerateFiles(SwappedDir, ".sdb-restore-*"))
            {
                File.Move(temporary, Path.Combine(Outside, Path.GetFileName(temporary)));
            }
        }

        Directory.Delete(SwappedDir, recursive: true);
        File.CreateSymbolicLink(SwappedDir, Outside);
    }

    /// <summary>The restore's errors and warnings, or the message it failed with.</summary>
    private static async Task<List<string>> MessagesOfAsync(Func<Task<RestoreResult>> restore)
    {
        try
        {
            var result = await restore();
            return [.. result.Errors, .. result.Warnings];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [e.Message];
        }
    }

    [Theory]
    [InlineData("CreateDirectory", "work/d/newdir")]
    [InlineData("CreateFile", "work/d/file.txt")]
    [InlineData("Rename", "work/d/file.txt")]
    [InlineData("Metadata", "work/d/same.txt")]
    [InlineData("Metadata", "work/d/sub")]
    [InlineData("HardLink", "work/d/hard2")]
    [InlineData("Symlink", "work/d/link")]
    [InlineData("Delete", "work/d/extra.txt")]
    public async Task Restore_DirectorySwappedForSymlinkBeforeStep_ChangesNothingOutsideAndReportsTheEntry(string stepName, string entry)
    {
        var step = Enum.Parse<RestoreStep>(stepName);
        using var harness = await PreparedAsync();
        List<string>? outsideAfterSwap = null;

        var messages = await MessagesOfAsync(() => harness.RestoreAsync(Target, overwrite: true, delete: true, beforeStep: (s, relative) =>
        {
            // A file is created under a temporary name in its directory, then renamed to its own.
            var matches = relative == entry || (step == RestoreStep.CreateFile && s == step
                && Path.GetDirectoryName(relative) == Path.GetDirectoryName(entry) && Path.GetFileName(relative).StartsWith(".sdb-restore-", StringComparison.Ordinal));
            if (s == step && matches && outsideAfterSwap is null)
            {
                SwapForSymlink(carryTemporaryFiles: step == RestoreStep.Rename);
                outsideAfterSwap = Describe(Outside);
            }
        }));

        Assert.NotNull(outsideAfterSwap);
        Assert.Equal(outsideAfterSwap, Describe(Outside));
        Assert.Contains(messages, m => m.Contains(entry, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Restore_DirectoryFlippingWithSymlinkDuringOverwrite_NeverChangesAnythingOutside()
    {
        using var harness = await PreparedAsync();
        File.Delete(Path.Combine(SwappedDir, "extra.txt"));
        var outsideBefore = Describe(Outside);
        var parked = Path.Combine(Target, "work/d.parked");
        using var stop = new CancellationTokenSource();
        var flips = 0;
        var flipper = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    Directory.Move(SwappedDir, parked);
                    File.CreateSymbolicLink(SwappedDir, Outside);
                    Thread.Yield();
                    File.Delete(SwappedDir);
                    Directory.Move(parked, SwappedDir);
                    Interlocked.Increment(ref flips);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // the restore raced it (made work/d again while it was parked): put the parked one back
                    try
                    {
                        if (Directory.Exists(parked))
                        {
                            if (new FileInfo(SwappedDir).LinkTarget is not null)
                            {
                                File.Delete(SwappedDir);
                            }
                            else if (Directory.Exists(SwappedDir))
                            {
                                Directory.Delete(SwappedDir, recursive: true);
                            }

                            Directory.Move(parked, SwappedDir);
                        }
                    }
                    catch (Exception again) when (again is IOException or UnauthorizedAccessException)
                    {
                        // the next round tries again
                    }
                }
            }
        });

        // a count of rounds, not a time: a loaded machine (CI on two cores) gets as many rounds as an idle one;
        // the deadline is only a guard against a hang
        var runs = 0;
        var deadline = Environment.TickCount64 + 120_000;
        while ((runs < 12 || Volatile.Read(ref flips) < 12) && Environment.TickCount64 < deadline)
        {
            await File.WriteAllTextAsync(Path.Combine(Target, "work/a-hard"), "edited " + runs);
            await MessagesOfAsync(() => harness.RestoreAsync(Target, overwrite: true));
            runs++;
        }

        await stop.CancelAsync();
        await flipper;

        Assert.True(runs >= 12, $"only {runs} restores ran in two minutes");
        Assert.True(flips >= 12, $"only {flips} flips happened in two minutes");
        Assert.Equal(outsideBefore, Describe(Outside));
    }

    public void Dispose() => _temp.Dispose();
}
