using SpotDevBox.Core.Compute;
using SpotDevBox.Core.Savings;

namespace SpotDevBox.Core.Tests.Savings;

/// <summary>
/// Inputs with round numbers, so that the expected dollars can be worked out by hand:
/// <list type="bullet">
/// <item>m7i.large on-demand in us-east-1: 0.1008 per hour (the shipped us-east-1 table);</item>
/// <item>alice-dev's root volume: 36 GiB of gp3 at 0.08 per GB-month = 2.88 per month; June has 720 h, so 0.004 per hour;</item>
/// <item>alice-dev's repository: 9 GiB (9 × 2^30 bytes) at 0.023 per GB-month = 0.207 per month; in June 0.0002875 per hour.</item>
/// </list>
/// </summary>
internal static class SavingsData
{
    public const long Gib = 1_073_741_824;

    public static DateTimeOffset Utc(int month, int day, int hour, int minute = 0, int second = 0) =>
        new(2026, month, day, hour, minute, second, TimeSpan.Zero);

    public static PriceQuote Usd(decimal usd) => new(usd, "test");

    public static SpotPricePoint Point(decimal usdPerHour, DateTimeOffset at, string zone = "us-east-1a", string type = "m7i.large") =>
        new(type, zone, SpotPriceQuery.LinuxUnix, usdPerHour, at);

    /// <summary>alice-dev, spot m7i.large in us-east-1a at 0.04 per hour since June 1st, ended idle.</summary>
    public static SessionCostInputs AliceSpot(DateTimeOffset start, DateTimeOffset end) => new(
        Box: "alice-dev",
        Owner: "alice",
        InstanceId: "i-0a11ce",
        Region: "us-east-1",
        InstanceType: "m7i.large",
        AvailabilityZone: "us-east-1a",
        Lifecycle: InstanceLifecycle.Spot,
        Start: start,
        End: end,
        EndedBy: "idle",
        InterruptedByEc2: false,
        SpotHistory: [Point(0.04m, Utc(6, 1, 0))],
        OnDemandPerHour: Usd(0.1008m),
        EbsPerGbMonth: Usd(0.08m),
        RootVolumeGib: 36,
        S3PerGbMonth: Usd(0.023m),
        RepositoryBytes: 9 * Gib);
}
