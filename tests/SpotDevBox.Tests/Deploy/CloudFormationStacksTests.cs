using SpotDevBox.Deploy;
using TestSupport;

namespace SpotDevBox.Tests.Deploy;

/// <summary>
/// <see cref="CloudFormationStacks"/> and <see cref="AwsCli"/> against moto, with Debian's AWS CLI: box.yaml (a role and
/// an instance profile, no bucket needed) created, redeployed unchanged, updated, described and deleted.
/// </summary>
[Collection("moto-stacks")]
public sealed class CloudFormationStacksTests(MotoFixture moto)
{
    private const string Stack = "spotdevbox-box-alice";

    private static readonly Dictionary<string, string> NoTags = new(StringComparer.Ordinal);

    [Fact]
    public async Task DeployAsync_CreateRerunUpdateDelete_OutcomesOutputsAndEachEventOnce()
    {
        await moto.ResetAsync();
        var stacks = Stacks();
        var template = CloudFormationTemplates.PathOf("box.yaml");
        // With both KMS keys (the bucket's and the repositories'), so that every resource of box.yaml is made: moto 5.2.2 fails (500) to update a stack whose
        // condition left a resource out (its update visits the missing AWS::IAM::Policy). AWS updates either.
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["Owner"] = "alice", ["Box"] = "alice", ["Bucket"] = "my-bucket", ["KmsKeyArn"] = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            ["RepositoryKeyArn"] = "arn:aws:kms:us-east-1:123456789012:key/0000abcd-12ab-34cd-56ef-1234567890ab",
        };
        var events = new List<StackEvent>();
        var progress = new SynchronousProgress(events.Add);

        var created = await stacks.DeployAsync(Stack, template, parameters, new Dictionary<string, string>(StringComparer.Ordinal) { ["spotdevbox:owner"] = "alice" }, progress, CancellationToken.None);

        Assert.Equal(StackOutcome.Created, created.Outcome);
        Assert.Equal("created", created.Said);
        // moto 5.2.2 records only the stack's own events for a change set, and no outputs (execute_change_set leaves its
        // output map empty); AWS reports each resource as well.
        Assert.Contains(events, e => e.LogicalId == Stack && e.ResourceType == "AWS::CloudFormation::Stack" && e.Status == "CREATE_COMPLETE");
        Assert.DoesNotContain(events, e => e.Status == "REVIEW_IN_PROGRESS" && events.IndexOf(e) > events.FindIndex(c => c.Status == "CREATE_COMPLETE"));
        Assert.Equal(events.Count, events.Distinct().Count());
        Assert.Equal("alice", (await stacks.ResourcesAsync(Stack, CancellationToken.None))["InstanceProfile"]);

        events.Clear();
        var again = await stacks.DeployAsync(Stack, template, parameters, NoTags, progress, CancellationToken.None);

        Assert.Equal(StackOutcome.Unchanged, again.Outcome);
        Assert.Empty(events);

        parameters["Root"] = "devboxes";
        var updated = await stacks.DeployAsync(Stack, template, parameters, NoTags, progress, CancellationToken.None);

        Assert.Equal(StackOutcome.Updated, updated.Outcome);
        Assert.Contains(events, e => e.LogicalId == Stack && e.Status == "UPDATE_COMPLETE");
        Assert.DoesNotContain(events, e => e.Status == "CREATE_COMPLETE");

        var described = await stacks.DescribeAsync(Stack, CancellationToken.None);
        Assert.NotNull(described);
        Assert.Equal(Stack, described.Name);
        Assert.Equal("UPDATE_COMPLETE", described.Status);
        Assert.Equal("devboxes", described.Parameters["Root"]);
        Assert.Equal("alice", described.Parameters["Owner"]);

        events.Clear();
        Assert.True(await stacks.DeleteAsync(Stack, progress, CancellationToken.None));

        Assert.Null(await stacks.DescribeAsync(Stack, CancellationToken.None));
        Assert.Contains(events, e => e.Status.StartsWith("DELETE_", StringComparison.Ordinal));
        Assert.False(await stacks.DeleteAsync(Stack, progress, CancellationToken.None));
    }

    [Fact]
    public async Task DescribeAsync_StackMadeDirectly_ItsOutputs()
    {
        await moto.ResetAsync();
        var cli = new AwsCli(MotoFixture.Region, moto.Endpoint, new MotoAwsRunner());
        await cli.JsonAsync(
            [
                "cloudformation", "create-stack", "--stack-name", Stack, "--template-body", File.ReadAllText(CloudFormationTemplates.PathOf("box.yaml")),
                "--capabilities", "CAPABILITY_NAMED_IAM", "--parameters", "ParameterKey=Owner,ParameterValue=alice", "ParameterKey=Box,ParameterValue=alice", "ParameterKey=Bucket,ParameterValue=my-bucket",
            ],
            CancellationToken.None);

        var described = await Stacks().DescribeAsync(Stack, CancellationToken.None);

        Assert.NotNull(described);
        Assert.Equal("CREATE_COMPLETE", described.Status);
        Assert.Equal("s3://my-bucket/boxes/alice/alice", described.Outputs["Storage"]);
        Assert.Equal("alice", described.Outputs["InstanceProfileName"]);
        Assert.Equal("boxes", described.Parameters["Root"]);
    }

    [Fact]
    public async Task DescribeAsync_NoSuchStack_Null()
    {
        await moto.ResetAsync();

        Assert.Null(await Stacks().DescribeAsync("spotdevbox-box-nobody", CancellationToken.None));
    }

    [Fact]
    public async Task DeployAsync_RequiredParameterMissing_AwsCliExceptionWithTheCliErrorLine()
    {
        await moto.ResetAsync();

        var e = await Assert.ThrowsAsync<AwsCliException>(() => Stacks().DeployAsync(
            Stack, CloudFormationTemplates.PathOf("box.yaml"), new Dictionary<string, string>(StringComparer.Ordinal) { ["Box"] = "alice" }, NoTags, null, CancellationToken.None));

        Assert.StartsWith($"the stack {Stack} was not deployed: ", e.Message, StringComparison.Ordinal);
        Assert.Contains("Owner", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void DeployCommand_ParametersAndTags_TheArgumentsOfAwsCloudFormationDeploy()
    {
        var stacks = new CloudFormationStacks(new AwsCli("eu-central-1", null, new AwsCliTests.RecordingRunner("aws-cli/2.9.19")), TimeProvider.System);

        var command = stacks.DeployCommand(
            Stack,
            "/opt/spotdevbox/deploy/cloudformation/box.yaml",
            new Dictionary<string, string>(StringComparer.Ordinal) { ["Owner"] = "alice", ["Box"] = "alice" },
            new Dictionary<string, string>(StringComparer.Ordinal) { ["spotdevbox:owner"] = "alice" });

        Assert.Equal(
            "aws cloudformation deploy --stack-name spotdevbox-box-alice --template-file /opt/spotdevbox/deploy/cloudformation/box.yaml "
            + "--capabilities CAPABILITY_NAMED_IAM --no-fail-on-empty-changeset --parameter-overrides Owner=alice Box=alice "
            + "--tags spotdevbox:owner=alice --region eu-central-1 --output json",
            AwsCli.Render(command));
    }

    [Fact]
    public void PathOf_BothTemplates_ShipBesideTheProgramAsInTheRepository()
    {
        foreach (var name in new[] { "fleet.yaml", "box.yaml" })
        {
            Assert.Equal(File.ReadAllText(CloudFormationTemplate.PathOf(name)), File.ReadAllText(CloudFormationTemplates.PathOf(name)));
        }
    }

    private CloudFormationStacks Stacks() =>
        new(new AwsCli(MotoFixture.Region, moto.Endpoint, new MotoAwsRunner()), TimeProvider.System);

    /// <summary>Progress reported on the caller's thread (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SynchronousProgress(Action<StackEvent> report) : IProgress<StackEvent>
    {
        public void Report(StackEvent value) => report(value);
    }
}

/// <summary>Debian's AWS CLI with moto's credentials and nothing of this machine's profiles: what the CLI's own tests run.</summary>
internal sealed class MotoAwsRunner : IProcessRunner
{
    private readonly ProcessRunner _runner = new();

    public static IReadOnlyDictionary<string, string> Environment { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["AWS_ACCESS_KEY_ID"] = "testing",
        ["AWS_SECRET_ACCESS_KEY"] = "testing",
        ["AWS_SESSION_TOKEN"] = "",
        ["AWS_CONFIG_FILE"] = "/dev/null",
        ["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null",
        ["AWS_EC2_METADATA_DISABLED"] = "true",
    };

    public string? Find(string program) => File.Exists("/usr/bin/" + program) ? "/usr/bin/" + program : _runner.Find(program);

    public Task<AwsCliResult> RunAsync(string file, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment, CancellationToken cancellationToken) =>
        _runner.RunAsync(file, arguments, environment.Concat(Environment).ToDictionary(StringComparer.Ordinal), cancellationToken);
}
