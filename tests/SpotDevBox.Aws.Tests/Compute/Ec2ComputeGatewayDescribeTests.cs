using SpotDevBox.Core.Compute;
using TestSupport.Ec2;

namespace SpotDevBox.Aws.Tests.Compute;

/// <summary>The describe calls and TerminateInstances: filters and paging as sent, answers parsed into the project's records.</summary>
public sealed class Ec2ComputeGatewayDescribeTests : Ec2EndpointHarness
{
    [Fact]
    public async Task FindBoxInstancesAsync_AllBoxes_FiltersOnTheBoxTagKeyAndFollowsEveryPage()
    {
        for (var i = 0; i < 5; i++)
        {
            Endpoint.AddInstance(Instance($"i-000000000000000{i}", $"box-{i}"));
        }

        Endpoint.AddInstance(Instance("i-0000000000000009", box: null));
        Endpoint.PageSize = 2;

        var instances = await Gateway().FindBoxInstancesAsync(box: null, CancellationToken.None);

        Assert.Equal(["box-0", "box-1", "box-2", "box-3", "box-4"], instances.Select(i => i.Box));
        var sent = Endpoint.RequestsFor("DescribeInstances");
        Assert.Equal(3, sent.Count);
        Assert.All(sent, r =>
        {
            Assert.Equal("tag-key", r["Filter.1.Name"]);
            Assert.Equal("spotdevbox:box", r["Filter.1.Value.1"]);
            Assert.Null(r["Filter.2.Name"]);
            Assert.Equal("1000", r["MaxResults"]);
        });
        Assert.Equal([null, "page-2", "page-4"], sent.Select(r => r["NextToken"]));
    }

    [Fact]
    public async Task FindBoxInstancesAsync_OneBox_FiltersOnTheBoxTagValue()
    {
        Endpoint.AddInstance(Instance("i-0000000000000001", "alice-dev"));
        Endpoint.AddInstance(Instance("i-0000000000000002", "bob-dev"));

        var instances = await Gateway().FindBoxInstancesAsync("alice-dev", CancellationToken.None);

        Assert.Equal("i-0000000000000001", Assert.Single(instances).InstanceId);
        var sent = Assert.Single(Endpoint.RequestsFor("DescribeInstances"));
        Assert.Equal(("tag:spotdevbox:box", "alice-dev"), (sent["Filter.1.Name"], sent["Filter.1.Value.1"]));
    }

    [Fact]
    public async Task FindBoxInstancesAsync_RunningInstance_MapsEveryField()
    {
        Endpoint.AddInstance(Instance("i-0abc", "alice-dev") with
        {
            InstanceType = "m7g.large",
            AvailabilityZone = "us-east-1d",
            StateCode = 16,
            Lifecycle = "spot",
            LaunchTime = new DateTimeOffset(2026, 11, 27, 8, 30, 5, TimeSpan.Zero),
            PrivateIpAddress = "10.0.3.7",
            PublicIpAddress = "54.1.2.3",
            PublicDnsName = "ec2-54-1-2-3.compute-1.amazonaws.com",
        });

        var instance = Assert.Single(await Gateway().FindBoxInstancesAsync(null, CancellationToken.None));

        Assert.Equal(
            new BoxInstance(
                "i-0abc",
                "alice-dev",
                "alice",
                "s-1",
                "m7g.large",
                "us-east-1d",
                InstanceLifecycle.Spot,
                InstanceState.Running,
                null,
                new DateTimeOffset(2026, 11, 27, 8, 30, 5, TimeSpan.Zero),
                "10.0.3.7",
                "54.1.2.3",
                "ec2-54-1-2-3.compute-1.amazonaws.com"),
            instance);
    }

    [Fact]
    public async Task FindBoxInstancesAsync_OnDemandWithoutAddresses_IsOnDemandWithNullAddresses()
    {
        Endpoint.AddInstance(Instance("i-0abc", "alice-dev") with { Lifecycle = null, PrivateIpAddress = null, StateCode = 80 });

        var instance = Assert.Single(await Gateway().FindBoxInstancesAsync(null, CancellationToken.None));

        Assert.Equal(InstanceLifecycle.OnDemand, instance.Lifecycle);
        Assert.Equal(InstanceState.Stopped, instance.State);
        Assert.True(instance.IsLive);
        Assert.Equal((null, null, null), (instance.PrivateIpAddress, instance.PublicIpAddress, instance.PublicDnsName));
    }

    [Theory]
    [InlineData("Server.SpotInstanceTermination", "Server.SpotInstanceTermination: Spot instance termination", true)]
    [InlineData("Client.UserInitiatedShutdown", "Client.UserInitiatedShutdown: User initiated shutdown", false)]
    [InlineData("Client.InstanceInitiatedShutdown", "Client.InstanceInitiatedShutdown: Instance initiated shutdown", false)]
    public async Task FindBoxInstancesAsync_TerminatedInstance_SurfacesTheStateReason(string code, string message, bool interruption)
    {
        Endpoint.AddInstance(Instance("i-0abc", "alice-dev") with { StateCode = 48, StateReasonCode = code, StateReasonMessage = message, PrivateIpAddress = null });

        var instance = Assert.Single(await Gateway().FindBoxInstancesAsync(null, CancellationToken.None));

        Assert.Equal(InstanceState.Terminated, instance.State);
        Assert.False(instance.IsLive);
        Assert.Equal(new StateReason(code, message), instance.StateReason);
        Assert.Equal(interruption, instance.StateReason!.IsSpotInterruption);
    }

    [Fact]
    public async Task FindBoxInstancesAsync_TerminatedInstance_GivesTheTimeInItsStateTransitionReason()
    {
        Endpoint.AddInstance(Instance("i-0abc", "alice-dev") with
        {
            StateCode = 48,
            StateReasonCode = "Client.UserInitiatedShutdown",
            StateReasonMessage = "Client.UserInitiatedShutdown: User initiated shutdown",
            StateTransitionReason = "User initiated (2026-12-07 10:00:40 GMT)",
        });

        var instance = Assert.Single(await Gateway().FindBoxInstancesAsync(null, CancellationToken.None));

        Assert.Equal(new DateTimeOffset(2026, 12, 7, 10, 0, 40, TimeSpan.Zero), instance.StateTransitionTime);
    }

    [Fact]
    public async Task FindBoxInstancesAsync_RunningInstance_HasNoTransitionTime()
    {
        Endpoint.AddInstance(Instance("i-0abc", "alice-dev"));

        var instance = Assert.Single(await Gateway().FindBoxInstancesAsync(null, CancellationToken.None));

        Assert.Null(instance.StateTransitionTime);
    }

    [Fact]
    public async Task FindBoxInstancesAsync_AfterTerminateAsync_TransitionTimeIsWhenItWasTerminated()
    {
        Endpoint.AddInstance(Instance("i-0abc", "alice-dev"));
        await Gateway().TerminateAsync("i-0abc", CancellationToken.None);
        Time.Advance(TimeSpan.FromMinutes(11));

        var instance = Assert.Single(await Gateway().FindBoxInstancesAsync(null, CancellationToken.None));

        Assert.Equal(Now, instance.StateTransitionTime);
    }

    [Theory]
    [InlineData("Service initiated (2026-12-07 23:59:59 GMT)", "2026-12-07T23:59:59Z")]
    [InlineData("", null)]
    [InlineData("User initiated", null)]
    [InlineData("User initiated (not a time GMT)", null)]
    public void TransitionTime_ReasonText_TimeOrNull(string reason, string? expected)
    {
        Assert.Equal(expected is null ? (DateTimeOffset?)null : DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), SpotDevBox.Aws.Compute.Ec2ComputeGateway.TransitionTime(reason));
    }

    [Fact]
    public async Task FindBoxInstancesAsync_StateCodeWithHighByte_UsesTheLowByte()
    {
        // EC2: "The high byte is used for internal purposes and should be ignored."
        Endpoint.AddInstance(Instance("i-0abc", "alice-dev") with { StateCode = 256 + 16 });

        var instance = Assert.Single(await Gateway().FindBoxInstancesAsync(null, CancellationToken.None));

        Assert.Equal(InstanceState.Running, instance.State);
    }

    [Fact]
    public async Task DescribeSpotPricesAsync_Query_SendsTypesProductTimesAndZonesAndFollowsEveryPage()
    {
        Endpoint.AddSpotPrice(new SimulatedSpotPrice("m6i.large", "us-east-1a", "0.041200", Now.AddHours(-3)));
        Endpoint.AddSpotPrice(new SimulatedSpotPrice("m6i.large", "us-east-1a", "0.043900", Now.AddMinutes(-30)));
        Endpoint.AddSpotPrice(new SimulatedSpotPrice("m6i.large", "us-east-1b", "0.038700", Now.AddHours(-2)));
        Endpoint.AddSpotPrice(new SimulatedSpotPrice("m7i.large", "us-east-1a", "0.045100", Now.AddMinutes(-10)));
        Endpoint.AddSpotPrice(new SimulatedSpotPrice("m7i.large", "us-east-1c", "0.030000", Now.AddMinutes(-10)));
        Endpoint.PageSize = 1;
        var query = new SpotPriceQuery(["m6i.large", "m7i.large"], SpotPriceQuery.LinuxUnix, Now.AddHours(-1), Now, ["us-east-1a", "us-east-1b"]);

        var history = await Gateway().DescribeSpotPricesAsync(query, CancellationToken.None);

        var sent = Endpoint.RequestsFor("DescribeSpotPriceHistory");
        Assert.Equal(4, sent.Count);
        Assert.All(sent, r =>
        {
            Assert.Equal(["m6i.large", "m7i.large"], r.Values("InstanceType"));
            Assert.Equal(["Linux/UNIX"], r.Values("ProductDescription"));
            Assert.Equal("2026-11-27T09:00:00Z", r["StartTime"]);
            Assert.Equal("2026-11-27T10:00:00Z", r["EndTime"]);
            Assert.Equal(("availability-zone", "us-east-1a", "us-east-1b"), (r["Filter.1.Name"], r["Filter.1.Value.1"], r["Filter.1.Value.2"]));
        });

        // In range: 1a m6i at 09:30, 1a m7i at 09:50; before the start, the price then in effect per placement.
        Assert.Equal(
            [
                new SpotPricePoint("m6i.large", "us-east-1a", "Linux/UNIX", 0.041200m, Now.AddHours(-3)),
                new SpotPricePoint("m6i.large", "us-east-1b", "Linux/UNIX", 0.038700m, Now.AddHours(-2)),
                new SpotPricePoint("m6i.large", "us-east-1a", "Linux/UNIX", 0.043900m, Now.AddMinutes(-30)),
                new SpotPricePoint("m7i.large", "us-east-1a", "Linux/UNIX", 0.045100m, Now.AddMinutes(-10)),
            ],
            history.Points);
        Assert.Equal(
            [
                new SpotPricePoint("m6i.large", "us-east-1b", "Linux/UNIX", 0.038700m, Now.AddHours(-2)),
                new SpotPricePoint("m6i.large", "us-east-1a", "Linux/UNIX", 0.043900m, Now.AddMinutes(-30)),
                new SpotPricePoint("m7i.large", "us-east-1a", "Linux/UNIX", 0.045100m, Now.AddMinutes(-10)),
            ],
            history.Latest);
    }

    [Fact]
    public async Task DescribeSpotPricesAsync_PriceString_ParsedAsExactDecimal()
    {
        Endpoint.AddSpotPrice(new SimulatedSpotPrice("m6i.large", "us-east-1a", "0.100000", Now.AddMinutes(-5)));
        Endpoint.AddSpotPrice(new SimulatedSpotPrice("m6i.large", "us-east-1b", "1234.567891", Now.AddMinutes(-5)));

        var history = await Gateway().DescribeSpotPricesAsync(new SpotPriceQuery(["m6i.large"], SpotPriceQuery.LinuxUnix, Now), CancellationToken.None);

        var prices = history.Points.OrderBy(p => p.AvailabilityZone, StringComparer.Ordinal).Select(p => p.UsdPerHour).ToList();
        Assert.Equal([0.1m, 1234.567891m], prices);
        // 0.1 has no exact binary form: three of them as doubles are not 0.3, as decimals they are.
        Assert.Equal(0.3m, prices[0] + prices[0] + prices[0]);
    }

    [Fact]
    public async Task DescribeSpotPricesAsync_NoZonesNoEnd_SendsNeitherFilterNorEndTime()
    {
        await Gateway().DescribeSpotPricesAsync(new SpotPriceQuery(["m6i.large"], SpotPriceQuery.LinuxUnix, Now), CancellationToken.None);

        var sent = Assert.Single(Endpoint.RequestsFor("DescribeSpotPriceHistory"));
        Assert.Null(sent["Filter.1.Name"]);
        Assert.Null(sent["EndTime"]);
        Assert.Equal("1000", sent["MaxResults"]);
    }

    [Fact]
    public async Task TerminateAsync_RunningInstance_ReturnsShuttingDown()
    {
        Endpoint.AddInstance(Instance("i-0abc", "alice-dev"));

        var state = await Gateway().TerminateAsync("i-0abc", CancellationToken.None);

        Assert.Equal(InstanceState.ShuttingDown, state);
        Assert.Equal("i-0abc", Assert.Single(Endpoint.RequestsFor("TerminateInstances"))["InstanceId.1"]);
        Assert.Equal("Client.UserInitiatedShutdown", Endpoint.Instances.Single().StateReasonCode);
    }

    [Fact]
    public async Task TerminateAsync_UnknownInstance_ThrowsNotFound()
    {
        var e = await Assert.ThrowsAsync<ComputeException>(() => Gateway().TerminateAsync("i-0missing", CancellationToken.None));

        Assert.Equal(ComputeFailure.NotFound, e.Failure);
        Assert.Contains("InvalidInstanceID.NotFound", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DescribeImageAsync_ByName_SendsOwnersAndFiltersAndPicksTheNewestAcrossPages()
    {
        Endpoint.AddImage(new SimulatedImage("ami-old", "al2023-ami-2023.5.20240805.0-kernel-6.1-arm64", "arm64", "2024-08-05T10:00:00.000Z", OwnerId: "137112412989"));
        Endpoint.AddImage(new SimulatedImage("ami-new", "al2023-ami-2023.6.20241010.0-kernel-6.1-arm64", "arm64", "2024-10-10T10:00:00.000Z", OwnerId: "137112412989"));
        Endpoint.AddImage(new SimulatedImage("ami-x86", "al2023-ami-2023.6.20241111.0-kernel-6.1-x86_64", "x86_64", "2024-11-11T10:00:00.000Z", OwnerId: "137112412989"));
        Endpoint.AddImage(new SimulatedImage("ami-imposter", "al2023-ami-2023.9.20261231.0-kernel-6.1-arm64", "arm64", "2026-12-31T10:00:00.000Z", OwnerId: "999999999999"));
        Endpoint.PageSize = 1;

        var image = await Gateway().DescribeImageAsync(ImageSelector.ByName("al2023-ami-2023.*-kernel-6.1-arm64", ["amazon", "137112412989"]), CancellationToken.None);

        Assert.Equal(new MachineImage("ami-new", "al2023-ami-2023.6.20241010.0-kernel-6.1-arm64", CpuArchitecture.Arm64, "/dev/xvda", new DateTimeOffset(2024, 10, 10, 10, 0, 0, TimeSpan.Zero)), image);
        var sent = Endpoint.RequestsFor("DescribeImages");
        Assert.Equal(2, sent.Count);
        Assert.Equal(["amazon", "137112412989"], sent[0].Values("Owner"));
        Assert.Equal(("name", "al2023-ami-2023.*-kernel-6.1-arm64"), (sent[0]["Filter.1.Name"], sent[0]["Filter.1.Value.1"]));
        Assert.Equal(("state", "available"), (sent[0]["Filter.2.Name"], sent[0]["Filter.2.Value.1"]));
    }

    [Fact]
    public async Task DescribeImageAsync_ById_ReturnsItsArchitectureAndRootDevice()
    {
        Endpoint.AddImage(new SimulatedImage("ami-0ubuntu", "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20241001", "x86_64", "2024-10-01T00:00:00.000Z", RootDeviceName: "/dev/sda1"));

        var image = await Gateway().DescribeImageAsync(ImageSelector.ById("ami-0ubuntu"), CancellationToken.None);

        Assert.Equal((CpuArchitecture.X64, "/dev/sda1"), (image!.Architecture, image.RootDeviceName));
        Assert.Equal("ami-0ubuntu", Assert.Single(Endpoint.RequestsFor("DescribeImages"))["ImageId.1"]);
    }

    [Fact]
    public async Task DescribeImageAsync_UnknownIdOrNoMatch_IsNull()
    {
        var gateway = Gateway();

        Assert.Null(await gateway.DescribeImageAsync(ImageSelector.ById("ami-0missing"), CancellationToken.None));
        Assert.Null(await gateway.DescribeImageAsync(ImageSelector.ByName("nothing-*", ["self"]), CancellationToken.None));
    }

    [Fact]
    public async Task DescribeInstanceTypeArchitecturesAsync_Types_MapsSupportedArchitectures()
    {
        Endpoint.AddInstanceType("m6i.large", "x86_64");
        Endpoint.AddInstanceType("m7g.large", "arm64");
        Endpoint.AddInstanceType("t2.micro", "i386", "x86_64");

        var result = await Gateway().DescribeInstanceTypeArchitecturesAsync(["m6i.large", "m7g.large", "t2.micro"], CancellationToken.None);

        Assert.Equal([CpuArchitecture.X64], result["m6i.large"]);
        Assert.Equal([CpuArchitecture.Arm64], result["m7g.large"]);
        Assert.Equal([CpuArchitecture.X64], result["t2.micro"]);
        Assert.Equal(["m6i.large", "m7g.large", "t2.micro"], Assert.Single(Endpoint.RequestsFor("DescribeInstanceTypes")).Values("InstanceType"));
    }

    [Fact]
    public async Task DescribeInstanceTypeArchitecturesAsync_UnknownType_ThrowsRejectedNamingIt()
    {
        Endpoint.AddInstanceType("m6i.large", "x86_64");

        var e = await Assert.ThrowsAsync<ComputeException>(() => Gateway().DescribeInstanceTypeArchitecturesAsync(["m6i.large", "m9z.huge"], CancellationToken.None));

        Assert.Equal(ComputeFailure.Rejected, e.Failure);
        Assert.Contains("m9z.huge", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("UnauthorizedOperation", 403, ComputeFailure.Unauthorized)]
    [InlineData("RequestLimitExceeded", 503, ComputeFailure.Throttled)]
    [InlineData("InternalError", 500, ComputeFailure.Unavailable)]
    [InlineData("InvalidParameterValue", 400, ComputeFailure.Rejected)]
    public async Task FindBoxInstancesAsync_ErrorCode_ThrowsComputeFailure(string code, int status, ComputeFailure expected)
    {
        Endpoint.FailNext("DescribeInstances", new Ec2Error(code, "scripted", status));

        var e = await Assert.ThrowsAsync<ComputeException>(() => Gateway().FindBoxInstancesAsync(null, CancellationToken.None));

        Assert.Equal(expected, e.Failure);
        Assert.Contains(code, e.Message, StringComparison.Ordinal);
    }

    private static SimulatedInstance Instance(string id, string? box) => new()
    {
        InstanceId = id,
        Tags = box is null
            ? new Dictionary<string, string> { ["Name"] = "not a box" }
            : new Dictionary<string, string> { ["spotdevbox:box"] = box, ["spotdevbox:owner"] = "alice", ["spotdevbox:session"] = "s-1", ["Name"] = box },
    };
}
