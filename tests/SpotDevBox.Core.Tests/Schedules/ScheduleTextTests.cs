using SpotDevBox.Core.Schedules;

namespace SpotDevBox.Core.Tests.Schedules;

public sealed class ScheduleTextTests
{
    [Theory]
    [InlineData("Mon-Fri 08:30-19:00", "Mon-Fri 08:30-19:00")]
    [InlineData("Sat 10:00-14:00", "Sat 10:00-14:00")]
    [InlineData("first Mon 09:00-12:00", "first Mon 09:00-12:00")]
    [InlineData("last Fri 13:00-17:00", "last Fri 13:00-17:00")]
    [InlineData("2026-12-24 off", "2026-12-24 off")]
    [InlineData("2026-12-27 10:00-16:00", "2026-12-27 10:00-16:00")]
    [InlineData("mon,wed,fri 08:00-12:00", "Mon,Wed,Fri 08:00-12:00")]
    [InlineData("Monday-Friday 08:30-19:00", "Mon-Fri 08:30-19:00")]
    [InlineData("Mon-Wed,Fri 08:00-09:00", "Mon-Wed,Fri 08:00-09:00")]
    [InlineData("Sat,Sun 10:00-14:00", "Sat-Sun 10:00-14:00")]
    [InlineData("Fri-Mon 10:00-11:00", "Mon,Fri-Sun 10:00-11:00")]
    [InlineData("daily 00:00-24:00", "Mon-Sun 00:00-24:00")]
    [InlineData("Fri 22:00-02:00", "Fri 22:00-02:00")]
    [InlineData("Fri 22:00-00:00", "Fri 22:00-24:00")]
    [InlineData("2nd Tue 09:00-10:00", "second Tue 09:00-10:00")]
    [InlineData("FIFTH mon 09:00-10:00", "fifth Mon 09:00-10:00")]
    [InlineData("last Fri off", "last Fri off")]
    [InlineData("Sun OFF", "Sun off")]
    [InlineData("  Sat   10:00-14:00  ", "Sat 10:00-14:00")]
    public void Parse_EveryForm_CanonicalText(string text, string expected)
    {
        var rule = ScheduleRule.Parse(text);

        Assert.Equal(expected, rule.ToString());
        Assert.Equal(rule, ScheduleRule.Parse(rule.ToString()));
    }

    [Fact]
    public void Parse_WeekdayRange_Selector()
    {
        var rule = ScheduleRule.Parse("Mon-Fri 08:30-19:00");

        Assert.Equal(new WeekdaySelector(Weekdays.Monday | Weekdays.Tuesday | Weekdays.Wednesday | Weekdays.Thursday | Weekdays.Friday), rule.Days);
        Assert.Equal(new TimeWindow(new TimeOnly(8, 30), new TimeOnly(19, 0)), rule.Window);
        Assert.False(rule.Window!.EndsNextDay);
    }

    [Fact]
    public void Parse_NthAndLastAndDate_Selectors()
    {
        Assert.Equal(new MonthlySelector(WeekOfMonth.First, DayOfWeek.Monday), ScheduleRule.Parse("first Mon 09:00-12:00").Days);
        Assert.Equal(new MonthlySelector(WeekOfMonth.Last, DayOfWeek.Friday), ScheduleRule.Parse("last Fri 13:00-17:00").Days);
        var off = ScheduleRule.Parse("2026-12-24 off");
        Assert.Equal(new DateSelector(new DateOnly(2026, 12, 24)), off.Days);
        Assert.True(off.IsOff);
        Assert.Null(off.Window);
    }

    [Fact]
    public void Parse_StopBeforeStart_EndsNextDay()
    {
        Assert.True(ScheduleRule.Parse("Fri 22:00-02:00").Window!.EndsNextDay);
        Assert.True(ScheduleRule.Parse("Mon 00:00-24:00").Window!.EndsNextDay);
        Assert.Equal(ScheduleRule.Parse("Fri 22:00-24:00"), ScheduleRule.Parse("Fri 22:00-00:00"));
    }

    [Theory]
    [InlineData("Mon-Fir 08:30-19:00", 5, "unknown weekday 'Fir'; expected Mon, Tue, Wed, Thu, Fri, Sat or Sun")]
    [InlineData("Mon,Wdn 08:30-19:00", 5, "unknown weekday 'Wdn'; expected Mon, Tue, Wed, Thu, Fri, Sat or Sun")]
    [InlineData("Mon-Fri 8:30-19:00", 9, "'8:30' is not a time of day; expected HH:mm from 00:00 to 23:59, e.g. 08:30")]
    [InlineData("Mon-Fri 08:30-25:00", 15, "'25:00' is not a time of day; expected HH:mm from 00:00 to 24:00, e.g. 19:00")]
    [InlineData("Mon-Fri 08:30", 9, "expected a period HH:mm-HH:mm (e.g. 08:30-19:00) or 'off', got '08:30'")]
    [InlineData("Mon-Fri 08:30-12:00-13:00", 9, "expected a period HH:mm-HH:mm (e.g. 08:30-19:00) or 'off', got '08:30-12:00-13:00'")]
    [InlineData("Mon-Fri", 8, "expected a period HH:mm-HH:mm (e.g. 08:30-19:00) or 'off' after 'Mon-Fri'")]
    [InlineData("first Mon", 10, "expected a period HH:mm-HH:mm (e.g. 08:30-19:00) or 'off' after 'first Mon'")]
    [InlineData("08:30-19:00", 1, "expected days (e.g. Mon-Fri, first Mon, 2026-12-24) before '08:30-19:00'")]
    [InlineData("first 09:00-12:00", 7, "expected one weekday after 'first', got '09:00-12:00'; expected Mon, Tue, Wed, Thu, Fri, Sat or Sun")]
    [InlineData("last Mon-Fri 09:00-12:00", 6, "expected one weekday after 'last', got 'Mon-Fri'; expected Mon, Tue, Wed, Thu, Fri, Sat or Sun")]
    [InlineData("last", 5, "expected a weekday after 'last', e.g. 'last Mon 09:00-12:00'")]
    [InlineData("2026-02-30 off", 1, "'2026-02-30' is not a date; expected yyyy-MM-dd, e.g. 2026-12-24")]
    [InlineData("2026-1-5 off", 1, "'2026-1-5' is not a date; expected yyyy-MM-dd, e.g. 2026-12-24")]
    [InlineData("Mon-Fri 08:30-19:00 extra", 21, "unexpected 'extra' after '08:30-19:00'; one period per rule (separate rules with ';')")]
    [InlineData("Mon 08:00-08:00", 5, "'08:00-08:00' starts and stops at the same time; for a whole day write 00:00-24:00")]
    [InlineData("Mon 24:00-02:00", 5, "24:00 can only end a period; a period starting at midnight starts at 00:00")]
    [InlineData("someday 10:00-12:00", 1, "expected weekdays (Mon-Fri), an nth weekday (first Mon, last Fri), a date (2026-12-24) or 'daily', got 'someday'")]
    [InlineData("   ", 1, "empty rule; expected e.g. 'Mon-Fri 08:30-19:00'")]
    public void Parse_Invalid_NamesColumnAndWhatWasWrong(string text, int column, string message)
    {
        var e = Assert.Throws<ScheduleFormatException>(() => ScheduleRule.Parse(text));

        var error = Assert.Single(e.Errors);
        Assert.Equal(column, error.Column);
        Assert.Equal(message, error.Message);
        Assert.Equal($"column {column} of '{text}': {message}", e.Message);
    }

    [Fact]
    public void ScheduleParse_SeveralRulesInOneText_ColumnCountsFromTheStartOfTheText()
    {
        const string text = "Mon-Fri 08:30-19:00; Sat 10:00-1400";

        var e = Assert.Throws<ScheduleFormatException>(() => BoxSchedule.Parse("Europe/Berlin", text));

        var error = Assert.Single(e.Errors);
        Assert.Equal(32, error.Column);
        Assert.Equal(text, error.Text);
        Assert.Equal("'1400' is not a time of day; expected HH:mm from 00:00 to 24:00, e.g. 19:00", error.Message);
    }

    [Fact]
    public void ScheduleParse_SeveralBadEntries_ReportsEachWithItsEntry()
    {
        var ok = BoxSchedule.TryParse("Europe/Berlin", ["Mon-Fir 08:30-19:00", "Sat 10:00-14:00", "last Fry off"], out _, out var errors);

        Assert.False(ok);
        Assert.Collection(
            errors,
            e => Assert.Equal((0, 5, "unknown weekday 'Fir'; expected Mon, Tue, Wed, Thu, Fri, Sat or Sun"), (e.Entry, e.Column, e.Message)),
            e => Assert.Equal((2, 6, "expected one weekday after 'last', got 'Fry'; expected Mon, Tue, Wed, Thu, Fri, Sat or Sun"), (e.Entry, e.Column, e.Message)));
    }

    [Fact]
    public void ScheduleParse_DateBothOffAndWithPeriod_Refused()
    {
        var ok = BoxSchedule.TryParse("Europe/Berlin", ["Mon-Fri 08:30-19:00", "2026-12-24 off", "2026-12-24 10:00-12:00"], out _, out var errors);

        Assert.False(ok);
        var error = Assert.Single(errors);
        Assert.Equal(2, error.Entry);
        Assert.Equal("2026-12-24 is both off and has a period ('2026-12-24 off' and '2026-12-24 10:00-12:00'); keep one", error.Message);
    }

    [Fact]
    public void ScheduleParse_UnknownZone_Refused()
    {
        var e = Assert.Throws<ScheduleFormatException>(() => BoxSchedule.Parse("Europe/Berln", "Mon-Fri 08:30-19:00"));

        Assert.Equal("column 1 of 'Europe/Berln': not an IANA time zone; expected e.g. Europe/Berlin, America/New_York or UTC", e.Message);
    }

    [Fact]
    public void ScheduleParse_TextAndNewLines_RoundTripsThroughToString()
    {
        var schedule = BoxSchedule.Parse("Europe/Berlin", "Mon-Fri 08:30-19:00;\nSat 10:00-14:00\r\nfirst Mon 09:00-12:00; last Fri 13:00-17:00;2026-12-24 off; 2026-12-27 10:00-16:00;");

        const string canonical = "Mon-Fri 08:30-19:00; Sat 10:00-14:00; first Mon 09:00-12:00; last Fri 13:00-17:00; 2026-12-24 off; 2026-12-27 10:00-16:00";
        Assert.Equal(canonical, schedule.ToString());
        Assert.Equal("Europe/Berlin", schedule.Zone.Id);
        var again = BoxSchedule.Parse(schedule.Zone.Id, schedule.ToString());
        Assert.Equal(schedule.Rules, again.Rules);
    }

    [Fact]
    public void ScheduleParse_NoRules_NeverUpBySchedule()
    {
        var schedule = BoxSchedule.Parse("UTC", "");

        Assert.Empty(schedule.Rules);
        Assert.False(ScheduleEvaluator.Evaluate(schedule, [], new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero)).Up);
    }
}
