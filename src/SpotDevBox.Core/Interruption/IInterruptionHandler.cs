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
    /// <summary>
    /// The spot interruption notice; the backup deadline is <c>action.Time - SafetyMargin</c>. Called once
    /// per instance: a later reading with another time or action is the same interruption.
    /// </summary>
    Task OnInstanceActionAsync(InstanceAction action, CancellationToken cancellationToken);

    /// <summary>
    /// The notice already handled now gives an earlier time: move the response's deadline earlier. Never a
    /// second response. Called each time the time moves earlier still; a later time is never passed on.
    /// </summary>
    Task OnInstanceActionTightenedAsync(InstanceAction action, CancellationToken cancellationToken);

    /// <summary>A soft signal: start an early backup and tell the user; never a shutdown. Called once per instance.</summary>
    Task OnRebalanceRecommendationAsync(RebalanceRecommendation recommendation, CancellationToken cancellationToken);

    /// <summary>An active scheduled event that stops or retires the instance.</summary>
    Task OnMaintenanceEventAsync(MaintenanceEvent maintenanceEvent, CancellationToken cancellationToken);
}
