using SpotDevBox.Core.Controller;
using SpotDevBox.Core.Launch;

namespace SpotDevBox.Core.Tests.Controller;

public sealed class ReconcileLauncherTests
{
    /// <summary>1, 2, 4, ... minutes after each failure in a row, at most Reconcile:MaxLaunchRetryDelay (30 min); a refused launch waits the most at once.</summary>
    [Theory]
    [InlineData(LaunchFailure.NoCandidateLaunched, 1, 1)]
    [InlineData(LaunchFailure.Unavailable, 2, 2)]
    [InlineData(LaunchFailure.Indeterminate, 3, 4)]
    [InlineData(LaunchFailure.NoCandidateLaunched, 5, 16)]
    [InlineData(LaunchFailure.NoCandidateLaunched, 6, 30)]
    [InlineData(LaunchFailure.Unavailable, 20, 30)]
    [InlineData(LaunchFailure.Rejected, 1, 30)]
    public void RetryDelay_FailuresInARow_DoubleUpToTheMaximumAndARefusalWaitsTheMaximum(LaunchFailure failure, int failures, int minutes)
    {
        Assert.Equal(TimeSpan.FromMinutes(minutes), ReconcileLauncher.RetryDelay(failure, failures, TimeSpan.FromMinutes(30)));
    }
}
