namespace SpotDevBox.Core.Schedules;

/// <summary>
/// When one box should be up: rules in an IANA time zone. No rules means never up by schedule (only by override).
/// Immutable; build it with <see cref="Parse(string, IEnumerable{string})"/> or the constructor.
/// </summary>
public sealed class BoxSchedule
{
    public BoxSchedule(TimeZoneInfo zone, IEnumerable<ScheduleRule> rules)
    {
        ArgumentNullException.ThrowIfNull(zone);
        ArgumentNullException.ThrowIfNull(rules);
        Zone = zone;
        Rules = [.. rules];
        var conflict = Rules.GroupBy(r => r.Days).FirstOrDefault(g => g.Key is DateSelector && g.Any(r => r.IsOff) && g.Any(r => !r.IsOff));
        if (conflict is not null)
        {
            throw new ArgumentException($"{conflict.Key} is both off and has a period ({conflict.First(r => !r.IsOff)})", nameof(rules));
        }
    }

    public TimeZoneInfo Zone { get; }

    public IReadOnlyList<ScheduleRule> Rules { get; }

    /// <summary>
    /// A wall-clock time in <paramref name="zone"/> as an instant, read as a period's times are: a time the clocks skip
    /// is the moment they jump, a time that happens twice is its first occurrence (docs/schedules.md).
    /// </summary>
    public static DateTimeOffset ToInstant(TimeZoneInfo zone, DateTime local) => new ScheduleTimeline(new BoxSchedule(zone, [])).ToInstant(local);

    /// <summary>Rules from one text ("Mon-Fri 08:30-19:00; 2026-12-24 off"), separated by ';' or new lines; blank: no rules.</summary>
    /// <exception cref="ScheduleFormatException">The zone or a rule is invalid; the message names each problem and where.</exception>
    public static BoxSchedule Parse(string timeZone, string rules) => Parse(timeZone, string.IsNullOrWhiteSpace(rules) ? [] : [rules]);

    /// <summary>Rules from a list, one entry per config line (an entry may hold several rules separated by ';').</summary>
    /// <exception cref="ScheduleFormatException">The zone or a rule is invalid; the message names each problem and where.</exception>
    public static BoxSchedule Parse(string timeZone, IEnumerable<string> rules) =>
        TryParse(timeZone, rules, out var schedule, out var errors) ? schedule : throw new ScheduleFormatException(errors);

    /// <summary>Parses everything and reports every problem, so a config with three mistakes is fixed in one go.</summary>
    public static bool TryParse(string timeZone, IEnumerable<string> rules, out BoxSchedule schedule, out IReadOnlyList<ScheduleTextError> errors)
    {
        ArgumentNullException.ThrowIfNull(timeZone);
        ArgumentNullException.ThrowIfNull(rules);
        schedule = null!;
        var found = new List<ScheduleTextError>();
        if (!TryFindZone(timeZone, out var zone))
        {
            found.Add(new ScheduleTextError(0, 1, "not an IANA time zone; expected e.g. Europe/Berlin, America/New_York or UTC", timeZone));
        }

        var parsed = new List<(ScheduleRule Rule, int Entry, string Text)>();
        var entry = 0;
        foreach (var text in rules)
        {
            if (string.IsNullOrWhiteSpace(text))
            {
                found.Add(new ScheduleTextError(entry, 1, "empty rule; expected e.g. 'Mon-Fri 08:30-19:00'", text ?? ""));
            }
            else
            {
                ScheduleText.ParseRules(text, entry, parsed, found);
            }

            entry++;
        }

        foreach (var group in parsed.Where(p => p.Rule.Days is DateSelector).GroupBy(p => p.Rule.Days))
        {
            var off = group.FirstOrDefault(p => p.Rule.IsOff);
            var period = group.FirstOrDefault(p => !p.Rule.IsOff);
            if (off.Rule is not null && period.Rule is not null)
            {
                var later = off.Entry > period.Entry ? off : period;
                var other = later == off ? period : off;
                found.Add(new ScheduleTextError(later.Entry, 1, $"{group.Key} is both off and has a period ('{other.Text}' and '{later.Text}'); keep one", later.Text));
            }
        }

        errors = found;
        if (found.Count > 0)
        {
            return false;
        }

        schedule = new BoxSchedule(zone!, parsed.Select(p => p.Rule));
        return true;
    }

    /// <summary>The canonical text of the rules, separated by "; ". Parsing it with <see cref="Zone"/> gives an equal schedule.</summary>
    public override string ToString() => string.Join("; ", Rules);

    /// <summary>
    /// An IANA zone (or a Windows one) on every system: the controller and the CLI also run on Windows, where
    /// .NET maps IANA ids through ICU, which invariant globalization (this build) leaves out. TimeZoneConverter
    /// carries the CLDR mapping itself and returns the system's own zone where it has the IANA id (Linux, macOS).
    /// </summary>
    internal static bool TryFindZone(string id, out TimeZoneInfo? zone)
    {
        zone = null;
        return !string.IsNullOrWhiteSpace(id) && TimeZoneConverter.TZConvert.TryGetTimeZoneInfo(id.Trim(), out zone);
    }
}
