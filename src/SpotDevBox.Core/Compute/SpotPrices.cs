namespace SpotDevBox.Core.Compute;

/// <summary>One spot price change: from <paramref name="Timestamp"/> (UTC) on, the placement costs <paramref name="UsdPerHour"/>.</summary>
public sealed record SpotPricePoint(
    string InstanceType,
    string AvailabilityZone,
    string ProductDescription,
    decimal UsdPerHour,
    DateTimeOffset Timestamp);

/// <summary>What DescribeSpotPriceHistory is asked for.</summary>
/// <param name="ProductDescription">e.g. <c>Linux/UNIX</c>; EC2 keeps separate prices per product.</param>
/// <param name="Since">Start of the range; EC2 adds the last change before it. "Now" gives only the price in effect.</param>
/// <param name="Until">End of the range; null for up to now.</param>
/// <param name="AvailabilityZones">Null or empty for every zone of the region.</param>
public sealed record SpotPriceQuery(
    IReadOnlyCollection<string> InstanceTypes,
    string ProductDescription,
    DateTimeOffset Since,
    DateTimeOffset? Until = null,
    IReadOnlyCollection<string>? AvailabilityZones = null)
{
    public const string LinuxUnix = "Linux/UNIX";
}

/// <summary>The price changes EC2 returned, oldest first.</summary>
public sealed record SpotPriceHistory(IReadOnlyList<SpotPricePoint> Points)
{
    /// <summary>The newest point per (instance type, availability zone), cheapest first (ties by type, then zone).</summary>
    public IReadOnlyList<SpotPricePoint> Latest =>
    [
        .. Points
            .GroupBy(p => (p.InstanceType, p.AvailabilityZone))
            .Select(g => g.MaxBy(p => p.Timestamp)!)
            .OrderBy(p => p.UsdPerHour)
            .ThenBy(p => p.InstanceType, StringComparer.Ordinal)
            .ThenBy(p => p.AvailabilityZone, StringComparer.Ordinal),
    ];
}
