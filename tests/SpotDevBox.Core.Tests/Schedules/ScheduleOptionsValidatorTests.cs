using SpotDevBox.Core.Schedules;

namespace SpotDevBox.Core.Tests.Schedules;

public sealed class ScheduleOptionsValidatorTests
{
    private static ScheduleOptions Options(string zone, params string[] periods)
    {
        var options = new ScheduleOptions { TimeZone = zone };
        foreach (var p in periods)
        {
            options.Periods.Add(p);
        }

        return options;
    }

    [Fact]
    public void Validate_GoodSchedule_Succeeds()
    {
        var options = Options("Europe/Berlin", "Mon-Fri 08:30-19:00", "2026-12-24 off");
        options.MissedStartGrace = TimeSpan.FromHours(2);

        var result = new ScheduleOptionsValidator().Validate("alice", options);

        Assert.True(result.Succeeded);
        Assert.Equal("Mon-Fri 08:30-19:00; 2026-12-24 off", options.ToSchedule().ToString());
        Assert.Equal(new MissedStartPolicy(true, TimeSpan.FromHours(2)), options.ToMissedStartPolicy());
    }

    [Fact]
    public void Validate_NoPeriodsNoZone_SucceedsAsUtcNeverScheduled()
    {
        var options = new ScheduleOptions();

        Assert.True(new ScheduleOptionsValidator().Validate("alice", options).Succeeded);
        Assert.Equal("UTC", options.ToSchedule().Zone.Id);
    }

    [Fact]
    public void Validate_UnknownZone_NamesBoxSettingAndValue()
    {
        var result = new ScheduleOptionsValidator().Validate("alice", Options("Europe/Berln", "Mon-Fri 08:30-19:00"));

        Assert.Equal(["Boxes:alice:Schedule:TimeZone must be an IANA time zone such as Europe/Berlin, got 'Europe/Berln'"], result.Failures);
    }

    [Fact]
    public void Validate_PeriodsWithoutZone_Fails()
    {
        var result = new ScheduleOptionsValidator().Validate("alice", Options("", "Mon-Fri 08:30-19:00"));

        Assert.Equal(["Boxes:alice:Schedule:TimeZone must be an IANA time zone such as Europe/Berlin, got ''"], result.Failures);
    }

    [Fact]
    public void Validate_BadPeriods_NamesEachEntryColumnAndValue()
    {
        var result = new ScheduleOptionsValidator().Validate("alice", Options("Europe/Berlin", "Mon-Fri 08:30-19:00", "Sat 10:00-1400", ""));

        Assert.Equal(
            [
                "Boxes:alice:Schedule:Periods:1 is not a valid rule (e.g. 'Mon-Fri 08:30-19:00'): '1400' is not a time of day; expected HH:mm from 00:00 to 24:00, e.g. 19:00 at column 11, got 'Sat 10:00-1400'",
                "Boxes:alice:Schedule:Periods:2 is not a valid rule (e.g. 'Mon-Fri 08:30-19:00'): empty rule; expected e.g. 'Mon-Fri 08:30-19:00' at column 1, got ''",
            ],
            result.Failures);
    }

    [Theory]
    [InlineData(0, 0, 30)]
    [InlineData(8, 0, 0)]
    public void Validate_GraceOutOfRange_NamesLimitsAndValue(int days, int hours, int seconds)
    {
        var options = Options("Europe/Berlin", "Mon-Fri 08:30-19:00");
        options.MissedStartGrace = new TimeSpan(days, hours, 0, seconds);

        var result = new ScheduleOptionsValidator().Validate("alice", options);

        Assert.Equal([$"Boxes:alice:Schedule:MissedStartGrace must be between 00:01:00 and 7.00:00:00 (or absent: the whole window), got {options.MissedStartGrace}"], result.Failures);
    }

    [Fact]
    public void Validate_OtherSectionFormat_UsedInMessages()
    {
        var result = new ScheduleOptionsValidator("Controller:Boxes:{0}:Schedule").Validate("bob", Options("Mars/Olympus"));

        Assert.Equal(["Controller:Boxes:bob:Schedule:TimeZone must be an IANA time zone such as Europe/Berlin, got 'Mars/Olympus'"], result.Failures);
    }
}
