namespace SpotDevBox.Backup.Engine;

/// <summary>
/// When a backup's snapshot must be durable. It can be moved earlier while the backup runs (a spot notice
/// whose time EC2 brought forward), never later: a running backup then stops reading sooner and commits
/// what it has. A plain <see cref="DateTimeOffset"/> converts to a deadline that is never moved.
/// </summary>
public sealed class BackupDeadline(DateTimeOffset value)
{
    private readonly Lock _gate = new();
    private DateTimeOffset _value = value;
    private Action? _movedEarlier;

    public DateTimeOffset Value
    {
        get
        {
            lock (_gate)
            {
                return _value;
            }
        }
    }

    public static implicit operator BackupDeadline(DateTimeOffset value) => new(value);

    public static BackupDeadline FromDateTimeOffset(DateTimeOffset value) => new(value);

    /// <summary>Moves the deadline to <paramref name="earlier"/> if that is earlier; false (and no change) otherwise.</summary>
    public bool MoveEarlier(DateTimeOffset earlier)
    {
        Action? moved;
        lock (_gate)
        {
            if (earlier >= _value)
            {
                return false;
            }

            _value = earlier;
            moved = _movedEarlier;
        }

        moved?.Invoke();
        return true;
    }

    /// <summary>Calls <paramref name="moved"/> after each move, until the returned handle is disposed.</summary>
    internal IDisposable OnMovedEarlier(Action moved)
    {
        lock (_gate)
        {
            _movedEarlier += moved;
        }

        return new Subscription(this, moved);
    }

    private sealed class Subscription(BackupDeadline owner, Action moved) : IDisposable
    {
        public void Dispose()
        {
            lock (owner._gate)
            {
                owner._movedEarlier -= moved;
            }
        }
    }
}
