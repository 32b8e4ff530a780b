using System.IO.Compression;
using System.Text;
using SpotDevBox.Core.Savings;

namespace SpotDevBox.Core.Tests.Savings;

/// <summary>Feed files written by hand from the AWS documentation ("Spot Instance data feed"), gzipped here.</summary>
public sealed class SpotFeedTests
{
    private const string Header = "#Version: 1.0\n#Fields: Timestamp UsageType Operation InstanceID MyBidID MyMaxPrice MarketPrice Charge Version\n";

    [Fact]
    public async Task ReadAsync_BothUsageTypeFormsAndComments_ParsesEveryDataLine()
    {
        var feed = Header
            + "2026-11-27 09:00:00 UTC\tUSE1-SpotUsage:m7i.large\tRunInstances:SV001\ti-0123456789abcdef0\tsir-abcd1234\t0.100 USD\t0.0416 USD\t0.0416 USD\t1\n"
            + "# a comment in the middle is skipped too\n"
            + "\n"
            + "2026-11-27 09:00:00 UTC\tSpotUsage:m6i.large\tRunInstances:SV001\ti-0fedcba9876543210\tsir-efgh5678\t0.096 USD\t0.0392 USD\t0.0196 USD\t1\n"
            + "2026-11-27 09:00:00 UTC\tEUC1-SpotUsage\tRunInstances\ti-0aaaabbbbccccdddd\tsir-ijkl9012\t0.050 USD\t0.0071 USD\t0.0071 USD\t1\n";

        var records = await ReadAllAsync(feed, "feed.gz");

        Assert.Equal(3, records.Count);
        var first = records[0];
        Assert.Equal(new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero), first.Timestamp);
        Assert.Equal(("USE1-SpotUsage:m7i.large", "USE1", "m7i.large"), (first.UsageType, first.UsageRegion, first.InstanceType));
        Assert.Equal(("RunInstances:SV001", "i-0123456789abcdef0", "sir-abcd1234", "1"), (first.Operation, first.InstanceId, first.BidId, first.Version));
        Assert.Equal((0.100m, 0.0416m, 0.0416m), (first.MaxPrice, first.MarketPrice, first.Charge));
        // Older us-east-1 lines carry no region prefix.
        Assert.Equal(("", "m6i.large", 0.0196m), (records[1].UsageRegion, records[1].InstanceType, records[1].Charge));
        // A bare "SpotUsage" is an m1.small, as AWS documents.
        Assert.Equal(("EUC1", "m1.small"), (records[2].UsageRegion, records[2].InstanceType));
    }

    [Fact]
    public async Task ReadAsync_FieldsLineInAnotherOrder_ReadsByName()
    {
        var feed = "#Version: 1.0\n#Fields: InstanceID Charge Timestamp UsageType Operation MyBidID MyMaxPrice MarketPrice Version\n"
            + "i-0123456789abcdef0\t0.0208 USD\t2026-11-27 10:00:00 UTC\tUSE1-SpotUsage:m7i.large\tRunInstances:SV001\tsir-abcd1234\t0.100 USD\t0.0416 USD\t1\n";

        var record = Assert.Single(await ReadAllAsync(feed, "feed.gz"));

        Assert.Equal(("i-0123456789abcdef0", 0.0208m, 10), (record.InstanceId, record.Charge, record.Timestamp.Hour));
    }

    [Fact]
    public async Task ReadAsync_MalformedCharge_NamesTheFileTheLineAndTheField()
    {
        var feed = Header
            + "2026-11-27 09:00:00 UTC\tUSE1-SpotUsage:m7i.large\tRunInstances:SV001\ti-0123456789abcdef0\tsir-abcd1234\t0.100 USD\t0.0416 USD\t0.0416 USD\t1\n"
            + "2026-11-27 09:00:00 UTC\tUSE1-SpotUsage:m7i.large\tRunInstances:SV001\ti-0fedcba9876543210\tsir-efgh5678\t0.100 USD\t0.0416 USD\t0.04x USD\t1\n";

        var e = await Assert.ThrowsAsync<SpotFeedFormatException>(() => ReadAllAsync(feed, "s3://feeds/spot/123456789012.2026-11-27-09.001.abcd.gz"));

        Assert.Equal("s3://feeds/spot/123456789012.2026-11-27-09.001.abcd.gz line 4: Charge '0.04x USD' is not an amount in USD (e.g. 0.0416 USD)", e.Message);
    }

    [Theory]
    [InlineData("2026-11-27 09:00:00 UTC\tUSE1-SpotUsage:m7i.large\ti-0123456789abcdef0\t0.0416 USD", "line 3: expected 9 tab-separated fields")]
    [InlineData("2026-11-27T09:00:00Z\tUSE1-SpotUsage:m7i.large\tRunInstances:SV001\ti-0123456789abcdef0\tsir-a\t0.1 USD\t0.0416 USD\t0.0416 USD\t1", "line 3: Timestamp '2026-11-27T09:00:00Z' is not of the form")]
    [InlineData("2026-11-27 09:00:00 UTC\tUSE1-BoxUsage:m7i.large\tRunInstances:SV001\ti-0123456789abcdef0\tsir-a\t0.1 USD\t0.0416 USD\t0.0416 USD\t1", "line 3: UsageType 'USE1-BoxUsage:m7i.large' is not")]
    [InlineData("2026-11-27 09:00:00 UTC\tUSE1-SpotUsage:m7i.large\tRunInstances:SV001\ti-0123456789abcdef0\tsir-a\t0.1 USD\t0.0416 EUR\t0.0416 USD\t1", "line 3: MarketPrice '0.0416 EUR' is not an amount in USD")]
    public async Task ReadAsync_MalformedLine_SaysWhatIsWrong(string line, string expected)
    {
        var e = await Assert.ThrowsAsync<SpotFeedFormatException>(() => ReadAllAsync(Header + line + "\n", "f.gz"));

        Assert.StartsWith("f.gz " + expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_NotGzip_NamesTheFile()
    {
        using var plain = new MemoryStream(Encoding.UTF8.GetBytes(Header));

        var e = await Assert.ThrowsAsync<SpotFeedFormatException>(async () =>
        {
            await foreach (var _ in SpotFeed.ReadAsync(plain, "s3://feeds/x.gz", CancellationToken.None))
            {
            }
        });

        Assert.StartsWith("s3://feeds/x.gz: not a readable gzip file", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_DocumentedName_AccountHourSequenceAndId()
    {
        Assert.True(SpotFeedFile.TryParse("spot/123456789012.2026-11-27-09.001.8a1b2c3d.gz", out var file));

        Assert.Equal(("123456789012", new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero), 1, "8a1b2c3d"), (file.AccountId, file.Hour, file.Sequence, file.UniqueId));
        Assert.Equal("spot/123456789012.2026-11-27-09.001.8a1b2c3d.gz", file.Key);
    }

    [Theory]
    [InlineData("README.txt")]
    [InlineData("123456789012.2026-11-27-09.001.8a1b2c3d.gz.tmp")]
    [InlineData("123456789012.2026-13-27-09.001.8a1b2c3d.gz")]
    [InlineData("123456789012.2026-11-27.001.8a1b2c3d.gz")]
    [InlineData("spot/")]
    public void TryParse_OtherNames_False(string key)
    {
        Assert.False(SpotFeedFile.TryParse(key, out var file));
        Assert.Null(file);
    }

    internal static byte[] Gzip(string text)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(Encoding.UTF8.GetBytes(text));
        }

        return buffer.ToArray();
    }

    private static async Task<List<SpotFeedRecord>> ReadAllAsync(string text, string name)
    {
        using var stream = new MemoryStream(Gzip(text));
        var records = new List<SpotFeedRecord>();
        await foreach (var record in SpotFeed.ReadAsync(stream, name, CancellationToken.None))
        {
            records.Add(record);
        }

        return records;
    }
}
