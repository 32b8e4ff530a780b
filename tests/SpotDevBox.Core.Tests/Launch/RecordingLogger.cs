using Microsoft.Extensions.Logging;

namespace SpotDevBox.Core.Tests.Launch;

/// <summary>Keeps every event (id, level, rendered message), so a test can check one event per candidate and decision.</summary>
internal sealed class RecordingLogger<T> : ILogger<T>
{
    private readonly Lock _gate = new();
    private readonly List<(int EventId, LogLevel Level, string Message)> _events = [];

    public IReadOnlyList<(int EventId, LogLevel Level, string Message)> Events
    {
        get { lock (_gate) { return [.. _events]; } }
    }

    public IReadOnlyList<string> Messages(int eventId) => [.. Events.Where(e => e.EventId == eventId).Select(e => e.Message)];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_gate)
        {
            _events.Add((eventId.Id, logLevel, formatter(state, exception)));
        }
    }
}
