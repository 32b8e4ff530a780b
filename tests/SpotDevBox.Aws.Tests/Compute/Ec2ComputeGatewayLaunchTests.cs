using System.Text;
using SpotDevBox.Core.Compute;
using TestSupport.Ec2;

namespace SpotDevBox.Aws.Tests.Compute;

/// <summary>
/// RunInstances as the SDK actually sends it. Expected pairs are written from the EC2 query reference
/// (flattened, 1-based) and from what docs/ec2-adapter.md says every box gets.
/// </summary>
public sealed class Ec2ComputeGatewayLaunchTests : Ec2EndpointHarness
{
    [Fact]
    public async Task LaunchAsync_Spot_SendsOneTimeSpotTerminatingOnInterruption()
    {
        var outcome = await Gateway().LaunchAsync(Launch(maxPrice: 0.0525m), CancellationToken.None);

        Assert.IsType<LaunchOutcome.Launched>(outcome);
        var sent = Assert.Single(Endpoint.RequestsFor("RunInstances"));
        Assert.Equal("spot", sent["InstanceMarketOptions.MarketType"]);
        Assert.Equal("one-time", sent["InstanceMarketOptions.SpotOptions.SpotInstanceType"]);
        Assert.Equal("terminate", sent["InstanceMarketOptions.SpotOptions.InstanceInterruptionBehavior"]);
        Assert.Equal("0.0525", sent["InstanceMarketOptions.SpotOptions.MaxPrice"]);
        Assert.Equal("2016-11-15", sent["Version"]);
    }

    [Fact]
    public async Task LaunchAsync_SpotWithoutMaxPrice_LeavesMaxPriceToEc2()
    {
        await Gateway().LaunchAsync(Launch(), CancellationToken.None);

        var sent = Assert.Single(Endpoint.RequestsFor("RunInstances"));
        Assert.Equal("spot", sent["InstanceMarketOptions.MarketType"]);
        Assert.Null(sent["InstanceMarketOptions.SpotOptions.MaxPrice"]);
    }

    [Fact]
    public async Task LaunchAsync_OnDemand_SendsNoMarketOptions()
    {
        var outcome = await Gateway().LaunchAsync(Launch(market: InstanceLifecycle.OnDemand), CancellationToken.None);

        var launched = Assert.IsType<LaunchOutcome.Launched>(outcome);
        Assert.Equal(InstanceLifecycle.OnDemand, launched.Instance.Lifecycle);
        var sent = Assert.Single(Endpoint.RequestsFor("RunInstances"));
        Assert.DoesNotContain(sent.Parameters.Keys, k => k.StartsWith("InstanceMarketOptions", StringComparison.Ordinal));
    }

    [Fact]
    public async Task LaunchAsync_Always_RequiresImdsV2WithHopLimitOneAndTerminatesOnShutdown()
    {
        await Gateway().LaunchAsync(Launch(), CancellationToken.None);

        var sent = Assert.Single(Endpoint.RequestsFor("RunInstances"));
        Assert.Equal("required", sent["MetadataOptions.HttpTokens"]);
        Assert.Equal("enabled", sent["MetadataOptions.HttpEndpoint"]);
        Assert.Equal("1", sent["MetadataOptions.HttpPutResponseHopLimit"]);
        Assert.Equal("terminate", sent["InstanceInitiatedShutdownBehavior"]);
        Assert.Equal(("1", "1"), (sent["MinCount"], sent["MaxCount"]));
    }

    [Fact]
    public async Task LaunchAsync_Always_TagsInstanceAndVolumeWithBoxOwnerSessionAndName()
    {
        await Gateway().LaunchAsync(Launch(), CancellationToken.None);

        var sent = Assert.Single(Endpoint.RequestsFor("RunInstances"));
        var expected = new Dictionary<string, string>
        {
            ["spotdevbox:box"] = "alice-dev",
            ["spotdevbox:owner"] = "alice",
            ["spotdevbox:session"] = "2026-11-27T08-30-00Z",
            ["Name"] = "alice-dev",
            ["team"] = "platform",
        };
        Assert.Equal(expected, sent.TagsFor("instance"));
        Assert.Equal(expected, sent.TagsFor("volume"));
    }

    [Fact]
    public async Task LaunchAsync_Always_MapsAnEncryptedRootVolumeDeletedWithTheInstance()
    {
        await Gateway().LaunchAsync(Launch(), CancellationToken.None);

        var sent = Assert.Single(Endpoint.RequestsFor("RunInstances"));
        Assert.Equal("/dev/xvda", sent["BlockDeviceMapping.1.DeviceName"]);
        Assert.Equal("40", sent["BlockDeviceMapping.1.Ebs.VolumeSize"]);
        Assert.Equal("gp3", sent["BlockDeviceMapping.1.Ebs.VolumeType"]);
        Assert.Equal("true", sent["BlockDeviceMapping.1.Ebs.Encrypted"]);
        Assert.Equal("true", sent["BlockDeviceMapping.1.Ebs.DeleteOnTermination"]);
        Assert.Null(sent["BlockDeviceMapping.2.DeviceName"]);
    }

    [Fact]
    public async Task LaunchAsync_Always_SendsPlacementIdentityAndBase64UserData()
    {
        var request = Launch();

        await Gateway().LaunchAsync(request, CancellationToken.None);

        var sent = Assert.Single(Endpoint.RequestsFor("RunInstances"));
        Assert.Equal("ami-0abcdef1234567890", sent["ImageId"]);
        Assert.Equal("m6i.large", sent["InstanceType"]);
        Assert.Equal("subnet-0aaa1111", sent["SubnetId"]);
        Assert.Null(sent["Placement.AvailabilityZone"]);
        Assert.Equal(["sg-0123", "sg-0456"], sent.Values("SecurityGroupId"));
        Assert.Equal("alice-laptop", sent["KeyName"]);
        Assert.Equal("spotdevbox-box", sent["IamInstanceProfile.Name"]);
        Assert.Null(sent["IamInstanceProfile.Arn"]);
        Assert.Equal(request.ClientToken, sent["ClientToken"]);
        Assert.Equal(
            "I2Nsb3VkLWNvbmZpZwpydW5jbWQ6CiAgLSBbIHN5c3RlbWN0bCwgc3RhcnQsIHNwb3RkZXZib3gtYWdlbnQgXQo=",
            sent["UserData"]);
        Assert.Equal(request.UserData, Encoding.UTF8.GetString(Convert.FromBase64String(sent["UserData"]!)));
    }

    [Fact]
    public async Task LaunchAsync_InstanceProfileArn_SendsArnNotName()
    {
        var request = Launch() with { InstanceProfile = "arn:aws:iam::123456789012:instance-profile/spotdevbox-box" };

        await Gateway().LaunchAsync(request, CancellationToken.None);

        var sent = Assert.Single(Endpoint.RequestsFor("RunInstances"));
        Assert.Equal("arn:aws:iam::123456789012:instance-profile/spotdevbox-box", sent["IamInstanceProfile.Arn"]);
        Assert.Null(sent["IamInstanceProfile.Name"]);
    }

    [Fact]
    public async Task LaunchAsync_NoSubnet_PlacesInTheRequestedZone()
    {
        var request = Launch(subnetId: null) with { AvailabilityZone = "us-east-1c" };

        var outcome = await Gateway().LaunchAsync(request, CancellationToken.None);

        var sent = Assert.Single(Endpoint.RequestsFor("RunInstances"));
        Assert.Equal("us-east-1c", sent["Placement.AvailabilityZone"]);
        Assert.Null(sent["SubnetId"]);
        Assert.Equal("us-east-1c", Assert.IsType<LaunchOutcome.Launched>(outcome).Instance.AvailabilityZone);
    }

    [Fact]
    public async Task LaunchAsync_Launched_ReturnsThePendingSpotInstanceWithItsTags()
    {
        Endpoint.SubnetZones["subnet-0aaa1111"] = "us-east-1b";

        var outcome = await Gateway().LaunchAsync(Launch(), CancellationToken.None);

        var instance = Assert.IsType<LaunchOutcome.Launched>(outcome).Instance;
        Assert.Equal(Endpoint.Instances.Single().InstanceId, instance.InstanceId);
        Assert.Equal(("alice-dev", "alice", "2026-11-27T08-30-00Z"), (instance.Box, instance.Owner, instance.SessionId));
        Assert.Equal(("m6i.large", "us-east-1b"), (instance.InstanceType, instance.AvailabilityZone));
        Assert.Equal(InstanceLifecycle.Spot, instance.Lifecycle);
        Assert.Equal(InstanceState.Pending, instance.State);
        Assert.True(instance.IsLive);
        Assert.Equal(Now, instance.LaunchTime);
    }

    [Fact]
    public async Task LaunchAsync_SameClientTokenTwice_ReturnsTheSameInstance()
    {
        var gateway = Gateway();

        var first = await gateway.LaunchAsync(Launch(), CancellationToken.None);
        var second = await gateway.LaunchAsync(Launch(), CancellationToken.None);

        Assert.Equal(
            Assert.IsType<LaunchOutcome.Launched>(first).Instance.InstanceId,
            Assert.IsType<LaunchOutcome.Launched>(second).Instance.InstanceId);
        Assert.Single(Endpoint.Instances);
        Assert.Equal(2, Endpoint.RequestsFor("RunInstances").Count);
    }

    [Fact]
    public async Task LaunchAsync_ThrottledOnceWithRetries_SdkRetriesWithTheSameClientToken()
    {
        Endpoint.FailNext("RunInstances", new Ec2Error("RequestLimitExceeded", "Request limit exceeded.", 503));

        var outcome = await Gateway(maxErrorRetry: 1).LaunchAsync(Launch(), CancellationToken.None);

        Assert.IsType<LaunchOutcome.Launched>(outcome);
        var sent = Endpoint.RequestsFor("RunInstances");
        Assert.Equal(2, sent.Count);
        Assert.Equal(sent[0]["ClientToken"], sent[1]["ClientToken"]);
        Assert.Single(Endpoint.Instances);
    }

    [Fact]
    public async Task LaunchAsync_InvalidRequest_ReturnsInvalidRequestWithoutCallingEc2()
    {
        var request = Launch() with { Tags = new Dictionary<string, string> { ["aws:cloudformation:stack-name"] = "x" }, ClientToken = new string('t', 65) };

        var outcome = await Gateway().LaunchAsync(request, CancellationToken.None);

        var invalid = Assert.IsType<LaunchOutcome.InvalidRequest>(outcome);
        Assert.Contains("ClientToken", invalid.Message, StringComparison.Ordinal);
        Assert.Contains("aws:", invalid.Message, StringComparison.Ordinal);
        Assert.Empty(Endpoint.Requests);
    }
}
