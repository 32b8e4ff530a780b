using SpotDevBox.Core.Interruption;

namespace SpotDevBox.Core.Tests.Interruption;

public sealed class MetadataOptionsValidatorTests
{
    private readonly MetadataOptionsValidator _validator = new();

    [Fact]
    public void Validate_Defaults_SucceedsWithSecureDefaults()
    {
        var options = new MetadataOptions();

        Assert.True(_validator.Validate(null, options).Succeeded);
        Assert.Equal(new Uri("http://169.254.169.254"), options.BaseUrl);
        Assert.Equal(TimeSpan.FromHours(6), options.TokenTtl);
        Assert.Equal(TimeSpan.FromSeconds(1.5), options.TokenRequestTimeout);
        Assert.False(options.AllowV1Fallback);
    }

    [Theory]
    [InlineData(0, "Agent:Metadata:TokenTtl must be between 00:00:01 and 06:00:00, got 00:00:00")]
    [InlineData(21601, "Agent:Metadata:TokenTtl must be between 00:00:01 and 06:00:00, got 06:00:01")]
    public void Validate_TokenTtlOutOfRange_NamesSettingLimitAndValue(int seconds, string expected)
    {
        var result = _validator.Validate(null, new MetadataOptions { TokenTtl = TimeSpan.FromSeconds(seconds), TokenRefreshBefore = TimeSpan.Zero });

        Assert.Contains(expected, result.Failures!);
    }

    [Fact]
    public void Validate_TokenTtlFractional_Fails()
    {
        var result = _validator.Validate(null, new MetadataOptions { TokenTtl = TimeSpan.FromSeconds(90.5), TokenRefreshBefore = TimeSpan.FromSeconds(10) });

        Assert.Contains("Agent:Metadata:TokenTtl must be a whole number of seconds, got 00:01:30.5000000", result.Failures!);
    }

    [Fact]
    public void Validate_RefreshNotBeforeExpiry_NamesBothSettings()
    {
        var result = _validator.Validate(null, new MetadataOptions { TokenTtl = TimeSpan.FromMinutes(1) });

        Assert.Contains("Agent:Metadata:TokenRefreshBefore must be at least 00:00:00 and shorter than Agent:Metadata:TokenTtl (00:01:00), got 00:05:00", result.Failures!);
    }

    [Theory]
    [InlineData("ftp://169.254.169.254")]
    [InlineData("file:///etc/passwd")]
    public void Validate_BaseUrlNotHttp_NamesSetting(string url)
    {
        var result = _validator.Validate(null, new MetadataOptions { BaseUrl = new Uri(url) });

        Assert.Contains(result.Failures!, f => f.StartsWith("Agent:Metadata:BaseUrl must be an absolute http:// URL", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_TimeoutsOutOfRange_NamesEachSetting()
    {
        var result = _validator.Validate(null, new MetadataOptions
        {
            TokenRequestTimeout = TimeSpan.FromSeconds(30),
            RequestTimeout = TimeSpan.Zero,
            TokenRetryCooldown = TimeSpan.FromHours(1),
        });

        Assert.Equal(
            [
                "Agent:Metadata:TokenRequestTimeout must be between 00:00:00.1000000 and 00:00:05, got 00:00:30",
                "Agent:Metadata:TokenRetryCooldown must be between 00:00:01 and 00:05:00, got 01:00:00",
                "Agent:Metadata:RequestTimeout must be between 00:00:00.1000000 and 00:00:10, got 00:00:00",
            ],
            result.Failures!);
    }
}
