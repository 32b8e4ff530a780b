using SpotDevBox.Core.Savings;

namespace SpotDevBox.Core.Tests.Savings;

public sealed class PriceOptionsValidatorTests
{
    private static IEnumerable<string> Failures(PriceOptions options) =>
        new PriceOptionsValidator().Validate(null, options).Failures ?? [];

    [Fact]
    public void Validate_PlainPricesAndZero_Succeeds()
    {
        var options = new PriceOptions();
        options.OnDemand["eu-west-3"] = new() { ["m7i.large"] = "0.1176", ["t3.nano"] = "0" };
        options.Storage["eu-west-3"] = new() { ["ebs_gp3_storage"] = "0.0928", ["s3_standard_first_50tb"] = "0.024" };

        Assert.True(new PriceOptionsValidator().Validate(null, options).Succeeded);
    }

    [Fact]
    public void Validate_NonNumericAndNegative_NameEachSetting()
    {
        var options = new PriceOptions();
        options.OnDemand["eu-west-3"] = new() { ["m7i.large"] = "0,1176", ["c7g.large"] = "-0.07" };
        options.Storage["eu-west-3"] = new() { ["ebs_gp3_storage"] = "cheap" };

        Assert.Equal(
            [
                "Prices:OnDemand:eu-west-3:m7i.large must be a price in USD per instance hour (e.g. 0.1134), got '0,1176'",
                "Prices:OnDemand:eu-west-3:c7g.large must not be negative, got -0.07",
                "Prices:Storage:eu-west-3:ebs_gp3_storage must be a price in USD per GB-month (e.g. 0.08), got 'cheap'",
            ],
            Failures(options));
    }

    [Fact]
    public void Validate_UnknownStorageItemAndBadRegion_Named()
    {
        var options = new PriceOptions();
        options.OnDemand["Paris"] = new() { ["m7i.large"] = "0.1" };
        options.Storage["eu-west-3"] = new() { ["ebs_gp3"] = "0.08" };

        var failures = Failures(options).ToList();

        Assert.Equal(2, failures.Count);
        Assert.Equal("Prices:OnDemand:Paris: 'Paris' is not an AWS region name (e.g. eu-central-1)", failures[0]);
        Assert.StartsWith("Prices:Storage:eu-west-3:ebs_gp3 is not a storage price; known items: ebs_gp2_storage, ebs_gp3_storage,", failures[1], StringComparison.Ordinal);
    }
}
