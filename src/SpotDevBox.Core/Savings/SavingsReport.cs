using SpotDevBox.Core.Compute;
using SpotDevBox.Core.Controller;

namespace SpotDevBox.Core.Savings;

/// <summary>What a report's lines are: calendar periods in the report's zone, or one line per box or owner.</summary>
public enum ReportGrouping
{
    Day,
    Week,
    Month,
    Box,
    Owner,
}

/// <summary>A box as the report counts it: its 24/7 baseline and the owner its baseline is counted for.</summary>
/// <param name="Owner">The configured owner (else the owner of its latest ledger entry); "" when none.</param>
public sealed record ReportBox(BoxBaseline Baseline, string Owner)
{
    public string Box => Baseline.Box;
}

/// <summary>One report line: a day, week, month, box or owner, with the three figures and the savings between them.</summary>
/// <param name="Key">"2026-06-08", "2026-W24", "2026-06", the box, the owner ("(no owner)"), or "total".</param>
public sealed record ReportLine(string Key, DateTimeOffset From, DateTimeOffset To, SavingsSummary Figures)
{
    /// <summary>Sessions with billed seconds inside the line's period.</summary>
    public int Sessions => Figures.Sessions.Sessions;

    /// <summary>Seconds the sessions ran inside the line's period.</summary>
    public long Seconds => Figures.Sessions.Seconds;

    public bool IsComplete => Figures.IsComplete;
}

/// <summary>A session the controller has open: not in the ledger until it ends, so it has hours but no money yet.</summary>
/// <param name="SecondsSoFar">Whole seconds from its start to the report's "now".</param>
public sealed record RunningSession(string Box, string Owner, string InstanceId, string InstanceType, InstanceLifecycle Lifecycle, DateTimeOffset Start, long SecondsSoFar);

/// <summary>
/// A missing price or size as a report lists it: what is unknown, and what fixes it when there is a fix. The
/// messages of <see cref="UsdAmount.Unknowns"/> read "what: fix" (the fix starts with run, set, check or add);
/// a few name no fix (a spot price no longer in EC2's 90-day history), others have a fix the report knows.
/// </summary>
public sealed record UnknownPrice(string What, string? Fix)
{
    private static readonly string[] FixVerbs = ["run ", "set ", "check ", "add "];

    public static UnknownPrice Of(string message)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(message);
        var colon = message.IndexOf(": ", StringComparison.Ordinal);
        if (colon > 0 && FixVerbs.Any(v => message.AsSpan(colon + 2).StartsWith(v, StringComparison.Ordinal)))
        {
            return new UnknownPrice(Trim(message[..colon]), message[(colon + 2)..]);
        }

        const string Repository = "stored size of box ";
        const string RootVolume = "root volume size of box ";
        const string NoBaseline = "no baseline for box ";
        if (message.StartsWith(Repository, StringComparison.Ordinal) && message.EndsWith("'s repository unknown", StringComparison.Ordinal))
        {
            var box = message[Repository.Length..^"'s repository unknown".Length];
            return new UnknownPrice(Trim(message), $"none: it is recorded when a session of {box} ends (the controller lists the box's S3 prefix then)");
        }

        if (message.StartsWith(RootVolume, StringComparison.Ordinal))
        {
            var box = message[RootVolume.Length..].Replace(" unknown", "", StringComparison.Ordinal);
            return new UnknownPrice(Trim(message), $"set Controller:Boxes:{box}:RootVolumeGiB");
        }

        if (message.StartsWith(NoBaseline, StringComparison.Ordinal))
        {
            var box = message[NoBaseline.Length..].Split(' ')[0];
            return new UnknownPrice(message, $"add {box} to Controller:Boxes (region, instance types, root volume)");
        }

        return new UnknownPrice(Trim(message), null);
    }

    private static string Trim(string what) => what.EndsWith(" unknown", StringComparison.Ordinal) ? what[..^" unknown".Length] : what;
}

/// <summary>The three figures added up from the period's start to <paramref name="At"/>: one point of the cumulative chart.</summary>
public sealed record CumulativePoint(DateTimeOffset At, UsdAmount Paid, UsdAmount SameHoursOnDemand, UsdAmount AlwaysOnOnDemand);

/// <summary>
/// The savings report over [<see cref="From"/>, <see cref="To"/>) (docs/savings.md, "The report"): one
/// <see cref="ReportLine"/> per bucket, the <see cref="Totals"/> of the whole period (each session's part rounded
/// once, as the ledger has it), one line per box, the cumulative figures for a chart, every unknown price, and the
/// sessions still running (no money: the ledger costs a session when it ends). Pure: no clock, no store.
/// </summary>
public sealed class SavingsReport
{
    /// <summary>Periods up to this long are charted hour by hour; longer ones day by day (local days of the zone).</summary>
    public static readonly TimeSpan HourlyChartUpTo = TimeSpan.FromDays(3);

    private SavingsReport(
        DateTimeOffset from,
        DateTimeOffset to,
        TimeZoneInfo zone,
        ReportGrouping grouping,
        IReadOnlyList<ReportLine> lines,
        ReportLine totals,
        IReadOnlyList<ReportLine> boxes,
        IReadOnlyDictionary<string, string> owners,
        IReadOnlyList<CumulativePoint> cumulative,
        IReadOnlyList<RunningSession> running)
    {
        From = from;
        To = to;
        Zone = zone;
        Grouping = grouping;
        Lines = lines;
        Totals = totals;
        Boxes = boxes;
        BoxOwners = owners;
        Cumulative = cumulative;
        Running = running;
    }

    public DateTimeOffset From { get; }

    public DateTimeOffset To { get; }

    /// <summary>Where calendar lines begin (UTC unless a zone was given); money is counted in UTC seconds either way.</summary>
    public TimeZoneInfo Zone { get; }

    public ReportGrouping Grouping { get; }

    public IReadOnlyList<ReportLine> Lines { get; }

    /// <summary>The whole period at once (not the sum of the lines: a session split at midnight is rounded per part there).</summary>
    public ReportLine Totals { get; }

    /// <summary>One line per box over the whole period, by name.</summary>
    public IReadOnlyList<ReportLine> Boxes { get; }

    /// <summary>Each box's owner, as its baseline is counted ("" when none).</summary>
    public IReadOnlyDictionary<string, string> BoxOwners { get; }

    /// <summary>The figures added up step by step (hours, or local days), from 0 at <see cref="From"/> to <see cref="To"/>.</summary>
    public IReadOnlyList<CumulativePoint> Cumulative { get; }

    public IReadOnlyList<RunningSession> Running { get; }

    /// <summary>Every missing price or size, each once, with its fix: the reason a figure is null.</summary>
    public IReadOnlyList<string> Unknowns =>
        Totals.Figures.Paid.Plus(Totals.Figures.SameHoursOnDemand).Plus(Totals.Figures.AlwaysOnOnDemand).Unknowns;

    public bool IsComplete => Totals.IsComplete;

    /// <summary>
    /// The report of the ledger's <paramref name="sessions"/> (already of the right box or owner) and the
    /// <paramref name="boxes"/> whose 24/7 baseline counts, over [<paramref name="from"/>, <paramref name="to"/>).
    /// <paramref name="open"/> are the controller's open sessions (those starting before <paramref name="to"/> are
    /// listed, with their seconds up to <paramref name="now"/>).
    /// </summary>
    public static SavingsReport Build(
        DateTimeOffset from,
        DateTimeOffset to,
        TimeZoneInfo? zone,
        ReportGrouping grouping,
        IEnumerable<SessionCost> sessions,
        IEnumerable<ReportBox> boxes,
        IEnumerable<SessionRow> open,
        DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(sessions);
        ArgumentNullException.ThrowIfNull(boxes);
        ArgumentNullException.ThrowIfNull(open);
        CostBuckets.CheckPeriod(from, to);
        zone ??= TimeZoneInfo.Utc;
        from = LedgerTime.WholeSecond(from);
        to = LedgerTime.WholeSecond(to);
        var all = sessions.ToList();
        var reportBoxes = boxes.OrderBy(b => b.Box, StringComparer.Ordinal).ToList();
        var baselines = reportBoxes.Select(b => b.Baseline).ToList();
        var owners = reportBoxes.ToDictionary(b => b.Box, b => b.Owner, StringComparer.Ordinal);

        ReportLine Line(string key, DateTimeOffset lineFrom, DateTimeOffset lineTo, IEnumerable<SessionCost> lineSessions, IEnumerable<BoxBaseline> lineBoxes) =>
            new(key, lineFrom, lineTo, SavingsSummary.For(lineFrom, lineTo, lineSessions, lineBoxes));

        var byBox = all.Select(s => s.Box).Concat(owners.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select(box => Line(box, from, to, all.Where(s => s.Box == box), baselines.Where(b => b.Box == box)))
            .ToList();

        var lines = grouping switch
        {
            ReportGrouping.Box => byBox,
            ReportGrouping.Owner => all.Select(s => OwnerKey(s.Owner)).Concat(owners.Values.Select(OwnerKey)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
                .Select(owner => Line(
                    owner,
                    from,
                    to,
                    all.Where(s => OwnerKey(s.Owner) == owner),
                    baselines.Where(b => OwnerKey(owners[b.Box]) == owner)))
                .ToList(),
            _ => [.. CostBuckets.ByPeriod(all, from, to, Period(grouping), zone).Select(b => Line(b.Key, b.From, b.To, all, baselines))],
        };

        var running = open
            .Where(s => s.IsOpen && s.Start < to)
            .OrderBy(s => s.Start)
            .ThenBy(s => s.InstanceId, StringComparer.Ordinal)
            .Select(s => new RunningSession(
                s.Box,
                string.IsNullOrWhiteSpace(s.Owner) ? owners.GetValueOrDefault(s.Box, "") : s.Owner,
                s.InstanceId,
                s.InstanceType,
                s.Lifecycle,
                LedgerTime.WholeSecond(s.Start),
                LedgerTime.Seconds(s.Start, now)))
            .ToList();

        return new SavingsReport(
            from,
            to,
            zone,
            grouping,
            lines,
            Line("total", from, to, all, baselines),
            byBox,
            owners,
            Cumulate(all, baselines, from, to, zone),
            running);
    }

    /// <summary>The owner as a line's key: "(no owner)" when none was recorded.</summary>
    public static string OwnerKey(string? owner) => string.IsNullOrWhiteSpace(owner) ? CostBuckets.NoOwner : owner;

    private static BucketPeriod Period(ReportGrouping grouping) => grouping switch
    {
        ReportGrouping.Day => BucketPeriod.Day,
        ReportGrouping.Week => BucketPeriod.Week,
        ReportGrouping.Month => BucketPeriod.Month,
        _ => throw new ArgumentOutOfRangeException(nameof(grouping), grouping, null),
    };

    private static List<CumulativePoint> Cumulate(List<SessionCost> sessions, List<BoxBaseline> baselines, DateTimeOffset from, DateTimeOffset to, TimeZoneInfo zone)
    {
        var steps = new List<(DateTimeOffset From, DateTimeOffset To)>();
        if (to - from <= HourlyChartUpTo)
        {
            for (var at = from; at < to; at = at.AddHours(1))
            {
                steps.Add((at, at.AddHours(1) < to ? at.AddHours(1) : to));
            }
        }
        else
        {
            steps.AddRange(CostBuckets.ByDay([], from, to, zone).Select(b => (b.From, b.To)));
        }

        var points = new List<CumulativePoint> { new(from, UsdAmount.Zero, UsdAmount.Zero, UsdAmount.Zero) };
        foreach (var (stepFrom, stepTo) in steps)
        {
            var step = SavingsSummary.For(stepFrom, stepTo, sessions, baselines);
            var last = points[^1];
            points.Add(new CumulativePoint(stepTo, last.Paid.Plus(step.Paid), last.SameHoursOnDemand.Plus(step.SameHoursOnDemand), last.AlwaysOnOnDemand.Plus(step.AlwaysOnOnDemand)));
        }

        return points;
    }
}
