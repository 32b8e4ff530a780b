namespace SpotDevBox.Core.Interruption;

/// <summary>What EC2 will do to a spot instance after its interruption notice.</summary>
public enum InstanceActionKind
{
    Terminate,
    Stop,

    /// <summary>Gets a notice but no lead time: hibernation starts right away.</summary>
    Hibernate,
}

/// <summary>
/// The spot interruption notice (<c>spot/instance-action</c>). <paramref name="Time"/> is when EC2 acts,
/// as EC2 stated it; deadlines are computed from it, never from "now + 120 s". Nothing promises the time
/// stays fixed (the AWS mock recomputes it on every read), so it does not identify the notice: an instance
/// gets one interruption, whose deadline a later, earlier time can only tighten.
/// </summary>
public sealed record InstanceAction(InstanceActionKind Kind, DateTimeOffset Time);

/// <summary>A rebalance recommendation: an elevated risk of interruption. A soft signal, never a shutdown; answered once per instance.</summary>
public sealed record RebalanceRecommendation(DateTimeOffset NoticeTime);

/// <summary>
/// One entry of <c>events/maintenance/scheduled</c>. <paramref name="Code"/> and <paramref name="State"/>
/// are EC2's strings (for example <c>instance-stop</c>, <c>active</c>), kept as received so an event code
/// EC2 adds later still reaches the log.
/// </summary>
public sealed record MaintenanceEvent(
    string EventId,
    string Code,
    string State,
    DateTimeOffset NotBefore,
    DateTimeOffset? NotAfter,
    string Description);

/// <summary>Who this instance is. <paramref name="Lifecycle"/> is <c>spot</c> or <c>on-demand</c>, as EC2 reports it.</summary>
public sealed record InstanceIdentity(
    string InstanceId,
    string InstanceType,
    string AvailabilityZone,
    string Region,
    string Lifecycle);
