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
        // The plot is 784 px wide; a legend swatch (16 px) or a box's bar (at most 160 px wide) cannot cover half of it: a line can.
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

    private static List<(string Figure, string Usd)> Figures(string row) =>
        [.. FigureCell().Matches(row).Where(m => m.Groups[1].Value is not ("sessions" or "hours")).Select(m => (m.Groups[1].Value, m.Groups[2].Value))];

    [GeneratedRegex("<td data-figure=\"([a-z-]+)\" data-usd=\"([^\"]*)\"")]
    private static partial Regex FigureCell();
}
