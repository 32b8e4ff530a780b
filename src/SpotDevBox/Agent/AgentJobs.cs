using Microsoft.Extensions.Logging;
using Quartz;
using SpotDevBox.Backup.Storage;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Idle;

namespace SpotDevBox.Agent;

/// <summary>Every N minutes: an incremental backup, skipped while another one runs.</summary>
[DisallowConcurrentExecution]
internal sealed class PeriodicBackupJob(AgentBackups backups) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken) =>
        await backups.RunAsync(BackupKind.Periodic, "schedule", null, cancellationToken);
}

/// <summary>Daily: forget by the retention policy, then prune.</summary>
[DisallowConcurrentExecution]
internal sealed class RetentionJob(AgentBackups backups) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken) =>
        await backups.RunAsync(BackupKind.Retention, "retention", null, cancellationToken);
}

/// <summary>Every minute: sample the idle signals and move the stop plan on; the status shows the outcome.</summary>
[DisallowConcurrentExecution]
internal sealed class IdleTickJob(StopPlanner planner, IdleMonitor monitor, AgentLeases leases, AgentStatusBoard board, TimeProvider time) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        if (board.EndReason == SessionEnd.Interruption)
        {
            // After a spot notice nothing is stopped by the agent: EC2 ends the instance.
            return;
        }

        await planner.TickAsync(cancellationToken);
        var assessment = monitor.Latest;
        var lease = await leases.GetLeaseAsync(cancellationToken);
        var now = time.GetUtcNow();
        board.Update(s => s with
        {
            Activity = planner.Status.Describe(),
            AwakeReasons = assessment is null ? [] : [.. assessment.AwakeBecause.Select(r => r.Reason)],
            IdleSince = assessment?.IdleSince,
            LeaseUntil = lease is { } l && l.IsActiveAt(now) ? l.Until : null,
            LeaseSetBy = lease is { } l2 && l2.IsActiveAt(now) ? l2.SetBy : null,
        });
    }
}

/// <summary>Every minute: the control document (stop requested, lease) written by the CLI or the controller.</summary>
[DisallowConcurrentExecution]
internal sealed partial class ControlPollJob(BoxStorage storage, StopPlanner planner, AgentLeases leases, AgentStatusBoard board, Microsoft.Extensions.Options.IOptions<AgentOptions> options, ILogger<ControlPollJob> logger) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        ControlDocument? control;
        try
        {
            control = await storage.ReadControlAsync(cancellationToken);
        }
        catch (Exception e) when (e is StorageException or InvalidDataException)
        {
            LogControlUnreadable(logger, e.Message);
            if (options.Value.NextStop(planner.SessionStart) is { } configuredStop)
            {
                planner.RequestStop(configuredStop, StopReason.Schedule);
            }

            return;
        }

        leases.SetRemote(control?.LeaseUntil is { } until ? new Lease(until, control.LeaseSetBy, control.LeaseNote) : null);
        if (control?.StopAt is { } at && control.StopAppliesTo(board.Current.InstanceId, planner.SessionStart))
        {
            var reason = string.Equals(control.StopReason, "schedule", StringComparison.OrdinalIgnoreCase) ? StopReason.Schedule : StopReason.Manual;
            planner.RequestStop(at, reason);
        }
        else if (options.Value.NextStop(planner.SessionStart) is { } configured)
        {
            // No controller schedule in control.json: the box's own daily stop time applies.
            planner.RequestStop(configured, StopReason.Schedule);
        }
        else if (planner.ScheduledStop is not null)
        {
            planner.CancelScheduledStop();
        }
    }

    [LoggerMessage(EventId = 3600, Level = LogLevel.Warning, Message = "The control document could not be read; keeping the last one: {Reason}")]
    private static partial void LogControlUnreadable(ILogger logger, string reason);
}
