using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Compute;
using SpotDevBox.Core.Launch;
using SpotDevBox.Core.Savings;

namespace SpotDevBox.Core.Controller;

/// <summary>
/// Sessions and their costs: opens a session for each instance of a box seen for the first time (with the spot
/// price in effect at its start), closes those that ended or are gone (when and how they ended, from what EC2
/// reports and the box's records within it), and records each closed session's cost in the ledger.
/// </summary>
internal sealed class SessionTracker(IControllerStore store, BoxDocumentReader documents, ISessionCostRecorder costs, DecisionRecorder decisions, ILogger logger, ControllerMetrics? metrics = null)
{
    /// <summary>An open session whose instance EC2 does not list is taken as ended only once it is older than this.</summary>
    internal static readonly TimeSpan ListingLag = TimeSpan.FromMinutes(5);

    /// <summary>The state this process last saw of each instance: only for the "was -> now" of the message; whether to store it is the store's mark.</summary>
    private readonly ConcurrentDictionary<string, InstanceState> _lastState = new(StringComparer.Ordinal);

    /// <summary>
    /// Records, in the store, that the controller terminated the instance through the API: its session ends as an
    /// <see cref="SessionEndings.ApiStop"/>, whichever controller of a cluster sees it end.
    /// </summary>
    public Task StoppedThroughApiAsync(string instanceId, DateTimeOffset at, CancellationToken cancellationToken) =>
        store.MarkApiStoppedAsync(instanceId, at, cancellationToken);

    /// <summary>The open sessions of every box as the latest <see cref="TrackSessionsAsync"/> read them: the cost-today gauge reuses them rather than query again.</summary>
    public IReadOnlyList<SessionRow> LastOpenSessions { get; private set; } = [];

    /// <summary>Opens a session for each instance seen for the first time and closes those that ended or are gone.</summary>
    public async Task TrackSessionsAsync(string box, BoxOptions o, IComputeGateway gateway, IReadOnlyList<BoxInstance> instances, DateTimeOffset now, CancellationToken cancellationToken)
    {
        foreach (var instance in instances)
        {
            var was = _lastState.TryGetValue(instance.InstanceId, out var seen) && seen != instance.State ? seen : (InstanceState?)null;
            _lastState[instance.InstanceId] = instance.State;
            if (await store.SwapMarkAsync($"state:{instance.InstanceId}", ReconcileText.Name(instance.State), cancellationToken))
            {
                var why = instance.StateReason is { } sr && !instance.IsLive ? $" ({sr.Code})" : "";
                await decisions.RecordAsync(
                    new BoxDecision(box, ReconcileActions.InstanceState, $"{instance.InstanceId}: {(was is { } w ? ReconcileText.Name(w) + " -> " : "")}{ReconcileText.Name(instance.State)}{why}", instance.InstanceId),
                    cancellationToken);
            }

            var row = await store.GetSessionAsync(instance.InstanceId, cancellationToken);
            if (row is null)
            {
                row = await OpenSessionAsync(box, o, instance, await PriceAtStartAsync(gateway, instance, cancellationToken), cancellationToken);
            }

            if (row.IsOpen && !instance.IsLive)
            {
                await CloseSessionAsync(row, o, instance, now, cancellationToken);
            }
        }

        // In the store, not in memory: a restart must not forget when an instance was last seen running (one write a pass).
        var running = instances.Where(i => i.State == InstanceState.Running).Select(i => i.InstanceId).ToList();
        if (running.Count > 0)
        {
            await store.MarkSeenRunningAsync(running, now, cancellationToken);
        }

        var listed = instances.Select(i => i.InstanceId).ToHashSet(StringComparer.Ordinal);
        // DescribeInstances may not list an instance for a few seconds after RunInstances returned it.
        var settled = now - ListingLag;
        var open = await store.OpenSessionsAsync(cancellationToken);
        LastOpenSessions = open;
        foreach (var gone in open.Where(s => s.Box == box && !listed.Contains(s.InstanceId) && s.Start < settled))
        {
            // EC2 lists a terminated instance for about an hour: this one ended while nobody watched.
            await CloseSessionAsync(gone, o, null, now, cancellationToken);
        }
    }

    public async Task<SessionRow> OpenSessionAsync(string box, BoxOptions o, BoxInstance instance, decimal? price, CancellationToken cancellationToken)
    {
        if (await store.GetSessionAsync(instance.InstanceId, cancellationToken) is { } known)
        {
            return known;
        }

        var row = new SessionRow(
            box,
            instance.InstanceId,
            instance.SessionId,
            o.Region,
            instance.Owner ?? o.Owner,
            instance.InstanceType,
            instance.AvailabilityZone,
            instance.Lifecycle,
            instance.Lifecycle == InstanceLifecycle.Spot ? price : null,
            instance.LaunchTime);
        await store.UpsertSessionAsync(row, cancellationToken);
        await decisions.RecordAsync(
            new BoxDecision(
                box,
                ReconcileActions.SessionStarted,
                $"session of {instance.InstanceId} since {instance.LaunchTime.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC: {instance.InstanceType} in {instance.AvailabilityZone}, {ReconcileText.Market(instance.Lifecycle)}{(row.PricePerHour is { } p ? $" at {Usd.PerHour(p)}" : "")}",
                instance.InstanceId),
            cancellationToken);
        return row;
    }

    private async Task CloseSessionAsync(SessionRow row, BoxOptions o, BoxInstance? instance, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // The box writes these records, so they are taken only within what EC2 reports (BoxRecordBounds).
        var bounds = BoxRecordBounds.Of(row, instance, now);
        var record = await documents.SessionRecordAsync(bounds, o, cancellationToken);
        var notice = await documents.InterruptionAsync(bounds, o, cancellationToken);
        string endedBy;
        string? detail = instance?.StateReason is { } r ? $"{r.Code}: {r.Message}" : null;
        if (instance?.StateReason?.IsSpotInterruption == true || notice is not null)
        {
            endedBy = SessionEndings.Interruption;
            metrics?.Interruption(row.Box, row.Owner ?? o.Owner, row.Region);
            detail ??= notice is { } n ? $"spot notice '{n.Action}' for {n.NoticeTime.UtcDateTime:HH:mm:ss} UTC" : null;
        }
        else if (row.ApiStoppedAt is not null)
        {
            endedBy = SessionEndings.ApiStop;
        }
        else if (record is not null && record.EndedBy != SessionEnd.Interruption)
        {
            endedBy = SessionEndings.Of(record.EndedBy);
            detail = record.Detail ?? detail;
        }
        else
        {
            if (record is not null)
            {
                // An interruption is EC2's word (its state reason) or a notice within the instance's life, never the
                // session record's alone: the ledger charges nothing for an interrupted spot instance's first hour.
                ReconcilerLog.LogUntrustedRecord(logger, row.Box, BoxRecordBounds.SessionRecordName(row.InstanceId), "it says the session ended by a spot interruption, which neither EC2's state reason nor an accepted interruption record shows", bounds.Describe());
                record = null;
            }

            endedBy = instance?.StateReason?.Code switch
            {
                StateReasonCodes.InstanceInitiatedShutdown => SessionEndings.InstanceShutdown,
                StateReasonCodes.UserInitiatedShutdown => SessionEndings.TerminatedByUser,
                _ => SessionEndings.Unknown,
            };
        }

        var (end, latestEnd) = EndOf(row, instance, record, notice, row.LastSeenRunning, now);
        var closed = row with { End = end, EndedBy = endedBy, EndDetail = detail, LatestEnd = latestEnd };
        await store.UpsertSessionAsync(closed, cancellationToken);
        try
        {
            await costs.RecordAsync(closed, o, cancellationToken);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ComputeException or InvalidOperationException)
        {
            // The session stays recorded; its cost can be computed again (savings recompute) while the price history lasts.
            ReconcilerLog.LogCostNotRecorded(logger, row.Box, row.InstanceId, e.Message);
        }

        await decisions.RecordAsync(
            new BoxDecision(
                row.Box,
                ReconcileActions.SessionEnded,
                latestEnd is { } latest
                    ? $"session of {row.InstanceId} ended between {end.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC (last known running, after {ReconcileText.Span(end - row.Start)}) and {latest.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC: nobody knows when any more, costed up to the first, the rest unknown: {endedBy}{(detail is null ? "" : $" ({detail})")}"
                    : $"session of {row.InstanceId} ended at {end.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC after {ReconcileText.Span(end - row.Start)}: {endedBy}{(detail is null ? "" : $" ({detail})")}",
                row.InstanceId),
            cancellationToken);
    }

    /// <summary>
    /// When a session ended, however late the controller looks: EC2's state transition time while EC2 still
    /// lists the instance (when its billing ended), else the agent's session record (when it powered off), else
    /// the time its spot notice said EC2 would act. None of them is taken before the session was last known to
    /// run (seen running by a pass, or the agent seeing the notice). With none known, the end is that last known
    /// instant and <c>LatestEnd</c> is <paramref name="now"/>, when it was found ended: the rest is unknown.
    /// </summary>
    internal static (DateTimeOffset End, DateTimeOffset? LatestEnd) EndOf(
        SessionRow row,
        BoxInstance? instance,
        SessionRecord? record,
        InterruptionRecord? notice,
        DateTimeOffset? lastSeenRunning,
        DateTimeOffset now)
    {
        var knownRunning = row.Start;
        foreach (var running in new[] { lastSeenRunning, notice?.SeenAt })
        {
            if (running is { } r && r > knownRunning && r <= now)
            {
                knownRunning = r;
            }
        }

        var reported = instance?.StateTransitionTime
            ?? record?.End
            ?? (notice is { } n && n.NoticeTime <= now ? n.NoticeTime : null);
        if (reported is not { } end)
        {
            return (knownRunning, now);
        }

        return (end < knownRunning ? knownRunning : end > now ? now : end, null);
    }


    private async Task<decimal?> PriceAtStartAsync(IComputeGateway gateway, BoxInstance instance, CancellationToken cancellationToken)
    {
        if (instance.Lifecycle != InstanceLifecycle.Spot)
        {
            return null;
        }

        try
        {
            var history = await gateway.DescribeSpotPricesAsync(
                new SpotPriceQuery([instance.InstanceType], SpotPriceQuery.LinuxUnix, instance.LaunchTime, instance.LaunchTime, [instance.AvailabilityZone]),
                cancellationToken);
            return history.Points
                .Where(p => p.InstanceType == instance.InstanceType && p.AvailabilityZone == instance.AvailabilityZone && p.Timestamp <= instance.LaunchTime)
                .MaxBy(p => p.Timestamp)?.UsdPerHour;
        }
        catch (ComputeException e)
        {
            ReconcilerLog.LogPriceUnknown(logger, instance.InstanceId, e.Message);
            return null;
        }
    }
}
