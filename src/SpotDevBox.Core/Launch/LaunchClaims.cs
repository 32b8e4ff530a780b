using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Compute;

namespace SpotDevBox.Core.Launch;

/// <summary>
/// <c>launch.json</c> in a box's storage prefix: who is launching the box, for which session, until when. Written
/// only with a conditional write (<see cref="ILaunchClaimStore.TryWriteAsync"/>), so of two launchers that read
/// the same version exactly one replaces it; the other follows the winner's session. See docs/controller.md,
/// "One instance per box".
/// </summary>
public sealed record LaunchClaim
{
    public required string Box { get; init; }

    /// <summary>The session the launch is for: part of every client token of the launch and the instance's spotdevbox:session tag.</summary>
    public required string SessionId { get; init; }

    /// <summary>Who launches: a person (<c>up</c>) or <c>controller</c>.</summary>
    public required string ClaimedBy { get; init; }

    public required DateTimeOffset ClaimedAt { get; init; }

    /// <summary>Until this time nobody else launches the box unless the claim's instance ended; after it, anyone may claim.</summary>
    public required DateTimeOffset ExpiresAt { get; init; }

    /// <summary>The instance the launch started (or found running), once known.</summary>
    public string? InstanceId { get; init; }

    /// <summary>Set when the launch failed and started nothing: the claim no longer holds anyone back.</summary>
    public string? Failed { get; init; }
}

/// <summary>A claim as read, with the version tag a conditional write must name to replace it.</summary>
public sealed record VersionedLaunchClaim(LaunchClaim Claim, string ETag);

/// <summary>Where a box's launch claim lives (its storage prefix's <c>launch.json</c>). Storage failures throw <see cref="IOException"/>.</summary>
public interface ILaunchClaimStore
{
    /// <summary>The box's claim, or null when none was ever written.</summary>
    /// <exception cref="InvalidDataException">launch.json is not a claim.</exception>
    Task<VersionedLaunchClaim?> ReadAsync(string storage, CancellationToken cancellationToken);

    /// <summary>
    /// Writes <paramref name="claim"/> only if launch.json is still the version read: absent when
    /// <paramref name="expectedETag"/> is null, else of that ETag. False when someone else wrote it first.
    /// </summary>
    Task<bool> TryWriteAsync(string storage, LaunchClaim claim, string? expectedETag, CancellationToken cancellationToken);
}

/// <summary>What <see cref="LaunchClaims.ClaimAsync"/> decided.</summary>
public abstract record ClaimOutcome
{
    private ClaimOutcome()
    {
    }

    /// <summary>This launcher holds the claim: it launches, with <see cref="LaunchClaim.SessionId"/>.</summary>
    public sealed record Won(LaunchClaim Claim) : ClaimOutcome;

    /// <summary>Another launcher holds a claim in force: do not launch; follow its session.</summary>
    public sealed record Following(LaunchClaim Claim) : ClaimOutcome;
}

/// <summary>What following another launcher's claim came to.</summary>
public abstract record FollowOutcome
{
    private FollowOutcome()
    {
    }

    /// <summary>The box's live instance: the one the claimed session started, or one that was already running.</summary>
    public sealed record Found(BoxInstance Instance, LaunchClaim Claim) : FollowOutcome;

    /// <summary>The other launcher's launch failed and started nothing.</summary>
    public sealed record LaunchFailed(LaunchClaim Claim) : FollowOutcome;

    /// <summary>The claim expired, or its instance ended, without a live instance: the box may be claimed again.</summary>
    public sealed record Lapsed(LaunchClaim Claim) : FollowOutcome;

    /// <summary>Nothing came of it within the caller's time.</summary>
    public sealed record TimedOut(LaunchClaim Claim) : FollowOutcome;
}

/// <summary>
/// Exactly one launch per box across processes and machines, without a server: every launcher (<c>up</c> on any
/// machine, the controller) first claims the launch in the box's <c>launch.json</c> with a conditional write, and
/// launches only with the session id of a claim it won; a launcher that finds a claim in force, or loses the
/// write, follows that session instead (<see cref="FollowAsync"/>). EC2's client token, derived from the box, the
/// session and the candidate (<see cref="BoxLauncher"/>), makes the winner's own retries idempotent.
/// </summary>
public sealed class LaunchClaims(ILaunchClaimStore store, IComputeGatewayFactory gateways, TimeProvider time)
{
    /// <summary>
    /// How long a claim without a live instance holds others back. A launch tries each candidate with up to three
    /// same-token retries 2, 4 and 8 s apart (<see cref="BoxLauncher.SameCandidateBackoff"/>) plus the SDK's own:
    /// a few minutes for a long candidate list. Ten minutes outlasts that, and bounds how long a launcher that
    /// crashed before RunInstances blocks the box.
    /// </summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    /// <summary>How often a follower looks for the claimed session's instance.</summary>
    public static readonly TimeSpan FollowPoll = TimeSpan.FromSeconds(1);

    /// <summary>How many times a launcher that lost a write reads again before it gives up (each loss means another wrote).</summary>
    private const int Attempts = 5;

    /// <summary>
    /// Claims the launch of <paramref name="box"/> for <paramref name="proposedSession"/>, or finds who holds it.
    /// A claim of the same session (a retry after an indeterminate launch) is this launcher's own.
    /// </summary>
    public async Task<ClaimOutcome> ClaimAsync(string box, BoxOptions options, string proposedSession, string who, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(proposedSession);
        VersionedLaunchClaim? current = null;
        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            current = await store.ReadAsync(options.Storage, cancellationToken);
            var now = time.GetUtcNow();
            if (current is { Claim: var mine } && mine.SessionId == proposedSession && mine.Failed is null && now < mine.ExpiresAt)
            {
                return new ClaimOutcome.Won(mine);
            }

            if (current is { Claim: var held } && await InForceAsync(box, options, held, now, cancellationToken))
            {
                return new ClaimOutcome.Following(held);
            }

            var claim = new LaunchClaim { Box = box, SessionId = proposedSession, ClaimedBy = who, ClaimedAt = now, ExpiresAt = now + Lifetime };
            if (await store.TryWriteAsync(options.Storage, claim, current?.ETag, cancellationToken))
            {
                return new ClaimOutcome.Won(claim);
            }

            // Someone wrote launch.json since it was read: read it again, and follow them if their claim is in force.
        }

        throw new IOException($"{options.Storage}/launch.json changed {Attempts} times while box {box} was being claimed; try again");
    }

    /// <summary>Notes the instance the won claim's launch started (or found), for those who follow it. A lost write is ignored: the claim moved on.</summary>
    public Task RecordInstanceAsync(BoxOptions options, LaunchClaim won, string instanceId, CancellationToken cancellationToken) =>
        UpdateAsync(options, won, c => c with { InstanceId = instanceId }, cancellationToken);

    /// <summary>Gives the claim up after a launch that started nothing, so that followers stop waiting and report why.</summary>
    public Task ReleaseAsync(BoxOptions options, LaunchClaim won, string reason, CancellationToken cancellationToken) =>
        UpdateAsync(options, won, c => c with { Failed = reason }, cancellationToken);

    /// <summary>
    /// Waits (polling EC2 and launch.json every <see cref="FollowPoll"/>) until the claimed session's instance, or
    /// any live instance of the box, is listed; or the claim's launch failed, lapsed, or <paramref name="timeout"/> passed.
    /// A claim taken over meanwhile (after it expired) is followed in its stead.
    /// </summary>
    public async Task<FollowOutcome> FollowAsync(string box, BoxOptions options, LaunchClaim claim, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(claim);
        var gateway = gateways.ForRegion(options.Region);
        var until = time.GetUtcNow() + timeout;
        while (true)
        {
            var instances = (await gateway.FindBoxInstancesAsync(box, cancellationToken)).Owned(options.InstanceProfile);
            var live = instances.Where(i => i.IsLive).OrderByDescending(i => Of(claim, i)).ThenBy(i => i.LaunchTime).FirstOrDefault();
            if (live is not null)
            {
                return new FollowOutcome.Found(live, claim);
            }

            var now = time.GetUtcNow();
            var current = (await store.ReadAsync(options.Storage, cancellationToken))?.Claim;
            if (current is not null && current.SessionId != claim.SessionId)
            {
                claim = current;
                continue;
            }

            claim = current ?? claim;
            if (claim.Failed is not null)
            {
                return new FollowOutcome.LaunchFailed(claim);
            }

            if (now >= claim.ExpiresAt || instances.Any(i => Of(claim, i)))
            {
                // Expired without an instance, or the session's instance is listed and no longer live.
                return new FollowOutcome.Lapsed(claim);
            }

            if (now >= until)
            {
                return new FollowOutcome.TimedOut(claim);
            }

            await Task.Delay(FollowPoll, time, cancellationToken);
        }
    }

    /// <summary>
    /// Whether <paramref name="claim"/> still holds others back: not failed, and its session's instance is live, or
    /// none of its instances is listed yet and it has not expired. An instance of the session that EC2 lists as
    /// ended frees the box at once (a `down` and an `up` within the lifetime).
    /// </summary>
    private async Task<bool> InForceAsync(string box, BoxOptions options, LaunchClaim claim, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (claim.Failed is not null)
        {
            return false;
        }

        var instances = (await gateways.ForRegion(options.Region).FindBoxInstancesAsync(box, cancellationToken)).Owned(options.InstanceProfile);
        var its = instances.Where(i => Of(claim, i)).ToList();
        if (its.Any(i => i.IsLive))
        {
            return true;
        }

        return its.Count == 0 && now < claim.ExpiresAt;
    }

    private static bool Of(LaunchClaim claim, BoxInstance instance) =>
        instance.SessionId == claim.SessionId || (claim.InstanceId is not null && instance.InstanceId == claim.InstanceId);

    private async Task UpdateAsync(BoxOptions options, LaunchClaim won, Func<LaunchClaim, LaunchClaim> change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(won);
        var current = await store.ReadAsync(options.Storage, cancellationToken);
        if (current is null || current.Claim.SessionId != won.SessionId)
        {
            return;
        }

        await store.TryWriteAsync(options.Storage, change(current.Claim), current.ETag, cancellationToken);
    }
}
