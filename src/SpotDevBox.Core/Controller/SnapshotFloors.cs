using Microsoft.Extensions.Logging;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Compute;

namespace SpotDevBox.Core.Controller;

/// <summary>The box's rollback floor: raised from what its status reports, within its instance's life, and never lowered.</summary>
internal sealed class SnapshotFloors(IControllerStore store, IBoxDocuments documents, ILogger logger)
{
    /// <summary>
    /// Raises the box's rollback floor to the snapshot its status reports, when the status is within the bounds of
    /// an instance of this box (<see cref="BoxRecordBounds.Check(AgentStatus)"/>: a snapshot dated in the future would
    /// make every later boot refuse), and copies a raised floor into <c>control.json</c>, which the box cannot write,
    /// for <c>up</c> on a machine without this database. Returns the control document as it now is.
    /// </summary>
    public async Task<ControlDocument?> RecordAsync(
        string box, BoxOptions o, AgentStatus? status, ControlDocument? control, IReadOnlyList<BoxInstance> instances, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var floor = await store.GetSnapshotFloorAsync(box, cancellationToken);
        if (status is { LastSnapshotId: { Length: > 0 } id, LastSnapshotTime: { } at, InstanceId: { } instanceId }
            && (floor is null || at > floor.Time)
            && await store.GetSessionAsync(instanceId, cancellationToken) is { } row
            && row.Box == box)
        {
            var bounds = BoxRecordBounds.Of(row, instances.FirstOrDefault(i => i.InstanceId == instanceId), now);
            if (bounds.Check(status) is { } problem)
            {
                ReconcilerLog.LogUntrustedStatus(logger, box, problem, bounds.Describe());
            }
            else
            {
                floor = await store.RaiseSnapshotFloorAsync(box, new SnapshotFloor(id, at), cancellationToken);
                ReconcilerLog.LogFloorRaised(logger, box, floor.Id, floor.Time);
            }
        }

        if (floor is null || SnapshotFloor.Raise(control?.SnapshotFloor, floor) == control?.SnapshotFloor)
        {
            return control;
        }

        // Not UpdatedAt: that stays the time a person or a stop last changed the document.
        var updated = (control ?? new ControlDocument()) with { SnapshotFloor = floor };
        await documents.WriteControlAsync(o.Storage, updated, cancellationToken);
        return updated;
    }
}
