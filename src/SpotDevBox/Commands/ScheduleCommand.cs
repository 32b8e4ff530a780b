using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Spectre.Console;
using Spectre.Console.Cli;
using SpotDevBox.Controller;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Schedules;
using SpotDevBox.Hosting;

namespace SpotDevBox.Commands;

internal sealed class ScheduleSettings : CommandSettings
{
    [CommandArgument(0, "[BOX]")]
    [Description("The box, as named under Controller:Boxes in the configuration.")]
    public string? BoxArgument { get; set; }

    [CommandOption(Commands.BoxArgument.AliasOption, IsHidden = true)]
    [Description("The same as BOX (an alias).")]
    public string? BoxOption { get; set; }

    public string? Box => Commands.BoxArgument.Of(BoxArgument, BoxOption);

    [CommandOption("--next <SPAN>")]
    [Description("How far ahead to look: 12h, 7d, 30d (at most 366d). Default: 7d.")]
    public string Next { get; set; } = "7d";

    [CommandOption("--from <TIME>")]
    [Description("Evaluate as of this instant instead of now: 2027-01-04T10:00:00+01:00 or 2027-01-04T09:00Z as given; 2027-01-04T10:00 or 2027-01-04 (midnight) in the box's zone. Default: now.")]
    public string? From { get; set; }

    [CommandOption("--json")]
    [Description("Print the decision and the transitions as JSON.")]
    public bool Json { get; set; }

    public override ValidationResult Validate()
    {
        if (Commands.BoxArgument.Check("schedule", BoxArgument, BoxOption) is { Successful: false } twice)
        {
            return twice;
        }

        if (string.IsNullOrWhiteSpace(Box))
        {
            return ValidationResult.Error("name the box: spotdevbox schedule NAME (one of Controller:Boxes)");
        }

        if (!ScheduleCommand.TryParseSpan(Next, out _))
        {
            return ValidationResult.Error($"--next: '{Next}' is not a span between 1 hour and 366 days (examples: 12h, 7d, 30d)");
        }

        // The box's zone is not known before the configuration is read: UTC checks only the form here.
        return From is null || ScheduleCommand.TryParseFrom(From, TimeZoneInfo.Utc, out _)
            ? ValidationResult.Success()
            : ValidationResult.Error($"--from: '{From}' is not an instant (2027-01-04T10:00:00+01:00, 2027-01-04T09:00Z) or a date-time in the box's zone (2027-01-04T10:00, 2027-01-04)");
    }
}

[Description("Show whether a box should be up now, and why, and its next starts and stops, before they happen.")]
internal sealed class ScheduleCommand(IConfiguration configuration, TimeProvider time) : AsyncCommand<ScheduleSettings>
{
    public override Task<int> ExecuteAsync(CommandContext context, ScheduleSettings settings, CancellationToken cancellationToken)
    {
        var controller = ControllerConfiguration.ReadValidated(configuration);
        if (!controller.Boxes.TryGetValue(settings.Box!, out var box))
        {
            throw new ArgumentException($"there is no box '{settings.Box}'; {BoxReference.Known(controller)}");
        }

        if (!TryParseSpan(settings.Next, out var span))
        {
            throw new ArgumentException($"--next: '{settings.Next}' is not a span between 1 hour and 366 days");
        }

        var schedule = box.Schedule.ToSchedule();
        DateTimeOffset now;
        if (settings.From is null)
        {
            now = time.GetUtcNow();
        }
        else if (!TryParseFrom(settings.From, schedule.Zone, out now))
        {
            throw new ArgumentException($"--from: '{settings.From}' is not an instant or a date-time in {schedule.Zone.Id}");
        }

        var decision = ScheduleEvaluator.Evaluate(schedule, [], now);
        var transitions = ScheduleEvaluator.Transitions(schedule, [], now, now + span).ToList();
        if (settings.Json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(
                new ScheduleOutput(settings.Box!, schedule.Zone.Id, schedule.ToString(), now, decision.Up, decision.Reason, [.. transitions.Select(t => new TransitionOutput(t.At, t.LocalTime, t.Up, t.Reason))]),
                ScheduleJson.Default.ScheduleOutput));
            return Task.FromResult(ExitCodes.Ok);
        }

        var when = settings.From is null ? "now" : "at " + TimeZoneInfo.ConvertTime(now, schedule.Zone).ToString("ddd yyyy-MM-dd HH:mm zzz", CultureInfo.InvariantCulture);
        Console.Out.WriteLine($"{settings.Box}: {(decision.Up ? "up" : "down")} {when} — {decision.Reason}");
        Console.Out.WriteLine($"  schedule  {(schedule.Rules.Count == 0 ? "(none: the box runs only when started by hand)" : schedule.ToString())} ({schedule.Zone.Id})");
        if (transitions.Count == 0)
        {
            Console.Out.WriteLine($"  no start or stop in the next {settings.Next}");
        }

        foreach (var t in transitions)
        {
            Console.Out.WriteLine("  " + t);
        }

        return Task.FromResult(ExitCodes.Ok);
    }

    private static readonly string[] LocalFormats =
    [
        "yyyy-MM-dd", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd HH:mm", "yyyy-MM-dd HH:mm:ss",
    ];

    private static readonly string[] InstantFormats =
    [
        "yyyy-MM-dd'T'HH:mm'Z'", "yyyy-MM-dd'T'HH:mm:ss'Z'", "yyyy-MM-dd'T'HH:mmzzz", "yyyy-MM-dd'T'HH:mm:sszzz",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz",
    ];

    /// <summary>
    /// --from: an ISO-8601 instant with Z or an offset, as given; or a date-time without one (a date is its midnight)
    /// on the wall clock of <paramref name="zone"/>, read like a period's times (docs/schedules.md): a time the clocks
    /// skip is the moment they jump, a time that happens twice is its first occurrence.
    /// </summary>
    public static bool TryParseFrom(string text, TimeZoneInfo zone, out DateTimeOffset instant)
    {
        text = text.Trim();
        // The 'Z' of these formats is a literal, not an offset: without AssumeUniversal it would be read in the machine's zone.
        if (DateTimeOffset.TryParseExact(text, InstantFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out instant))
        {
            return true;
        }

        if (!DateTime.TryParseExact(text, LocalFormats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var local))
        {
            return false;
        }

        instant = BoxSchedule.ToInstant(zone, local);
        return true;
    }

    /// <summary>12h, 7d, 1d12h: at least an hour, at most 366 days.</summary>
    public static bool TryParseSpan(string text, out TimeSpan span)
    {
        span = TimeSpan.Zero;
        var m = System.Text.RegularExpressions.Regex.Match(text.Trim(), @"^(?:(\d{1,3})d)?(?:(\d{1,4})h)?$", System.Text.RegularExpressions.RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        if (!m.Success || text.Trim().Length == 0)
        {
            return false;
        }

        span = TimeSpan.FromDays(m.Groups[1].Success ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0)
            + TimeSpan.FromHours(m.Groups[2].Success ? int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) : 0);
        return span >= TimeSpan.FromHours(1) && span <= TimeSpan.FromDays(366);
    }
}

/// <summary><c>schedule --json</c>: named records for the source-generated JSON (the native AOT build); the names are the output's format.</summary>
internal sealed record ScheduleOutput(
    [property: JsonPropertyName("box")] string Box,
    [property: JsonPropertyName("time_zone")] string TimeZone,
    [property: JsonPropertyName("schedule")] string Schedule,
    [property: JsonPropertyName("now")] DateTimeOffset Now,
    [property: JsonPropertyName("up")] bool Up,
    [property: JsonPropertyName("reason")] string Reason,
    [property: JsonPropertyName("transitions")] IReadOnlyList<TransitionOutput> Transitions);

internal sealed record TransitionOutput(
    [property: JsonPropertyName("at")] DateTimeOffset At,
    [property: JsonPropertyName("local")] DateTimeOffset Local,
    [property: JsonPropertyName("up")] bool Up,
    [property: JsonPropertyName("reason")] string Reason);

[JsonSerializable(typeof(ScheduleOutput))]
internal sealed partial class ScheduleJson : JsonSerializerContext;
