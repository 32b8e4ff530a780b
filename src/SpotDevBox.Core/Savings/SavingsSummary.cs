namespace SpotDevBox.Core.Savings;

/// <summary>
/// A box as the baselines see it: the on-demand instance a developer would otherwise keep, with its volume,
/// and the repository SpotDevBox keeps in S3 instead.
/// </summary>
/// <param name="InstanceType">The box's first-choice type: the on-demand alternative (sessions may have run on other allowed types).</param>
/// <param name="OnDemandPerHour">Linux on-demand price of <paramref name="InstanceType"/> in <paramref name="Region"/>.</param>
/// <param name="RootVolumeGib">The root volume an always-on box would keep provisioned.</param>
/// <param name="RepositoryBytes">The repository's size in S3 over the period (its latest size is a fair stand-in).</param>
public sealed record BoxBaseline(
    string Box,
    string Region,
    string InstanceType,
    PriceQuote OnDemandPerHour,
    PriceQuote EbsPerGbMonth,
    int? RootVolumeGib,
    PriceQuote S3PerGbMonth,
    long? RepositoryBytes);

/// <summary>
/// Three figures for a period (docs/savings.md, "Baselines"): (a) <see cref="Paid"/>; (b)
/// <see cref="SameHoursOnDemand"/>, the same billed seconds on-demand; (c) <see cref="AlwaysOnOnDemand"/>,
/// every box on-demand around the clock with its volume. Each says when it is incomplete; the savings
/// between them are null then, never estimated.
/// </summary>
/// <param name="Sessions">The sessions' parts inside the period.</param>
/// <param name="S3BetweenSessions">The repositories' S3 storage while no session of their box ran.</param>
public sealed record SavingsSummary(
    DateTimeOffset From,
    DateTimeOffset To,
    CostTotals Sessions,
    UsdAmount S3BetweenSessions,
    UsdAmount AlwaysOnOnDemand)
{
    /// <summary>(a) Instances (spot or on-demand) + EBS while running + S3 all the time.</summary>
    public UsdAmount Paid => Sessions.Paid.Plus(S3BetweenSessions);

    /// <summary>(b) The same: with every instance second at on-demand.</summary>
    public UsdAmount SameHoursOnDemand => Sessions.SameHoursOnDemand.Plus(S3BetweenSessions);

    /// <summary>(b) − (a): the spot discount, free first-hour interruptions included.</summary>
    public decimal? SpotSaving => SameHoursOnDemand.Usd - Paid.Usd;

    /// <summary>(c) − (b): the hours powered off (schedules, idle shutdown), less the S3 the backups cost.</summary>
    public decimal? OffHoursSaving => AlwaysOnOnDemand.Usd - SameHoursOnDemand.Usd;

    /// <summary>(c) − (a).</summary>
    public decimal? TotalSaving => AlwaysOnOnDemand.Usd - Paid.Usd;

    public bool IsComplete => Paid.IsComplete && SameHoursOnDemand.IsComplete && AlwaysOnOnDemand.IsComplete;

    /// <summary>
    /// The figures for [<paramref name="from"/>, <paramref name="to"/>): each session counts with its part
    /// inside the period; every box in <paramref name="boxes"/> counts around the clock in (c). A session's box
    /// without a baseline makes (a), (b) and (c) incomplete (its S3 between sessions and its always-on price are unknown).
    /// </summary>
    public static SavingsSummary For(DateTimeOffset from, DateTimeOffset to, IEnumerable<SessionCost> sessions, IEnumerable<BoxBaseline> boxes)
    {
        ArgumentNullException.ThrowIfNull(sessions);
        ArgumentNullException.ThrowIfNull(boxes);
        CostBuckets.CheckPeriod(from, to);
        from = LedgerTime.WholeSecond(from);
        to = LedgerTime.WholeSecond(to);
        var all = sessions.ToList();
        var baselines = new Dictionary<string, BoxBaseline>(StringComparer.Ordinal);
        foreach (var box in boxes)
        {
            if (!baselines.TryAdd(box.Box, box))
            {
                throw new ArgumentException($"Box {box.Box} has two baselines.", nameof(boxes));
            }
        }

        var s3Between = UsdAmount.Zero;
        var alwaysOn = UsdAmount.Zero;
        foreach (var baseline in baselines.Values.OrderBy(b => b.Box, StringComparer.Ordinal))
        {
            s3Between = s3Between.Plus(S3Between(baseline, all.Where(s => s.Box == baseline.Box), from, to));
            alwaysOn = alwaysOn.Plus(AlwaysOn(baseline, from, to));
        }

        foreach (var box in all.Select(s => s.Box).Distinct(StringComparer.Ordinal).Where(b => !baselines.ContainsKey(b)).Order(StringComparer.Ordinal))
        {
            var missing = UsdAmount.Unknown($"no baseline for box {box} (its on-demand type and price, root volume and repository size)");
            s3Between = s3Between.Plus(missing);
            alwaysOn = alwaysOn.Plus(missing);
        }

        return new SavingsSummary(from, to, CostTotals.Of(all.Select(s => s.Within(from, to))), s3Between, alwaysOn);
    }

    private static UsdAmount AlwaysOn(BoxBaseline box, DateTimeOffset from, DateTimeOffset to)
    {
        var onDemand = box.OnDemandPerHour.UsdPerUnit is { } perHour
            ? UsdAmount.Of(perHour * LedgerTime.Seconds(from, to) / LedgerTime.SecondsPerHour)
            : UsdAmount.Unknown(SessionCostCalculator.Missing(box.OnDemandPerHour, MissingPrices.OnDemand(box.InstanceType, box.Region)));
        var ebs = box.EbsPerGbMonth.UsdPerUnit is { } ebsPrice
            ? box.RootVolumeGib is { } gib
                ? UsdAmount.Of(LedgerTime.Prorate(ebsPrice * gib, from, to))
                : UsdAmount.Unknown(MissingPrices.RootVolumeOfBox(box.Box))
            : UsdAmount.Unknown(SessionCostCalculator.Missing(box.EbsPerGbMonth, MissingPrices.Ebs(box.Region)));
        return onDemand.Plus(ebs);
    }

    /// <summary>The period outside the box's sessions (their union: two live instances at once count once).</summary>
    private static UsdAmount S3Between(BoxBaseline box, IEnumerable<SessionCost> sessions, DateTimeOffset from, DateTimeOffset to)
    {
        var gaps = new List<(DateTimeOffset From, DateTimeOffset To)>();
        var cursor = from;
        foreach (var session in sessions.Where(s => s.End > from && s.Start < to).OrderBy(s => s.Start))
        {
            if (session.Start > cursor)
            {
                gaps.Add((cursor, session.Start));
            }

            cursor = session.End > cursor ? session.End : cursor;
        }

        if (cursor < to)
        {
            gaps.Add((cursor, to));
        }

        if (gaps.Count == 0)
        {
            return UsdAmount.Zero;
        }

        if (box.S3PerGbMonth.UsdPerUnit is not { } s3Price)
        {
            return UsdAmount.Unknown(SessionCostCalculator.Missing(box.S3PerGbMonth, MissingPrices.S3(box.Box)));
        }

        return box.RepositoryBytes is { } bytes
            ? UsdAmount.Of(gaps.Sum(g => LedgerTime.Prorate(s3Price * bytes / SessionCostCalculator.BytesPerGb, g.From, g.To)))
            : UsdAmount.Unknown(MissingPrices.RepositoryBytes(box.Box));
    }
}
