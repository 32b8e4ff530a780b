using System.Globalization;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace SpotDevBox.Hosting;

/// <summary>
/// Where output goes: results on stdout (plain or JSON), progress and warnings on stderr, so that
/// `--json` output stays parseable and a redirected run logs quiet structured lines instead of a bar.
/// </summary>
internal static partial class Terminal
{
    public static IAnsiConsole Err { get; } = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });

    public static bool Interactive => !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("TERM") != "dumb";

    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        var unit = 0;
        while (Math.Abs(value) >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return unit == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{bytes} B")
            : string.Create(CultureInfo.InvariantCulture, $"{value:0.0} {units[unit]}");
    }

    /// <summary>"12.3s" under a minute, "7m 05s" under an hour, "25h 03m" beyond (days are hours here: a box's uptime reads best that way).</summary>
    public static string Duration(TimeSpan t) => t.Duration() switch
    {
        { TotalMinutes: < 1 } => string.Create(CultureInfo.InvariantCulture, $"{t.TotalSeconds:0.0}s"),
        { TotalHours: < 1 } d => string.Create(CultureInfo.InvariantCulture, $"{(t < TimeSpan.Zero ? "-" : "")}{(int)d.TotalMinutes}m {d.Seconds:00}s"),
        var d => string.Create(CultureInfo.InvariantCulture, $"{(t < TimeSpan.Zero ? "-" : "")}{(int)d.TotalHours}h {d.Minutes:00}m"),
    };

    /// <summary>
    /// Text that came from a box, the bucket or the metadata service (status reasons, names, notes), made safe to print:
    /// escape sequences (CSI such as ESC[2J, OSC such as a title change ESC]0;...BEL, DCS, and any other ESC x), C1
    /// controls, other C0 controls and DEL, and bidirectional overrides are removed; a tab or line break becomes a
    /// space (kept, with <paramref name="keepLineBreaks"/>, for a multi-line table). Whoever can write a box's documents can then not clear the reader's screen, retitle the terminal,
    /// forge lines, or reorder what is shown. Every print of such text goes through here.
    /// </summary>
    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(text))]
    public static string? Safe(string? text, bool keepLineBreaks = false)
    {
        if (text is null || !NeedsCleaning(text))
        {
            return text;
        }

        var clean = new System.Text.StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\u001b')
            {
                i = SkipEscape(text, i);
            }
            else if (c == '\n' && keepLineBreaks)
            {
                clean.Append(c);
            }
            else if (c is '\t' or '\n' or '\r')
            {
                clean.Append(' ');
            }
            else if (!IsUnsafe(c))
            {
                clean.Append(c);
            }
        }

        return clean.ToString();
    }

    private static bool NeedsCleaning(string text)
    {
        foreach (var c in text)
        {
            if (IsUnsafe(c) || c is '\t' or '\n' or '\r')
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsUnsafe(char c) =>
        c < ' ' || c is >= '\u007f' and <= '\u009f'
        || c is '\u061c' or '\u200e' or '\u200f' or (>= '\u202a' and <= '\u202e') or (>= '\u2066' and <= '\u2069');

    /// <returns>The index of the escape sequence's last character (the caller's loop steps past it).</returns>
    private static int SkipEscape(string text, int start)
    {
        if (start + 1 >= text.Length)
        {
            return start;
        }

        var kind = text[start + 1];
        var i = start + 2;
        switch (kind)
        {
            case '[':
                // CSI: parameter and intermediate bytes, then one final byte in @..~.
                while (i < text.Length && text[i] is >= ' ' and <= '?')
                {
                    i++;
                }

                return Math.Min(i, text.Length - 1);
            case ']' or 'P' or 'X' or '^' or '_':
                // OSC, DCS, SOS, PM, APC: a string up to BEL or ST (ESC \).
                for (; i < text.Length; i++)
                {
                    if (text[i] == '\u0007')
                    {
                        return i;
                    }

                    if (text[i] == '\u001b')
                    {
                        return i + 1 < text.Length && text[i + 1] == '\\' ? i + 1 : i - 1;
                    }
                }

                return text.Length - 1;
            default:
                // ESC with intermediates (ESC ( B) or alone (ESC 7): the next printable byte ends it.
                while (i - 1 < text.Length && text[i - 1] is >= ' ' and <= '/')
                {
                    i++;
                }

                return Math.Min(i - 1, text.Length - 1);
        }
    }

    public static void Warn(string message) => Console.Error.WriteLine("warning: " + message);

    public static void Error(string message) => Console.Error.WriteLine("error: " + message);

    /// <summary>"1 snapshot", "2 snapshots", "1 directory", "1,204 files": every count a person reads goes through here.</summary>
    public static string Count(long count, string singular) => Core.Text.Counted.Of(count, singular);

    /// <summary>
    /// An instant as the reader's wall clock shows it, with the zone's offset so that nobody has to guess which
    /// clock: "Tue 2026-12-08 18:00 +01:00".
    /// </summary>
    public static string LocalTime(DateTimeOffset instant, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        var local = TimeZoneInfo.ConvertTime(instant, zone);
        var offset = local.Offset;
        var sign = offset < TimeSpan.Zero ? "-" : "+";
        var o = offset.Duration();
        return string.Create(CultureInfo.InvariantCulture, $"{local:ddd yyyy-MM-dd HH:mm} {sign}{o.Hours:00}:{o.Minutes:00}");
    }

    /// <summary>How often the plain progress line is printed when stderr is not a terminal.</summary>
    public static readonly TimeSpan PlainProgressInterval = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Shows progress of <paramref name="work"/> until it completes: a bar with rate on a terminal, otherwise one
    /// plain line on stderr every <see cref="PlainProgressInterval"/> (done and total in human units, and the rate).
    /// </summary>
    public static async Task<T> WithProgressAsync<T>(string title, Func<ProgressSample> sample, Task<T> work, ILogger logger)
    {
        if (Interactive)
        {
            await Err.Progress()
                .AutoClear(true)
                .HideCompleted(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                    new DownloadedColumn(), new TransferSpeedColumn(), new ElapsedTimeColumn())
                .StartAsync(async ctx =>
                {
                    var task = ctx.AddTask(title, maxValue: 1);
                    while (!work.IsCompleted)
                    {
                        Update(task, sample());
                        await Task.WhenAny(work, Task.Delay(200));
                    }

                    Update(task, sample());
                });
            return await work;
        }

        return await PlainProgressAsync(title, sample, work, Console.Error, PlainProgressInterval, logger);

        static void Update(ProgressTask task, ProgressSample s)
        {
            var items = s.Noun is not { } noun ? null
                : s.ItemsTotal > 0 ? string.Create(CultureInfo.InvariantCulture, $"{s.Items:#,0}/{Count(s.ItemsTotal, noun)}")
                : Count(s.Items, noun);
            task.Description = string.Join(", ", new[] { items, s.Detail }.OfType<string>().DefaultIfEmpty(task.Description));
            task.MaxValue = Math.Max(1, Math.Max(s.BytesTotal, s.Bytes));
            task.Value = s.Bytes;
        }
    }

    /// <summary>The progress of a run whose stderr is not a terminal: a line per <paramref name="interval"/>, none after the work ended.</summary>
    internal static async Task<T> PlainProgressAsync<T>(string title, Func<ProgressSample> sample, Task<T> work, TextWriter output, TimeSpan interval, ILogger logger)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        while (!work.IsCompleted)
        {
            await Task.WhenAny(work, Task.Delay(interval));
            if (!work.IsCompleted)
            {
                var s = sample();
                var seconds = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
                var rate = seconds > 0 ? s.Bytes / seconds : 0;
                output.WriteLine(PlainLine(title, s, rate));
                LogProgress(logger, title, s.Bytes, s.BytesTotal, s.Items, s.ItemsTotal, rate);
            }
        }

        return await work;
    }

    /// <summary>"backup: 312.0 MiB of 1.2 GiB, 1,204 of 20,008 files, 25.0 MiB/s" (a total still being counted says "at least").</summary>
    internal static string PlainLine(string title, ProgressSample s, double bytesPerSecond)
    {
        var of = s.TotalKnown ? "of" : "of at least";
        var parts = new List<string>();
        if (s.Bytes > 0 || s.BytesTotal > 0)
        {
            parts.Add(s.BytesTotal > 0 ? $"{Bytes(s.Bytes)} {of} {Bytes(Math.Max(s.BytesTotal, s.Bytes))}" : Bytes(s.Bytes));
        }

        if (s.Noun is { } noun)
        {
            parts.Add(s.ItemsTotal > 0
                ? string.Create(CultureInfo.InvariantCulture, $"{s.Items:#,0} {of} {Count(Math.Max(s.ItemsTotal, s.Items), noun)}")
                : Count(s.Items, noun));
        }

        if (s.Detail is { } detail)
        {
            parts.Add(detail);
        }

        parts.Add(Bytes((long)bytesPerSecond) + "/s");
        return title + ": " + string.Join(", ", parts);
    }

    [LoggerMessage(EventId = 2000, Level = LogLevel.Information, Message = "{Operation} progress: {Done} of {Total} bytes, {Items} of {ItemsTotal} items, {BytesPerSecond:0} B/s")]
    private static partial void LogProgress(ILogger logger, string operation, long done, long total, long items, long itemsTotal, double bytesPerSecond);
}

/// <summary>
/// One look at a running backup, restore or check: bytes done and their total, items (files, packs) done and theirs
/// when <paramref name="Noun"/> names them, and whether the totals are final (false while still being counted).
/// A total of 0 is not known yet.
/// </summary>
internal readonly record struct ProgressSample(long Bytes, long BytesTotal, bool TotalKnown, long Items = 0, long ItemsTotal = 0, string? Noun = null, string? Detail = null);
