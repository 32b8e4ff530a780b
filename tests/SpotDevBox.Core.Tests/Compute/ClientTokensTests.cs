using SpotDevBox.Core.Compute;

namespace SpotDevBox.Core.Tests.Compute;

public sealed class ClientTokensTests
{
    [Fact]
    public void Derive_SameInputs_SameTokenOfAtMost64Ascii()
    {
        var first = ClientTokens.Derive("alice-dev", "s-1", "m6i.large", "subnet-1", InstanceLifecycle.Spot);
        var second = ClientTokens.Derive("alice-dev", "s-1", "m6i.large", "subnet-1", InstanceLifecycle.Spot);

        Assert.Equal(first, second);
        Assert.Matches("^sdb-[0-9a-f]{40}$", first);
        Assert.True(first.Length <= 64);
    }

    [Theory]
    [InlineData("bob-dev", "s-1", "m6i.large", "subnet-1", InstanceLifecycle.Spot)]
    [InlineData("alice-dev", "s-2", "m6i.large", "subnet-1", InstanceLifecycle.Spot)]
    [InlineData("alice-dev", "s-1", "m7i.large", "subnet-1", InstanceLifecycle.Spot)]
    [InlineData("alice-dev", "s-1", "m6i.large", "subnet-2", InstanceLifecycle.Spot)]
    [InlineData("alice-dev", "s-1", "m6i.large", "subnet-1", InstanceLifecycle.OnDemand)]
    public void Derive_AnyPartDiffers_DifferentToken(string box, string session, string type, string placement, InstanceLifecycle market)
    {
        Assert.NotEqual(
            ClientTokens.Derive("alice-dev", "s-1", "m6i.large", "subnet-1", InstanceLifecycle.Spot),
            ClientTokens.Derive(box, session, type, placement, market));
    }

    [Fact]
    public void Derive_PartsThatConcatenateAlike_DifferentToken()
    {
        Assert.NotEqual(
            ClientTokens.Derive("ab", "c", "m6i.large", "", InstanceLifecycle.Spot),
            ClientTokens.Derive("a", "bc", "m6i.large", "", InstanceLifecycle.Spot));
    }
}
