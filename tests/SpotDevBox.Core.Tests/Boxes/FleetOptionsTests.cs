using SpotDevBox.Core.Boxes;

namespace SpotDevBox.Core.Tests.Boxes;

public sealed class FleetOptionsTests
{
    private static FleetOptions ValidFleet()
    {
        var fleet = new FleetOptions { Stack = "spotdevbox", Region = "eu-central-1", StorageRoot = "s3://my-bucket/boxes" };
        fleet.SecurityGroups.Add("sg-0a1b2c3d");
        fleet.Subnets.Add("subnet-0a1b2c3d4e5f60718");
        return fleet;
    }

    private static List<string> Failures(Action<FleetOptions> change)
    {
        var fleet = ValidFleet();
        change(fleet);
        var options = new ControllerOptions { Fleet = fleet };
        return new ControllerOptionsValidator().Validate(null, options).Failures?.ToList() ?? [];
    }

    [Fact]
    public void Validate_ValidFleet_Succeeds() => Assert.Empty(Failures(_ => { }));

    [Fact]
    public void Validate_NoFleet_Succeeds() => Assert.True(new ControllerOptionsValidator().Validate(null, new ControllerOptions()).Succeeded);

    [Fact]
    public void Defaults_DebianTwelveImagesInstanceConnectAndThreeTypes()
    {
        var fleet = new FleetOptions();

        Assert.Equal("136693071363", fleet.ImageOwner);
        Assert.Equal("debian-12-{arch}-*", fleet.ImageNameFilter);
        Assert.Equal("debian-12-arm64-*", fleet.ImageNameFilterFor("arm64"));
        Assert.Equal(["m7i.large", "m6i.large", "m5.large"], fleet.InstanceTypesOrDefault());
        Assert.Equal("instance-connect", fleet.SshVia);
        Assert.Equal("spotdevbox-box-alice", fleet.BoxStackName("alice"));
        Assert.Equal("team-box-alice", new FleetOptions { Stack = "team" }.BoxStackName("alice"));
    }

    [Theory]
    [InlineData("s3://my-bucket/boxes/")]
    [InlineData("s3://my-bucket")]
    [InlineData("s3://my-bucket/")]
    [InlineData("s3://My_Bucket/boxes")]
    [InlineData("s3://my-bucket/a//b")]
    [InlineData("s3://my-bucket/../boxes")]
    [InlineData("my-bucket/boxes")]
    [InlineData("")]
    public void Validate_StorageRootNotBucketAndRoot_NamesTheSettingAndTheShape(string root) =>
        Assert.Contains(
            "Controller:Fleet:StorageRoot must be s3://BUCKET/ROOT (ROOT one or more segments such as boxes, no '/' at the end): each box's Storage is StorageRoot/<owner>/<box>",
            Failures(f => f.StorageRoot = root));

    [Theory]
    [InlineData("s3://my-bucket/boxes")]
    [InlineData("s3://my-bucket/team/boxes")]
    public void Validate_StorageRootOfOneOrMoreSegments_Succeeds(string root) => Assert.Empty(Failures(f => f.StorageRoot = root));

    [Theory]
    [InlineData("alias/spotdevbox/fleet/repositories")]
    [InlineData("11111111-2222-4333-8444-555555555555")]
    [InlineData("arn:aws:s3:::my-bucket")]
    public void Validate_RepositoryKeyArnNotAKeyArn_NamesTheSetting(string value) =>
        Assert.Equal(
            ["Controller:Fleet:RepositoryKeyArn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), or empty"],
            Failures(f => f.RepositoryKeyArn = value));

    [Fact]
    public void Validate_RepositoryKeyArn_Succeeds() =>
        Assert.Empty(Failures(f => f.RepositoryKeyArn = "arn:aws:kms:eu-central-1:123456789012:key/11111111-2222-4333-8444-555555555555"));

    [Fact]
    public void Validate_EachBadSetting_NamesItWithoutItsValue()
    {
        var failures = Failures(f =>
        {
            f.Stack = "1-not-a-stack";
            f.Region = "Frankfurt";
            f.SecurityGroups.Add("group-1");
            f.Subnets.Add("net-1");
            f.ImageOwner = "debian";
            f.ImageNameFilter = "debian-12-amd64-*";
            f.InstanceTypes.Add("large");
            f.SshVia = "telnet";
        });

        Assert.Equal(
            [
                "Controller:Fleet:Stack must be a CloudFormation stack name (letters, digits and '-', starting with a letter, at most 100), or empty",
                "Controller:Fleet:Region must be an AWS region such as eu-central-1",
                "Controller:Fleet:SecurityGroups:1 must be a security group id (sg-...)",
                "Controller:Fleet:Subnets:1 must be a subnet id (subnet-...)",
                "Controller:Fleet:ImageOwner must be an AWS account id (12 digits) or amazon",
                "Controller:Fleet:ImageNameFilter must contain {arch} (replaced by amd64 or arm64, the architecture of the box's instance types), e.g. debian-12-{arch}-*",
                "Controller:Fleet:InstanceTypes:0 must be an instance type such as m7i.large",
                "Controller:Fleet:SshVia must be one of instance-connect, ssm, direct",
            ],
            failures);
        Assert.DoesNotContain(failures, f => f.Contains("Frankfurt", StringComparison.Ordinal) || f.Contains("telnet", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_EmptyStackAmazonImages_Succeeds() => Assert.Empty(Failures(f => { f.Stack = ""; f.ImageOwner = "amazon"; }));

    [Fact]
    public void Under_StorageRootOwnerAndBox_TheBoxPrefix() =>
        Assert.Equal("s3://my-bucket/team/boxes/alice/dev", BoxPrefix.Under("s3://my-bucket/team/boxes", "alice", "dev")?.ToString());
}
