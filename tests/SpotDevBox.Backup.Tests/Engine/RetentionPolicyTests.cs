using SpotDevBox.Backup.Engine;
using SpotDevBox.Backup.Format;
using SpotDevBox.Backup.Repository;

namespace SpotDevBox.Backup.Tests.Engine;

public sealed class RetentionPolicyTests
{
    private static SnapshotRef Snap(string id, string utc, string path = "/home/dev") => new(
        id.PadRight(64, '0'),
        new SnapshotManifest { Time = DateTimeOffset.Parse(utc, System.Globalization.CultureInfo.InvariantCulture), Hostname = "box", Paths = [path], Tree = default });

    /// <summary>The clock of these tests: after every snapshot of the count rules' tests.</summary>
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static string[] Kept(RetentionPolicy policy, params SnapshotRef[] snapshots) =>
        [.. policy.Apply(snapshots, Now).Where(d => d.Keep).Select(d => d.Snapshot.Id[..2]).Order(StringComparer.Ordinal)];

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
            Snap("d1", "2026-11-20T08:00:00Z"), Snap("d2", "2026-11-21T08:00:00Z"), Snap("d3", "2026-11-21T09:00:00Z")], Now);

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

    [Fact]
    public void Apply_FloodOfSnapshotsInTheLastHour_KeepWithin30dKeepsEverySnapshotOfTheLast30Days()
    {
        // One snapshot a day for 40 days before Now (12:00 each day), then 1000 in the last hour.
        var daily = Enumerable.Range(1, 40).Select(d => Snap("f" + d.ToString("000", System.Globalization.CultureInfo.InvariantCulture), Now.AddDays(-d).ToString("o", System.Globalization.CultureInfo.InvariantCulture))).ToList();
        var flood = Enumerable.Range(0, 1000).Select(i => Snap("e" + i.ToString("0000", System.Globalization.CultureInfo.InvariantCulture), Now.AddSeconds(-3.5 * i).ToString("o", System.Globalization.CultureInfo.InvariantCulture))).ToList();

        var decisions = new RetentionPolicy(24, 7, 4, TimeSpan.FromDays(30)).Apply([.. daily, .. flood], Now);

        var kept = decisions.Where(d => d.Keep).Select(d => d.Snapshot.Id).ToHashSet(StringComparer.Ordinal);
        Assert.All(flood, s => Assert.Contains(s.Id, kept));
        // Days 1-30 are within 30 days of Now; days 31-40 are older and none of them is the newest of the 4 newest ISO weeks
        // (Tuesday Dec 1 is in week 49: its newest is the flood; weeks 48, 47 and 46 end on days 2, 9 and 16 before Now).
        for (var d = 1; d <= 30; d++)
        {
            Assert.Contains(daily[d - 1].Id, kept);
        }

        for (var d = 31; d <= 40; d++)
        {
            Assert.DoesNotContain(daily[d - 1].Id, kept);
        }

        Assert.Contains("within 30d", decisions.Single(d => d.Snapshot.Id == daily[29].Id).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Apply_WithoutKeepWithin_AFloodPushesOlderSnapshotsOut()
    {
        // The control for the test above: the same flood with counts alone keeps only 7 days' worth of the daily snapshots.
        var daily = Enumerable.Range(1, 20).Select(d => Snap("f" + d.ToString("000", System.Globalization.CultureInfo.InvariantCulture), Now.AddDays(-d).ToString("o", System.Globalization.CultureInfo.InvariantCulture))).ToList();
        var flood = Enumerable.Range(0, 1000).Select(i => Snap("e" + i.ToString("0000", System.Globalization.CultureInfo.InvariantCulture), Now.AddSeconds(-3.5 * i).ToString("o", System.Globalization.CultureInfo.InvariantCulture))).ToList();

        var decisions = new RetentionPolicy(24, 7, 0).Apply([.. daily, .. flood], Now);

        Assert.DoesNotContain(decisions, d => d.Keep && d.Snapshot.Id == daily[9].Id);
    }

    [Fact]
    public void Apply_SnapshotDatedIn2100_IsKeptAndReportedAndPushesNothingOut()
    {
        var kept = Kept(new RetentionPolicy(1, 0, 0, TimeSpan.FromDays(2)),
            Snap("g1", "2026-11-25T12:00:00Z"), Snap("g2", "2026-11-29T13:00:00Z"), Snap("g3", "2026-11-30T12:00:00Z"),
            Snap("g4", "2026-12-01T11:00:00Z"), Snap("g9", "2100-01-01T00:00:00Z"));
        var future = new RetentionPolicy(1, 0, 0, TimeSpan.FromDays(2)).Apply([Snap("g9", "2100-01-01T00:00:00Z"), Snap("g4", "2026-12-01T11:00:00Z")], Now);

        // g2 (47 h before Now), g3 and g4 are within 2 days; g4 is also the newest real one (keep-last 1); g1 is older.
        Assert.Equal(["g2", "g3", "g4", "g9"], kept);
        Assert.Equal(RetentionPolicy.FutureReason, future.Single(d => d.Snapshot.Id.StartsWith("g9", StringComparison.Ordinal)).Reason);
        Assert.Equal("within 2d, last", future.Single(d => d.Snapshot.Id.StartsWith("g4", StringComparison.Ordinal)).Reason);
    }

    [Fact]
    public void Apply_KeepLastOnlyAndAFutureSnapshot_TheNewestRealSnapshotIsStillKept()
    {
        var kept = Kept(new RetentionPolicy(1, 0, 0), Snap("h1", "2026-11-30T12:00:00Z"), Snap("h2", "2026-11-29T12:00:00Z"), Snap("h9", "2100-01-01T00:00:00Z"));

        Assert.Equal(["h1", "h9"], kept);
    }

    [Theory]
    [InlineData("30d", 30 * 24)]
    [InlineData("12h", 12)]
    [InlineData("2w", 14 * 24)]
    [InlineData("1w3d12h", (10 * 24) + 12)]
    [InlineData(" 7d ", 7 * 24)]
    public void TryParseDuration_ResticSpellings_AreRead(string text, int hours)
    {
        Assert.True(RetentionPolicy.TryParseDuration(text, out var duration));
        Assert.Equal(TimeSpan.FromHours(hours), duration);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0d")]
    [InlineData("30")]
    [InlineData("1m")]
    [InlineData("-3d")]
    [InlineData("3d2w")]
    [InlineData("99999d")]
    public void TryParseDuration_OtherText_IsRefused(string text) => Assert.False(RetentionPolicy.TryParseDuration(text, out _));
}
