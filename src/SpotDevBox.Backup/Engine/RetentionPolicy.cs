using System.Globalization;
using SpotDevBox.Backup.Repository;

namespace SpotDevBox.Backup.Engine;

/// <summary>
/// Which snapshots to keep: every snapshot dated within <see cref="KeepWithin"/> before now, the newest
/// <see cref="KeepLast"/>, plus the newest snapshot of each of the last <see cref="KeepDaily"/> days and
/// <see cref="KeepWeekly"/> ISO weeks that have one (days and weeks in UTC). Applied per group of snapshots with
/// the same paths. A snapshot kept by any rule is kept.
/// </summary>
/// <remarks>
/// The window is measured back from now (the caller's clock), not from the newest snapshot as restic does, and a
/// snapshot dated after now is always kept and counts for no rule: a box that writes snapshots dated in 2100, or a
/// flood of them, cannot push the rest of its history out.
/// </remarks>
public sealed record RetentionPolicy(int KeepLast, int KeepDaily, int KeepWeekly, TimeSpan KeepWithin = default)
{
    public const string FutureReason = "dated in the future";

    public bool IsEmpty => KeepLast <= 0 && KeepDaily <= 0 && KeepWeekly <= 0 && KeepWithin <= TimeSpan.Zero;

    public void Validate()
    {
        if (KeepLast < 0 || KeepDaily < 0 || KeepWeekly < 0)
        {
            throw new ArgumentException("keep counts cannot be negative");
        }

        if (KeepWithin < TimeSpan.Zero)
        {
            throw new ArgumentException("the keep-within duration cannot be negative");
        }

        if (IsEmpty)
        {
            throw new ArgumentException("a retention policy needs at least one of --keep-last, --keep-daily, --keep-weekly, --keep-within (forgetting everything is not a policy)");
        }
    }

    /// <summary>Returns, for each snapshot, whether it is kept and why; <paramref name="now"/> is where the keep-within window ends.</summary>
    public IReadOnlyList<(SnapshotRef Snapshot, bool Keep, string Reason)> Apply(IReadOnlyList<SnapshotRef> snapshots, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(snapshots);
        var result = new List<(SnapshotRef, bool, string)>();
        foreach (var group in snapshots.GroupBy(s => string.Join('\n', s.Manifest.Paths), StringComparer.Ordinal))
        {
            var all = group.OrderByDescending(s => s.Manifest.Time).ThenByDescending(s => s.Id, StringComparer.Ordinal).ToList();
            var reasons = all.ToDictionary(s => s.Id, _ => new List<string>(), StringComparer.Ordinal);
            foreach (var s in all.Where(s => s.Manifest.Time > now))
            {
                reasons[s.Id].Add(FutureReason);
            }

            // Future-dated snapshots take no place of a real one in the counts.
            var newestFirst = all.Where(s => s.Manifest.Time <= now).ToList();
            if (KeepWithin > TimeSpan.Zero)
            {
                foreach (var s in newestFirst.Where(s => now - s.Manifest.Time <= KeepWithin))
                {
                    reasons[s.Id].Add("within " + FormatDuration(KeepWithin));
                }
            }

            for (var i = 0; i < newestFirst.Count && i < KeepLast; i++)
            {
                reasons[newestFirst[i].Id].Add("last");
            }

            Bucket(newestFirst, KeepDaily, s => s.Manifest.Time.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), "daily", reasons);
            Bucket(newestFirst, KeepWeekly, s => WeekKey(s.Manifest.Time.UtcDateTime), "weekly", reasons);
            foreach (var s in all)
            {
                var r = reasons[s.Id];
                result.Add((s, r.Count > 0, r.Count > 0 ? string.Join(", ", r) : "no rule keeps it"));
            }
        }

        return result;
    }

    private static void Bucket(List<SnapshotRef> newestFirst, int count, Func<SnapshotRef, string> key, string rule, Dictionary<string, List<string>> reasons)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var s in newestFirst)
        {
            if (seen.Count >= count)
            {
                break;
            }

            if (seen.Add(key(s)))
            {
                reasons[s.Id].Add(rule);
            }
        }
    }

    /// <summary>
    /// A keep-within duration as restic spells it, in whole weeks, days and hours: 30d, 12h, 2w, 1w3d12h. Positive,
    /// at most 100 years.
    /// </summary>
    public static bool TryParseDuration(string? text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        var trimmed = text?.Trim() ?? "";
        var m = System.Text.RegularExpressions.Regex.Match(trimmed, @"^(?:(\d{1,4})w)?(?:(\d{1,5})d)?(?:(\d{1,6})h)?$", System.Text.RegularExpressions.RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        if (trimmed.Length == 0 || !m.Success)
        {
            return false;
        }

        int Part(int group) => m.Groups[group].Success ? int.Parse(m.Groups[group].Value, CultureInfo.InvariantCulture) : 0;
        duration = TimeSpan.FromDays((7.0 * Part(1)) + Part(2)) + TimeSpan.FromHours(Part(3));
        return duration > TimeSpan.Zero && duration <= TimeSpan.FromDays(36525);
    }

    /// <summary>The shortest spelling <see cref="TryParseDuration"/> reads back: 30d, 12h, 1d12h (minutes and less are dropped).</summary>
    public static string FormatDuration(TimeSpan duration)
    {
        var days = (long)duration.TotalDays;
        var hours = duration.Hours;
        return days == 0 && hours == 0 ? "0h"
            : string.Concat(days > 0 ? days.ToString(CultureInfo.InvariantCulture) + "d" : "", hours > 0 ? hours.ToString(CultureInfo.InvariantCulture) + "h" : "");
    }

    private static string WeekKey(DateTime utc) =>
        string.Create(CultureInfo.InvariantCulture, $"{ISOWeek.GetYear(utc)}-W{ISOWeek.GetWeekOfYear(utc):00}");
}
