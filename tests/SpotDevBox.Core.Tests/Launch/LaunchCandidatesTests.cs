using SpotDevBox.Core.Compute;
using SpotDevBox.Core.Launch;

namespace SpotDevBox.Core.Tests.Launch;

/// <summary>Candidate order and reasons, from hand-written prices, worked out by hand from the rules in docs/launch.md.</summary>
public sealed class LaunchCandidatesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);

    private static readonly IReadOnlyList<LaunchPlacement> ThreeSubnets =
    [
        new("eu-central-1a", "subnet-a"),
        new("eu-central-1b", "subnet-b"),
        new("eu-central-1c", "subnet-c"),
    ];

    private static readonly Dictionary<string, IReadOnlySet<CpuArchitecture>> Architectures = new(StringComparer.Ordinal)
    {
        ["m7i.large"] = new HashSet<CpuArchitecture> { CpuArchitecture.X64 },
        ["m6i.large"] = new HashSet<CpuArchitecture> { CpuArchitecture.X64 },
        ["m7g.large"] = new HashSet<CpuArchitecture> { CpuArchitecture.Arm64 },
    };

    [Fact]
    public void Choose_PricesInThreeZones_CheapestFirstTiesByTypePreferenceEachPassedOverWithItsReason()
    {
        var plan = LaunchCandidates.Choose(Inputs(
            ["m7i.large", "m6i.large", "m7g.large"],
            ThreeSubnets,
            [
                Price("m7i.large", "eu-central-1a", 0.0400m),
                Price("m7i.large", "eu-central-1b", 0.0412m),
                Price("m7i.large", "eu-central-1c", 0.0350m),
                Price("m6i.large", "eu-central-1a", 0.0350m),
                Price("m6i.large", "eu-central-1b", 0.0300m),
                Price("m7g.large", "eu-central-1a", 0.0200m),
            ],
            maxPrice: 0.04m));

        Assert.Equal(
            [
                new LaunchCandidate("m6i.large", "eu-central-1b", "subnet-b", InstanceLifecycle.Spot, 0.0300m),
                // 0.035 twice: m7i.large is preferred by the box.
                new LaunchCandidate("m7i.large", "eu-central-1c", "subnet-c", InstanceLifecycle.Spot, 0.0350m),
                new LaunchCandidate("m6i.large", "eu-central-1a", "subnet-a", InstanceLifecycle.Spot, 0.0350m),
                // Equal to the max price is allowed: EC2 launches when the max is at least the spot price.
                new LaunchCandidate("m7i.large", "eu-central-1a", "subnet-a", InstanceLifecycle.Spot, 0.0400m),
            ],
            plan.Candidates);
        Assert.Equal(
            [
                "m7g.large: arm64 does not match the AMI's x86_64",
                "m7i.large in eu-central-1b (subnet-b): spot $0.0412/h is over the max price $0.04/h",
                "m6i.large in eu-central-1c (subnet-c): EC2 reports no spot price for it there (not offered in that zone)",
            ],
            plan.PassedOver.Select(p => p.Reason));
        Assert.Equal(new PassedOver("m7g.large", null, null, "m7g.large: arm64 does not match the AMI's x86_64"), plan.PassedOver[0]);
        Assert.Equal(("m7i.large", "eu-central-1b", InstanceLifecycle.Spot), (plan.PassedOver[1].InstanceType, plan.PassedOver[1].AvailabilityZone, plan.PassedOver[1].Market));
        Assert.Equal("max price $0.04/h", plan.PriceCap);
    }

    [Fact]
    public void Choose_SamePriceAndType_ZoneNameDecides()
    {
        var plan = LaunchCandidates.Choose(Inputs(
            ["m6i.large"],
            [new("eu-central-1c", "subnet-c"), new("eu-central-1a", "subnet-a")],
            [Price("m6i.large", "eu-central-1c", 0.03m), Price("m6i.large", "eu-central-1a", 0.03m)]));

        Assert.Equal(["eu-central-1a", "eu-central-1c"], plan.Candidates.Select(c => c.AvailabilityZone));
    }

    [Fact]
    public void Choose_TwoSubnetsInOneZone_BothTriedInTheBoxsOrder()
    {
        var plan = LaunchCandidates.Choose(Inputs(
            ["m6i.large"],
            [new("eu-central-1a", "subnet-2"), new("eu-central-1a", "subnet-1")],
            [Price("m6i.large", "eu-central-1a", 0.03m)]));

        Assert.Equal(["subnet-2", "subnet-1"], plan.Candidates.Select(c => c.SubnetId));
    }

    [Fact]
    public void Choose_NoSubnets_ZonesThatHavePricesWithoutSubnet()
    {
        var plan = LaunchCandidates.Choose(Inputs(
            ["m7i.large", "m6i.large"],
            [],
            [
                Price("m7i.large", "eu-central-1b", 0.04m),
                Price("m6i.large", "eu-central-1a", 0.05m),
                Price("m6i.large", "eu-central-1b", 0.03m),
            ]));

        Assert.Equal(
            [
                new LaunchCandidate("m6i.large", "eu-central-1b", null, InstanceLifecycle.Spot, 0.03m),
                new LaunchCandidate("m7i.large", "eu-central-1b", null, InstanceLifecycle.Spot, 0.04m),
                new LaunchCandidate("m6i.large", "eu-central-1a", null, InstanceLifecycle.Spot, 0.05m),
            ],
            plan.Candidates);
        Assert.Equal(["m7i.large in eu-central-1a: EC2 reports no spot price for it there (not offered in that zone)"], plan.PassedOver.Select(p => p.Reason));
    }

    [Fact]
    public void Choose_NewerPointForAPlacement_IsThePriceInEffect()
    {
        var plan = LaunchCandidates.Choose(Inputs(
            ["m6i.large"],
            [new("eu-central-1a", "subnet-a")],
            [
                Price("m6i.large", "eu-central-1a", 0.0300m, minutes: 0),
                Price("m6i.large", "eu-central-1a", 0.0450m, minutes: 30),
            ],
            maxPrice: 0.04m));

        Assert.Empty(plan.Candidates);
        Assert.Equal(["m6i.large in eu-central-1a (subnet-a): spot $0.045/h is over the max price $0.04/h"], plan.PassedOver.Select(p => p.Reason));
    }

    [Fact]
    public void Choose_NoMaxPrice_KeepsEveryPricedPlacementAndSaysEc2Caps()
    {
        var plan = LaunchCandidates.Choose(Inputs(
            ["m6i.large"],
            [new("eu-central-1a", "subnet-a")],
            [Price("m6i.large", "eu-central-1a", 9.5m)],
            maxPrice: null));

        Assert.Equal(9.5m, Assert.Single(plan.Candidates).SpotPricePerHour);
        Assert.Equal("no max price (EC2 caps a spot price at the on-demand price)", plan.PriceCap);
    }

    [Fact]
    public void Choose_FallbackOn_OnDemandAfterSpotInTypeOrderThenSubnetOrder()
    {
        var plan = LaunchCandidates.Choose(Inputs(
            ["m7i.large", "m6i.large", "m7g.large"],
            [new("eu-central-1b", "subnet-b"), new("eu-central-1a", "subnet-a")],
            [Price("m6i.large", "eu-central-1a", 0.03m)],
            onDemandFallback: true));

        Assert.Equal(
            [
                new LaunchCandidate("m6i.large", "eu-central-1a", "subnet-a", InstanceLifecycle.Spot, 0.03m),
                new LaunchCandidate("m7i.large", "eu-central-1b", "subnet-b", InstanceLifecycle.OnDemand, null),
                new LaunchCandidate("m7i.large", "eu-central-1a", "subnet-a", InstanceLifecycle.OnDemand, null),
                new LaunchCandidate("m6i.large", "eu-central-1b", "subnet-b", InstanceLifecycle.OnDemand, null),
                new LaunchCandidate("m6i.large", "eu-central-1a", "subnet-a", InstanceLifecycle.OnDemand, null),
            ],
            plan.Candidates);
        Assert.True(plan.OnDemandFallback);
    }

    [Fact]
    public void Choose_FallbackOff_OnlySpot()
    {
        var plan = LaunchCandidates.Choose(Inputs(
            ["m7i.large", "m6i.large"],
            [new("eu-central-1a", "subnet-a")],
            [Price("m6i.large", "eu-central-1a", 0.03m)],
            onDemandFallback: false));

        Assert.Equal([InstanceLifecycle.Spot], plan.Candidates.Select(c => c.Market));
        Assert.False(plan.OnDemandFallback);
    }

    [Fact]
    public void Choose_NoPricesWithSubnets_EveryTypeAndSubnetPassedOverAndOnDemandWhenAllowed()
    {
        var plan = LaunchCandidates.Choose(Inputs(
            ["m7i.large", "m6i.large"],
            [new("eu-central-1a", "subnet-a"), new("eu-central-1b", "subnet-b")],
            [],
            onDemandFallback: true));

        Assert.Equal(
            [
                "m7i.large in eu-central-1a (subnet-a): EC2 reports no spot price for it there (not offered in that zone)",
                "m7i.large in eu-central-1b (subnet-b): EC2 reports no spot price for it there (not offered in that zone)",
                "m6i.large in eu-central-1a (subnet-a): EC2 reports no spot price for it there (not offered in that zone)",
                "m6i.large in eu-central-1b (subnet-b): EC2 reports no spot price for it there (not offered in that zone)",
            ],
            plan.PassedOver.Select(p => p.Reason));
        Assert.Equal(
            ["m7i.large in eu-central-1a (subnet-a), on-demand", "m7i.large in eu-central-1b (subnet-b), on-demand", "m6i.large in eu-central-1a (subnet-a), on-demand", "m6i.large in eu-central-1b (subnet-b), on-demand"],
            plan.Candidates.Select(c => c.ToString()));
    }

    [Fact]
    public void Choose_NoPricesNoSubnets_NoZoneKnownOnDemandLetsEc2ChooseTheZone()
    {
        var withFallback = LaunchCandidates.Choose(Inputs(["m6i.large"], [], [], onDemandFallback: true));
        var withoutFallback = LaunchCandidates.Choose(Inputs(["m6i.large"], [], [], onDemandFallback: false));

        Assert.Equal([new LaunchCandidate("m6i.large", null, null, InstanceLifecycle.OnDemand, null)], withFallback.Candidates);
        Assert.Equal("", withFallback.Candidates[0].PlacementKey);
        Assert.Empty(withoutFallback.Candidates);
        Assert.Equal(["m6i.large: EC2 reports no spot price for it in any zone of the region"], withoutFallback.PassedOver.Select(p => p.Reason));
    }

    [Fact]
    public void Choose_ArmImage_DropsX86TypesAndKeepsTypesThatRunBoth()
    {
        var architectures = new Dictionary<string, IReadOnlySet<CpuArchitecture>>(Architectures, StringComparer.Ordinal)
        {
            ["a1.both"] = new HashSet<CpuArchitecture> { CpuArchitecture.X64, CpuArchitecture.Arm64 },
        };

        var plan = LaunchCandidates.Choose(Inputs(
            ["m7i.large", "m7g.large", "a1.both"],
            [new("eu-central-1a", "subnet-a")],
            [Price("m7i.large", "eu-central-1a", 0.01m), Price("m7g.large", "eu-central-1a", 0.03m), Price("a1.both", "eu-central-1a", 0.02m)],
            image: CpuArchitecture.Arm64,
            architectures: architectures,
            onDemandFallback: true));

        Assert.Equal(
            ["a1.both in eu-central-1a (subnet-a), spot at $0.02/h", "m7g.large in eu-central-1a (subnet-a), spot at $0.03/h", "m7g.large in eu-central-1a (subnet-a), on-demand", "a1.both in eu-central-1a (subnet-a), on-demand"],
            plan.Candidates.Select(c => c.ToString()));
        Assert.Equal(["m7i.large: x86_64 does not match the AMI's arm64"], plan.PassedOver.Select(p => p.Reason));
    }

    [Fact]
    public void Choose_TypeWithoutArchitectures_PassedOverSayingSo()
    {
        var architectures = new Dictionary<string, IReadOnlySet<CpuArchitecture>>(StringComparer.Ordinal)
        {
            ["m6i.large"] = new HashSet<CpuArchitecture> { CpuArchitecture.X64 },
            ["t1.micro"] = new HashSet<CpuArchitecture>(),
        };

        var plan = LaunchCandidates.Choose(Inputs(
            ["t1.micro", "m9z.large", "m6i.large"],
            [new("eu-central-1a", "subnet-a")],
            [Price("m6i.large", "eu-central-1a", 0.03m)],
            architectures: architectures));

        Assert.Equal(
            [
                "t1.micro: runs neither x86_64 nor arm64, so not the AMI's x86_64",
                "m9z.large: EC2 did not report its architectures, so it cannot be matched to the AMI's x86_64",
            ],
            plan.PassedOver.Select(p => p.Reason));
        Assert.Equal("m6i.large", Assert.Single(plan.Candidates).InstanceType);
    }

    [Fact]
    public void Choose_PricesForOtherTypesAndZones_Ignored()
    {
        var plan = LaunchCandidates.Choose(Inputs(
            ["m6i.large"],
            [new("eu-central-1a", "subnet-a")],
            [Price("m6i.large", "eu-central-1a", 0.05m), Price("m6i.large", "eu-central-1b", 0.01m), Price("c7i.large", "eu-central-1a", 0.01m)]));

        Assert.Equal(new LaunchCandidate("m6i.large", "eu-central-1a", "subnet-a", InstanceLifecycle.Spot, 0.05m), Assert.Single(plan.Candidates));
    }

    [Fact]
    public void Choose_AfterAnInterruption_OtherTypeAndZoneFirstThenOneSharedThenTheSamePoolEachCheapestFirst()
    {
        var inputs = Inputs(
            ["m7i.large", "m6i.large"],
            ThreeSubnets,
            [
                Price("m7i.large", "eu-central-1a", 0.0300m),
                Price("m7i.large", "eu-central-1b", 0.0350m),
                Price("m6i.large", "eu-central-1a", 0.0310m),
                Price("m6i.large", "eu-central-1b", 0.0400m),
                Price("m6i.large", "eu-central-1c", 0.0450m),
            ],
            onDemandFallback: true) with
        { Interrupted = new InterruptedPlacement("m7i.large", "eu-central-1a") };

        var plan = LaunchCandidates.Choose(inputs);

        Assert.Equal(
            [
                // Neither m7i.large nor eu-central-1a, cheapest first.
                ("m6i.large", "eu-central-1b", InstanceLifecycle.Spot),
                ("m6i.large", "eu-central-1c", InstanceLifecycle.Spot),
                // One of the two shared: 0.031 (the zone) before 0.035 (the type).
                ("m6i.large", "eu-central-1a", InstanceLifecycle.Spot),
                ("m7i.large", "eu-central-1b", InstanceLifecycle.Spot),
                // The interrupted pool itself, although it is the cheapest.
                ("m7i.large", "eu-central-1a", InstanceLifecycle.Spot),
                // On-demand is not reclaimed: its order does not change.
                ("m7i.large", "eu-central-1a", InstanceLifecycle.OnDemand),
                ("m7i.large", "eu-central-1b", InstanceLifecycle.OnDemand),
                ("m7i.large", "eu-central-1c", InstanceLifecycle.OnDemand),
                ("m6i.large", "eu-central-1a", InstanceLifecycle.OnDemand),
                ("m6i.large", "eu-central-1b", InstanceLifecycle.OnDemand),
                ("m6i.large", "eu-central-1c", InstanceLifecycle.OnDemand),
            ],
            plan.Candidates.Select(c => (c.InstanceType, c.AvailabilityZone!, c.Market)));
    }

    private static CandidateInputs Inputs(
        IReadOnlyList<string> types,
        IReadOnlyList<LaunchPlacement> placements,
        IReadOnlyList<SpotPricePoint> prices,
        decimal? maxPrice = null,
        bool onDemandFallback = false,
        CpuArchitecture image = CpuArchitecture.X64,
        IReadOnlyDictionary<string, IReadOnlySet<CpuArchitecture>>? architectures = null) =>
        new()
        {
            InstanceTypes = types,
            Placements = placements,
            SpotPrices = prices,
            ImageArchitecture = image,
            TypeArchitectures = architectures ?? Architectures,
            MaxPricePerHour = maxPrice,
            OnDemandFallback = onDemandFallback,
        };

    private static SpotPricePoint Price(string type, string zone, decimal usdPerHour, int minutes = 0) =>
        new(type, zone, SpotPriceQuery.LinuxUnix, usdPerHour, T0.AddMinutes(minutes));
}
