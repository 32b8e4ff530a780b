namespace SpotDevBox.Core.Savings;

/// <summary>
/// An amount in US dollars that may be incomplete: <see cref="Known"/> is the sum of the parts that could
/// be priced, <see cref="Unknowns"/> names the parts that could not (and how to fix each). <see cref="Usd"/>
/// is the amount only when nothing is unknown: a partial sum is never passed off as the whole.
/// </summary>
public sealed record UsdAmount
{
    private UsdAmount(decimal known, IReadOnlyList<string> unknowns)
    {
        Known = known;
        Unknowns = unknowns;
    }

    public static UsdAmount Zero { get; } = new(0m, []);

    /// <summary>The sum of the known parts, rounded as <see cref="LedgerRounding"/> says.</summary>
    public decimal Known { get; }

    /// <summary>What could not be priced, each named once, in the order first met.</summary>
    public IReadOnlyList<string> Unknowns { get; }

    public bool IsComplete => Unknowns.Count == 0;

    /// <summary>The amount, or null when a part is unknown.</summary>
    public decimal? Usd => IsComplete ? Known : null;

    public static UsdAmount Of(decimal usd) => new(LedgerRounding.Round(usd), []);

    public static UsdAmount Unknown(string missing)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(missing);
        return new(0m, [missing]);
    }

    public UsdAmount Plus(UsdAmount other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Unknowns.Count == 0)
        {
            return new(Known + other.Known, Unknowns);
        }

        var unknowns = Unknowns.ToList();
        foreach (var missing in other.Unknowns)
        {
            if (!unknowns.Contains(missing, StringComparer.Ordinal))
            {
                unknowns.Add(missing);
            }
        }

        return new(Known + other.Known, unknowns);
    }

    public static UsdAmount Sum(IEnumerable<UsdAmount> amounts) => amounts.Aggregate(Zero, (sum, amount) => sum.Plus(amount));

    public bool Equals(UsdAmount? other) =>
        other is not null && Known == other.Known && Unknowns.SequenceEqual(other.Unknowns, StringComparer.Ordinal);

    public override int GetHashCode() => HashCode.Combine(Known, Unknowns.Count);

    /// <summary>"$1.234567", or "$1.234567 (incomplete: ...)".</summary>
    public override string ToString() =>
        IsComplete
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"${Known}")
            : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"${Known} (incomplete: {string.Join("; ", Unknowns)})");
}

/// <summary>
/// How ledger money is rounded. Each amount (a session's spot, on-demand, EBS or S3 part, or that part of
/// the session inside a report bucket) is computed from unrounded products — USD per hour × seconds, summed,
/// divided by 3600 once — and rounded once, to <see cref="Decimals"/> places (a micro-dollar), half away
/// from zero. Totals add those rounded amounts. Reports round to cents only when they display.
/// </summary>
public static class LedgerRounding
{
    /// <summary>Six places: EC2 quotes spot and on-demand prices to six, and a micro-dollar per part keeps a year of sessions well inside a cent.</summary>
    public const int Decimals = 6;

    public static decimal Round(decimal usd) => Math.Round(usd, Decimals, MidpointRounding.AwayFromZero);
}
