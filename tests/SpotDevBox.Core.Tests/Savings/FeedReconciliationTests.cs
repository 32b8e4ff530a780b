using SpotDevBox.Core.Savings;
using static SpotDevBox.Core.Tests.Savings.HourlySpotCostTests;

namespace SpotDevBox.Core.Tests.Savings;

/// <summary>
/// Matching per (instance, hour). The ledger: alice's i-a ran 09:20-11:05 at 0.036/h (0.024, 0.036, 0.003 by hour);
/// bob's i-b ran 09:20-10:10 and EC2 reclaimed it (nothing in either hour).
/// </summary>
public sealed class FeedReconciliationTests
{
    private static readonly DateTimeOffset Nine = new(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset From = Nine.AddHours(-9);
    private static readonly DateTimeOffset To = From.AddDays(1);

    private static readonly LedgerEntry[] Ledger =
    [
        Spot("i-a", Nine.AddMinutes(20), Nine.AddHours(2).AddMinutes(5), new PriceSegment(Nine, Nine.AddHours(3), 0.036m)),
        Spot("i-b", Nine.AddMinutes(20), Nine.AddHours(1).AddMinutes(10), new PriceSegment(Nine, Nine.AddHours(3), 0.036m)) with { Box = "bob", Owner = "bob", InterruptedByEc2 = true },
    ];

    [Fact]
    public void Reconcile_FeedAgrees_AllMatchedWithTotalsAndTheUnknownInstanceApart()
    {
        var feed = new[]
        {
            Line("i-a", 0, 0.0240m), Line("i-a", 1, 0.0360m), Line("i-a", 2, 0.0030m),
            Line("i-b", 0, 0.0000m),
            Line("i-x", 0, 0.0416m),
        };

        var report = FeedReconciliation.Reconcile(Ledger, feed, From, To, box: null, FeedReconciliation.DefaultToleranceUsd);

        Assert.True(report.AllMatched);
        Assert.Equal(
            [
                ("i-a", "alice", Nine, (decimal?)0.024m, (decimal?)0.024m, ReconciliationStatus.Match),
                ("i-a", "alice", Nine.AddHours(1), 0.036m, 0.036m, ReconciliationStatus.Match),
                ("i-a", "alice", Nine.AddHours(2), 0.003m, 0.003m, ReconciliationStatus.Match),
                ("i-b", "bob", Nine, 0m, 0m, ReconciliationStatus.Match),
                // No feed line for the hour the interrupted instance was not charged for: shown, not a difference.
                ("i-b", "bob", Nine.AddHours(1), 0m, null, ReconciliationStatus.LedgerOnly),
                ("i-x", null, Nine, null, 0.0416m, ReconciliationStatus.NotInLedger),
            ],
            report.Rows.Select(r => (r.InstanceId, r.Box, r.Hour, r.LedgerUsd, r.FeedUsd, r.Status)));
        Assert.Equal(new ReconciliationTotals(0.063m, 0.063m, 0m, 0.0416m, Match: 4, Differs: 0, LedgerOnly: 1, FeedOnly: 0, NotInLedger: 1, Unpriced: 0, Exceeding: 0), report.Totals);
        Assert.Null(report.Rows[^1].DifferenceUsd);
    }

    [Fact]
    public void Reconcile_OneHourOffByACent_DiffersAndNotAllMatched()
    {
        var feed = new[] { Line("i-a", 0, 0.0240m), Line("i-a", 1, 0.0460m), Line("i-a", 2, 0.0030m), Line("i-b", 0, 0m) };

        var report = FeedReconciliation.Reconcile(Ledger, feed, From, To, box: null, FeedReconciliation.DefaultToleranceUsd);

        Assert.False(report.AllMatched);
        var row = Assert.Single(report.Rows, r => r.Exceeds);
        Assert.Equal(("i-a", Nine.AddHours(1), ReconciliationStatus.Differs, (decimal?)-0.01m), (row.InstanceId, row.Hour, row.Status, row.DifferenceUsd));
        Assert.Equal((1, 1, -0.01m), (report.Totals.Differs, report.Totals.Exceeding, report.Totals.DifferenceUsd));
    }

    [Fact]
    public void Reconcile_FeedRoundedToFourDecimals_WithinTheTolerance()
    {
        // 40 min at 0.0416/h = 0.027733...; the ledger shows 0.027733, the feed 0.0277: 0.000033 apart.
        LedgerEntry[] ledger = [Spot("i-a", Nine.AddMinutes(20), Nine.AddHours(1), new PriceSegment(Nine, Nine.AddHours(1), 0.0416m))];

        var report = FeedReconciliation.Reconcile(ledger, [Line("i-a", 0, 0.0277m)], From, To, null, FeedReconciliation.DefaultToleranceUsd);

        var row = Assert.Single(report.Rows);
        Assert.Equal((0.027733m, 0.000033m, ReconciliationStatus.Match), (row.LedgerUsd, row.DifferenceUsd, row.Status));
        Assert.True(report.AllMatched);
        // A tighter tolerance turns the same row into a difference.
        Assert.False(FeedReconciliation.Reconcile(ledger, [Line("i-a", 0, 0.0277m)], From, To, null, 0.00001m).AllMatched);
    }

    [Fact]
    public void Reconcile_FeedMissingAChargedHour_LedgerOnlyCountsAsADifference()
    {
        var feed = new[] { Line("i-a", 0, 0.0240m), Line("i-a", 1, 0.0360m), Line("i-b", 0, 0m) };

        var report = FeedReconciliation.Reconcile(Ledger, feed, From, To, null, FeedReconciliation.DefaultToleranceUsd);

        var row = Assert.Single(report.Rows, r => r.Exceeds);
        Assert.Equal(("i-a", Nine.AddHours(2), ReconciliationStatus.LedgerOnly, (decimal?)0.003m), (row.InstanceId, row.Hour, row.Status, row.DifferenceUsd));
        Assert.False(report.AllMatched);
    }

    [Fact]
    public void Reconcile_FeedChargesAKnownInstanceOutsideItsSession_FeedOnlyCountsAsADifference()
    {
        var feed = new[] { Line("i-a", 0, 0.0240m), Line("i-a", 1, 0.0360m), Line("i-a", 2, 0.0030m), Line("i-a", 3, 0.0100m), Line("i-b", 0, 0m) };

        var report = FeedReconciliation.Reconcile(Ledger, feed, From, To, null, FeedReconciliation.DefaultToleranceUsd);

        var row = Assert.Single(report.Rows, r => r.Exceeds);
        Assert.Equal(("i-a", Nine.AddHours(3), ReconciliationStatus.FeedOnly, (decimal?)null, (decimal?)-0.01m), (row.InstanceId, row.Hour, row.Status, row.LedgerUsd, row.DifferenceUsd));
    }

    [Fact]
    public void Reconcile_SeveralLinesForOneInstanceHour_AddedUp()
    {
        var feed = new[] { Line("i-a", 1, 0.0200m), Line("i-a", 1, 0.0160m) };

        var report = FeedReconciliation.Reconcile(Ledger, feed, From, To, "alice", FeedReconciliation.DefaultToleranceUsd);

        Assert.Equal(0.036m, report.Rows.Single(r => r.Hour == Nine.AddHours(1)).FeedUsd);
    }

    [Fact]
    public void Reconcile_OneBox_OtherBoxesAndUnknownInstancesLeftOut()
    {
        var feed = new[] { Line("i-a", 0, 0.0240m), Line("i-a", 1, 0.0360m), Line("i-a", 2, 0.0030m), Line("i-b", 0, 0.0150m), Line("i-x", 0, 0.0416m) };

        var report = FeedReconciliation.Reconcile(Ledger, feed, From, To, "alice", FeedReconciliation.DefaultToleranceUsd);

        Assert.All(report.Rows, r => Assert.Equal("i-a", r.InstanceId));
        Assert.Equal(3, report.Rows.Count);
        Assert.True(report.AllMatched);
    }

    [Fact]
    public void Reconcile_LinesOutsideTheWindow_Ignored()
    {
        var feed = new[] { Line("i-a", 1, 0.0360m), Line("i-x", 5, 0.0416m) };

        var report = FeedReconciliation.Reconcile(Ledger, feed, Nine.AddHours(1), Nine.AddHours(2), null, FeedReconciliation.DefaultToleranceUsd);

        // Only the 10:00 hour: i-a's charge matches, i-b's uncharged hour has no line; i-x's 14:00 line is outside.
        Assert.Equal(
            [("i-a", ReconciliationStatus.Match), ("i-b", ReconciliationStatus.LedgerOnly)],
            report.Rows.Select(r => (r.InstanceId, r.Status)));
        Assert.All(report.Rows, r => Assert.Equal(Nine.AddHours(1), r.Hour));
    }

    [Fact]
    public void Reconcile_UnpricedLedgerHour_CountsAsADifference()
    {
        LedgerEntry[] ledger = [Spot("i-a", Nine, Nine.AddMinutes(45), new PriceSegment(Nine, Nine.AddMinutes(30), 0.036m))];

        var report = FeedReconciliation.Reconcile(ledger, [Line("i-a", 0, 0.0270m)], From, To, null, FeedReconciliation.DefaultToleranceUsd);

        var row = Assert.Single(report.Rows);
        Assert.Equal((ReconciliationStatus.Unpriced, true, (decimal?)null), (row.Status, row.Exceeds, row.DifferenceUsd));
        Assert.False(report.AllMatched);
    }

    private static SpotFeedRecord Line(string instanceId, int hoursAfterNine, decimal charge) => new(
        Nine.AddHours(hoursAfterNine), "USE1-SpotUsage:m7i.large", "USE1", "m7i.large", "RunInstances:SV001", instanceId, "sir-" + instanceId, 0.1m, 0.036m, charge, "1");
}
