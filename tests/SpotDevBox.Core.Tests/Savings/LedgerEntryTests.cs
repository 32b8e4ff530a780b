using SpotDevBox.Core.Savings;
using static SpotDevBox.Core.Tests.Savings.SavingsData;

namespace SpotDevBox.Core.Tests.Savings;

public sealed class LedgerEntryTests
{
    [Fact]
    public void ToCost_EntryOfASessionWithAPriceChange_GivesTheSameMoneyAndTheSameDaysBack()
    {
        // 22:00 June 2 to 02:00 June 3; 0.04 until 23:30, then 0.05 (the change is in the history).
        var inputs = AliceSpot(Utc(6, 2, 22), Utc(6, 3, 2)) with { SpotHistory = [Point(0.04m, Utc(6, 1, 0)), Point(0.05m, Utc(6, 2, 23, 30))] };
        var cost = SessionCostCalculator.Compute(inputs);

        var entry = LedgerEntry.From(inputs, cost, Utc(6, 3, 2, 1));
        var again = entry.ToCost();

        // Spot: 1.5 h x 0.04 + 2.5 h x 0.05 = 0.06 + 0.125 = 0.185.
        Assert.Equal(0.185m, entry.InstanceCost);
        Assert.Equal([new PriceSegment(Utc(6, 2, 22), Utc(6, 2, 23, 30), 0.04m), new PriceSegment(Utc(6, 2, 23, 30), Utc(6, 3, 2), 0.05m)], entry.SpotSegments);
        Assert.Equal((cost.Paid.Usd, cost.OnDemand.Usd, cost.Ebs.Usd, cost.S3.Usd), (again.Paid.Usd, again.OnDemand.Usd, again.Ebs.Usd, again.S3.Usd));
        // The first day's part: 1.5 h at 0.04 + 0.5 h at 0.05 = 0.085.
        Assert.Equal(0.085m, again.Within(Utc(6, 2, 0), Utc(6, 3, 0)).Instance.Usd);
        Assert.Equal(cost.Within(Utc(6, 3, 0), Utc(6, 4, 0)).Paid.Usd, again.Within(Utc(6, 3, 0), Utc(6, 4, 0)).Paid.Usd);
    }

    [Fact]
    public void ToCost_UnknownOnDemandPrice_StaysUnknownWithItsReason()
    {
        var inputs = AliceSpot(Utc(6, 2, 9), Utc(6, 2, 17)) with { OnDemandPerHour = PriceQuote.Unknown("on-demand price of m7i.large in ap-south-2 unknown: run spotdevbox prices refresh --region ap-south-2") };
        var cost = SessionCostCalculator.Compute(inputs);

        var again = LedgerEntry.From(inputs, cost, Utc(6, 2, 18)).ToCost();

        Assert.Null(again.OnDemand.Usd);
        Assert.Contains("run spotdevbox prices refresh --region ap-south-2", again.Unknowns.Single(), StringComparison.Ordinal);
        Assert.Equal(cost.Paid.Usd, again.Paid.Usd);
    }

    [Fact]
    public void From_SessionWhoseEndIsUnknown_CostsTheKnownPartAndNamesTheRestThroughToCost()
    {
        // Known to run 09:00-10:00, found ended at 12:00: one hour is costed, the two after it are unknown.
        var session = new SpotDevBox.Core.Controller.SessionRow(
            "alice-dev", "i-0a11ce", "s1", "us-east-1", "alice", "m7i.large", "us-east-1a", SpotDevBox.Core.Compute.InstanceLifecycle.Spot, 0.04m,
            Utc(6, 2, 9), Utc(6, 2, 10), "unknown", null, Utc(6, 2, 12));
        var inputs = SessionCostInputs.ForSession(session, [Point(0.04m, Utc(6, 1, 0))], Usd(0.1008m), Usd(0.08m), 36, Usd(0.023m), 9 * Gib);
        var cost = SessionCostCalculator.Compute(inputs);

        var entry = LedgerEntry.From(inputs, cost, Utc(6, 2, 12, 1));
        var again = entry.ToCost();

        const string Unknown = "end of i-0a11ce unknown: it ran at least until 2026-06-02 10:00:00 UTC and had ended by 2026-06-02 12:00:00 UTC; the time between is not costed";
        Assert.Equal([Unknown], entry.Unknowns);
        Assert.Equal((3600L, (decimal?)null, (decimal?)null), (entry.Seconds, entry.InstanceCost, entry.Paid));
        // What is known: one hour at 0.04 spot, 0.1008 on-demand.
        Assert.Equal((0.04m, 0.1008m), (cost.Instance.Known, cost.OnDemand.Known));
        Assert.Equal((DateTimeOffset?)Utc(6, 2, 12), entry.LatestEnd);
        Assert.Equal([Unknown], again.Unknowns);
        Assert.Equal((0.04m, (decimal?)null, (decimal?)null), (again.Instance.Known, again.Ebs.Usd, again.Paid.Usd));
        // A day with none of the session holds none of its unknowns.
        Assert.True(again.Within(Utc(6, 3, 0), Utc(6, 4, 0)).Paid.IsComplete);
    }

    [Fact]
    public void Compute_Ec2InterruptionWhoseLatestEndIsInTheFirstHour_InstanceStaysFreeTheVolumeIsIncomplete()
    {
        // Known to run 09:00-09:10, found ended at 09:50 after an EC2 interruption: free however long it ran.
        var inputs = AliceSpot(Utc(6, 2, 9), Utc(6, 2, 9, 10)) with { InterruptedByEc2 = true, EndedBy = "interruption", LatestEnd = Utc(6, 2, 9, 50) };

        var cost = SessionCostCalculator.Compute(inputs);

        Assert.Equal((decimal?)0m, cost.Instance.Usd);
        Assert.Null(cost.Ebs.Usd);
        Assert.Null(cost.Paid.Usd);
        Assert.StartsWith("end of i-0a11ce unknown: it ran at least until 2026-06-02 09:10:00 UTC and had ended by 2026-06-02 09:50:00 UTC", cost.Unknowns.Single(), StringComparison.Ordinal);
    }

    [Fact]
    public void Compute_Ec2InterruptionWhoseLatestEndIsPastTheFirstHour_InstanceIsIncomplete()
    {
        var inputs = AliceSpot(Utc(6, 2, 9), Utc(6, 2, 9, 10)) with { InterruptedByEc2 = true, EndedBy = "interruption", LatestEnd = Utc(6, 2, 10, 30) };

        var cost = SessionCostCalculator.Compute(inputs);

        Assert.Null(cost.Instance.Usd);
        // Ten minutes at 0.04: what is known.
        Assert.Equal(0.006667m, cost.Instance.Known);
    }
}
