using SpotDevBox.Core.Compute;
using TestSupport.Ec2;

namespace SpotDevBox.Aws.Tests.Compute;

/// <summary>Each EC2 error code from the launch path of the reference, answered by the endpoint, and the outcome the launcher decides on.</summary>
public sealed class Ec2LaunchErrorTests : Ec2EndpointHarness
{
    public static TheoryData<string, int, Type, bool> Codes => new()
    {
        // EC2 lists InsufficientInstanceCapacity among its server errors; the code decides, not the status.
        { "InsufficientInstanceCapacity", 500, typeof(LaunchOutcome.NoCapacity), true },
        { "InsufficientInstanceCapacity", 400, typeof(LaunchOutcome.NoCapacity), true },
        { "SpotMaxPriceTooLow", 400, typeof(LaunchOutcome.PriceTooLow), true },
        { "MaxSpotInstanceCountExceeded", 400, typeof(LaunchOutcome.QuotaExceeded), true },
        { "VcpuLimitExceeded", 400, typeof(LaunchOutcome.QuotaExceeded), true },
        { "InsufficientFreeAddressesInSubnet", 400, typeof(LaunchOutcome.NoFreeAddresses), true },
        { "Unsupported", 400, typeof(LaunchOutcome.UnsupportedInAz), true },
        { "InvalidParameterValue", 400, typeof(LaunchOutcome.InvalidRequest), false },
        { "InvalidParameterCombination", 400, typeof(LaunchOutcome.InvalidRequest), false },
        { "InvalidAMIID.NotFound", 400, typeof(LaunchOutcome.InvalidRequest), false },
        { "IdempotentParameterMismatch", 400, typeof(LaunchOutcome.InvalidRequest), false },
        { "UnauthorizedOperation", 403, typeof(LaunchOutcome.Unauthorized), false },
        { "AuthFailure", 401, typeof(LaunchOutcome.Unauthorized), false },
        { "RequestLimitExceeded", 503, typeof(LaunchOutcome.Throttled), false },
        { "InternalError", 500, typeof(LaunchOutcome.Indeterminate), false },
        { "Unavailable", 503, typeof(LaunchOutcome.Indeterminate), false },
    };

    [Theory]
    [MemberData(nameof(Codes))]
    public async Task LaunchAsync_ErrorCode_MapsToOutcome(string code, int status, Type expected, bool tryAnother)
    {
        Endpoint.FailNext("RunInstances", new Ec2Error(code, $"scripted {code}", status));

        var outcome = await Gateway().LaunchAsync(Launch(), CancellationToken.None);

        Assert.IsType(expected, outcome);
        Assert.Equal(tryAnother, outcome.TryAnotherCandidate);
        Assert.Contains($"scripted {code}", outcome.Reason, StringComparison.Ordinal);
        Assert.Empty(Endpoint.Instances);
    }

    [Fact]
    public async Task LaunchAsync_NoCapacityInOneZone_NextCandidateInAnotherZoneLaunches()
    {
        Endpoint.SubnetZones["subnet-0aaa1111"] = "us-east-1a";
        Endpoint.SubnetZones["subnet-0bbb2222"] = "us-east-1b";
        Endpoint.FailNextRunInstances(new Ec2Error("InsufficientInstanceCapacity", "There is no Spot capacity available that matches your request.", 500), availabilityZone: "us-east-1a");
        var gateway = Gateway();

        var first = await gateway.LaunchAsync(Launch(subnetId: "subnet-0aaa1111"), CancellationToken.None);
        var second = await gateway.LaunchAsync(Launch(subnetId: "subnet-0bbb2222"), CancellationToken.None);

        Assert.IsType<LaunchOutcome.NoCapacity>(first);
        Assert.Equal("us-east-1b", Assert.IsType<LaunchOutcome.Launched>(second).Instance.AvailabilityZone);
        var sent = Endpoint.RequestsFor("RunInstances");
        Assert.NotEqual(sent[0]["ClientToken"], sent[1]["ClientToken"]);
    }

    [Fact]
    public async Task LaunchAsync_QuotaExceeded_KeepsEc2sCode()
    {
        Endpoint.FailNext("RunInstances", new Ec2Error("MaxSpotInstanceCountExceeded", "Max spot instance count exceeded"));

        var outcome = await Gateway().LaunchAsync(Launch(), CancellationToken.None);

        Assert.Equal("MaxSpotInstanceCountExceeded", Assert.IsType<LaunchOutcome.QuotaExceeded>(outcome).Code);
    }

    [Fact]
    public async Task LaunchAsync_ThrottledThroughEveryRetry_IsThrottledAfterTheSdksRetries()
    {
        Endpoint.FailNext("RunInstances", new Ec2Error("RequestLimitExceeded", "Request limit exceeded.", 503), times: 2);

        var outcome = await Gateway(maxErrorRetry: 1).LaunchAsync(Launch(), CancellationToken.None);

        Assert.IsType<LaunchOutcome.Throttled>(outcome);
        Assert.Equal(2, Endpoint.RequestsFor("RunInstances").Count);
    }

    [Fact]
    public async Task LaunchAsync_EndpointGone_IsIndeterminate()
    {
        var gateway = Gateway();
        await Endpoint.DisposeAsync();

        var outcome = await gateway.LaunchAsync(Launch(), CancellationToken.None);

        Assert.Contains("cannot reach EC2 in us-east-1", Assert.IsType<LaunchOutcome.Indeterminate>(outcome).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LaunchAsync_CallerCancels_Throws()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Gateway().LaunchAsync(Launch(), cancelled.Token));
    }

    [Fact]
    public async Task LaunchAsync_CapacityAsServerErrorWithRetries_SdkRetriesTheSameTokenThenNoCapacity()
    {
        // EC2 sends InsufficientInstanceCapacity as a 5xx, which the SDK retries like any server error;
        // harmless with the client token, and the outcome is still NoCapacity.
        Endpoint.FailNext("RunInstances", new Ec2Error("InsufficientInstanceCapacity", "no capacity", 500), times: 2);

        var outcome = await Gateway(maxErrorRetry: 1).LaunchAsync(Launch(), CancellationToken.None);

        Assert.IsType<LaunchOutcome.NoCapacity>(outcome);
        var sent = Endpoint.RequestsFor("RunInstances");
        Assert.Equal(2, sent.Count);
        Assert.Equal(sent[0]["ClientToken"], sent[1]["ClientToken"]);
    }
}
