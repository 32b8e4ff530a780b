using SpotDevBox.Core.Compute;

namespace SpotDevBox.Core.Tests.Compute;

/// <summary>Which instance profile ARN (as DescribeInstances reports it) is a box's configured profile, a name or an ARN.</summary>
public sealed class InstanceProfilesTests
{
    private const string Arn = "arn:aws:iam::123456789012:instance-profile/spotdevbox-box";

    [Theory]
    [InlineData("spotdevbox-box", Arn, true)]
    [InlineData(" spotdevbox-box ", Arn, true)]
    [InlineData(Arn, Arn, true)]
    [InlineData("spotdevbox-box", "arn:aws:iam::123456789012:instance-profile/team/spotdevbox-box", true)]
    [InlineData("", null, true)]
    [InlineData(null, "", true)]
    [InlineData("spotdevbox-box", null, false)]
    [InlineData("spotdevbox-box", "arn:aws:iam::123456789012:instance-profile/spotdevbox-box-2", false)]
    [InlineData("spotdevbox-box", "arn:aws:iam::123456789012:instance-profile/spotdevbox-box/x", false)]
    [InlineData("spotdevbox-box", "arn:aws:iam::123456789012:role/spotdevbox-box", false)]
    [InlineData("SpotDevBox-Box", Arn, false)]
    [InlineData(Arn, "arn:aws:iam::210987654321:instance-profile/spotdevbox-box", false)]
    [InlineData("", Arn, false)]
    public void Matches_ComparesTheConfiguredNameOrArnWithTheReportedArn(string? configured, string? reported, bool expected) =>
        Assert.Equal(expected, InstanceProfiles.Matches(configured, reported));
}
