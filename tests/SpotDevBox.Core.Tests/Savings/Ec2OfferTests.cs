using SpotDevBox.Core.Savings;

namespace SpotDevBox.Core.Tests.Savings;

/// <summary>The offer reader on the hand-written fixture (see <see cref="OfferFixture"/> for what each row is there for).</summary>
public sealed class Ec2OfferTests
{
    private static Task<OfferPrices> Read(string csv, string region = OfferFixture.Region, Action<long>? onRows = null, int reportEvery = 50_000) =>
        Ec2Offer.ReadAsync(new StringReader(csv), region, onRows, CancellationToken.None, reportEvery);

    [Fact]
    public async Task ReadAsync_Fixture_SelectsLinuxOnDemandSharedUsedHourlyInTheRegion()
    {
        var offer = await Read(OfferFixture.Csv);

        Assert.Equal(
            [
                new("c7g.xlarge", 0.1540m),
                new("m7i.large", 0.1176m),
                new("m7i.metal-24xl", 5.6448m),
                new KeyValuePair<string, decimal>("t3.micro", 0.0118m),
            ],
            offer.Instances);
    }

    [Fact]
    public async Task ReadAsync_Fixture_EbsStorageAndSnapshotsPerGbMonth()
    {
        var offer = await Read(OfferFixture.Csv);

        Assert.Equal(
            [
                new("ebs_gp2_storage", 0.116m),
                new("ebs_gp3_storage", 0.0928m),
                new KeyValuePair<string, decimal>("ebs_snapshot_standard", 0.053m),
            ],
            offer.Storage);
    }

    [Fact]
    public async Task ReadAsync_TwoPricesForOneType_LeftOutAndReported()
    {
        var offer = await Read(OfferFixture.Csv);

        var conflict = Assert.Single(offer.Conflicts);
        Assert.Equal("r7i.large", conflict.Key);
        Assert.Equal([0.1764m, 0.1820m], conflict.Prices);
        Assert.False(offer.Instances.ContainsKey("r7i.large"));
    }

    [Fact]
    public async Task ReadAsync_Fixture_MetadataAndRowCount()
    {
        var offer = await Read(OfferFixture.Csv);

        Assert.Equal(("2026-07-01T12:00:00Z", "20260701120000", 23L), (offer.PublicationDate, offer.Version, offer.Rows));
    }

    [Fact]
    public async Task ReadAsync_Progress_EveryNRowsThenTheTotal()
    {
        var reported = new List<long>();

        await Read(OfferFixture.Csv, onRows: reported.Add, reportEvery: 10);

        Assert.Equal([10L, 20L, 23L], reported);
    }

    [Fact]
    public async Task ReadAsync_OtherRegion_RefusedNamingTheOffersRegions()
    {
        var e = await Assert.ThrowsAsync<OfferFormatException>(() => Read(OfferFixture.Csv, "eu-central-1"));

        Assert.Equal("the offer holds no Linux on-demand instance price for eu-central-1 (its rows are for eu-west-2, eu-west-3)", e.Message);
    }

    [Fact]
    public async Task ReadAsync_AnotherServicesOffer_Refused()
    {
        var e = await Assert.ThrowsAsync<OfferFormatException>(() => Read(OfferFixture.Csv.Replace("\"OfferCode\",\"AmazonEC2\"", "\"OfferCode\",\"AmazonS3\"", StringComparison.Ordinal)));

        Assert.Equal("the offer is for AmazonS3, not AmazonEC2", e.Message);
    }

    [Fact]
    public async Task ReadAsync_HeaderWithoutTenancy_RefusedNamingTheColumn()
    {
        var e = await Assert.ThrowsAsync<OfferFormatException>(() => Read(OfferFixture.Csv.Replace("\"Tenancy\",", "\"Tenancy2\",", StringComparison.Ordinal)));

        Assert.Equal("the offer's header has no column \"Tenancy\": not an EC2 bulk offer CSV", e.Message);
    }

    [Fact]
    public async Task ReadAsync_NotAnOffer_Refused()
    {
        var e = await Assert.ThrowsAsync<OfferFormatException>(() => Read("instance_type,usd_per_hour,x\nm7i.large,0.1,y\n"));

        Assert.StartsWith("line 1 of the offer is neither a metadata line", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_CutOffInsideAQuotedField_Throws()
    {
        var cut = OfferFixture.Csv[..OfferFixture.Csv.IndexOf("Intel AVX, Intel AVX2, Intel Turbo", StringComparison.Ordinal)];

        await Assert.ThrowsAsync<InvalidDataException>(() => Read(cut));
    }

    [Fact]
    public void WriteOnDemand_Table_HeaderNamesPublicationDateAndSourceThenSortedRows()
    {
        var offer = new OfferPrices("eu-west-3", "2026-07-01T12:00:00Z", "20260701120000",
            new SortedDictionary<string, decimal>(StringComparer.Ordinal) { ["t3.micro"] = 0.0118000000m, ["m7i.large"] = 0.1176000000m },
            new SortedDictionary<string, decimal>(StringComparer.Ordinal), [], 2);
        var text = new StringWriter();

        PriceTableWriter.WriteOnDemand(text, offer, "https://example.test/index.csv", new DateTimeOffset(2026, 7, 21, 10, 0, 0, TimeSpan.Zero));

        Assert.Equal(
            """
            # On-demand price, Linux, shared tenancy, USD per hour, region eu-west-3.
            # Source: the AWS Price List bulk offer file, Publication Date 2026-07-01T12:00:00Z, version 20260701120000,
            # read from https://example.test/index.csv
            # by 'spotdevbox prices refresh' at 2026-07-21T10:00:00Z.
            instance_type,usd_per_hour
            m7i.large,0.1176
            t3.micro,0.0118

            """,
            text.ToString());
    }
}
