using System.Text;
using System.Text.Json.Nodes;
using Amazon.EC2;
using Amazon.EC2.Model;
using ListObjectsV2Request = Amazon.S3.Model.ListObjectsV2Request;
using PutObjectRequest = Amazon.S3.Model.PutObjectRequest;
using SpotDevBox.Core.Compute;
using SpotDevBox.Deploy;
using SpotDevBox.Tests.Cli;
using TestSupport;

namespace SpotDevBox.Tests.Deploy;

/// <summary>
/// spotdevbox box add and box remove as processes, against moto: the fleet deployed from fleet.yaml (as setup will),
/// Controller:Fleet written for it, an agent build published to its bucket and a Debian-named image of moto's account;
/// then box add deploys the box's stack through Debian's AWS CLI and writes its entry, 'up' launches it with what the
/// stack made, and box remove takes the stack and the entry away, keeping the repository unless --delete-repository.
/// </summary>
[Collection("moto-boxes")]
public sealed class BoxAddRemoveTests(MotoFixture moto) : IDisposable
{
    private const string Bucket = "box-e2e";
    private const string FleetStack = "fleet";
    private const string BoxStack = "fleet-box-alice";
    private const string Storage = $"s3://{Bucket}/boxes/alice/alice";

    private readonly TempDir _temp = new("spotdevbox-boxadd-");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task AddUpRemove_OnMotosFleet_TheStacksProfileGroupSubnetAndPrefixThenGoneWithTheRepositoryKept()
    {
        await moto.ResetAsync();
        var (securityGroup, subnet) = await DeployFleetAsync();
        var repositoryKey = await RepositoryKeyArnAsync();
        var config = WriteConfig(securityGroup, subnet, repositoryKey);
        var cli = Cli(config);
        using var ec2 = Ec2();
        var image = (await ec2.CopyImageAsync(new CopyImageRequest { SourceImageId = "ami-760aaa0f", SourceRegion = MotoFixture.Region, Name = "debian-12-amd64-20261201-1234" })).ImageId;
        var build = AgentBuildFiles.Build(_temp.Sub("x64.tar.gz"), AgentBuildFiles.X64);
        var publish = await cli.RunAsync("agent", "publish", "--to", $"s3://{Bucket}/spotdevbox/agent", "--build", "linux-x64=" + build, "--agent-version", "v1");
        Assert.True(publish.ExitCode == 0, publish.ToString());

        var add = await cli.RunAsync("box", "add", "alice", "--owner", "alice");

        Assert.True(add.ExitCode == 0, add.ToString());
        Assert.Contains($"stack {BoxStack}: created", add.StdoutLines);
        Assert.Contains($"Controller:Boxes:alice: written to {config}", add.StdoutLines);
        Assert.Equal("next: spotdevbox up alice", add.StdoutLines[^1]);
        Assert.Contains(add.StderrLines, l => l.Contains($"{BoxStack} AWS::CloudFormation::Stack CREATE_COMPLETE", StringComparison.Ordinal));
        var entry = JsonNode.Parse(File.ReadAllText(config))!["Controller"]!["Boxes"]!["alice"]!.AsObject();
        Assert.Equal(
            new JsonObject
            {
                ["Owner"] = "alice",
                ["Region"] = MotoFixture.Region,
                ["InstanceTypes"] = new JsonArray("m5.large"),
                ["Subnets"] = new JsonArray(subnet),
                ["ImageNameFilter"] = "debian-12-amd64-*",
                ["ImageOwner"] = "123456789012",
                ["SecurityGroups"] = new JsonArray(securityGroup),
                ["InstanceProfile"] = "alice",
                ["Storage"] = Storage,
                ["User"] = "alice",
                ["SshVia"] = "instance-connect",
            }.ToJsonString(),
            entry.ToJsonString());

        var again = await cli.RunAsync("box", "add", "alice", "--owner", "alice");

        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains($"stack {BoxStack}: unchanged", again.StdoutLines);
        Assert.Contains("nothing changed: the box alice is already set up as asked", again.StdoutLines);

        var other = await cli.RunAsync("box", "add", "alice", "--owner", "bob");

        Assert.Equal(2, other.ExitCode);
        Assert.Contains("already configured for another owner", Assert.Single(other.StderrLines), StringComparison.Ordinal);

        var up = await cli.RunAsync("up", "alice", "--no-wait");

        Assert.True(up.ExitCode == 0, up.ToString());
        var instance = Assert.Single((await ec2.DescribeInstancesAsync(new DescribeInstancesRequest { Filters = [new Filter("tag:" + BoxTags.Box, ["alice"])] })).Reservations.SelectMany(r => r.Instances));
        var profile = (await MotoCli().JsonAsync(["iam", "get-instance-profile", "--instance-profile-name", "alice"], CancellationToken.None))!["InstanceProfile"]!;
        Assert.Equal((string?)profile["Arn"], instance.IamInstanceProfile.Arn);
        Assert.Equal("arn:aws:iam::123456789012:instance-profile/spotdevbox/alice/alice", instance.IamInstanceProfile.Arn);
        Assert.Equal([securityGroup], instance.SecurityGroups.Select(g => g.GroupId));
        Assert.Equal(subnet, instance.SubnetId);
        Assert.Equal(image, instance.ImageId);
        var userData = (await ec2.DescribeInstanceAttributeAsync(new DescribeInstanceAttributeRequest { InstanceId = instance.InstanceId, Attribute = "userData" })).InstanceAttribute.UserData;
        Assert.Contains(Storage, Encoding.UTF8.GetString(Convert.FromBase64String(userData)), StringComparison.Ordinal);
        // The fleet's repositories' key: the box's role may use it (its own context only), and the agent is told which it is.
        Assert.Contains($"\"RepositoryKeyArn\": \"{repositoryKey}\"", Encoding.UTF8.GetString(Convert.FromBase64String(userData)), StringComparison.Ordinal);
        var rolePolicies = (await MotoCli().JsonAsync(["iam", "list-role-policies", "--role-name", "alice"], CancellationToken.None))!["PolicyNames"]!.AsArray();
        Assert.Equal(["spotdevbox-box", "spotdevbox-box-repository-key"], rolePolicies.Select(n => (string?)n).Order(StringComparer.Ordinal));

        var refused = await cli.RunAsync("box", "remove", "alice");

        Assert.Equal(2, refused.ExitCode);
        Assert.Equal($"spotdevbox: the box alice has a live instance ({instance.InstanceId}): run 'spotdevbox down alice' first, and remove it once it has stopped; nothing was changed", Assert.Single(refused.StderrLines));
        Assert.NotNull(await Stacks().DescribeAsync(BoxStack, CancellationToken.None));

        await ec2.TerminateInstancesAsync(new TerminateInstancesRequest { InstanceIds = [instance.InstanceId] });
        using var s3 = moto.CreateS3Client();
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = "boxes/alice/alice/repo/config", ContentBody = "the repository's config" });

        var remove = await cli.RunAsync("box", "remove", "alice");

        Assert.True(remove.ExitCode == 0, remove.ToString());
        Assert.Equal(
            [$"stack {BoxStack}: deleted", $"Controller:Boxes:alice: removed from {config}", $"the box's repository stays in {Storage} (spotdevbox box remove alice --delete-repository deletes it)"],
            remove.StdoutLines);
        Assert.Null(await Stacks().DescribeAsync(BoxStack, CancellationToken.None));
        Assert.Null(JsonNode.Parse(File.ReadAllText(config))!["Controller"]!["Boxes"]?["alice"]);
        // What up wrote (its launch claim and control document) and the repository all stay.
        Assert.Equal(
            ["boxes/alice/alice/control.json", "boxes/alice/alice/launch.json", "boxes/alice/alice/repo/config"],
            (await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, Prefix = "boxes/" })).S3Objects.Select(o => o.Key).Order(StringComparer.Ordinal));

        var removeAgain = await cli.RunAsync("box", "remove", "alice");

        Assert.True(removeAgain.ExitCode == 0, removeAgain.ToString());
        Assert.Equal([$"stack {BoxStack}: not there", $"Controller:Boxes:alice: not in {config}"], removeAgain.StdoutLines);

        var readd = await cli.RunAsync("box", "add", "alice", "--owner", "alice");
        Assert.True(readd.ExitCode == 0, readd.ToString());

        var delete = await cli.RunAsync("box", "remove", "alice", "--delete-repository");

        Assert.True(delete.ExitCode == 0, delete.ToString());
        Assert.Equal(
            $"deleted 3 objects under {Storage}; the bucket is versioned: their old versions stay until its lifecycle rule expires them",
            delete.StdoutLines[^1]);
        Assert.Empty((await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, Prefix = "boxes/" })).S3Objects ?? []);
    }

    [Fact]
    public async Task Add_Print_TheDeployCommandAndTheEntryInThisComputersZoneNothingDeployedOrWritten()
    {
        await moto.ResetAsync();
        var (securityGroup, subnet) = await DeployFleetAsync();
        var config = WriteConfig(securityGroup, subnet);
        var before = File.ReadAllText(config);

        var result = await Cli(config).RunAsync(
            ["box", "add", "bob", "--owner", "bob", "--type", "m6i.large", "--type", "m5.large", "--schedule", "Mon-Fri 09:00-18:00", "--budget", "40", "--print"],
            new Dictionary<string, string?> { ["TZ"] = "America/New_York" });

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("# the box's stack:", result.StdoutLines[0]);
        // The template beside the executable that ran (its build output, or SPOTDEVBOX_TEST_BINARY's folder).
        var template = result.StdoutLines[1].Split(' ').SkipWhile(w => w != "--template-file").Skip(1).First();
        Assert.EndsWith(Path.Combine("deploy", "cloudformation", "box.yaml"), template, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllText(CloudFormationTemplate.PathOf("box.yaml")), File.ReadAllText(template));
        Assert.Equal(
            "aws cloudformation deploy --stack-name fleet-box-bob --template-file " + template
            + " --capabilities CAPABILITY_NAMED_IAM --no-fail-on-empty-changeset --parameter-overrides Owner=bob Box=bob Bucket=box-e2e Root=boxes AgentBuildsPrefix=spotdevbox/agent"
            + $" --tags spotdevbox:owner=bob spotdevbox:box=bob --region {MotoFixture.Region} --output json --endpoint-url {moto.Endpoint}",
            result.StdoutLines[1]);
        Assert.Equal($"# then, in {config}:", result.StdoutLines[2]);
        var bob = JsonNode.Parse(string.Join('\n', result.StdoutLines.Skip(3)))!["Controller"]!["Boxes"]!["bob"]!;
        Assert.Equal(["m6i.large", "m5.large"], bob["InstanceTypes"]!.AsArray().Select(t => (string?)t));
        Assert.Equal("America/New_York", (string?)bob["Schedule"]!["TimeZone"]);
        Assert.Equal(["Mon-Fri 09:00-18:00"], bob["Schedule"]!["Periods"]!.AsArray().Select(t => (string?)t));
        Assert.Equal(40m, (decimal)bob["MonthlyBudget"]!);
        Assert.Equal("s3://box-e2e/boxes/bob/bob", (string?)bob["Storage"]);
        Assert.Null(await Stacks().DescribeAsync("fleet-box-bob", CancellationToken.None));
        Assert.Equal(before, File.ReadAllText(config));
    }

    [Fact]
    public async Task Add_TypesOfTwoArchitectures_RefusedNamingEachNothingDeployed()
    {
        await moto.ResetAsync();
        var (securityGroup, subnet) = await DeployFleetAsync();
        var config = WriteConfig(securityGroup, subnet);

        var result = await Cli(config).RunAsync("box", "add", "carol", "--owner", "carol", "--type", "m7i.large", "--type", "m7g.large");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal(
            "spotdevbox: the instance types run on different architectures, but one image serves them all: m7i.large (amd64), m7g.large (arm64); choose types of one architecture with --type; nothing was changed",
            Assert.Single(result.StderrLines));
        Assert.Null(await Stacks().DescribeAsync("fleet-box-carol", CancellationToken.None));
    }

    /// <summary>fleet.yaml as stack "fleet" in moto's default VPC: the boxes' security group and a subnet of that VPC.</summary>
    private async Task<(string SecurityGroup, string Subnet)> DeployFleetAsync()
    {
        var cli = MotoCli();
        var vpc = (string)(await cli.JsonAsync(["ec2", "describe-vpcs"], CancellationToken.None))!["Vpcs"]![0]!["VpcId"]!;
        var subnet = (string)(await cli.JsonAsync(["ec2", "describe-subnets", "--filters", $"Name=vpc-id,Values={vpc}"], CancellationToken.None))!["Subnets"]![0]!["SubnetId"]!;
        await Stacks().DeployAsync(
            FleetStack,
            CloudFormationTemplates.PathOf("fleet.yaml"),
            new Dictionary<string, string>(StringComparer.Ordinal) { ["VpcId"] = vpc, ["BucketName"] = Bucket, ["ImageOwners"] = "123456789012" },
            new Dictionary<string, string>(StringComparer.Ordinal),
            null,
            CancellationToken.None);
        var group = (await Stacks().ResourcesAsync(FleetStack, CancellationToken.None))["BoxSecurityGroup"];
        return (group, subnet);
    }

    /// <summary>The fleet's RepositoryKey's ARN, as setup writes it (Controller:Fleet:RepositoryKeyArn).</summary>
    private async Task<string> RepositoryKeyArnAsync() =>
        $"arn:aws:kms:{MotoFixture.Region}:123456789012:key/{(await Stacks().ResourcesAsync(FleetStack, CancellationToken.None))["RepositoryKey"]}";

    /// <summary>Controller:Fleet as setup will write it for that stack, with moto's account as the images' owner.</summary>
    private string WriteConfig(string securityGroup, string subnet, string repositoryKey = "")
    {
        var config = _temp.Sub("spotdevbox.json");
        File.WriteAllText(config, $$"""
            {
              "Controller": {
                "AgentBuilds": "s3://{{Bucket}}/spotdevbox/agent",
                "Database": "{{_temp.Sub("controller.db")}}",
                "Fleet": {
                  "Stack": "{{FleetStack}}",
                  "Region": "{{MotoFixture.Region}}",
                  "StorageRoot": "s3://{{Bucket}}/boxes",
                  "SecurityGroups": ["{{securityGroup}}"],
                  "Subnets": ["{{subnet}}"],
                  "ImageOwner": "123456789012",
                  "InstanceTypes": ["m5.large"],
                  "RepositoryKeyArn": "{{repositoryKey}}"
                }
              }
            }
            """);
        return config;
    }

    /// <summary>The CLI with Debian's AWS CLI v2 first on PATH (a machine may have a v1 earlier on it, which box add refuses).</summary>
    private SpotDevBoxProcess Cli(string config)
    {
        var bin = _temp.Sub("bin");
        if (!Directory.Exists(bin) && new MotoAwsRunner().Find("aws") is { } aws)
        {
            Directory.CreateDirectory(bin);
            File.CreateSymbolicLink(Path.Combine(bin, "aws"), aws);
        }

        return new SpotDevBoxProcess(_temp.Sub("cli"))
            .Set("PATH", bin + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH"))
            .Set("AWS_ACCESS_KEY_ID", S3PeerFixture.AccessKey)
            .Set("AWS_SECRET_ACCESS_KEY", S3PeerFixture.SecretKey)
            .Set("AWS_REGION", MotoFixture.Region)
            .Set("SPOTDEVBOX_CONFIG", config)
            .Set("SPOTDEVBOX_Storage__EndpointUrl", moto.Endpoint)
            .Set("SPOTDEVBOX_Aws__Ec2__ServiceUrl", moto.Endpoint)
            .Set("SPOTDEVBOX_Aws__Cli__EndpointUrl", moto.Endpoint);
    }

    private AwsCli MotoCli() => new(MotoFixture.Region, moto.Endpoint, new MotoAwsRunner());

    private CloudFormationStacks Stacks() => new(MotoCli(), TimeProvider.System);

    private AmazonEC2Client Ec2() =>
        new(S3PeerFixture.Credentials, new AmazonEC2Config { ServiceURL = moto.Endpoint, AuthenticationRegion = MotoFixture.Region });
}
