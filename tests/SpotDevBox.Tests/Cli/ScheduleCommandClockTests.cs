using System.Globalization;
using System.Text.Json;
using TestSupport;

namespace SpotDevBox.Tests.Cli;

/// <summary>
/// spotdevbox schedule without --from, on the process's own clock, which Debian's faketime (libfaketime, LD_PRELOAD)
/// sets to each day of one week, early and late, and to the daylight-saving changes of Europe/Berlin and
/// America/New_York. The expected decisions and transitions are written by hand from docs/schedules.md.
/// </summary>
/// <remarks>
/// How faketime and .NET get along (libfaketime 0.9.10, .NET 10): "-f '@2027-01-04 06:00:00'" starts the clock
/// (CLOCK_REALTIME, which DateTimeOffset.UtcNow reads, and CLOCK_MONOTONIC alike) at that instant and lets it run on at
/// the real rate, so the runtime's timers and waits behave. The instant is read in the child's TZ, so TZ=UTC is set: it
/// also keeps the machine's own zone out of the child. FAKETIME_DONT_FAKE_MONOTONIC=1 is not set: with it the runtime's
/// timed waits expire at once (vstest, for one, gives up on its test host within seconds; see scripts/test).
/// </remarks>
public sealed class ScheduleCommandClockTests : IDisposable
{
    private const string Weekdays = "\"Mon-Fri 08:30-19:00\"";
    private const string SundayMorning = "\"Sun 02:30-10:00\"";
    private const string NewYorkWeekdays = "\"Mon-Fri 09:00-17:00\"";

    private readonly TempDir _temp = new("spotdevbox-schedule-clock-");

    public static TheoryData<string, string, string, bool, string, string, string> Instants => new()
    {
        // Europe/Berlin is +01:00 all of this week (CET).
        { "2027-01-04 06:00:00", "Europe/Berlin", Weekdays, false, "outside every period; next start Mon 08:30",
            "2027-01-04T07:30:00+00:00 2027-01-04T08:30:00+01:00 up start of Mon-Fri 08:30-19:00",
            "2027-01-04T18:00:00+00:00 2027-01-04T19:00:00+01:00 down end of Mon-Fri 08:30-19:00" },
        { "2027-01-05 12:00:00", "Europe/Berlin", Weekdays, true, "inside Mon-Fri 08:30-19:00 (Europe/Berlin)",
            "2027-01-05T18:00:00+00:00 2027-01-05T19:00:00+01:00 down end of Mon-Fri 08:30-19:00",
            "2027-01-06T07:30:00+00:00 2027-01-06T08:30:00+01:00 up start of Mon-Fri 08:30-19:00" },
        { "2027-01-06 20:30:00", "Europe/Berlin", Weekdays, false, "outside every period; next start Thu 08:30",
            "2027-01-07T07:30:00+00:00 2027-01-07T08:30:00+01:00 up start of Mon-Fri 08:30-19:00",
            "2027-01-07T18:00:00+00:00 2027-01-07T19:00:00+01:00 down end of Mon-Fri 08:30-19:00" },
        { "2027-01-07 07:15:00", "Europe/Berlin", Weekdays, false, "outside every period; next start Thu 08:30",
            "2027-01-07T07:30:00+00:00 2027-01-07T08:30:00+01:00 up start of Mon-Fri 08:30-19:00",
            "2027-01-07T18:00:00+00:00 2027-01-07T19:00:00+01:00 down end of Mon-Fri 08:30-19:00" },
        { "2027-01-08 17:50:00", "Europe/Berlin", Weekdays, true, "inside Mon-Fri 08:30-19:00 (Europe/Berlin)",
            "2027-01-08T18:00:00+00:00 2027-01-08T19:00:00+01:00 down end of Mon-Fri 08:30-19:00",
            "2027-01-11T07:30:00+00:00 2027-01-11T08:30:00+01:00 up start of Mon-Fri 08:30-19:00" },
        { "2027-01-09 10:00:00", "Europe/Berlin", Weekdays, false, "outside every period; next start Mon 08:30",
            "2027-01-11T07:30:00+00:00 2027-01-11T08:30:00+01:00 up start of Mon-Fri 08:30-19:00",
            "2027-01-11T18:00:00+00:00 2027-01-11T19:00:00+01:00 down end of Mon-Fri 08:30-19:00" },
        // Sunday 23:30 UTC is already Monday 00:30 in Berlin.
        { "2027-01-10 23:30:00", "Europe/Berlin", Weekdays, false, "outside every period; next start Mon 08:30",
            "2027-01-11T07:30:00+00:00 2027-01-11T08:30:00+01:00 up start of Mon-Fri 08:30-19:00",
            "2027-01-11T18:00:00+00:00 2027-01-11T19:00:00+01:00 down end of Mon-Fri 08:30-19:00" },
        // Berlin springs forward on 2027-03-28 at 01:00 UTC (02:00 CET becomes 03:00 CEST): 02:30 is 03:00.
        { "2027-03-28 00:30:00", "Europe/Berlin", SundayMorning, false, "outside every period; next start Sun 03:00",
            "2027-03-28T01:00:00+00:00 2027-03-28T03:00:00+02:00 up start of Sun 02:30-10:00; 02:30 does not exist on 2027-03-28 (clocks go forward), so at 03:00",
            "2027-03-28T08:00:00+00:00 2027-03-28T10:00:00+02:00 down end of Sun 02:30-10:00" },
        // Berlin falls back on 2027-10-31 at 01:00 UTC (03:00 CEST becomes 02:00 CET): 02:30 is its first occurrence.
        { "2027-10-31 00:10:00", "Europe/Berlin", SundayMorning, false, "outside every period; next start Sun 02:30",
            "2027-10-31T00:30:00+00:00 2027-10-31T02:30:00+02:00 up start of Sun 02:30-10:00; the first of the two 02:30 on 2027-10-31 (clocks go back)",
            "2027-10-31T09:00:00+00:00 2027-10-31T10:00:00+01:00 down end of Sun 02:30-10:00" },
        // 02:10 for the second time: up since the first 02:30, and no second start.
        { "2027-10-31 01:10:00", "Europe/Berlin", SundayMorning, true, "inside Sun 02:30-10:00 (Europe/Berlin)",
            "2027-10-31T09:00:00+00:00 2027-10-31T10:00:00+01:00 down end of Sun 02:30-10:00",
            "2027-11-07T01:30:00+00:00 2027-11-07T02:30:00+01:00 up start of Sun 02:30-10:00" },
        // New York springs forward on 2027-03-14 at 07:00 UTC (02:00 EST becomes 03:00 EDT).
        { "2027-03-14 06:00:00", "America/New_York", SundayMorning, false, "outside every period; next start Sun 03:00",
            "2027-03-14T07:00:00+00:00 2027-03-14T03:00:00-04:00 up start of Sun 02:30-10:00; 02:30 does not exist on 2027-03-14 (clocks go forward), so at 03:00",
            "2027-03-14T14:00:00+00:00 2027-03-14T10:00:00-04:00 down end of Sun 02:30-10:00" },
        // New York falls back on Sunday 2027-11-07: Saturday is EDT (-04:00), Monday EST (-05:00).
        { "2027-11-06 20:00:00", "America/New_York", NewYorkWeekdays, false, "outside every period; next start Mon 09:00",
            "2027-11-08T14:00:00+00:00 2027-11-08T09:00:00-05:00 up start of Mon-Fri 09:00-17:00",
            "2027-11-08T22:00:00+00:00 2027-11-08T17:00:00-05:00 down end of Mon-Fri 09:00-17:00" },
    };

    [Theory]
    [MemberData(nameof(Instants))]
    public async Task Schedule_OnTheFakedClock_DecidesAndListsTheNextTransitions(
        string clock, string zone, string periods, bool up, string reason, string first, string second)
    {
        var faked = DateTimeOffset.ParseExact(clock, "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        var config = Path.Combine(_temp.Path, "controller.json");
        await File.WriteAllTextAsync(config, $$"""
            { "Controller": { "AgentBuilds": "s3://my-bucket/agent", "Boxes": { "alice": { "Owner": "alice", "Region": "eu-central-1",
              "InstanceTypes": ["m7i.large"], "ImageId": "ami-0123456789abcdef0", "Storage": "s3://my-bucket/boxes/alice/alice", "User": "alice",
              "Schedule": { "TimeZone": "{{zone}}", "Periods": [{{periods}}] } } } } }
            """);
        var cli = new SpotDevBoxProcess(_temp.Path).Under(Faketime.Path, "-f", "@" + clock);

        var result = await cli.RunAsync(["schedule", "--box", "alice", "--next", "8d", "--json"], Faketime.Environment(config));

        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        // The faked clock runs on from the instant it was set to; a child takes well under a minute to get here.
        Assert.InRange(json.GetProperty("now").GetDateTimeOffset(), faked, faked.AddMinutes(1));
        Assert.Equal(zone, json.GetProperty("time_zone").GetString());
        Assert.Equal(up, json.GetProperty("up").GetBoolean());
        Assert.Equal(reason, json.GetProperty("reason").GetString());
        Assert.Equal([first, second], json.GetProperty("transitions").EnumerateArray().Take(2).Select(Line));
    }

    public void Dispose() => _temp.Dispose();

    private static string Line(JsonElement t) =>
        $"{t.GetProperty("at").GetString()} {t.GetProperty("local").GetString()} {(t.GetProperty("up").GetBoolean() ? "up" : "down")} {t.GetProperty("reason").GetString()}";
}

/// <summary>Debian's faketime, which the clock tests need: found on PATH, or the test fails saying how to get it.</summary>
internal static class Faketime
{
    private static readonly Lazy<string> Found = new(Find);

    public static string Path => Found.Value;

    /// <summary>The variables a child under faketime gets (see <see cref="ScheduleCommandClockTests"/> for why).</summary>
    public static Dictionary<string, string?> Environment(string config) => new()
    {
        ["SPOTDEVBOX_CONFIG"] = config,
        ["TZ"] = "UTC",
    };

    private static string Find()
    {
        var path = (System.Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => System.IO.Path.Combine(dir, "faketime"))
            .FirstOrDefault(File.Exists);
        if (path is not null)
        {
            return path;
        }

        var why = System.Environment.GetEnvironmentVariable("SPOTDEVBOX_TEST_FAKETIME_MISSING");
        throw new InvalidOperationException(string.IsNullOrEmpty(why)
            ? "faketime is not on PATH; the clock tests run the CLI under it (Debian/Ubuntu: apt-get install faketime; scripts/test installs it)"
            : why);
    }
}
