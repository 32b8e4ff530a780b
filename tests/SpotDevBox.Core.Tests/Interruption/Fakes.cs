using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using SpotDevBox.Core.Interruption;

namespace SpotDevBox.Core.Tests.Interruption;

/// <summary>Answers each read from a script indexed by call number, and records when each read happened.</summary>
internal sealed class FakeMetadataClient(TimeProvider clock) : IMetadataClient
{
    public Func<int, MetadataReading<InstanceAction>> InstanceAction { get; set; } = _ => MetadataReading.Absent<InstanceAction>();

    public Func<int, MetadataReading<RebalanceRecommendation>> Rebalance { get; set; } = _ => MetadataReading.Absent<RebalanceRecommendation>();

    public Func<int, MetadataReading<IReadOnlyList<MaintenanceEvent>>> Maintenance { get; set; } = _ => MetadataReading.Present<IReadOnlyList<MaintenanceEvent>>([]);

    public List<DateTimeOffset> InstanceActionReads { get; } = [];

    public List<DateTimeOffset> RebalanceReads { get; } = [];

    public List<DateTimeOffset> MaintenanceReads { get; } = [];

    public Task<MetadataReading<InstanceAction>> GetInstanceActionAsync(CancellationToken cancellationToken) =>
        Task.FromResult(Read(InstanceActionReads, InstanceAction));

    public Task<MetadataReading<RebalanceRecommendation>> GetRebalanceRecommendationAsync(CancellationToken cancellationToken) =>
        Task.FromResult(Read(RebalanceReads, Rebalance));

    public Task<MetadataReading<IReadOnlyList<MaintenanceEvent>>> GetScheduledEventsAsync(CancellationToken cancellationToken) =>
        Task.FromResult(Read(MaintenanceReads, Maintenance));

    public Task<MetadataReading<InstanceIdentity>> GetIdentityAsync(CancellationToken cancellationToken) =>
        Task.FromResult(MetadataReading.Present(new InstanceIdentity("i-1", "m5.large", "us-east-1a", "us-east-1", "spot")));

    private T Read<T>(List<DateTimeOffset> reads, Func<int, T> script)
    {
        int index;
        lock (reads)
        {
            index = reads.Count;
            reads.Add(clock.GetUtcNow());
        }

        return script(index);
    }
}

internal sealed class RecordingHandler : IInterruptionHandler
{
    public ConcurrentQueue<InstanceAction> Notices { get; } = new();

    public ConcurrentQueue<InstanceAction> Tightened { get; } = new();

    public ConcurrentQueue<RebalanceRecommendation> Rebalances { get; } = new();

    public ConcurrentQueue<MaintenanceEvent> MaintenanceEvents { get; } = new();

    public Func<InstanceAction, Exception?> FailOnNotice { get; set; } = _ => null;

    public Task OnInstanceActionAsync(InstanceAction action, CancellationToken cancellationToken)
    {
        Notices.Enqueue(action);
        return FailOnNotice(action) is { } e ? Task.FromException(e) : Task.CompletedTask;
    }

    public Task OnInstanceActionTightenedAsync(InstanceAction action, CancellationToken cancellationToken)
    {
        Tightened.Enqueue(action);
        return Task.CompletedTask;
    }

    public Task OnRebalanceRecommendationAsync(RebalanceRecommendation recommendation, CancellationToken cancellationToken)
    {
        Rebalances.Enqueue(recommendation);
        return Task.CompletedTask;
    }

    public Task OnMaintenanceEventAsync(MaintenanceEvent maintenanceEvent, CancellationToken cancellationToken)
    {
        MaintenanceEvents.Enqueue(maintenanceEvent);
        return Task.CompletedTask;
    }
}

internal sealed class CapturingLogger : ILogger
{
    private readonly ConcurrentQueue<(LogLevel Level, int EventId, string Message)> _lines = new();

    public IReadOnlyList<(LogLevel Level, int EventId, string Message)> Lines => [.. _lines];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _lines.Enqueue((logLevel, eventId.Id, formatter(state, exception)));
}
