using Microsoft.Extensions.Logging.Abstractions;
using Moq;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Compute;
using SpotDevBox.Core.Launch;
using TestSupport.Ec2;

namespace SpotDevBox.Aws.Tests.Compute;

/// <summary>
/// The launcher end to end: the real EC2 adapter and SDK against the query endpoint, from the box's
/// configuration to the RunInstances pairs of each attempt.
/// </summary>
public sealed class BoxLauncherEc2Tests : Ec2EndpointHarness
{
    private const string Session = "s-20261127T1000Z";

    [Fact]
    public async Task LaunchAsync_NoCapacityInTheCheapestZone_LaunchesInTheNextAndSendsBothAttempts()
    {
        Endpoint.SubnetZones["subnet-0aaa1111"] = "us-east-1a";
        Endpoint.SubnetZones["subnet-0bbb2222"] = "us-east-1b";
        Endpoint.AddImage(new SimulatedImage("ami-0abcdef1234567890", "debian-12-amd64-20261101", "x86_64", "2026-11-01T12:00:00.000Z"));
        Endpoint.AddInstanceType("m7i.large", "x86_64");
        Endpoint.AddInstanceType("m6i.large", "x86_64");
        Endpoint.AddInstanceType("m7g.large", "arm64");
        var before = Now.AddHours(-3);
        Endpoint.AddSpotPrice(new SimulatedSpotPrice("m6i.large", "us-east-1a", "0.030000", before));
        Endpoint.AddSpotPrice(new SimulatedSpotPrice("m6i.large", "us-east-1b", "0.032000", before));
        Endpoint.AddSpotPrice(new SimulatedSpotPrice("m7i.large", "us-east-1a", "0.035000", before));
        Endpoint.AddSpotPrice(new SimulatedSpotPrice("m7i.large", "us-east-1b", "0.041000", before));
        Endpoint.AddSpotPrice(new SimulatedSpotPrice("m7g.large", "us-east-1a", "0.020000", before));
        Endpoint.FailNextRunInstances(new Ec2Error("InsufficientInstanceCapacity", "There is no Spot capacity available that matches your request.", 500), availabilityZone: "us-east-1a");
        var factory = new Mock<IComputeGatewayFactory>();
        factory.Setup(f => f.ForRegion("us-east-1")).Returns(Gateway());
        var launcher = new BoxLauncher(factory.Object, new BoxLaunchGate(), Time, NullLogger<BoxLauncher>.Instance);

        var result = await launcher.LaunchAsync(new BoxLaunch("alice-dev", Options(), Session, _ => "#cloud-config\n"), CancellationToken.None);

        var launched = Assert.IsType<LaunchResult.Launched>(result);
        Assert.Equal(("m6i.large", "us-east-1b", InstanceLifecycle.Spot), (launched.Instance.InstanceType, launched.Instance.AvailabilityZone, launched.Instance.Lifecycle));
        Assert.Equal(new LaunchCandidate("m6i.large", "us-east-1b", "subnet-0bbb2222", InstanceLifecycle.Spot, 0.032m), launched.Candidate);
        Assert.Equal(
            [
                "m7g.large: arm64 does not match the AMI's x86_64",
                "m7i.large in us-east-1b (subnet-0bbb2222): spot $0.041/h is over the max price $0.04/h",
                "m6i.large in us-east-1a (subnet-0aaa1111), spot at $0.03/h: InsufficientInstanceCapacity: There is no Spot capacity available that matches your request.",
            ],
            launched.PassedOver.Select(p => p.Reason));

        var runs = Endpoint.RequestsFor("RunInstances");
        Assert.Equal(2, runs.Count);
        Assert.Equal(
            [("m6i.large", "subnet-0aaa1111", ClientTokens.Derive("alice-dev", Session, "m6i.large", "subnet-0aaa1111", InstanceLifecycle.Spot)),
             ("m6i.large", "subnet-0bbb2222", ClientTokens.Derive("alice-dev", Session, "m6i.large", "subnet-0bbb2222", InstanceLifecycle.Spot))],
            runs.Select(r => (r["InstanceType"]!, r["SubnetId"]!, r["ClientToken"]!)));
        Assert.All(runs, r =>
        {
            Assert.Equal("ami-0abcdef1234567890", r["ImageId"]);
            Assert.Null(r["Placement.AvailabilityZone"]);
            Assert.Equal("spot", r["InstanceMarketOptions.MarketType"]);
            Assert.Equal("one-time", r["InstanceMarketOptions.SpotOptions.SpotInstanceType"]);
            Assert.Equal("terminate", r["InstanceMarketOptions.SpotOptions.InstanceInterruptionBehavior"]);
            Assert.Equal("0.04", r["InstanceMarketOptions.SpotOptions.MaxPrice"]);
            Assert.Equal("required", r["MetadataOptions.HttpTokens"]);
            Assert.Equal("/dev/xvda", r["BlockDeviceMapping.1.DeviceName"]);
            Assert.Equal("40", r["BlockDeviceMapping.1.Ebs.VolumeSize"]);
            Assert.Equal("sg-0123abcd", r["SecurityGroupId.1"]);
            Assert.Equal("alice-laptop", r["KeyName"]);
            Assert.Equal("spotdevbox-box", r["IamInstanceProfile.Name"]);
            Assert.Equal("I2Nsb3VkLWNvbmZpZwo=", r["UserData"]);
            Assert.Equal(
                new Dictionary<string, string> { ["spotdevbox:box"] = "alice-dev", ["spotdevbox:owner"] = "alice", ["spotdevbox:session"] = Session, ["Name"] = "alice-dev" },
                r.TagsFor("instance"));
        });

        // Before the launches: the live-instance check, then the lookups, each once.
        Assert.Equal(
            ["DescribeInstances", "DescribeImages", "DescribeInstanceTypes", "DescribeSubnets", "DescribeSpotPriceHistory", "RunInstances", "RunInstances"],
            Endpoint.Requests.Select(r => r.Action));
        var prices = Assert.Single(Endpoint.RequestsFor("DescribeSpotPriceHistory"));
        Assert.Equal("2026-11-27T09:00:00Z", prices["StartTime"]);
        Assert.Equal("Linux/UNIX", prices["ProductDescription.1"]);
        Assert.Equal(["us-east-1a", "us-east-1b"], prices.Filters()["availability-zone"]);
        Assert.Equal(("tag:spotdevbox:box", "alice-dev"), (Endpoint.Requests[0]["Filter.1.Name"], Endpoint.Requests[0]["Filter.1.Value.1"]));
    }

    private static BoxOptions Options()
    {
        var options = new BoxOptions
        {
            Owner = "alice",
            Region = "us-east-1",
            ImageId = "ami-0abcdef1234567890",
            KeyPair = "alice-laptop",
            InstanceProfile = "spotdevbox-box",
            RootVolumeGiB = 40,
            MaxPrice = 0.04m,
        };
        foreach (var type in new[] { "m7i.large", "m6i.large", "m7g.large" })
        {
            options.InstanceTypes.Add(type);
        }

        options.Subnets.Add("subnet-0aaa1111");
        options.Subnets.Add("subnet-0bbb2222");
        options.SecurityGroups.Add("sg-0123abcd");
        return options;
    }
}
