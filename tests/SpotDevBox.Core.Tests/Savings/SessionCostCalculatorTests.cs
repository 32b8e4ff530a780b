using SpotDevBox.Core.Compute;
using SpotDevBox.Core.Controller;
using SpotDevBox.Core.Savings;
using static SpotDevBox.Core.Tests.Savings.SavingsData;

namespace SpotDevBox.Core.Tests.Savings;

/// <summary>Prices in <see cref="SavingsData"/>: spot 0.04/h, on-demand 0.1008/h, EBS 0.004/h and S3 0.0002875/h in June.</summary>
public sealed class SessionCostCalculatorTests
{
    [Fact]
    public void Compute_TwentySecondSession_Bills60Seconds()
    {
        var cost = SessionCostCalculator.Compute(AliceSpot(Utc(6, 8, 6, 30), Utc(6, 8, 6, 30, 20)));

        Assert.Equal(20, cost.Seconds);
        Assert.Equal(60, cost.BilledSeconds);
        Assert.Equal(Utc(6, 8, 6, 31), cost.BilledUntil);
        // spot 0.04 × 60 / 3600 = 0.000666... -> 0.000667
        Assert.Equal(0.000667m, cost.Instance.Usd);
        // on-demand 0.1008 × 60 / 3600 = 0.00168
        Assert.Equal(0.00168m, cost.OnDemand.Usd);
        // EBS (60 s minimum too): 2.88 × 60 / 2,592,000 = 0.0000666... -> 0.000067
        Assert.Equal(0.000067m, cost.Ebs.Usd);
        // S3 for the 20 s it ran: 0.207 × 20 / 2,592,000 = 0.0000015972... -> 0.000002
        Assert.Equal(0.000002m, cost.S3.Usd);
        // 0.000667 + 0.000067 + 0.000002
        Assert.Equal(0.000736m, cost.Paid.Usd);
    }

    [Fact]
    public void Compute_Ec2InterruptionInTheFirstHour_InstanceFree()
    {
        var row = new SessionRow(
            "alice-dev", "i-0a11ce", "s-1", "us-east-1", "alice", "m7i.large", "us-east-1a", InstanceLifecycle.Spot, 0.04m,
            Utc(6, 8, 6, 30), Utc(6, 8, 7, 15), SessionEndings.Interruption, "Server.SpotInstanceTermination");
        var template = AliceSpot(row.Start, row.End!.Value);
        var inputs = SessionCostInputs.ForSession(
            row, template.SpotHistory, template.OnDemandPerHour, template.EbsPerGbMonth, 36, template.S3PerGbMonth, 9 * Gib);

        var cost = SessionCostCalculator.Compute(inputs);

        Assert.True(inputs.InterruptedByEc2);
        Assert.True(cost.FreeFirstHourInterruption);
        Assert.Equal(0m, cost.Instance.Usd);
        // What the spot price would have charged for 45 min is still shown: 0.04 × 0.75 = 0.03
        Assert.Equal(0.03m, cost.Spot!.Usd);
        // on-demand 0.1008 × 0.75 = 0.0756
        Assert.Equal(0.0756m, cost.OnDemand.Usd);
        // EBS 0.004 × 0.75 = 0.003; S3 0.0002875 × 0.75 = 0.000215625 -> 0.000216; paid 0 + 0.003 + 0.000216
        Assert.Equal(0.003216m, cost.Paid.Usd);
    }

    [Fact]
    public void Compute_Ec2InterruptionAfterTheFirstHour_Charged()
    {
        var cost = SessionCostCalculator.Compute(
            AliceSpot(Utc(6, 8, 6, 30), Utc(6, 8, 7, 45)) with { EndedBy = SessionEndings.Interruption, InterruptedByEc2 = true });

        Assert.False(cost.FreeFirstHourInterruption);
        // 75 min at 0.04: 0.04 × 1.25 = 0.05
        Assert.Equal(0.05m, cost.Instance.Usd);
    }

    [Theory]
    [InlineData(3599, true, "0")]
    [InlineData(3600, false, "0.04")]   // a full hour has passed: 0.04 × 1
    public void Compute_Ec2InterruptionAtTheHour_FreeOnlyBeforeIt(int seconds, bool free, string instanceUsd)
    {
        var start = Utc(6, 8, 6, 30);
        var cost = SessionCostCalculator.Compute(
            AliceSpot(start, start.AddSeconds(seconds)) with { EndedBy = SessionEndings.Interruption, InterruptedByEc2 = true });

        Assert.Equal(free, cost.FreeFirstHourInterruption);
        Assert.Equal(decimal.Parse(instanceUsd, System.Globalization.CultureInfo.InvariantCulture), cost.Instance.Usd);
    }

    [Fact]
    public void Compute_OwnerStopAfter30Minutes_Charged()
    {
        var cost = SessionCostCalculator.Compute(AliceSpot(Utc(6, 8, 6, 30), Utc(6, 8, 7)) with { EndedBy = "manual" });

        Assert.False(cost.FreeFirstHourInterruption);
        // 0.04 × 0.5 = 0.02
        Assert.Equal(0.02m, cost.Instance.Usd);
        // 0.1008 × 0.5 = 0.0504
        Assert.Equal(0.0504m, cost.OnDemand.Usd);
    }

    [Fact]
    public void Compute_OnDemandSession_PaysOnDemand()
    {
        var cost = SessionCostCalculator.Compute(
            AliceSpot(Utc(6, 9, 8), Utc(6, 9, 12)) with { Lifecycle = InstanceLifecycle.OnDemand, SpotHistory = [] });

        Assert.Null(cost.Spot);
        // 4 h × 0.1008 = 0.4032, paid and compared alike
        Assert.Equal(0.4032m, cost.Instance.Usd);
        Assert.Equal(0.4032m, cost.OnDemand.Usd);
        // EBS 4 × 0.004 = 0.016; S3 4 × 0.0002875 = 0.00115; 0.4032 + 0.016 + 0.00115 = 0.42035
        Assert.Equal(0.016m, cost.Ebs.Usd);
        Assert.Equal(0.00115m, cost.S3.Usd);
        Assert.Equal(0.42035m, cost.Paid.Usd);
        Assert.Equal(0.42035m, cost.SameHoursOnDemand.Usd);
        Assert.True(cost.IsComplete);
    }

    [Fact]
    public void Compute_EbsAndS3Shares_ProratedOverTheSecondsOfTheirOwnMonth()
    {
        // 2 h in June (720 h) and 2 h in July (744 h).
        var cost = SessionCostCalculator.Compute(AliceSpot(Utc(6, 30, 22), Utc(7, 1, 2)));

        // EBS 2.88 per month: 2.88 × 2/720 + 2.88 × 2/744 = 0.008 + 0.0077419354... = 0.0157419354... -> 0.015742
        // (a 730 h month would give 2.88 × 4/730 = 0.015781)
        Assert.Equal(0.015742m, cost.Ebs.Usd);
        // S3 0.207 per month: 0.207 × 2/720 + 0.207 × 2/744 = 0.000575 + 0.0005564516... = 0.0011314516... -> 0.001131
        Assert.Equal(0.001131m, cost.S3.Usd);
        // spot 4 h × 0.04 = 0.16; paid 0.16 + 0.015742 + 0.001131
        Assert.Equal(0.176873m, cost.Paid.Usd);
    }

    [Fact]
    public void Compute_OnDemandPriceUnknown_NamedNullAndTheComparisonIncomplete()
    {
        var cost = SessionCostCalculator.Compute(
            AliceSpot(Utc(6, 8, 6, 30), Utc(6, 8, 7, 30)) with
            {
                Region = "ap-south-2",
                AvailabilityZone = "ap-south-2a",
                SpotHistory = [Point(0.05m, Utc(6, 1, 0), zone: "ap-south-2a")],
                OnDemandPerHour = new PriceQuote(null, "unknown"),
            });

        const string Missing = "on-demand price for m7i.large in ap-south-2 unknown: run spotdevbox prices refresh --region ap-south-2 or set Prices:OnDemand:ap-south-2:m7i.large";
        Assert.Null(cost.OnDemand.Usd);
        Assert.Equal([Missing], cost.OnDemand.Unknowns);
        Assert.Null(cost.SameHoursOnDemand.Usd);
        // 0.004 + 0.0002875 -> 0.000288 are known; the on-demand part is not guessed
        Assert.Equal(0.004288m, cost.SameHoursOnDemand.Known);
        // What was paid does not need the on-demand price: 0.05 + 0.004 + 0.000288
        Assert.Equal(0.054288m, cost.Paid.Usd);
        Assert.Equal([Missing], cost.Unknowns);
        Assert.False(cost.IsComplete);
    }

    [Fact]
    public void Compute_QuoteSaysWhatIsMissing_ItsWordsAreKept()
    {
        var cost = SessionCostCalculator.Compute(
            AliceSpot(Utc(6, 8, 6, 30), Utc(6, 8, 7, 30)) with { EbsPerGbMonth = PriceQuote.Unknown("gp3 in us-east-1: not in the shipped table") });

        Assert.Equal(["gp3 in us-east-1: not in the shipped table"], cost.Unknowns);
        Assert.Null(cost.Paid.Usd);
        Assert.Null(cost.Ebs.Usd);
    }

    [Fact]
    public void Compute_SpotPriceUnknown_PaidIncompleteWithTheKnownParts()
    {
        var cost = SessionCostCalculator.Compute(AliceSpot(Utc(6, 8, 6, 30), Utc(6, 8, 7, 30)) with { SpotHistory = [] });

        Assert.Null(cost.Instance.Usd);
        Assert.Null(cost.Paid.Usd);
        // EBS 0.004 + S3 0.0002875 -> 0.000288
        Assert.Equal(0.004288m, cost.Paid.Known);
        var missing = Assert.Single(cost.Unknowns);
        Assert.StartsWith("spot price for m7i.large in us-east-1a at 2026-06-08 06:30:00Z unknown: ", missing, StringComparison.Ordinal);
        // The comparison does not need the spot price: 0.1008 + 0.004 + 0.000288
        Assert.Equal(0.105088m, cost.SameHoursOnDemand.Usd);
    }

    [Fact]
    public void Compute_SizesUnknown_Named()
    {
        var cost = SessionCostCalculator.Compute(AliceSpot(Utc(6, 8, 6, 30), Utc(6, 8, 7, 30)) with { RootVolumeGib = null, RepositoryBytes = null });

        Assert.Equal(["root volume size of i-0a11ce (box alice-dev) unknown", "stored size of box alice-dev's repository unknown"], cost.Unknowns);
        Assert.Equal(0.04m, cost.Paid.Known);
    }

    [Fact]
    public void ForSession_OpenWithoutAnEnd_Refused()
    {
        var row = new SessionRow("alice-dev", "i-0a11ce", "s-1", "us-east-1", "alice", "m7i.large", "us-east-1a", InstanceLifecycle.Spot, 0.04m, Utc(6, 8, 6, 30));

        Assert.Throws<ArgumentException>(() => SessionCostInputs.ForSession(row, [], Usd(0.1m), Usd(0.08m), 36, Usd(0.023m), 0));
        Assert.Equal(Utc(6, 8, 7), SessionCostInputs.ForSession(row, [], Usd(0.1m), Usd(0.08m), 36, Usd(0.023m), 0, openUntil: Utc(6, 8, 7)).End);
    }
}
