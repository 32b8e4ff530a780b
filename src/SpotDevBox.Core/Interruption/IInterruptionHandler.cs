namespace SpotDevBox.Core.Interruption;

/// <summary>
/// What the agent does with a signal. Each method must return quickly: the agent starts long work (the
/// final backup) on its own task, because the watcher awaits the handler on its polling loop. The
/// watcher calls each method at most once per signal and logs (never rethrows) an exception from it.
/// Nothing here should end the instance: EC2 does that, and ending it ourselves forfeits the
/// first-hour-free rule.
/// </summary>
public interface IInterruptionHandler
{
    /// <summary>The spot interruption notice; the backup deadline is <c>action.Time - SafetyMargin</c>.</summary>
    Task OnInstanceActionAsync(InstanceAction action, CancellationToken cancellationToken);

    /// <summary>A soft signal: start an early backup and tell the user; never a shutdown.</summary>
    Task OnRebalanceRecommendationAsync(RebalanceRecommendation recommendation, CancellationToken cancellationToken);

    /// <summary>An active scheduled event that stops or retires the instance.</summary>
    Task OnMaintenanceEventAsync(MaintenanceEvent maintenanceEvent, CancellationToken cancellationToken);
}
