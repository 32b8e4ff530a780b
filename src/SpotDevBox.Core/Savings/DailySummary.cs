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

    /// <summary>
    /// A box that is no longer configured, from its latest ledger entry: the type, volume and prices that
    /// entry was costed with (an unknown price stays unknown with its reason). <c>savings</c> and the daily
    /// summary both price such a box this way, so their figures agree.
    /// </summary>
    public static BoxBaseline FromLatestEntry(LedgerEntry latest, long? repositoryBytes)
    {
        ArgumentNullException.ThrowIfNull(latest);
        return new BoxBaseline(
            latest.Box,
            latest.Region,
            latest.InstanceType,
            Quote(latest.OnDemandPerHour, latest.OnDemandMissing),
            Quote(latest.EbsPerGbMonth, latest.EbsMissing),
            latest.VolumeGiB > 0 ? latest.VolumeGiB : null,
            Quote(latest.S3PerGbMonth, latest.S3Missing),
            repositoryBytes);
    }

    private static PriceQuote Quote(decimal? usd, string? missing) =>
        usd is { } v ? new PriceQuote(v, "ledger") : PriceQuote.Unknown(missing ?? "the price was unknown when the box's latest session was recorded");

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

        // A box no longer configured that ran that day: priced from its latest entry, as `savings` does.
        foreach (var gone in entries.Select(e => e.Box).Where(b => !options.Boxes.ContainsKey(b)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            var history = recent.Where(e => e.Box == gone).ToList();
            baselines.Add(BoxBaselines.FromLatestEntry(
                history.MaxBy(e => e.End)!,
                history.Where(e => e.RepositoryBytes is not null).MaxBy(e => e.End)?.RepositoryBytes));
        }

        var costs = entries.Select(e => e.ToCost()).ToList();
        var result = new List<(string, SavingsSummary)>();
        var incomplete = new List<string>();
        foreach (var baseline in baselines)
        {
            var summary = SavingsSummary.For(from, to, costs.Where(c => c.Box == baseline.Box), [baseline]);
            Log(day, baseline.Box, costs.Count(c => c.Box == baseline.Box), summary, summary.IsComplete ? [] : [baseline.Box]);
            result.Add((baseline.Box, summary));
            if (!summary.IsComplete)
            {
                incomplete.Add(baseline.Box);
            }
        }

        // Every box that ran has a baseline now; a box that lacks a price makes the fleet's sums incomplete
        // (never a partial sum passed off as the whole), and the fleet event names it.
        var fleet = SavingsSummary.For(from, to, costs, baselines);
        Log(day, "*", costs.Count, fleet, incomplete);
        result.Add(("*", fleet));
        return result;
    }

    private void Log(DateOnly day, string box, int sessions, SavingsSummary s, List<string> incompleteBoxes)
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
            s.IsComplete,
            incompleteBoxes.Count == 0 ? "none" : string.Join(", ", incompleteBoxes));
    }

    [LoggerMessage(
        EventId = 5210,
        EventName = "DailySavingsSummary",
        Level = LogLevel.Information,
        Message = "Savings on {Day} (UTC) for {Box}: {Sessions} sessions; paid {Paid}, same hours on-demand {SameHoursOnDemand}, on-demand around the clock {AlwaysOnOnDemand}; " +
            "spot saving {SpotSaving}, off-hours saving {OffHoursSaving}, total saving {TotalSaving}; complete: {Complete}; incomplete boxes: {IncompleteBoxes}")]
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
        bool complete,
        string incompleteBoxes);
}
