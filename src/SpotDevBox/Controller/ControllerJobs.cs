using Microsoft.Extensions.Logging;
using Quartz;
using SpotDevBox.Core.Controller;
using SpotDevBox.Core.Savings;

namespace SpotDevBox.Controller;

/// <summary>
/// Every Controller:Reconcile:Interval: one pass over every box; then each box's next schedule change gets its trigger.
/// Disallowed to run twice at once, in the cluster too: one controller runs each pass.
/// </summary>
[DisallowConcurrentExecution]
internal sealed class ReconcileJob(Reconciler reconciler, TransitionTriggers triggers, ControllerMembership membership, TimeProvider time) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var began = time.GetTimestamp();
        var decisions = await reconciler.ReconcileAllAsync(cancellationToken);
        foreach (var decision in decisions)
        {
            await triggers.EnsureAsync(context.Scheduler, decision, cancellationToken);
        }

        await membership.PassedAsync(time.GetElapsedTime(began), decisions.Count, cancellationToken);
    }
}

/// <summary>00:05 UTC every day: the day before's savings, per box and for the fleet, as DailySavingsSummary events.</summary>
[DisallowConcurrentExecution]
internal sealed class DailySummaryJob(DailySummary summary, Microsoft.Extensions.Options.IOptions<Core.Boxes.ControllerOptions> options, TimeProvider time) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var yesterday = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime).AddDays(-1);
        await summary.LogAsync(yesterday, options.Value, cancellationToken);
    }
}

/// <summary>At a box's start or stop (an instant the schedule function gives, DST included): reconcile that box at once.</summary>
internal sealed class TransitionJob(Reconciler reconciler, TransitionTriggers triggers) : IJob
{
    public const string BoxKey = "box";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var box = context.MergedJobDataMap.GetString(BoxKey) ?? throw new InvalidOperationException("a transition trigger without its box");
        var decision = await reconciler.ReconcileBoxAsync(box, cancellationToken);
        await triggers.EnsureAsync(context.Scheduler, decision, cancellationToken);
    }
}

/// <summary>
/// Keeps one Quartz trigger per box at the box's next schedule change (<see cref="BoxDecision.NextChange"/>),
/// moving it when an override or a new day changes that instant. The schedule rule stays in the domain
/// (<c>ScheduleEvaluator</c>); Quartz only fires at the instants it computes.
/// </summary>
internal sealed partial class TransitionTriggers(TimeProvider time, ILogger<TransitionTriggers> logger, IControllerStore? store = null, ControllerIdentity? identity = null)
{
    public static readonly JobKey Job = new("transition", "controller");

    /// <summary>A trigger fires this long after the change, so the schedule function, asked at the trigger's time, is past it.</summary>
    internal static readonly TimeSpan AfterChange = TimeSpan.FromSeconds(1);

    public async Task EnsureAsync(IScheduler scheduler, BoxDecision decision, CancellationToken cancellationToken)
    {
        var key = new TriggerKey(decision.Box, "transition");
        var existing = await scheduler.GetTrigger(key, cancellationToken);
        if (decision.NextChange is not { } change)
        {
            if (existing is not null)
            {
                await scheduler.UnscheduleJob(key, cancellationToken);
            }

            if (store is not null)
            {
                await store.RemoveBoxTriggerAsync(decision.Box, cancellationToken);
            }

            return;
        }

        var at = change + AfterChange;
        if (at <= time.GetUtcNow())
        {
            at = time.GetUtcNow() + AfterChange;
        }

        if (existing?.NextFireTimeUtc is { } next && next == at)
        {
            return;
        }

        // A copy for `controller status`, written first: a trigger without its copy would go unseen, a copy without
        // its trigger is put right by the next pass.
        if (store is not null)
        {
            await store.SetBoxTriggerAsync(new BoxTrigger(decision.Box, at, change, identity?.MemberId ?? "", time.GetUtcNow()), cancellationToken);
        }

        // On the scheduler's clock: a trigger computes "now" from its own (a misfire's "fire now" included), System by default.
        var trigger = TriggerBuilder.Create(scheduler.TimeProvider)
            .WithIdentity(key)
            .ForJob(Job)
            .UsingJobData(TransitionJob.BoxKey, decision.Box)
            .StartAt(at)
            .WithSimpleSchedule(s => s.WithRepeatCount(0).WithMisfireInstruction(SimpleTriggerMisfireInstruction.FireNow))
            .Build();
        if (existing is null)
        {
            await scheduler.ScheduleJob(trigger, new ScheduleJobOptions(), cancellationToken);
        }
        else
        {
            await scheduler.RescheduleJob(key, trigger, cancellationToken);
        }

        LogNextTransition(logger, decision.Box, change);
    }

    [LoggerMessage(EventId = 5120, Level = LogLevel.Information, Message = "Box {Box}: next schedule change at {At:u}")]
    private static partial void LogNextTransition(ILogger logger, string box, DateTimeOffset at);
}
