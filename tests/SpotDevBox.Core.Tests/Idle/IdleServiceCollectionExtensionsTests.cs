using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using SpotDevBox.Core.Idle;

namespace SpotDevBox.Core.Tests.Idle;

public sealed class IdleServiceCollectionExtensionsTests
{
    private static IHost Build(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddLogging();
        builder.Services.AddSingleton<ILeaseSource>(new LeaseFile(Path.Join(Path.GetTempPath(), Guid.NewGuid().ToString("N"), "lease.json")));
        builder.Services.AddSingleton<IStopActions>(new RecordingStopActions(TimeProvider.System));
        builder.Services.AddIdleDetection();
        return builder.Build();
    }

    [Fact]
    public void AddIdleDetection_ConfiguredSettings_BoundIntoThePlanner()
    {
        using var host = Build(new()
        {
            ["Agent:Idle:IdleTimeout"] = "00:45:00",
            ["Agent:Idle:Gpu:Enabled"] = "false",
            ["Agent:Idle:KeepAwake:ExtraProcesses:0"] = "bazel",
        });

        var options = host.Services.GetRequiredService<IOptions<IdleOptions>>().Value;
        var monitor = host.Services.GetRequiredService<IdleMonitor>();

        Assert.NotNull(host.Services.GetRequiredService<StopPlanner>());
        Assert.Equal(TimeSpan.FromMinutes(45), options.IdleTimeout);
        Assert.Contains("bazel", options.KeepAwake.EffectiveProcesses);
        Assert.Equal(["lease", "sessions", "remote IDE", "keep-awake processes", "cpu", "network"], monitor.Signals.Select(s => s.Name));
    }

    [Fact]
    public void AddIdleDetection_InvalidSetting_RefusedNamingIt()
    {
        using var host = Build(new() { ["Agent:Idle:Cpu:MinBusyCores"] = "0" });

        var error = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<IdleOptions>>().Value);

        Assert.Equal(["Agent:Idle:Cpu:MinBusyCores must be more than 0 and at most 1024, got 0"], error.Failures);
    }

    [Fact]
    public void AddIdleDetection_UnknownSetting_Refused()
    {
        using var host = Build(new() { ["Agent:Idle:IdleTimeoutMinutes"] = "30" });

        Assert.Throws<InvalidOperationException>(() => host.Services.GetRequiredService<IOptions<IdleOptions>>().Value);
    }
}
