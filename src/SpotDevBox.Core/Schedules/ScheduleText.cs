using System.Globalization;

namespace SpotDevBox.Core.Schedules;

/// <summary>What was wrong with a piece of schedule text, and where (1-based column within <see cref="Text"/>).</summary>
/// <param name="Entry">Which entry of a list (config's Periods) the text was; 0 for a single text.</param>
public sealed record ScheduleTextError(int Entry, int Column, string Message, string Text)
{
    public override string ToString() => $"column {Column} of '{Text}': {Message}";
}

public sealed class ScheduleFormatException : FormatException
{
    public ScheduleFormatException()
    {
    }

    public ScheduleFormatException(string message)
        : base(message)
    {
    }

    public ScheduleFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ScheduleFormatException(IReadOnlyList<ScheduleTextError> errors)
        : base(string.Join("; ", errors))
    {
        Errors = errors;
    }

    public IReadOnlyList<ScheduleTextError> Errors { get; } = [];
}

/// <summary>
/// The compact text form (docs/schedules.md): rules separated by ';' or new lines, each
/// <c>days action</c> where days is weekdays ("Mon-Fri", "Mon,Wed,Fri", "daily"), an nth/last weekday
/// ("first Mon", "last Fri") or a date ("2026-12-24"), and action is "HH:mm-HH:mm" or "off".
/// </summary>
internal static class ScheduleText
{
    public static readonly IReadOnlyList<DayOfWeek> WeekOrder =
        [DayOfWeek.Monday, DayOfWeek.Tuesday, DayOfWeek.Wednesday, DayOfWeek.Thursday, DayOfWeek.Friday, DayOfWeek.Saturday, DayOfWeek.Sunday];

    private const string ExpectedDay = "expected Mon, Tue, Wed, Thu, Fri, Sat or Sun";
    private const string ExpectedAction = "expected a period HH:mm-HH:mm (e.g. 08:30-19:00) or 'off'";

    private static readonly Dictionary<string, WeekOfMonth> Ordinals = new(StringComparer.OrdinalIgnoreCase)
    {
        ["first"] = WeekOfMonth.First, ["1st"] = WeekOfMonth.First,
        ["second"] = WeekOfMonth.Second, ["2nd"] = WeekOfMonth.Second,
        ["third"] = WeekOfMonth.Third, ["3rd"] = WeekOfMonth.Third,
        ["fourth"] = WeekOfMonth.Fourth, ["4th"] = WeekOfMonth.Fourth,
        ["fifth"] = WeekOfMonth.Fifth, ["5th"] = WeekOfMonth.Fifth,
        ["last"] = WeekOfMonth.Last,
    };

    public static string DayName(DayOfWeek day) => day.ToString()[..3];

    /// <summary>Splits text at ';' and new lines and parses every non-blank piece; columns count from the start of <paramref name="text"/>.</summary>
    public static void ParseRules(string text, int entry, List<(ScheduleRule Rule, int Entry, string Text)> rules, List<ScheduleTextError> errors)
    {
        var start = 0;
        for (var i = 0; i <= text.Length; i++)
        {
            if (i < text.Length && text[i] is not (';' or '\n' or '\r'))
            {
                continue;
            }

            var piece = text[start..i];
            if (!string.IsNullOrWhiteSpace(piece))
            {
                if (TryParseRule(piece, entry, out var rule, out var error))
                {
                    rules.Add((rule, entry, piece.Trim()));
                }
                else
                {
                    // Columns and the quoted text refer to the whole entry, which is what the user wrote.
                    errors.Add(error with { Column = error.Column + start, Text = text });
                }
            }

            start = i + 1;
        }
    }

    public static bool TryParseRule(string text, int entry, out ScheduleRule rule, out ScheduleTextError error)
    {
        rule = null!;
        error = null!;
        var tokens = Tokenize(text);
        ScheduleTextError Fail(int index, string message) => new(entry, index + 1, message, text);

        if (tokens.Count == 0)
        {
            error = Fail(0, "empty rule; expected e.g. 'Mon-Fri 08:30-19:00'");
            return false;
        }

        DaySelector days;
        int next;
        var (first, firstAt) = tokens[0];
        if (Ordinals.TryGetValue(first, out var week))
        {
            if (tokens.Count < 2)
            {
                error = Fail(text.Length, $"expected a weekday after '{first}', e.g. '{first} Mon 09:00-12:00'");
                return false;
            }

            var (dayText, dayAt) = tokens[1];
            if (!TryDay(dayText, out var day))
            {
                error = Fail(dayAt, $"expected one weekday after '{first}', got '{dayText}'; {ExpectedDay}");
                return false;
            }

            days = new MonthlySelector(week, day);
            next = 2;
        }
        else if (first.Length > 0 && char.IsAsciiDigit(first[0]) && first.Contains('-', StringComparison.Ordinal) && !first.Contains(':', StringComparison.Ordinal))
        {
            if (!DateOnly.TryParseExact(first, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            {
                error = Fail(firstAt, $"'{first}' is not a date; expected yyyy-MM-dd, e.g. 2026-12-24");
                return false;
            }

            days = new DateSelector(date);
            next = 1;
        }
        else if (first.Length > 0 && char.IsAsciiDigit(first[0]))
        {
            error = Fail(firstAt, $"expected days (e.g. Mon-Fri, first Mon, 2026-12-24) before '{first}'");
            return false;
        }
        else if (first.Equals("daily", StringComparison.OrdinalIgnoreCase))
        {
            days = new WeekdaySelector(Weekdays.All);
            next = 1;
        }
        else
        {
            if (!TryDays(first, firstAt, entry, text, out var set, out error))
            {
                return false;
            }

            days = new WeekdaySelector(set);
            next = 1;
        }

        var daysText = text[firstAt..(tokens[next - 1].At + tokens[next - 1].Token.Length)];
        if (tokens.Count <= next)
        {
            error = Fail(text.TrimEnd().Length, $"{ExpectedAction} after '{daysText}'");
            return false;
        }

        var (action, actionAt) = tokens[next];
        TimeWindow? window = null;
        if (!action.Equals("off", StringComparison.OrdinalIgnoreCase) && !TryWindow(action, actionAt, entry, text, out window, out error))
        {
            return false;
        }

        if (tokens.Count > next + 1)
        {
            var (extra, extraAt) = tokens[next + 1];
            error = Fail(extraAt, $"unexpected '{extra}' after '{action}'; one period per rule (separate rules with ';')");
            return false;
        }

        rule = new ScheduleRule(days, window);
        return true;
    }

    private static bool TryDays(string token, int at, int entry, string text, out Weekdays set, out ScheduleTextError error)
    {
        set = Weekdays.None;
        error = null!;
        var offset = 0;
        foreach (var piece in token.Split(','))
        {
            var pieceAt = at + offset;
            offset += piece.Length + 1;
            var dash = piece.IndexOf('-', StringComparison.Ordinal);
            var from = dash < 0 ? piece : piece[..dash];
            var to = dash < 0 ? piece : piece[(dash + 1)..];
            if (!TryDay(from, out var first))
            {
                var message = token == piece && dash < 0 && !LooksLikeDay(from)
                        ? $"expected weekdays (Mon-Fri), an nth weekday (first Mon, last Fri), a date (2026-12-24) or 'daily', got '{from}'"
                        : $"unknown weekday '{from}'; {ExpectedDay}";
                error = new ScheduleTextError(entry, pieceAt + 1, message, text);
                return false;
            }

            if (!TryDay(to, out var last))
            {
                error = new ScheduleTextError(entry, pieceAt + dash + 2, $"unknown weekday '{to}'; {ExpectedDay}", text);
                return false;
            }

            // A range may wrap past Sunday: Fri-Mon is Fri, Sat, Sun, Mon.
            for (var i = WeekIndex(first); ; i = (i + 1) % 7)
            {
                set |= WeekdaySelector.Flag(WeekOrder[i]);
                if (i == WeekIndex(last))
                {
                    break;
                }
            }
        }

        return true;
    }

    private static bool TryWindow(string token, int at, int entry, string text, out TimeWindow? window, out ScheduleTextError error)
    {
        window = null;
        error = null!;
        var dash = token.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0 || dash != token.LastIndexOf('-'))
        {
            error = new ScheduleTextError(entry, at + 1, $"{ExpectedAction}, got '{token}'", text);
            return false;
        }

        var startText = token[..dash];
        var stopText = token[(dash + 1)..];
        if (startText == "24:00")
        {
            error = new ScheduleTextError(entry, at + 1, "24:00 can only end a period; a period starting at midnight starts at 00:00", text);
            return false;
        }

        if (!TryTime(startText, out var start))
        {
            error = new ScheduleTextError(entry, at + 1, $"'{startText}' is not a time of day; expected HH:mm from 00:00 to 23:59, e.g. 08:30", text);
            return false;
        }

        var stop = TimeOnly.MinValue;
        if (stopText != "24:00" && !TryTime(stopText, out stop))
        {
            error = new ScheduleTextError(entry, at + dash + 2, $"'{stopText}' is not a time of day; expected HH:mm from 00:00 to 24:00, e.g. 19:00", text);
            return false;
        }

        if (start == stop && stopText != "24:00")
        {
            error = new ScheduleTextError(entry, at + 1, $"'{token}' starts and stops at the same time; for a whole day write 00:00-24:00", text);
            return false;
        }

        window = new TimeWindow(start, stop);
        return true;
    }

    private static bool TryTime(string text, out TimeOnly time) =>
        TimeOnly.TryParseExact(text, "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out time);

    private static bool TryDay(string text, out DayOfWeek day)
    {
        foreach (var d in WeekOrder)
        {
            if (text.Equals(DayName(d), StringComparison.OrdinalIgnoreCase) || text.Equals(d.ToString(), StringComparison.OrdinalIgnoreCase))
            {
                day = d;
                return true;
            }
        }

        day = default;
        return false;
    }

    private static bool LooksLikeDay(string text) =>
        text.Length >= 2 && WeekOrder.Any(d => d.ToString().StartsWith(text[..2], StringComparison.OrdinalIgnoreCase));

    private static int WeekIndex(DayOfWeek day) => ((int)day + 6) % 7;

    private static List<(string Token, int At)> Tokenize(string text)
    {
        var tokens = new List<(string, int)>();
        for (var i = 0; i < text.Length;)
        {
            if (char.IsWhiteSpace(text[i]))
            {
                i++;
                continue;
            }

            var start = i;
            while (i < text.Length && !char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            tokens.Add((text[start..i], start));
        }

        return tokens;
    }
}
