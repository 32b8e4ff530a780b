using SpotDevBox.Core.Compute;

namespace SpotDevBox.Core.Tests.Compute;

public sealed class LaunchRequestTests
{
    private static readonly LaunchRequest Valid = new()
    {
        Box = "alice-dev",
        Owner = "alice",
        SessionId = "s-1",
        InstanceType = "m6i.large",
        ImageId = "ami-1",
        RootVolume = new RootVolume("/dev/xvda", 40),
        ClientToken = "sdb-1",
    };

    [Fact]
    public void Problems_ValidRequest_None()
    {
        Assert.Empty(Valid.Problems());
    }

    [Fact]
    public void Problems_MaxPriceOnDemand_Named()
    {
        var problem = Assert.Single((Valid with { Market = InstanceLifecycle.OnDemand, MaxPricePerHour = 0.1m }).Problems());

        Assert.Contains("MaxPricePerHour", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Problems_UserDataOver16KiB_NamesTheSizeAndTheLimit()
    {
        var problem = Assert.Single((Valid with { UserData = new string('x', 16 * 1024 + 1) }).Problems());

        Assert.Contains("16385", problem, StringComparison.Ordinal);
        Assert.Contains("16384", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("spotdevbox:box")]
    [InlineData("Name")]
    [InlineData("aws:createdBy")]
    public void Problems_TagOverridingOursOrReserved_Named(string key)
    {
        var problem = Assert.Single((Valid with { Tags = new Dictionary<string, string> { [key] = "x" } }).Problems());

        Assert.Contains(key.Split(':')[0], problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Problems_NonAsciiOrLongToken_Named()
    {
        Assert.Single((Valid with { ClientToken = "sdb-ü" }).Problems());
        Assert.Single((Valid with { ClientToken = new string('a', 65) }).Problems());
        Assert.Empty((Valid with { ClientToken = new string('a', 64) }).Problems());
    }
}
