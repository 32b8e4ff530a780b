using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Boxes;

namespace SpotDevBox.Core.Controller;

/// <summary>
/// The box's documents as reconcile may take them: a document that cannot be read is gone without (and said so,
/// event 5107), so that a broken file never blocks the schedule; the records the box writes about its own life
/// only within what EC2 reports (<see cref="BoxRecordBounds"/>, event 5130); a budget override only from the
/// operator's document (event 5131 for one found in control.json, once per box and process).
/// </summary>
internal sealed class BoxDocumentReader(IBoxDocuments documents, ILogger logger)
{
    private readonly ConcurrentDictionary<string, byte> _ignoredControlOverride = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Box, string Field), byte> _ignoredFigures = new();

    /// <summary>
    /// The agent's figures in status.json for the metrics, each within its bound (<see cref="ControllerMetrics.AgentFigures"/>):
    /// one out of it is left out and said so once per box and field (event 5134).
    /// </summary>
    public (double? BackupSeconds, long? BackupBytes, double? NoticeToDurableSeconds) AgentFigures(string box, AgentStatus? status)
    {
        var figures = ControllerMetrics.AgentFigures(status, out var rejected);
        foreach (var field in rejected)
        {
            if (_ignoredFigures.TryAdd((box, field), 0))
            {
                ReconcilerLog.LogUntrustedFigure(logger, box, field);
            }
        }

        return figures;
    }

    public async Task<ControlDocument?> ReadControlAsync(string box, BoxOptions o, CancellationToken cancellationToken)
    {
        try
        {
            return await documents.ReadControlAsync(o.Storage, cancellationToken);
        }
        catch (InvalidDataException e)
        {
            // A broken control.json must not block the schedule: the next write replaces it.
            ReconcilerLog.LogDocumentUnreadable(logger, box, "control.json", e.Message);
            return null;
        }
    }

    /// <summary>
    /// The box's budget override: only the operator-only document counts (<see cref="BudgetOverride"/>). One still
    /// found in control.json, which the box's owner (and, before the policies of issue 12, the box) can write, is
    /// ignored, and said so once per box and process (event 5131, <see cref="WarnOfControlOverride"/>).
    /// </summary>
    public async Task<BudgetOverride?> ReadBudgetOverrideAsync(string box, BoxOptions o, CancellationToken cancellationToken)
    {
        try
        {
            return await documents.ReadBudgetOverrideAsync(o.Storage, o.Owner, box, cancellationToken);
        }
        catch (Exception e) when (e is InvalidDataException or UnauthorizedAccessException)
        {
            // Unreadable or refused: no override, the safe side (the budget holds).
            ReconcilerLog.LogDocumentUnreadable(logger, box, "the budget override", e.Message);
            return null;
        }
    }

    /// <summary>Says, once per box and process, that a budget override in control.json is ignored (event 5131).</summary>
    public void WarnOfControlOverride(string box, BoxOptions o, ControlDocument? control)
    {
        if (control?.BudgetOverrideUntil is not null && _ignoredControlOverride.TryAdd(box, 0))
        {
            ReconcilerLog.LogControlOverrideIgnored(logger, box, documents.BudgetOverrideLocation(o.Storage, o.Owner, box));
        }
    }

    public async Task<AgentStatus?> ReadStatusAsync(string box, BoxOptions o, CancellationToken cancellationToken)
    {
        try
        {
            return await documents.ReadStatusAsync(o.Storage, cancellationToken);
        }
        catch (InvalidDataException e)
        {
            ReconcilerLog.LogDocumentUnreadable(logger, box, "status.json", e.Message);
            return null;
        }
    }

    /// <summary>The agent's session record of the instance, when there is one within <paramref name="bounds"/>.</summary>
    public async Task<SessionRecord?> SessionRecordAsync(BoxRecordBounds bounds, BoxOptions o, CancellationToken cancellationToken) =>
        Accepted(bounds, await FindAsync(() => documents.FindSessionRecordAsync(o.Storage, bounds.InstanceId, cancellationToken)), bounds.Check);

    /// <summary>The agent's interruption record of the instance, when there is one within <paramref name="bounds"/>.</summary>
    public async Task<InterruptionRecord?> InterruptionAsync(BoxRecordBounds bounds, BoxOptions o, CancellationToken cancellationToken) =>
        Accepted(bounds, await FindAsync(() => documents.FindInterruptionAsync(o.Storage, bounds.InstanceId, cancellationToken)), bounds.Check);

    /// <summary>The record when it is within <paramref name="bounds"/>; else null, and a security event naming the record and the bound.</summary>
    private T? Accepted<T>(BoxRecordBounds bounds, T? record, Func<T, string?> check)
        where T : class
    {
        if (record is null || check(record) is not { } problem)
        {
            return record;
        }

        ReconcilerLog.LogUntrustedRecord(logger, bounds.Box, BoxRecordBounds.NameOf(record, bounds.InstanceId), problem, bounds.Describe());
        return null;
    }

    private async Task<T?> FindAsync<T>(Func<Task<T?>> find)
        where T : class
    {
        try
        {
            return await find();
        }
        catch (InvalidDataException e)
        {
            ReconcilerLog.LogDocumentUnreadable(logger, "-", typeof(T).Name, e.Message);
            return null;
        }
    }
}
