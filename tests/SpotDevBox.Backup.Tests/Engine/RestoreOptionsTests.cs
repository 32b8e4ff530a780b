using TestSupport;

namespace SpotDevBox.Backup.Tests.Engine;

public sealed class RestoreOptionsTests : IDisposable
{
    private readonly TempDir _temp = new();

    private async Task<(EngineHarness Harness, string Source)> BackedUpTreeAsync()
    {
        var source = _temp.Sub("work");
        foreach (var f in new[] { "src/a.cs", "src/b.cs", "src/deep/c.cs", "docs/readme.md", "notes.txt" })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(source, f))!);
            await File.WriteAllTextAsync(Path.Combine(source, f), "content of " + f);
        }

        var harness = await EngineHarness.LocalAsync(_temp.Sub("repo"));
        await harness.BackupAsync(source);
        return (harness, source);
    }

    private static string[] FilesUnder(string dir) =>
        [.. Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(dir, f)).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task Restore_Include_RestoresOnlyMatchesAndWhatIsUnderThem()
    {
        var (harness, _) = await BackedUpTreeAsync();
        using var _h = harness;

        await harness.RestoreAsync(_temp.Sub("out"), includes: ["work/src/deep", "*.md"]);

        Assert.Equal(["work/docs/readme.md", "work/src/deep/c.cs"], FilesUnder(_temp.Sub("out")));
    }

    [Fact]
    public async Task Restore_IntoNonEmptyDirectoryWithoutOverwrite_RefusesAndWritesNothing()
    {
        var (harness, _) = await BackedUpTreeAsync();
        using var _h = harness;
        var target = _temp.Sub("out");
        Directory.CreateDirectory(target);
        await File.WriteAllTextAsync(Path.Combine(target, "mine.txt"), "mine");

        var e = await Assert.ThrowsAsync<ArgumentException>(() => harness.RestoreAsync(target));

        Assert.Contains("not empty", e.Message, StringComparison.Ordinal);
        Assert.Equal(["mine.txt"], FilesUnder(target));
    }

    [Fact]
    public async Task Restore_OverwriteWithoutDelete_UpdatesChangedFilesAndKeepsExtras()
    {
        var (harness, source) = await BackedUpTreeAsync();
        using var _h = harness;
        var target = _temp.Sub("out");
        await harness.RestoreAsync(target);
        await File.WriteAllTextAsync(Path.Combine(target, "work/src/a.cs"), "edited locally, longer than before");
        await File.WriteAllTextAsync(Path.Combine(target, "work/extra.txt"), "extra");

        var result = await harness.RestoreAsync(target, overwrite: true);

        Assert.Equal("content of src/a.cs", await File.ReadAllTextAsync(Path.Combine(target, "work/src/a.cs")));
        Assert.True(File.Exists(Path.Combine(target, "work/extra.txt")));
        Assert.Equal(4, result.FilesUnchanged);
        Assert.Equal(["extra: extra.txt"], TreeComparer.Compare(source, Path.Combine(target, "work")).Where(d => !d.StartsWith("differs: .", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Restore_OverwriteWithDelete_RemovesWhatTheSnapshotDoesNotHold()
    {
        var (harness, source) = await BackedUpTreeAsync();
        using var _h = harness;
        var target = _temp.Sub("out");
        await harness.RestoreAsync(target);
        await File.WriteAllTextAsync(Path.Combine(target, "work/extra.txt"), "extra");
        Directory.CreateDirectory(Path.Combine(target, "work/src/new-dir/sub"));

        var result = await harness.RestoreAsync(target, overwrite: true, delete: true);

        Assert.Equal(2, result.Deleted);
        Assert.Empty(TreeComparer.Compare(source, Path.Combine(target, "work")));
    }

    public void Dispose() => _temp.Dispose();
}
