using System.Collections.Concurrent;
using System.Globalization;

namespace SpotDevBox.Core.Savings;

/// <summary>
/// Every list price spotdevbox knows, in one place: overrides from the configuration first, then the tables
/// in <c>folders</c> in order (refreshed before shipped), row by row, so a refreshed table wins for what it
/// holds and the shipped one still answers for the rest. A price found nowhere is a
/// <see cref="PriceQuote.Unknown"/> that names the command or the setting that supplies it.
/// </summary>
/// <remarks>Each table is read (line by line) on its first use and kept; a missing file is simply not there.</remarks>
public sealed class PriceBook : IOnDemandPrices, IStoragePrices, ISpotAdvisor
{
    public const string AdvisorFileName = "spot-advisor.csv";

    private static readonly string[] OnDemandColumns = ["instance_type", "usd_per_hour"];
    private static readonly string[] StorageColumns = ["item", "usd"];
    private static readonly string[] AdvisorColumns = ["region", "os", "instance_type", "savings_pct", "interruption_band"];

    private readonly IReadOnlyList<PriceTableFolder> _folders;
    private readonly Dictionary<(string Region, string Key), (decimal Usd, string Setting)> _onDemand = [];
    private readonly Dictionary<(string Region, string Key), (decimal Usd, string Setting)> _storage = [];
    private readonly ConcurrentDictionary<string, Lazy<PriceTable?>> _tables = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<AdvisorTable?>> _advisors = new(StringComparer.Ordinal);

    /// <param name="folders">Where tables are looked for, the first that has a price winning.</param>
    /// <param name="options">Overrides; they win over every table. Validated by <see cref="PriceOptionsValidator"/> at start.</param>
    public PriceBook(IReadOnlyList<PriceTableFolder> folders, PriceOptions options)
    {
        ArgumentNullException.ThrowIfNull(folders);
        ArgumentNullException.ThrowIfNull(options);
        _folders = [.. folders];
        Collect(options.OnDemand, "OnDemand", _onDemand);
        Collect(options.Storage, "Storage", _storage);
    }

    public static string OnDemandFileName(string region) => $"ondemand-linux-{region}.csv";

    public static string StorageFileName(string region) => $"storage-{region}.csv";

    public PriceQuote PerHour(string region, string instanceType)
    {
        ArgumentNullException.ThrowIfNull(region);
        ArgumentNullException.ThrowIfNull(instanceType);
        region = Normalize(region);
        var type = Normalize(instanceType);
        var setting = $"{PriceOptions.SectionName}:OnDemand:{region}:{type}";
        if (!StorageItems.IsRegion(region))
        {
            return PriceQuote.Unknown($"'{region}' is not an AWS region name (e.g. us-east-1)");
        }

        if (_onDemand.TryGetValue((region, type), out var set))
        {
            return new PriceQuote(set.Usd, $"{set.Setting} (configuration)");
        }

        var tables = Tables(OnDemandFileName(region), OnDemandColumns);
        foreach (var table in tables)
        {
            if (table.Prices.TryGetValue(type, out var usd))
            {
                return new PriceQuote(usd, table.Describe());
            }
        }

        return PriceQuote.Unknown(tables.Count == 0
            ? $"no on-demand price table for region {region}: run 'spotdevbox prices refresh --region {region}', or set {setting} (USD per hour)"
            : $"no on-demand Linux price for {type} in {region} in {string.Join(" or ", tables.Select(t => t.File))}: check the instance type's name, run 'spotdevbox prices refresh --region {region}' for a newer table, or set {setting} (USD per hour)");
    }

    public PriceQuote EbsPerGbMonth(string region, string volumeType)
    {
        ArgumentNullException.ThrowIfNull(volumeType);
        return Item(region, StorageItems.EbsStorage(volumeType));
    }

    public PriceQuote S3StandardPerGbMonth(string region) => Item(region, StorageItems.S3Standard);

    /// <summary>Any <see cref="StorageItems"/> item, in its unit (<see cref="StorageItems.UnitOf"/>).</summary>
    public PriceQuote Item(string region, string item)
    {
        ArgumentNullException.ThrowIfNull(region);
        ArgumentNullException.ThrowIfNull(item);
        region = Normalize(region);
        item = Normalize(item);
        var setting = $"{PriceOptions.SectionName}:Storage:{region}:{item}";
        var unit = $"USD per {StorageItems.UnitOf(item)}";
        if (!StorageItems.IsRegion(region))
        {
            return PriceQuote.Unknown($"'{region}' is not an AWS region name (e.g. us-east-1)");
        }

        if (!StorageItems.IsKnown(item))
        {
            return PriceQuote.Unknown($"'{item}' is not a storage price; known items: {string.Join(", ", StorageItems.All)}");
        }

        if (_storage.TryGetValue((region, item), out var set))
        {
            return new PriceQuote(set.Usd, $"{set.Setting} (configuration)");
        }

        var tables = Tables(StorageFileName(region), StorageColumns);
        foreach (var table in tables)
        {
            if (table.Prices.TryGetValue(item, out var usd))
            {
                return new PriceQuote(usd, table.Describe());
            }
        }

        var where = tables.Count == 0 ? $"no storage price table for region {region}" : $"no {item} price in {string.Join(" or ", tables.Select(t => t.File))}";
        return PriceQuote.Unknown(item.StartsWith("ebs_", StringComparison.Ordinal)
            ? $"{where}: run 'spotdevbox prices refresh --region {region}' (EBS prices come with the EC2 offer), or set {setting} ({unit})"
            : $"{where}: set {setting} ({unit}); 'prices refresh' reads the EC2 offer, which has no S3 prices");
    }

    public SpotAdvice? Find(string region, string instanceType)
    {
        ArgumentNullException.ThrowIfNull(region);
        ArgumentNullException.ThrowIfNull(instanceType);
        foreach (var folder in _folders)
        {
            var path = Path.Combine(folder.Path, AdvisorFileName);
            var table = _advisors.GetOrAdd(path, p => new Lazy<AdvisorTable?>(() => LoadAdvisor(p, folder))).Value;
            if (table is not null && table.Rows.TryGetValue((Normalize(region), Normalize(instanceType)), out var row))
            {
                return new SpotAdvice(Normalize(region), Normalize(instanceType), row.SavingsPercent, row.Band, table.AsOf, table.Describe());
            }
        }

        return null;
    }

    private static string Normalize(string text) => text.Trim().ToLowerInvariant();

    private static void Collect(Dictionary<string, Dictionary<string, string>> section, string name, Dictionary<(string, string), (decimal, string)> into)
    {
        foreach (var (region, prices) in section)
        {
            foreach (var (key, text) in prices ?? [])
            {
                var setting = $"{PriceOptions.SectionName}:{name}:{region}:{key}";
                if (!PriceTableFile.TryParseUsd(text, out var usd) || usd < 0)
                {
                    throw new ArgumentException($"{setting} must be a price in USD of at least 0, got '{text}'");
                }

                into[(Normalize(region), Normalize(key))] = (usd, setting);
            }
        }
    }

    /// <summary>The folders' tables of that name that exist, in precedence order.</summary>
    private List<PriceTable> Tables(string fileName, string[] columns)
    {
        var found = new List<PriceTable>();
        foreach (var folder in _folders)
        {
            var path = Path.Combine(folder.Path, fileName);
            if (_tables.GetOrAdd(path, p => new Lazy<PriceTable?>(() => Load(p, folder, fileName, columns))).Value is { } table)
            {
                found.Add(table);
            }
        }

        return found;
    }

    private static PriceTable? Load(string path, PriceTableFolder folder, string fileName, string[] columns)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        var prices = new Dictionary<string, decimal>(StringComparer.OrdinalIgnoreCase);
        var source = PriceTableFile.Read(path, columns, (row, line) =>
        {
            var price = PriceTableFile.ParseUsd(row[1], path, line);
            if (price < 0)
            {
                throw new InvalidDataException($"{path} line {line}: a negative price, {row[1]}");
            }

            // A key twice is a broken table: refuse it rather than pick one.
            if (!prices.TryAdd(row[0], price))
            {
                throw new InvalidDataException($"{path} line {line}: {row[0]} appears twice");
            }
        });
        return new PriceTable($"{folder.DisplayName}/{fileName}", source, prices);
    }

    private static AdvisorTable? LoadAdvisor(string path, PriceTableFolder folder)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        var rows = new Dictionary<(string, string), (int, string)>();
        var source = PriceTableFile.Read(path, AdvisorColumns, (row, line) =>
        {
            // Only Linux: the estimate (and spotdevbox) is about Linux boxes; Windows rows are skipped as they stream past.
            if (!string.Equals(row[1], "Linux", StringComparison.OrdinalIgnoreCase))
            {
                return;
            }

            if (!int.TryParse(row[3], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var savings) || savings is < -1000 or > 100)
            {
                throw new InvalidDataException($"{path} line {line}: '{row[3]}' is not a saving in percent");
            }

            rows[(Normalize(row[0]), Normalize(row[2]))] = (savings, row[4]);
        });
        var asOf = source.AsOf ?? throw new InvalidDataException($"{path}: its '#' header names no date (yyyy-MM-dd), so its advice could not say how old it is");
        return new AdvisorTable($"{folder.DisplayName}/{AdvisorFileName}", source, asOf, rows);
    }

    private sealed record PriceTable(string File, PriceTableSource Source, Dictionary<string, decimal> Prices)
    {
        public string Describe() => Source.Describe(File);
    }

    private sealed record AdvisorTable(string File, PriceTableSource Source, DateOnly AsOf, Dictionary<(string Region, string Type), (int SavingsPercent, string Band)> Rows)
    {
        public string Describe() => Source.Describe(File);
    }
}
