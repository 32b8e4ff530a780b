using SpotDevBox.Core.Savings;

namespace SpotDevBox.Core.Tests.Savings;

public sealed class PriceTableFileTests
{
    [Theory]
    [InlineData("Source: the AWS Price List API, as generated into aws/karpenter-provider-aws|pkg/... generated at 2026-07-20T13:44:30Z.", "AWS Price List API", "2026-07-20")]
    [InlineData("Storage prices, region us-east-1, USD. Source: the AWS EBS and S3 pricing pages (published list|prices; check them).", "AWS EBS and S3 pricing pages", "undated")]
    [InlineData("Source: AWS's Spot Advisor JSON feed, as embedded in x (snapshot committed 2025-06-28). An estimate.", "AWS's Spot Advisor JSON feed", "2025-06-28")]
    [InlineData("no source here 2024-01-02", "source not stated", "2024-01-02")]
    public void ParseSource_HeaderLines_NameAndFirstDate(string comments, string name, string date)
    {
        var source = PriceTableFile.ParseSource(comments.Split('|'));

        Assert.Equal((name, date), (source.Name, source.DateText));
    }

    [Fact]
    public void Read_MissingColumn_NamesFileAndColumn()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "# x\ntype,price\nm7i.large,0.1\n");

            var e = Assert.Throws<InvalidDataException>(() => PriceTableFile.Read(path, ["instance_type", "usd_per_hour"], (_, _) => { }));

            Assert.Equal($"{path} line 2: the header has no column instance_type, usd_per_hour (expected instance_type,usd_per_hour)", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
