using System.Globalization;

namespace SpotDevBox.Core.Idle;

/// <summary>Durations, sizes and rates the way status lines and warnings show them.</summary>
internal static class Text
{
    /// <summary>"in the last minute", "in the last 45 s", "in the last 5 min".</summary>
    public static string Interval(TimeSpan elapsed) => elapsed.TotalSeconds switch
    {
        >= 55 and <= 65 => "in the last minute",
        < 120 => $"in the last {Math.Round(elapsed.TotalSeconds).ToString(CultureInfo.InvariantCulture)} s",
        _ => $"in the last {Minutes(elapsed)}",
    };

    /// <summary>"38 s", "1.5 s", "0.2 s".</summary>
    public static string CpuSeconds(TimeSpan cpu) => $"{cpu.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s";

    /// <summary>Whole minutes, rounded down: "0 min", "23 min", "1 h 52 min", "2 h".</summary>
    public static string Minutes(TimeSpan duration)
    {
        var minutes = (long)Math.Floor(Math.Max(duration.TotalMinutes, 0));
        return minutes < 60
            ? $"{minutes.ToString(CultureInfo.InvariantCulture)} min"
            : minutes % 60 == 0
                ? $"{(minutes / 60).ToString(CultureInfo.InvariantCulture)} h"
                : $"{(minutes / 60).ToString(CultureInfo.InvariantCulture)} h {(minutes % 60).ToString(CultureInfo.InvariantCulture)} min";
    }

    /// <summary>Minutes rounded up, for time left: 6 min 10 s is "7 min", and anything left is at least "1 min".</summary>
    public static string MinutesLeft(TimeSpan left) => Minutes(TimeSpan.FromMinutes(Math.Ceiling(Math.Max(left.TotalMinutes, 0))));

    public static int WholeMinutesLeft(TimeSpan left) => (int)Math.Ceiling(Math.Max(left.TotalMinutes, 0));

    /// <summary>"512 B", "64 KiB", "1.2 MiB".</summary>
    public static string Bytes(double bytes) => bytes switch
    {
        < 1024 => $"{Math.Round(bytes).ToString(CultureInfo.InvariantCulture)} B",
        < 1024 * 1024 => $"{(bytes / 1024).ToString("0.#", CultureInfo.InvariantCulture)} KiB",
        < 1024L * 1024 * 1024 => $"{(bytes / (1024 * 1024)).ToString("0.#", CultureInfo.InvariantCulture)} MiB",
        _ => $"{(bytes / (1024L * 1024 * 1024)).ToString("0.#", CultureInfo.InvariantCulture)} GiB",
    };

    /// <summary>"HH:mm UTC".</summary>
    public static string Clock(DateTimeOffset at) => $"{at.ToUniversalTime().ToString("HH:mm", CultureInfo.InvariantCulture)} UTC";

    public static string Join(IEnumerable<string> parts) => string.Join("; ", parts);
}
