using System.Globalization;
using SpotDevBox.Core.Compute;

namespace SpotDevBox.Core.Launch;

/// <summary>Where an instance can go: a subnet of the box (which fixes the zone), or a zone of the default VPC.</summary>
public sealed record LaunchPlacement(string AvailabilityZone, string? SubnetId = null)
{
    public override string ToString() => SubnetId is null ? AvailabilityZone : $"{AvailabilityZone} ({SubnetId})";
}

/// <summary>
/// One placement and market to try. <paramref name="AvailabilityZone"/> is null only for an on-demand
/// candidate of a box without subnets when no zone is known (EC2 then chooses the zone).
/// <paramref name="SpotPricePerHour"/> is the spot price in effect when the candidates were chosen; null on demand.
/// </summary>
public sealed record LaunchCandidate(
    string InstanceType,
    string? AvailabilityZone,
    string? SubnetId,
    InstanceLifecycle Market,
    decimal? SpotPricePerHour)
{
    /// <summary>What the client token is derived from: the subnet, else the zone, else "" (EC2 chooses).</summary>
    public string PlacementKey => SubnetId ?? AvailabilityZone ?? "";

    public override string ToString()
    {
        var where = AvailabilityZone is null ? "a zone EC2 chooses" : SubnetId is null ? AvailabilityZone : $"{AvailabilityZone} ({SubnetId})";
        return Market == InstanceLifecycle.Spot
            ? $"{InstanceType} in {where}, spot at {Usd.PerHour(SpotPricePerHour ?? 0)}"
            : $"{InstanceType} in {where}, on-demand";
    }
}

/// <summary>
/// A candidate not tried or not launched, and why. <paramref name="AvailabilityZone"/> is null when the
/// reason holds in every zone (the type's architecture); <paramref name="Market"/> is null when it holds in both.
/// <paramref name="Reason"/> is a whole sentence naming the type and zone, for the log and for people.
/// </summary>
public sealed record PassedOver(string InstanceType, string? AvailabilityZone, InstanceLifecycle? Market, string Reason)
{
    public override string ToString() => Reason;
}

/// <summary>What the candidates are chosen from; everything a box's launch learned from EC2.</summary>
public sealed record CandidateInputs
{
    /// <summary>The box's allowed instance types, most preferred first.</summary>
    public required IReadOnlyList<string> InstanceTypes { get; init; }

    /// <summary>The box's subnets with their zones, in the box's order; empty for a box without subnets (the zones that have prices are used).</summary>
    public required IReadOnlyList<LaunchPlacement> Placements { get; init; }

    /// <summary>Spot prices for the allowed types (any number of points per type and zone: the newest counts).</summary>
    public required IReadOnlyCollection<SpotPricePoint> SpotPrices { get; init; }

    /// <summary>The image's architecture: types that cannot run it are dropped.</summary>
    public required CpuArchitecture ImageArchitecture { get; init; }

    public required IReadOnlyDictionary<string, IReadOnlySet<CpuArchitecture>> TypeArchitectures { get; init; }

    /// <summary>The box's spot cap in USD per hour; null for none (EC2 then caps at the on-demand price).</summary>
    public decimal? MaxPricePerHour { get; init; }

    public bool OnDemandFallback { get; init; }

    /// <summary>
    /// The placement an interruption just took the box from: spot candidates of another type in another zone
    /// come first, then those sharing the type or the zone, then the interrupted pool itself (each group
    /// cheapest first). EC2 reclaims capacity per pool, and a pool short now is likely short again soon.
    /// </summary>
    public InterruptedPlacement? Interrupted { get; init; }
}

/// <summary>The instance type and zone of an instance EC2 interrupted.</summary>
public sealed record InterruptedPlacement(string InstanceType, string AvailabilityZone)
{
    /// <summary>0: neither the type nor the zone; 1: one of them; 2: the same pool.</summary>
    public int Overlap(LaunchCandidate candidate) =>
        (string.Equals(candidate.InstanceType, InstanceType, StringComparison.Ordinal) ? 1 : 0)
        + (string.Equals(candidate.AvailabilityZone, AvailabilityZone, StringComparison.Ordinal) ? 1 : 0);

    public override string ToString() => $"{InstanceType} in {AvailabilityZone}";
}

/// <summary>The candidates in the order to try them, and every one passed over before trying, with its reason.</summary>
public sealed record CandidatePlan(IReadOnlyList<LaunchCandidate> Candidates, IReadOnlyList<PassedOver> PassedOver, string PriceCap, bool OnDemandFallback);

/// <summary>
/// Chooses what to try for a box's launch, as a plain function: spot candidates cheapest first (ties by
/// the box's type preference, then zone name, then the box's subnet order) among those at or under the
/// max price, after a spot interruption those away from the interrupted pool first; then, only when the box allows it, on-demand candidates in the box's type order (then
/// placement order). Types that cannot run the image are dropped. See docs/launch.md.
/// </summary>
public static class LaunchCandidates
{
    public static CandidatePlan Choose(CandidateInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var types = inputs.InstanceTypes.Distinct(StringComparer.Ordinal).ToList();
        var preference = types.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i, StringComparer.Ordinal);
        var passedOver = new List<PassedOver>();
        var image = Name(inputs.ImageArchitecture);

        var runnable = new List<string>();
        foreach (var type in types)
        {
            if (!inputs.TypeArchitectures.TryGetValue(type, out var architectures))
            {
                passedOver.Add(new PassedOver(type, null, null, $"{type}: EC2 did not report its architectures, so it cannot be matched to the AMI's {image}"));
            }
            else if (!architectures.Contains(inputs.ImageArchitecture))
            {
                passedOver.Add(new PassedOver(type, null, null, architectures.Count == 0
                    ? $"{type}: runs neither x86_64 nor arm64, so not the AMI's {image}"
                    : $"{type}: {string.Join(" and ", architectures.Order().Select(Name))} does not match the AMI's {image}"));
            }
            else
            {
                runnable.Add(type);
            }
        }

        var latest = inputs.SpotPrices
            .Where(p => preference.ContainsKey(p.InstanceType))
            .GroupBy(p => (p.InstanceType, p.AvailabilityZone))
            .ToDictionary(g => g.Key, g => g.MaxBy(p => p.Timestamp)!.UsdPerHour);

        // Without subnets the box goes to the default VPC, in a zone where some allowed type has a spot price.
        var placements = inputs.Placements.Count > 0
            ? inputs.Placements
            : [.. latest.Keys.Select(k => k.AvailabilityZone).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Select(z => new LaunchPlacement(z))];

        if (placements.Count == 0)
        {
            passedOver.AddRange(runnable.Select(t => new PassedOver(t, null, InstanceLifecycle.Spot, $"{t}: EC2 reports no spot price for it in any zone of the region")));
        }

        var spot = new List<(LaunchCandidate Candidate, int Preference, int PlacementIndex)>();
        foreach (var type in runnable)
        {
            for (var i = 0; i < placements.Count; i++)
            {
                var placement = placements[i];
                if (!latest.TryGetValue((type, placement.AvailabilityZone), out var price))
                {
                    passedOver.Add(new PassedOver(type, placement.AvailabilityZone, InstanceLifecycle.Spot, $"{type} in {placement}: EC2 reports no spot price for it there (not offered in that zone)"));
                }
                else if (inputs.MaxPricePerHour is { } max && price > max)
                {
                    passedOver.Add(new PassedOver(type, placement.AvailabilityZone, InstanceLifecycle.Spot, $"{type} in {placement}: spot {Usd.PerHour(price)} is over the max price {Usd.PerHour(max)}"));
                }
                else
                {
                    spot.Add((new LaunchCandidate(type, placement.AvailabilityZone, placement.SubnetId, InstanceLifecycle.Spot, price), preference[type], i));
                }
            }
        }

        var candidates = spot
            .OrderBy(s => inputs.Interrupted?.Overlap(s.Candidate) ?? 0)
            .ThenBy(s => s.Candidate.SpotPricePerHour)
            .ThenBy(s => s.Preference)
            .ThenBy(s => s.Candidate.AvailabilityZone, StringComparer.Ordinal)
            .ThenBy(s => s.PlacementIndex)
            .Select(s => s.Candidate)
            .ToList();

        if (inputs.OnDemandFallback)
        {
            foreach (var type in runnable)
            {
                if (placements.Count == 0)
                {
                    candidates.Add(new LaunchCandidate(type, null, null, InstanceLifecycle.OnDemand, null));
                    continue;
                }

                candidates.AddRange(placements.Select(p => new LaunchCandidate(type, p.AvailabilityZone, p.SubnetId, InstanceLifecycle.OnDemand, null)));
            }
        }

        var cap = inputs.MaxPricePerHour is { } m
            ? $"max price {Usd.PerHour(m)}"
            : "no max price (EC2 caps a spot price at the on-demand price)";
        return new CandidatePlan(candidates, passedOver, cap, inputs.OnDemandFallback);
    }

    /// <summary>EC2's spelling, as in the API and the console.</summary>
    public static string Name(CpuArchitecture architecture) => architecture switch
    {
        CpuArchitecture.X64 => "x86_64",
        CpuArchitecture.Arm64 => "arm64",
        _ => architecture.ToString(),
    };
}

/// <summary>Prices as people read them: <c>$0.0412/h</c>, at least two decimals, no trailing zeros beyond.</summary>
internal static class Usd
{
    public static string PerHour(decimal value) => "$" + value.ToString("0.00##########", CultureInfo.InvariantCulture) + "/h";
}
