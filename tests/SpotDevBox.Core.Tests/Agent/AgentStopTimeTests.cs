using SpotDevBox.Core.Agent;

namespace SpotDevBox.Core.Tests.Agent;

/// <summary>The box's own daily stop time: the first one after the session started, right across DST changes.</summary>
public sealed class AgentStopTimeTests
{
    private static AgentOptions Options(string stopTime, string zone = "Europe/Berlin") => new() { Box = "/b", User = "dev", StopTime = stopTime, TimeZone = zone };

    [Fact]
    public void NextStop_NoStopTime_IsNull() =>
        Assert.Null(new AgentOptions().NextStop(DateTimeOffset.Parse("2026-06-01T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture)));

    [Theory]
    // Berlin in summer is UTC+2: 19:00 local is 17:00 UTC, the same day when the session began before it.
    [InlineData("2026-06-01T06:30:00Z", "19:00", "2026-06-01T17:00:00Z")]
    // Started after today's stop time (a manual start at 20:00 local): tomorrow's.
    [InlineData("2026-06-01T18:00:00Z", "19:00", "2026-06-02T17:00:00Z")]
    // Winter, UTC+1.
    [InlineData("2026-12-01T07:00:00Z", "19:00", "2026-12-01T18:00:00Z")]
    // 29 March 2026: 02:00 to 03:00 does not exist in Berlin; a 02:30 stop happens at 03:00 CEST = 01:00 UTC.
    [InlineData("2026-03-28T22:00:00Z", "02:30", "2026-03-29T01:00:00Z")]
    // 25 October 2026: 02:30 happens twice; the first (CEST, UTC+2) is 00:30 UTC, never the hour-late one.
    [InlineData("2026-10-24T22:00:00Z", "02:30", "2026-10-25T00:30:00Z")]
    public void NextStop_BerlinStopTime_FirstOccurrenceAfterSessionStart(string sessionStart, string stopTime, string expected)
    {
        var start = DateTimeOffset.Parse(sessionStart, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), Options(stopTime).NextStop(start));
    }

    [Theory]
    [InlineData("7pm", "Europe/Berlin", "Agent:StopTime must be a time of day as HH:mm (e.g. 19:00), got '7pm'")]
    [InlineData("25:00", "Europe/Berlin", "Agent:StopTime must be a time of day as HH:mm (e.g. 19:00), got '25:00'")]
    [InlineData("19:00", "Europe/Atlantis", "Agent:TimeZone must be an IANA time zone such as Europe/Berlin, got 'Europe/Atlantis'")]
    public void Validate_BadStopTimeOrZone_NamesTheSetting(string stopTime, string zone, string expected)
    {
        var result = new AgentOptionsValidator().Validate(null, Options(stopTime, zone));
        Assert.Contains(expected, result.Failures ?? []);
    }
}
