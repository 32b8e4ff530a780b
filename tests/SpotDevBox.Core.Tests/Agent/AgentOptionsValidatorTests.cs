using SpotDevBox.Core.Agent;

namespace SpotDevBox.Core.Tests.Agent;

public sealed class AgentOptionsValidatorTests
{
    private static AgentOptions Valid() => new() { Box = "s3://bucket/boxes/alice", User = "alice", PasswordFile = PasswordFile };

    private const string PasswordFile = "/etc/spotdevbox/repository-password";

    private static IReadOnlyList<string> Failures(AgentOptions options) =>
        [.. new AgentOptionsValidator().Validate(null, options).Failures ?? []];

    [Fact]
    public void Validate_DefaultsWithBoxAndUser_Succeed()
    {
        Assert.True(new AgentOptionsValidator().Validate(null, Valid()).Succeeded);
    }

    [Fact]
    public void Validate_DefaultsWithBoxAndPathsOnly_Succeed()
    {
        var options = new AgentOptions { PasswordFile = PasswordFile, Box = "/mnt/backup/box" };
        options.Paths.Add("/home/alice/work");

        Assert.True(new AgentOptionsValidator().Validate(null, options).Succeeded);
    }

    [Fact]
    public void Validate_MinimumSnapshotHalfSet_NamesBothKeys()
    {
        var options = Valid();
        options.MinimumSnapshot.Id = new string('a', 64);

        Assert.Equal(["Agent:MinimumSnapshot needs both Id and Time, or neither"], Failures(options));
    }

    [Fact]
    public void Validate_MinimumSnapshotIdNotAnId_RefusedWithoutPrintingIt()
    {
        var options = Valid();
        options.MinimumSnapshot.Id = "latest; reboot";
        options.MinimumSnapshot.Time = new DateTimeOffset(2026, 3, 2, 12, 0, 0, TimeSpan.Zero);

        Assert.Equal(["Agent:MinimumSnapshot:Id must be a snapshot id, 64 lower-case hex digits"], Failures(options));
    }

    [Fact]
    public void Validate_BoxMissing_NamesTheSettingWithAnExample()
    {
        var failures = Failures(new AgentOptions { PasswordFile = PasswordFile, User = "alice" });

        Assert.Equal(["Agent:Box is required: the box's storage prefix, e.g. s3://my-bucket/boxes/alice/alice"], failures);
    }

    [Fact]
    public void Validate_UserAndPathsBothMissing_NamesBoth()
    {
        var failures = Failures(new AgentOptions { PasswordFile = PasswordFile, Box = "s3://bucket/boxes/alice", User = "  " });

        Assert.Equal(["Agent:User or Agent:Paths is required: whose home (or which paths) the agent keeps"], failures);
    }

    [Fact]
    public void Validate_RelativePath_NamesTheSettingAndThePath()
    {
        var options = Valid();
        options.Paths.Add("/home/alice");
        options.Paths.Add("work/src");

        Assert.Equal(["Agent:Paths must hold absolute paths, got 'work/src'"], Failures(options));
    }

    [Theory]
    [InlineData("BackupInterval", "00:00:59", "Agent:BackupInterval must be between 00:01:00 and 1.00:00:00, got 00:00:59")]
    [InlineData("BackupInterval", "1.00:00:01", "Agent:BackupInterval must be between 00:01:00 and 1.00:00:00, got 1.00:00:01")]
    [InlineData("StatusInterval", "00:00:09", "Agent:StatusInterval must be between 00:00:10 and 00:05:00, got 00:00:09")]
    [InlineData("StatusInterval", "00:05:01", "Agent:StatusInterval must be between 00:00:10 and 00:05:00, got 00:05:01")]
    [InlineData("ControlPollInterval", "00:00:04", "Agent:ControlPollInterval must be between 00:00:05 and 00:05:00, got 00:00:04")]
    [InlineData("StopTimeout", "00:00:00", "Agent:StopTimeout must be between 00:00:05 and 00:30:00, got 00:00:00")]
    [InlineData("StopTimeout", "00:31:00", "Agent:StopTimeout must be between 00:00:05 and 00:30:00, got 00:31:00")]
    [InlineData("RetentionInterval", "00:59:00", "Agent:RetentionInterval must be between 01:00:00 and 30.00:00:00, got 00:59:00")]
    [InlineData("RetentionInterval", "31.00:00:00", "Agent:RetentionInterval must be between 01:00:00 and 30.00:00:00, got 31.00:00:00")]
    public void Validate_IntervalOutOfRange_NamesSettingLimitsAndValue(string setting, string value, string expected)
    {
        var options = Valid();
        var span = TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
        switch (setting)
        {
            case "BackupInterval": options.BackupInterval = span; break;
            case "StatusInterval": options.StatusInterval = span; break;
            case "ControlPollInterval": options.ControlPollInterval = span; break;
            case "StopTimeout": options.StopTimeout = span; break;
            case "RetentionInterval": options.RetentionInterval = span; break;
            default: throw new ArgumentOutOfRangeException(nameof(setting), setting, null);
        }

        Assert.Equal([expected], Failures(options));
    }

    [Fact]
    public void Validate_IntervalsAtTheirLimits_Succeed()
    {
        var options = Valid();
        options.BackupInterval = TimeSpan.FromMinutes(1);
        options.StatusInterval = TimeSpan.FromMinutes(5);
        options.ControlPollInterval = TimeSpan.FromSeconds(5);
        options.StopTimeout = TimeSpan.FromMinutes(30);
        options.RetentionInterval = TimeSpan.FromHours(1);

        Assert.Empty(Failures(options));
    }

    [Fact]
    public void Validate_AllKeepCountsZeroWithRetentionOn_SaysRetentionWouldDeleteEverything()
    {
        var options = Valid();
        options.KeepLast = 0;
        options.KeepDaily = 0;
        options.KeepWeekly = 0;
        options.KeepWithin = TimeSpan.Zero;

        Assert.Equal(
            ["Agent:KeepLast, KeepDaily, KeepWeekly and KeepWithin are all 0: retention would delete every snapshot (set RetentionInterval to 00:00:00 to turn retention off)"],
            Failures(options));
    }

    [Fact]
    public void Validate_AllKeepCountsZeroWithRetentionOff_Succeeds()
    {
        var options = Valid();
        options.KeepLast = 0;
        options.KeepDaily = 0;
        options.KeepWeekly = 0;
        options.RetentionInterval = TimeSpan.Zero;

        Assert.Empty(Failures(options));
    }

    [Fact]
    public void Validate_NegativeKeepCount_NamesTheSettingAndValue()
    {
        var options = Valid();
        options.KeepDaily = -1;

        Assert.Equal(["Agent:KeepDaily must be between 0 and 10000, got -1"], Failures(options));
    }

    [Theory]
    [InlineData("hooks.slack.com/services/x")]
    [InlineData("ftp://example.com/hook")]
    [InlineData("not a url")]
    public void Validate_BadWebhookUrl_NamesTheSettingAndValue(string url)
    {
        var options = Valid();
        options.WebhookUrl = url;

        Assert.Equal(["Agent:WebhookUrl must be an http(s) URL (the value is not printed: a URL may carry a secret)"], Failures(options));
    }

    [Theory]
    [InlineData("https://hooks.slack.com/services/T0/B0/x")]
    [InlineData("http://127.0.0.1:8080/hook")]
    public void Validate_HttpWebhookUrl_Succeeds(string url)
    {
        var options = Valid();
        options.WebhookUrl = url;

        Assert.Empty(Failures(options));
    }

    [Fact]
    public void Validate_RelativeStateDirectory_NamesTheSettingAndValue()
    {
        var options = Valid();
        options.StateDirectory = "var/lib/spotdevbox";

        Assert.Equal(["Agent:StateDirectory must be an absolute path, got 'var/lib/spotdevbox'"], Failures(options));
    }

    [Fact]
    public void Validate_RelativeRunAndHostDirectories_NameEachSetting()
    {
        var options = Valid();
        options.HostRoot = ".";
        options.RunDirectory = "run";
        options.HostKeyDirectory = "ssh";

        Assert.Equal(
            [
                "Agent:HostRoot must be an absolute path, got '.'",
                "Agent:RunDirectory must be an absolute path, got 'run'",
                "Agent:HostKeyDirectory must be an absolute path, got 'ssh'",
            ],
            Failures(options));
    }

    [Fact]
    public void Validate_SeveralProblems_ReportsEachOnce()
    {
        var options = new AgentOptions { PasswordFile = PasswordFile, BackupInterval = TimeSpan.Zero, WebhookUrl = "nope" };

        Assert.Equal(
            [
                "Agent:Box is required: the box's storage prefix, e.g. s3://my-bucket/boxes/alice/alice",
                "Agent:User or Agent:Paths is required: whose home (or which paths) the agent keeps",
                "Agent:BackupInterval must be between 00:01:00 and 1.00:00:00, got 00:00:00",
                "Agent:WebhookUrl must be an http(s) URL (the value is not printed: a URL may carry a secret)",
            ],
            Failures(options));
    }

    [Fact]
    public void Defaults_KeepWithin_Is30Days()
    {
        Assert.Equal(TimeSpan.FromDays(30), new AgentOptions().KeepWithin);
    }

    [Fact]
    public void Validate_NegativeKeepWithin_NamesTheSettingAndValue()
    {
        var options = Valid();
        options.KeepWithin = TimeSpan.FromHours(-1);

        Assert.Equal(["Agent:KeepWithin must be between 00:00:00 and 36525.00:00:00, got -01:00:00"], Failures(options));
    }

    [Fact]
    public void Validate_NeitherRepositoryKeyNorPasswordFile_SaysTheRepositoriesAreEncryptedAndNamesBoth()
    {
        var failures = Failures(new AgentOptions { Box = "s3://bucket/boxes/alice", User = "alice" });

        Assert.Equal(["Agent:RepositoryKeyArn (with Agent:Owner) or Agent:PasswordFile is required: the box's repositories are encrypted, and one of them opens their key"], failures);
    }

    [Fact]
    public void Validate_RepositoryKeyWithoutOwner_NamesOwner_WithOwnerSucceeds()
    {
        var options = new AgentOptions { Box = "s3://bucket/boxes/alice", User = "alice", RepositoryKeyArn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab" };

        Assert.Equal(["Agent:Owner is required with Agent:RepositoryKeyArn: it names the box in the key's encryption context (OWNER/BOX)"], Failures(options));
        options.Owner = "alice";
        Assert.True(new AgentOptionsValidator().Validate(null, options).Succeeded);
    }
}
