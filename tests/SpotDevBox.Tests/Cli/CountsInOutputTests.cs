using TestSupport;

namespace SpotDevBox.Tests.Cli;

/// <summary>Counts in what the CLI prints read as English: "1 snapshot", "1 directory", never "1 snapshots".</summary>
public sealed class CountsInOutputTests : IDisposable
{
    private readonly TempDir _temp = new("spotdevbox-counts-");

    [Fact]
    public async Task SnapshotsAndRestore_OneOfEach_SingularNouns()
    {
        var cli = new SpotDevBoxProcess(_temp.Sub("state"));
        var source = _temp.Sub("src");
        Directory.CreateDirectory(source);
        await File.WriteAllTextAsync(Path.Combine(source, "notes.txt"), "remember the milk\n");
        var repo = _temp.Sub("repo");
        var backup = await cli.RunAsync("backup", "--repo", repo, "--init", source);
        Assert.True(backup.ExitCode == 0, backup.ToString());
        Assert.Contains("(1 directory, 18 B)", backup.Stdout, StringComparison.Ordinal);

        var snapshots = await cli.RunAsync("snapshots", "--repo", repo);
        var restore = await cli.RunAsync("restore", "--repo", repo, "--target", _temp.Sub("target"));

        Assert.True(snapshots.ExitCode == 0, snapshots.ToString());
        Assert.Equal("1 snapshot", snapshots.Stdout.TrimEnd().Split('\n')[^1].Trim());
        Assert.True(restore.ExitCode == 0, restore.ToString());
        Assert.Contains("  1 file (0 already up to date), 1 directory, 0 symlinks; 18 B written in ", restore.Stdout, StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();
}
