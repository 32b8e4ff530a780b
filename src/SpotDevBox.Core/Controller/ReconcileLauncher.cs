using Microsoft.Extensions.Logging;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Launch;

namespace SpotDevBox.Core.Controller;

/// <summary>
/// Carries out a launch <see cref="BoxDecider"/> decided on: takes the box's launch claim, launches with the
/// session id the box state keeps from a launch whose outcome was unknown (so its client tokens are the same and
/// EC2 starts no second instance), opens the session, and on failure backs off (<see cref="RetryDelay"/>).
/// </summary>
internal sealed class ReconcileLauncher(
    IControllerStore store,
    ILaunchUserData userData,
    BoxLauncher launcher,
    LaunchClaims claims,
    SessionTracker sessions,
    ILogger logger,
    ControllerMetrics? metrics = null)
{
    /// <param name="interruptedAt">For a relaunch: when the interrupted session ended; the relaunch latency (a metric) is measured from it.</param>
    public async Task<BoxDecision> LaunchAsync(string box, BoxOptions o, LaunchIntent intent, ReconcileOptions settings, DateTimeOffset now, CancellationToken cancellationToken, DateTimeOffset? interruptedAt = null)
    {
        var (action, why, interrupted, state, nextChange) = intent;

        // The launch claim (launch.json, docs/controller.md "One instance per box"): an `up` from any machine, or
        // another controller, launching the box now holds it, and this pass leaves the box to that launch.
        var session = state.PendingSessionId ?? Reconciler.NewSessionId(now);
        LaunchClaim? won = null;
        LaunchResult result;
        try
        {
            var claim = await claims.ClaimAsync(box, o, session, "controller", cancellationToken);
            if (claim is ClaimOutcome.Following following)
            {
                var held = following.Claim;
                metrics?.Launch(box, o.Owner, o.Region, "claimed");
                return new BoxDecision(
                    box,
                    ReconcileActions.LaunchClaimed,
                    $"{why}; not launched: {held.ClaimedBy} launched it at {held.ClaimedAt.UtcDateTime:HH:mm:ss} UTC (session {held.SessionId}{(held.InstanceId is { } iid ? $", {iid}" : "")})",
                    held.InstanceId,
                    nextChange,
                    SessionId: held.SessionId);
            }

            won = ((ClaimOutcome.Won)claim).Claim;
            if (state.PendingSessionId != session)
            {
                // Stored before RunInstances: a controller killed during the call leaves the session id (and so the client
                // tokens) to whichever controller launches the box next, and EC2 then starts no second instance.
                state = state with { PendingSessionId = session };
                await store.SetBoxStateAsync(state, cancellationToken);
            }

            var floor = await store.GetSnapshotFloorAsync(box, cancellationToken);
            var render = await userData.PrepareAsync(box, o, new RollbackGuard(floor, AllowRollback: false), cancellationToken);
            result = await launcher.LaunchAsync(new BoxLaunch(box, o, session, render, interrupted), cancellationToken);
        }
        catch (Exception e) when (e is UserDataException or AgentBuildException or IOException or InvalidDataException)
        {
            result = new LaunchResult.Failed(won is null ? LaunchFailure.Unavailable : LaunchFailure.Rejected, $"box {box} not launched: {e.Message}", []);
        }

        if (won is not null)
        {
            try
            {
                switch (result)
                {
                    case LaunchResult.Launched l:
                        await claims.RecordInstanceAsync(o, won, l.Instance.InstanceId, cancellationToken);
                        break;
                    case LaunchResult.AlreadyRunning r:
                        await claims.RecordInstanceAsync(o, won, r.Instance.InstanceId, cancellationToken);
                        break;
                    case LaunchResult.Failed { Failure: not LaunchFailure.Indeterminate } f:
                        await claims.ReleaseAsync(o, won, f.Reason, cancellationToken);
                        break;
                }
            }
            catch (Exception e) when (e is IOException or InvalidDataException)
            {
                // The claim expires on its own; the launch's outcome stands.
                ReconcilerLog.LogDocumentUnreadable(logger, box, "launch.json", e.Message);
            }
        }

        metrics?.Launch(box, o.Owner, o.Region, Outcome(result));
        switch (result)
        {
            case LaunchResult.Launched launched:
                if (action == ReconcileActions.Relaunch && interruptedAt is { } interruption)
                {
                    metrics?.RelaunchLatency(box, o.Region, launched.Instance.LaunchTime - interruption);
                }

                await store.SetBoxStateAsync(state with { LaunchFailures = 0, NextLaunchAttemptAt = null, PendingSessionId = null }, cancellationToken);
                await sessions.OpenSessionAsync(box, o, launched.Instance, launched.Candidate.SpotPricePerHour, cancellationToken);
                var c = launched.Candidate;
                return new BoxDecision(
                    box,
                    action,
                    $"{why}: launched {launched.Instance.InstanceId} ({c})",
                    launched.Instance.InstanceId,
                    nextChange,
                    SessionId: launched.Instance.SessionId ?? session);

            case LaunchResult.AlreadyRunning running:
                if (state.PendingSessionId is not null)
                {
                    await store.SetBoxStateAsync(state with { PendingSessionId = null }, cancellationToken);
                }

                return new BoxDecision(box, ReconcileActions.None, $"{why}: {running.Instance.InstanceId} is already {ReconcileText.Name(running.Instance.State)}", running.Instance.InstanceId, nextChange);

            case LaunchResult.Failed failed:
                var failures = state.LaunchFailures + 1;
                var delay = RetryDelay(failed.Failure, failures, settings.MaxLaunchRetryDelay);
                await store.SetBoxStateAsync(
                    state with
                    {
                        LaunchFailures = failures,
                        NextLaunchAttemptAt = now + delay,
                        PendingSessionId = failed.Failure == LaunchFailure.Indeterminate ? session : null,
                    },
                    cancellationToken);
                return new BoxDecision(
                    box,
                    ReconcileActions.LaunchFailed,
                    $"{why}: {failed.Reason}; retrying in {ReconcileText.Span(delay)}",
                    null,
                    nextChange,
                    SessionId: failed.Failure == LaunchFailure.Indeterminate ? session : null);

            default:
                throw new InvalidOperationException($"unexpected launch result {result.GetType().Name}");
        }
    }

    /// <summary>The <c>outcome</c> label of <c>spotdevbox.launches</c> (docs/controller.md "Metrics").</summary>
    internal static string Outcome(LaunchResult result) => result switch
    {
        LaunchResult.Launched => "launched",
        LaunchResult.AlreadyRunning => "already-running",
        LaunchResult.Failed { Failure: LaunchFailure.NoCandidateLaunched } => "no-candidate",
        LaunchResult.Failed { Failure: LaunchFailure.Rejected } => "rejected",
        LaunchResult.Failed { Failure: LaunchFailure.Unavailable } => "unavailable",
        LaunchResult.Failed { Failure: LaunchFailure.Indeterminate } => "indeterminate",
        _ => "failed",
    };

    /// <summary>
    /// How long to wait after the <paramref name="failures"/>-th failed launch in a row: a launch EC2 refused (the
    /// configuration or the permissions: retrying will not help) waits the longest; others 1, 2, 4, ... minutes up to <paramref name="max"/>.
    /// </summary>
    internal static TimeSpan RetryDelay(LaunchFailure failure, int failures, TimeSpan max) =>
        failure == LaunchFailure.Rejected
            ? max
            : TimeSpan.FromMinutes(Math.Min(Math.Pow(2, failures - 1), max.TotalMinutes));
}
