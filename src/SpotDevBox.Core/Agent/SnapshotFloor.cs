using System.Globalization;

namespace SpotDevBox.Core.Agent;

/// <summary>
/// The newest snapshot a box was ever seen to report (its id and the time in its manifest), kept where the box
/// cannot write it: the controller's database and the box's <c>control.json</c>. A launch passes it to the agent
/// (<c>Agent:MinimumSnapshot</c>), whose boot restore refuses a repository whose latest snapshot is older: a rollback
/// (the newest snapshots deleted, or an older copy of the prefix put back) is then noticed rather than restored.
/// </summary>
public sealed record SnapshotFloor(string Id, DateTimeOffset Time)
{
    /// <summary>
    /// The floor after <paramref name="reported"/> was seen: raised when the report is newer, never lowered (an older
    /// report is exactly what a rollback looks like). At an equal time the floor already held stays.
    /// </summary>
    public static SnapshotFloor? Raise(SnapshotFloor? current, SnapshotFloor? reported) =>
        reported is null ? current
            : current is null || reported.Time > current.Time ? reported
            : current;

    /// <summary>The newer of two floors (either may be missing).</summary>
    public static SnapshotFloor? Newest(SnapshotFloor? a, SnapshotFloor? b) => Raise(a, b);

    /// <summary>
    /// Why a repository whose snapshots are <paramref name="snapshots"/> (id and time, any order) is a rollback below
    /// this floor, or null when it is not. The latest snapshot must be at least as new as the floor; at the floor's
    /// own time it must be the floor's snapshot itself. The floor's snapshot may be gone when a newer one exists
    /// (retention forgets old snapshots), never otherwise.
    /// </summary>
    public string? Refusal(IReadOnlyCollection<(string Id, DateTimeOffset Time)> snapshots)
    {
        ArgumentNullException.ThrowIfNull(snapshots);
        var floor = $"snapshot {Short(Id)} of {Utc(Time)}";
        if (snapshots.Count == 0)
        {
            return $"the repository holds no snapshot, but this box reported {floor}";
        }

        var latest = snapshots.MaxBy(s => s.Time);
        if (latest.Time < Time)
        {
            return $"its latest snapshot, {Short(latest.Id)} of {Utc(latest.Time)}, is older than {floor}, which this box reported";
        }

        var present = snapshots.Any(s => string.Equals(s.Id, Id, StringComparison.Ordinal));
        return !present && latest.Time == Time
            ? $"{floor}, which this box reported, is missing and snapshot {Short(latest.Id)} of the same time stands in its place"
            : null;
    }

    /// <summary>Whether <paramref name="id"/> has the shape of a snapshot id: 64 lower-case hex digits.</summary>
    public static bool IsSnapshotId(string? id) => id is { Length: 64 } && id.All(char.IsAsciiHexDigitLower);

    private static string Short(string id) => id.Length > 8 ? id[..8] : id;

    private static string Utc(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
}

/// <summary>What a launch tells the agent about rollback: the floor (null: none known, a first session) and whether an older snapshot may be restored anyway.</summary>
public sealed record RollbackGuard(SnapshotFloor? Floor, bool AllowRollback)
{
    public static readonly RollbackGuard None = new(null, false);
}
