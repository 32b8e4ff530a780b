using SpotDevBox.Deploy;

namespace SpotDevBox.Tests.Deploy;

/// <summary>The AWS CLI's command line, what it refuses, and its errors, through a runner that records; against moto in <see cref="CloudFormationStacksTests"/>.</summary>
public sealed class AwsCliTests
{
    [Fact]
    public async Task RunAsync_AnyCommand_RegionJsonOutputEndpointNoPagerAndNoShell()
    {
        var runner = new RecordingRunner("aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64.debian.12", new AwsCliResult(0, "{\"Buckets\": []}", ""));
        var cli = new AwsCli("eu-central-1", "http://127.0.0.1:5000", runner);

        var json = await cli.JsonAsync(["s3api", "list-buckets"], CancellationToken.None);

        Assert.NotNull(json?["Buckets"]);
        var (file, args, environment) = runner.Runs[^1];
        Assert.Equal("/opt/aws/bin/aws", file);
        Assert.Equal(["s3api", "list-buckets", "--region", "eu-central-1", "--output", "json", "--endpoint-url", "http://127.0.0.1:5000"], args);
        Assert.Equal("", environment["AWS_PAGER"]);
        Assert.Equal(["--version"], runner.Runs[0].Arguments);
    }

    [Fact]
    public void Command_NoEndpoint_NoEndpointArgument() =>
        Assert.Equal(
            ["aws", "cloudformation", "describe-stacks", "--region", "us-east-1", "--output", "json"],
            new AwsCli("us-east-1", "", new RecordingRunner("aws-cli/2.9.19")).Command(["cloudformation", "describe-stacks"]));

    [Fact]
    public async Task RunAsync_VersionOne_RefusedNamingTheInstallPage()
    {
        var cli = new AwsCli("eu-central-1", null, new RecordingRunner("aws-cli/1.29.62 Python/3.11.4 Linux/6.1 botocore/1.31.62"));

        var e = await Assert.ThrowsAsync<AwsCliMissingException>(() => cli.RunAsync(["s3api", "list-buckets"], CancellationToken.None));

        Assert.Contains("the AWS CLI v2 is needed to deploy", e.Message, StringComparison.Ordinal);
        Assert.Contains("aws-cli/1.29.62", e.Message, StringComparison.Ordinal);
        Assert.Contains("https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_NotOnPath_RefusedNamingTheInstallPage()
    {
        var cli = new AwsCli("eu-central-1", null, new RecordingRunner(null));

        var e = await Assert.ThrowsAsync<AwsCliMissingException>(() => cli.RunAsync(["s3api", "list-buckets"], CancellationToken.None));

        Assert.StartsWith("the AWS CLI v2 is needed to deploy", e.Message, StringComparison.Ordinal);
        Assert.Contains("getting-started-install.html", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task JsonAsync_Failure_TheCliLastErrorLine()
    {
        const string stderr = "\nAn error occurred (ValidationError) when calling the DescribeStacks operation: Stack with id x does not exist\n";
        var cli = new AwsCli("eu-central-1", null, new RecordingRunner("aws-cli/2.9.19", new AwsCliResult(254, "", stderr)));

        var e = await Assert.ThrowsAsync<AwsCliException>(() => cli.JsonAsync(["cloudformation", "describe-stacks", "--stack-name", "x"], CancellationToken.None));

        Assert.Equal("An error occurred (ValidationError) when calling the DescribeStacks operation: Stack with id x does not exist", e.Message);
        Assert.Equal(254, e.ExitCode);
    }

    [Theory]
    [InlineData(new[] { "aws", "cloudformation", "deploy", "--stack-name", "spotdevbox-box-alice" }, "aws cloudformation deploy --stack-name spotdevbox-box-alice")]
    [InlineData(new[] { "aws", "--tags", "spotdevbox:owner=alice", "Name=my box" }, "aws --tags spotdevbox:owner=alice 'Name=my box'")]
    [InlineData(new[] { "echo", "it's", "", "$HOME", "a;b" }, "echo 'it'\\''s' '' '$HOME' 'a;b'")]
    public void Render_Words_QuotedForAPosixShellOnlyWhereNeeded(string[] words, string expected) =>
        Assert.Equal(expected, AwsCli.Render(words));

    /// <summary>An aws "found" at /opt/aws/bin/aws that answers --version with <c>version</c>, then each command with <c>results</c> in turn.</summary>
    internal sealed class RecordingRunner(string? version, params AwsCliResult[] results) : IProcessRunner
    {
        private int _next;

        public List<(string File, IReadOnlyList<string> Arguments, IReadOnlyDictionary<string, string> Environment)> Runs { get; } = [];

        public string? Find(string program) => version is null ? null : "/opt/aws/bin/" + program;

        public Task<AwsCliResult> RunAsync(string file, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment, CancellationToken cancellationToken)
        {
            Runs.Add((file, arguments, environment));
            return Task.FromResult(arguments is ["--version"]
                ? new AwsCliResult(0, version + "\n", "")
                : results[Math.Min(_next++, results.Length - 1)]);
        }
    }
}
