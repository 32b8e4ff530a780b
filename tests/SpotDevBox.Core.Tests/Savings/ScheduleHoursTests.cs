using SpotDevBox.Core.Savings;
using SpotDevBox.Core.Schedules;

namespace SpotDevBox.Core.Tests.Savings;

/// <summary>
/// The estimate's schedule hours: four weeks from a local Monday midnight, scaled by 730 / the period's real hours.
/// Berlin's 2026 changes: 2026-03-29 (clocks forward, a 23-hour Sunday) and 2026-10-25 (back, a 25-hour Sunday).
/// </summary>
[Trait("Category", "Calendar")]
public sealed class ScheduleHoursTests
{
    [Fact]
    public void Measure_WeekdaysNineToSix_45HoursAWeek()
    {
        var hours = ScheduleHours.Measure(BoxSchedule.Parse("Europe/Berlin", "Mon-Fri 09:00-18:00"), new DateOnly(2026, 6, 1), 0m);

        // 4 weeks x 5 days x 9 h = 180 h in 28 x 24 = 672 h; 180 x 730 / 672 = 195.5357... h a month.
        Assert.Equal((180m, 180m, 672m, 20), (hours.UpHours, hours.RunHours, hours.PeriodHours, hours.ScheduledDays));
        Assert.Equal(195.5357m, Math.Round(hours.HoursPerMonth, 4));
        Assert.Equal(new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.FromHours(2)), hours.From);
        Assert.Equal(new DateTimeOffset(2026, 6, 29, 0, 0, 0, TimeSpan.FromHours(2)), hours.To);
    }

    [Fact]
    public void Measure_WeekdaysAcrossSpringForward_SameHoursInA671HourPeriod()
    {
        var hours = ScheduleHours.Measure(BoxSchedule.Parse("Europe/Berlin", "Mon-Fri 09:00-18:00"), new DateOnly(2026, 3, 23), 0m);

        // The clocks go forward on Sunday 03-29: the weekday periods keep their 9 h, the four weeks last 671 h.
        // 180 x 730 / 671 = 195.8271... h.
        Assert.Equal((180m, 671m), (hours.UpHours, hours.PeriodHours));
        Assert.Equal(195.8271m, Math.Round(hours.HoursPerMonth, 4));
    }

    [Fact]
    public void Measure_WholeSundaysAcrossSpringForward_The23HourSundayCountsAs23()
    {
        var hours = ScheduleHours.Measure(BoxSchedule.Parse("Europe/Berlin", "Sun 00:00-24:00"), new DateOnly(2026, 3, 23), 0m);

        // Sundays 03-29 (23 h), 04-05, 04-12, 04-19 (24 h each) = 95 h of 671 h; 95 x 730 / 671 = 103.3532... h.
        Assert.Equal((95m, 671m, 4), (hours.UpHours, hours.PeriodHours, hours.ScheduledDays));
        Assert.Equal(103.3532m, Math.Round(hours.HoursPerMonth, 4));
    }

    [Fact]
    public void Measure_WholeSundaysAcrossFallBack_The25HourSundayCountsAs25()
    {
        var hours = ScheduleHours.Measure(BoxSchedule.Parse("Europe/Berlin", "Sun 00:00-24:00"), new DateOnly(2026, 10, 19), 0m);

        // Sundays 10-25 (25 h), 11-01, 11-08, 11-15 = 97 h of 673 h; 97 x 730 / 673 = 105.2155... h.
        Assert.Equal((97m, 673m), (hours.UpHours, hours.PeriodHours));
        Assert.Equal(105.2155m, Math.Round(hours.HoursPerMonth, 4));
    }

    [Fact]
    public void Measure_AroundTheClockAcrossADstChange_Exactly730()
    {
        var hours = ScheduleHours.Measure(BoxSchedule.Parse("Europe/Berlin", "daily 00:00-24:00"), new DateOnly(2026, 3, 23), 0m);

        Assert.Equal((671m, 671m, 28), (hours.UpHours, hours.PeriodHours, hours.ScheduledDays));
        Assert.Equal(730m, hours.HoursPerMonth);
    }

    [Fact]
    public void Measure_IdleHours_SubtractedOnScheduledDaysOnly()
    {
        var hours = ScheduleHours.Measure(BoxSchedule.Parse("UTC", "Mon-Fri 09:00-18:00"), new DateOnly(2026, 6, 1), 1.5m);

        // 20 scheduled days x (9 - 1.5) h = 150 h; weekends have nothing to subtract from. 150 x 730 / 672 = 162.9464... h.
        Assert.Equal((180m, 150m), (hours.UpHours, hours.RunHours));
        Assert.Equal(162.9464m, Math.Round(hours.HoursPerMonth, 4));
    }

    [Fact]
    public void Measure_IdleLongerThanADaysPeriod_NotBelowZero()
    {
        var hours = ScheduleHours.Measure(BoxSchedule.Parse("UTC", "Mon-Fri 09:00-18:00; Sat 10:00-12:00"), new DateOnly(2026, 6, 1), 3m);

        // Weekdays 20 x 6 h = 120 h; Saturdays 4 x max(0, 2 - 3) = 0.
        Assert.Equal((188m, 120m, 24), (hours.UpHours, hours.RunHours, hours.ScheduledDays));
    }

    [Fact]
    public void Measure_PeriodPastMidnight_CountsOnBothDates()
    {
        var hours = ScheduleHours.Measure(BoxSchedule.Parse("UTC", "Fri 22:00-02:00"), new DateOnly(2026, 6, 1), 1m);

        // Four Fridays 22:00-02:00 = 16 h on 8 dates (2 h each); 1 h idle on each date leaves 8 h.
        Assert.Equal((16m, 8m, 8), (hours.UpHours, hours.RunHours, hours.ScheduledDays));
    }

    [Theory]
    [InlineData("2026-07-22T10:00:00Z", "2026-07-27")] // a Wednesday
    [InlineData("2026-07-27T10:00:00Z", "2026-08-03")] // a Monday: the next one
    [InlineData("2026-07-26T23:30:00Z", "2026-08-03")] // Sunday in UTC, already Monday in Berlin
    public void NextMonday_InTheZone(string now, string expected)
    {
        var zone = TimeZoneConverter.TZConvert.GetTimeZoneInfo("Europe/Berlin");

        Assert.Equal(DateOnly.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), ScheduleHours.NextMonday(zone, DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture)));
    }
}
