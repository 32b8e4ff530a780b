using System.Diagnostics;
using System.Text.Json.Nodes;
using TestSupport;
using static SpotDevBox.Tests.Deploy.CloudFormationPolicyTests;

namespace SpotDevBox.Tests.Deploy;

/// <summary>
/// deploy/cloudformation deployed to moto (tests/peers/moto) with the AWS CLI as deploy/README.md says
/// (<c>aws cloudformation deploy ... --capabilities CAPABILITY_NAMED_IAM</c>), then read back through the CLI. Debian's
/// <c>awscli</c> (/usr/bin/aws, which scripts/test installs), else an <c>aws</c> on PATH. moto does not apply every
/// property; what it cannot show is held in <see cref="CloudFormationTemplateTests"/>. moto's account is 123456789012,
/// the account <see cref="CloudFormationPolicyTests.Rendered"/> renders deploy/iam for.
/// </summary>
[Collection("moto-stacks")]
public sealed class CloudFormationDeployTests(MotoFixture moto)
{
    private const string SshCidr = "203.0.113.7/32";

    [Fact]
    public async Task Fleet_Defaults_EncryptedBucketSshOnlyFromTheInstanceConnectEndpointAndTheDeployIamPolicies()
    {
        await moto.ResetAsync();

        var resources = await DeployFleetAsync();

        var encryption = await AwsJsonAsync("s3api", "get-bucket-encryption", "--bucket", Bucket);
        Assert.Equal("AES256", (string?)encryption["ServerSideEncryptionConfiguration"]!["Rules"]![0]!["ApplyServerSideEncryptionByDefault"]!["SSEAlgorithm"]);

        // The boxes: port 22 from the endpoint's group and from nothing else.
        var boxes = resources["BoxSecurityGroup"];
        var endpoint = resources["InstanceConnectEndpointSecurityGroup"];
        var group = await SecurityGroupAsync(boxes);
        var ingress = Assert.Single(group["IpPermissions"]!.AsArray())!;
        Assert.Equal(("tcp", 22, 22), ((string?)ingress["IpProtocol"], (int?)ingress["FromPort"], (int?)ingress["ToPort"]));
        Assert.Equal([endpoint], ingress["UserIdGroupPairs"]!.AsArray().Select(p => (string?)p!["GroupId"]));
        Assert.Empty(ingress["IpRanges"]!.AsArray());
        Assert.Empty(ingress["Ipv6Ranges"]!.AsArray());
        var egress = Assert.Single(group["IpPermissionsEgress"]!.AsArray())!;
        Assert.Equal("-1", (string?)egress["IpProtocol"]);

        var endpointGroup = await SecurityGroupAsync(endpoint);
        Assert.Equal((string?)group["VpcId"], (string?)endpointGroup["VpcId"]);
        Assert.Empty(endpointGroup["IpPermissions"]!.AsArray());
        // moto 5.2.2 applies no SecurityGroupEgress of a template (a group keeps its default allow-all rule):
        // CloudFormationTemplateTests holds that the endpoint's group lists only TCP 22 to the boxes' group.

        var repositoryKey = await KeyArnAsync(resources["RepositoryKey"]);
        foreach (var (resource, file) in new[] { ("ControllerPolicy", "controller-policy.json"), ("PeoplePolicy", "people-policy.json"), ("OperatorPolicy", "operator-policy.json") })
        {
            AssertSamePolicy(Rendered(file, repositoryKey: repositoryKey), await ManagedPolicyDocumentAsync(resources[resource]));
        }

        var role = (await AwsJsonAsync("iam", "get-role", "--role-name", resources["ControllerRole"]))["Role"]!;
        Assert.Equal("/", (string?)role["Path"]);
        Assert.Equal("arn:aws:iam::123456789012:root", (string?)role["AssumeRolePolicyDocument"]!["Statement"]![0]!["Principal"]!["AWS"]);
        var attached = await AwsJsonAsync("iam", "list-attached-role-policies", "--role-name", resources["ControllerRole"]);
        Assert.Equal([resources["ControllerPolicy"]], attached["AttachedPolicies"]!.AsArray().Select(p => (string?)p!["PolicyArn"]));
        Assert.False(resources.ContainsKey("ControllerInstanceProfile"));
        Assert.False(resources.ContainsKey("KmsPolicy"));
        Assert.Empty((await AwsJsonAsync("iam", "list-instance-profiles"))["InstanceProfiles"]!.AsArray());
    }

    /// <summary>
    /// The repositories' key: symmetric, rotated, under its alias, with deploy/iam/repository-key-policy.json as its key
    /// policy; a box given its ARN gets deploy/iam/box-repository-key-policy.json. moto stores a key policy but does not
    /// enforce it (IamPolicyEvaluatorTests.RepositoryKey_* prove what it allows and refuses). moto 5.2.2 keeps a
    /// template's KeyPolicy as an object, not the JSON text AWS keeps, which its DescribeKey then fails on (HTTP 500):
    /// the key is read through ListKeys and GetKeyPolicy instead.
    /// </summary>
    [Fact]
    public async Task Fleet_RepositoryKey_SymmetricRotatedAliasedWithTheKeyPolicy_AndTheBoxsGrant()
    {
        await moto.ResetAsync();

        var resources = await DeployFleetAsync();

        var arn = await KeyArnAsync(resources["RepositoryKey"]);
        Assert.True((bool?)(await AwsJsonAsync("kms", "get-key-rotation-status", "--key-id", arn))["KeyRotationEnabled"]);
        var aliases = (await AwsJsonAsync("kms", "list-aliases", "--key-id", resources["RepositoryKey"]))["Aliases"]!.AsArray();
        Assert.Equal(["alias/spotdevbox/fleet/repositories"], aliases.Select(a => (string?)a!["AliasName"]));
        var controllerRole = (string)(await AwsJsonAsync("iam", "get-role", "--role-name", resources["ControllerRole"]))["Role"]!["Arn"]!;
        var policy = (await AwsJsonAsync("kms", "get-key-policy", "--key-id", arn, "--policy-name", "default"))["Policy"]!;
        policy = policy is JsonValue ? JsonNode.Parse((string)policy!)! : policy;
        AssertSamePolicy(Rendered("repository-key-policy.json", controllerRole: controllerRole), policy);

        await DeployBoxAsync($"RepositoryKeyArn={arn}");
        var inline = await AwsJsonAsync("iam", "get-role-policy", "--role-name", Box, "--policy-name", "spotdevbox-box-repository-key");
        AssertSamePolicy(Rendered("box-repository-key-policy.json", repositoryKey: arn), await PolicyDocumentAsync(inline["PolicyDocument"]!));
    }

    [Fact]
    public async Task Fleet_SshViaSsm_NoInboundRuleAndNoEndpointGroup()
    {
        await moto.ResetAsync();

        var resources = await DeployFleetAsync("SshVia=ssm", $"SshCidr={SshCidr}");

        Assert.Empty((await SecurityGroupAsync(resources["BoxSecurityGroup"]))["IpPermissions"]!.AsArray());
        Assert.False(resources.ContainsKey("InstanceConnectEndpointSecurityGroup"));
        Assert.False(resources.ContainsKey("BoxSshFromInstanceConnectEndpoint"));
        var groups = (await AwsJsonAsync("ec2", "describe-security-groups"))["SecurityGroups"]!.AsArray();
        Assert.DoesNotContain(groups, g => ((string?)g!["Description"] ?? "").StartsWith("SpotDevBox EC2 Instance Connect Endpoint", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Fleet_DirectSshCidrKmsKeyAndControllerOnEc2_ThatIngressOnlyKmsEncryptionTheKeysPolicyAndAnInstanceProfile()
    {
        await moto.ResetAsync();
        var key = (string)(await AwsJsonAsync("kms", "create-key", "--description", "spotdevbox test"))["KeyMetadata"]!["Arn"]!;

        var resources = await DeployFleetAsync("SshVia=direct", $"SshCidr={SshCidr}", $"KmsKeyArn={key}", "ControllerOnEc2=true");

        var group = await SecurityGroupAsync(resources["BoxSecurityGroup"]);
        var ingress = Assert.Single(group["IpPermissions"]!.AsArray())!;
        Assert.Equal("tcp", (string?)ingress["IpProtocol"]);
        Assert.Equal(22, (int?)ingress["FromPort"]);
        Assert.Equal(22, (int?)ingress["ToPort"]);
        Assert.Equal([SshCidr], ingress["IpRanges"]!.AsArray().Select(r => (string?)r!["CidrIp"]));
        Assert.Empty(ingress["Ipv6Ranges"]!.AsArray());
        Assert.Empty(ingress["UserIdGroupPairs"]!.AsArray());
        Assert.False(resources.ContainsKey("InstanceConnectEndpointSecurityGroup"));

        var encryption = (await AwsJsonAsync("s3api", "get-bucket-encryption", "--bucket", Bucket))["ServerSideEncryptionConfiguration"]!["Rules"]![0]!["ApplyServerSideEncryptionByDefault"]!;
        Assert.Equal("aws:kms", (string?)encryption["SSEAlgorithm"]);
        Assert.Equal(key, (string?)encryption["KMSMasterKeyID"]);

        // The key's policy, through S3 of moto's region: on the controller's role, and the box's role's second inline policy.
        AssertSamePolicy(Rendered("kms-policy.json", kmsKey: key, region: MotoFixture.Region), await ManagedPolicyDocumentAsync(resources["KmsPolicy"]));
        var attached = await AwsJsonAsync("iam", "list-attached-role-policies", "--role-name", resources["ControllerRole"]);
        Assert.Equal(
            [resources["ControllerPolicy"], resources["KmsPolicy"]],
            attached["AttachedPolicies"]!.AsArray().Select(p => (string)p!["PolicyArn"]!).Order(StringComparer.Ordinal));

        await DeployBoxAsync($"KmsKeyArn={key}");
        Assert.Equal(["spotdevbox-box", "spotdevbox-box-kms"], (await AwsJsonAsync("iam", "list-role-policies", "--role-name", Box))["PolicyNames"]!.AsArray().Select(n => (string?)n).Order(StringComparer.Ordinal));
        var inline = await AwsJsonAsync("iam", "get-role-policy", "--role-name", Box, "--policy-name", "spotdevbox-box-kms");
        AssertSamePolicy(Rendered("kms-policy.json", kmsKey: key, region: MotoFixture.Region), await PolicyDocumentAsync(inline["PolicyDocument"]!));

        var profile = (await AwsJsonAsync("iam", "get-instance-profile", "--instance-profile-name", resources["ControllerInstanceProfile"]))["InstanceProfile"]!;
        var role = Assert.Single(profile["Roles"]!.AsArray())!;
        Assert.Equal(resources["ControllerRole"], (string?)role["RoleName"]);
        Assert.Equal("ec2.amazonaws.com", (string?)role["AssumeRolePolicyDocument"]!["Statement"]![0]!["Principal"]!["Service"]);
    }

    [Fact]
    public async Task Box_Deployed_RoleAndInstanceProfileUnderTheOwnersPathTaggedWithTheBoxPolicy()
    {
        await moto.ResetAsync();
        await DeployFleetAsync();

        await DeployBoxAsync();

        var role = (await AwsJsonAsync("iam", "get-role", "--role-name", Box))["Role"]!;
        Assert.Equal("/spotdevbox/alice/", (string?)role["Path"]);
        Assert.Equal("arn:aws:iam::123456789012:role/spotdevbox/alice/alice-dev", (string?)role["Arn"]);
        Assert.Equal(
            [("spotdevbox:owner", "alice"), ("spotdevbox:box", "alice-dev")],
            role["Tags"]!.AsArray().Select(t => ((string?)t!["Key"], (string?)t["Value"])));
        Assert.Equal("ec2.amazonaws.com", (string?)role["AssumeRolePolicyDocument"]!["Statement"]![0]!["Principal"]!["Service"]);

        var profile = (await AwsJsonAsync("iam", "get-instance-profile", "--instance-profile-name", Box))["InstanceProfile"]!;
        Assert.Equal("/spotdevbox/alice/", (string?)profile["Path"]);
        Assert.Equal("arn:aws:iam::123456789012:instance-profile/spotdevbox/alice/alice-dev", (string?)profile["Arn"]);
        Assert.Equal([Box], profile["Roles"]!.AsArray().Select(r => (string?)r!["RoleName"]));

        Assert.Equal(["spotdevbox-box"], (await AwsJsonAsync("iam", "list-role-policies", "--role-name", Box))["PolicyNames"]!.AsArray().Select(n => (string?)n));
        Assert.Empty((await AwsJsonAsync("iam", "list-attached-role-policies", "--role-name", Box))["AttachedPolicies"]!.AsArray());
        var inline = await AwsJsonAsync("iam", "get-role-policy", "--role-name", Box, "--policy-name", "spotdevbox-box");
        AssertSamePolicy(Rendered("box-policy.json"), await PolicyDocumentAsync(inline["PolicyDocument"]!));
    }

    [Fact]
    public async Task Box_StackDeleted_RoleGoneObjectsUnderItsPrefixStay()
    {
        await moto.ResetAsync();
        await DeployFleetAsync();
        await DeployBoxAsync();
        var work = Directory.CreateTempSubdirectory("spotdevbox-cfn-");
        try
        {
            var body = Path.Combine(work.FullName, "config");
            await File.WriteAllTextAsync(body, "the repository's config");
            await AwsAsync("s3api", "put-object", "--bucket", Bucket, "--key", $"{Root}/{Owner}/{Box}/repo/config", "--body", body, "--server-side-encryption", "AES256");

            await AwsAsync("cloudformation", "delete-stack", "--stack-name", "box-alice-dev");
            await AwsAsync("cloudformation", "wait", "stack-delete-complete", "--stack-name", "box-alice-dev");

            var (code, output) = await RunAwsAsync("iam", "get-role", "--role-name", Box);
            Assert.True(code != 0 && output.Contains("NoSuchEntity", StringComparison.Ordinal), output);
            var copy = Path.Combine(work.FullName, "copy");
            await AwsAsync("s3api", "get-object", "--bucket", Bucket, "--key", $"{Root}/{Owner}/{Box}/repo/config", copy);
            Assert.Equal("the repository's config", await File.ReadAllTextAsync(copy));
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task DocumentedCommands_RunAsWritten_DeployTheFleetAndAliceDevsBox()
    {
        await moto.ResetAsync();
        var vpc = (string)(await AwsJsonAsync("ec2", "describe-vpcs"))["Vpcs"]![0]!["VpcId"]!;
        var subnet = (string)(await AwsJsonAsync("ec2", "describe-subnets", "--filters", $"Name=vpc-id,Values={vpc}"))["Subnets"]![0]!["SubnetId"]!;
        var readme = await File.ReadAllTextAsync(Path.Combine(S3PeerFixture.RepositoryRoot, "deploy", "README.md"));
        var section = readme[readme.IndexOf("## cloudformation/", StringComparison.Ordinal)..];
        var block = section[(section.IndexOf("```sh\n", StringComparison.Ordinal) + 6)..];
        block = block[..block.IndexOf("```", StringComparison.Ordinal)];
        var commands = block.Replace("\\\n", " ", StringComparison.Ordinal).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(4, commands.Length);

        foreach (var command in commands)
        {
            var words = ShellWords(command.Replace("vpc-0123456789abcdef0", vpc, StringComparison.Ordinal).Replace("subnet-0123456789abcdef0", subnet, StringComparison.Ordinal));
            Assert.Equal("aws", words[0]);
            // The documented commands run from the repository's root.
            await AwsAsync([.. words.Skip(1).Select(w => w.StartsWith("deploy/cloudformation/", StringComparison.Ordinal) ? Path.Combine(S3PeerFixture.RepositoryRoot, w) : w)]);
        }

        Assert.Equal("CREATE_COMPLETE", (string?)(await AwsJsonAsync("cloudformation", "describe-stacks", "--stack-name", "spotdevbox"))["Stacks"]![0]!["StackStatus"]);
        var profile = (await AwsJsonAsync("iam", "get-instance-profile", "--instance-profile-name", "alice-dev"))["InstanceProfile"]!;
        Assert.Equal("arn:aws:iam::123456789012:instance-profile/spotdevbox/alice/alice-dev", (string?)profile["Arn"]);
        Assert.Equal("AES256", (string?)(await AwsJsonAsync("s3api", "get-bucket-encryption", "--bucket", "my-bucket"))["ServerSideEncryptionConfiguration"]!["Rules"]![0]!["ApplyServerSideEncryptionByDefault"]!["SSEAlgorithm"]);
    }

    /// <summary>A command line split as sh does for what the documented commands use: spaces, and single quotes.</summary>
    private static List<string> ShellWords(string line)
    {
        var words = new List<string>();
        var word = new System.Text.StringBuilder();
        var quoted = false;
        var any = false;
        foreach (var c in line)
        {
            if (c == '\'')
            {
                quoted = !quoted;
                any = true;
            }
            else if (c == ' ' && !quoted)
            {
                if (any)
                {
                    words.Add(word.ToString());
                }

                word.Clear();
                any = false;
            }
            else
            {
                word.Append(c);
                any = true;
            }
        }

        Assert.False(quoted, $"unbalanced quote in: {line}");
        if (any)
        {
            words.Add(word.ToString());
        }

        return words;
    }

    /// <summary>
    /// Deploys fleet.yaml as stack "fleet" into moto's default VPC, the Instance Connect Endpoint's subnet one of it;
    /// its resources' physical ids by logical id.
    /// </summary>
    private async Task<Dictionary<string, string>> DeployFleetAsync(params string[] overrides)
    {
        var vpc = (string)(await AwsJsonAsync("ec2", "describe-vpcs"))["Vpcs"]![0]!["VpcId"]!;
        var subnet = (string)(await AwsJsonAsync("ec2", "describe-subnets", "--filters", $"Name=vpc-id,Values={vpc}"))["Subnets"]![0]!["SubnetId"]!;
        await AwsAsync(
            [
                "cloudformation", "deploy", "--stack-name", "fleet", "--template-file", CloudFormationTemplate.PathOf("fleet.yaml"),
                "--capabilities", "CAPABILITY_NAMED_IAM",
                "--parameter-overrides", $"VpcId={vpc}", $"EndpointSubnetId={subnet}", $"BucketName={Bucket}", $"ImageOwners={string.Join(',', ImageOwners)}", .. overrides,
            ]);
        return await StackResourcesAsync("fleet");
    }

    private async Task DeployBoxAsync(params string[] overrides) =>
        await AwsAsync(
            [
                "cloudformation", "deploy", "--stack-name", "box-alice-dev", "--template-file", CloudFormationTemplate.PathOf("box.yaml"),
                "--capabilities", "CAPABILITY_NAMED_IAM", "--parameter-overrides", $"Owner={Owner}", $"Box={Box}", $"Bucket={Bucket}", .. overrides,
            ]);

    /// <summary>A managed policy's default version's document, as IAM returns it.</summary>
    private async Task<string> KeyArnAsync(string keyId) =>
        (string)(await AwsJsonAsync("kms", "list-keys"))["Keys"]!.AsArray().Single(k => (string?)k!["KeyId"] == keyId)!["KeyArn"]!;

    private async Task<JsonNode> ManagedPolicyDocumentAsync(string arn)
    {
        var policy = await AwsJsonAsync("iam", "get-policy", "--policy-arn", arn);
        var version = await AwsJsonAsync("iam", "get-policy-version", "--policy-arn", arn, "--version-id", (string)policy["Policy"]!["DefaultVersionId"]!);
        return version["PolicyVersion"]!["Document"]!;
    }

    private async Task<Dictionary<string, string>> StackResourcesAsync(string stack)
    {
        var status = (string?)(await AwsJsonAsync("cloudformation", "describe-stacks", "--stack-name", stack))["Stacks"]![0]!["StackStatus"];
        Assert.Equal("CREATE_COMPLETE", status);
        var resources = await AwsJsonAsync("cloudformation", "list-stack-resources", "--stack-name", stack);
        return resources["StackResourceSummaries"]!.AsArray()
            // moto lists resource types it does not implement (AWS::S3::BucketPolicy, AWS::EC2::InstanceConnectEndpoint) with empty ids.
            .Where(r => (string?)r!["PhysicalResourceId"] is { Length: > 0 })
            .ToDictionary(r => (string)r!["LogicalResourceId"]!, r => (string)r!["PhysicalResourceId"]!, StringComparer.Ordinal);
    }

    private async Task<JsonNode> SecurityGroupAsync(string id) =>
        Assert.Single((await AwsJsonAsync("ec2", "describe-security-groups", "--group-ids", id))["SecurityGroups"]!.AsArray())!;

    /// <summary>
    /// An inline role policy as IAM returns it. moto 5.2.2 keeps one made by CloudFormation as Python's repr of the
    /// document rather than JSON; Python reads it back exactly (ast.literal_eval), AWS returns JSON.
    /// </summary>
    private static async Task<JsonNode> PolicyDocumentAsync(JsonNode document)
    {
        if (document is JsonObject)
        {
            return document;
        }

        var python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        var (code, output) = await RunAsync(python, ["-c", "import ast, json, sys; print(json.dumps(ast.literal_eval(sys.argv[1])))", (string)document!], null);
        Assert.True(code == 0, output);
        return JsonNode.Parse(output)!;
    }

    private async Task<JsonNode> AwsJsonAsync(params string[] args) => JsonNode.Parse(await AwsAsync(args))!;

    private async Task<string> AwsAsync(params string[] args)
    {
        var (code, output) = await RunAwsAsync(args);
        Assert.True(code == 0, $"aws {string.Join(' ', args)} exited with {code}: {output}");
        return output;
    }

    private Task<(int Code, string Output)> RunAwsAsync(params string[] args) =>
        RunAsync(
            Aws(),
            ["--endpoint-url", moto.Endpoint, "--output", "json", .. args],
            new Dictionary<string, string?>(StringComparer.Ordinal)
            {
                ["AWS_ACCESS_KEY_ID"] = "testing",
                ["AWS_SECRET_ACCESS_KEY"] = "testing",
                ["AWS_SESSION_TOKEN"] = null,
                ["AWS_PROFILE"] = null,
                ["AWS_REGION"] = MotoFixture.Region,
                ["AWS_DEFAULT_REGION"] = MotoFixture.Region,
                ["AWS_CONFIG_FILE"] = "/dev/null",
                ["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null",
                ["AWS_EC2_METADATA_DISABLED"] = "true",
                ["AWS_PAGER"] = "",
                ["AWS_ENDPOINT_URL"] = null,
            });

    /// <summary>Debian's awscli, else an aws on PATH; a missing CLI fails the test with what to install.</summary>
    private static string Aws()
    {
        if (File.Exists("/usr/bin/aws"))
        {
            return "/usr/bin/aws";
        }

        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "aws"))
            .FirstOrDefault(File.Exists);
        Assert.True(
            onPath is not null,
            Environment.GetEnvironmentVariable("SPOTDEVBOX_TEST_AWSCLI_MISSING") is { Length: > 0 } why ? why : "the AWS CLI is not installed (Debian/Ubuntu: apt-get install awscli; scripts/test installs it)");
        return onPath;
    }

    private static async Task<(int Code, string Output)> RunAsync(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                start.Environment.Remove(key);
            }
            else
            {
                start.Environment[key] = value;
            }
        }

        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        var output = await stdout;
        var error = await stderr;
        return (process.ExitCode, process.ExitCode == 0 ? output : output + error);
    }
}
