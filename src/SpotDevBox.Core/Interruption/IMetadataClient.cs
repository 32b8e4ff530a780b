namespace SpotDevBox.Core.Interruption;

/// <summary>
/// The instance metadata service, shaped by what the agent needs. Every method returns a reading and
/// never throws for a service or network fault; only the caller's cancellation ends a call with
/// <see cref="OperationCanceledException"/>. Values are read fresh on every call, never cached.
/// </summary>
public interface IMetadataClient
{
    /// <summary><c>spot/instance-action</c>: the interruption notice.</summary>
    Task<MetadataReading<InstanceAction>> GetInstanceActionAsync(CancellationToken cancellationToken);

    /// <summary><c>events/recommendations/rebalance</c>.</summary>
    Task<MetadataReading<RebalanceRecommendation>> GetRebalanceRecommendationAsync(CancellationToken cancellationToken);

    /// <summary><c>events/maintenance/scheduled</c>: every listed event, whatever its code and state.</summary>
    Task<MetadataReading<IReadOnlyList<MaintenanceEvent>>> GetScheduledEventsAsync(CancellationToken cancellationToken);

    /// <summary>The instance identity document plus <c>instance-life-cycle</c>.</summary>
    Task<MetadataReading<InstanceIdentity>> GetIdentityAsync(CancellationToken cancellationToken);
}
