using System.Globalization;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Controller;

namespace SpotDevBox.Core.Savings;

/// <summary>What a box and its owner spent this month against their budgets, and whether a launch may go ahead.</summary>
/// <param name="Allowed">False when the box's or the owner's monthly budget is spent.</param>
/// <param name="Warnings">One line per budget at or past 80%: "box alice: $41.20 of its $50.00 monthly budget (82%)".</param>
/// <param name="Refusal">Why a launch is refused, naming the budget and how to override; null when allowed.</param>
public sealed record BudgetVerdict(bool Allowed, IReadOnlyList<string> Warnings, string? Refusal)
{
    public static BudgetVerdict NoBudget { get; } = new(true, [], null);
}

public interface IBudgetGuard
{
    Task<BudgetVerdict> CheckAsync(string box, ControllerOptions options, CancellationToken cancellationToken);

    /// <summary>
    /// What every box and owner spent this month, read once (one ledger query and one query of the open sessions):
    /// a reconcile pass checks all its boxes against it instead of querying once per box.
    /// </summary>
    Task<BudgetMonth> LoadMonthAsync(ControllerOptions options, CancellationToken cancellationToken);
}

/// <summary>
/// Monthly budgets per box (<c>Controller:Boxes:B:MonthlyBudget</c>) and per owner (<c>Controller:OwnerBudgets:O</c>),
/// over the calendar month in UTC: what the ledger recorded for sessions in the month (a session across the
/// month's start counts by its seconds in the month), plus the sessions still running at the spot price in
/// effect at their start. A part whose price is unknown counts as nothing and the warning says the figure is
/// incomplete: a budget never refuses on an invented amount.
/// </summary>
public sealed class BudgetGuard(ILedgerStore ledger, IControllerStore store, TimeProvider time) : IBudgetGuard
{
    /// <summary>Warn from this share of a budget on.</summary>
    public const decimal WarnAt = 0.8m;

    public async Task<BudgetVerdict> CheckAsync(string box, ControllerOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        return HasBudget(box, options) ? (await LoadMonthAsync(options, cancellationToken)).Check(box) : BudgetVerdict.NoBudget;
    }

    public async Task<BudgetMonth> LoadMonthAsync(ControllerOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Boxes.Keys.Any(b => HasBudget(b, options)))
        {
            return new BudgetMonth(options, default, new Dictionary<string, (decimal, bool)>(StringComparer.Ordinal));
        }

        var now = time.GetUtcNow();
        var monthStart = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero);
        var monthEnd = monthStart.AddMonths(1);
        var entries = await ledger.QueryAsync(monthStart, monthEnd, null, null, cancellationToken);
        var open = await store.OpenSessionsAsync(cancellationToken);
        var owners = options.Boxes.ToDictionary(b => b.Key, b => b.Value.Owner, StringComparer.Ordinal);

        var spent = new Dictionary<string, (decimal Amount, bool Incomplete)>(StringComparer.Ordinal);
        void Add(string key, decimal amount, bool incomplete)
        {
            var (a, i) = spent.GetValueOrDefault(key);
            spent[key] = (a + amount, i || incomplete);
        }

        foreach (var e in entries)
        {
            var share = Share(e.Start, e.End, monthStart, monthEnd);
            var known = e.Paid ?? (e.InstanceCost ?? 0) + (e.EbsCost ?? 0) + (e.S3Cost ?? 0);
            var amount = known * share;
            Add("box:" + e.Box, amount, e.Paid is null);
            Add("owner:" + e.Owner, amount, e.Paid is null);
        }

        foreach (var s in open.Where(s => s.End is null))
        {
            var from = s.Start > monthStart ? s.Start : monthStart;
            var hours = (decimal)Math.Max(0, (now - from).TotalHours);
            var amount = s.PricePerHour is { } p ? p * hours : 0;
            var owner = s.Owner ?? owners.GetValueOrDefault(s.Box) ?? "";
            Add("box:" + s.Box, amount, s.PricePerHour is null);
            Add("owner:" + owner, amount, s.PricePerHour is null);
        }

        return new BudgetMonth(options, monthStart, spent);
    }

    internal static bool HasBudget(string box, ControllerOptions options) =>
        options.Boxes.TryGetValue(box, out var boxOptions)
        && (boxOptions.MonthlyBudget is not null || options.OwnerBudgets.ContainsKey(boxOptions.Owner));

    /// <summary>The share of [start, end) that falls in [from, to), by seconds; a zero-length session counts whole where it starts.</summary>
    internal static decimal Share(DateTimeOffset start, DateTimeOffset end, DateTimeOffset from, DateTimeOffset to)
    {
        if (end <= start)
        {
            return start >= from && start < to ? 1 : 0;
        }

        var overlap = (end < to ? end : to) - (start > from ? start : from);
        return overlap <= TimeSpan.Zero ? 0 : (decimal)overlap.Ticks / (end - start).Ticks;
    }
}

/// <summary>What boxes and owners spent in one month, as <see cref="BudgetGuard.LoadMonthAsync"/> read it; checks any box against its budgets.</summary>
public sealed class BudgetMonth
{
    private readonly ControllerOptions _options;
    private readonly DateTimeOffset _monthStart;
    private readonly IReadOnlyDictionary<string, (decimal Amount, bool Incomplete)> _spent;

    internal BudgetMonth(ControllerOptions options, DateTimeOffset monthStart, IReadOnlyDictionary<string, (decimal Amount, bool Incomplete)> spent)
    {
        _options = options;
        _monthStart = monthStart;
        _spent = spent;
    }

    public BudgetVerdict Check(string box)
    {
        if (!BudgetGuard.HasBudget(box, _options))
        {
            return BudgetVerdict.NoBudget;
        }

        var boxOptions = _options.Boxes[box];
        var boxBudget = boxOptions.MonthlyBudget;
        decimal? ownerBudget = _options.OwnerBudgets.TryGetValue(boxOptions.Owner, out var o) ? o : null;
        var warnings = new List<string>();
        string? refusal = null;
        var month = _monthStart.ToString("yyyy-MM", CultureInfo.InvariantCulture);
        foreach (var (key, what, budget, setting) in new[]
        {
            ("box:" + box, $"box {box}", boxBudget, $"Controller:Boxes:{box}:MonthlyBudget"),
            ("owner:" + boxOptions.Owner, $"owner {boxOptions.Owner}", ownerBudget, $"Controller:OwnerBudgets:{boxOptions.Owner}"),
        })
        {
            if (budget is not { } limit)
            {
                continue;
            }

            var (amount, incomplete) = _spent.GetValueOrDefault(key);
            var line = string.Create(
                CultureInfo.InvariantCulture,
                $"{what}: {Usd(amount)} of its {Usd(limit)} budget for {month} ({Math.Floor(amount / limit * 100)}%){(incomplete ? "; incomplete: some prices are unknown" : "")}");
            if (amount >= limit)
            {
                refusal ??= $"{line}: spent; a launch needs 'spotdevbox up {box} --over-budget', or a higher {setting}";
                warnings.Add(line);
            }
            else if (amount >= limit * BudgetGuard.WarnAt)
            {
                warnings.Add(line);
            }
        }

        return new BudgetVerdict(refusal is null, warnings, refusal);
    }

    private static string Usd(decimal value) => "$" + value.ToString("0.00", CultureInfo.InvariantCulture);
}
