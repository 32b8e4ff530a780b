using TestSupport;

namespace SpotDevBox.Backup.Tests.Engine;

/// <summary>Generated trees through a real store and back: byte for byte, metadata for metadata.</summary>
public abstract class RoundTripTests : IDisposable
{
    private readonly TempDir _temp = new();

    protected string Temp => _temp.Path;

    internal abstract Task<EngineHarness> CreateHarnessAsync();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task BackupThenRestore_GeneratedTree_RestoresIdenticalTree(int seed)
    {
        var source = Path.Combine(Temp, "src", "work");
        new TreeGenerator(seed) { Files = 300, LargeFiles = 2, LargeFileSize = (3 * 1024 * 1024) + seed }.Generate(source);
        using var harness = await CreateHarnessAsync();

        var (backup, _) = await harness.BackupAsync(source);
        var restored = await harness.RestoreAsync(Path.Combine(Temp, "restored"));

        Assert.Empty(restored.Errors);
        Assert.Equal(backup.SnapshotId, restored.SnapshotId);
        Assert.Empty(TreeComparer.Compare(source, Path.Combine(Temp, "restored", "work")));
        var check = await harness.CheckAsync(readData: true);
        Assert.True(check.Ok, string.Join("\n", check.Errors));
    }

    [Fact]
    public async Task BackupThenRestore_SeveralPathsAndASingleFile_EachUnderItsName()
    {
        var a = Path.Combine(Temp, "a");
        var b = Path.Combine(Temp, "b");
        new TreeGenerator(7) { Files = 40, LargeFiles = 0 }.Generate(a);
        Directory.CreateDirectory(b);
        var single = Path.Combine(b, "notes.txt");
        await File.WriteAllTextAsync(single, "remember the milk");
        using var harness = await CreateHarnessAsync();

        await harness.BackupAsync(a, single);
        var target = Path.Combine(Temp, "out");
        await harness.RestoreAsync(target);

        Assert.Empty(TreeComparer.Compare(a, Path.Combine(target, "a")));
        Assert.Equal("remember the milk", await File.ReadAllTextAsync(Path.Combine(target, "notes.txt")));
        Assert.Equal(["a", "notes.txt"], Directory.EnumerateFileSystemEntries(target).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Backup_SecondRunWithoutChanges_ReadsNothingAndUploadsOnlyNothing()
    {
        var source = Path.Combine(Temp, "src");
        new TreeGenerator(11) { Files = 150 }.Generate(source);
        using var harness = await CreateHarnessAsync();
        var (first, firstProgress) = await harness.BackupAsync(source);

        var (second, progress) = await harness.BackupAsync(source);

        Assert.True(firstProgress.BytesRead > 6 * 1024 * 1024);
        Assert.Equal(0, progress.BytesRead);
        Assert.Equal(0, progress.FilesNew + progress.FilesChanged);
        Assert.Equal(firstProgress.Files, progress.FilesUnchanged);
        Assert.Equal(0, progress.BytesUploaded);
        // Same content, same metadata: the root tree is shared, so the snapshot points at the same tree.
        Assert.Equal(first.Manifest.Tree, second.Manifest.Tree);
    }

    public void Dispose()
    {
        _temp.Dispose();
        GC.SuppressFinalize(this);
    }
}

public sealed class LocalRoundTripTests : RoundTripTests
{
    internal override Task<EngineHarness> CreateHarnessAsync() => EngineHarness.LocalAsync(Path.Combine(Temp, "repo"));
}

[Collection("s3")]
public sealed class S3RoundTripTests(S3PeerFixture peer) : RoundTripTests
{
    internal override Task<EngineHarness> CreateHarnessAsync() => EngineHarness.S3Async(peer);
}
