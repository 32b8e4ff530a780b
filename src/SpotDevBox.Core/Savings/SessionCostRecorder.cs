using System.Globalization;
using Microsoft.Extensions.Logging;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Compute;
using SpotDevBox.Core.Controller;

namespace SpotDevBox.Core.Savings;

/// <summary>How much a box's backup repository stores: the S3 part of a session's cost.</summary>
public interface IRepositorySizes
{
    /// <summary>The bytes stored under the box's storage prefix; null when they cannot be listed.</summary>
    Task<long?> BytesAsync(string storage, CancellationToken cancellationToken);
}

/// <summary>Computes and stores a session's cost when it ends (see <see cref="SessionCostRecorder"/>).</summary>
public interface ISessionCostRecorder
{
    /// <summary>The ledger entry of an ended session, stored and logged; null when the session is still open.</summary>
    Task<LedgerEntry?> RecordAsync(SessionRow session, BoxOptions? box, CancellationToken cancellationToken);
}

/// <summary>
/// When a session ends (price history reaches back only 90 days, so at once): the spot price history of its
/// type and zone from its start to its billed end, the on-demand, EBS and S3 prices of its region, and its
/// repository's size; then <see cref="SessionCostCalculator"/>, one ledger entry, and one structured event,
/// <c>SessionCostRecorded</c>, with every field, for ops tools reading the compact JSON log. A price that
/// cannot be had is recorded as unknown and named; nothing is invented.
/// </summary>
public sealed partial class SessionCostRecorder(
    IComputeGatewayFactory gateways,
    IOnDemandPrices onDemand,
    IStoragePrices storage,
    IRepositorySizes sizes,
    ILedgerStore ledger,
    TimeProvider time,
    ILogger<SessionCostRecorder> logger) : ISessionCostRecorder
{
    public async Task<LedgerEntry?> RecordAsync(SessionRow session, BoxOptions? box, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (session.End is not { } end)
        {
            return null;
        }

        IReadOnlyList<SpotPricePoint> history = [];
        if (session.Lifecycle == InstanceLifecycle.Spot)
        {
            try
            {
                // The billed end: a session under a minute is billed 60 s.
                var until = end - session.Start < TimeSpan.FromSeconds(SessionCostCalculator.MinimumBilledSeconds)
                    ? session.Start.AddSeconds(SessionCostCalculator.MinimumBilledSeconds)
                    : end;
                history = (await gateways.ForRegion(session.Region).DescribeSpotPricesAsync(
                    new SpotPriceQuery([session.InstanceType], SpotPriceQuery.LinuxUnix, session.Start, until, [session.AvailabilityZone]),
                    cancellationToken)).Points;
            }
            catch (ComputeException e)
            {
                LogHistoryUnavailable(logger, session.InstanceId, e.Message);
            }
        }

        long? bytes = null;
        if (box is not null && !string.IsNullOrWhiteSpace(box.Storage))
        {
            bytes = await sizes.BytesAsync(box.Storage, cancellationToken);
        }

        var inputs = SessionCostInputs.ForSession(
            session,
            history,
            onDemand.PerHour(session.Region, session.InstanceType),
            storage.EbsPerGbMonth(session.Region, box?.RootVolumeType ?? "gp3"),
            box?.RootVolumeGiB,
            storage.S3StandardPerGbMonth(session.Region),
            bytes);
        var cost = SessionCostCalculator.Compute(inputs);
        var entry = LedgerEntry.From(inputs, cost, time.GetUtcNow());
        await ledger.RecordAsync(entry, cancellationToken);
        LogSessionCostRecorded(
            logger,
            entry.Box,
            entry.Owner,
            entry.InstanceId,
            entry.Region,
            entry.InstanceType,
            entry.AvailabilityZone,
            entry.Lifecycle,
            entry.Start,
            entry.End,
            entry.Seconds,
            entry.BilledSeconds,
            entry.EndedBy,
            entry.InterruptedByEc2,
            entry.InstanceCost,
            entry.OnDemandCost,
            entry.EbsCost,
            entry.S3Cost,
            entry.Paid,
            entry.OnDemandCost is { } od && entry.InstanceCost is { } ic ? od - ic : null,
            entry.Unknowns.Count == 0 ? "none" : string.Join("; ", entry.Unknowns));
        return entry;
    }

    /// <summary>Money in the message as people read it; the structured properties keep the exact decimals.</summary>
    internal static string Usd(decimal? value) => value is { } v ? "$" + v.ToString("0.00####", CultureInfo.InvariantCulture) : "unknown";

    [LoggerMessage(
        EventId = 5200,
        EventName = "SessionCostRecorded",
        Level = LogLevel.Information,
        Message = "Session cost recorded: box {Box} (owner {Owner}) {InstanceId} {InstanceType} in {AvailabilityZone} ({Region}, {Lifecycle}) " +
            "from {Start:u} to {End:u}, {Seconds} s ({BilledSeconds} s billed), ended by {EndedBy} (EC2 interruption: {InterruptedByEc2}); " +
            "instance {InstanceCost}, same seconds on-demand {OnDemandCost}, EBS {EbsCost}, S3 {S3Cost}, paid {Paid}, spot saving {SpotSaving}; unknown: {Unknowns}")]
    private static partial void LogSessionCostRecorded(
        ILogger logger,
        string box,
        string owner,
        string instanceId,
        string region,
        string instanceType,
        string availabilityZone,
        string lifecycle,
        DateTimeOffset start,
        DateTimeOffset end,
        long seconds,
        long billedSeconds,
        string endedBy,
        bool interruptedByEc2,
        decimal? instanceCost,
        decimal? onDemandCost,
        decimal? ebsCost,
        decimal? s3Cost,
        decimal? paid,
        decimal? spotSaving,
        string unknowns);

    [LoggerMessage(EventId = 5201, Level = LogLevel.Warning, Message = "The spot price history of {InstanceId} could not be read; its spot cost is recorded as unknown: {Reason}")]
    private static partial void LogHistoryUnavailable(ILogger logger, string instanceId, string reason);
}
