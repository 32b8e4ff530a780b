using System.Globalization;
using SpotDevBox.Core.Compute;

namespace SpotDevBox.Core.Controller;

/// <summary>How the reconciler's reasons name durations, instance states and markets.</summary>
internal static class ReconcileText
{
    public static string Name(InstanceState state) => state switch
    {
        InstanceState.ShuttingDown => "shutting-down",
        _ => state.ToString().ToLowerInvariant(),
    };

    public static string Market(InstanceLifecycle lifecycle) => lifecycle == InstanceLifecycle.Spot ? "spot" : "on-demand";

    public static string Span(TimeSpan span)
    {
        if (span < TimeSpan.Zero)
        {
            span = TimeSpan.Zero;
        }

        return span.TotalHours >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalHours}h{span.Minutes:00}m")
            : span.TotalMinutes >= 1
                ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalMinutes}m{span.Seconds:00}s")
                : string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalSeconds}s");
    }
}
