using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;

namespace SpotDevBox.Core.Savings;

/// <summary>
/// One data line of the Spot Instance data feed. <see cref="Charge"/> is for the instance-hour that starts at
/// <see cref="Timestamp"/> (prorated for a partial hour under per-second billing).
/// </summary>
/// <param name="UsageRegion">The usage type's region prefix ("USE1", "EUC1"), "" when it has none (older us-east-1 lines).</param>
/// <param name="InstanceType">From the usage type; a bare "SpotUsage" is m1.small, as AWS documents.</param>
public sealed record SpotFeedRecord(
    DateTimeOffset Timestamp,
    string UsageType,
    string UsageRegion,
    string InstanceType,
    string Operation,
    string InstanceId,
    string BidId,
    decimal MaxPrice,
    decimal MarketPrice,
    decimal Charge,
    string Version)
{
    /// <summary>The UTC clock hour the line is attributed to: its timestamp, rounded down to the hour.</summary>
    public DateTimeOffset Hour => SpotFeed.HourOf(Timestamp);
}

/// <summary>A feed file, from its name: <c>{account}.{YYYY}-{MM}-{DD}-{HH}.{n}.{unique-id}.gz</c>.</summary>
public sealed partial record SpotFeedFile(string Key, string AccountId, DateTimeOffset Hour, int Sequence, string UniqueId)
{
    /// <summary>Parses the last segment of <paramref name="key"/>; false for anything that is not a feed file's name.</summary>
    public static bool TryParse(string key, [NotNullWhen(true)] out SpotFeedFile? file)
    {
        ArgumentNullException.ThrowIfNull(key);
        file = null;
        var name = key[(key.LastIndexOf('/') + 1)..];
        var m = NamePattern().Match(name);
        if (!m.Success
            || !DateTime.TryParseExact(m.Groups["hour"].Value, "yyyy-MM-dd-HH", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var hour)
            || !int.TryParse(m.Groups["n"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var sequence))
        {
            return false;
        }

        file = new SpotFeedFile(key, m.Groups["account"].Value, new DateTimeOffset(hour, TimeSpan.Zero), sequence, m.Groups["id"].Value);
        return true;
    }

    [GeneratedRegex(@"^(?<account>\d+)\.(?<hour>\d{4}-\d{2}-\d{2}-\d{2})\.(?<n>\d+)\.(?<id>[^./]+)\.gz$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex NamePattern();
}

/// <summary>A feed file that cannot be read as the documented format; the message names the file and the line.</summary>
public sealed class SpotFeedFormatException : FormatException
{
    public SpotFeedFormatException()
    {
    }

    public SpotFeedFormatException(string message)
        : base(message)
    {
    }

    public SpotFeedFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Reads Spot Instance data feed files: gzip of a tab-separated text with '#' comment lines.</summary>
public static class SpotFeed
{
    /// <summary>The documented column order, used until (or unless) a <c>#Fields:</c> line says otherwise.</summary>
    public static readonly IReadOnlyList<string> DocumentedFields =
        ["Timestamp", "UsageType", "Operation", "InstanceID", "MyBidID", "MyMaxPrice", "MarketPrice", "Charge", "Version"];

    public static DateTimeOffset HourOf(DateTimeOffset time)
    {
        var utc = time.ToUniversalTime();
        return new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, TimeSpan.Zero);
    }

    /// <summary>
    /// The data lines of one gzip-compressed feed file, read line by line as they are decompressed.
    /// Throws <see cref="SpotFeedFormatException"/> naming <paramref name="name"/> and the line for the first line that
    /// does not follow the format, or when the content is not gzip.
    /// </summary>
    public static async IAsyncEnumerable<SpotFeedRecord> ReadAsync(Stream compressed, string name, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(compressed);
        ArgumentNullException.ThrowIfNull(name);
        await using var gzip = new GZipStream(compressed, CompressionMode.Decompress, leaveOpen: true);
        using var reader = new StreamReader(gzip, System.Text.Encoding.UTF8);
        var columns = Columns.Documented;
        var number = 0L;
        while (true)
        {
            string? line;
            try
            {
                line = await reader.ReadLineAsync(cancellationToken);
            }
            catch (InvalidDataException e)
            {
                throw new SpotFeedFormatException($"{name}: not a readable gzip file after line {number} ({e.Message})", e);
            }

            if (line is null)
            {
                yield break;
            }

            number++;
            if (line.Length == 0)
            {
                continue;
            }

            if (line[0] == '#')
            {
                if (line.StartsWith("#Fields:", StringComparison.Ordinal))
                {
                    columns = Columns.FromHeader(line["#Fields:".Length..], name, number);
                }

                continue;
            }

            yield return ParseLine(line, columns, name, number);
        }
    }

    /// <summary>One data line in the documented column order (for tests and callers that have a single line).</summary>
    public static SpotFeedRecord ParseLine(string line, string name, long lineNumber) => ParseLine(line, Columns.Documented, name, lineNumber);

    private static SpotFeedRecord ParseLine(string line, Columns columns, string name, long lineNumber)
    {
        var fields = line.Split('\t');
        if (fields.Length != columns.Count)
        {
            throw Error(name, lineNumber, $"expected {columns.Count} tab-separated fields ({string.Join(' ', columns.Names)}), found {fields.Length}");
        }

        string Field(string column) => fields[columns.IndexOf(column)].Trim();

        var timestampText = Field("Timestamp");
        if (!DateTimeOffset.TryParseExact(timestampText, "yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var timestamp))
        {
            throw Error(name, lineNumber, $"Timestamp '{timestampText}' is not of the form 2026-11-27 09:00:00 UTC");
        }

        var usageType = Field("UsageType");
        var (region, instanceType) = ParseUsageType(usageType)
            ?? throw Error(name, lineNumber, $"UsageType '{usageType}' is not SpotUsage:<type> or <REGION>-SpotUsage:<type>");
        var instanceId = Field("InstanceID");
        if (!instanceId.StartsWith("i-", StringComparison.Ordinal) || instanceId.Length < 3)
        {
            throw Error(name, lineNumber, $"InstanceID '{instanceId}' is not an instance id (i-...)");
        }

        return new SpotFeedRecord(
            timestamp,
            usageType,
            region,
            instanceType,
            Field("Operation"),
            instanceId,
            Field("MyBidID"),
            Amount("MyMaxPrice"),
            Amount("MarketPrice"),
            Amount("Charge"),
            Field("Version"));

        decimal Amount(string column)
        {
            var text = Field(column);
            var parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts is [var number, "USD"]
                && decimal.TryParse(number, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
            {
                return value;
            }

            throw Error(name, lineNumber, $"{column} '{text}' is not an amount in USD (e.g. 0.0416 USD)");
        }
    }

    /// <summary>"USE1-SpotUsage:m7i.large" → ("USE1", "m7i.large"); "SpotUsage:m7i.large" → ("", "m7i.large"); "SpotUsage" → ("", "m1.small").</summary>
    internal static (string Region, string InstanceType)? ParseUsageType(string usageType)
    {
        const string Spot = "SpotUsage";
        var dash = usageType.IndexOf('-', StringComparison.Ordinal);
        var region = "";
        var rest = usageType;
        if (!usageType.StartsWith(Spot, StringComparison.Ordinal))
        {
            if (dash <= 0)
            {
                return null;
            }

            region = usageType[..dash];
            rest = usageType[(dash + 1)..];
        }

        if (rest == Spot)
        {
            return (region, "m1.small");
        }

        if (!rest.StartsWith(Spot + ":", StringComparison.Ordinal) || rest.Length == Spot.Length + 1)
        {
            return null;
        }

        return (region, rest[(Spot.Length + 1)..]);
    }

    private static SpotFeedFormatException Error(string name, long lineNumber, string reason) =>
        new(string.Create(CultureInfo.InvariantCulture, $"{name} line {lineNumber}: {reason}"));

    private sealed class Columns(IReadOnlyList<string> names)
    {
        public static readonly Columns Documented = new(DocumentedFields);

        public IReadOnlyList<string> Names { get; } = names;

        public int Count => Names.Count;

        public int IndexOf(string column)
        {
            for (var i = 0; i < Names.Count; i++)
            {
                if (string.Equals(Names[i], column, StringComparison.OrdinalIgnoreCase))
                {
                    return i;
                }
            }

            throw new InvalidOperationException("checked in FromHeader: " + column);
        }

        public static Columns FromHeader(string header, string name, long lineNumber)
        {
            var names = header.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            var missing = DocumentedFields.Where(f => !names.Contains(f, StringComparer.OrdinalIgnoreCase)).ToList();
            if (missing.Count > 0)
            {
                throw Error(name, lineNumber, $"#Fields lacks {string.Join(", ", missing)}");
            }

            return new Columns(names);
        }
    }
}

/// <summary>The ledger's spot charge of one instance in one UTC clock hour; null when the ledger has no price for some of its seconds.</summary>
public sealed record LedgerHour(DateTimeOffset Hour, decimal? Usd);

/// <summary>Splits a ledger entry's spot charge into UTC clock hours, by the rules in docs/savings.md ("Reconciliation with the Spot data feed").</summary>
public static class HourlySpotCost
{
    private const decimal SecondsPerHour = 3600m;
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);
    private static readonly TimeSpan Minimum = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The hours of a spot entry's session that fall in [<paramref name="from"/>, <paramref name="to"/>), oldest first;
    /// nothing for an on-demand entry (the spot feed does not bill it).
    /// </summary>
    public static IReadOnlyList<LedgerHour> Attribute(LedgerEntry entry, DateTimeOffset from, DateTimeOffset to)
    {
        ArgumentNullException.ThrowIfNull(entry);
        // Whole UTC seconds, as the ledger counts them (EC2 bills per second): a fraction of a second is dropped.
        var sessionStart = WholeSecond(entry.Start);
        var sessionEnd = WholeSecond(entry.End);
        if (!string.Equals(entry.Lifecycle, "spot", StringComparison.Ordinal) || sessionEnd <= sessionStart)
        {
            return [];
        }

        var segments = entry.SpotSegments
            .Select(g => new PriceSegment(WholeSecond(g.From), WholeSecond(g.To), g.UsdPerHour))
            .Where(g => g.To > g.From)
            .OrderBy(g => g.From)
            .ToList();
        var length = sessionEnd - sessionStart;
        // EC2 reclaimed it within its first hour: AWS charges nothing, for any hour it touched.
        var waived = entry.InterruptedByEc2 && length < Hour;
        var hours = new List<LedgerHour>();
        var first = true;
        for (var hour = SpotFeed.HourOf(sessionStart); hour < sessionEnd; hour += Hour, first = false)
        {
            if (hour < SpotFeed.HourOf(from) || hour >= to)
            {
                continue;
            }

            if (waived)
            {
                hours.Add(new LedgerHour(hour, 0m));
                continue;
            }

            var start = Max(hour, sessionStart);
            var end = Min(hour + Hour, sessionEnd);
            decimal? amount = 0m;
            var covered = TimeSpan.Zero;
            foreach (var segment in segments)
            {
                var s = Max(start, segment.From);
                var e = Min(end, segment.To);
                if (e > s)
                {
                    amount += segment.UsdPerHour * Seconds(e - s) / SecondsPerHour;
                    covered += e - s;
                }
            }

            if (covered < end - start)
            {
                // A second the ledger has no price for: say so rather than guess.
                amount = null;
            }
            else if (first && length < Minimum)
            {
                // Billed as 60 s: the seconds after the end up to 60 s, at the prices of those seconds, all in the first hour.
                amount += StepIntegral(segments, sessionEnd, sessionStart + Minimum);
            }

            hours.Add(new LedgerHour(hour, amount));
        }

        return hours;
    }

    /// <summary>
    /// USD over [from, to) with the price as a step function: each segment's price holds from its start until the
    /// next segment's, the last one's past its end (no later change is known). Null when no price is in effect at <paramref name="from"/>.
    /// </summary>
    private static decimal? StepIntegral(List<PriceSegment> segments, DateTimeOffset from, DateTimeOffset to)
    {
        if (segments.Count == 0 || segments[0].From > from)
        {
            return null;
        }

        var usd = 0m;
        for (var i = 0; i < segments.Count; i++)
        {
            var s = Max(from, segments[i].From);
            var e = Min(to, i + 1 < segments.Count ? segments[i + 1].From : DateTimeOffset.MaxValue);
            if (e > s)
            {
                usd += segments[i].UsdPerHour * Seconds(e - s) / SecondsPerHour;
            }
        }

        return usd;
    }

    private static DateTimeOffset WholeSecond(DateTimeOffset at) => new(at.UtcTicks - (at.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);

    private static decimal Seconds(TimeSpan span) => span.Ticks / TimeSpan.TicksPerSecond;

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}

public enum ReconciliationStatus
{
    /// <summary>Both sides, within the tolerance.</summary>
    Match,
    /// <summary>Both sides, apart by more than the tolerance.</summary>
    Differs,
    /// <summary>The ledger has the hour, the feed has no line for it.</summary>
    LedgerOnly,
    /// <summary>The feed charges an instance the ledger knows in an hour its session does not cover.</summary>
    FeedOnly,
    /// <summary>The feed charges an instance the ledger does not know (not a box, or a session the ledger never recorded).</summary>
    NotInLedger,
    /// <summary>The ledger has no price for some seconds of the hour.</summary>
    Unpriced,
}

/// <summary>One instance-hour: the ledger's amount, the feed's charge, and ledger minus feed (USD).</summary>
public sealed record ReconciliationRow(
    string InstanceId,
    string? Box,
    DateTimeOffset Hour,
    decimal? LedgerUsd,
    decimal? FeedUsd,
    decimal? DifferenceUsd,
    ReconciliationStatus Status,
    bool Exceeds);

public sealed record ReconciliationTotals(
    decimal LedgerUsd,
    decimal FeedUsd,
    decimal DifferenceUsd,
    decimal NotInLedgerUsd,
    int Match,
    int Differs,
    int LedgerOnly,
    int FeedOnly,
    int NotInLedger,
    int Unpriced,
    int Exceeding);

public sealed record ReconciliationReport(IReadOnlyList<ReconciliationRow> Rows, ReconciliationTotals Totals, decimal ToleranceUsd)
{
    /// <summary>True when no row is apart by more than the tolerance (and no hour is unpriced).</summary>
    public bool AllMatched => Totals.Exceeding == 0;
}

/// <summary>Matches the ledger's spot cost with the feed's charges per (instance, UTC hour).</summary>
public static class FeedReconciliation
{
    /// <summary>Ledger amounts are rounded to this many decimals (a millionth of a dollar) before they are compared.</summary>
    public const int Decimals = 6;

    /// <summary>The default per-row tolerance: the feed states charges to a ten-thousandth of a dollar or finer.</summary>
    public const decimal DefaultToleranceUsd = 0.0001m;

    /// <param name="ledger">Entries overlapping the window, of every box (so that a feed line of another box is not taken for an unknown instance).</param>
    /// <param name="feed">The feed's lines; those outside [<paramref name="from"/>, <paramref name="to"/>) are ignored; several lines of one instance-hour are added up.</param>
    /// <param name="box">Only this box's instances; feed lines of other boxes and of instances the ledger does not know are left out.</param>
    public static ReconciliationReport Reconcile(
        IEnumerable<LedgerEntry> ledger,
        IEnumerable<SpotFeedRecord> feed,
        DateTimeOffset from,
        DateTimeOffset to,
        string? box,
        decimal toleranceUsd)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(feed);
        ArgumentOutOfRangeException.ThrowIfNegative(toleranceUsd);
        var boxOf = new Dictionary<string, string>(StringComparer.Ordinal);
        var ledgerHours = new Dictionary<(string Instance, DateTimeOffset Hour), decimal?>();
        foreach (var entry in ledger)
        {
            boxOf[entry.InstanceId] = entry.Box;
            if (box is not null && !string.Equals(entry.Box, box, StringComparison.Ordinal))
            {
                continue;
            }

            foreach (var hour in HourlySpotCost.Attribute(entry, from, to))
            {
                var key = (entry.InstanceId, hour.Hour);
                ledgerHours[key] = ledgerHours.TryGetValue(key, out var earlier)
                    ? earlier + hour.Usd
                    : hour.Usd;
            }
        }

        var feedHours = new Dictionary<(string Instance, DateTimeOffset Hour), decimal>();
        var start = SpotFeed.HourOf(from);
        foreach (var record in feed)
        {
            if (record.Hour < start || record.Hour >= to)
            {
                continue;
            }

            var known = boxOf.TryGetValue(record.InstanceId, out var recordBox);
            if (box is not null && (!known || !string.Equals(recordBox, box, StringComparison.Ordinal)))
            {
                continue;
            }

            var key = (record.InstanceId, record.Hour);
            feedHours[key] = feedHours.GetValueOrDefault(key) + record.Charge;
        }

        var rows = new List<ReconciliationRow>();
        foreach (var key in ledgerHours.Keys.Union(feedHours.Keys))
        {
            var inLedger = ledgerHours.TryGetValue(key, out var raw);
            // Six decimals exactly (adding 0.000000 sets the scale), so a printed amount always reads the same way.
            var ledgerUsd = raw is { } amount ? Math.Round(amount, Decimals, MidpointRounding.AwayFromZero) + 0.000000m : (decimal?)null;
            decimal? feedUsd = feedHours.TryGetValue(key, out var charge) ? charge : null;
            var instanceBox = boxOf.GetValueOrDefault(key.Instance);
            var (status, difference) = (inLedger, ledgerUsd, feedUsd) switch
            {
                (true, null, _) => (ReconciliationStatus.Unpriced, (decimal?)null),
                (true, { } l, { } f) => (Math.Abs(l - f) <= toleranceUsd ? ReconciliationStatus.Match : ReconciliationStatus.Differs, l - f),
                (true, { } l, null) => (ReconciliationStatus.LedgerOnly, l),
                (false, _, { } f) when instanceBox is not null => (ReconciliationStatus.FeedOnly, -f),
                _ => (ReconciliationStatus.NotInLedger, null),
            };
            var exceeds = status == ReconciliationStatus.Unpriced || (difference is { } d && Math.Abs(d) > toleranceUsd);
            rows.Add(new ReconciliationRow(key.Instance, instanceBox, key.Hour, ledgerUsd, feedUsd, difference, status, exceeds));
        }

        // Per box and instance, hour by hour; instances the ledger does not know at the end.
        rows.Sort((a, b) =>
        {
            var c = (a.Box is null).CompareTo(b.Box is null);
            c = c != 0 ? c : string.CompareOrdinal(a.Box, b.Box);
            c = c != 0 ? c : string.CompareOrdinal(a.InstanceId, b.InstanceId);
            return c != 0 ? c : a.Hour.CompareTo(b.Hour);
        });

        var ledgerKnows = rows.Where(r => r.Status != ReconciliationStatus.NotInLedger).ToList();
        var totals = new ReconciliationTotals(
            LedgerUsd: ledgerKnows.Sum(r => r.LedgerUsd ?? 0m),
            FeedUsd: ledgerKnows.Sum(r => r.FeedUsd ?? 0m),
            DifferenceUsd: ledgerKnows.Sum(r => r.DifferenceUsd ?? 0m),
            NotInLedgerUsd: rows.Where(r => r.Status == ReconciliationStatus.NotInLedger).Sum(r => r.FeedUsd ?? 0m),
            Match: rows.Count(r => r.Status == ReconciliationStatus.Match),
            Differs: rows.Count(r => r.Status == ReconciliationStatus.Differs),
            LedgerOnly: rows.Count(r => r.Status == ReconciliationStatus.LedgerOnly),
            FeedOnly: rows.Count(r => r.Status == ReconciliationStatus.FeedOnly),
            NotInLedger: rows.Count(r => r.Status == ReconciliationStatus.NotInLedger),
            Unpriced: rows.Count(r => r.Status == ReconciliationStatus.Unpriced),
            Exceeding: rows.Count(r => r.Exceeds));
        return new ReconciliationReport(rows, totals, toleranceUsd);
    }
}
