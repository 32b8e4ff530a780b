using Microsoft.Extensions.Options;

namespace SpotDevBox.Core.Schedules;

/// <summary>
/// A box's "Schedule" section: <c>{ "TimeZone": "Europe/Berlin", "Periods": ["Mon-Fri 08:30-19:00"],
/// "EnforceMissedStarts": true, "MissedStartGrace": "02:00:00" }</c>. Bound per box, as named options (the name is the box).
/// </summary>
public sealed class ScheduleOptions
{
    /// <summary>IANA time zone the periods are written in. Required when there are periods.</summary>
    public string TimeZone { get; set; } = "";

    /// <summary>Rules in the text form of docs/schedules.md, one per entry. Empty: up only by override (<c>spotdevbox up</c>).</summary>
    public IList<string> Periods { get; } = [];

    /// <summary>After controller downtime, start a box whose start was missed if it is still inside the window.</summary>
    public bool EnforceMissedStarts { get; set; } = true;

    /// <summary>Catch up a missed start only this long after it; null: anywhere in the window.</summary>
    public TimeSpan? MissedStartGrace { get; set; }

    /// <exception cref="ScheduleFormatException">The options do not validate; run the validator first for messages naming the setting.</exception>
    public BoxSchedule ToSchedule() => BoxSchedule.Parse(Periods.Count == 0 && string.IsNullOrWhiteSpace(TimeZone) ? "UTC" : TimeZone, Periods);

    public MissedStartPolicy ToMissedStartPolicy() => new(EnforceMissedStarts, MissedStartGrace);
}

/// <summary>
/// Names the box, the setting, what was wrong and the value. The options name is the box's name; the setting
/// path is <c>Boxes:&lt;box&gt;:Schedule</c> unless another format is given.
/// </summary>
public sealed class ScheduleOptionsValidator(string sectionFormat = "Boxes:{0}:Schedule") : IValidateOptions<ScheduleOptions>
{
    public static readonly TimeSpan MinGrace = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan MaxGrace = TimeSpan.FromDays(7);

    public ValidateOptionsResult Validate(string? name, ScheduleOptions options)
    {
        var failures = ValidateSection(string.Format(System.Globalization.CultureInfo.InvariantCulture, sectionFormat, name ?? ""), options);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Every problem, each naming <paramref name="section"/>'s setting and the value.</summary>
    public static IReadOnlyList<string> ValidateSection(string section, ScheduleOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.Periods.Count > 0 || !string.IsNullOrWhiteSpace(options.TimeZone))
        {
            if (!BoxSchedule.TryFindZone(options.TimeZone, out _))
            {
                failures.Add($"{section}:TimeZone must be an IANA time zone such as Europe/Berlin, got '{options.TimeZone}'");
            }
        }

        if (!BoxSchedule.TryParse("UTC", options.Periods, out _, out var errors))
        {
            foreach (var e in errors)
            {
                failures.Add($"{section}:Periods:{e.Entry} is not a valid rule (e.g. 'Mon-Fri 08:30-19:00'): {e.Message} at column {e.Column}, got '{e.Text}'");
            }
        }

        if (options.MissedStartGrace is { } grace && (grace < MinGrace || grace > MaxGrace))
        {
            failures.Add($"{section}:MissedStartGrace must be between {MinGrace} and {MaxGrace} (or absent: the whole window), got {grace}");
        }

        return failures;
    }
}
