using SpotDevBox.Core.Compute;
using SpotDevBox.Core.Controller;
using SpotDevBox.Core.Savings;
using static SpotDevBox.Core.Tests.Savings.SavingsData;

namespace SpotDevBox.Core.Tests.Savings;

/// <summary>
/// Two days, Mon 2026-06-08 00:00 to Wed 06-10 00:00 UTC (48 h; June has 720 h), worked out by hand:
/// <list type="bullet">
/// <item>alice-dev (alice): spot m7i.large at 0.04/h, on-demand 0.1008/h, EBS 0.004/h, S3 0.0002875/h (see <see cref="SavingsData"/>).
/// Mon 07:00-17:00 (10 h): instance 0.4, on-demand 1.008, EBS 0.04, S3 0.002875. Tue 08:00-12:00 (4 h): 0.16, 0.4032, 0.016, 0.00115.</item>
/// <item>carol-dev (carol): on-demand m7i.large 0.1008/h, 18 GiB (1.44/month = 0.002/h), 4.5 GiB repository (0.1035/month = 0.00014375/h).
/// Mon 09:00-13:00 (4 h): instance = on-demand 0.4032, EBS 0.008, S3 0.000575.</item>
/// </list>
/// </summary>
public sealed class SavingsReportTests
{
    private static readonly DateTimeOffset Monday = Utc(6, 8, 0);
    private static readonly DateTimeOffset Wednesday = Utc(6, 10, 0);

    private static readonly ReportBox Alice = new(new BoxBaseline("alice-dev", "us-east-1", "m7i.large", Usd(0.1008m), Usd(0.08m), 36, Usd(0.023m), 9 * Gib), "alice");

    private static readonly ReportBox Carol = new(new BoxBaseline("carol-dev", "us-east-1", "m7i.large", Usd(0.1008m), Usd(0.08m), 18, Usd(0.023m), 4 * Gib + (Gib / 2)), "carol");

    private static List<SessionCost> Sessions() =>
    [
        SessionCostCalculator.Compute(AliceSpot(Utc(6, 8, 7), Utc(6, 8, 17)) with { InstanceId = "i-a8", EndedBy = "schedule" }),
        SessionCostCalculator.Compute(AliceSpot(Utc(6, 9, 8), Utc(6, 9, 12)) with { InstanceId = "i-a9" }),
        SessionCostCalculator.Compute(AliceSpot(Utc(6, 8, 9), Utc(6, 8, 13)) with
        {
            Box = "carol-dev",
            Owner = "carol",
            InstanceId = "i-c8",
            Lifecycle = InstanceLifecycle.OnDemand,
            RootVolumeGib = 18,
            RepositoryBytes = 4 * Gib + (Gib / 2),
        }),
    ];

    [Fact]
    public void Build_TwoDaysByDay_LinesAndTotalsAsWorkedOut()
    {
        var report = SavingsReport.Build(Monday, Wednesday, null, ReportGrouping.Day, Sessions(), [Alice, Carol], [], Wednesday);

        Assert.Equal(["2026-06-08", "2026-06-09"], report.Lines.Select(l => l.Key));
        var (mon, tue, total) = (report.Lines[0].Figures, report.Lines[1].Figures, report.Totals.Figures);
        // Monday (a): alice 0.4 + 0.04 + 0.002875 = 0.442875 and S3 between 14 h × 0.0002875 = 0.004025;
        //             carol 0.4032 + 0.008 + 0.000575 = 0.411775 and 20 h × 0.00014375 = 0.002875. 0.86155
        Assert.Equal(0.86155m, mon.Paid.Usd);
        // (b): alice 1.008 + 0.04 + 0.002875 + 0.004025 = 1.0549; carol the same as (a), 0.41465. 1.46955
        Assert.Equal(1.46955m, mon.SameHoursOnDemand.Usd);
        // (c): alice 24 × 0.1008 + 24 × 0.004 = 2.5152; carol 2.4192 + 24 × 0.002 = 2.4672. 4.9824
        Assert.Equal(4.9824m, mon.AlwaysOnOnDemand.Usd);
        Assert.Equal((2, 14 * 3600L), (report.Lines[0].Sessions, report.Lines[0].Seconds));
        // Tuesday (a): alice 0.16 + 0.016 + 0.00115 + 20 h × 0.0002875 = 0.00575 -> 0.1829; carol 24 h of S3 = 0.00345. 0.18635
        Assert.Equal(0.18635m, tue.Paid.Usd);
        // (b): alice 0.4032 + 0.016 + 0.00115 + 0.00575 = 0.4261; carol 0.00345. 0.42955
        Assert.Equal(0.42955m, tue.SameHoursOnDemand.Usd);
        Assert.Equal(4.9824m, tue.AlwaysOnOnDemand.Usd);
        Assert.Equal(0.2432m, tue.SpotSaving);               // 0.42955 - 0.18635
        Assert.Equal(4.55285m, tue.OffHoursSaving);          // 4.9824 - 0.42955
        // The period: (a) 0.86155 + 0.18635 = 1.0479; (b) 1.46955 + 0.42955 = 1.8991; (c) 2 × 4.9824 = 9.9648
        Assert.Equal((1.0479m, 1.8991m, 9.9648m), (total.Paid.Usd, total.SameHoursOnDemand.Usd, total.AlwaysOnOnDemand.Usd));
        Assert.Equal((0.8512m, 8.0657m, 8.9169m), (total.SpotSaving, total.OffHoursSaving, total.TotalSaving));
        Assert.Equal((3, 18 * 3600L, "total"), (report.Totals.Sessions, report.Totals.Seconds, report.Totals.Key));
        Assert.True(report.IsComplete);
        Assert.Empty(report.Unknowns);
    }

    [Fact]
    public void Build_ByBoxAndByOwner_EachBaselineCountsForItsBoxsOwner()
    {
        var byBox = SavingsReport.Build(Monday, Wednesday, null, ReportGrouping.Box, Sessions(), [Alice, Carol], [], Wednesday);
        var byOwner = SavingsReport.Build(Monday, Wednesday, null, ReportGrouping.Owner, Sessions(), [Alice, Carol], [], Wednesday);

        Assert.Equal(["alice-dev", "carol-dev"], byBox.Lines.Select(l => l.Key));
        Assert.Equal(["alice", "carol"], byOwner.Lines.Select(l => l.Key));
        // alice: (a) 0.442875 + 0.17715 + 34 h × 0.0002875 = 0.009775 -> 0.6298; (b) 1.050875 + 0.42035 + 0.009775 = 1.481;
        //        (c) 48 × 0.1008 + 48 × 0.004 = 5.0304
        Assert.Equal((0.6298m, 1.481m, 5.0304m), (byBox.Lines[0].Figures.Paid.Usd, byBox.Lines[0].Figures.SameHoursOnDemand.Usd, byBox.Lines[0].Figures.AlwaysOnOnDemand.Usd));
        // carol: (a) = (b) = 0.411775 + 44 h × 0.00014375 = 0.006325 -> 0.4181; (c) 4.8384 + 48 × 0.002 = 4.9344
        Assert.Equal((0.4181m, 0.4181m, 4.9344m), (byBox.Lines[1].Figures.Paid.Usd, byBox.Lines[1].Figures.SameHoursOnDemand.Usd, byBox.Lines[1].Figures.AlwaysOnOnDemand.Usd));
        Assert.Equal(byBox.Lines.Select(l => l.Figures), byOwner.Lines.Select(l => l.Figures));
        Assert.Equal(byBox.Lines.Select(l => l.Figures), byBox.Boxes.Select(l => l.Figures));
        Assert.Equal("carol", byBox.BoxOwners["carol-dev"]);
    }

    [Fact]
    public void Build_BoxWithoutSessionsInThePeriod_CountsAroundTheClockAndItsStorage()
    {
        var report = SavingsReport.Build(Monday, Wednesday, null, ReportGrouping.Box, Sessions().Where(s => s.Box == "alice-dev"), [Alice, Carol], [], Wednesday);

        var carol = report.Lines.Single(l => l.Key == "carol-dev");
        // 48 h of S3: 0.0069; (c) 4.9344
        Assert.Equal((0, 0.0069m, 4.9344m), (carol.Sessions, carol.Figures.Paid.Usd, carol.Figures.AlwaysOnOnDemand.Usd));
    }

    [Fact]
    public void Build_OnDemandPriceUnknown_FiguresNullTheKnownPartKeptAndTheFixNamed()
    {
        const string Missing = "no on-demand price table for region ap-south-2: run 'spotdevbox prices refresh --region ap-south-2', or set Prices:OnDemand:ap-south-2:m7i.large (USD per hour)";
        var bob = new ReportBox(Alice.Baseline with { Box = "bob-dev", Region = "ap-south-2", OnDemandPerHour = PriceQuote.Unknown(Missing) }, "bob");

        var report = SavingsReport.Build(Monday, Wednesday, null, ReportGrouping.Day, Sessions(), [Alice, Carol, bob], [], Wednesday);

        var total = report.Totals.Figures;
        // (a) needs no on-demand price: 1.0479 + bob's S3 48 h × 0.0002875 = 0.0138 -> 1.0617
        Assert.Equal(1.0617m, total.Paid.Usd);
        Assert.Null(total.AlwaysOnOnDemand.Usd);
        // What is known of (c): 9.9648 + bob's EBS 48 × 0.004 = 0.192
        Assert.Equal(10.1568m, total.AlwaysOnOnDemand.Known);
        Assert.Null(total.OffHoursSaving);
        Assert.Null(total.TotalSaving);
        // (b) is known (bob had no session): 1.8991 + 0.0138, so the spot saving stays 0.8512
        Assert.Equal(0.8512m, total.SpotSaving);
        Assert.False(report.IsComplete);
        Assert.All(report.Lines, l => Assert.False(l.IsComplete));
        Assert.Equal([Missing], report.Unknowns);
        Assert.Equal(
            new UnknownPrice("no on-demand price table for region ap-south-2", "run 'spotdevbox prices refresh --region ap-south-2', or set Prices:OnDemand:ap-south-2:m7i.large (USD per hour)"),
            UnknownPrice.Of(report.Unknowns[0]));
    }

    [Fact]
    public void Build_OpenSessions_ListedWithTheirSecondsSoFarAndNoMoney()
    {
        var now = Utc(6, 10, 0, 30);
        SessionRow[] open =
        [
            new("alice-dev", "i-run", "s-1", "us-east-1", null, "m7i.large", "us-east-1a", InstanceLifecycle.Spot, 0.04m, Utc(6, 9, 23)),
            // Started after the period: not this report's.
            new("carol-dev", "i-later", "s-2", "us-east-1", "carol", "m7i.large", "us-east-1a", InstanceLifecycle.OnDemand, null, Utc(6, 10, 0, 10)),
        ];

        var report = SavingsReport.Build(Monday, Wednesday, null, ReportGrouping.Day, Sessions(), [Alice, Carol], open, now);

        // 23:00 to 00:30 the next day: 5400 s; the owner comes from the box when the session has none.
        Assert.Equal([new RunningSession("alice-dev", "alice", "i-run", "m7i.large", InstanceLifecycle.Spot, Utc(6, 9, 23), 5400)], report.Running);
        Assert.Equal(1.0479m, report.Totals.Figures.Paid.Usd);
    }

    [Fact]
    public void Build_TwoDayPeriod_CumulativeHourByHourEachHourRoundedOnItsOwn()
    {
        var report = SavingsReport.Build(Monday, Wednesday, null, ReportGrouping.Month, Sessions().Where(s => s.Box == "alice-dev"), [Alice], [], Wednesday);

        Assert.Equal(49, report.Cumulative.Count);
        Assert.Equal((Monday, 0m), (report.Cumulative[0].At, report.Cumulative[0].Paid.Usd!.Value));
        // Monday 07:00-08:00: 0.04 + 0.004 + 0.0002875 -> 0.000288: 0.044288; 00:00-07:00 S3 only, 7 × 0.000288 = 0.002016
        Assert.Equal(0.002016m, report.Cumulative[7].Paid.Usd);
        Assert.Equal(0.046304m, report.Cumulative[8].Paid.Usd);
        // Every hour's S3 rounds to 0.000288, 48 of them: 0.013824; instances 0.56; EBS 0.056. 0.629824 (the period at once: 0.6298)
        Assert.Equal((Wednesday, 0.629824m), (report.Cumulative[^1].At, report.Cumulative[^1].Paid.Usd!.Value));
        Assert.Equal(0.6298m, report.Totals.Figures.Paid.Usd);
        // (c) per hour 0.1008 + 0.004: 48 × 0.1048 = 5.0304
        Assert.Equal(5.0304m, report.Cumulative[^1].AlwaysOnOnDemand.Usd);
    }

    [Fact]
    public void Build_LongerPeriodInBerlin_CumulativeByLocalDay()
    {
        var zone = CostBuckets.FindZone("Europe/Berlin");

        var report = SavingsReport.Build(Utc(6, 7, 22), Utc(6, 14, 22), zone, ReportGrouping.Week, Sessions(), [Alice, Carol], [], Utc(6, 14, 22));

        // Local midnights in June are 22:00 UTC: seven days, eight points.
        Assert.Equal(Enumerable.Range(0, 8).Select(d => Utc(6, 7, 22).AddDays(d)), report.Cumulative.Select(p => p.At));
        Assert.Equal(["2026-W24"], report.Lines.Select(l => l.Key));
        Assert.Equal("Europe/Berlin", report.Zone.Id);
    }

    [Theory]
    [InlineData("on-demand price for m7i.large in ap-south-2 unknown: run spotdevbox prices refresh --region ap-south-2 or set Prices:OnDemand:ap-south-2:m7i.large",
        "on-demand price for m7i.large in ap-south-2", "run spotdevbox prices refresh --region ap-south-2 or set Prices:OnDemand:ap-south-2:m7i.large")]
    [InlineData("no storage price table for region eu-west-3: set Prices:Storage:eu-west-3:s3_standard_first_50tb (USD per GB-month); 'prices refresh' reads the EC2 offer, which has no S3 prices",
        "no storage price table for region eu-west-3", "set Prices:Storage:eu-west-3:s3_standard_first_50tb (USD per GB-month); 'prices refresh' reads the EC2 offer, which has no S3 prices")]
    [InlineData("spot price for m7i.large in us-east-1a at 2026-06-08 07:00:00Z unknown: no price at or before the start",
        "spot price for m7i.large in us-east-1a at 2026-06-08 07:00:00Z unknown: no price at or before the start", null)]
    [InlineData("root volume size of box alice-dev unknown", "root volume size of box alice-dev", "set Controller:Boxes:alice-dev:RootVolumeGiB")]
    [InlineData("stored size of box alice-dev's repository unknown", "stored size of box alice-dev's repository",
        "none: it is recorded when a session of alice-dev ends (the controller lists the box's S3 prefix then)")]
    public void UnknownPrice_Of_WhatAndFixApart(string message, string what, string? fix)
    {
        Assert.Equal(new UnknownPrice(what, fix), UnknownPrice.Of(message));
    }
}
