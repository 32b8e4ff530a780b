using System.Globalization;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace SpotDevBox.Commands;

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

    public static void Warn(string message) => Console.Error.WriteLine("warning: " + message);

    public static void Error(string message) => Console.Error.WriteLine("error: " + message);

    /// <summary>
    /// Shows progress of <paramref name="work"/> until it completes: a bar with rate on a terminal, a
    /// structured log line every 10 s otherwise.
    /// </summary>
    public static async Task<T> WithProgressAsync<T>(string title, Func<(string Text, long Done, long Total)> sample, Task<T> work, ILogger logger)
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

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        while (!work.IsCompleted)
        {
            await Task.WhenAny(work, Task.Delay(TimeSpan.FromSeconds(10)));
            if (!work.IsCompleted)
            {
                var (text, done, total) = sample();
                var seconds = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
                LogProgress(logger, title, text, done, total, seconds > 0 ? done / seconds : 0);
            }
        }

        return await work;

        static void Update(ProgressTask task, (string Text, long Done, long Total) s)
        {
            task.Description = s.Text;
            task.MaxValue = Math.Max(1, Math.Max(s.Total, s.Done));
            task.Value = s.Done;
        }
    }

    [LoggerMessage(EventId = 2000, Level = LogLevel.Information, Message = "{Operation} progress: {Status}, {Done} of {Total} bytes, {BytesPerSecond:0} B/s")]
    private static partial void LogProgress(ILogger logger, string operation, string status, long done, long total, double bytesPerSecond);
}
