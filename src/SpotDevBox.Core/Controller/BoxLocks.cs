using System.Collections.Concurrent;

namespace SpotDevBox.Core.Controller;

/// <summary>
/// Who reconciles a box now: one pass or trigger at a time per box, in this process (<see cref="InProcessBoxLocks"/>)
/// or across every controller of a cluster (a PostgreSQL advisory lock held by the connection, released by the server
/// when the process dies). Never a database transaction held open across AWS calls.
/// </summary>
public interface IBoxLocks
{
    /// <summary>Waits until the caller holds the box's lock; disposing the handle releases it.</summary>
    Task<BoxLock> AcquireAsync(string box, CancellationToken cancellationToken);
}

/// <summary>A held box lock.</summary>
/// <param name="Waited">
/// Whether another holder had it first: what the caller read about the box before (its instances) may be out of date.
/// </param>
public sealed class BoxLock(bool waited, Func<ValueTask> release) : IAsyncDisposable
{
    private Func<ValueTask>? _release = release;

    public bool Waited { get; } = waited;

    public ValueTask DisposeAsync() => Interlocked.Exchange(ref _release, null) is { } release ? release() : ValueTask.CompletedTask;
}

/// <summary>One semaphore per box, for one controller process (the SQLite store's case, and the first gate of a cluster's).</summary>
public sealed class InProcessBoxLocks : IBoxLocks, IDisposable
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _gates = new(StringComparer.Ordinal);

    public async Task<BoxLock> AcquireAsync(string box, CancellationToken cancellationToken)
    {
        var gate = _gates.GetOrAdd(box, _ => new SemaphoreSlim(1, 1));
        var waited = !gate.Wait(0, CancellationToken.None);
        if (waited)
        {
            await gate.WaitAsync(cancellationToken);
        }

        return new BoxLock(waited, () =>
        {
            gate.Release();
            return ValueTask.CompletedTask;
        });
    }

    public void Dispose()
    {
        foreach (var gate in _gates.Values)
        {
            gate.Dispose();
        }
    }
}
