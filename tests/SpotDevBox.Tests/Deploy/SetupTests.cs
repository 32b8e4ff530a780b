using System.Text.Json.Nodes;
using SpotDevBox.Deploy;
using SpotDevBox.Tests.Cli;
using TestSupport;

namespace SpotDevBox.Tests.Deploy;

/// <summary>
/// <c>spotdevbox setup</c> end to end against moto (the independent AWS peer), as a user runs it: the real CLI process,
/// Debian's AWS CLI deploying deploy/cloudformation/fleet.yaml, the EC2 and S3 SDK clients, a configuration file written.
/// moto has no Debian images: each test registers images named as Debian's are (owned by moto's account, 123456789012).
/// </summary>
[Collection("moto-setup")]
public sealed class SetupTests(MotoFixture moto) : IDisposable
{
    private const string Account = "123456789012";

    private readonly TempDir _temp = new("spotdevbox-setup-");

    private string ConfigFile => _temp.Sub("spotdevbox.json");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Setup_FromAnEmptyAccount_DeploysTheFleetPublishesTheAgentWritesTheConfiguration_AndARerunChangesNothing()
    {
        await moto.ResetAsync();
        var amd64 = await RegisterImageAsync("debian-12-amd64-20261201-1500");
        await RegisterImageAsync("debian-12-arm64-20261201-1500");
        var archive = AgentBuildFiles.Build(_temp.Sub("spotdevbox-1.0.0-linux-x64.tar.gz"), AgentBuildFiles.X64);

        var first = await Cli().RunAsync(Setup("--ssh-via", "ssm", "--agent-archive", archive));

        Assert.True(first.ExitCode == 0, first.Stdout + first.Stderr);
        Assert.Matches(@"(?m)^region:\s+us-east-1", first.Stdout);
        Assert.Matches($@"(?m)^account:\s+{Account}", first.Stdout);
        Assert.Matches($@"(?m)^image amd64:\s+{amd64} debian-12-amd64-20261201-1500", first.Stdout);
        Assert.Matches(@"(?m)^fleet stack:\s+spotdevbox created", first.Stdout);
        // The stack's events, as they arrived.
        // The stack's events as they arrived (moto reports only the stack's own; AWS adds each resource's).
        Assert.Matches(@"(?m)^  \d\d:\d\d:\d\d spotdevbox AWS::CloudFormation::Stack CREATE_COMPLETE$", first.Stderr);
        Assert.Contains("next: spotdevbox box add NAME --owner OWNER", first.Stdout, StringComparison.Ordinal);

        // moto keeps no outputs of a stack deployed through a change set: its resources say the same.
        var resources = await StackResourcesAsync("spotdevbox");
        var bucket = resources["Bucket"];
        var config = JsonNode.Parse(await File.ReadAllTextAsync(ConfigFile))!;
        Assert.Equal($"s3://{bucket}/spotdevbox/agent", (string?)config["Controller"]!["AgentBuilds"]);
        var fleet = config["Controller"]!["Fleet"]!;
        Assert.Equal("spotdevbox", (string?)fleet["Stack"]);
        Assert.Equal(MotoFixture.Region, (string?)fleet["Region"]);
        Assert.Equal($"s3://{bucket}/boxes", (string?)fleet["StorageRoot"]);
        Assert.Equal([resources["BoxSecurityGroup"]], fleet["SecurityGroups"]!.AsArray().Select(g => (string?)g));
        Assert.Equal(MotoFixture.Region, (string?)config["Storage"]!["Region"]);
        Assert.Equal("ssm", (string?)fleet["SshVia"]);
        Assert.Equal(Account, (string?)fleet["ImageOwner"]);
        Assert.Equal(await DefaultSubnetsAsync(), fleet["Subnets"]!.AsArray().Select(s => (string)s!).ToList());
        Assert.Equal($"arn:aws:kms:{MotoFixture.Region}:{Account}:key/{resources["RepositoryKey"]}", (string?)fleet["RepositoryKeyArn"]);

        var manifest = JsonNode.Parse(await GetObjectAsync(bucket, "spotdevbox/agent/manifest.json"))!;
        Assert.Equal(["linux-x64"], manifest["builds"]!.AsArray().Select(b => (string?)b!["rid"]));
        var bytes = await File.ReadAllBytesAsync(ConfigFile);

        var second = await Cli().RunAsync(Setup("--agent-archive", archive));

        Assert.True(second.ExitCode == 0, second.Stdout + second.Stderr);
        Assert.Matches(@"(?m)^fleet stack:\s+spotdevbox unchanged", second.Stdout);
        Assert.Matches(@"(?m)^agent:\s+already published", second.Stdout);
        Assert.Contains("already says this", second.Stdout, StringComparison.Ordinal);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(ConfigFile));
        Assert.Equal(manifest.ToJsonString(), JsonNode.Parse(await GetObjectAsync(bucket, "spotdevbox/agent/manifest.json"))!.ToJsonString());
    }

    [Fact]
    public async Task QuickStart_SetupBoxAddUp_LaunchesWithTheStacksRoleProfileGroupSubnetBucketAndKey()
    {
        await moto.ResetAsync();
        var image = await CopyImageAsync("debian-12-amd64-20261201-1500");
        var key = (string)JsonNode.Parse((await AwsAsync("kms", "create-key", "--description", "spotdevbox quick start")).Output)!["KeyMetadata"]!["Arn"]!;
        var archive = AgentBuildFiles.Build(_temp.Sub("spotdevbox-1.0.0-linux-x64.tar.gz"), AgentBuildFiles.X64);
        var cli = Cli().Set("SPOTDEVBOX_CONFIG", ConfigFile);

        var setup = await cli.RunAsync(Setup("--kms-key", key, "--agent-archive", archive));

        Assert.True(setup.ExitCode == 0, setup.Stdout + setup.Stderr);
        Assert.Matches(@"(?m)^ssh:\s+instance-connect: through the fleet's EC2 Instance Connect Endpoint", setup.Stdout);
        Assert.Contains("attach the stack's KmsPolicy to developers and operators", setup.Stdout, StringComparison.Ordinal);
        var fleet = JsonNode.Parse(await File.ReadAllTextAsync(ConfigFile))!["Controller"]!["Fleet"]!;
        Assert.Equal(key, (string?)fleet["KmsKeyArn"]);
        var resources = await StackResourcesAsync("spotdevbox");
        var bucket = resources["Bucket"];

        // The configuration setup wrote is the one every later verb reads (SPOTDEVBOX_CONFIG here; the user's file by default).
        var add = await cli.RunAsync("box", "add", "alice", "--owner", "alice", "--type", "m5.large");

        Assert.True(add.ExitCode == 0, add.Stdout + add.Stderr);
        Assert.Equal("next: spotdevbox up alice", add.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]);
        var inline = JsonNode.Parse((await AwsAsync("iam", "list-role-policies", "--role-name", "alice")).Output)!["PolicyNames"]!.AsArray().Select(n => (string?)n);
        Assert.Equal(["spotdevbox-box", "spotdevbox-box-kms", "spotdevbox-box-repository-key"], inline.Order(StringComparer.Ordinal));

        var up = await cli.RunAsync("up", "alice", "--no-wait");

        Assert.True(up.ExitCode == 0, up.Stdout + up.Stderr);
        var reservations = JsonNode.Parse((await AwsAsync("ec2", "describe-instances", "--filters", "Name=tag:spotdevbox:box,Values=alice")).Output)!["Reservations"]!.AsArray();
        var instance = Assert.Single(reservations.SelectMany(r => r!["Instances"]!.AsArray()))!;
        Assert.Equal(image, (string?)instance["ImageId"]);
        Assert.Equal($"arn:aws:iam::{Account}:instance-profile/spotdevbox/alice/alice", (string?)instance["IamInstanceProfile"]!["Arn"]);
        Assert.Equal([resources["BoxSecurityGroup"]], instance["SecurityGroups"]!.AsArray().Select(g => (string?)g!["GroupId"]));
        Assert.Contains((string)instance["SubnetId"]!, fleet["Subnets"]!.AsArray().Select(x => (string)x!));
        var userData = JsonNode.Parse((await AwsAsync("ec2", "describe-instance-attribute", "--instance-id", (string)instance["InstanceId"]!, "--attribute", "userData")).Output)!["UserData"]!["Value"]!;
        var text = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String((string)userData!));
        Assert.Contains($"s3://{bucket}/boxes/alice/alice", text, StringComparison.Ordinal);
        // The agent build setup published, pinned: the install script's --bucket and --key.
        Assert.Matches($@"--bucket, ""{bucket}"", --key, ""spotdevbox/agent/[^""/]+/spotdevbox-linux-x64\.tar\.gz"", --sha256, ""[0-9a-f]{{64}}""", text);
    }

    [Fact]
    public async Task Rerun_WithAnotherSshPath_UpdatesTheStackAndTheConfiguration_AnotherBucketIsRefused()
    {
        await moto.ResetAsync();
        await RegisterImageAsync("debian-12-amd64-20261201-1500");
        var archive = AgentBuildFiles.Build(_temp.Sub("spotdevbox-1.0.0-linux-x64.tar.gz"), AgentBuildFiles.X64);
        var first = await Cli().RunAsync(Setup("--bucket", "team-devboxes", "--ssh-via", "ssm", "--agent-archive", archive));
        Assert.True(first.ExitCode == 0, first.Stdout + first.Stderr);
        Assert.Matches(@"(?m)^image arm64:\s+none named debian-12-arm64-\* owned by 123456789012: boxes on arm64 instance types cannot launch", first.Stdout);

        var direct = await Cli().RunAsync(Setup("--ssh-via", "direct", "--ssh-from", "203.0.113.7", "--no-agent"));

        Assert.True(direct.ExitCode == 0, direct.Stdout + direct.Stderr);
        Assert.Matches(@"(?m)^ssh:\s+direct: TCP 22 open to 203.0.113.7/32 only", direct.Stdout);
        Assert.Matches(@"(?m)^fleet stack:\s+spotdevbox updated", direct.Stdout);
        var group = JsonNode.Parse((await AwsAsync("ec2", "describe-security-groups", "--group-ids", (await StackResourcesAsync("spotdevbox"))["BoxSecurityGroup"])).Output)!["SecurityGroups"]![0]!;
        var ingress = Assert.Single(group["IpPermissions"]!.AsArray())!;
        Assert.Equal(22, (int?)ingress["FromPort"]);
        Assert.Equal(["203.0.113.7/32"], ingress["IpRanges"]!.AsArray().Select(r => (string?)r!["CidrIp"]));
        var fleet = JsonNode.Parse(await File.ReadAllTextAsync(ConfigFile))!["Controller"]!["Fleet"]!;
        Assert.Equal("direct", (string?)fleet["SshVia"]);
        Assert.Equal("s3://team-devboxes/boxes", (string?)fleet["StorageRoot"]);

        var before = await File.ReadAllBytesAsync(ConfigFile);
        var other = await Cli().RunAsync(Setup("--bucket", "other-devboxes", "--no-agent"));

        Assert.Equal(2, other.ExitCode);
        Assert.Contains("--bucket other-devboxes: the stack spotdevbox already has the bucket team-devboxes", other.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllBytesAsync(ConfigFile));
    }

    [Fact]
    public async Task Import_AdoptsAHandMadeDeploymentFromItsBoxes_WithoutAStack()
    {
        await moto.ResetAsync();
        await moto.CreateBucketAsync("hand-made");
        var subnet = (await DefaultSubnetsAsync())[0];
        await File.WriteAllTextAsync(ConfigFile, $$"""
            {
              // made by hand, before setup existed
              "Controller": {
                "AgentBuilds": "s3://hand-made/agent",
                "Boxes": {
                  "alice": {
                    "Owner": "alice", "Region": "us-east-1", "InstanceTypes": ["m7i.large"], "Subnets": ["{{subnet}}"],
                    "ImageNameFilter": "debian-12-amd64-*", "ImageOwner": "{{Account}}", "SecurityGroups": ["sg-0123456789abcdef0"],
                    "InstanceProfile": "alice", "Storage": "s3://hand-made/boxes/alice/alice", "User": "alice", "SshVia": "ssm"
                  }
                }
              }
            }
            """);

        var unpublished = await Cli().RunAsync("setup", "--import", "--config", ConfigFile);

        Assert.Equal(2, unpublished.ExitCode);
        Assert.Contains("--import: no agent build is published at Controller:AgentBuilds (s3://hand-made/agent)", unpublished.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Fleet", await File.ReadAllTextAsync(ConfigFile), StringComparison.Ordinal);

        var archive = AgentBuildFiles.Build(_temp.Sub("spotdevbox-1.0.0-linux-x64.tar.gz"), AgentBuildFiles.X64);
        var publish = await Cli().RunAsync("agent", "publish", "--to", "s3://hand-made/agent", "--build", $"linux-x64={archive}", "--region", MotoFixture.Region);
        Assert.True(publish.ExitCode == 0, publish.Stdout + publish.Stderr);

        var result = await Cli().RunAsync("setup", "--import", "--config", ConfigFile);

        Assert.True(result.ExitCode == 0, result.Stdout + result.Stderr);
        Assert.Matches(@"(?m)^region:\s+us-east-1", result.Stdout);
        Assert.Matches(@"(?m)^adopted:\s+1 box\(es\) under s3://hand-made/boxes", result.Stdout);
        Assert.True(File.Exists(ConfigFile + ".bak"), "the file had a comment: its original is kept");
        var fleet = JsonNode.Parse(await File.ReadAllTextAsync(ConfigFile))!["Controller"]!["Fleet"]!;
        Assert.Equal("", (string?)fleet["Stack"]);
        Assert.Equal("s3://hand-made/boxes", (string?)fleet["StorageRoot"]);
        Assert.Equal("debian-12-{arch}-*", (string?)fleet["ImageNameFilter"]);
        Assert.Equal(["sg-0123456789abcdef0"], fleet["SecurityGroups"]!.AsArray().Select(g => (string?)g));
        Assert.Equal([subnet], fleet["Subnets"]!.AsArray().Select(g => (string?)g));
        Assert.Equal("ssm", (string?)fleet["SshVia"]);
        var (code, _) = await AwsAsync("cloudformation", "describe-stacks", "--stack-name", "spotdevbox");
        Assert.NotEqual(0, code);
    }

    [Fact]
    public async Task Print_LooksButCreatesPublishesAndWritesNothing()
    {
        await moto.ResetAsync();
        await RegisterImageAsync("debian-12-amd64-20261201-1500");
        var archive = AgentBuildFiles.Build(_temp.Sub("spotdevbox-1.0.0-linux-x64.tar.gz"), AgentBuildFiles.X64);

        var result = await Cli().RunAsync(Setup("--ssh-via", "direct", "--ssh-from", "203.0.113.7", "--agent-archive", archive, "--print"));

        Assert.True(result.ExitCode == 0, result.Stdout + result.Stderr);
        var deploy = result.Stdout.Split('\n').Single(l => l.StartsWith("aws cloudformation deploy ", StringComparison.Ordinal));
        Assert.Contains("--stack-name spotdevbox ", deploy, StringComparison.Ordinal);
        Assert.Contains(" SshVia=direct ", deploy, StringComparison.Ordinal);
        Assert.Contains(" SshCidr=203.0.113.7/32", deploy, StringComparison.Ordinal);
        Assert.Contains($" ImageOwners={Account}", deploy, StringComparison.Ordinal);
        Assert.Contains("nothing was created, published or written", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(ConfigFile));
        var (code, output) = await AwsAsync("cloudformation", "describe-stacks", "--stack-name", "spotdevbox");
        Assert.True(code != 0 && output.Contains("does not exist", StringComparison.Ordinal), output);
    }

    [Fact]
    public async Task BadInput_ExitsTwoNamingItAndChangesNothing()
    {
        await moto.ResetAsync();
        await RegisterImageAsync("debian-12-amd64-20261201-1500");

        var noRegion = await Cli().RunAsync("setup", "--config", ConfigFile, "--image-owner", Account);
        Assert.Equal(2, noRegion.ExitCode);
        Assert.Contains("no region: give --region", noRegion.Stderr, StringComparison.Ordinal);

        var noVpc = await Cli().RunAsync(Setup("--vpc", "vpc-0123456789abcdef0"));
        Assert.Equal(2, noVpc.ExitCode);
        Assert.Contains("--vpc vpc-0123456789abcdef0: there is no such VPC in us-east-1", noVpc.Stderr, StringComparison.Ordinal);

        var noImage = await Cli().RunAsync(Setup("--image-filter", "ubuntu-{arch}-*"));
        Assert.Equal(2, noImage.ExitCode);
        Assert.Contains("no image in us-east-1 is named ubuntu-amd64-*", noImage.Stderr, StringComparison.Ordinal);

        var open = await Cli().RunAsync(Setup("--ssh-via", "direct", "--ssh-from", "0.0.0.0/0"));
        Assert.Equal(2, open.ExitCode);
        Assert.Contains("opens TCP 22 to the whole internet", open.Stderr, StringComparison.Ordinal);

        var fromWithoutDirect = await Cli().RunAsync(Setup("--ssh-from", "203.0.113.7"));
        Assert.Equal(2, fromWithoutDirect.ExitCode);
        Assert.Contains("--ssh-from opens TCP 22 and goes only with --ssh-via direct", fromWithoutDirect.Stderr, StringComparison.Ordinal);

        Assert.False(File.Exists(ConfigFile));
        var (code, _) = await AwsAsync("cloudformation", "describe-stacks", "--stack-name", "spotdevbox");
        Assert.NotEqual(0, code);
    }

    [Fact]
    public async Task NoCredentials_ExitsOneSayingHowToSignIn()
    {
        var result = await Cli().Set("AWS_ACCESS_KEY_ID", null).Set("AWS_SECRET_ACCESS_KEY", null).RunAsync(Setup());

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no usable AWS credentials", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("'aws configure' or 'aws sso login'", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(ConfigFile));
    }

    private string[] Setup(params string[] more) =>
        ["setup", "--region", MotoFixture.Region, "--config", ConfigFile, "--image-owner", Account, .. more];

    /// <summary>
    /// The child's PATH with Debian's AWS CLI v2 first (scripts/test installs it): a machine may have a v1 'aws' earlier
    /// on its PATH, which setup refuses, as it should.
    /// </summary>
    private string PathWithAwsCliV2()
    {
        var bin = _temp.Sub("bin");
        if (!Directory.Exists(bin))
        {
            Directory.CreateDirectory(bin);
            if (File.Exists("/usr/bin/aws"))
            {
                File.CreateSymbolicLink(Path.Combine(bin, "aws"), "/usr/bin/aws");
            }
        }

        return bin + ":" + Environment.GetEnvironmentVariable("PATH");
    }

    private SpotDevBoxProcess Cli() =>
        new SpotDevBoxProcess(_temp.Sub("state"))
            .Set("PATH", PathWithAwsCliV2())
            .Set("AWS_ACCESS_KEY_ID", "testing")
            .Set("AWS_SECRET_ACCESS_KEY", "testing")
            .Set("SPOTDEVBOX_Aws__Cli__EndpointUrl", moto.Endpoint)
            .Set("SPOTDEVBOX_Aws__Ec2__ServiceUrl", moto.Endpoint)
            .Set("SPOTDEVBOX_Storage__EndpointUrl", moto.Endpoint);

    private async Task<string> RegisterImageAsync(string name)
    {
        var (code, output) = await AwsAsync("ec2", "register-image", "--name", name);
        Assert.True(code == 0, output);
        return (string)JsonNode.Parse(output)!["ImageId"]!;
    }

    /// <summary>An image named as Debian's are: a copy of one of moto's, whose architecture moto knows (register-image records none).</summary>
    private async Task<string> CopyImageAsync(string name)
    {
        var (code, output) = await AwsAsync("ec2", "copy-image", "--source-image-id", "ami-760aaa0f", "--source-region", MotoFixture.Region, "--name", name);
        Assert.True(code == 0, output);
        return (string)JsonNode.Parse(output)!["ImageId"]!;
    }

    private async Task<List<string>> DefaultSubnetsAsync()
    {
        var vpcs = JsonNode.Parse((await AwsAsync("ec2", "describe-vpcs", "--filters", "Name=is-default,Values=true")).Output)!;
        var vpc = (string)vpcs["Vpcs"]![0]!["VpcId"]!;
        var subnets = JsonNode.Parse((await AwsAsync("ec2", "describe-subnets", "--filters", $"Name=vpc-id,Values={vpc}")).Output)!["Subnets"]!.AsArray();
        return [.. subnets
            .GroupBy(s => (string)s!["AvailabilityZone"]!)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => g.OrderByDescending(s => (bool?)s!["DefaultForAz"] == true).ThenBy(s => (string)s!["SubnetId"]!, StringComparer.Ordinal).Select(s => (string)s!["SubnetId"]!).First())];
    }

    private async Task<Dictionary<string, string>> StackResourcesAsync(string stack)
    {
        var (code, output) = await AwsAsync("cloudformation", "list-stack-resources", "--stack-name", stack);
        Assert.True(code == 0, output);
        return JsonNode.Parse(output)!["StackResourceSummaries"]!.AsArray()
            .Where(r => (string?)r!["PhysicalResourceId"] is { Length: > 0 })
            .ToDictionary(r => (string)r!["LogicalResourceId"]!, r => (string)r!["PhysicalResourceId"]!, StringComparer.Ordinal);
    }

    private async Task<string> GetObjectAsync(string bucket, string key)
    {
        var target = _temp.Sub("object-" + Guid.NewGuid().ToString("N"));
        var (code, output) = await AwsAsync("s3api", "get-object", "--bucket", bucket, "--key", key, target);
        Assert.True(code == 0, output);
        return await File.ReadAllTextAsync(target);
    }

    /// <summary>Debian's AWS CLI against moto, through the product's own runner (CloudFormationStacksTests' MotoAwsRunner).</summary>
    private async Task<(int Code, string Output)> AwsAsync(params string[] args)
    {
        var result = await new AwsCli(MotoFixture.Region, moto.Endpoint, new MotoAwsRunner()).RunAsync(args, CancellationToken.None);
        return (result.ExitCode, result.Stdout + result.Stderr);
    }
}
