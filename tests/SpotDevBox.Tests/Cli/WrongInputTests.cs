using TestSupport;

namespace SpotDevBox.Tests.Cli;

/// <summary>
/// The wrong inputs a tired person types, one row per verb at least: each exits 2 (fix the command or the
/// configuration) with one "spotdevbox: ..." line naming what was wrong, nothing on stdout, and nothing changed
/// in the folder that holds the repository, the box prefixes and the agent's run directory.
/// </summary>
public sealed class WrongInputTests : IDisposable
{
    private readonly TempDir _temp = new("spotdevbox-wrong-");

    public static TheoryData<string, string[], string[]> Rows => new()
    {
        { "init on an existing repository", ["init", "--repo", "{repo}"], ["a repository already exists at {repo}", "nothing was changed"] },
        { "restore of a snapshot id that is not there", ["restore", "--repo", "{repo}", "--snapshot", "deadbeef", "--target", "{work}/target"], ["no snapshot with id 'deadbeef'", "spotdevbox snapshots"] },
        { "backup against a parent that is not there", ["backup", "--repo", "{repo}", "--parent", "deadbeef", "{work}/src"], ["no snapshot with id 'deadbeef'"] },
        { "forget without a policy", ["forget", "--repo", "{repo}"], ["give a retention policy"] },
        { "snapshots of a folder that does not exist", ["snapshots", "--repo", "{work}/nowhere"], ["'{work}/nowhere'", "does not exist"] },
        { "check of an empty folder", ["check", "--repo", "{work}/empty"], ["there is no repository at {work}/empty", "spotdevbox init"] },
        { "prune of an empty folder", ["prune", "--repo", "{work}/empty"], ["there is no repository at {work}/empty"] },
        { "schedule for no time at all", ["schedule", "alice", "--next", "0d"], ["'0d' is not a span"] },
        { "savings from after to", ["savings", "--from", "2026-12-05", "--to", "2026-12-01"], ["--from 2026-12-05 00:00 is not before --to 2026-12-01 00:00"] },
        { "estimate of a mistyped instance type", ["estimate", "--region", "us-east-1", "--type", "m7i.nosuch"], ["no on-demand Linux price for m7i.nosuch in us-east-1"] },
        { "estimate in a region without prices", ["estimate", "--region", "xx-nowhere-1", "--type", "m7i.large"], ["no on-demand price table for region xx-nowhere-1"] },
        { "ssh to a box that does not exist", ["ssh", "nobody"], ["there is no box 'nobody'"] },
        { "up of a box that does not exist", ["up", "nobody"], ["there is no box 'nobody'"] },
        { "status of a box that does not exist", ["status", "nobody"], ["there is no box 'nobody'"] },
        { "down of a prefix where nothing ever ran", ["down", "{work}/boxes/typo"], ["nothing runs at {work}/boxes/typo", "no agent ever reported there", "nothing was written"] },
        { "keepalive on a laptop", ["keepalive", "2h"], ["this is not a box", "spotdevbox keepalive BOX 2h", "nothing was written"] },
        { "a branch without its command", ["storage"], ["'storage' needs a command: migrate", "spotdevbox storage --help"] },
        { "the agent branch without its command", ["agent"], ["'agent' needs a command: ", "run", "spotdevbox agent --help"] },
        { "storage migrate of a prefix onto itself", ["storage", "migrate", "s3://my-bucket/boxes/alice", "s3://my-bucket/boxes/alice/"], ["FROM and TO are the same prefix (s3://my-bucket/boxes/alice)", "nothing was changed"] },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task AnyVerb_WrongInput_ExitsTwoWithOneLineAndChangesNothing(string row, string[] args, string[] words)
    {
        var work = _temp.Sub("work");
        var cli = new SpotDevBoxProcess(_temp.Sub("state")).Set("SPOTDEVBOX_Agent__RunDirectory", Path.Combine(work, "run"));
        Directory.CreateDirectory(Path.Combine(work, "src"));
        await File.WriteAllTextAsync(Path.Combine(work, "src", "notes.txt"), "remember the milk\n");
        Directory.CreateDirectory(Path.Combine(work, "empty"));
        Directory.CreateDirectory(Path.Combine(work, "run"));
        var repo = Path.Combine(work, "repo");
        var setup = await cli.RunAsync("backup", "--repo", repo, "--init", Path.Combine(work, "src"));
        Assert.True(setup.ExitCode == 0, setup.ToString());
        string Fill(string s) => s.Replace("{repo}", repo, StringComparison.Ordinal).Replace("{work}", work, StringComparison.Ordinal);
        var before = TreeComparer.Describe(work);

        var result = await cli.RunAsync([.. args.Select(Fill)], new Dictionary<string, string?>());

        Assert.True(result.ExitCode == 2, $"{row}: expected exit 2; {result}");
        var line = Assert.Single(result.StderrLines);
        Assert.StartsWith("spotdevbox: ", line, StringComparison.Ordinal);
        foreach (var word in words.Select(Fill))
        {
            Assert.Contains(word, line, StringComparison.Ordinal);
        }

        Assert.Empty(result.Stdout);
        Assert.Equal(before, TreeComparer.Describe(work));
    }

    public void Dispose() => _temp.Dispose();
}
