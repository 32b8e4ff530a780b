using System.Net;
using System.Text.RegularExpressions;

namespace SpotDevBox.Tests.Savings;

/// <summary>The page <c>spotdevbox savings --format html --output FILE</c> writes for <see cref="ReportLedger"/>'s two days, made once.</summary>
public sealed class ReportPage : IAsyncLifetime
{
    private ReportLedger _ledger = null!;

    public string Path { get; private set; } = "";

    public string Html { get; private set; } = "";

    public async Task InitializeAsync()
    {
        _ledger = await ReportLedger.CreateAsync();
        Path = _ledger.Sub("out/savings.html");
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        var result = await _ledger.SavingsAsync("--format", "html", "--output", Path);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(["wrote " + Path], result.StderrLines);
        Assert.Equal("", result.Stdout);
        Html = await File.ReadAllTextAsync(Path);
    }

    public Task DisposeAsync()
    {
        _ledger.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>
/// The HTML report in headless Chromium (one launch per test): it renders, its chart has the three lines, and the numbers
/// in its DOM are the ledger's as worked out in <see cref="ReportLedger"/>.
/// </summary>
public sealed partial class ReportHtmlTests(ReportPage page) : IClassFixture<ReportPage>
{
    /// <summary>The chart's lines: paid, same hours on-demand, 24/7 on-demand (ReportHtml.Series).</summary>
    private static readonly (string Id, (int R, int G, int B) Colour)[] Lines =
    [
        ("paid", (0x1f, 0x77, 0xb4)),
        ("same-hours", (0xff, 0x7f, 0x0e)),
        ("always-on", (0xd6, 0x27, 0x28)),
    ];

    [Fact]
    public async Task Html_InChromium_TheChartsThreeLinesAndTheLedgersNumbersInTheDom()
    {
        var dom = await Chromium.DumpDomAsync(page.Path);

        Assert.Contains("<svg id=\"cumulative-chart\"", dom, StringComparison.Ordinal);
        foreach (var (id, _) in Lines)
        {
            // Two days are charted hour by hour: 49 points from 0 at the start.
            var points = Attribute(Element(dom, "polyline", $"line-{id}"), "points").Split(' ');
            Assert.Equal(49, points.Length);
            Assert.All(points, p => Assert.Matches(@"^\d+(\.\d)?,\d+(\.\d)?$", p));
        }

        // Each hour's parts are rounded on their own (docs/savings.md): alice 48 × 0.000288 S3 + 0.56 + 0.056 = 0.629824,
        // carol 48 × 0.000144 + 0.4032 + 0.008 = 0.418112; the same hours on-demand add 14 × (0.1008 - 0.04) = 0.8512;
        // 24/7 is 48 × (0.1048 + 0.1028) either way.
        Assert.Equal("1.047936", Attribute(Element(dom, "polyline", "line-paid"), "data-final-usd"));
        Assert.Equal("1.899136", Attribute(Element(dom, "polyline", "line-same-hours"), "data-final-usd"));
        Assert.Equal("9.964800", Attribute(Element(dom, "polyline", "line-always-on"), "data-final-usd"));

        var period = Element(dom, "p", "period");
        Assert.Equal(("2026-06-08T00:00:00Z", "2026-06-10T00:00:00Z", "UTC", "day"),
            (Attribute(period, "data-from"), Attribute(period, "data-to"), Attribute(period, "data-time-zone"), Attribute(period, "data-by")));

        var totals = Row(dom, "id=\"totals\"");
        Assert.Equal(
            [("paid", "1.047900"), ("same-hours", "1.899100"), ("always-on", "9.964800"), ("spot-saving", "0.851200"), ("off-hours-saving", "8.065700"), ("total-saving", "8.916900")],
            Figures(totals));
        Assert.Contains("<td data-figure=\"sessions\">3</td>", totals, StringComparison.Ordinal);
        Assert.Equal(
            [("paid", "0.861550"), ("same-hours", "1.469550"), ("always-on", "4.982400"), ("spot-saving", "0.608000"), ("off-hours-saving", "3.512850"), ("total-saving", "4.120850")],
            Figures(Row(dom, "data-key=\"2026-06-08\"")));
        Assert.Equal(
            [("paid", "0.629800"), ("same-hours", "1.481000"), ("always-on", "5.030400"), ("total-saving", "4.400600")],
            Figures(Row(dom, "data-box=\"alice-dev\"")));
        var carol = Row(dom, "data-box=\"carol-dev\"");
        Assert.Equal(
            [("paid", "0.418100"), ("same-hours", "0.418100"), ("always-on", "4.934400"), ("total-saving", "4.516300")],
            Figures(carol));
        // The owner's markup is text in the page, never an element.
        Assert.Equal(ReportLedger.CarolsOwner, Attribute(carol, "data-owner"));
        Assert.Contains("<td class=\"text\">O'Brien &lt;script&gt;alert(1)&lt;/script&gt; &amp; \"QA\"</td>", carol, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", dom, StringComparison.OrdinalIgnoreCase);

        Assert.Contains($"data-instance-id=\"{ReportLedger.Running}\"", dom, StringComparison.Ordinal);
        Assert.Contains("dave-dev: no session recorded before 2026-06-10T00:00:00Z", dom, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Html_InChromiumScreenshot_NotBlankAndEachLineDrawnAcrossTheChart()
    {
        var image = PngImage.Read(await Chromium.ScreenshotAsync(page.Path, 1100, 1400));

        var inked = 0;
        var columns = Lines.ToDictionary(l => l.Id, _ => new HashSet<int>());
        for (var y = 0; y < image.Height; y++)
        {
            for (var x = 0; x < image.Width; x++)
            {
                var (r, g, b) = image[x, y];
                if (r < 235 || g < 235 || b < 235)
                {
                    inked++;
                }

                foreach (var (id, colour) in Lines)
                {
                    if (Math.Abs(r - colour.R) <= 48 && Math.Abs(g - colour.G) <= 48 && Math.Abs(b - colour.B) <= 48)
                    {
                        columns[id].Add(x);
                    }
                }
            }
        }

        Assert.True(inked > image.Width * image.Height / 100, $"the page looks blank: {inked} of {image.Width * image.Height} pixels not white");
        // The plot is 768 of the chart's 880 units, drawn 1052 px wide here: a legend swatch or a box's bar cannot cover 392 px of it, a line can.
        Assert.All(Lines, l => Assert.True(columns[l.Id].Count >= 392, $"the {l.Id} line's colour is in {columns[l.Id].Count} columns of the screenshot"));
    }

    [Fact]
    public void Html_AsWritten_SelfContainedAndEveryTextFromDataEncoded()
    {
        var html = page.Html;

        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        Assert.Contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">", html, StringComparison.Ordinal);
        // Nothing to fetch: no script, stylesheet, image, font or URL of any kind.
        foreach (var outside in new[] { "<script", "<link", "<img", "<iframe", "src=", "href=", "url(", "@import", "http:", "https:" })
        {
            Assert.DoesNotContain(outside, html, StringComparison.OrdinalIgnoreCase);
        }

        Assert.Contains("O&#39;Brien &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;QA&quot;", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Html_PricesUnknown_ListedWithTheirFixAndTheLinesDrawnAsKnownParts()
    {
        using var ledger = await ReportLedger.CreateAsync(bob: true);
        var path = ledger.Sub("bob.html");

        var result = await ledger.SavingsAsync("--format", "html", "--output", path);

        Assert.True(result.ExitCode == 0, result.ToString());
        var html = await File.ReadAllTextAsync(path);
        Assert.Contains("<p id=\"incomplete\" class=\"incomplete\">", html, StringComparison.Ordinal);
        Assert.Contains(
            "<li data-what=\"no on-demand price table for region ap-south-2\" data-fix=\"run &#39;spotdevbox prices refresh --region ap-south-2&#39;, or set Prices:OnDemand:ap-south-2:m7i.large (USD per hour)\">",
            html,
            StringComparison.Ordinal);
        Assert.Equal(("paid partial", "false", ""), (Attribute(Element(html, "polyline", "line-paid"), "class"), Attribute(Element(html, "polyline", "line-paid"), "data-complete"), Attribute(Element(html, "polyline", "line-paid"), "data-final-usd")));
        var totals = Row(html, "id=\"totals\"");
        Assert.Equal((("paid", ""), "false"), (Figures(totals)[0], Attribute(totals, "data-complete")));
        Assert.Contains("warning: incomplete: unknown: no on-demand price table for region ap-south-2 — fix: run", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Html_InChromiumScreenshot_SpotChartShowsPaidAndSameHoursAtLeast20PxApartOverHalfThePlot()
    {
        // Only the spot chart is visible (the layout is the page's): its paid and same-hours lines cannot be mixed up
        // with the cumulative chart's, where at the 24/7 scale they lie on the x axis.
        var shown = page.Path[..^5] + "-spot-only.html";
        await File.WriteAllTextAsync(shown, page.Html.Replace(
            "</head>", "<style>body *{visibility:hidden}#spot-chart,#spot-chart *{visibility:visible}</style></head>", StringComparison.Ordinal));
        var image = PngImage.Read(await Chromium.ScreenshotAsync(shown, 1100, 1800));

        int plotted = 0, apart = 0;
        for (var x = 0; x < image.Width; x++)
        {
            var paid = new List<int>();
            var sameHours = new List<int>();
            for (var y = 0; y < image.Height; y++)
            {
                var pixel = image[x, y];
                if (Near(pixel, Lines[0].Colour))
                {
                    paid.Add(y);
                }
                else if (Near(pixel, Lines[1].Colour))
                {
                    sameHours.Add(y);
                }
            }

            if (sameHours.Count > 0)
            {
                plotted++;
                if (paid.Count > 0 && paid.Min(p => sameHours.Min(s => Math.Abs(p - s))) >= 20)
                {
                    apart++;
                }
            }
        }

        // The same-hours line runs from the start of the plot to its end: the columns it is in are the plot's width.
        Assert.True(plotted >= 400, $"the spot chart's same-hours line is in {plotted} columns");
        Assert.True(apart * 2 >= plotted, $"paid and same hours on-demand are 20 px apart in {apart} of {plotted} columns");

        static bool Near((byte R, byte G, byte B) p, (int R, int G, int B) c) =>
            Math.Abs(p.R - c.R) <= 48 && Math.Abs(p.G - c.G) <= 48 && Math.Abs(p.B - c.B) <= 48;
    }

    [Fact]
    public async Task Html_InChromium_EachSavingAlsoAsAPercentageOfWhatItSavesFrom()
    {
        var dom = await Chromium.DumpDomAsync(page.Path);

        // Spot saving of same hours on-demand, off-hours and total saving of 24/7 on-demand, to 2 places in the data and 1 shown:
        // 0.8512 / 1.8991 = 44.82 %, 8.0657 / 9.9648 = 80.94 %, 8.9169 / 9.9648 = 89.48 %.
        Assert.Equal(
            [("spot-saving", "44.82", "$0.85 (44.8 %)"), ("off-hours-saving", "80.94", "$8.07 (80.9 %)"), ("total-saving", "89.48", "$8.92 (89.5 %)")],
            Percents(Regex.Match(dom, "<div class=\"figures\".*?\n</div>", RegexOptions.Singleline).Value, "div"));
        Assert.Equal(
            [("spot-saving", "44.82", "$0.85 (44.8 %)"), ("off-hours-saving", "80.94", "$8.07 (80.9 %)"), ("total-saving", "89.48", "$8.92 (89.5 %)")],
            Percents(Row(dom, "id=\"totals\""), "td"));
        // 2026-06-08: 0.608 / 1.46955, 3.51285 / 4.9824, 4.12085 / 4.9824.
        Assert.Equal(
            [("spot-saving", "41.37", "$0.61 (41.4 %)"), ("off-hours-saving", "70.51", "$3.51 (70.5 %)"), ("total-saving", "82.71", "$4.12 (82.7 %)")],
            Percents(Row(dom, "data-key=\"2026-06-08\""), "td"));
        // Per box: alice 4.4006 / 5.0304, carol 4.5163 / 4.9344.
        Assert.Equal([("total-saving", "87.48", "$4.40 (87.5 %)")], Percents(Row(dom, "data-box=\"alice-dev\""), "td"));
        Assert.Equal([("total-saving", "91.53", "$4.52 (91.5 %)")], Percents(Row(dom, "data-box=\"carol-dev\""), "td"));
    }

    [Fact]
    public async Task Html_InChromium_PerBoxBarsHaveAScaleWithValues()
    {
        var dom = await Chromium.DumpDomAsync(page.Path);

        // The largest bar is alice's 24/7 on-demand, 5.0304: the scale is 0 to 6 in steps of 2.
        var scale = Regex.Match(dom, "<div class=\"scale\" id=\"box-scale\">.*?</div>", RegexOptions.Singleline);
        Assert.True(scale.Success, "no bar scale in the per-box table");
        Assert.Equal(
            [("0.000000", "0", "$0"), ("2.000000", "33.3", "$2"), ("4.000000", "66.7", "$4"), ("6.000000", "100", "$6")],
            [.. Regex.Matches(scale.Value, "<span class=\"tick\" data-usd=\"([^\"]*)\" style=\"left:([^%]*)%\">([^<]*)</span>").Select(m => (m.Groups[1].Value, m.Groups[2].Value, m.Groups[3].Value))]);
        // The bars are drawn on that scale: 5.0304 / 6 = 83.8 %, 0.6298 / 6 = 10.5 %.
        var alice = Row(dom, "data-box=\"alice-dev\"");
        Assert.Contains("<span class=\"always-on\" style=\"width:83.8%\">", alice, StringComparison.Ordinal);
        Assert.Contains("<span class=\"paid\" style=\"width:10.5%\">", alice, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Html_InChromium_TimeAxisTicksAtEvenIntervalsOfTimeWithLabels()
    {
        var dom = await Chromium.DumpDomAsync(page.Path);

        // Two days: a tick every 6 hours, from the first midnight to the last, equally far apart.
        var chart = Regex.Match(dom, "<svg id=\"cumulative-chart\".*?</svg>", RegexOptions.Singleline).Value;
        var ticks = Regex.Matches(chart, "<text class=\"time-tick\" data-at=\"([^\"]*)\" x=\"([^\"]*)\"[^>]*>([^<]*)</text>")
            .Select(m => (At: m.Groups[1].Value, X: decimal.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture), Label: m.Groups[3].Value))
            .ToList();
        Assert.Equal(
            ["2026-06-08T00:00:00Z", "2026-06-08T06:00:00Z", "2026-06-08T12:00:00Z", "2026-06-08T18:00:00Z", "2026-06-09T00:00:00Z",
             "2026-06-09T06:00:00Z", "2026-06-09T12:00:00Z", "2026-06-09T18:00:00Z", "2026-06-10T00:00:00Z"],
            ticks.Select(t => t.At));
        Assert.Equal(["06-08 00:00", "06:00", "12:00", "18:00", "06-09 00:00", "06:00", "12:00", "18:00", "06-10 00:00"], ticks.Select(t => t.Label));
        var gaps = ticks.Zip(ticks.Skip(1), (a, b) => b.X - a.X).ToList();
        Assert.All(gaps, g => Assert.InRange(g, gaps[0] - 0.2m, gaps[0] + 0.2m));
        Assert.True(gaps[0] > 50, $"ticks {gaps[0]} apart");
    }

    [Fact]
    public async Task Html_AMonthInBerlin_TimeAxisTicksOnMondaysAtLocalMidnight()
    {
        using var ledger = await ReportLedger.CreateAsync();
        var path = ledger.Sub("june.html");

        var result = await ledger.Cli().RunAsync(
            ["savings", "--from", "2026-06-01", "--to", "2026-07-01", "--tz", "Europe/Berlin", "--format", "html", "--output", path], new Dictionary<string, string?>());

        Assert.True(result.ExitCode == 0, result.ToString());
        var chart = Regex.Match(await File.ReadAllTextAsync(path), "<svg id=\"cumulative-chart\".*?</svg>", RegexOptions.Singleline).Value;
        var ticks = Regex.Matches(chart, "<text class=\"time-tick\" data-at=\"([^\"]*)\" x=\"([^\"]*)\"[^>]*>([^<]*)</text>")
            .Select(m => (m.Groups[1].Value, m.Groups[3].Value)).ToList();
        // 30 days: a week apart, Berlin's midnight (UTC+2 in summer) of every Monday; 2026-06-01 is a Monday.
        Assert.Equal(
            [("2026-05-31T22:00:00Z", "2026-06-01"), ("2026-06-07T22:00:00Z", "2026-06-08"), ("2026-06-14T22:00:00Z", "2026-06-15"),
             ("2026-06-21T22:00:00Z", "2026-06-22"), ("2026-06-28T22:00:00Z", "2026-06-29")],
            ticks);
    }

    [Theory]
    [InlineData(800)]
    [InlineData(1600)]
    public async Task Html_InChromiumWindow_FitsTheWidthChartsAsWideAsThePage(int width)
    {
        // The page has no script; this copy of it gets one (and no CSP) only to measure its layout.
        var measuring = page.Path[..^5] + $"-measure-{width}.html";
        await File.WriteAllTextAsync(measuring, Regex.Replace(page.Html, "<meta http-equiv=\"Content-Security-Policy\"[^>]*>", "").Replace(
            "</body>",
            "<script>const d=document.documentElement,w=id=>{const e=document.getElementById(id);return e?Math.round(e.getBoundingClientRect().width):-1};"
            + "document.body.insertAdjacentHTML('beforeend','<pre id=\"lay'+'out\">'+[d.scrollWidth,d.clientWidth,document.body.clientWidth,w('cumulative-chart'),w('spot-chart')].join(' ')+'</pre>')</script></body>",
            StringComparison.Ordinal));

        var dom = await Chromium.DumpDomAsync(measuring, width, 900);

        var layout = Regex.Match(dom, "<pre id=\"layout\">([^<]*)</pre>");
        Assert.True(layout.Success, "the measuring script did not run");
        var (scroll, client, body, chart, spot) = layout.Groups[1].Value.Split(' ').Select(int.Parse).ToList() switch
        {
            [var a, var b, var c, var e, var f] => (a, b, c, e, f),
            var other => throw new InvalidOperationException(string.Join(' ', other)),
        };
        Assert.True(scroll <= client, $"the page scrolls sideways: {scroll} px wide in a {client} px window");
        Assert.Equal((body, body), (chart, spot));
    }

    /// <summary>The start tag of the element with this id.</summary>
    private static string Element(string html, string tag, string id)
    {
        var match = Regex.Match(html, $"<{tag} id=\"{Regex.Escape(id)}\"[^>]*>");
        Assert.True(match.Success, $"no <{tag} id=\"{id}\"> in the page");
        return match.Value;
    }

    /// <summary>A table row whose start tag has <paramref name="marker"/>, start tag and cells.</summary>
    private static string Row(string html, string marker)
    {
        var match = Regex.Match(html, $"<tr[^>]*{Regex.Escape(marker)}[^>]*>.*?</tr>", RegexOptions.Singleline);
        Assert.True(match.Success, $"no row with {marker} in the page");
        return match.Value;
    }

    /// <summary>The first attribute of that name, decoded as a browser reads it.</summary>
    private static string Attribute(string html, string name)
    {
        var match = Regex.Match(html, $"\\s{Regex.Escape(name)}=\"([^\"]*)\"");
        Assert.True(match.Success, $"no {name} in {html}");
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    /// <summary>The savings in a row or block: figure, <c>data-percent</c>, the text shown.</summary>
    private static List<(string Figure, string Percent, string Shown)> Percents(string html, string tag) =>
        [.. Regex.Matches(html, $"<{tag} (?:class=\"figure\" )?data-figure=\"([a-z-]+-saving)\" data-usd=\"[^\"]*\" data-percent=\"([^\"]*)\">(?:<div class=\"label\">[^<]*</div><div class=\"value\">)?(.*?)</(?:div|td)>")
            .Select(m => (m.Groups[1].Value, m.Groups[2].Value, WebUtility.HtmlDecode(Regex.Replace(m.Groups[3].Value, "<[^>]*>", ""))))];

    private static List<(string Figure, string Usd)> Figures(string row) =>
        [.. FigureCell().Matches(row).Where(m => m.Groups[1].Value is not ("sessions" or "hours")).Select(m => (m.Groups[1].Value, m.Groups[2].Value))];

    [GeneratedRegex("<td data-figure=\"([a-z-]+)\" data-usd=\"([^\"]*)\"")]
    private static partial Regex FigureCell();
}
