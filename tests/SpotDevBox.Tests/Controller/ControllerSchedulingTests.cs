using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Quartz;
using SpotDevBox.Controller;
using SpotDevBox.Core.Controller;
using SpotDevBox.Backup;
using SpotDevBox.Hosting;
using SpotDevBox.Repositories;
using TestSupport;

namespace SpotDevBox.Tests.Controller;

/// <summary>
/// <c>controller run</c>'s scheduling in process: the host and Quartz scheduler AddSpotDevBoxController builds, on a
/// <see cref="FakeTimeProvider"/> registered as the application's clock, driven forward instead of waited for. No box is
/// configured, so a pass calls no EC2 (the real-process tests in ControllerRunTests do); what is asserted is when each
/// job ran, on the fake clock.
/// </summary>
public sealed class ControllerSchedulingTests : IAsyncLifetime
{
    /// <summary>How long, on the wall clock, a job the fake clock made due may take to start: generous, it is never waited out.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    /// <summary>A Monday, far from today's date, so a clock read from the system instead of the fake is caught.</summary>
    private static readonly DateTimeOffset Start = new(2026, 3, 2, 0, 3, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Start);
    private readonly TempDir _temp = new("spotdevbox-scheduling-");
    private readonly Runs _runs = new();
    private readonly CapturedLog _log = new();
    private IHost _host = null!;
    private IScheduler _scheduler = null!;

    public async Task InitializeAsync()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Controller:Database"] = _temp.Sub("controller.db"),
            ["Controller:Fleet:Region"] = "us-east-1",
            ["Controller:Fleet:StorageRoot"] = "s3://devboxes/boxes",
            ["Controller:Reconcile:Interval"] = "00:00:45",
        });
        // As the application registers its clock (SpotDevBoxHost), before the controller's services.
        builder.Services.AddSingleton<TimeProvider>(_time);
        builder.Logging.AddProvider(_log);
        // The services SpotDevBoxHost registers for every verb that the controller's jobs use.
        builder.Services.AddSpotDevBoxBackup(builder.Configuration);
        builder.Services.AddSpotDevBoxRepositories(builder.Configuration);
        builder.Services.AddSpotDevBoxPrices(builder.Configuration);
        ControllerRegistration.AddSpotDevBoxController(builder.Services, builder.Configuration);
        _host = builder.Build();
        _scheduler = await _host.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        _scheduler.ListenerManager.AddJobListener(_runs);
        await _host.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        _temp.Dispose();
    }

    [Fact]
    public async Task Run_ReconcileInterval_FirstPassAtStartThenEveryIntervalOnTheAppsClock()
    {
        // The first pass 200 ms after the start on the application's clock, which does not move by itself here.
        Assert.Equal(Start.AddMilliseconds(200), (await _scheduler.GetTrigger(new TriggerKey("reconcile", "controller")))!.NextFireTimeUtc);
        Assert.Empty(_runs.At("reconcile"));
        await FirstPassAsync();
        Assert.Equal([Start.AddMilliseconds(200)], _runs.At("reconcile"));

        // 45 s later (Controller:Reconcile:Interval), not a second sooner.
        _time.Advance(TimeSpan.FromSeconds(45) - TimeSpan.FromMilliseconds(1));
        Assert.Equal(Start.AddMilliseconds(200).AddSeconds(45), (await _scheduler.GetTrigger(new TriggerKey("reconcile", "controller")))!.NextFireTimeUtc);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        await _runs.WaitForAsync("reconcile", 2);
        _time.Advance(TimeSpan.FromSeconds(45));
        await _runs.WaitForAsync("reconcile", 3);

        Assert.Equal([Start.AddMilliseconds(200), Start.AddMilliseconds(200).AddSeconds(45), Start.AddMilliseconds(200).AddSeconds(90)], _runs.At("reconcile"));
        Assert.All(_runs.Failures("reconcile"), f => Assert.Null(f));
    }

    [Fact]
    public async Task Run_DailySummary_At0005UtcOnTheAppsClockForTheDayBefore()
    {
        await FirstPassAsync();
        Assert.Equal(new DateTimeOffset(2026, 3, 2, 0, 5, 0, TimeSpan.Zero), (await _scheduler.GetTrigger(new TriggerKey("daily-summary", "controller")))!.NextFireTimeUtc);

        _time.SetUtcNow(new DateTimeOffset(2026, 3, 2, 0, 4, 59, TimeSpan.Zero));
        Assert.Empty(_runs.At("daily-summary"));
        _time.SetUtcNow(new DateTimeOffset(2026, 3, 2, 0, 5, 0, TimeSpan.Zero));
        await _runs.WaitForAsync("daily-summary", 1, finished: true);

        Assert.Equal([new DateTimeOffset(2026, 3, 2, 0, 5, 0, TimeSpan.Zero)], _runs.At("daily-summary"));
        Assert.Null(Assert.Single(_runs.Failures("daily-summary")));
        Assert.Contains(_log.Messages(5210), m => m.StartsWith("Savings on 2026-03-01 (UTC) for *:", StringComparison.Ordinal));
        // The next one is tomorrow's.
        Assert.Equal(new DateTimeOffset(2026, 3, 3, 0, 5, 0, TimeSpan.Zero), (await _scheduler.GetTrigger(new TriggerKey("daily-summary", "controller")))!.NextFireTimeUtc);
    }

    [Fact]
    public async Task Run_TransitionTrigger_FiresASecondAfterTheBoxsScheduleChangeOnTheAppsClock()
    {
        await FirstPassAsync();
        var change = new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);
        var triggers = _host.Services.GetRequiredService<TransitionTriggers>();

        await triggers.EnsureAsync(_scheduler, new BoxDecision("alice", ReconcileActions.None, "outside the window", null, change), CancellationToken.None);
        Assert.Equal(change.AddSeconds(1), (await _scheduler.GetTrigger(new TriggerKey("alice", "transition")))!.NextFireTimeUtc);

        _time.SetUtcNow(change);
        Assert.Equal(change.AddSeconds(1), (await _scheduler.GetTrigger(new TriggerKey("alice", "transition")))!.NextFireTimeUtc);
        Assert.Empty(_runs.At("transition"));
        _time.SetUtcNow(change.AddSeconds(1));
        await _runs.WaitForAsync("transition", 1, finished: true);

        Assert.Equal([change.AddSeconds(1)], _runs.At("transition"));
        // The job ran: it asked the reconciler about alice, whom this host's configuration does not have.
        Assert.Contains("there is no box 'alice'", Assert.Single(_runs.Failures("transition"))?.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_TransitionTriggerMissedByMinutes_FiresAtOnceOnTheAppsClock()
    {
        await FirstPassAsync();
        var change = new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);
        var triggers = _host.Services.GetRequiredService<TransitionTriggers>();
        await triggers.EnsureAsync(_scheduler, new BoxDecision("alice", ReconcileActions.None, "outside the window", null, change), CancellationToken.None);

        // The controller was not running, or its machine slept: the clock is 5 minutes past the trigger, beyond Quartz's
        // misfire threshold (60 s). The trigger's instruction is to fire now: now on the application's clock.
        _time.SetUtcNow(change.AddMinutes(5));
        await _runs.WaitForAsync("transition", 1, finished: true);

        Assert.Equal([change.AddMinutes(5)], _runs.At("transition"));
    }

    [Fact]
    public async Task Run_DailySummaryMissedByMinutes_RunsOnceAtOnceForTheDayBefore()
    {
        await FirstPassAsync();

        _time.SetUtcNow(new DateTimeOffset(2026, 3, 2, 0, 12, 0, TimeSpan.Zero));
        await _runs.WaitForAsync("daily-summary", 1, finished: true);

        Assert.Equal([new DateTimeOffset(2026, 3, 2, 0, 12, 0, TimeSpan.Zero)], _runs.At("daily-summary"));
        Assert.Contains(_log.Messages(5210), m => m.StartsWith("Savings on 2026-03-01 (UTC) for *:", StringComparison.Ordinal));
        Assert.Equal(new DateTimeOffset(2026, 3, 3, 0, 5, 0, TimeSpan.Zero), (await _scheduler.GetTrigger(new TriggerKey("daily-summary", "controller")))!.NextFireTimeUtc);
    }

    private async Task FirstPassAsync()
    {
        _time.Advance(TimeSpan.FromMilliseconds(200));
        try
        {
            await _runs.WaitForAsync("reconcile", 1, finished: true);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException(e.Message + "\n" + string.Join("\n", _log.Problems()), e);
        }
    }

    /// <summary>When each job started, on the scheduler's clock, and how each ended.</summary>
    private sealed class Runs : IJobListener
    {
        private readonly ConcurrentQueue<(string Job, DateTimeOffset At)> _started = new();
        private readonly ConcurrentQueue<(string Job, JobExecutionException? Failure)> _finished = new();

        public string Name => "scheduling-tests";

        public IReadOnlyList<DateTimeOffset> At(string job) => [.. _started.Where(r => r.Job == job).Select(r => r.At)];

        public IReadOnlyList<Exception?> Failures(string job) => [.. _finished.Where(r => r.Job == job).Select(r => (Exception?)r.Failure?.InnerException ?? r.Failure)];

        public async Task WaitForAsync(string job, int count, bool finished = false)
        {
            var until = TimeProvider.System.GetTimestamp();
            while ((finished ? _finished.Count(r => r.Job == job) : _started.Count(r => r.Job == job)) < count)
            {
                if (TimeProvider.System.GetElapsedTime(until) > Bound)
                {
                    throw new TimeoutException($"{job} did not run {count} time(s) within {Bound} (started at {string.Join(", ", At(job))})");
                }

                await Task.Delay(10);
            }
        }

        public ValueTask JobToBeExecuted(IJobExecutionContext context, CancellationToken cancellationToken = default)
        {
            _started.Enqueue((context.JobDetail.Key.Name, context.FireTimeUtc));
            return ValueTask.CompletedTask;
        }

        public ValueTask JobExecutionVetoed(IJobExecutionContext context, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public ValueTask JobWasExecuted(IJobExecutionContext context, JobExecutionException? jobException, CancellationToken cancellationToken = default)
        {
            _finished.Enqueue((context.JobDetail.Key.Name, jobException));
            return ValueTask.CompletedTask;
        }
    }

    private sealed class CapturedLog : ILoggerProvider
    {
        private readonly ConcurrentQueue<(int EventId, string Message)> _entries = new();
        private readonly ConcurrentQueue<string> _problems = new();

        public IReadOnlyList<string> Problems() => [.. _problems];

        public IReadOnlyList<string> Messages(int eventId) => [.. _entries.Where(e => e.EventId == eventId).Select(e => e.Message)];

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void Dispose()
        {
        }

        private sealed class Logger(CapturedLog log) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                log._entries.Enqueue((eventId.Id, formatter(state, exception)));
                if (logLevel >= LogLevel.Warning)
                {
                    log._problems.Enqueue($"{logLevel} {formatter(state, exception)} {exception}");
                }
            }
        }
    }
}
