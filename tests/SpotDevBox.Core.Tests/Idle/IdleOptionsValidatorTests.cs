using SpotDevBox.Core.Idle;

namespace SpotDevBox.Core.Tests.Idle;

public sealed class IdleOptionsValidatorTests
{
    private static IReadOnlyList<string> Failures(IdleOptions options) =>
        [.. new IdleOptionsValidator().Validate(null, options).Failures ?? []];

    [Fact]
    public void Validate_Defaults_Succeed()
    {
        Assert.True(new IdleOptionsValidator().Validate(null, new IdleOptions()).Succeeded);
    }

    [Fact]
    public void Validate_ZeroIdleTimeout_NamesSettingLimitAndValue()
    {
        var failures = Failures(new IdleOptions { IdleTimeout = TimeSpan.Zero, WarnAt = [] });

        Assert.Contains("Agent:Idle:IdleTimeout must be between 00:01:00 and 7.00:00:00, got 00:00:00", failures);
    }

    [Fact]
    public void Validate_WarningNotShorterThanTimeout_Fails()
    {
        var failures = Failures(new IdleOptions { IdleTimeout = TimeSpan.FromMinutes(5), WarnAt = [TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(2)] });

        Assert.Equal(["Agent:Idle:WarnAt:0 must be longer than 00:00:00 and shorter than Agent:Idle:IdleTimeout (00:05:00), got 00:10:00"], failures);
    }

    [Fact]
    public void Validate_SignalSettings_NameTheirSubsection()
    {
        var options = new IdleOptions();
        options.Cpu.MinBusyCores = 0;
        options.Gpu.MinUtilizationPercent = 150;
        options.Network.MinBytesPerSecond = 0;
        options.Sessions.InputWindow = TimeSpan.FromSeconds(1);
        options.KeepAwake.ExtraProcesses.Add("/usr/bin/make");

        Assert.Equal(
            [
                "Agent:Idle:Sessions:InputWindow must be between 00:00:30 and 1.00:00:00, got 00:00:01",
                "Agent:Idle:Cpu:MinBusyCores must be more than 0 and at most 1024, got 0",
                "Agent:Idle:Gpu:MinUtilizationPercent must be between 1 and 100, got 150",
                "Agent:Idle:Network:MinBytesPerSecond must be at least 1, got 0",
                "Agent:Idle:KeepAwake:ExtraProcesses:0 must be a process name, not a path, got \"/usr/bin/make\"",
            ],
            Failures(options));
    }

    [Fact]
    public void Validate_ShortMaxSessionLength_Fails()
    {
        var failures = Failures(new IdleOptions { MaxSessionLength = TimeSpan.FromMinutes(5) });

        Assert.Equal(["Agent:Idle:MaxSessionLength must be between 00:15:00 and 30.00:00:00, got 00:05:00"], failures);
    }

    [Fact]
    public void EffectiveProcesses_ExtraProcesses_AddedToDefaults()
    {
        var options = new KeepAwakeSignalOptions { ExtraProcesses = ["bazel", "ansible-playbook"] };

        Assert.Contains("make", options.EffectiveProcesses);
        Assert.Contains("ansible-playbook", options.EffectiveProcesses);
        Assert.DoesNotContain("node", options.EffectiveProcesses);
        Assert.DoesNotContain("python3", options.EffectiveProcesses);
    }
}
