using SpotDevBox.Core.Agent;

namespace SpotDevBox.Core.Tests.Agent;

public sealed class AgentOptionsTests
{
    [Fact]
    public void ResolveExcludes_Defaults_AreTheStandardExcludesInOrder()
    {
        var excludes = new AgentOptions().ResolveExcludes([]);

        Assert.Equal(
            [
                "node_modules/", "bin/", "obj/", "target/", ".venv/", "venv/", "__pycache__/", ".cache/", ".npm/", ".nuget/packages/",
                ".gradle/caches/", ".m2/repository/", ".cargo/registry/", ".cargo/git/", "go/pkg/mod/", ".local/share/Trash/",
                ".vscode-server/", ".cursor-server/", ".docker/", ".local/share/containers/",
            ],
            excludes);
    }

    [Fact]
    public void ResolveExcludes_DefaultsOff_OnlyTheAgentsAndTheEnginesOwn()
    {
        var options = new AgentOptions { DefaultExcludes = false };
        options.Excludes.Add("*.iso");

        Assert.Equal(["*.iso", "scratch/"], options.ResolveExcludes(["scratch/"]));
    }

    [Fact]
    public void ResolveExcludes_DefaultsOffAndNothingElse_IsEmpty()
    {
        Assert.Empty(new AgentOptions { DefaultExcludes = false }.ResolveExcludes([]));
    }

    [Fact]
    public void ResolveExcludes_ExtraAndEngineExcludes_ComeAfterTheStandardOnes()
    {
        var options = new AgentOptions();
        options.Excludes.Add("*.iso");

        var excludes = options.ResolveExcludes(["scratch/"]);

        Assert.Equal(22, excludes.Count);
        Assert.Equal("node_modules/", excludes[0]);
        Assert.Equal(["*.iso", "scratch/"], excludes.Skip(20));
    }

    [Fact]
    public void ResolveExcludes_SamePatternFromEverySource_AppearsOnce()
    {
        var options = new AgentOptions();
        options.Excludes.Add("node_modules/");
        options.Excludes.Add("*.iso");
        options.Excludes.Add("*.iso");

        var excludes = options.ResolveExcludes(["node_modules/", "*.iso", "scratch/"]);

        Assert.Single(excludes, e => e == "node_modules/");
        Assert.Single(excludes, e => e == "*.iso");
        Assert.Equal(22, excludes.Count);
    }

    [Fact]
    public void ResolveExcludes_PatternsDifferingInCase_AreBothKept()
    {
        // Paths on Linux are case-sensitive: "Bin/" is not "bin/".
        var options = new AgentOptions { DefaultExcludes = false };
        options.Excludes.Add("Bin/");

        Assert.Equal(["Bin/", "bin/"], options.ResolveExcludes(["bin/"]));
    }

    [Theory]
    [InlineData("s3://bucket/boxes/alice", "alice")]
    [InlineData("s3://bucket/boxes/alice/", "alice")]
    [InlineData("s3://bucket/boxes/alice//", "alice")]
    [InlineData("/mnt/backup/bob", "bob")]
    [InlineData("s3://bucket", "bucket")]
    public void ResolveBoxName_NoName_IsTheLastComponentOfTheBox(string box, string expected)
    {
        Assert.Equal(expected, new AgentOptions { Box = box }.ResolveBoxName());
    }

    [Fact]
    public void ResolveBoxName_NameGiven_IsTheName()
    {
        Assert.Equal("alice's box", new AgentOptions { Box = "s3://bucket/boxes/alice", BoxName = "alice's box" }.ResolveBoxName());
    }

    [Fact]
    public void ResolveBoxName_NeitherNameNorBox_IsBox()
    {
        Assert.Equal("box", new AgentOptions { BoxName = " " }.ResolveBoxName());
    }

    [Fact]
    public void ResolvePowerOffCommand_NoneGiven_IsSystemctlPoweroff()
    {
        Assert.Equal(["systemctl", "poweroff"], new AgentOptions().ResolvePowerOffCommand());
    }

    [Fact]
    public void ResolvePowerOffCommand_Given_IsThatCommandVerbatim()
    {
        var options = new AgentOptions();
        options.PowerOffCommand.Add("/sbin/shutdown");
        options.PowerOffCommand.Add("-h");
        options.PowerOffCommand.Add("now");

        Assert.Equal(["/sbin/shutdown", "-h", "now"], options.ResolvePowerOffCommand());
    }
}
