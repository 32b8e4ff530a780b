using SpotDevBox.Core.Boxes;

namespace SpotDevBox.Core.Tests.Boxes;

public sealed class ControllerOptionsValidatorTests
{
    private static BoxOptions ValidBox()
    {
        var box = new BoxOptions
        {
            Owner = "alice",
            Region = "eu-central-1",
            ImageId = "ami-0123456789abcdef0",
            Storage = "s3://my-bucket/boxes/alice/alice",
            InstanceProfile = "spotdevbox-box-alice",
            User = "alice",
        };
        box.InstanceTypes.Add("m7i.large");
        box.InstanceTypes.Add("m6i.large");
        box.Subnets.Add("subnet-0a1b2c3d4e5f60718");
        box.SecurityGroups.Add("sg-0a1b2c3d");
        box.Schedule.TimeZone = "Europe/Berlin";
        box.Schedule.Periods.Add("Mon-Fri 08:30-19:00");
        return box;
    }

    private static List<string> Failures(string name, Action<BoxOptions> change)
    {
        var options = new ControllerOptions { AgentBuilds = "s3://my-bucket/agent" };
        var box = ValidBox();
        change(box);
        options.Boxes[name] = box;
        return new ControllerOptionsValidator().Validate(null, options).Failures?.ToList() ?? [];
    }

    [Fact]
    public void Validate_ValidBox_Succeeds() => Assert.Empty(Failures("alice", _ => { }));

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(10, true)]
    [InlineData(11, false)]
    [InlineData(60, false)]
    public void Validate_ClusterCheckinInterval_2To10SecondsSoAFailoverStaysWithin30(int seconds, bool valid)
    {
        var options = new ControllerOptions { Cluster = { CheckinInterval = TimeSpan.FromSeconds(seconds) } };

        var failures = new ControllerOptionsValidator().Validate(null, options).Failures?.ToList() ?? [];

        if (valid)
        {
            Assert.Empty(failures);
        }
        else
        {
            Assert.Equal([$"Controller:Cluster:CheckinInterval must be between 00:00:02 and 00:00:10, got {TimeSpan.FromSeconds(seconds):c}"], failures);
        }
    }

    [Theory]
    [InlineData("Alice", "Controller:Boxes:Alice: a box name is 1-32 lower-case letters, digits and '-', starting with a letter, got 'Alice'")]
    [InlineData("1box", "Controller:Boxes:1box: a box name is 1-32 lower-case letters, digits and '-', starting with a letter, got '1box'")]
    public void Validate_BadBoxName_NamesIt(string name, string expected) => Assert.Contains(expected, Failures(name, _ => { }));

    [Fact]
    public void Validate_EachBadSetting_NamesBoxSettingAndValue()
    {
        Assert.Contains("Controller:Boxes:alice:Owner is required", Failures("alice", b => b.Owner = ""));
        Assert.Contains("Controller:Boxes:alice:Region must be an AWS region such as eu-central-1, got 'Frankfurt'", Failures("alice", b => b.Region = "Frankfurt"));
        Assert.Contains("Controller:Boxes:alice:InstanceTypes needs at least one instance type, in order of preference", Failures("alice", b => b.InstanceTypes.Clear()));
        Assert.Contains("Controller:Boxes:alice:InstanceTypes:1 must be an instance type such as m7i.large, got 'large'", Failures("alice", b => b.InstanceTypes[1] = "large"));
        Assert.Contains("Controller:Boxes:alice:InstanceTypes lists a type twice", Failures("alice", b => b.InstanceTypes[1] = "m7i.large"));
        Assert.Contains("Controller:Boxes:alice:Subnets:0 must be a subnet id (subnet-...), got 'default'", Failures("alice", b => b.Subnets[0] = "default"));
        Assert.Contains("Controller:Boxes:alice:SecurityGroups:0 must be a security group id (sg-...), got 'dev'", Failures("alice", b => b.SecurityGroups[0] = "dev"));
        Assert.Contains("Controller:Boxes:alice: set exactly one of ImageId (ami-...) and ImageNameFilter (with ImageOwner)", Failures("alice", b => b.ImageNameFilter = "debian-12-*"));
        Assert.Contains("Controller:Boxes:alice: set exactly one of ImageId (ami-...) and ImageNameFilter (with ImageOwner)", Failures("alice", b => b.ImageId = ""));
        Assert.Contains("Controller:Boxes:alice:ImageId must be an AMI id (ami-...), got 'debian'", Failures("alice", b => b.ImageId = "debian"));
        Assert.Contains("Controller:Boxes:alice:ImageOwner is required with ImageNameFilter, so that no one else's image can match", Failures("alice", b => { b.ImageId = ""; b.ImageNameFilter = "debian-12-*"; }));
        Assert.Contains("Controller:Boxes:alice:RootVolumeGiB must be between 8 and 16384, got 4", Failures("alice", b => b.RootVolumeGiB = 4));
        Assert.Contains("Controller:Boxes:alice:RootVolumeType must be one of gp3, gp2, io1, io2, st1, sc1, got 'ssd'", Failures("alice", b => b.RootVolumeType = "ssd"));
        Assert.Contains("Controller:Boxes:alice:MaxPrice must be more than 0 and at most 1000 (USD per hour), got 0", Failures("alice", b => b.MaxPrice = 0m));
        Assert.Contains("Controller:Boxes:alice: set User (whose home the agent keeps) or Paths", Failures("alice", b => b.User = ""));
        Assert.Contains("Controller:Boxes:alice:Paths must hold absolute paths, got 'work'", Failures("alice", b => b.Paths.Add("work")));
        Assert.Contains("Controller:Boxes:alice:ElasticIp must be an allocation id (eipalloc-...), got '1.2.3.4'", Failures("alice", b => b.ElasticIp = "1.2.3.4"));
        Assert.Contains("Controller:Boxes:alice:Schedule:TimeZone must be an IANA time zone such as Europe/Berlin, got 'Mars/Olympus'", Failures("alice", b => b.Schedule.TimeZone = "Mars/Olympus"));
    }

    [Fact]
    public void Validate_BoxWithoutAgentBuilds_NamesTheSetting()
    {
        var options = new ControllerOptions();
        options.Boxes["alice"] = ValidBox();

        var failures = new ControllerOptionsValidator().Validate(null, options).Failures;

        Assert.Equal(
            ["Controller:AgentBuilds is required to launch a box: the prefix the agent builds were published to with 'spotdevbox agent publish', s3://bucket/prefix"],
            failures);
    }

    [Fact]
    public void Validate_NoBoxesNoAgentBuilds_Succeeds() =>
        Assert.True(new ControllerOptionsValidator().Validate(null, new ControllerOptions()).Succeeded);

    [Theory]
    [InlineData("s3://my-bucket")]
    [InlineData("s3://my-bucket/")]
    [InlineData("s3://My_Bucket/agent")]
    [InlineData("https://my-bucket.s3.amazonaws.com/agent")]
    [InlineData("/srv/agent-builds")]
    [InlineData("s3://my-bucket/agent builds")]
    public void Validate_AgentBuildsNotAnS3Prefix_NamesTheSettingAndValue(string value)
    {
        var options = new ControllerOptions { AgentBuilds = value };

        var failures = new ControllerOptionsValidator().Validate(null, options).Failures;

        Assert.Equal([$"Controller:AgentBuilds must be the agent builds' prefix in a bucket, s3://bucket/prefix, got '{value}'"], failures);
    }

    [Theory]
    [InlineData("s3://my-bucket/agent")]
    [InlineData("s3://my.bucket-1/spotdevbox/agent/")]
    public void Validate_AgentBuildsS3Prefix_Succeeds(string value)
    {
        var options = new ControllerOptions { AgentBuilds = value };
        options.Boxes["alice"] = ValidBox();

        Assert.True(new ControllerOptionsValidator().Validate(null, options).Succeeded);
    }

    [Fact]
    public void Validate_BadSchedulePeriod_NamesTheBoxSchedule()
    {
        var failures = Failures("alice", b => b.Schedule.Periods[0] = "Mon-Fri 8:30-19:00");
        Assert.Contains(failures, f => f.StartsWith("Controller:Boxes:alice:Schedule", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("s3://my-bucket")]
    [InlineData("s3://my-bucket/alice")]
    [InlineData("s3://my-bucket/boxes/alice")]
    [InlineData("s3://my-bucket/alice/alice")]
    [InlineData("s3://my-bucket/boxes/bob/alice")]
    [InlineData("s3://my-bucket/boxes/alice/bob")]
    [InlineData("s3://my-bucket/boxes//alice/alice")]
    [InlineData("s3://my-bucket/../alice/alice")]
    [InlineData("s3://my-bucket/my boxes/alice/alice")]
    [InlineData("s3://My_Bucket/boxes/alice/alice")]
    [InlineData("/srv/boxes/alice/alice")]
    [InlineData("")]
    public void Validate_StorageNotRootOwnerBox_NamesTheShapeAndTheMigrateCommand(string storage) =>
        Assert.Equal(
            [$"Controller:Boxes:alice:Storage must be s3://BUCKET/ROOT/<Owner>/<box>, the box's Owner and name last (here s3://BUCKET/ROOT/alice/alice, ROOT one or more segments such as boxes), got '{storage}'; 'spotdevbox storage migrate FROM TO' moves an existing prefix there"],
            Failures("alice", b => b.Storage = storage));

    [Theory]
    [InlineData("s3://my-bucket/boxes/alice/alice/")]
    [InlineData("s3://my.bucket-1/team/dev/boxes/alice/alice")]
    public void Validate_StorageRootOwnerBox_Succeeds(string storage) => Assert.Empty(Failures("alice", b => b.Storage = storage));

    [Theory]
    [InlineData("Alice")]
    [InlineData("alice@example.com")]
    [InlineData("_operator")]
    [InlineData("1alice")]
    [InlineData("a2345678901234567890123456789012345678901234567890123456789012345")]
    public void Validate_OwnerNotAnOwnerName_NamesTheRule(string owner) =>
        Assert.Contains(
            $"Controller:Boxes:alice:Owner must be 1-64 lower-case letters, digits, '.', '_' and '-', starting with a letter, got '{owner}'",
            Failures("alice", b => b.Owner = owner));

    [Theory]
    [InlineData("alice.smith")]
    [InlineData("a_b-c.9")]
    [InlineData("a234567890123456789012345678901234567890123456789012345678901234")]
    public void Validate_OwnerNameWithItsStorage_Succeeds(string owner) =>
        Assert.Empty(Failures("alice", b => { b.Owner = owner; b.Storage = $"s3://my-bucket/boxes/{owner}/alice"; }));

    private static ControllerOptions TwoBoxes(Action<BoxOptions> changeBob)
    {
        var options = new ControllerOptions { AgentBuilds = "s3://my-bucket/agent" };
        options.Boxes["alice"] = ValidBox();
        var bob = ValidBox();
        bob.Owner = "bob";
        bob.User = "bob";
        bob.Storage = "s3://my-bucket/boxes/bob/bob";
        bob.InstanceProfile = "spotdevbox-box-bob";
        changeBob(bob);
        options.Boxes["bob"] = bob;
        return options;
    }

    [Fact]
    public void Validate_TwoBoxesEachWithItsOwnProfileAndPrefix_Succeeds() =>
        Assert.True(new ControllerOptionsValidator().Validate(null, TwoBoxes(_ => { })).Succeeded);

    [Theory]
    [InlineData("spotdevbox-box-alice")]
    [InlineData("SpotDevBox-Box-Alice")]
    [InlineData("arn:aws:iam::123456789012:instance-profile/spotdevbox/alice/spotdevbox-box-alice")]
    public void Validate_TwoBoxesShareAnInstanceProfile_NamesBoth(string bobsProfile) =>
        Assert.Equal(
            ["Controller:Boxes:alice:InstanceProfile and Controller:Boxes:bob:InstanceProfile name the same instance profile: give each box its own (e.g. spotdevbox-box-alice and spotdevbox-box-bob), so that no box's role reaches another's storage"],
            new ControllerOptionsValidator().Validate(null, TwoBoxes(b => b.InstanceProfile = bobsProfile)).Failures);

    [Fact]
    public void Validate_ManyBoxesShareOneProfileAndOnePrefix_OneLineForTheProfileAndTheOverlapsCapped()
    {
        // A fleet of 30 copied from one box: one line for the shared profile, not one per pair (435), and the
        // overlaps (435 pairs too) capped at ten and a count.
        var options = new ControllerOptions { AgentBuilds = "s3://my-bucket/agent" };
        for (var i = 0; i < 30; i++)
        {
            var box = ValidBox();
            box.Storage = "s3://my-bucket/boxes/alice/alice";
            options.Boxes[$"b{i:00}"] = box;
        }

        // (Each box also gets its own line for a prefix that does not end in its name: not what this test is about.)
        var failures = new ControllerOptionsValidator().Validate(null, options).Failures!.Where(f => !f.Contains(":Storage must be", StringComparison.Ordinal)).ToList();

        Assert.Equal(12, failures.Count);
        Assert.Equal(
            "Controller:Boxes:b00:InstanceProfile and 29 other boxes' (b01, b02, b03, b04, b05, …) name the same instance profile: give each box its own (e.g. spotdevbox-box-b00 and spotdevbox-box-b01), so that no box's role reaches another's storage",
            failures[0]);
        Assert.Equal("Controller:Boxes:b00:Storage and Controller:Boxes:b01:Storage overlap (one prefix is the other or lies inside it): give each box a prefix of its own", failures[1]);
        Assert.Equal("425 more pairs of Controller:Boxes:*:Storage overlap: give each box a prefix of its own", failures[11]);
    }

    [Fact]
    public void Validate_OneBoxPrefixInsideAnother_NamesBoth()
    {
        // Valid each on its own: bob's ROOT is alice's whole prefix.
        var options = TwoBoxes(b => b.Storage = "s3://my-bucket/boxes/alice/alice/bob/bob");

        Assert.Equal(
            ["Controller:Boxes:alice:Storage and Controller:Boxes:bob:Storage overlap (one prefix is the other or lies inside it): give each box a prefix of its own"],
            new ControllerOptionsValidator().Validate(null, options).Failures);
    }

    [Theory]
    [InlineData("s3://other-bucket/boxes/alice/alice/bob/bob")]
    [InlineData("s3://my-bucket/boxes/alice/alice-2/bob/bob")]
    public void Validate_PrefixesThatOnlyShareLeadingCharacters_Succeed(string bobsStorage) =>
        Assert.True(new ControllerOptionsValidator().Validate(null, TwoBoxes(b => b.Storage = bobsStorage)).Succeeded);
}
