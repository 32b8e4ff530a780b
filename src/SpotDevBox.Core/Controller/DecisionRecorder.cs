using Microsoft.Extensions.Logging;

namespace SpotDevBox.Core.Controller;

/// <summary>
/// Logs every decision; stores it and logs it at Information when it acts or its reason changed. The last decision
/// stored per box is a mark in the store (<see cref="IControllerStore.SwapMarkAsync"/>), not in this process: with
/// several controllers on one database a decision repeated every pass is stored once, whichever controller makes it.
/// </summary>
internal sealed class DecisionRecorder(IControllerStore store, TimeProvider time, ILogger logger)
{
    public async Task RecordAsync(BoxDecision decision, CancellationToken cancellationToken)
    {
        var key = decision.Action switch
        {
            ReconcileActions.SessionStarted or ReconcileActions.SessionEnded or ReconcileActions.InstanceState => null,
            ReconcileActions.BudgetWarning => decision.Box + ":budget:" + decision.Signature,
            ReconcileActions.ForeignInstance => decision.Box + ":foreign:" + decision.InstanceId,
            _ => decision.Box,
        };
        var signature = decision.Action + "|" + (decision.Signature ?? decision.Reason);
        var changed = key is null || await store.SwapMarkAsync("decision:" + key, signature, cancellationToken);
        if (!changed)
        {
            ReconcilerLog.LogDecisionRepeated(logger, decision.Box, decision.Action, decision.Reason);
            return;
        }

        if (decision.Action is ReconcileActions.ForeignInstance)
        {
            ReconcilerLog.LogForeignInstance(logger, decision.Box, decision.InstanceId ?? "-", decision.Signature ?? "none", decision.Reason);
        }
        else if (decision.Action is ReconcileActions.LaunchFailed or ReconcileActions.AddressFailed or ReconcileActions.BudgetWarning or ReconcileActions.BudgetExceeded or ReconcileActions.ApiStop or ReconcileActions.TerminateDuplicate or ReconcileActions.Unreachable)
        {
            ReconcilerLog.LogDecisionWarning(logger, decision.Box, decision.Action, decision.Reason);
        }
        else
        {
            ReconcilerLog.LogDecision(logger, decision.Box, decision.Action, decision.Reason);
        }

        // A decision about an instance concerns its session: the one the store opened for it (its session tag).
        var session = decision.SessionId
            ?? (decision.InstanceId is { } instanceId ? (await store.GetSessionAsync(instanceId, cancellationToken))?.SessionId : null);
        await store.RecordDecisionAsync(
            new DecisionRow(time.GetUtcNow(), decision.Box, decision.Action, decision.Reason, decision.InstanceId, session),
            cancellationToken);
    }
}
