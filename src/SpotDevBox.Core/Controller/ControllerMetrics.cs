using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Diagnostics.Metrics;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Savings;

namespace SpotDevBox.Core.Controller;

/// <summary>
/// The controller's metrics (docs/controller.md "Metrics"): one <see cref="Meter"/> named <see cref="MeterName"/>.
/// Counters and histograms are recorded where the event happens; the gauges read what the last reconcile pass
/// left here (<see cref="SetBox"/>, <see cref="SetCostToday"/>), never the store or S3 at collection time.
/// Labels are box, owner, region, state and outcome only: nothing from a home, no instance profile, no key.
/// </summary>
public sealed class ControllerMetrics
{
    public const string MeterName = "SpotDevBox.Controller";

    /// <summary>The states <c>spotdevbox.boxes</c> reports, each every time (0 when no box is in it).</summary>
    public static readonly IReadOnlyList<string> States = ["pending", "running", "stopping", "shutting-down", "down", "unknown"];

    private readonly TimeProvider _time;
    private readonly Counter<long> _launches;
    private readonly Counter<long> _interruptions;
    private readonly Histogram<double> _relaunchLatency;
    private readonly Histogram<double> _reconcileDuration;
    private readonly ConcurrentDictionary<string, BoxGauges> _boxes = new(StringComparer.Ordinal);
    private volatile FrozenDictionary<(string Box, string Owner), decimal> _costToday = FrozenDictionary<(string, string), decimal>.Empty;

    public ControllerMetrics(IMeterFactory meterFactory, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _time = time;
        var meter = meterFactory.Create(MeterName);
        _launches = meter.CreateCounter<long>("spotdevbox.launches", "{launch}", "Launch attempts by the controller, by outcome");
        _interruptions = meter.CreateCounter<long>("spotdevbox.interruptions", "{interruption}", "Sessions the controller found ended by a spot interruption");
        // Buckets in seconds (the SDK's default ones are for milliseconds): a pass takes seconds, a relaunch minutes.
        _relaunchLatency = meter.CreateHistogram(
            "spotdevbox.relaunch.latency", "s", "From a spot interruption to the launch of the box's next instance", tags: null,
            new InstrumentAdvice<double> { HistogramBucketBoundaries = [10, 30, 60, 120, 300, 600, 1200, 1800, 3600] });
        _reconcileDuration = meter.CreateHistogram(
            "spotdevbox.reconcile.duration", "s", "Duration of a reconcile pass over every box", tags: null,
            new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 45, 60, 120] });
        meter.CreateObservableGauge("spotdevbox.boxes", ObserveStates, "{box}", "Boxes by state, as the last pass saw them");
        meter.CreateObservableGauge("spotdevbox.snapshot.age", ObserveSnapshotAge, "s", "Age of each box's newest snapshot the controller trusts");
        meter.CreateObservableGauge("spotdevbox.cost.today", ObserveCostToday, "{USD}", "Cost so far this UTC day (instance, volume and repository storage), by box and owner");
        meter.CreateObservableGauge("spotdevbox.agent.backup.duration", () => Observe(b => b.BackupSeconds), "s", "The agent's last backup: how long it took");
        meter.CreateObservableGauge("spotdevbox.agent.backup.uploaded", () => Observe(b => b.BackupBytes), "By", "The agent's last backup: bytes uploaded");
        meter.CreateObservableGauge("spotdevbox.agent.notice_to_durable.duration", () => Observe(b => b.NoticeToDurableSeconds), "s", "The agent's last spot notice: from seeing it to the final snapshot being durable");
    }

    /// <summary>What the last pass saw of a box: its state, newest trusted snapshot, and the agent's figures within bounds.</summary>
    public sealed record BoxGauges(
        string Box,
        string Owner,
        string Region,
        string State,
        DateTimeOffset? LastSnapshot = null,
        double? BackupSeconds = null,
        long? BackupBytes = null,
        double? NoticeToDurableSeconds = null);

    public void SetBox(BoxGauges gauges)
    {
        ArgumentNullException.ThrowIfNull(gauges);
        _boxes[gauges.Box] = gauges;
    }

    public void SetCostToday(IReadOnlyDictionary<(string Box, string Owner), decimal> cost) => _costToday = cost.ToFrozenDictionary();

    /// <param name="outcome">launched, already-running, claimed, failed.</param>
    public void Launch(string box, string owner, string region, string outcome) =>
        _launches.Add(1, new("box", box), new("owner", owner), new("region", region), new("outcome", outcome));

    public void Interruption(string box, string owner, string region) =>
        _interruptions.Add(1, new("box", box), new("owner", owner), new("region", region));

    public void RelaunchLatency(string box, string region, TimeSpan latency) =>
        _relaunchLatency.Record(Math.Max(0, latency.TotalSeconds), new("box", box), new("region", region));

    public void ReconcileDuration(TimeSpan duration) => _reconcileDuration.Record(duration.TotalSeconds);

    private IEnumerable<Measurement<int>> ObserveStates()
    {
        var snapshot = _boxes.Values.ToList();
        foreach (var region in snapshot.Select(b => b.Region).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            foreach (var state in States)
            {
                yield return new(snapshot.Count(b => b.Region == region && b.State == state), new("state", state), new("region", region));
            }
        }
    }

    private IEnumerable<Measurement<double>> ObserveSnapshotAge()
    {
        var now = _time.GetUtcNow();
        foreach (var b in _boxes.Values)
        {
            if (b.LastSnapshot is { } at)
            {
                yield return new(Math.Max(0, (now - at).TotalSeconds), new("box", b.Box), new("owner", b.Owner));
            }
        }
    }

    private IEnumerable<Measurement<double>> ObserveCostToday()
    {
        foreach (var ((box, owner), usd) in _costToday)
        {
            yield return new((double)usd, new("box", box), new("owner", owner));
        }
    }

    private IEnumerable<Measurement<T>> Observe<T>(Func<BoxGauges, T?> value)
        where T : struct
    {
        foreach (var b in _boxes.Values)
        {
            if (value(b) is { } v)
            {
                yield return new(v, new("box", b.Box), new("owner", b.Owner));
            }
        }
    }

    /// <summary>
    /// The cost of each box and owner so far in the UTC day of <paramref name="now"/>: the ledger's entries
    /// overlapping the day (by their seconds in it, as budgets count a month), plus open sessions at the spot price
    /// in effect at their start. A session already in the ledger is not counted again as open.
    /// </summary>
    public static Dictionary<(string Box, string Owner), decimal> CostToday(
        IReadOnlyList<LedgerEntry> entries, IReadOnlyList<SessionRow> open, IReadOnlyDictionary<string, string> owners, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(open);
        ArgumentNullException.ThrowIfNull(owners);
        var utc = now.ToUniversalTime();
        var dayStart = new DateTimeOffset(utc.Year, utc.Month, utc.Day, 0, 0, 0, TimeSpan.Zero);
        var dayEnd = dayStart.AddDays(1);
        var cost = new Dictionary<(string, string), decimal>();
        foreach (var (box, owner) in owners)
        {
            cost[(box, owner)] = 0;
        }

        var ledgered = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in entries)
        {
            ledgered.Add(e.InstanceId);
            var known = e.Paid ?? (e.InstanceCost ?? 0) + (e.EbsCost ?? 0) + (e.S3Cost ?? 0);
            var key = (e.Box, e.Owner);
            cost[key] = cost.GetValueOrDefault(key) + known * BudgetGuard.Share(e.Start, e.End, dayStart, dayEnd);
        }

        foreach (var s in open.Where(s => s.IsOpen && !ledgered.Contains(s.InstanceId)))
        {
            var from = s.Start > dayStart ? s.Start : dayStart;
            var hours = (decimal)Math.Max(0, (now - from).TotalHours);
            var key = (s.Box, s.Owner ?? owners.GetValueOrDefault(s.Box) ?? "");
            cost[key] = cost.GetValueOrDefault(key) + (s.PricePerHour ?? 0) * hours;
        }

        return cost;
    }

    /// <summary>The agent's figures in status.json within bounds, each null when absent or out of them; <paramref name="rejected"/> names those refused.</summary>
    public static (double? BackupSeconds, long? BackupBytes, double? NoticeToDurableSeconds) AgentFigures(AgentStatus? status, out IReadOnlyList<string> rejected)
    {
        var refused = new List<string>();
        rejected = refused;
        if (status is null)
        {
            return (null, null, null);
        }

        double? Bounded(double? value, double max, string name)
        {
            if (value is not { } v)
            {
                return null;
            }

            if (double.IsFinite(v) && v >= 0 && v <= max)
            {
                return v;
            }

            refused.Add(name);
            return null;
        }

        var bytes = status.LastBackupBytesUploaded;
        if (bytes is < 0 or > MaxBackupBytes)
        {
            refused.Add("last_backup_bytes_uploaded");
            bytes = null;
        }

        return (
            Bounded(status.LastBackupSeconds, MaxBackupSeconds, "last_backup_seconds"),
            bytes,
            Bounded(status.NoticeToDurableSeconds, MaxNoticeToDurableSeconds, "notice_to_durable_seconds"));
    }

    /// <summary>A backup longer than a day is not a figure any box reports: the document is wrong or hostile.</summary>
    internal const double MaxBackupSeconds = 86_400;

    /// <summary>16 TiB in one backup: more than any box's disk.</summary>
    internal const long MaxBackupBytes = 16L << 40;

    /// <summary>A spot notice gives two minutes; an hour bounds every honest report with room to spare.</summary>
    internal const double MaxNoticeToDurableSeconds = 3_600;
}
