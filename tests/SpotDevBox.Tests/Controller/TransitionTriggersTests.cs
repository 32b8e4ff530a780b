using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Quartz;
using SpotDevBox.Controller;
using SpotDevBox.Core.Controller;

namespace SpotDevBox.Tests.Controller;

/// <summary>The Quartz trigger kept per box at its next schedule change, on a real (not started) Quartz scheduler.</summary>
public sealed class TransitionTriggersTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 3, 29, 0, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Now);
    private ServiceProvider _services = null!;
    private IScheduler _scheduler = null!;

    public async Task InitializeAsync()
    {
        _services = new ServiceCollection()
            .AddLogging()
            .AddQuartz(q =>
            {
                q.AddJob<TransitionJob>(j => j.WithIdentity(TransitionTriggers.Job).StoreDurably());
            })
            .BuildServiceProvider();
        _scheduler = await _services.GetRequiredService<ISchedulerFactory>().GetScheduler();
    }

    public async Task DisposeAsync()
    {
        await _scheduler.Shutdown(false);
        await _services.DisposeAsync();
    }

    [Fact]
    public async Task Ensure_NextChange_OneTriggerASecondAfterItForThatBox()
    {
        // Europe/Berlin's spring gap: 02:30 local does not exist; the schedule function says 01:00 UTC (03:00 CEST).
        var change = new DateTimeOffset(2026, 3, 29, 1, 0, 0, TimeSpan.Zero);

        await Triggers().EnsureAsync(_scheduler, new BoxDecision("alice", ReconcileActions.None, "up", null, change), CancellationToken.None);

        var trigger = await _scheduler.GetTrigger(new TriggerKey("alice", "transition"));
        Assert.NotNull(trigger);
        Assert.Equal(change.AddSeconds(1), trigger.NextFireTimeUtc);
        Assert.Equal(TransitionTriggers.Job, trigger.JobKey);
        Assert.Equal("alice", trigger.JobDataMap.GetString(TransitionJob.BoxKey));
    }

    [Fact]
    public async Task Ensure_ChangeMoves_TheBoxsTriggerMovesAndStaysOne()
    {
        var triggers = Triggers();
        await triggers.EnsureAsync(_scheduler, new BoxDecision("alice", ReconcileActions.None, "up", null, Now.AddHours(18)), CancellationToken.None);
        await triggers.EnsureAsync(_scheduler, new BoxDecision("bob", ReconcileActions.None, "up", null, Now.AddHours(9)), CancellationToken.None);

        // An `up --for 3h` moved alice's next change.
        await triggers.EnsureAsync(_scheduler, new BoxDecision("alice", ReconcileActions.None, "up", null, Now.AddHours(3)), CancellationToken.None);

        Assert.Equal(2, (await _scheduler.GetTriggersOfJob(TransitionTriggers.Job)).Count);
        Assert.Equal(Now.AddHours(3).AddSeconds(1), (await _scheduler.GetTrigger(new TriggerKey("alice", "transition")))!.NextFireTimeUtc);
        Assert.Equal(Now.AddHours(9).AddSeconds(1), (await _scheduler.GetTrigger(new TriggerKey("bob", "transition")))!.NextFireTimeUtc);
    }

    [Fact]
    public async Task Ensure_NoChangeWithinAYear_RemovesTheTrigger()
    {
        var triggers = Triggers();
        await triggers.EnsureAsync(_scheduler, new BoxDecision("alice", ReconcileActions.None, "up", null, Now.AddHours(18)), CancellationToken.None);

        await triggers.EnsureAsync(_scheduler, new BoxDecision("alice", ReconcileActions.None, "no schedule", null, null), CancellationToken.None);

        Assert.Null(await _scheduler.GetTrigger(new TriggerKey("alice", "transition")));
    }

    private TransitionTriggers Triggers() => new(_time, NullLogger<TransitionTriggers>.Instance);
}
