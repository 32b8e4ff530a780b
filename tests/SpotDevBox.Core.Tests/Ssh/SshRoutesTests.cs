using SpotDevBox.Core.Ssh;

namespace SpotDevBox.Core.Tests.Ssh;

public sealed class SshRoutesTests
{
    [Theory]
    [InlineData("instance-connect", SshRoute.InstanceConnect)]
    [InlineData("ssm", SshRoute.Ssm)]
    [InlineData("direct", SshRoute.Direct)]
    public void TryParse_DocumentedName_IsItsRoute(string name, SshRoute expected) => Assert.Equal(expected, SshRoutes.TryParse(name));

    [Theory]
    [InlineData("")]
    [InlineData("SSM")]
    [InlineData("InstanceConnect")]
    [InlineData("instance-connect ")]
    [InlineData("eic")]
    public void TryParse_AnythingElse_IsNull(string name) => Assert.Null(SshRoutes.TryParse(name));

    [Theory]
    [InlineData("i-0123abcd", true)]
    [InlineData("i-0a11ce0000000000b", true)]
    [InlineData("i-0123456789abcdef", true)]
    [InlineData("i-0123abc", false)]
    [InlineData("i-0123456789abcdef01", false)]
    [InlineData("i-0123ABCD", false)]
    [InlineData("i-0123abcd;id", false)]
    [InlineData("i-0123abcd\n", false)]
    [InlineData("i-0123abcd -o x", false)]
    [InlineData("$(id)", false)]
    [InlineData("mi-0123456789abcdef0", false)]
    [InlineData("", false)]
    public void IsInstanceId_OnlyIAndEightToSeventeenLowerCaseHexDigits(string value, bool expected) => Assert.Equal(expected, SshRoutes.IsInstanceId(value));

    [Theory]
    [InlineData("eu-central-1", true)]
    [InlineData("us-gov-west-1", true)]
    [InlineData("us-east-1\n", false)]
    [InlineData("us-east-1;id", false)]
    [InlineData("us-east-1 --profile x", false)]
    [InlineData("US-EAST-1", false)]
    [InlineData("", false)]
    public void IsRegion_OnlyARegionName(string value, bool expected) => Assert.Equal(expected, SshRoutes.IsRegion(value));
}
