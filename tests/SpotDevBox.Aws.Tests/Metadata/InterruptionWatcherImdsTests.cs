using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using SpotDevBox.Aws.Metadata;
using SpotDevBox.Core.Interruption;
using TestSupport.Imds;

namespace SpotDevBox.Aws.Tests.Metadata;

/// <summary>
/// The watcher, the real client and the simulator together, in real time. Intervals are shorter than the
/// validator allows (options built directly, not bound) so a storm of several hundred reads fits in seconds.
/// </summary>
public sealed class InterruptionWatcherImdsTests
{
    private static readonly DateTimeOffset NoticeTime = new(2024, 5, 1, 12, 2, 0, TimeSpan.Zero);

    [Fact]
    public async Task RunAsync_FaultStormThenNotice_NoFalseNoticeThenTheRealOneHandledOnce()
    {
        await using var simulator = await ImdsSimulator.StartAsync();
        using var client = new ImdsMetadataClient(
            Options.Create(new MetadataOptions
            {
                BaseUrl = simulator.BaseUrl,
                RequestTimeout = TimeSpan.FromMilliseconds(300),
                TokenRequestTimeout = TimeSpan.FromMilliseconds(300),
                TokenRetryCooldown = TimeSpan.FromMilliseconds(500),
            }),
            TimeProvider.System,
            new CapturingLogger<ImdsMetadataClient>());
        var handler = new RecordingHandler();
        var counting = new CountingClient(client);
        var watcher = new InterruptionWatcher(
            counting,
            handler,
            Options.Create(new InterruptionOptions
            {
                PollInterval = TimeSpan.FromMilliseconds(100),
                MaxBackoff = TimeSpan.FromMilliseconds(500),
                MaintenancePollInterval = TimeSpan.FromMilliseconds(500),
            }),
            TimeProvider.System,
            new CapturingLogger<InterruptionWatcher>());
        using var stop = new CancellationTokenSource();
        var run = watcher.RunAsync(stop.Token);

        var random = new Random(4711);
        var stormEnd = Environment.TickCount64 + 3000;
        while (Environment.TickCount64 < stormEnd)
        {
            simulator.ClearFaults();
            simulator.Mode = ImdsMode.V2Required;
            switch (random.Next(9))
            {
                case 0:
                    simulator.InjectFault(ImdsFault.Status(401, ImdsPaths.InstanceAction));
                    break;
                case 1:
                    simulator.RevokeTokens();
                    simulator.InjectFault(ImdsFault.Status(429, ImdsPaths.Token));
                    break;
                case 2:
                    simulator.InjectFault(ImdsFault.Status(429));
                    break;
                case 3:
                    simulator.InjectFault(ImdsFault.Status(503));
                    break;
                case 4:
                    simulator.InjectFault(ImdsFault.Slow(TimeSpan.FromSeconds(1), ImdsPaths.InstanceAction));
                    break;
                case 5:
                    simulator.RevokeTokens();
                    simulator.InjectFault(ImdsFault.TokenTimeout());
                    break;
                case 6:
                    simulator.InjectFault(ImdsFault.MalformedJson(ImdsPaths.InstanceAction));
                    break;
                case 7:
                    simulator.InjectFault(ImdsFault.WithBody("{\"action\": \"reboot\", \"time\": \"2024-05-01T12:02:00Z\"}", ImdsPaths.InstanceAction));
                    break;
                default:
                    simulator.Mode = ImdsMode.Disabled;
                    break;
            }

            await Task.Delay(150);
        }

        var stormReadings = counting.InstanceActionReadings.ToList();
        Assert.Empty(handler.Notices);
        Assert.DoesNotContain(stormReadings, r => r is MetadataReading<InstanceAction>.Present);
        Assert.Contains(stormReadings, r => r is MetadataReading<InstanceAction>.Unknown);
        // Worst case per read: a 300 ms timeout plus a 500 ms backoff, so at least 3 reads in 3 s.
        Assert.True(stormReadings.Count >= 3, $"only {stormReadings.Count} reads of the notice during the storm: polling gave up?");

        simulator.ClearFaults();
        simulator.Mode = ImdsMode.V2Required;
        simulator.ArmNotice(InstanceActionKind.Terminate, NoticeTime);
        var seen = await WaitAsync(() => !handler.Notices.IsEmpty, TimeSpan.FromSeconds(5));
        await Task.Delay(1000);

        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(seen, "the notice was not handled within 5 s of the storm ending");
        Assert.Equal([new InstanceAction(InstanceActionKind.Terminate, NoticeTime)], handler.Notices);
        Assert.True(run.IsCompletedSuccessfully);
        Assert.True(simulator.Requests.Count(r => r.Path == ImdsPaths.InstanceAction && r.Status == 200) >= 3, "the notice was read only once or twice");
    }

    [Fact]
    public async Task RunAsync_NoticeSourceFlapsAgainstTheSimulator_OneWarningAndOneRecovery()
    {
        await using var simulator = await ImdsSimulator.StartAsync();
        using var client = new ImdsMetadataClient(
            Options.Create(new MetadataOptions { BaseUrl = simulator.BaseUrl, RequestTimeout = TimeSpan.FromMilliseconds(300) }),
            TimeProvider.System,
            new CapturingLogger<ImdsMetadataClient>());
        var logger = new CapturingLogger<InterruptionWatcher>();
        var watcher = new InterruptionWatcher(
            client,
            new RecordingHandler(),
            Options.Create(new InterruptionOptions { PollInterval = TimeSpan.FromMilliseconds(50), MaxBackoff = TimeSpan.FromMilliseconds(100), MaintenancePollInterval = TimeSpan.FromSeconds(5) }),
            TimeProvider.System,
            logger);
        // A throttled service: every other read of the notice is a 503.
        simulator.InjectFault(ImdsFault.Alternating(503, ImdsPaths.InstanceAction));
        using var stop = new CancellationTokenSource();
        var run = watcher.RunAsync(stop.Token);

        // ten failed reads, however long a loaded machine takes for them (the deadline only guards a hang)
        int FailedReads() => simulator.Requests.Count(r => r.Path == ImdsPaths.InstanceAction && r.Status == 503);
        var deadline = Environment.TickCount64 + 60_000;
        while (FailedReads() < 10 && Environment.TickCount64 < deadline)
        {
            await Task.Delay(50);
        }

        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(5));

        // Within one 5-minute summary interval: one warning and one recovery, however often it flipped.
        var flips = FailedReads();
        var lines = logger.Lines.Where(l => l.Message.Contains("spot/instance-action", StringComparison.Ordinal)).ToList();
        Assert.True(flips >= 10, $"only {flips} failed reads in a minute");
        Assert.Single(lines, l => l.EventId.Id == 3905);
        Assert.Single(lines, l => l.EventId.Id == 3907);
        Assert.DoesNotContain(lines, l => l.EventId.Id is 3906 or 3908);
    }

    private static async Task<bool> WaitAsync(Func<bool> condition, TimeSpan timeout)
    {
        var until = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (!condition())
        {
            if (Environment.TickCount64 > until)
            {
                return false;
            }

            await Task.Delay(20);
        }

        return true;
    }

    /// <summary>Passes every call through and keeps what the watcher saw.</summary>
    private sealed class CountingClient(IMetadataClient inner) : IMetadataClient
    {
        public ConcurrentQueue<MetadataReading<InstanceAction>> InstanceActionReadings { get; } = new();

        public async Task<MetadataReading<InstanceAction>> GetInstanceActionAsync(CancellationToken cancellationToken)
        {
            var reading = await inner.GetInstanceActionAsync(cancellationToken);
            InstanceActionReadings.Enqueue(reading);
            return reading;
        }

        public Task<MetadataReading<RebalanceRecommendation>> GetRebalanceRecommendationAsync(CancellationToken cancellationToken) =>
            inner.GetRebalanceRecommendationAsync(cancellationToken);

        public Task<MetadataReading<IReadOnlyList<MaintenanceEvent>>> GetScheduledEventsAsync(CancellationToken cancellationToken) =>
            inner.GetScheduledEventsAsync(cancellationToken);

        public Task<MetadataReading<InstanceIdentity>> GetIdentityAsync(CancellationToken cancellationToken) =>
            inner.GetIdentityAsync(cancellationToken);
    }

    private sealed class RecordingHandler : IInterruptionHandler
    {
        public ConcurrentQueue<InstanceAction> Notices { get; } = new();

        public Task OnInstanceActionAsync(InstanceAction action, CancellationToken cancellationToken)
        {
            Notices.Enqueue(action);
            return Task.CompletedTask;
        }

        public Task OnInstanceActionTightenedAsync(InstanceAction action, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task OnRebalanceRecommendationAsync(RebalanceRecommendation recommendation, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task OnMaintenanceEventAsync(MaintenanceEvent maintenanceEvent, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
