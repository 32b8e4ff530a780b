using SpotDevBox.Core.Agent;

namespace SpotDevBox.Core.Tests.Agent;

public sealed class AgentVersionsTests
{
    [Theory]
    [InlineData("1.0.0", "1.0.1")]
    [InlineData("1.2.10", "1.10.0")]
    [InlineData("0.9.9", "1.0.0")]
    [InlineData("1.0.0-rc.1", "1.0.0")]
    [InlineData("1.0.0-alpha.2", "1.0.0-alpha.10")]
    [InlineData("1.0.0-alpha.1", "1.0.0-alpha.beta")]
    [InlineData("1.0.0-alpha", "1.0.0-alpha.1")]
    [InlineData("1.0.0-beta", "1.0.0-rc.1")]
    [InlineData("1.4.2+0123456789abcdef", "1.5.0+fedcba9876543210")]
    public void IsOlder_OlderBySemVerPrecedence_IsTrue(string agent, string cli) => Assert.True(AgentVersions.IsOlder(agent, cli));

    [Theory]
    [InlineData("1.0.0", "1.0.0")]
    [InlineData("1.0.0+aaaaaaa", "1.0.0+bbbbbbb")]
    [InlineData("1.10.0", "1.2.10")]
    [InlineData("1.0.0", "1.0.0-rc.1")]
    [InlineData("2.0.0-alpha", "1.9.9")]
    [InlineData("1.0.0-alpha.beta", "1.0.0-alpha.1")]
    public void IsOlder_SameOrNewer_IsFalse(string agent, string cli) => Assert.False(AgentVersions.IsOlder(agent, cli));

    [Theory]
    [InlineData("unknown", "1.0.0")]
    [InlineData("", "1.0.0")]
    [InlineData(null, "1.0.0")]
    [InlineData("v1.0.0", "1.2.0")]
    [InlineData("1.0", "1.2.0")]
    [InlineData("01.0.0", "1.2.0")]
    [InlineData("1.0.0\n", "1.2.0")]
    [InlineData("99999999999999999999.0.0", "1.2.0")]
    [InlineData("1.0.0", "unknown")]
    public void IsOlder_NotAVersion_IsNull(string? agent, string cli) => Assert.Null(AgentVersions.IsOlder(agent, cli));
}
