using TestSupport;

namespace SpotDevBox.Tests.Cli;

/// <summary>
/// A box's Storage must be s3://BUCKET/ROOT/&lt;Owner&gt;/&lt;box&gt;, and no two boxes may share an instance profile or
/// a prefix: the CLI and the controller stop at start (exit 2) before any AWS call, naming the setting and what to do.
/// </summary>
public sealed class BoxLayoutConfigurationTests : IDisposable
{
    private readonly TempDir _temp = new("spotdevbox-layout-");

    public void Dispose() => _temp.Dispose();

    private static string Box(string name, string owner, string storage, string profile) => $$"""
        "{{name}}": { "Owner": "{{owner}}", "Region": "eu-central-1", "InstanceTypes": ["m7i.large"], "ImageId": "ami-0123456789abcdef0",
          "InstanceProfile": "{{profile}}", "Storage": "{{storage}}", "User": "{{owner}}" }
        """;

    private SpotDevBoxProcess Cli(params string[] boxes)
    {
        var config = _temp.Sub("spotdevbox.json");
        File.WriteAllText(config, $$"""
            { "Logging": { "File": "off" }, "Controller": { "AgentBuilds": "s3://my-bucket/agent", "Database": "{{_temp.Sub("state/controller.db")}}",
              "Boxes": { {{string.Join(",\n", boxes)}} } } }
            """);
        return new SpotDevBoxProcess(_temp.Sub("cli")).Set("SPOTDEVBOX_CONFIG", config);
    }

    [Theory]
    [InlineData("up", "alice")]
    [InlineData("controller", "run")]
    public async Task Start_StorageOfTheOldShape_ExitsTwoNamingTheShapeAndTheMigrateCommand(string verb, string argument)
    {
        var cli = Cli(Box("alice", "alice", "s3://my-bucket/boxes/alice", "spotdevbox-box-alice"));

        var result = await cli.RunAsync(verb, argument);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(
            "Controller:Boxes:alice:Storage must be s3://BUCKET/ROOT/<Owner>/<box>, the box's Owner and name last (here s3://BUCKET/ROOT/alice/alice, ROOT one or more segments such as boxes), got 's3://my-bucket/boxes/alice'; 'spotdevbox storage migrate FROM TO' moves an existing prefix there",
            result.Stderr,
            StringComparison.Ordinal);
        Assert.False(File.Exists(_temp.Sub("state/controller.db")), "the controller started");
    }

    [Theory]
    [InlineData("up", "alice")]
    [InlineData("controller", "run")]
    public async Task Start_TwoBoxesOneInstanceProfile_ExitsTwoNamingBoth(string verb, string argument)
    {
        var cli = Cli(
            Box("alice", "alice", "s3://my-bucket/boxes/alice/alice", "spotdevbox-box"),
            Box("bob", "bob", "s3://my-bucket/boxes/bob/bob", "spotdevbox-box"));

        var result = await cli.RunAsync(verb, argument);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(
            "Controller:Boxes:alice:InstanceProfile and Controller:Boxes:bob:InstanceProfile name the same instance profile: give each box its own (e.g. spotdevbox-box-alice and spotdevbox-box-bob)",
            result.Stderr,
            StringComparison.Ordinal);
    }
}
