using SpotDevBox.Core.Compute;
using TestSupport.Ec2;

namespace SpotDevBox.Aws.Tests.Compute;

/// <summary>DescribeSubnets: the ids as sent, each subnet's zone as answered, and the errors a launch decides on.</summary>
public sealed class Ec2ComputeGatewaySubnetTests : Ec2EndpointHarness
{
    [Fact]
    public async Task DescribeSubnetZonesAsync_TwoSubnets_SendsTheIdsAndMapsEachToItsZone()
    {
        Endpoint.SubnetZones["subnet-0aaa1111"] = "us-east-1a";
        Endpoint.SubnetZones["subnet-0bbb2222"] = "us-east-1c";
        Endpoint.SubnetZones["subnet-0ccc3333"] = "us-east-1d";

        var zones = await Gateway().DescribeSubnetZonesAsync(["subnet-0bbb2222", "subnet-0aaa1111"], CancellationToken.None);

        Assert.Equal(
            new Dictionary<string, string> { ["subnet-0aaa1111"] = "us-east-1a", ["subnet-0bbb2222"] = "us-east-1c" },
            zones);
        var sent = Assert.Single(Endpoint.RequestsFor("DescribeSubnets"));
        Assert.Equal("subnet-0bbb2222", sent["SubnetId.1"]);
        Assert.Equal("subnet-0aaa1111", sent["SubnetId.2"]);
        Assert.Null(sent["SubnetId.3"]);
        Assert.Null(sent["MaxResults"]);
        Assert.Null(sent["Filter.1.Name"]);
    }

    [Fact]
    public async Task DescribeSubnetZonesAsync_RepeatedId_SendsItOnce()
    {
        Endpoint.SubnetZones["subnet-0aaa1111"] = "us-east-1a";

        var zones = await Gateway().DescribeSubnetZonesAsync(["subnet-0aaa1111", "subnet-0aaa1111"], CancellationToken.None);

        Assert.Equal("us-east-1a", Assert.Single(zones).Value);
        Assert.Equal(["subnet-0aaa1111"], Assert.Single(Endpoint.RequestsFor("DescribeSubnets")).Values("SubnetId"));
    }

    [Fact]
    public async Task DescribeSubnetZonesAsync_AnswerInPages_FollowsNextToken()
    {
        Endpoint.SubnetZones["subnet-0aaa1111"] = "us-east-1a";
        Endpoint.SubnetZones["subnet-0bbb2222"] = "us-east-1b";
        Endpoint.SubnetZones["subnet-0ccc3333"] = "us-east-1c";
        Endpoint.PageSize = 2;

        var zones = await Gateway().DescribeSubnetZonesAsync(["subnet-0aaa1111", "subnet-0bbb2222", "subnet-0ccc3333"], CancellationToken.None);

        Assert.Equal(3, zones.Count);
        Assert.Equal("us-east-1c", zones["subnet-0ccc3333"]);
        var sent = Endpoint.RequestsFor("DescribeSubnets");
        Assert.Equal([null, "page-2"], sent.Select(r => r["NextToken"]));
        Assert.All(sent, r => Assert.Equal(["subnet-0aaa1111", "subnet-0bbb2222", "subnet-0ccc3333"], r.Values("SubnetId")));
    }

    [Fact]
    public async Task DescribeSubnetZonesAsync_NoSubnets_SendsNothing()
    {
        var zones = await Gateway().DescribeSubnetZonesAsync([], CancellationToken.None);

        Assert.Empty(zones);
        Assert.Empty(Endpoint.Requests);
    }

    [Fact]
    public async Task DescribeSubnetZonesAsync_UnknownSubnet_ThrowsNotFoundNamingIt()
    {
        Endpoint.SubnetZones["subnet-0aaa1111"] = "us-east-1a";

        var e = await Assert.ThrowsAsync<ComputeException>(() => Gateway().DescribeSubnetZonesAsync(["subnet-0aaa1111", "subnet-0dead000"], CancellationToken.None));

        Assert.Equal(ComputeFailure.NotFound, e.Failure);
        Assert.Contains("subnet-0dead000", e.Message, StringComparison.Ordinal);
        Assert.Contains("DescribeSubnets", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("UnauthorizedOperation", 403, ComputeFailure.Unauthorized)]
    [InlineData("RequestLimitExceeded", 503, ComputeFailure.Throttled)]
    [InlineData("InternalError", 500, ComputeFailure.Unavailable)]
    public async Task DescribeSubnetZonesAsync_ErrorCode_ThrowsComputeFailure(string code, int status, ComputeFailure expected)
    {
        Endpoint.SubnetZones["subnet-0aaa1111"] = "us-east-1a";
        Endpoint.FailNext("DescribeSubnets", new Ec2Error(code, "scripted", status));

        var e = await Assert.ThrowsAsync<ComputeException>(() => Gateway().DescribeSubnetZonesAsync(["subnet-0aaa1111"], CancellationToken.None));

        Assert.Equal(expected, e.Failure);
    }
}
