using SpotDevBox.Core.Compute;
using TestSupport.Ec2;

namespace SpotDevBox.Aws.Tests.Compute;

/// <summary>
/// AssociateAddressAsync: DescribeAddresses first (the public address, and whether it is already on the
/// instance), AssociateAddress with reassociation only when it is not, and the failures a controller decides on.
/// </summary>
public sealed class Ec2ComputeGatewayAddressTests : Ec2EndpointHarness
{
    private const string Allocation = "eipalloc-0a1b2c3d4e5f60718";

    [Fact]
    public async Task AssociateAddressAsync_AddressOnNoInstance_DescribesThenAssociatesAndReturnsItsAddress()
    {
        Endpoint.AddInstance(Box("i-0new"));
        Endpoint.AddAddress(new SimulatedAddress(Allocation, "203.0.113.25"));

        var ip = await Gateway().AssociateAddressAsync(Allocation, "i-0new", CancellationToken.None);

        Assert.Equal("203.0.113.25", ip);
        Assert.Equal(["DescribeAddresses", "AssociateAddress"], Endpoint.Requests.Select(r => r.Action));
        var describe = Endpoint.RequestsFor("DescribeAddresses")[0];
        Assert.Equal([Allocation], describe.Values("AllocationId"));
        Assert.Null(describe["Filter.1.Name"]);
        var associate = Endpoint.RequestsFor("AssociateAddress")[0];
        Assert.Equal(Allocation, associate["AllocationId"]);
        Assert.Equal("i-0new", associate["InstanceId"]);
        Assert.Equal("true", associate["AllowReassociation"]);
        Assert.Null(associate["PublicIp"]);
        Assert.Null(associate["NetworkInterfaceId"]);
        Assert.Equal("i-0new", Endpoint.Addresses.Single().InstanceId);
    }

    [Fact]
    public async Task AssociateAddressAsync_AddressOnThePreviousInstance_MovesToTheNewOne()
    {
        Endpoint.AddInstance(Box("i-0old") with { StateCode = 32 });
        Endpoint.AddInstance(Box("i-0new"));
        Endpoint.AddAddress(new SimulatedAddress(Allocation, "203.0.113.25", InstanceId: "i-0old", AssociationId: "eipassoc-0aaaa1111"));

        var ip = await Gateway().AssociateAddressAsync(Allocation, "i-0new", CancellationToken.None);

        Assert.Equal("203.0.113.25", ip);
        Assert.Equal("true", Assert.Single(Endpoint.RequestsFor("AssociateAddress"))["AllowReassociation"]);
        Assert.Equal("i-0new", Endpoint.Addresses.Single().InstanceId);
        Assert.Equal("203.0.113.25", Endpoint.Instances.Single(i => i.InstanceId == "i-0new").PublicIpAddress);
    }

    [Fact]
    public async Task AssociateAddressAsync_AlreadyOnThisInstance_SendsNoAssociateAddress()
    {
        Endpoint.AddInstance(Box("i-0new"));
        Endpoint.AddAddress(new SimulatedAddress(Allocation, "203.0.113.25", InstanceId: "i-0new", AssociationId: "eipassoc-0aaaa1111"));

        var ip = await Gateway().AssociateAddressAsync(Allocation, "i-0new", CancellationToken.None);

        Assert.Equal("203.0.113.25", ip);
        Assert.Equal(["DescribeAddresses"], Endpoint.Requests.Select(r => r.Action));
        Assert.Equal("eipassoc-0aaaa1111", Endpoint.Addresses.Single().AssociationId);
    }

    [Fact]
    public async Task AssociateAddressAsync_UnknownAllocation_ThrowsNotFoundNamingItAndAssociatesNothing()
    {
        Endpoint.AddInstance(Box("i-0new"));
        Endpoint.AddAddress(new SimulatedAddress("eipalloc-0ffff0000ffff0000", "203.0.113.99"));

        var e = await Assert.ThrowsAsync<ComputeException>(() => Gateway().AssociateAddressAsync("eipalloc-0dead0000beef0000", "i-0new", CancellationToken.None));

        Assert.Equal(ComputeFailure.NotFound, e.Failure);
        Assert.StartsWith("there is no Elastic IP allocation eipalloc-0dead0000beef0000 in us-east-1", e.Message, StringComparison.Ordinal);
        Assert.Empty(Endpoint.RequestsFor("AssociateAddress"));
    }

    [Fact]
    public async Task AssociateAddressAsync_PendingInstance_ThrowsNotReady()
    {
        Endpoint.AddInstance(Box("i-0new") with { StateCode = 0 });
        Endpoint.AddAddress(new SimulatedAddress(Allocation, "203.0.113.25"));

        var e = await Assert.ThrowsAsync<ComputeException>(() => Gateway().AssociateAddressAsync(Allocation, "i-0new", CancellationToken.None));

        Assert.Equal(ComputeFailure.NotReady, e.Failure);
        Assert.Contains("IncorrectInstanceState", e.Message, StringComparison.Ordinal);
        Assert.Null(Endpoint.Addresses.Single().InstanceId);
    }

    [Fact]
    public async Task AssociateAddressAsync_UnknownInstance_ThrowsNotFound()
    {
        Endpoint.AddAddress(new SimulatedAddress(Allocation, "203.0.113.25"));

        var e = await Assert.ThrowsAsync<ComputeException>(() => Gateway().AssociateAddressAsync(Allocation, "i-0gone", CancellationToken.None));

        Assert.Equal(ComputeFailure.NotFound, e.Failure);
        Assert.Contains("InvalidInstanceID.NotFound", e.Message, StringComparison.Ordinal);
        Assert.Contains("AssociateAddress", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("UnauthorizedOperation", 403, ComputeFailure.Unauthorized)]
    [InlineData("RequestLimitExceeded", 503, ComputeFailure.Throttled)]
    [InlineData("InternalError", 500, ComputeFailure.Unavailable)]
    [InlineData("InvalidParameterCombination", 400, ComputeFailure.Rejected)]
    public async Task AssociateAddressAsync_AssociateErrorCode_ThrowsComputeFailure(string code, int status, ComputeFailure expected)
    {
        Endpoint.AddInstance(Box("i-0new"));
        Endpoint.AddAddress(new SimulatedAddress(Allocation, "203.0.113.25"));
        Endpoint.FailNext("AssociateAddress", new Ec2Error(code, "scripted", status));

        var e = await Assert.ThrowsAsync<ComputeException>(() => Gateway().AssociateAddressAsync(Allocation, "i-0new", CancellationToken.None));

        Assert.Equal(expected, e.Failure);
        Assert.Contains(code, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AssociateAddressAsync_DescribeUnauthorized_ThrowsUnauthorized()
    {
        Endpoint.AddInstance(Box("i-0new"));
        Endpoint.AddAddress(new SimulatedAddress(Allocation, "203.0.113.25"));
        Endpoint.FailNext("DescribeAddresses", new Ec2Error("UnauthorizedOperation", "You are not authorized to perform this operation.", 403));

        var e = await Assert.ThrowsAsync<ComputeException>(() => Gateway().AssociateAddressAsync(Allocation, "i-0new", CancellationToken.None));

        Assert.Equal(ComputeFailure.Unauthorized, e.Failure);
        Assert.Empty(Endpoint.RequestsFor("AssociateAddress"));
    }

    private static SimulatedInstance Box(string instanceId) =>
        new() { InstanceId = instanceId, Tags = new Dictionary<string, string> { [BoxTags.Box] = "alice-dev" } };
}
