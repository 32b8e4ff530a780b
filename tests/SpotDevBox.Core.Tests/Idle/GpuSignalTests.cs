using SpotDevBox.Core.Idle;

namespace SpotDevBox.Core.Tests.Idle;

public sealed class GpuSignalTests
{
    private static readonly DateTimeOffset Now = new(2025, 6, 2, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task SampleAsync_BusyGpu_Active()
    {
        var signal = new GpuSignal(new GpuSignalOptions(), new FakeCommandRunner(CommandResult.Exit(0, "87\n")));

        var reading = await signal.SampleAsync(Now, default);

        Assert.True(reading.Active);
        Assert.Equal("GPU 0 at 87%", reading.Reason);
    }

    [Fact]
    public async Task SampleAsync_SecondOfTwoGpusBusy_ActiveNamingIt()
    {
        var signal = new GpuSignal(new GpuSignalOptions(), new FakeCommandRunner(CommandResult.Exit(0, "3\n87\n")));

        var reading = await signal.SampleAsync(Now, default);

        Assert.Equal("GPU 1 at 87%", reading.Reason);
    }

    [Fact]
    public async Task SampleAsync_GpuBelowThreshold_Inactive()
    {
        var signal = new GpuSignal(new GpuSignalOptions(), new FakeCommandRunner(CommandResult.Exit(0, "3\n")));

        var reading = await signal.SampleAsync(Now, default);

        Assert.Equal(SignalState.Inactive, reading.State);
        Assert.Equal("GPU 0 at 3%, below 10%", reading.Reason);
    }

    [Fact]
    public async Task SampleAsync_NoNvidiaSmi_UnavailableAndNotLookedForAgain()
    {
        var runner = new FakeCommandRunner(CommandResult.NotFound);
        var signal = new GpuSignal(new GpuSignalOptions(), runner);

        var first = await signal.SampleAsync(Now, default);
        var second = await signal.SampleAsync(Now.AddMinutes(1), default);

        Assert.Equal(SignalState.Unavailable, first.State);
        Assert.False(first.Active);
        Assert.Equal("nvidia-smi not found; GPUs not watched", first.Reason);
        Assert.Equal(SignalState.Unavailable, second.State);
        Assert.Equal(1, runner.Calls);
    }

    [Fact]
    public async Task SampleAsync_NvidiaSmiFails_UnavailableWithItsError()
    {
        var runner = new FakeCommandRunner(CommandResult.Exit(9, "", "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n"));
        var signal = new GpuSignal(new GpuSignalOptions(), runner);

        var reading = await signal.SampleAsync(Now, default);

        Assert.Equal(SignalState.Unavailable, reading.State);
        Assert.Equal("nvidia-smi failed with exit code 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.", reading.Reason);
    }

    [Fact]
    public async Task SampleAsync_UtilisationNotSupported_Unavailable()
    {
        var signal = new GpuSignal(new GpuSignalOptions(), new FakeCommandRunner(CommandResult.Exit(0, "[N/A]\n")));

        var reading = await signal.SampleAsync(Now, default);

        Assert.Equal(SignalState.Unavailable, reading.State);
    }
}
