using System.Globalization;
using SpotDevBox.Backup.Repository;

namespace SpotDevBox.Backup.Engine;

/// <summary>
/// Which snapshots to keep: the newest <see cref="KeepLast"/>, plus the newest snapshot of each of the
/// last <see cref="KeepDaily"/> days and <see cref="KeepWeekly"/> ISO weeks that have one (days and
/// weeks in UTC). Applied per group of snapshots with the same paths. A snapshot kept by any rule is kept.
/// </summary>
public sealed record RetentionPolicy(int KeepLast, int KeepDaily, int KeepWeekly)
{
    public bool IsEmpty => KeepLast <= 0 && KeepDaily <= 0 && KeepWeekly <= 0;

    public void Validate()
    {
        if (KeepLast < 0 || KeepDaily < 0 || KeepWeekly < 0)
        {
            throw new ArgumentException("keep counts cannot be negative");
        }

        if (IsEmpty)
        {
            throw new ArgumentException("a retention policy needs at least one of --keep-last, --keep-daily, --keep-weekly (forgetting everything is not a policy)");
        }
    }

    /// <summary>Returns, for each snapshot, whether it is kept and why.</summary>
    public IReadOnlyList<(SnapshotRef Snapshot, bool Keep, string Reason)> Apply(IReadOnlyList<SnapshotRef> snapshots)
    {
        ArgumentNullException.ThrowIfNull(snapshots);
        var result = new List<(SnapshotRef, bool, string)>();
        foreach (var group in snapshots.GroupBy(s => string.Join('\n', s.Manifest.Paths), StringComparer.Ordinal))
        {
            var newestFirst = group.OrderByDescending(s => s.Manifest.Time).ThenByDescending(s => s.Id, StringComparer.Ordinal).ToList();
            var reasons = newestFirst.ToDictionary(s => s.Id, _ => new List<string>(), StringComparer.Ordinal);
            for (var i = 0; i < newestFirst.Count && i < KeepLast; i++)
            {
                reasons[newestFirst[i].Id].Add("last");
            }

            Bucket(newestFirst, KeepDaily, s => s.Manifest.Time.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), "daily", reasons);
            Bucket(newestFirst, KeepWeekly, s => WeekKey(s.Manifest.Time.UtcDateTime), "weekly", reasons);
            foreach (var s in newestFirst)
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

    private static string WeekKey(DateTime utc) =>
        string.Create(CultureInfo.InvariantCulture, $"{ISOWeek.GetYear(utc)}-W{ISOWeek.GetWeekOfYear(utc):00}");
}
