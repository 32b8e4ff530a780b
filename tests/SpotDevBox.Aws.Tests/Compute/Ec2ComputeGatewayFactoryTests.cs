using SpotDevBox.Aws.Compute;

namespace SpotDevBox.Aws.Tests.Compute;

public sealed class Ec2ComputeGatewayFactoryTests
{
    [Fact]
    public void CreateConfig_NoServiceUrl_UsesTheRegionsEndpoint()
    {
        var config = Ec2ComputeGatewayFactory.CreateConfig("eu-central-1", new Ec2GatewayOptions());

        Assert.Equal("eu-central-1", config.RegionEndpoint?.SystemName);
        Assert.Null(config.ServiceURL);
        Assert.Equal(3, config.MaxErrorRetry);
    }

    [Fact]
    public void CreateConfig_ServiceUrl_KeepsItAndSignsForTheRegion()
    {
        var config = Ec2ComputeGatewayFactory.CreateConfig("us-east-1", new Ec2GatewayOptions("http://127.0.0.1:4566", MaxErrorRetry: 0));

        Assert.Equal("http://127.0.0.1:4566/", config.ServiceURL);
        Assert.Equal("us-east-1", config.AuthenticationRegion);
        Assert.Equal(0, config.MaxErrorRetry);
    }

    [Fact]
    public void CreateConfig_ServiceUrlNotHttp_ThrowsNamingIt()
    {
        var e = Assert.Throws<ArgumentException>(() => Ec2ComputeGatewayFactory.CreateConfig("us-east-1", new Ec2GatewayOptions("127.0.0.1:4566")));

        Assert.Contains("127.0.0.1:4566", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ForRegion_SameRegionTwice_ReturnsOneGatewayPerRegion()
    {
        using var factory = new Ec2ComputeGatewayFactory(new Ec2GatewayOptions("http://127.0.0.1:9"));

        var first = factory.ForRegion("us-east-1");

        Assert.Same(first, factory.ForRegion("us-east-1"));
        Assert.NotSame(first, factory.ForRegion("eu-west-1"));
        Assert.Equal("eu-west-1", factory.ForRegion("eu-west-1").Region);
    }
}
