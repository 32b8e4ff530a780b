using Microsoft.Extensions.Time.Testing;
using Moq;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Compute;
using SpotDevBox.Core.Launch;

namespace SpotDevBox.Core.Tests.Launch;

/// <summary>
/// The launcher around a mocked gateway. The box allows m7i.large then m6i.large in two subnets; the spot
/// prices make the order m6i.large/1a ($0.03), m6i.large/1b ($0.032), m7i.large/1a ($0.035), m7i.large/1b ($0.036).
/// </summary>
public sealed class BoxLauncherTests
{
    private const string Box = "alice-dev";
    private const string Session = "s-20261127T0830Z";
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 8, 30, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Now);
    private readonly Mock<IComputeGateway> _gateway = new(MockBehavior.Strict);
    private readonly RecordingLogger<BoxLauncher> _logger = new();
    private readonly List<LaunchRequest> _launches = [];
    private readonly Queue<LaunchOutcome> _outcomes = new();
    private SpotPriceQuery? _priceQuery;

    public BoxLauncherTests()
    {
        _gateway.SetupGet(g => g.Region).Returns("eu-central-1");
        _gateway.Setup(g => g.FindBoxInstancesAsync(Box, It.IsAny<CancellationToken>())).ReturnsAsync([]);
        _gateway.Setup(g => g.DescribeImageAsync(It.IsAny<ImageSelector>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new MachineImage("ami-0abcdef1234567890", "debian-12-amd64-20261101", CpuArchitecture.X64, "/dev/xvda", Now.AddDays(-26)));
        _gateway.Setup(g => g.DescribeInstanceTypeArchitecturesAsync(It.IsAny<IReadOnlyCollection<string>>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new Dictionary<string, IReadOnlySet<CpuArchitecture>>
            {
                ["m7i.large"] = new HashSet<CpuArchitecture> { CpuArchitecture.X64 },
                ["m6i.large"] = new HashSet<CpuArchitecture> { CpuArchitecture.X64 },
            });
        _gateway.Setup(g => g.DescribeSubnetZonesAsync(It.IsAny<IReadOnlyList<string>>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new Dictionary<string, string> { ["subnet-0aaa1111"] = "eu-central-1a", ["subnet-0bbb2222"] = "eu-central-1b" });
        _gateway.Setup(g => g.DescribeSpotPricesAsync(It.IsAny<SpotPriceQuery>(), It.IsAny<CancellationToken>()))
            .Callback<SpotPriceQuery, CancellationToken>((q, _) => _priceQuery = q)
            .ReturnsAsync(new SpotPriceHistory(
            [
                new("m6i.large", "eu-central-1a", SpotPriceQuery.LinuxUnix, 0.030m, Now.AddHours(-3)),
                new("m6i.large", "eu-central-1b", SpotPriceQuery.LinuxUnix, 0.032m, Now.AddHours(-3)),
                new("m7i.large", "eu-central-1a", SpotPriceQuery.LinuxUnix, 0.035m, Now.AddHours(-3)),
                new("m7i.large", "eu-central-1b", SpotPriceQuery.LinuxUnix, 0.036m, Now.AddHours(-3)),
            ]));
        _gateway.Setup(g => g.LaunchAsync(It.IsAny<LaunchRequest>(), It.IsAny<CancellationToken>()))
            .Returns<LaunchRequest, CancellationToken>((r, _) =>
            {
                lock (_launches)
                {
                    _launches.Add(r);
                }

                return Task.FromResult(_outcomes.Count > 0 ? _outcomes.Dequeue() : Launched(r));
            });
    }

    [Fact]
    public async Task LaunchAsync_FirstCandidateLaunches_SendsTheBoxsRequestForTheCheapestPlacement()
    {
        var result = await Launcher().LaunchAsync(Launch(Options()), CancellationToken.None);

        var launched = Assert.IsType<LaunchResult.Launched>(result);
        Assert.Equal(new LaunchCandidate("m6i.large", "eu-central-1a", "subnet-0aaa1111", InstanceLifecycle.Spot, 0.030m), launched.Candidate);
        var request = Assert.Single(_launches);
        Assert.Equal(
            new LaunchRequest
            {
                Box = Box,
                Owner = "alice",
                SessionId = Session,
                InstanceType = "m6i.large",
                ImageId = "ami-0abcdef1234567890",
                SubnetId = "subnet-0aaa1111",
                AvailabilityZone = null,
                SecurityGroupIds = request.SecurityGroupIds,
                KeyName = "alice-laptop",
                InstanceProfile = "spotdevbox-box",
                RootVolume = new RootVolume("/dev/xvda", 40, "gp3"),
                Market = InstanceLifecycle.Spot,
                MaxPricePerHour = 0.05m,
                UserData = "#cloud-config for x86_64",
                Tags = request.Tags,
                ClientToken = ClientTokens.Derive(Box, Session, "m6i.large", "subnet-0aaa1111", InstanceLifecycle.Spot),
            },
            request);
        Assert.Equal(["sg-0123abcd"], request.SecurityGroupIds);
        Assert.Empty(request.Tags);
    }

    [Fact]
    public async Task LaunchAsync_Lookups_AskForTheLastHoursLinuxPricesInTheSubnetsZones()
    {
        await Launcher().LaunchAsync(Launch(Options()), CancellationToken.None);

        Assert.NotNull(_priceQuery);
        Assert.Equal(["m7i.large", "m6i.large"], _priceQuery.InstanceTypes);
        Assert.Equal("Linux/UNIX", _priceQuery.ProductDescription);
        Assert.Equal(new DateTimeOffset(2026, 11, 27, 7, 30, 0, TimeSpan.Zero), _priceQuery.Since);
        Assert.Null(_priceQuery.Until);
        Assert.Equal(["eu-central-1a", "eu-central-1b"], _priceQuery.AvailabilityZones!);
        _gateway.Verify(g => g.DescribeImageAsync(ImageSelector.ById("ami-0abcdef1234567890"), It.IsAny<CancellationToken>()));
        _gateway.Verify(g => g.DescribeSubnetZonesAsync(new[] { "subnet-0aaa1111", "subnet-0bbb2222" }, It.IsAny<CancellationToken>()));
    }

    [Fact]
    public async Task LaunchAsync_ImageByNameFilter_AsksForTheNewestOfTheOwner()
    {
        var options = Options();
        options.ImageId = "";
        options.ImageNameFilter = "debian-12-amd64-*";
        options.ImageOwner = "136693071363";

        await Launcher().LaunchAsync(Launch(options), CancellationToken.None);

        _gateway.Verify(g => g.DescribeImageAsync(
            It.Is<ImageSelector>(s => s.ImageId == null && s.NamePattern == "debian-12-amd64-*" && s.Owners.SequenceEqual(new[] { "136693071363" })),
            It.IsAny<CancellationToken>()));
    }

    [Fact]
    public async Task LaunchAsync_NoCapacityOnTheCheapest_LaunchesTheNextWithItsOwnToken()
    {
        _outcomes.Enqueue(new LaunchOutcome.NoCapacity("InsufficientInstanceCapacity: no m6i.large capacity in eu-central-1a"));

        var result = await Launcher().LaunchAsync(Launch(Options()), CancellationToken.None);

        var launched = Assert.IsType<LaunchResult.Launched>(result);
        Assert.Equal(("m6i.large", "subnet-0bbb2222"), (launched.Candidate.InstanceType, launched.Candidate.SubnetId));
        Assert.Equal(["subnet-0aaa1111", "subnet-0bbb2222"], _launches.Select(r => r.SubnetId));
        Assert.Equal(
            [
                ClientTokens.Derive(Box, Session, "m6i.large", "subnet-0aaa1111", InstanceLifecycle.Spot),
                ClientTokens.Derive(Box, Session, "m6i.large", "subnet-0bbb2222", InstanceLifecycle.Spot),
            ],
            _launches.Select(r => r.ClientToken));
        Assert.Equal(
            ["m6i.large in eu-central-1a (subnet-0aaa1111), spot at $0.03/h: InsufficientInstanceCapacity: no m6i.large capacity in eu-central-1a"],
            launched.PassedOver.Select(p => p.Reason));
        var next = Assert.Single(_logger.Messages(5008));
        Assert.Contains("InsufficientInstanceCapacity", next, StringComparison.Ordinal);
        Assert.Single(_logger.Messages(5010));
    }

    [Fact]
    public async Task LaunchAsync_EveryCapacityError_TriesEachSpotCandidateThenOnDemandWhenAllowed()
    {
        var options = Options();
        options.OnDemandFallback = true;
        _outcomes.Enqueue(new LaunchOutcome.NoCapacity("InsufficientInstanceCapacity: a"));
        _outcomes.Enqueue(new LaunchOutcome.PriceTooLow("SpotMaxPriceTooLow: b"));
        _outcomes.Enqueue(new LaunchOutcome.UnsupportedInAz("Unsupported: c"));
        _outcomes.Enqueue(new LaunchOutcome.QuotaExceeded("MaxSpotInstanceCountExceeded", "d"));

        var result = await Launcher().LaunchAsync(Launch(options), CancellationToken.None);

        var launched = Assert.IsType<LaunchResult.Launched>(result);
        Assert.Equal(new LaunchCandidate("m7i.large", "eu-central-1a", "subnet-0aaa1111", InstanceLifecycle.OnDemand, null), launched.Candidate);
        Assert.Equal(
            [
                ("m6i.large", "subnet-0aaa1111", InstanceLifecycle.Spot),
                ("m6i.large", "subnet-0bbb2222", InstanceLifecycle.Spot),
                ("m7i.large", "subnet-0aaa1111", InstanceLifecycle.Spot),
                ("m7i.large", "subnet-0bbb2222", InstanceLifecycle.Spot),
                ("m7i.large", "subnet-0aaa1111", InstanceLifecycle.OnDemand),
            ],
            _launches.Select(r => (r.InstanceType, r.SubnetId!, r.Market)));
        Assert.Null(_launches[^1].MaxPricePerHour);
        Assert.Equal(4, launched.PassedOver.Count);
        Assert.Equal(8, _logger.Messages(5006).Count); // 4 spot, then m7i.large and m6i.large on demand in each subnet
    }

    [Fact]
    public async Task LaunchAsync_EveryCandidateFailsWithoutFallback_FailsWithEveryReason()
    {
        for (var i = 0; i < 4; i++)
        {
            _outcomes.Enqueue(new LaunchOutcome.NoCapacity($"InsufficientInstanceCapacity: {i}"));
        }

        var result = await Launcher().LaunchAsync(Launch(Options()), CancellationToken.None);

        var failed = Assert.IsType<LaunchResult.Failed>(result);
        Assert.Equal(LaunchFailure.NoCandidateLaunched, failed.Failure);
        Assert.Equal("box alice-dev not launched: none of its 4 candidates could be launched; on-demand fallback is off for this box", failed.Reason);
        Assert.Equal(
            [
                "m6i.large in eu-central-1a (subnet-0aaa1111), spot at $0.03/h: InsufficientInstanceCapacity: 0",
                "m6i.large in eu-central-1b (subnet-0bbb2222), spot at $0.032/h: InsufficientInstanceCapacity: 1",
                "m7i.large in eu-central-1a (subnet-0aaa1111), spot at $0.035/h: InsufficientInstanceCapacity: 2",
                "m7i.large in eu-central-1b (subnet-0bbb2222), spot at $0.036/h: InsufficientInstanceCapacity: 3",
            ],
            failed.PassedOver.Select(p => p.Reason));
        Assert.Equal(4, _launches.Count);
        Assert.Equal([failed.Reason], _logger.Messages(5014).Select(m => m["Box alice-dev: ".Length..]));
    }

    [Fact]
    public async Task LaunchAsync_AllOverTheMaxPrice_FailsWithoutCallingRunInstances()
    {
        var options = Options();
        options.MaxPrice = 0.02m;

        var result = await Launcher().LaunchAsync(Launch(options), CancellationToken.None);

        var failed = Assert.IsType<LaunchResult.Failed>(result);
        Assert.Equal(LaunchFailure.NoCandidateLaunched, failed.Failure);
        Assert.StartsWith("box alice-dev not launched: every allowed type and zone was passed over (max price $0.02/h)", failed.Reason, StringComparison.Ordinal);
        Assert.Contains("m6i.large in eu-central-1a (subnet-0aaa1111): spot $0.03/h is over the max price $0.02/h", failed.PassedOver.Select(p => p.Reason));
        Assert.Equal(4, failed.PassedOver.Count);
        Assert.Equal(4, _logger.Messages(5005).Count);
        Assert.Empty(_launches);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task LaunchAsync_RefusedRequest_StopsWithoutTryingOtherCandidates(bool unauthorized)
    {
        var options = Options();
        options.OnDemandFallback = true;
        _outcomes.Enqueue(unauthorized
            ? new LaunchOutcome.Unauthorized("UnauthorizedOperation: You are not authorized to perform this operation.")
            : new LaunchOutcome.InvalidRequest("InvalidGroup.NotFound", "The security group 'sg-0123abcd' does not exist"));

        var result = await Launcher().LaunchAsync(Launch(options), CancellationToken.None);

        var failed = Assert.IsType<LaunchResult.Failed>(result);
        Assert.Equal(LaunchFailure.Rejected, failed.Failure);
        Assert.Single(_launches);
        Assert.Contains(unauthorized ? "UnauthorizedOperation" : "InvalidGroup.NotFound", failed.Reason, StringComparison.Ordinal);
        Assert.Single(_logger.Messages(5011));
    }

    [Fact]
    public async Task LaunchAsync_IndeterminateEveryTime_RepeatsTheSameRequestAfterEachBackoffThenStops()
    {
        var options = Options();
        options.OnDemandFallback = true;
        for (var i = 0; i < 4; i++)
        {
            _outcomes.Enqueue(new LaunchOutcome.Indeterminate("EC2 in eu-central-1 failed (HTTP 503 Unavailable)"));
        }

        var launch = Launcher().LaunchAsync(Launch(options), CancellationToken.None);

        Assert.Single(_launches);
        foreach (var (wait, calls) in new[] { (2, 2), (4, 3), (8, 4) })
        {
            _time.Advance(TimeSpan.FromSeconds(wait) - TimeSpan.FromMilliseconds(1));
            Assert.Equal(calls - 1, _launches.Count);
            _time.Advance(TimeSpan.FromMilliseconds(1));
            await WaitForAsync(() => _launches.Count == calls);
        }

        var failed = Assert.IsType<LaunchResult.Failed>(await launch);
        Assert.Equal(LaunchFailure.Indeterminate, failed.Failure);
        Assert.Equal(4, _launches.Count);
        Assert.All(_launches, r => Assert.Same(_launches[0], r));
        Assert.Equal(ClientTokens.Derive(Box, Session, "m6i.large", "subnet-0aaa1111", InstanceLifecycle.Spot), _launches[0].ClientToken);
        Assert.Equal(3, _logger.Messages(5009).Count);
        Assert.Contains(_launches[0].ClientToken, Assert.Single(_logger.Messages(5013)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task LaunchAsync_IndeterminateThenLaunched_ReturnsTheInstanceFromTheSameToken()
    {
        _outcomes.Enqueue(new LaunchOutcome.Indeterminate("cannot reach EC2 in eu-central-1: timed out"));

        var launch = Launcher().LaunchAsync(Launch(Options()), CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(2));

        var launched = Assert.IsType<LaunchResult.Launched>(await launch);
        Assert.Equal(2, _launches.Count);
        Assert.Same(_launches[0], _launches[1]);
        Assert.Equal("subnet-0aaa1111", launched.Candidate.SubnetId);
    }

    [Fact]
    public async Task LaunchAsync_ThrottledThroughEveryRetry_FailsUnavailable()
    {
        for (var i = 0; i < 4; i++)
        {
            _outcomes.Enqueue(new LaunchOutcome.Throttled("RequestLimitExceeded after retries"));
        }

        var launch = Launcher().LaunchAsync(Launch(Options()), CancellationToken.None);
        for (var i = 0; i < 3; i++)
        {
            await WaitForAsync(() => _launches.Count == i + 1);
            _time.Advance(TimeSpan.FromSeconds(8));
        }

        var failed = Assert.IsType<LaunchResult.Failed>(await launch);
        Assert.Equal(LaunchFailure.Unavailable, failed.Failure);
        Assert.Equal(4, _launches.Count);
        Assert.Single(_logger.Messages(5012));
    }

    [Fact]
    public async Task LaunchAsync_LiveInstance_AlreadyRunningWithoutLookingFurther()
    {
        var running = Instance("i-0live", InstanceState.Running);
        _gateway.Setup(g => g.FindBoxInstancesAsync(Box, It.IsAny<CancellationToken>()))
            .ReturnsAsync([Instance("i-0old", InstanceState.Terminated), running]);

        var result = await Launcher().LaunchAsync(Launch(Options()), CancellationToken.None);

        Assert.Equal(running, Assert.IsType<LaunchResult.AlreadyRunning>(result).Instance);
        Assert.Empty(_launches);
        _gateway.Verify(g => g.DescribeImageAsync(It.IsAny<ImageSelector>(), It.IsAny<CancellationToken>()), Times.Never);
        Assert.Contains("i-0live", Assert.Single(_logger.Messages(5002)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task LaunchAsync_LiveTaggedInstanceWithAnotherProfile_IsNotTheBoxAndTheBoxLaunches()
    {
        // Someone else launched an instance with the box's tag: without the box's instance profile it is not the box.
        _gateway.Setup(g => g.FindBoxInstancesAsync(Box, It.IsAny<CancellationToken>()))
            .ReturnsAsync([Instance("i-0foreign", InstanceState.Running) with { InstanceProfileArn = "arn:aws:iam::123456789012:instance-profile/teammate" }]);

        var result = await Launcher().LaunchAsync(Launch(Options()), CancellationToken.None);

        Assert.IsType<LaunchResult.Launched>(result);
        Assert.Equal("spotdevbox-box", Assert.Single(_launches).InstanceProfile);
    }

    [Fact]
    public async Task LaunchAsync_OnlyEndedInstances_Launches()
    {
        _gateway.Setup(g => g.FindBoxInstancesAsync(Box, It.IsAny<CancellationToken>()))
            .ReturnsAsync([Instance("i-0old", InstanceState.Terminated), Instance("i-0ending", InstanceState.ShuttingDown)]);

        var result = await Launcher().LaunchAsync(Launch(Options()), CancellationToken.None);

        Assert.IsType<LaunchResult.Launched>(result);
    }

    [Fact]
    public async Task LaunchAsync_TwoConcurrentLaunchesOfOneBox_RunInstancesOnce()
    {
        var instances = new List<BoxInstance>();
        var release = new TaskCompletionSource<LaunchOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _gateway.Setup(g => g.FindBoxInstancesAsync(Box, It.IsAny<CancellationToken>()))
            .ReturnsAsync(() => [.. instances]);
        _gateway.Setup(g => g.LaunchAsync(It.IsAny<LaunchRequest>(), It.IsAny<CancellationToken>()))
            .Returns<LaunchRequest, CancellationToken>(async (r, _) =>
            {
                lock (_launches)
                {
                    _launches.Add(r);
                }

                entered.TrySetResult();
                var outcome = await release.Task;
                instances.Add(((LaunchOutcome.Launched)outcome).Instance);
                return outcome;
            });
        var launcher = Launcher();

        var first = launcher.LaunchAsync(Launch(Options()), CancellationToken.None);
        await entered.Task;
        var second = launcher.LaunchAsync(Launch(Options()), CancellationToken.None);
        await WaitForAsync(() => _logger.Messages(5001).Count == 1);
        _gateway.Verify(g => g.FindBoxInstancesAsync(Box, It.IsAny<CancellationToken>()), Times.Once);
        release.SetResult(new LaunchOutcome.Launched(Instance("i-0new", InstanceState.Pending)));

        var results = await Task.WhenAll(first, second);

        Assert.IsType<LaunchResult.Launched>(results[0]);
        Assert.Equal("i-0new", Assert.IsType<LaunchResult.AlreadyRunning>(results[1]).Instance.InstanceId);
        Assert.Single(_launches);
    }

    [Fact]
    public async Task LaunchAsync_ConcurrentLaunchesOfTwoBoxes_DoNotWaitForEachOther()
    {
        var gate = new BoxLaunchGate();

        using var alice = await gate.EnterAsync("alice-dev", onWait: null, CancellationToken.None);
        var bob = gate.EnterAsync("bob-dev", onWait: () => throw new InvalidOperationException("bob-dev waited for alice-dev"), CancellationToken.None);
        var aliceAgain = gate.EnterAsync("alice-dev", onWait: null, CancellationToken.None);

        Assert.True(bob.IsCompletedSuccessfully);
        Assert.False(aliceAgain.IsCompleted);
        alice.Dispose();
        (await aliceAgain).Dispose();
        (await bob).Dispose();
    }

    [Fact]
    public async Task LaunchAsync_ImageMissing_RejectedWithoutLaunching()
    {
        _gateway.Setup(g => g.DescribeImageAsync(It.IsAny<ImageSelector>(), It.IsAny<CancellationToken>())).ReturnsAsync((MachineImage?)null);

        var failed = Assert.IsType<LaunchResult.Failed>(await Launcher().LaunchAsync(Launch(Options()), CancellationToken.None));

        Assert.Equal(LaunchFailure.Rejected, failed.Failure);
        Assert.Equal("box alice-dev not launched: no image: ami-0abcdef1234567890 does not exist in eu-central-1 or is not available to this account", failed.Reason);
        Assert.Empty(_launches);
    }

    [Fact]
    public async Task LaunchAsync_ImageOfAnotherArchitecture_Rejected()
    {
        _gateway.Setup(g => g.DescribeImageAsync(It.IsAny<ImageSelector>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new MachineImage("ami-0i386", "old-i386", null, "/dev/xvda", null));

        var failed = Assert.IsType<LaunchResult.Failed>(await Launcher().LaunchAsync(Launch(Options()), CancellationToken.None));

        Assert.Equal(LaunchFailure.Rejected, failed.Failure);
        Assert.Contains("not built for", failed.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ComputeFailure.Throttled, LaunchFailure.Unavailable)]
    [InlineData(ComputeFailure.Unavailable, LaunchFailure.Unavailable)]
    [InlineData(ComputeFailure.Unauthorized, LaunchFailure.Rejected)]
    [InlineData(ComputeFailure.NotFound, LaunchFailure.Rejected)]
    public async Task LaunchAsync_LookupFails_FailsWithoutLaunching(ComputeFailure failure, LaunchFailure expected)
    {
        _gateway.Setup(g => g.DescribeSubnetZonesAsync(It.IsAny<IReadOnlyList<string>>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new ComputeException(failure, "DescribeSubnets in eu-central-1: scripted"));

        var failed = Assert.IsType<LaunchResult.Failed>(await Launcher().LaunchAsync(Launch(Options()), CancellationToken.None));

        Assert.Equal(expected, failed.Failure);
        Assert.Equal("box alice-dev not launched: DescribeSubnets in eu-central-1: scripted", failed.Reason);
        Assert.Empty(_launches);
        Assert.Single(_logger.Messages(5015));
    }

    [Fact]
    public async Task LaunchAsync_LiveInstanceCheckFails_DoesNotLaunch()
    {
        _gateway.Setup(g => g.FindBoxInstancesAsync(Box, It.IsAny<CancellationToken>()))
            .ThrowsAsync(new ComputeException(ComputeFailure.Unavailable, "DescribeInstances: cannot reach EC2"));

        var failed = Assert.IsType<LaunchResult.Failed>(await Launcher().LaunchAsync(Launch(Options()), CancellationToken.None));

        Assert.Equal(LaunchFailure.Unavailable, failed.Failure);
        Assert.Empty(_launches);
    }

    [Fact]
    public async Task LaunchAsync_EveryCandidateAndDecision_OneEventEach()
    {
        _outcomes.Enqueue(new LaunchOutcome.NoCapacity("InsufficientInstanceCapacity: none"));

        await Launcher().LaunchAsync(Launch(Options()), CancellationToken.None);

        Assert.Equal(
            [5000, 5003, 5004, 5006, 5006, 5006, 5006, 5007, 5008, 5007, 5010],
            _logger.Events.Select(e => e.EventId));
        Assert.Equal(
            "Box alice-dev: candidate 1 of 4: m6i.large in eu-central-1a (subnet-0aaa1111), Spot at $0.03/h",
            _logger.Messages(5006)[0]);
    }

    private BoxLauncher Launcher() => new(Factory(), new BoxLaunchGate(), _time, _logger);

    private IComputeGatewayFactory Factory()
    {
        var factory = new Mock<IComputeGatewayFactory>(MockBehavior.Strict);
        factory.Setup(f => f.ForRegion("eu-central-1")).Returns(_gateway.Object);
        return factory.Object;
    }

    private static BoxLaunch Launch(BoxOptions options) =>
        new(Box, options, Session, architecture => $"#cloud-config for {LaunchCandidates.Name(architecture)}");

    private static BoxOptions Options()
    {
        var options = new BoxOptions
        {
            Owner = "alice",
            Region = "eu-central-1",
            ImageId = "ami-0abcdef1234567890",
            KeyPair = "alice-laptop",
            InstanceProfile = "spotdevbox-box",
            RootVolumeGiB = 40,
            RootVolumeType = "gp3",
            MaxPrice = 0.05m,
            OnDemandFallback = false,
        };
        options.InstanceTypes.Add("m7i.large");
        options.InstanceTypes.Add("m6i.large");
        options.Subnets.Add("subnet-0aaa1111");
        options.Subnets.Add("subnet-0bbb2222");
        options.SecurityGroups.Add("sg-0123abcd");
        return options;
    }

    private static LaunchOutcome.Launched Launched(LaunchRequest r) =>
        new(Instance("i-0" + r.InstanceType.Replace(".", "", StringComparison.Ordinal), InstanceState.Pending) with { InstanceType = r.InstanceType, Lifecycle = r.Market });

    private static BoxInstance Instance(string id, InstanceState state) =>
        new(id, Box, "alice", Session, "m6i.large", "eu-central-1a", InstanceLifecycle.Spot, state, null, Now, "10.0.1.5", null, null,
            InstanceProfileArn: "arn:aws:iam::123456789012:instance-profile/spotdevbox-box");

    private static async Task WaitForAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!condition())
        {
            await Task.Delay(5, timeout.Token);
        }
    }
}
