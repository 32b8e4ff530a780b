using System.Text.Json;
using SpotDevBox.Core.Compute;
using TestSupport;
using TestSupport.Ec2;

namespace SpotDevBox.Aws.Tests.Compute;

/// <summary>
/// deploy/iam/controller-policy.json against what the gateway actually sends: every EC2 action on the
/// wire is allowed, and nothing else is. ec2:CreateTags is the one action that never appears on the
/// wire: RunInstances needs it to tag on create. Its S3 statements: the agent builds manifest, the
/// boxes' control documents (read and write) and what the agents write (read only).
/// </summary>
public sealed class ControllerPolicyTests : Ec2EndpointHarness
{
    private static readonly string PolicyPath = Path.Combine(S3PeerFixture.RepositoryRoot, "deploy", "iam", "controller-policy.json");

    [Fact]
    public async Task Policy_Ec2Actions_AreExactlyTheOperationsTheGatewayCalls()
    {
        var wire = await ActionsOfEveryGatewayMethodAsync();

        var allowed = Statements().SelectMany(s => Actions(s)).Where(a => a.StartsWith("ec2:", StringComparison.Ordinal)).ToHashSet();

        Assert.Equal(wire.Select(a => "ec2:" + a).Append("ec2:CreateTags").Order(StringComparer.Ordinal), allowed.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Policy_NoStatement_AllowsAWildcardAction()
    {
        Assert.All(Statements(), s => Assert.All(Actions(s), a => Assert.DoesNotContain("*", a, StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("ec2:TerminateInstances", "aws:ResourceTag/spotdevbox:box")]
    [InlineData("ec2:CreateTags", "ec2:CreateAction")]
    [InlineData("iam:PassRole", "iam:PassedToService")]
    public void Policy_ActionThatChangesThings_IsConditioned(string action, string conditionKey)
    {
        var statements = Statements().Where(s => Actions(s).Contains(action)).ToList();

        Assert.NotEmpty(statements);
        Assert.All(statements, s => Assert.Contains(
            s.GetProperty("Condition").EnumerateObject().SelectMany(op => op.Value.EnumerateObject()),
            c => c.Name == conditionKey));
    }

    [Fact]
    public void Policy_RunInstancesOnInstances_RequiresTheBoxAndOwnerTagsAndAnInstanceProfileUnderSpotdevbox()
    {
        var statement = Assert.Single(Statements(), s =>
            Actions(s).Contains("ec2:RunInstances") && Resources(s).Any(r => r.EndsWith(":instance/*", StringComparison.Ordinal)));

        Assert.Equal(["arn:aws:ec2:*:ACCOUNT_ID:instance/*"], Resources(statement));
        var condition = statement.GetProperty("Condition");
        Assert.Equal("?*", condition.GetProperty("StringLike").GetProperty("aws:RequestTag/spotdevbox:box").GetString());
        Assert.Equal("?*", condition.GetProperty("StringLike").GetProperty("aws:RequestTag/spotdevbox:owner").GetString());
        Assert.Equal("arn:aws:iam::ACCOUNT_ID:instance-profile/spotdevbox/*", condition.GetProperty("ArnLike").GetProperty("ec2:InstanceProfile").GetString());
    }

    [Fact]
    public void Policy_RunInstancesOnVolumes_RequiresTheBoxAndOwnerTags()
    {
        var statement = Assert.Single(Statements(), s =>
            Actions(s).Contains("ec2:RunInstances") && Resources(s).Any(r => r.EndsWith(":volume/*", StringComparison.Ordinal)));

        Assert.Equal(["arn:aws:ec2:*:ACCOUNT_ID:volume/*"], Resources(statement));
        Assert.Equal("?*", statement.GetProperty("Condition").GetProperty("StringLike").GetProperty("aws:RequestTag/spotdevbox:box").GetString());
        Assert.Equal("?*", statement.GetProperty("Condition").GetProperty("StringLike").GetProperty("aws:RequestTag/spotdevbox:owner").GetString());
    }

    [Fact]
    public void Policy_RunInstancesOnImages_OnlyOfTheConfiguredImageOwners()
    {
        var statement = Assert.Single(Statements(), s =>
            Actions(s).Contains("ec2:RunInstances") && Resources(s).Any(r => r.Contains(":image/", StringComparison.Ordinal)));

        Assert.Equal(["arn:aws:ec2:*::image/*", "arn:aws:ec2:*:ACCOUNT_ID:image/*"], Resources(statement));
        Assert.Equal(["IMAGE_OWNERS"], Strings(statement.GetProperty("Condition").GetProperty("StringEquals").GetProperty("ec2:Owner")));
    }

    [Fact]
    public void Policy_AssociateAddress_OnlyBoxInstancesAndElasticIpsTaggedForABox()
    {
        var statements = Statements().Where(s => Actions(s).Contains("ec2:AssociateAddress")).ToList();

        var onInstances = Assert.Single(statements, s => Resources(s).Any(r => r.EndsWith(":instance/*", StringComparison.Ordinal)));
        Assert.Equal(["arn:aws:ec2:*:ACCOUNT_ID:instance/*"], Resources(onInstances));
        Assert.Equal("?*", onInstances.GetProperty("Condition").GetProperty("StringLike").GetProperty("aws:ResourceTag/spotdevbox:box").GetString());
        // Each resource of the call is checked against its own tags: the address must carry spotdevbox:box itself.
        var onAddresses = Assert.Single(statements, s => !Resources(s).Any(r => r.EndsWith(":instance/*", StringComparison.Ordinal)));
        Assert.Equal(["arn:aws:ec2:*:ACCOUNT_ID:elastic-ip/*"], Resources(onAddresses));
        Assert.Equal(["ec2:AssociateAddress"], Actions(onAddresses));
        Assert.Equal("?*", onAddresses.GetProperty("Condition").GetProperty("StringLike").GetProperty("aws:ResourceTag/spotdevbox:box").GetString());
    }

    [Fact]
    public void Policy_PassRole_OnlyRolesUnderTheSpotdevboxPath()
    {
        var statement = Assert.Single(Statements(), s => Actions(s).Contains("iam:PassRole"));

        Assert.Equal(["arn:aws:iam::ACCOUNT_ID:role/spotdevbox/*"], Resources(statement));
        Assert.Equal("ec2.amazonaws.com", statement.GetProperty("Condition").GetProperty("StringEquals").GetProperty("iam:PassedToService").GetString());
    }

    [Fact]
    public void Policy_S3_ReadsTheManifestWhatAgentsWriteAndTheBudgetOverridesAndWritesOnlyControlDocumentsAndLaunchClaims()
    {
        var allowed = Statements()
            .Where(s => s.GetProperty("Effect").GetString() == "Allow")
            .SelectMany(s => Actions(s).Where(a => a.StartsWith("s3:", StringComparison.Ordinal)).SelectMany(a => Resources(s).Select(r => $"{a} {r}")))
            .Order(StringComparer.Ordinal);

        Assert.Equal(
        [
            "s3:GetObject arn:aws:s3:::BUCKET/AGENT_BUILDS_PREFIX/manifest.json",
            "s3:GetObject arn:aws:s3:::BUCKET/ROOT/*/control.json",
            "s3:GetObject arn:aws:s3:::BUCKET/ROOT/*/host-keys.pub",
            "s3:GetObject arn:aws:s3:::BUCKET/ROOT/*/interruptions/*",
            "s3:GetObject arn:aws:s3:::BUCKET/ROOT/*/launch.json",
            "s3:GetObject arn:aws:s3:::BUCKET/ROOT/*/sessions/*",
            "s3:GetObject arn:aws:s3:::BUCKET/ROOT/*/status.json",
            "s3:GetObject arn:aws:s3:::BUCKET/ROOT/_operator/budget-overrides/*",
            "s3:ListBucket arn:aws:s3:::BUCKET",
            "s3:PutObject arn:aws:s3:::BUCKET/ROOT/*/control.json",
            "s3:PutObject arn:aws:s3:::BUCKET/ROOT/*/launch.json",
        ], allowed);
    }

    [Fact]
    public void Policy_S3List_OnlyUnderTheBoxesPrefix()
    {
        var statement = Assert.Single(Statements(), s => Actions(s).Contains("s3:ListBucket"));

        Assert.Equal(["ROOT/*"], Strings(statement.GetProperty("Condition").GetProperty("StringLike").GetProperty("s3:prefix")));
    }

    [Fact]
    public void Policy_S3Put_DeniedWithoutServerSideEncryption()
    {
        var deny = Assert.Single(Statements(), s => s.GetProperty("Effect").GetString() == "Deny");

        Assert.Equal(["s3:PutObject"], Actions(deny));
        Assert.Equal(["arn:aws:s3:::BUCKET/ROOT/*"], Resources(deny));
        Assert.Equal("true", deny.GetProperty("Condition").GetProperty("Null").GetProperty("s3:x-amz-server-side-encryption").GetString());
    }

    [Fact]
    public async Task SetupPolicy_SetupsOwnEc2Calls_AreAllowed()
    {
        Endpoint.AddInstanceType("m6i.large", "x86_64");
        var gateway = Gateway();
        try
        {
            await gateway.DescribeVpcAsync(null, CancellationToken.None);
        }
        catch (ComputeException)
        {
            // The simulator does not answer DescribeVpcs: the request on the wire is what counts.
        }

        await gateway.DescribeImageAsync(ImageSelector.ByName("debian-12-amd64-*", ["136693071363"]), CancellationToken.None);
        await gateway.DescribeInstanceTypeArchitecturesAsync(["m6i.large"], CancellationToken.None);
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(S3PeerFixture.RepositoryRoot, "deploy", "iam", "setup-policy.json")));
        var allowed = document.RootElement.GetProperty("Statement").EnumerateArray()
            .Where(st => st.GetProperty("Effect").GetString() == "Allow")
            .SelectMany(st => Actions(st))
            .ToHashSet(StringComparer.Ordinal);

        var wire = Endpoint.Requests.Select(r => "ec2:" + r.Action).Distinct(StringComparer.Ordinal).ToList();
        Assert.Contains("ec2:DescribeVpcs", wire);
        Assert.All(wire, a => Assert.Contains(a, allowed));
        // On EC2, DescribeVpcs is followed by DescribeSubnets of the VPC it names (the simulator names none).
        Assert.Contains("ec2:DescribeSubnets", allowed);
    }

    private async Task<IReadOnlyList<string>> ActionsOfEveryGatewayMethodAsync()
    {
        Endpoint.AddInstance(new SimulatedInstance { InstanceId = "i-0abc", Tags = new Dictionary<string, string> { [BoxTags.Box] = "alice-dev" } });
        Endpoint.AddInstanceType("m6i.large", "x86_64");
        Endpoint.SubnetZones["subnet-0aaa1111"] = "us-east-1a";
        Endpoint.AddAddress(new SimulatedAddress("eipalloc-0a1b2c3d4e5f60718", "203.0.113.25"));
        var gateway = Gateway();

        // One call per IComputeGateway method; a method added to the port without a line here fails the count below.
        await gateway.DescribeSpotPricesAsync(new SpotPriceQuery(["m6i.large"], SpotPriceQuery.LinuxUnix, Now), CancellationToken.None);
        await gateway.FindBoxInstancesAsync(null, CancellationToken.None);
        await gateway.LaunchAsync(Launch(), CancellationToken.None);
        await gateway.AssociateAddressAsync("eipalloc-0a1b2c3d4e5f60718", "i-0abc", CancellationToken.None);
        await gateway.TerminateAsync("i-0abc", CancellationToken.None);
        await gateway.DescribeImageAsync(ImageSelector.ByName("al2023-*", ["amazon"]), CancellationToken.None);
        await gateway.DescribeInstanceTypeArchitecturesAsync(["m6i.large"], CancellationToken.None);
        await gateway.DescribeSubnetZonesAsync(["subnet-0aaa1111"], CancellationToken.None);
        // DescribeVpcAsync is setup's alone (the person who deploys: deploy/iam/setup-policy.json, held to its calls
        // by SetupPolicy_SetupsOwnEc2Calls_AreAllowed); the controller never calls it.
        Assert.Equal(9, typeof(IComputeGateway).GetMethods().Count(m => !m.IsSpecialName));

        return [.. Endpoint.Requests.Select(r => r.Action).Distinct(StringComparer.Ordinal)];
    }

    private static List<JsonElement> Statements()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(PolicyPath));
        return [.. document.RootElement.GetProperty("Statement").EnumerateArray().Select(s => s.Clone())];
    }

    private static IReadOnlyList<string> Actions(JsonElement statement) => Strings(statement.GetProperty("Action"));

    private static IReadOnlyList<string> Resources(JsonElement statement) => Strings(statement.GetProperty("Resource"));

    private static IReadOnlyList<string> Strings(JsonElement value) =>
        value.ValueKind == JsonValueKind.Array ? [.. value.EnumerateArray().Select(v => v.GetString()!)] : [value.GetString()!];
}
