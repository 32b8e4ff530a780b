using Microsoft.Extensions.Logging;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Compute;

namespace SpotDevBox.Core.Controller;

/// <summary>
/// Instances that carry the box's tag but are not its one instance: another principal's (a foreign instance, left
/// alone and reported), and the box's own beyond the oldest live one (two launches at once), which are terminated.
/// </summary>
internal sealed class Duplicates(SessionTracker sessions, ILogger logger)
{
    /// <summary>
    /// One <see cref="ReconcileActions.ForeignInstance"/> decision per live instance with the box's tag whose instance
    /// profile is not the box's: not adopted, not terminated, no Elastic IP, no session (docs/security.md).
    /// </summary>
    public static IEnumerable<BoxDecision> Foreign(string box, BoxOptions o, IReadOnlyList<BoxInstance> instances)
    {
        foreach (var foreign in instances.Foreign(o.InstanceProfile).Where(i => i.IsLive))
        {
            var profile = InstanceProfiles.Describe(foreign.InstanceProfileArn);
            yield return new BoxDecision(
                box,
                ReconcileActions.ForeignInstance,
                $"{foreign.InstanceId} carries the tag {BoxTags.Box}={box} but its instance profile is {profile}, not the box's ({(string.IsNullOrWhiteSpace(o.InstanceProfile) ? "none" : o.InstanceProfile.Trim())}): not adopted, left alone (not terminated, no Elastic IP, no session)",
                foreign.InstanceId,
                Signature: profile);
        }
    }

    /// <summary>Terminates the box's <paramref name="extras"/> through the API, keeping <paramref name="keep"/>; their sessions end as API stops.</summary>
    public async Task TerminateAsync(IComputeGateway gateway, string box, string keep, IReadOnlyList<string> extras, DateTimeOffset now, CancellationToken cancellationToken)
    {
        foreach (var extra in extras)
        {
            await sessions.StoppedThroughApiAsync(extra, now, cancellationToken);
            await gateway.TerminateAsync(extra, cancellationToken);
            ReconcilerLog.LogDuplicateTerminated(logger, box, extra, keep);
        }
    }
}
