using Microsoft.Extensions.Logging;
using SpotDevBox.Core.Boxes;

namespace SpotDevBox.Core.Savings;

/// <summary>The baselines of the configured boxes: each box's first-choice type at the on-demand price, its root volume, and its repository's last known size.</summary>
public static class BoxBaselines
{
    public static IReadOnlyList<BoxBaseline> ForConfigured(
        IReadOnlyDictionary<string, BoxOptions> boxes,
        IOnDemandPrices onDemand,
        IStoragePrices storage,
        IEnumerable<LedgerEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(boxes);
        ArgumentNullException.ThrowIfNull(onDemand);
        ArgumentNullException.ThrowIfNull(storage);
        var lastBytes = entries
            .Where(e => e.RepositoryBytes is not null)
            .GroupBy(e => e.Box, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.MaxBy(e => e.End)!.RepositoryBytes, StringComparer.Ordinal);
        return [.. boxes.OrderBy(b => b.Key, StringComparer.Ordinal).Select(b => For(b.Key, b.Value, onDemand, storage, lastBytes.GetValueOrDefault(b.Key)))];
    }

    /// <summary>One configured box's baseline at today's prices.</summary>
    public static BoxBaseline For(string name, BoxOptions box, IOnDemandPrices onDemand, IStoragePrices storage, long? repositoryBytes)
    {
        ArgumentNullException.ThrowIfNull(box);
        ArgumentNullException.ThrowIfNull(onDemand);
        ArgumentNullException.ThrowIfNull(storage);
        var type = box.InstanceTypes.Count > 0 ? box.InstanceTypes[0] : "";
        return new BoxBaseline(
            name,
            box.Region,
            type,
            type.Length > 0 ? onDemand.PerHour(box.Region, type) : PriceQuote.Unknown($"box {name} has no instance type"),
            storage.EbsPerGbMonth(box.Region, box.RootVolumeType),
            box.RootVolumeGiB,
            storage.S3StandardPerGbMonth(box.Region),
            repositoryBytes);
    }
}

/// <summary>
/// Once a day, for the day before (UTC): the three baselines per box and for the fleet, each logged as one
/// structured <c>DailySavingsSummary</c> event for the ops tools that read the compact JSON log.
/// </summary>
public sealed partial class DailySummary(ILedgerStore ledger, IOnDemandPrices onDemand, IStoragePrices storage, IRepositorySizes sizes, ILogger<DailySummary> logger)
{
    /// <summary>Logs the summaries of the UTC day <paramref name="day"/> and returns them, per box then the fleet ("*").</summary>
    public async Task<IReadOnlyList<(string Box, SavingsSummary Summary)>> LogAsync(DateOnly day, ControllerOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var from = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var to = from.AddDays(1);
        // One query: the repository sizes come from the latest entries, also those before the day.
        var recent = await ledger.QueryAsync(from.AddDays(-90), to, null, null, cancellationToken);
        var entries = recent.Where(e => e.Start < to && e.End > from).ToList();
        var baselines = new List<BoxBaseline>();
        foreach (var b in BoxBaselines.ForConfigured(options.Boxes.AsReadOnly(), onDemand, storage, recent))
        {
            // A box without a recent session: its repository as it is now (one listing).
            baselines.Add(b.RepositoryBytes is null ? b with { RepositoryBytes = await sizes.BytesAsync(options.Boxes[b.Box].Storage, cancellationToken) } : b);
        }

        var costs = entries.Select(e => e.ToCost()).ToList();
        var result = new List<(string, SavingsSummary)>();
        foreach (var baseline in baselines)
        {
            var summary = SavingsSummary.For(from, to, costs.Where(c => c.Box == baseline.Box), [baseline]);
            Log(day, baseline.Box, costs.Count(c => c.Box == baseline.Box), summary);
            result.Add((baseline.Box, summary));
        }

        // A box no longer configured still has its sessions counted in the fleet; SavingsSummary marks its baseline unknown.
        var fleet = SavingsSummary.For(from, to, costs, baselines);
        Log(day, "*", costs.Count, fleet);
        result.Add(("*", fleet));
        return result;
    }

    private void Log(DateOnly day, string box, int sessions, SavingsSummary s)
    {
        var date = day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        LogDailySummary(
            logger,
            date,
            box,
            sessions,
            s.Paid.Usd,
            s.SameHoursOnDemand.Usd,
            s.AlwaysOnOnDemand.Usd,
            s.SpotSaving,
            s.OffHoursSaving,
            s.TotalSaving,
            s.IsComplete);
    }

    [LoggerMessage(
        EventId = 5210,
        EventName = "DailySavingsSummary",
        Level = LogLevel.Information,
        Message = "Savings on {Day} (UTC) for {Box}: {Sessions} sessions; paid {Paid}, same hours on-demand {SameHoursOnDemand}, on-demand around the clock {AlwaysOnOnDemand}; " +
            "spot saving {SpotSaving}, off-hours saving {OffHoursSaving}, total saving {TotalSaving}; complete: {Complete}")]
    private static partial void LogDailySummary(
        ILogger logger,
        string day,
        string box,
        int sessions,
        decimal? paid,
        decimal? sameHoursOnDemand,
        decimal? alwaysOnOnDemand,
        decimal? spotSaving,
        decimal? offHoursSaving,
        decimal? totalSaving,
        bool complete);
}
