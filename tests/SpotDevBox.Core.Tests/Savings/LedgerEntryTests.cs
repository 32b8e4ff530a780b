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
}
