using Microsoft.Extensions.Time.Testing;
using SpotDevBox.Core.Savings;
using SpotDevBox.Core.Tests.Savings;
using SpotDevBox.Savings;
using TestSupport;

namespace SpotDevBox.Tests.Savings;

public sealed class PriceRefresherTests : IDisposable
{
    private readonly TempDir _temp = new("spotdevbox-refresher-");

    public void Dispose() => _temp.Dispose();

    private PriceRefresher Refresher() => new(
        new PriceFolders(new PriceTableFolder(_temp.Sub("tables"), _temp.Sub("tables")), new PriceTableFolder(_temp.Sub("shipped"), "config/prices")),
        new FakeTimeProvider(new DateTimeOffset(2026, 7, 21, 10, 0, 0, TimeSpan.Zero)));

    [Fact]
    public async Task RefreshAsync_Progress_RowsEveryNAndAllBytesAtTheEnd()
    {
        var offer = _temp.Sub("index.csv");
        await File.WriteAllTextAsync(offer, OfferFixture.Csv);
        var reports = new List<RefreshProgress>();

        var result = await Refresher().RefreshAsync("eu-west-3", offer, reports.Add, CancellationToken.None, reportEvery: 10);

        Assert.Equal([10L, 20L, 23L], reports.Select(r => r.Rows));
        var length = new FileInfo(offer).Length;
        Assert.Equal((length, length), (reports[^1].Bytes, reports[^1].TotalBytes!.Value));
        Assert.Equal(length, result.Bytes);
        Assert.Equal("# by 'spotdevbox prices refresh' at 2026-07-21T10:00:00Z.", File.ReadAllLines(result.OnDemandTable)[3]);
    }

    [Fact]
    public void WriteAtomically_ReplacesTheFileAndLeavesNoTemporary()
    {
        var path = _temp.Sub("table.csv");
        File.WriteAllText(path, "old\n");

        PriceRefresher.WriteAtomically(path, w => w.Write("new\n"));

        Assert.Equal("new\n", File.ReadAllText(path));
        Assert.Equal(["table.csv"], Directory.GetFiles(_temp.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void WriteAtomically_WriterFails_OldFileWholeAndNoTemporary()
    {
        var path = _temp.Sub("table.csv");
        File.WriteAllText(path, "old\n");

        Assert.Throws<InvalidOperationException>(() => PriceRefresher.WriteAtomically(path, w =>
        {
            w.Write("half a tab");
            w.Flush();
            throw new InvalidOperationException("disk full");
        }));

        Assert.Equal("old\n", File.ReadAllText(path));
        Assert.Equal(["table.csv"], Directory.GetFiles(_temp.Path).Select(Path.GetFileName));
    }
}
