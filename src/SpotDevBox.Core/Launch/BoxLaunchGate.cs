using System.Collections.Concurrent;

namespace SpotDevBox.Core.Launch;

/// <summary>
/// One launch per box at a time in this process (the controller's reconcile, a relaunch and an
/// <c>up</c> may race). Across processes the launcher's live-instance check and the client token keep
/// a box to one instance. One semaphore per box name, kept for the process's lifetime: there are few boxes.
/// </summary>
public sealed class BoxLaunchGate
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _gates = new(StringComparer.Ordinal);

    /// <summary>Waits for the box's turn; disposing the result lets the next launch of the box in.</summary>
    /// <param name="onWait">Called once, before waiting, when another launch of the box holds the gate.</param>
    public async Task<IDisposable> EnterAsync(string box, Action? onWait, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(box);
        var gate = _gates.GetOrAdd(box, _ => new SemaphoreSlim(1, 1));
        if (!gate.Wait(0, CancellationToken.None))
        {
            onWait?.Invoke();
            await gate.WaitAsync(cancellationToken);
        }

        return new Held(gate);
    }

    private sealed class Held(SemaphoreSlim gate) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                gate.Release();
            }
        }
    }
}
