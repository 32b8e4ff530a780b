using System.Globalization;

namespace SpotDevBox.Core.Savings;

/// <summary>The offer is not an EC2 bulk offer CSV for the region asked for: wrong file or URL, nothing written.</summary>
public sealed class OfferFormatException(string message) : Exception(message);

/// <summary>A type (or storage item) the offer gave two different prices for, after every selection rule: left out of the table.</summary>
public sealed record OfferConflict(string Key, IReadOnlyList<decimal> Prices);

/// <summary>What one EC2 offer file holds for one region: Linux on-demand prices per hour and EBS storage per GB-month.</summary>
/// <param name="PublicationDate">The offer's "Publication Date" line (e.g. 2026-07-01T12:00:00Z); null when it has none.</param>
/// <param name="Rows">Data rows read (the metadata lines and the header not counted).</param>
public sealed record OfferPrices(
    string Region,
    string? PublicationDate,
    string? Version,
    IReadOnlyDictionary<string, decimal> Instances,
    IReadOnlyDictionary<string, decimal> Storage,
    IReadOnlyList<OfferConflict> Conflicts,
    long Rows);

/// <summary>
/// Reads AWS's public bulk offer CSV for EC2 in one region
/// (<c>https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonEC2/current/REGION/index.csv</c>) as a stream.
/// </summary>
/// <remarks>
/// The file: a few metadata lines (<c>"FormatVersion","v1.0"</c>, <c>"Disclaimer",...</c>,
/// <c>"Publication Date",...</c>, <c>"Version",...</c>, <c>"OfferCode","AmazonEC2"</c>), then the header row
/// (starting <c>"SKU"</c>), then one row per SKU and term. Selected, by column name:
/// <list type="bullet">
/// <item>an instance price: <c>TermType = OnDemand</c>, <c>Product Family = Compute Instance</c> (or
/// <c>Compute Instance (bare metal)</c>), <c>Operating System = Linux</c>, <c>Tenancy = Shared</c>,
/// <c>Pre Installed S/W = NA</c>, <c>CapacityStatus = Used</c>, <c>Unit = Hrs</c>;</item>
/// <item>EBS storage: <c>TermType = OnDemand</c>, <c>Product Family = Storage</c>, a <c>Volume API Name</c>
/// (gp3, gp2, io1, io2, st1, sc1, standard), <c>Unit = GB-Mo</c>; snapshots: <c>Product Family = Storage Snapshot</c>
/// with a usage type ending in <c>EBS:SnapshotUsage</c>, <c>Unit = GB-Mo</c>;</item>
/// <item>for both, where the offer has these columns: <c>Currency = USD</c>, <c>Location Type = AWS Region</c>
/// (a region's offer also lists its Local Zones and Wavelength Zones, at other prices), <c>Region Code</c> = the region,
/// and <c>MarketOption = OnDemand</c>.</item>
/// </list>
/// A type that still has two different prices is left out and reported (<see cref="OfferConflict"/>): the table
/// says nothing rather than a price that may be wrong. The same price twice counts once.
/// </remarks>
public static class Ec2Offer
{
    public static Uri UrlFor(string region) =>
        new($"https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonEC2/current/{region}/index.csv");

    private static readonly string[] Required =
    [
        "TermType", "Product Family", "Unit", "PricePerUnit", "Instance Type", "Operating System", "Tenancy", "Pre Installed S/W", "CapacityStatus",
    ];

    private static readonly string[] Optional = ["Currency", "Location Type", "Region Code", "MarketOption", "Volume API Name", "usageType"];

    /// <summary>Reads the whole offer (streaming) and returns the selected prices.</summary>
    /// <param name="onRows">Called with the rows read so far every <paramref name="reportEvery"/> rows and once at the end.</param>
    /// <exception cref="OfferFormatException">Not an EC2 offer, a column is missing, or nothing for the region.</exception>
    /// <exception cref="InvalidDataException">The file breaks off inside a quoted field, or a selected price is not a number.</exception>
    public static async Task<OfferPrices> ReadAsync(
        TextReader reader,
        string region,
        Action<long>? onRows,
        CancellationToken cancellationToken,
        int reportEvery = 50_000)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentException.ThrowIfNullOrWhiteSpace(region);
        var csv = new CsvRecordReader(reader);
        var fields = new List<string>();
        var metadata = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        Dictionary<string, int>? columns = null;
        while (columns is null)
        {
            if (!await csv.ReadAsync(fields, null, cancellationToken))
            {
                throw new OfferFormatException("the offer ends before its header row (\"SKU\",\"OfferTermCode\",...): not an EC2 bulk offer CSV");
            }

            if (fields is ["SKU", ..])
            {
                columns = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
                for (var i = 0; i < fields.Count; i++)
                {
                    columns.TryAdd(fields[i].Trim(), i);
                }
            }
            else if (fields.Count == 2 && metadata.Count < 20)
            {
                metadata[fields[0].Trim()] = fields[1].Trim();
            }
            else if (fields is not [""])
            {
                throw new OfferFormatException($"line {csv.RecordLine} of the offer is neither a metadata line (\"Name\",\"value\") nor the header row starting with \"SKU\": not an EC2 bulk offer CSV");
            }
        }

        if (metadata.TryGetValue("OfferCode", out var code) && !string.Equals(code, "AmazonEC2", StringComparison.Ordinal))
        {
            throw new OfferFormatException($"the offer is for {code}, not AmazonEC2");
        }

        var missing = Required.Where(c => !columns.ContainsKey(c)).ToList();
        if (missing.Count > 0)
        {
            throw new OfferFormatException($"the offer's header has no column {string.Join(", ", missing.Select(m => $"\"{m}\""))}: not an EC2 bulk offer CSV");
        }

        var col = Required.Concat(Optional).ToDictionary(c => c, c => columns.GetValueOrDefault(c, -1), StringComparer.Ordinal);
        var width = columns.Values.Max() + 1;
        var keep = new bool[width];
        foreach (var i in col.Values.Where(i => i >= 0))
        {
            keep[i] = true;
        }

        var instances = new Dictionary<string, List<decimal>>(StringComparer.Ordinal);
        var storage = new Dictionary<string, List<decimal>>(StringComparer.Ordinal);
        var otherRegions = new SortedSet<string>(StringComparer.Ordinal);
        long rows = 0;
        while (await csv.ReadAsync(fields, keep, cancellationToken))
        {
            if (fields is [""])
            {
                continue;
            }

            rows++;
            if (onRows is not null && rows % reportEvery == 0)
            {
                onRows(rows);
            }

            string F(string name) => col[name] is var i && i >= 0 && i < fields.Count ? fields[i].Trim() : "";
            bool Is(string name, string value) => string.Equals(F(name), value, StringComparison.OrdinalIgnoreCase);
            bool IsOrAbsent(string name, string value) => F(name) is var v && (v.Length == 0 || string.Equals(v, value, StringComparison.OrdinalIgnoreCase));

            if (!Is("TermType", "OnDemand") || !IsOrAbsent("Currency", "USD") || !IsOrAbsent("MarketOption", "OnDemand") || !IsOrAbsent("Location Type", "AWS Region"))
            {
                continue;
            }

            if (!IsOrAbsent("Region Code", region))
            {
                otherRegions.Add(F("Region Code"));
                continue;
            }

            var family = F("Product Family");
            if ((string.Equals(family, "Compute Instance", StringComparison.OrdinalIgnoreCase) || string.Equals(family, "Compute Instance (bare metal)", StringComparison.OrdinalIgnoreCase))
                && Is("Operating System", "Linux") && Is("Tenancy", "Shared") && Is("Pre Installed S/W", "NA") && Is("CapacityStatus", "Used") && Is("Unit", "Hrs")
                && F("Instance Type").Length > 0)
            {
                Add(instances, F("Instance Type").ToLowerInvariant(), Price(F("PricePerUnit"), csv.RecordLine));
            }
            else if (string.Equals(family, "Storage", StringComparison.OrdinalIgnoreCase) && Is("Unit", "GB-Mo")
                && StorageItems.VolumeTypes.Contains(F("Volume API Name").ToLowerInvariant(), StringComparer.Ordinal))
            {
                Add(storage, StorageItems.EbsStorage(F("Volume API Name")), Price(F("PricePerUnit"), csv.RecordLine));
            }
            else if (string.Equals(family, "Storage Snapshot", StringComparison.OrdinalIgnoreCase) && Is("Unit", "GB-Mo")
                && F("usageType").EndsWith("EBS:SnapshotUsage", StringComparison.OrdinalIgnoreCase))
            {
                Add(storage, StorageItems.EbsSnapshot, Price(F("PricePerUnit"), csv.RecordLine));
            }
        }

        onRows?.Invoke(rows);
        if (instances.Count == 0)
        {
            var hint = otherRegions.Count > 0 ? $" (its rows are for {string.Join(", ", otherRegions.Take(5))})" : "";
            throw new OfferFormatException($"the offer holds no Linux on-demand instance price for {region}{hint}");
        }

        var conflicts = instances.Concat(storage)
            .Where(kv => kv.Value.Count > 1)
            .Select(kv => new OfferConflict(kv.Key, [.. kv.Value.Order()]))
            .OrderBy(c => c.Key, StringComparer.Ordinal)
            .ToList();
        return new OfferPrices(
            region,
            metadata.GetValueOrDefault("Publication Date"),
            metadata.GetValueOrDefault("Version"),
            Single(instances),
            Single(storage),
            conflicts,
            rows);
    }

    private static decimal Price(string text, long line) =>
        decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new InvalidDataException($"line {line} of the offer: PricePerUnit '{text}' is not a price");

    private static void Add(Dictionary<string, List<decimal>> into, string key, decimal price)
    {
        if (!into.TryGetValue(key, out var prices))
        {
            into[key] = prices = [];
        }

        if (!prices.Contains(price))
        {
            prices.Add(price);
        }
    }

    private static SortedDictionary<string, decimal> Single(Dictionary<string, List<decimal>> prices) =>
        new(prices.Where(kv => kv.Value.Count == 1).ToDictionary(kv => kv.Key, kv => kv.Value[0], StringComparer.Ordinal), StringComparer.Ordinal);
}
