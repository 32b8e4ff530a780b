using SpotDevBox.Core.Interruption;

namespace SpotDevBox.Core.Tests.Interruption;

public sealed class InterruptionOptionsValidatorTests
{
    private readonly InterruptionOptionsValidator _validator = new();

    [Fact]
    public void Validate_Defaults_Succeeds()
    {
        var options = new InterruptionOptions();

        Assert.True(_validator.Validate(null, options).Succeeded);
        Assert.Equal(
            (TimeSpan.FromSeconds(2), TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10)),
            (options.PollInterval, options.MaintenancePollInterval, options.MaxBackoff, options.SafetyMargin));
    }

    [Fact]
    public void Validate_PollIntervalTooLong_NamesSettingLimitAndValue()
    {
        var result = _validator.Validate(null, new InterruptionOptions { PollInterval = TimeSpan.FromSeconds(10) });

        Assert.True(result.Failed);
        Assert.Contains("Agent:Interruption:PollInterval must be between 00:00:01 and 00:00:05, got 00:00:10", result.Failures!);
    }

    [Fact]
    public void Validate_PollIntervalZero_Fails()
    {
        var result = _validator.Validate(null, new InterruptionOptions { PollInterval = TimeSpan.Zero, MaxBackoff = TimeSpan.FromSeconds(10) });

        Assert.Contains("Agent:Interruption:PollInterval must be between 00:00:01 and 00:00:05, got 00:00:00", result.Failures!);
    }

    [Fact]
    public void Validate_MaxBackoffLongerThanHalfAMinute_NamesSetting()
    {
        var result = _validator.Validate(null, new InterruptionOptions { MaxBackoff = TimeSpan.FromMinutes(2) });

        Assert.Contains("Agent:Interruption:MaxBackoff must be between 00:00:01 and 00:00:30, got 00:02:00", result.Failures!);
    }

    [Fact]
    public void Validate_MaxBackoffShorterThanPollInterval_NamesBoth()
    {
        var result = _validator.Validate(null, new InterruptionOptions { PollInterval = TimeSpan.FromSeconds(5), MaxBackoff = TimeSpan.FromSeconds(3) });

        Assert.Contains("Agent:Interruption:MaxBackoff must not be shorter than Agent:Interruption:PollInterval (00:00:05), got 00:00:03", result.Failures!);
    }

    [Fact]
    public void Validate_NegativeSafetyMarginAndTinyMaintenanceInterval_ReportsBoth()
    {
        var result = _validator.Validate(null, new InterruptionOptions { SafetyMargin = TimeSpan.FromSeconds(-1), MaintenancePollInterval = TimeSpan.FromSeconds(1) });

        Assert.Equal(
            [
                "Agent:Interruption:MaintenancePollInterval must be between 00:00:10 and 01:00:00, got 00:00:01",
                "Agent:Interruption:SafetyMargin must be between 00:00:00 and 00:01:00, got -00:00:01",
            ],
            result.Failures!);
    }

    [Fact]
    public void BackupDeadline_NoticeAtTwoMinutes_IsNoticeTimeMinusMargin()
    {
        var options = new InterruptionOptions { SafetyMargin = TimeSpan.FromSeconds(10) };

        var deadline = options.BackupDeadline(new InstanceAction(InstanceActionKind.Stop, new DateTimeOffset(2024, 5, 1, 12, 2, 0, TimeSpan.Zero)));

        Assert.Equal(new DateTimeOffset(2024, 5, 1, 12, 1, 50, TimeSpan.Zero), deadline);
    }
}
