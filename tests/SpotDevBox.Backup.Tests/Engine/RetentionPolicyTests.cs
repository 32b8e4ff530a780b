using SpotDevBox.Backup.Engine;
using SpotDevBox.Backup.Format;
using SpotDevBox.Backup.Repository;

namespace SpotDevBox.Backup.Tests.Engine;

public sealed class RetentionPolicyTests
{
    private static SnapshotRef Snap(string id, string utc, string path = "/home/dev") => new(
        id.PadRight(64, '0'),
        new SnapshotManifest { Time = DateTimeOffset.Parse(utc, System.Globalization.CultureInfo.InvariantCulture), Hostname = "box", Paths = [path], Tree = default });

    private static string[] Kept(RetentionPolicy policy, params SnapshotRef[] snapshots) =>
        [.. policy.Apply(snapshots).Where(d => d.Keep).Select(d => d.Snapshot.Id[..2]).Order(StringComparer.Ordinal)];

    [Fact]
    public void Apply_KeepLast2_KeepsTheTwoNewest()
    {
        var kept = Kept(new RetentionPolicy(2, 0, 0),
            Snap("a1", "2026-11-20T10:00:00Z"), Snap("a2", "2026-11-21T10:00:00Z"), Snap("a3", "2026-11-22T10:00:00Z"));

        Assert.Equal(["a2", "a3"], kept);
    }

    [Fact]
    public void Apply_KeepDaily2_KeepsNewestOfEachOfTheLastTwoDaysWithSnapshots()
    {
        // Nov 20: 08:00 and 17:00; Nov 22: 09:00 and 18:00 (no snapshot on Nov 21).
        var kept = Kept(new RetentionPolicy(0, 2, 0),
            Snap("b1", "2026-11-20T08:00:00Z"), Snap("b2", "2026-11-20T17:00:00Z"),
            Snap("b3", "2026-11-22T09:00:00Z"), Snap("b4", "2026-11-22T18:00:00Z"));

        Assert.Equal(["b2", "b4"], kept);
    }

    [Fact]
    public void Apply_KeepWeekly1_UsesIsoWeeksInUtc()
    {
        // 2026-11-22 is a Sunday (ISO week 47), 2026-11-23 a Monday (week 48).
        var kept = Kept(new RetentionPolicy(0, 0, 2),
            Snap("c1", "2026-11-16T08:00:00Z"), Snap("c2", "2026-11-22T23:59:00Z"), Snap("c3", "2026-11-23T00:01:00Z"));

        Assert.Equal(["c2", "c3"], kept);
    }

    [Fact]
    public void Apply_RulesCombine_SnapshotKeptByAnyRuleIsKept()
    {
        var decisions = new RetentionPolicy(1, 2, 0).Apply([
            Snap("d1", "2026-11-20T08:00:00Z"), Snap("d2", "2026-11-21T08:00:00Z"), Snap("d3", "2026-11-21T09:00:00Z")]);

        Assert.Equal("no rule keeps it", decisions.Single(d => d.Snapshot.Id.StartsWith("d2", StringComparison.Ordinal)).Reason);
        Assert.Equal("last, daily", decisions.Single(d => d.Snapshot.Id.StartsWith("d3", StringComparison.Ordinal)).Reason);
        Assert.Equal("daily", decisions.Single(d => d.Snapshot.Id.StartsWith("d1", StringComparison.Ordinal)).Reason);
    }

    [Fact]
    public void Apply_DifferentPaths_PolicyAppliedPerGroup()
    {
        var kept = Kept(new RetentionPolicy(1, 0, 0),
            Snap("e1", "2026-11-20T08:00:00Z", "/a"), Snap("e2", "2026-11-21T08:00:00Z", "/a"), Snap("e3", "2026-11-19T08:00:00Z", "/b"));

        Assert.Equal(["e2", "e3"], kept);
    }

    [Fact]
    public void Validate_NoRule_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => new RetentionPolicy(0, 0, 0).Validate());
        Assert.Contains("--keep-last", e.Message, StringComparison.Ordinal);
    }
}
