using SpotDevBox.Core.Compute;
using SpotDevBox.Core.Controller;
using SpotDevBox.Core.Savings;
using static SpotDevBox.Core.Tests.Savings.SavingsData;

namespace SpotDevBox.Core.Tests.Savings;

/// <summary>
/// A week (Mon 2026-06-08 00:00 UTC to Mon 06-15, 168 h) of a two-box fleet; June has 720 h.
/// <list type="bullet">
/// <item>alice-dev (alice): spot m7i.large in us-east-1a, 0.0400/h until Wed 12:00 UTC, then 0.0450; on-demand 0.1008/h;
/// 36 GiB root (2.88/month = 0.004/h); 9 GiB repository (0.207/month = 0.0002875/h). Mon-Fri 07:00-17:00 UTC, stopped by schedule.</item>
/// <item>bob-dev (bob): t3.large in us-east-1b, on-demand 0.0832/h, spot 0.0300/h; 18 GiB root (1.44/month = 0.002/h);
/// 4.5 GiB repository (0.1035/month = 0.00014375/h). Tue 08:00-12:00 on-demand (idle), Thu 08:00-08:30 spot, interrupted by EC2.</item>
/// </list>
/// </summary>
public sealed class SavingsSummaryTests
{
    private static readonly (DateTimeOffset From, DateTimeOffset To) Week = (Utc(6, 8, 0), Utc(6, 15, 0));

    private static readonly SpotPricePoint[] AliceHistory = [Point(0.0400m, Utc(6, 1, 0)), Point(0.0450m, Utc(6, 10, 12))];

    private static readonly BoxBaseline AliceBaseline = new("alice-dev", "us-east-1", "m7i.large", Usd(0.1008m), Usd(0.08m), 36, Usd(0.023m), 9 * Gib);

    private static readonly BoxBaseline BobBaseline = new("bob-dev", "us-east-1", "t3.large", Usd(0.0832m), Usd(0.08m), 18, Usd(0.023m), 4 * Gib + (Gib / 2));

    private static List<SessionCost> Fleet()
    {
        var sessions = new List<SessionCost>();
        for (var day = 8; day <= 12; day++)
        {
            sessions.Add(SessionCostCalculator.Compute(
                AliceSpot(Utc(6, day, 7), Utc(6, day, 17)) with { InstanceId = $"i-a{day}", EndedBy = "schedule", SpotHistory = AliceHistory }));
        }

        var bob = AliceSpot(Utc(6, 9, 8), Utc(6, 9, 12)) with
        {
            Box = "bob-dev",
            Owner = "bob",
            InstanceId = "i-b9",
            InstanceType = "t3.large",
            AvailabilityZone = "us-east-1b",
            Lifecycle = InstanceLifecycle.OnDemand,
            SpotHistory = [Point(0.03m, Utc(6, 1, 0), zone: "us-east-1b", type: "t3.large")],
            OnDemandPerHour = Usd(0.0832m),
            RootVolumeGib = 18,
            RepositoryBytes = 4 * Gib + (Gib / 2),
        };
        sessions.Add(SessionCostCalculator.Compute(bob));
        sessions.Add(SessionCostCalculator.Compute(bob with
        {
            InstanceId = "i-b11",
            Lifecycle = InstanceLifecycle.Spot,
            Start = Utc(6, 11, 8),
            End = Utc(6, 11, 8, 30),
            EndedBy = SessionEndings.Interruption,
            InterruptedByEc2 = true,
        }));
        return sessions;
    }

    [Fact]
    public void For_TwoBoxesTwoOwnersOverAWeek_ThreeBaselines()
    {
        var summary = SavingsSummary.For(Week.From, Week.To, Fleet(), [AliceBaseline, BobBaseline]);

        // Instances: alice Mon 10 × 0.04 = 0.4, Tue 0.4, Wed 5 × 0.04 + 5 × 0.045 = 0.425, Thu 0.45, Fri 0.45 = 2.125;
        //            bob on-demand 4 × 0.0832 = 0.3328, spot interrupted after 30 min: free. 2.125 + 0.3328 = 2.4578
        Assert.Equal(2.4578m, summary.Sessions.Instance.Usd);
        // On-demand: alice 50 × 0.1008 = 5.04; bob 0.3328 + 0.5 × 0.0832 = 0.0416. 5.04 + 0.3328 + 0.0416 = 5.4144
        Assert.Equal(5.4144m, summary.Sessions.OnDemand.Usd);
        // EBS: alice 50 × 0.004 = 0.2; bob 4 × 0.002 = 0.008 and 0.5 × 0.002 = 0.001. 0.209
        Assert.Equal(0.209m, summary.Sessions.Ebs.Usd);
        // S3 while running: alice 5 × 10 × 0.0002875 = 5 × 0.002875 = 0.014375; bob 4 × 0.00014375 = 0.000575 and
        // 0.5 × 0.00014375 = 0.000071875 -> 0.000072. 0.014375 + 0.000575 + 0.000072 = 0.015022
        Assert.Equal(0.015022m, summary.Sessions.S3.Usd);
        // S3 between sessions: alice 168 - 50 = 118 h × 0.0002875 = 0.033925;
        //                      bob 168 - 4.5 = 163.5 h × 0.00014375 = 0.023503125 -> 0.023503. 0.057428
        Assert.Equal(0.057428m, summary.S3BetweenSessions.Usd);
        // (a) 2.4578 + 0.209 + 0.015022 + 0.057428 = 2.73925
        Assert.Equal(2.73925m, summary.Paid.Usd);
        // (b) 5.4144 + 0.209 + 0.015022 + 0.057428 = 5.69585
        Assert.Equal(5.69585m, summary.SameHoursOnDemand.Usd);
        // (c) alice 168 × 0.1008 = 16.9344 + EBS 168 × 0.004 = 0.672; bob 168 × 0.0832 = 13.9776 + 168 × 0.002 = 0.336.
        //     16.9344 + 0.672 + 13.9776 + 0.336 = 31.92
        Assert.Equal(31.92m, summary.AlwaysOnOnDemand.Usd);
        Assert.Equal(2.9566m, summary.SpotSaving);          // 5.69585 - 2.73925
        Assert.Equal(26.22415m, summary.OffHoursSaving);    // 31.92 - 5.69585
        Assert.Equal(29.18075m, summary.TotalSaving);       // 31.92 - 2.73925
        Assert.True(summary.IsComplete);
        Assert.Equal(7, summary.Sessions.Sessions);
    }

    [Fact]
    public void ByOwnerBoxAndDay_TheWeeksFleet_SplitAsWorkedOut()
    {
        var fleet = Fleet();

        var owners = CostBuckets.ByOwner(fleet, Week.From, Week.To);
        var boxes = CostBuckets.ByBox(fleet, Week.From, Week.To);
        var days = CostBuckets.ByDay(fleet, Week.From, Week.To);

        Assert.Equal(["alice", "bob"], owners.Select(o => o.Key));
        // alice 2.125 + 0.2 + 0.014375 = 2.339375; bob 0.3328 + (0.008 + 0.001) + (0.000575 + 0.000072) = 0.342447
        Assert.Equal((5, 2.339375m), (owners[0].Totals.Sessions, owners[0].Totals.Paid.Usd!.Value));
        Assert.Equal((2, 0.342447m), (owners[1].Totals.Sessions, owners[1].Totals.Paid.Usd!.Value));
        Assert.Equal(["alice-dev", "bob-dev"], boxes.Select(b => b.Key));
        Assert.Equal(owners.Select(o => o.Totals), boxes.Select(b => b.Totals));
        Assert.Equal(7, days.Count);
        // Tuesday: alice 0.4 + bob 0.3328 = 0.7328; Wednesday: alice 0.425; Thursday: alice 0.45 + bob's free half hour
        Assert.Equal(0.7328m, days[1].Totals.Instance.Usd);
        Assert.Equal(0.425m, days[2].Totals.Instance.Usd);
        Assert.Equal(0.45m, days[3].Totals.Instance.Usd);
        Assert.Equal((0, 0m), (days[5].Totals.Sessions, days[5].Totals.Paid.Usd!.Value));
    }

    [Fact]
    public void For_PriceUnknownInARegion_FiguresIncompleteSavingsNull()
    {
        const string Missing = "on-demand price for m7i.large in ap-south-2 unknown: run spotdevbox prices refresh --region ap-south-2 or set Prices:OnDemand:ap-south-2:m7i.large";
        var carol = SessionCostCalculator.Compute(AliceSpot(Utc(6, 8, 7), Utc(6, 8, 17)) with
        {
            Box = "carol-dev",
            Owner = "carol",
            Region = "ap-south-2",
            AvailabilityZone = "ap-south-2a",
            SpotHistory = [Point(0.05m, Utc(6, 1, 0), zone: "ap-south-2a")],
            OnDemandPerHour = new PriceQuote(null, "unknown"),
        });
        var baseline = AliceBaseline with { Box = "carol-dev", Region = "ap-south-2", OnDemandPerHour = new PriceQuote(null, "unknown") };

        var summary = SavingsSummary.For(Week.From, Week.To, [carol], [baseline]);

        // (a) needs no on-demand price: 10 × 0.05 = 0.5 + EBS 0.04 + S3 0.002875 (running) + 158 × 0.0002875 = 0.045425 (between)
        Assert.Equal(0.5883m, summary.Paid.Usd);
        Assert.Null(summary.SameHoursOnDemand.Usd);
        Assert.Null(summary.AlwaysOnOnDemand.Usd);
        // (c) keeps what it knows (EBS 168 × 0.004 = 0.672) and names the rest once
        Assert.Equal(0.672m, summary.AlwaysOnOnDemand.Known);
        Assert.Equal([Missing], summary.AlwaysOnOnDemand.Unknowns);
        Assert.Equal([Missing], summary.SameHoursOnDemand.Unknowns);
        Assert.Null(summary.SpotSaving);
        Assert.Null(summary.TotalSaving);
        Assert.False(summary.IsComplete);
    }

    [Fact]
    public void For_SessionOfABoxWithoutBaseline_Named()
    {
        var summary = SavingsSummary.For(Week.From, Week.To, Fleet(), [AliceBaseline]);

        const string Missing = "no baseline for box bob-dev (its on-demand type and price, root volume and repository size)";
        Assert.Equal([Missing], summary.Paid.Unknowns);
        Assert.Equal([Missing], summary.AlwaysOnOnDemand.Unknowns);
        // alice alone around the clock: 16.9344 + 0.672
        Assert.Equal(17.6064m, summary.AlwaysOnOnDemand.Known);
    }

    [Fact]
    public void For_BoxWithoutSessions_CountsAroundTheClockAndItsStorage()
    {
        var summary = SavingsSummary.For(Week.From, Week.To, [], [BobBaseline]);

        Assert.Equal(0m, summary.Sessions.Instance.Usd);
        // S3 168 × 0.00014375 = 0.02415; (c) 13.9776 + 0.336 = 14.3136
        Assert.Equal(0.02415m, summary.Paid.Usd);
        Assert.Equal(14.3136m, summary.AlwaysOnOnDemand.Usd);
    }
}
