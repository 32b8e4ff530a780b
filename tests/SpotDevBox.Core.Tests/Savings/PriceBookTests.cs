using SpotDevBox.Core.Savings;

namespace SpotDevBox.Core.Tests.Savings;

/// <summary>
/// The price book over the shipped tables (config/prices, copied next to the tests), a refreshed-tables folder and
/// overrides. Expected prices are the tables' own lines, read by eye: m7i.large 0.100800 (line 719 of the on-demand
/// table), ebs_gp3_storage 0.08, s3_standard_first_50tb 0.023; advisor us-east-1 Linux m7i.large 68 / 15-20%.
/// </summary>
public sealed class PriceBookTests : IDisposable
{
    private static readonly PriceTableFolder Shipped = new(Path.Combine(AppContext.BaseDirectory, "config", "prices"), "config/prices");

    private readonly DirectoryInfo _refreshed = Directory.CreateTempSubdirectory("spotdevbox-prices-");

    private PriceTableFolder Refreshed => new(_refreshed.FullName, _refreshed.FullName);

    public void Dispose() => _refreshed.Delete(recursive: true);

    private PriceBook Book(PriceOptions? options = null) => new([Refreshed, Shipped], options ?? new PriceOptions());

    private void WriteRefreshed(string name, string text) => File.WriteAllText(Path.Combine(_refreshed.FullName, name), text);

    [Fact]
    public void PerHour_ShippedTable_PriceAndSourceWithDate()
    {
        var quote = Book().PerHour("us-east-1", "m7i.large");

        Assert.Equal(0.1008m, quote.UsdPerUnit);
        Assert.Equal("config/prices/ondemand-linux-us-east-1.csv (AWS Price List API, 2026-07-20)", quote.Source);
        Assert.True(quote.IsKnown);
    }

    [Theory]
    [InlineData("t2.nano", "0.0058")]
    [InlineData("p5.48xlarge", "55.04")]
    [InlineData("u-12tb1.112xlarge", "109.2")]
    [InlineData("M7I.Large", "0.1008")]
    public void PerHour_ShippedTable_OtherTypes(string type, string expected)
    {
        Assert.Equal(decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), Book().PerHour("us-east-1", type).UsdPerUnit);
    }

    [Fact]
    public void PerHour_RegionWithoutTable_UnknownNamingRefreshAndSetting()
    {
        var quote = Book().PerHour("eu-west-3", "m7i.large");

        Assert.False(quote.IsKnown);
        Assert.Null(quote.UsdPerUnit);
        Assert.Equal("unknown", quote.Source);
        Assert.Equal(
            "no on-demand price table for region eu-west-3: run 'spotdevbox prices refresh --region eu-west-3', or set Prices:OnDemand:eu-west-3:m7i.large (USD per hour)",
            quote.Missing);
    }

    [Fact]
    public void PerHour_TypeNotInTable_UnknownNamingTheTableAndTheFixes()
    {
        var quote = Book().PerHour("us-east-1", "m7i.huge");

        Assert.Equal(
            "no on-demand Linux price for m7i.huge in us-east-1 in config/prices/ondemand-linux-us-east-1.csv: check the instance type's name, "
            + "run 'spotdevbox prices refresh --region us-east-1' for a newer table, or set Prices:OnDemand:us-east-1:m7i.huge (USD per hour)",
            quote.Missing);
    }

    [Fact]
    public void PerHour_NotARegion_Unknown()
    {
        Assert.Equal("'../etc' is not an AWS region name (e.g. us-east-1)", Book().PerHour("../etc", "m7i.large").Missing);
    }

    [Fact]
    public void PerHour_RefreshedTable_WinsOverShippedRowByRow()
    {
        WriteRefreshed("ondemand-linux-us-east-1.csv", """
            # On-demand price, Linux, shared tenancy, USD per hour, region us-east-1.
            # Source: the AWS Price List bulk offer file, Publication Date 2026-08-02T00:00:00Z, version 20260802000000,
            instance_type,usd_per_hour
            m7i.large,0.0999

            """);
        var book = Book();

        var refreshed = book.PerHour("us-east-1", "m7i.large");
        Assert.Equal(0.0999m, refreshed.UsdPerUnit);
        Assert.Equal($"{_refreshed.FullName}/ondemand-linux-us-east-1.csv (AWS Price List bulk offer file, 2026-08-02)", refreshed.Source);
        // The refreshed table lacks t2.nano: the shipped one still answers.
        Assert.Equal(0.0058m, book.PerHour("us-east-1", "t2.nano").UsdPerUnit);
    }

    [Fact]
    public void PerHour_Override_WinsOverRefreshedAndShipped()
    {
        WriteRefreshed("ondemand-linux-us-east-1.csv", "instance_type,usd_per_hour\nm7i.large,0.0999\n");
        var options = new PriceOptions();
        options.OnDemand["us-east-1"] = new() { ["m7i.large"] = "0.09" };
        options.OnDemand["eu-west-3"] = new() { ["m7i.large"] = "0.1176" };

        var book = Book(options);

        Assert.Equal(new PriceQuote(0.09m, "Prices:OnDemand:us-east-1:m7i.large (configuration)"), book.PerHour("us-east-1", "m7i.large"));
        Assert.Equal(0.1176m, book.PerHour("eu-west-3", "m7i.large").UsdPerUnit);
        // Only the overridden type: the region still has no table for another.
        Assert.False(book.PerHour("eu-west-3", "m7i.xlarge").IsKnown);
    }

    [Fact]
    public void Storage_ShippedTable_EbsAndS3()
    {
        var book = Book();

        Assert.Equal(new PriceQuote(0.08m, "config/prices/storage-us-east-1.csv (AWS EBS and S3 pricing pages, undated)"), book.EbsPerGbMonth("us-east-1", "gp3"));
        Assert.Equal(0.023m, book.S3StandardPerGbMonth("us-east-1").UsdPerUnit);
        Assert.Equal(0.05m, book.Item("us-east-1", StorageItems.EbsSnapshot).UsdPerUnit);
        Assert.Equal(0.005m, book.Item("us-east-1", StorageItems.S3PutCopyPostList).UsdPerUnit);
    }

    [Fact]
    public void Storage_NoTableForRegion_UnknownNamingRefreshForEbsAndSettingForS3()
    {
        var book = Book();

        Assert.Equal(
            "no storage price table for region eu-west-3: run 'spotdevbox prices refresh --region eu-west-3' (EBS prices come with the EC2 offer), or set Prices:Storage:eu-west-3:ebs_gp3_storage (USD per GB-month)",
            book.EbsPerGbMonth("eu-west-3", "gp3").Missing);
        Assert.Equal(
            "no storage price table for region eu-west-3: set Prices:Storage:eu-west-3:s3_standard_first_50tb (USD per GB-month); 'prices refresh' reads the EC2 offer, which has no S3 prices",
            book.S3StandardPerGbMonth("eu-west-3").Missing);
    }

    [Fact]
    public void Storage_RefreshedTableWithoutS3_ShippedS3StillAnswersAndOverrideWins()
    {
        WriteRefreshed("storage-us-east-1.csv", "# Source: the AWS Price List bulk offer file, Publication Date 2026-08-02T00:00:00Z,\nitem,unit,usd\nebs_gp3_storage,GB-month,0.079\n");
        var options = new PriceOptions();
        options.Storage["us-east-1"] = new() { ["s3_standard_first_50tb"] = "0.021" };

        var book = Book(options);

        Assert.Equal(0.079m, book.EbsPerGbMonth("us-east-1", "gp3").UsdPerUnit);
        Assert.Equal(new PriceQuote(0.021m, "Prices:Storage:us-east-1:s3_standard_first_50tb (configuration)"), book.S3StandardPerGbMonth("us-east-1"));
        Assert.Equal(0.05m, book.Item("us-east-1", StorageItems.EbsSnapshot).UsdPerUnit);
    }

    [Fact]
    public void Advisor_UsEast1M7iLarge_LinuxRowWithBandAndDate()
    {
        var advice = Book().Find("us-east-1", "m7i.large");

        Assert.Equal(
            new SpotAdvice("us-east-1", "m7i.large", 68, "15-20%", new DateOnly(2025, 6, 28), "config/prices/spot-advisor.csv (AWS's Spot Advisor JSON feed, 2025-06-28)"),
            advice);
    }

    [Theory]
    [InlineData("eu-west-3", "m7i.large", 67, "<5%")]
    [InlineData("af-south-1", "c5.12xlarge", 87, ">20%")]
    public void Advisor_OtherRegions(string region, string type, int savings, string band)
    {
        var advice = Book().Find(region, type);

        Assert.NotNull(advice);
        Assert.Equal((savings, band), (advice.SavingsPercent, advice.InterruptionBand));
    }

    [Fact]
    public void Advisor_UnknownTypeOrRegion_Null()
    {
        var book = Book();

        Assert.Null(book.Find("us-east-1", "m7i.huge"));
        Assert.Null(book.Find("xx-nowhere-1", "m7i.large"));
    }

    [Fact]
    public void Advisor_RefreshedAdvisorFile_Wins()
    {
        WriteRefreshed("spot-advisor.csv", "# Source: AWS's Spot Advisor JSON feed (snapshot 2026-08-01).\nregion,os,instance_type,savings_pct,interruption_band\nus-east-1,Linux,m7i.large,55,5-10%\nus-east-1,Windows,m7i.large,30,<5%\n");

        var advice = Book().Find("us-east-1", "m7i.large");

        Assert.Equal((55, "5-10%", new DateOnly(2026, 8, 1)), (advice!.SavingsPercent, advice.InterruptionBand, advice.AsOf));
    }

    [Fact]
    public void PerHour_BrokenRefreshedTable_ThrowsNamingFileAndLine()
    {
        WriteRefreshed("ondemand-linux-us-east-1.csv", "instance_type,usd_per_hour\nm7i.large,0.0999\nm7i.xlarge,cheap\n");

        var e = Assert.Throws<InvalidDataException>(() => Book().PerHour("us-east-1", "m7i.large"));

        Assert.Equal($"{_refreshed.FullName}/ondemand-linux-us-east-1.csv line 3: 'cheap' is not a price in USD", e.Message);
    }
}
