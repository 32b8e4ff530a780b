using System.Globalization;
using System.Text;
using System.Text.Json;
using SpotDevBox.Core.Compute;
using SpotDevBox.Core.Savings;

namespace SpotDevBox.Savings;

/// <summary>What the report shows besides the ledger's figures: the filters, when it was made, and the boxes left out.</summary>
/// <param name="NotCounted">Boxes matching the filters that the report leaves out, each with why ("carol: no session recorded before ...").</param>
internal sealed record ReportContext(string? Box, string? Owner, DateTimeOffset GeneratedAt, IReadOnlyList<string> NotCounted);

/// <summary>
/// The report as a terminal table, CSV and JSON (docs/savings.md, "The report"). CSV and JSON keep the ledger's
/// precision: money as decimal strings with 6 places, null (an empty CSV cell) when unknown; the table rounds to cents.
/// </summary>
internal static class ReportOutput
{
    /// <summary>The CSV header: stable names, in this order.</summary>
    public static readonly string[] CsvColumns =
    [
        "by", "key", "from", "to", "sessions", "seconds", "hours", "paid_usd", "same_hours_on_demand_usd", "always_on_on_demand_usd",
        "spot_saving_usd", "off_hours_saving_usd", "total_saving_usd", "complete",
    ];

    /// <summary>The JSON's version: raised only when a field changes meaning or goes away (new fields may be added).</summary>
    public const int JsonSchemaVersion = 1;

    public static string By(ReportGrouping grouping) => grouping switch
    {
        ReportGrouping.Day => "day",
        ReportGrouping.Week => "week",
        ReportGrouping.Month => "month",
        ReportGrouping.Box => "box",
        ReportGrouping.Owner => "owner",
        _ => throw new ArgumentOutOfRangeException(nameof(grouping), grouping, null),
    };

    /// <summary>Six places, invariant: "0.003216", "-1.250000"; null when unknown.</summary>
    public static string? Money(decimal? usd) => usd?.ToString("0.000000", CultureInfo.InvariantCulture);

    public static string Hours(long seconds) => Math.Round(seconds / 3600m, 2, MidpointRounding.AwayFromZero).ToString("0.00", CultureInfo.InvariantCulture);

    /// <summary>ISO 8601, UTC, whole seconds: "2026-06-08T00:00:00Z".</summary>
    public static string Iso(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>The instant as a clock in the report's zone shows it: "2026-06-08 00:00".</summary>
    public static string Local(DateTimeOffset at, TimeZoneInfo zone) =>
        TimeZoneInfo.ConvertTime(at, zone).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    public static string Lifecycle(InstanceLifecycle lifecycle) => lifecycle == InstanceLifecycle.Spot ? "spot" : "on-demand";

    /// <summary>"unknown: what — fix: fix", as the table and stderr show it.</summary>
    public static string UnknownLine(UnknownPrice unknown) =>
        unknown.Fix is { } fix ? $"unknown: {unknown.What} — fix: {fix}" : $"unknown: {unknown.What} — no fix known";

    public static IReadOnlyList<UnknownPrice> Unknowns(SavingsReport report) => [.. report.Unknowns.Select(UnknownPrice.Of)];

    public static void WriteTable(SavingsReport report, ReportContext context, TextWriter output)
    {
        var zone = report.Zone;
        var scope = (context.Box, context.Owner) switch
        {
            (null, null) => "",
            ({ } b, null) => $", box {b}",
            (null, { } o) => $", owner {o}",
            ({ } b, { } o) => $", box {b} of owner {o}",
        };
        output.WriteLine($"Savings from {Local(report.From, zone)} to {Local(report.To, zone)} ({zone.Id}){scope}, by {By(report.Grouping)}; USD, rounded to cents");
        string[] header = [By(report.Grouping).ToUpperInvariant(), "PAID", "SAME HOURS ON-DEMAND", "24/7 ON-DEMAND", "SPOT SAVING", "OFF-HOURS SAVING", "TOTAL SAVING", "SESSIONS", "HOURS"];
        var cells = report.Lines.Select(Cells).Append(Cells(report.Totals)).ToList();
        var widths = header.Select((h, i) => cells.Select(c => c[i].Length).Append(h.Length).Max()).ToArray();
        foreach (var line in cells.Prepend(header))
        {
            var text = new StringBuilder();
            for (var i = 0; i < line.Length; i++)
            {
                text.Append(i == 0 ? "" : "  ").Append(i == 0 ? line[i].PadRight(widths[i]) : line[i].PadLeft(widths[i]));
            }

            output.WriteLine(text.ToString().TrimEnd());
        }

        if (!report.IsComplete)
        {
            output.WriteLine("* incomplete: a price or size is unknown (below); >= shows the part that is known, and a saving is not computed");
            foreach (var unknown in Unknowns(report))
            {
                output.WriteLine(UnknownLine(unknown));
            }
        }

        foreach (var note in context.NotCounted)
        {
            output.WriteLine("not counted: " + note);
        }

        if (report.Running.Count > 0)
        {
            output.WriteLine("running, not in the ledger yet (costed when they end):");
            foreach (var r in report.Running)
            {
                output.WriteLine(
                    $"  {r.Box}  {r.InstanceId}  {r.InstanceType} {Lifecycle(r.Lifecycle)}  since {Local(r.Start, zone)} ({zone.Id})  {Hours(r.SecondsSoFar)} h so far");
            }
        }

        static string[] Cells(ReportLine line)
        {
            var f = line.Figures;
            return
            [
                line.Key + (line.IsComplete ? "" : " *"),
                Cost(f.Paid), Cost(f.SameHoursOnDemand), Cost(f.AlwaysOnOnDemand),
                Saving(f.SpotSaving), Saving(f.OffHoursSaving), Saving(f.TotalSaving),
                line.Sessions.ToString(CultureInfo.InvariantCulture), Hours(line.Seconds),
            ];
        }

        static string Cost(UsdAmount amount) => amount.IsComplete ? Cents(amount.Known) : ">=" + Cents(amount.Known);

        static string Saving(decimal? usd) => usd is { } v ? Cents(v) : "unknown";

        static string Cents(decimal usd) => Math.Round(usd, 2, MidpointRounding.AwayFromZero).ToString("0.00", CultureInfo.InvariantCulture);
    }

    /// <summary>The lines, then the totals (by = "total"): one record each, the columns of <see cref="CsvColumns"/>.</summary>
    public static void WriteCsv(SavingsReport report, TextWriter output)
    {
        output.WriteLine(string.Join(',', CsvColumns));
        var by = By(report.Grouping);
        foreach (var line in report.Lines)
        {
            Row(by, line);
        }

        Row("total", report.Totals);

        void Row(string kind, ReportLine line)
        {
            var f = line.Figures;
            output.WriteLine(string.Join(',',
                kind, Csv(line.Key), Iso(line.From), Iso(line.To),
                line.Sessions.ToString(CultureInfo.InvariantCulture), line.Seconds.ToString(CultureInfo.InvariantCulture), Hours(line.Seconds),
                Money(f.Paid.Usd), Money(f.SameHoursOnDemand.Usd), Money(f.AlwaysOnOnDemand.Usd),
                Money(f.SpotSaving), Money(f.OffHoursSaving), Money(f.TotalSaving),
                line.IsComplete ? "true" : "false"));
        }

        static string Csv(string value) =>
            value.AsSpan().IndexOfAny(",\"\n\r") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }

    public static void WriteJson(SavingsReport report, ReportContext context, TextWriter output)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteNumber("schema", JsonSchemaVersion);
            json.WriteString("from", Iso(report.From));
            json.WriteString("to", Iso(report.To));
            json.WriteString("time_zone", report.Zone.Id);
            json.WriteString("by", By(report.Grouping));
            Nullable("box", context.Box);
            Nullable("owner", context.Owner);
            json.WriteString("generated_at", Iso(context.GeneratedAt));
            json.WriteBoolean("complete", report.IsComplete);
            json.WriteStartArray("rows");
            foreach (var line in report.Lines)
            {
                Line(line);
            }

            json.WriteEndArray();
            json.WritePropertyName("totals");
            Line(report.Totals);
            json.WriteStartArray("boxes");
            foreach (var line in report.Boxes)
            {
                Line(line, withOwner: true);
            }

            json.WriteEndArray();
            json.WriteStartArray("unknowns");
            foreach (var unknown in Unknowns(report))
            {
                json.WriteStartObject();
                json.WriteString("what", unknown.What);
                Nullable("fix", unknown.Fix);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("not_counted");
            foreach (var note in context.NotCounted)
            {
                json.WriteStringValue(note);
            }

            json.WriteEndArray();
            json.WriteStartArray("running");
            foreach (var r in report.Running)
            {
                json.WriteStartObject();
                json.WriteString("box", r.Box);
                Nullable("owner", string.IsNullOrWhiteSpace(r.Owner) ? null : r.Owner);
                json.WriteString("instance_id", r.InstanceId);
                json.WriteString("instance_type", r.InstanceType);
                json.WriteString("lifecycle", Lifecycle(r.Lifecycle));
                json.WriteString("start", Iso(r.Start));
                json.WriteNumber("seconds", r.SecondsSoFar);
                json.WriteString("hours", Hours(r.SecondsSoFar));
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();

            void Line(ReportLine line, bool withOwner = false)
            {
                var f = line.Figures;
                json.WriteStartObject();
                json.WriteString("key", line.Key);
                if (withOwner)
                {
                    // The owner the box's 24/7 baseline counts for; null when none is known.
                    Nullable("owner", report.BoxOwners.GetValueOrDefault(line.Key) is { Length: > 0 } owner && !string.IsNullOrWhiteSpace(owner) ? owner : null);
                }

                json.WriteString("from", Iso(line.From));
                json.WriteString("to", Iso(line.To));
                json.WriteNumber("sessions", line.Sessions);
                json.WriteNumber("seconds", line.Seconds);
                json.WriteString("hours", Hours(line.Seconds));
                Nullable("paid_usd", Money(f.Paid.Usd));
                Nullable("same_hours_on_demand_usd", Money(f.SameHoursOnDemand.Usd));
                Nullable("always_on_on_demand_usd", Money(f.AlwaysOnOnDemand.Usd));
                Nullable("spot_saving_usd", Money(f.SpotSaving));
                Nullable("off_hours_saving_usd", Money(f.OffHoursSaving));
                Nullable("total_saving_usd", Money(f.TotalSaving));
                json.WriteBoolean("complete", line.IsComplete);
                json.WriteEndObject();
            }

            void Nullable(string name, string? value)
            {
                if (value is null)
                {
                    json.WriteNull(name);
                }
                else
                {
                    json.WriteString(name, value);
                }
            }
        }

        output.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
    }
}
