using System.Globalization;
using System.Net;
using System.Text;
using SpotDevBox.Core.Savings;

namespace SpotDevBox.Savings;

/// <summary>
/// The report as one self-contained HTML page (docs/savings.md, "The report"): inline CSS and an inline SVG chart
/// drawn here, no script and no request (a Content-Security-Policy forbids both), so it opens the same offline,
/// attached to a mail or archived. Every figure is also in the DOM exactly (<c>data-usd</c> with 6 places), and
/// every text that comes from data (boxes, owners, messages) is HTML-encoded.
/// </summary>
internal static class ReportHtml
{
    /// <summary>The three series: element id suffix, label, colour (the legend, the lines and the bars use the same).</summary>
    public static readonly (string Id, string Label, string Colour)[] Series =
    [
        ("paid", "paid", "#1f77b4"),
        ("same-hours", "same hours on-demand", "#ff7f0e"),
        ("always-on", "24/7 on-demand", "#d62728"),
    ];

    private const int Width = 880;
    private const int Height = 340;
    private const int Left = 72;
    private const int Right = 40;
    private const int Top = 20;
    private const int Bottom = 44;

    private const string Style = """
        body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#222;background:#fff;max-width:1100px}
        h1{font-size:1.5em;margin:0 0 4px}h2{font-size:1.15em;margin:28px 0 8px}
        .muted{color:#666}.figures{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
        .figure{border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:140px}
        .figure .label{font-size:.8em;color:#555}.figure .value{font-size:1.3em;font-weight:600}
        table{border-collapse:collapse;font-size:.9em}th,td{padding:4px 8px;border-bottom:1px solid #eee;text-align:right;white-space:nowrap}th{white-space:normal}
        th:first-child,td:first-child,.text{text-align:left}thead th{border-bottom:2px solid #ccc}tfoot td{font-weight:600;border-top:2px solid #ccc}
        .incomplete{color:#a15c00}.bars{min-width:120px}.bar{height:7px;margin:2px 0;background:#f2f2f2}.bar span{display:block;height:7px}
        .wide{overflow-x:auto;max-width:100%}td.text,td[data-figure$=saving]{white-space:normal}.percent{white-space:nowrap;color:#555;font-size:.9em}
        .scale{position:relative;height:14px;margin-top:4px;border-top:1px solid #888;font-size:.75em;font-weight:normal;color:#555}
        .scale .tick{position:absolute;top:1px;transform:translateX(-50%)}.scale .tick:first-child{transform:none}.scale .tick:last-child{transform:translateX(-100%)}
        svg.chart{display:block;width:100%;height:auto}svg text{font-size:11px;fill:#444}svg text.note{font-weight:600;fill:#222}.grid{stroke:#e6e6e6}.axis{stroke:#888}
        .paid{stroke:#1f77b4;background:#1f77b4}.same-hours{stroke:#ff7f0e;background:#ff7f0e}.always-on{stroke:#d62728;background:#d62728}
        polyline{fill:none;stroke-width:3;stroke-linejoin:round}polyline.partial{stroke-dasharray:8 5}
        .swatch{display:inline-block;width:14px;height:4px;vertical-align:middle;margin:0 4px 0 12px}
        """;

    public static void Write(SavingsReport report, ReportContext context, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(context);
        var zone = report.Zone;
        var html = new StringBuilder();
        var title = $"SpotDevBox savings, {ReportOutput.Local(report.From, zone)} to {ReportOutput.Local(report.To, zone)} ({zone.Id})";
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .Append("<title>").Append(E(title)).Append("</title>\n<style>").Append(Style).Append("</style>\n</head>\n<body>\n");

        html.Append("<h1>What the boxes cost and saved</h1>\n")
            .Append("<p id=\"period\" class=\"muted\"")
            .Append(Attr("data-from", ReportOutput.Iso(report.From))).Append(Attr("data-to", ReportOutput.Iso(report.To)))
            .Append(Attr("data-time-zone", zone.Id)).Append(Attr("data-by", ReportOutput.By(report.Grouping)))
            .Append(Attr("data-box", context.Box ?? "")).Append(Attr("data-owner", context.Owner ?? "")).Append('>')
            .Append("From ").Append(E(ReportOutput.Local(report.From, zone))).Append(" to ").Append(E(ReportOutput.Local(report.To, zone)))
            .Append(", time zone ").Append(E(zone.Id))
            .Append(context.Box is { } box ? ", box " + E(box) : "").Append(context.Owner is { } owner ? ", owner " + E(owner) : "")
            .Append(". US dollars; exact to a micro-dollar in the page's data, shown to the cent. Generated ")
            .Append(E(ReportOutput.Iso(context.GeneratedAt))).Append(".</p>\n");
        if (!report.IsComplete)
        {
            html.Append("<p id=\"incomplete\" class=\"incomplete\">Incomplete: some prices are unknown (listed below). ")
                .Append("Figures marked ≥ are the part that is known; the savings between them are not computed.</p>\n");
        }

        Figures(html, report);
        Chart(html, report);
        Boxes(html, report);
        Lines(html, report);
        Unknowns(html, report, context);
        Running(html, report);
        Cumulative(html, report);
        html.Append("<p class=\"muted\">Paid: instances (spot or on-demand) + EBS while running + S3 all the time. Same hours on-demand: the same, ")
            .Append("every instance second at the on-demand price. 24/7 on-demand: every box on-demand around the clock with its root volume. ")
            .Append("How each is computed: docs/savings.md.</p>\n</body>\n</html>\n");
        output.Write(html.ToString());
    }

    private static void Figures(StringBuilder html, SavingsReport report)
    {
        var f = report.Totals.Figures;
        html.Append("<div class=\"figures\" id=\"figures\">\n");
        Figure("paid", "Paid", f.Paid.Usd, f.Paid.Known);
        Figure("same-hours", "Same hours on-demand", f.SameHoursOnDemand.Usd, f.SameHoursOnDemand.Known);
        Figure("always-on", "24/7 on-demand", f.AlwaysOnOnDemand.Usd, f.AlwaysOnOnDemand.Known);
        Saved("spot-saving", "Spot saving", f.SpotSaving, f.SameHoursOnDemand.Usd);
        Saved("off-hours-saving", "Off-hours saving", f.OffHoursSaving, f.AlwaysOnOnDemand.Usd);
        Saved("total-saving", "Total saving", f.TotalSaving, f.AlwaysOnOnDemand.Usd);
        html.Append("</div>\n");

        void Figure(string id, string label, decimal? usd, decimal? known) =>
            html.Append("<div class=\"figure\"").Append(Attr("data-figure", id)).Append(Attr("data-usd", ReportOutput.Money(usd) ?? ""))
                .Append("><div class=\"label\">").Append(E(label)).Append("</div><div class=\"value\">")
                .Append(E(Shown(usd, known))).Append("</div></div>\n");

        void Saved(string id, string label, decimal? usd, decimal? of) =>
            html.Append("<div class=\"figure\"").Append(Attr("data-figure", id)).Append(Attr("data-usd", ReportOutput.Money(usd) ?? ""))
                .Append(Attr("data-percent", PercentData(usd, of))).Append("><div class=\"label\">").Append(E(label)).Append("</div><div class=\"value\">")
                .Append(SavingText(usd, of)).Append("</div></div>\n");
    }

    private static void Chart(StringBuilder html, SavingsReport report)
    {
        html.Append("<h2>Cumulative cost over the period</h2>\n");
        Plot(html, report, "cumulative-chart", "line-", Series, "Cumulative cost: paid, same hours on-demand and 24/7 on-demand", null);

        // At the 24/7 scale paid and same hours on-demand lie on the x axis; on their own scale the spot saving shows.
        var f = report.Totals.Figures;
        html.Append("<h2>Spot saving: paid against the same hours on-demand</h2>\n");
        Plot(html, report, "spot-chart", "spot-line-", Series[..2], "Cumulative cost on its own scale: paid and same hours on-demand",
            "spot saving " + Saved(f.SpotSaving, f.SameHoursOnDemand.Usd));
    }

    /// <summary>One chart of cumulative cost: the series given, on a y scale of their own, the time axis ticked at even intervals.</summary>
    private static void Plot(StringBuilder html, SavingsReport report, string svgId, string linePrefix, (string Id, string Label, string Colour)[] series, string aria, string? note)
    {
        var points = report.Cumulative;
        var top = points.SelectMany(p => series.Select(s => Pick(p, s.Id).Known)).DefaultIfEmpty(0m).Max();
        var (yMax, yStep) = Scale(top);
        var span = (decimal)(report.To - report.From).TotalSeconds;
        decimal X(DateTimeOffset at) => Left + ((Width - Left - Right) * (decimal)(at - report.From).TotalSeconds / span);
        decimal Y(decimal usd) => Top + ((Height - Top - Bottom) * (1 - (usd / yMax)));

        // width 100% and a viewBox: the chart scales with the page and keeps its proportions.
        html.Append(CultureInfo.InvariantCulture, $"<svg id=\"{svgId}\" class=\"chart\" width=\"100%\" viewBox=\"0 0 {Width} {Height}\" preserveAspectRatio=\"xMidYMid meet\" role=\"img\"")
            .Append(Attr("aria-label", aria)).Append(">\n");
        for (var tick = 0m; tick <= yMax; tick += yStep)
        {
            var y = Num(Y(tick));
            html.Append(CultureInfo.InvariantCulture, $"<line class=\"grid\" x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{y}\" y2=\"{y}\"/>")
                .Append(CultureInfo.InvariantCulture, $"<text x=\"{Left - 6}\" y=\"{y}\" text-anchor=\"end\" dominant-baseline=\"middle\">${E(Tick(tick, yStep))}</text>\n");
        }

        foreach (var (at, label) in TimeTicks(report.From, report.To, report.Zone))
        {
            var x = Num(X(at));
            html.Append(CultureInfo.InvariantCulture, $"<line class=\"grid\" x1=\"{x}\" x2=\"{x}\" y1=\"{Top}\" y2=\"{Height - Bottom + 4}\"/>")
                .Append(CultureInfo.InvariantCulture, $"<text class=\"time-tick\" data-at=\"{ReportOutput.Iso(at)}\" x=\"{x}\" y=\"{Height - Bottom + 18}\" text-anchor=\"middle\">{E(label)}</text>\n");
        }

        html.Append(CultureInfo.InvariantCulture, $"<line class=\"axis\" x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{Height - Bottom}\" y2=\"{Height - Bottom}\"/>\n")
            .Append(CultureInfo.InvariantCulture, $"<line class=\"axis\" x1=\"{Left}\" x2=\"{Left}\" y1=\"{Top}\" y2=\"{Height - Bottom}\"/>\n");

        foreach (var (id, label, _) in series)
        {
            var amounts = points.Select(p => Pick(p, id)).ToList();
            var complete = amounts[^1].IsComplete;
            html.Append("<polyline").Append(Attr("id", linePrefix + id)).Append(Attr("class", complete ? id : id + " partial"))
                .Append(Attr("data-series", id)).Append(Attr("data-complete", complete ? "true" : "false"))
                .Append(Attr("data-final-usd", ReportOutput.Money(amounts[^1].Usd) ?? ""))
                .Append(Attr("points", string.Join(' ', points.Select((p, i) => Num(X(p.At)) + "," + Num(Y(amounts[i].Known))))))
                .Append("><title>").Append(E(label + (complete ? "" : " (incomplete: the known part)"))).Append("</title></polyline>\n");
        }

        var legendX = Left + 8;
        foreach (var (id, label, colour) in series)
        {
            var partial = !Pick(points[^1], id).IsComplete;
            html.Append(CultureInfo.InvariantCulture, $"<rect x=\"{legendX}\" y=\"{Top + 4}\" width=\"16\" height=\"4\" fill=\"{colour}\"/>")
                .Append(CultureInfo.InvariantCulture, $"<text x=\"{legendX + 22}\" y=\"{Top + 9}\">{E(label + (partial ? " (known part)" : ""))}</text>\n");
            legendX += 60 + (label.Length * 6) + (partial ? 72 : 0);
        }

        if (note is not null)
        {
            html.Append(CultureInfo.InvariantCulture, $"<text class=\"note\" x=\"{legendX}\" y=\"{Top + 9}\">{E(note)}</text>\n");
        }

        html.Append("</svg>\n");
    }

    /// <summary>
    /// The time axis' ticks: the first step of 1, 2, 3, 6 or 12 hours, 1 or 2 days, 1 or 2 weeks (Mondays), 1, 3, 6 or 12 months
    /// that gives at most 8 intervals, at the local times that are whole multiples of it (midnights, Mondays, firsts of the month).
    /// </summary>
    private static List<(DateTimeOffset At, string Label)> TimeTicks(DateTimeOffset from, DateTimeOffset to, TimeZoneInfo zone)
    {
        var span = to - from;
        var firstDay = TimeZoneInfo.ConvertTime(from, zone).Date;
        var lastDay = TimeZoneInfo.ConvertTime(to, zone).Date;
        var days = Enumerable.Range(0, (int)(lastDay - firstDay).TotalDays + 1).Select(d => firstDay.AddDays(d)).ToList();
        IEnumerable<(DateTime Local, string Label)> candidates;
        int[] hours = [1, 2, 3, 6, 12];
        if (hours.FirstOrDefault(h => span.TotalHours / h <= 8) is var hour and > 0)
        {
            candidates = days.SelectMany(d => Enumerable.Range(0, 24 / hour).Select(i => d.AddHours(i * hour)))
                .Select(t => (t, t.Hour == 0 ? t.ToString("MM-dd HH:mm", CultureInfo.InvariantCulture) : t.ToString("HH:mm", CultureInfo.InvariantCulture)));
        }
        else if (span.TotalDays <= 16)
        {
            var step = span.TotalDays <= 8 ? 1 : 2;
            var midnights = days.Where(d => Utc(d) is { } at && at >= from).ToList();
            candidates = midnights.Where((_, i) => i % step == 0).Select(d => (d, d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)));
        }
        else if (span.TotalDays <= 8 * 14)
        {
            var step = span.TotalDays <= 8 * 7 ? 1 : 2;
            var mondays = days.Where(d => d.DayOfWeek == DayOfWeek.Monday && Utc(d) is { } at && at >= from).ToList();
            candidates = mondays.Where((_, i) => i % step == 0).Select(d => (d, d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)));
        }
        else
        {
            int[] months = [1, 3, 6, 12];
            var step = months.FirstOrDefault(m => span.TotalDays / (m * 30.4) <= 8, 12);
            candidates = days.Where(d => d.Day == 1 && (d.Month - 1) % step == 0)
                .Select(d => (d, d.ToString(step == 12 ? "yyyy" : "yyyy-MM", CultureInfo.InvariantCulture)));
        }

        return [.. candidates.Select(c => (At: Utc(c.Local), c.Label)).Where(c => c.At is { } at && at >= from && at <= to).Select(c => (c.At!.Value, c.Label))];

        DateTimeOffset? Utc(DateTime local)
        {
            var unspecified = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
            return zone.IsInvalidTime(unspecified) ? null : new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(unspecified, zone), TimeSpan.Zero);
        }
    }

    private static void Boxes(StringBuilder html, SavingsReport report)
    {
        var top = report.Boxes.Select(b => Math.Max(b.Figures.AlwaysOnOnDemand.Known, Math.Max(b.Figures.SameHoursOnDemand.Known, b.Figures.Paid.Known))).DefaultIfEmpty(0m).Max();
        var (max, step) = Scale(top);
        html.Append("<h2>Per box</h2>\n<div class=\"wide\"><table id=\"boxes\">\n<thead><tr><th>Box</th><th class=\"text\">Owner</th><th>Paid</th><th>Same hours on-demand</th><th>24/7 on-demand</th>")
            .Append("<th class=\"bars\">Compared<div class=\"scale\" id=\"box-scale\">");
        for (var tick = 0m; tick <= max; tick += step)
        {
            html.Append("<span class=\"tick\"").Append(Attr("data-usd", ReportOutput.Money(tick)!)).Append(" style=\"left:").Append(Num(tick / max * 100m)).Append("%\">")
                .Append(E("$" + Tick(tick, step))).Append("</span>");
        }

        html.Append("</div></th><th>Total saving</th><th>Sessions</th><th>Hours</th></tr></thead>\n<tbody>\n");
        foreach (var line in report.Boxes)
        {
            var f = line.Figures;
            var owner = report.BoxOwners.GetValueOrDefault(line.Key) ?? "";
            html.Append("<tr").Append(Attr("data-box", line.Key)).Append(Attr("data-owner", owner)).Append(Attr("data-complete", line.IsComplete ? "true" : "false")).Append('>')
                .Append("<td>").Append(E(line.Key)).Append("</td><td class=\"text\">").Append(E(owner)).Append("</td>")
                .Append(Money("paid", f.Paid)).Append(Money("same-hours", f.SameHoursOnDemand)).Append(Money("always-on", f.AlwaysOnOnDemand))
                .Append("<td class=\"bars\">").Append(Bar("paid", f.Paid.Known, max)).Append(Bar("same-hours", f.SameHoursOnDemand.Known, max))
                .Append(Bar("always-on", f.AlwaysOnOnDemand.Known, max)).Append("</td>")
                .Append(Saving("total-saving", f.TotalSaving, f.AlwaysOnOnDemand.Usd)).Append(Count(line)).Append("</tr>\n");
        }

        html.Append("</tbody>\n</table></div>\n");

        static string Bar(string id, decimal usd, decimal max)
        {
            var percent = max <= 0 ? 0m : Math.Clamp(usd / max * 100m, 0m, 100m);
            return $"<div class=\"bar\"><span class=\"{id}\" style=\"width:{Num(percent)}%\"></span></div>";
        }
    }

    private static void Lines(StringBuilder html, SavingsReport report)
    {
        var by = ReportOutput.By(report.Grouping);
        html.Append("<h2>By ").Append(E(by)).Append("</h2>\n<div class=\"wide\"><table id=\"lines\"").Append(Attr("data-by", by)).Append(">\n<thead><tr><th>")
            .Append(E(char.ToUpperInvariant(by[0]) + by[1..]))
            .Append("</th><th>Paid</th><th>Same hours on-demand</th><th>24/7 on-demand</th><th>Spot saving</th><th>Off-hours saving</th><th>Total saving</th><th>Sessions</th><th>Hours</th></tr></thead>\n<tbody>\n");
        foreach (var line in report.Lines)
        {
            Row(html, line, null);
        }

        html.Append("</tbody>\n<tfoot>\n");
        Row(html, report.Totals, "totals");
        html.Append("</tfoot>\n</table></div>\n");

        static void Row(StringBuilder html, ReportLine line, string? id)
        {
            var f = line.Figures;
            html.Append("<tr").Append(id is null ? "" : Attr("id", id)).Append(Attr("data-key", line.Key))
                .Append(Attr("data-from", ReportOutput.Iso(line.From))).Append(Attr("data-to", ReportOutput.Iso(line.To)))
                .Append(Attr("data-complete", line.IsComplete ? "true" : "false")).Append(line.IsComplete ? "" : " class=\"incomplete\"").Append('>')
                .Append("<td>").Append(E(line.Key)).Append("</td>")
                .Append(Money("paid", f.Paid)).Append(Money("same-hours", f.SameHoursOnDemand)).Append(Money("always-on", f.AlwaysOnOnDemand))
                .Append(Saving("spot-saving", f.SpotSaving, f.SameHoursOnDemand.Usd)).Append(Saving("off-hours-saving", f.OffHoursSaving, f.AlwaysOnOnDemand.Usd))
                .Append(Saving("total-saving", f.TotalSaving, f.AlwaysOnOnDemand.Usd))
                .Append(Count(line)).Append("</tr>\n");
        }
    }

    private static void Unknowns(StringBuilder html, SavingsReport report, ReportContext context)
    {
        var unknowns = ReportOutput.Unknowns(report);
        html.Append("<h2>Unknown prices</h2>\n<ul id=\"unknowns\">\n");
        foreach (var unknown in unknowns)
        {
            html.Append("<li").Append(Attr("data-what", unknown.What)).Append(Attr("data-fix", unknown.Fix ?? "")).Append('>')
                .Append(E(ReportOutput.UnknownLine(unknown))).Append("</li>\n");
        }

        if (unknowns.Count == 0)
        {
            html.Append("<li class=\"muted\">none: every figure is complete</li>\n");
        }

        foreach (var note in context.NotCounted)
        {
            html.Append("<li class=\"muted\" data-not-counted=\"true\">not counted: ").Append(E(note)).Append("</li>\n");
        }

        html.Append("</ul>\n");
    }

    private static void Running(StringBuilder html, SavingsReport report)
    {
        html.Append("<h2>Running, not in the ledger yet</h2>\n<ul id=\"running\">\n");
        foreach (var r in report.Running)
        {
            html.Append("<li").Append(Attr("data-box", r.Box)).Append(Attr("data-instance-id", r.InstanceId))
                .Append(Attr("data-start", ReportOutput.Iso(r.Start))).Append(Attr("data-seconds", r.SecondsSoFar.ToString(CultureInfo.InvariantCulture))).Append('>')
                .Append(E($"{r.Box} {r.InstanceId} {r.InstanceType} {ReportOutput.Lifecycle(r.Lifecycle)}, since {ReportOutput.Local(r.Start, report.Zone)}: {ReportOutput.Hours(r.SecondsSoFar)} h so far (costed when it ends)"))
                .Append("</li>\n");
        }

        if (report.Running.Count == 0)
        {
            html.Append("<li class=\"muted\">none</li>\n");
        }

        html.Append("</ul>\n");
    }

    private static void Cumulative(StringBuilder html, SavingsReport report)
    {
        html.Append("<details>\n<summary>The chart's figures</summary>\n<div class=\"wide\"><table id=\"cumulative\">\n<thead><tr><th>Until</th><th>Paid</th><th>Same hours on-demand</th><th>24/7 on-demand</th></tr></thead>\n<tbody>\n");
        foreach (var p in report.Cumulative)
        {
            html.Append("<tr").Append(Attr("data-at", ReportOutput.Iso(p.At))).Append("><td>").Append(E(ReportOutput.Local(p.At, report.Zone))).Append("</td>")
                .Append(Money("paid", p.Paid)).Append(Money("same-hours", p.SameHoursOnDemand)).Append(Money("always-on", p.AlwaysOnOnDemand)).Append("</tr>\n");
        }

        html.Append("</tbody>\n</table></div>\n<p class=\"muted\">Each step's parts are rounded on their own, so the last row may differ from the totals by a few micro-dollars.</p>\n</details>\n");
    }

    private static UsdAmount Pick(CumulativePoint point, string id) => id switch
    {
        "paid" => point.Paid,
        "same-hours" => point.SameHoursOnDemand,
        _ => point.AlwaysOnOnDemand,
    };

    private static string Money(string figure, UsdAmount amount) =>
        $"<td{Attr("data-figure", figure)}{Attr("data-usd", ReportOutput.Money(amount.Usd) ?? "")}{Attr("data-known-usd", ReportOutput.Money(amount.Known)!)}>{E(Shown(amount.Usd, amount.Known))}</td>";

    /// <summary>A saving's cell: the amount and, shown and in <c>data-percent</c>, the part it is of the cost it is saved from.</summary>
    private static string Saving(string figure, decimal? usd, decimal? of) =>
        $"<td{Attr("data-figure", figure)}{Attr("data-usd", ReportOutput.Money(usd) ?? "")}{Attr("data-percent", PercentData(usd, of))}>{SavingText(usd, of)}</td>";

    /// <summary>The saving as a percentage of <paramref name="of"/>; null when either is unknown or there was nothing to save from.</summary>
    private static decimal? Percent(decimal? usd, decimal? of) => usd is { } v && of is { } o && o > 0 ? v / o * 100m : null;

    private static string PercentData(decimal? usd, decimal? of) =>
        Percent(usd, of) is { } p ? Math.Round(p, 2, MidpointRounding.AwayFromZero).ToString("0.00", CultureInfo.InvariantCulture) : "";

    private static string PercentShown(decimal percent) =>
        Math.Round(percent, 1, MidpointRounding.AwayFromZero).ToString("0.0", CultureInfo.InvariantCulture) + " %";

    /// <summary>"$0.85 (44.8 %)", encoded, the percentage in a span that does not break.</summary>
    private static string SavingText(decimal? usd, decimal? of) =>
        E(Shown(usd, null)) + (Percent(usd, of) is { } p ? " <span class=\"percent\">(" + E(PercentShown(p)) + ")</span>" : "");

    /// <summary>"$0.85 (44.8 %)" as plain text, for the chart.</summary>
    private static string Saved(decimal? usd, decimal? of) =>
        Shown(usd, null) + (Percent(usd, of) is { } p ? " (" + PercentShown(p) + ")" : "");

    private static string Count(ReportLine line) =>
        $"<td data-figure=\"sessions\">{line.Sessions.ToString(CultureInfo.InvariantCulture)}</td><td{Attr("data-figure", "hours")}{Attr("data-seconds", line.Seconds.ToString(CultureInfo.InvariantCulture))}>{ReportOutput.Hours(line.Seconds)}</td>";

    /// <summary>"$1.23"; "≥ $1.23" for the known part of an incomplete cost; "unknown" for a saving that cannot be computed.</summary>
    private static string Shown(decimal? usd, decimal? known) => usd is { } v
        ? Cents(v)
        : known is { } k ? "≥ " + Cents(k) : "unknown";

    private static string Cents(decimal usd) =>
        (usd < 0 ? "-$" : "$") + Math.Round(Math.Abs(usd), 2, MidpointRounding.AwayFromZero).ToString("#,0.00", CultureInfo.InvariantCulture);

    /// <summary>A round top and step for the y axis: 1, 2 or 5 × 10^n, four or five steps.</summary>
    private static (decimal Max, decimal Step) Scale(decimal top)
    {
        if (top <= 0)
        {
            return (1m, 0.25m);
        }

        var raw = (double)top / 4;
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        var step = (decimal)(raw <= magnitude ? magnitude : raw <= 2 * magnitude ? 2 * magnitude : raw <= 5 * magnitude ? 5 * magnitude : 10 * magnitude);
        return (Math.Ceiling(top / step) * step, step);
    }

    private static string Tick(decimal usd, decimal step) =>
        usd.ToString(step >= 1 ? "#,0" : step >= 0.01m ? "0.00" : "0.0####", CultureInfo.InvariantCulture);

    private static string Num(decimal value) => Math.Round(value, 1).ToString("0.#", CultureInfo.InvariantCulture);

    private static string Attr(string name, string value) => $" {name}=\"{E(value)}\"";

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
