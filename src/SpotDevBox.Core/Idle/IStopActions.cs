namespace SpotDevBox.Core.Idle;

public enum StopReason
{
    /// <summary>No signal active for the idle timeout.</summary>
    Idle,

    /// <summary>A schedule's stop time (from the controller or the configuration); waits for idle, up to the maximum overrun.</summary>
    Schedule,

    /// <summary>The session reached Agent:Idle:MaxSessionLength; not postponed.</summary>
    MaxSessionLength,

    /// <summary>Somebody asked for it ("spotdevbox down"); not postponed.</summary>
    Manual,
}

public enum StopWarningKind
{
    /// <summary>A stop is coming; sent at each Agent:Idle:WarnAt lead.</summary>
    Countdown,

    /// <summary>The final backup did not commit, so the box stays up and tries again.</summary>
    BackupFailed,
}

/// <param name="TimeLeft">Until the stop (Countdown) or the next backup attempt (BackupFailed).</param>
/// <param name="PostponeCommand">What a user can run to postpone the stop; null when it cannot be postponed.</param>
/// <param name="Message">The whole text for users, ready for wall.</param>
public sealed record StopWarning(
    StopWarningKind Kind,
    StopReason Reason,
    TimeSpan TimeLeft,
    DateTimeOffset At,
    string? PostponeCommand,
    string Message)
{
    /// <summary>Minutes left, rounded up.</summary>
    public int MinutesLeft => Text.WholeMinutesLeft(TimeLeft);
}

/// <summary>What the stop planner asks the agent to do; the agent implements it (wall, webhook, backup, poweroff).</summary>
public interface IStopActions
{
    /// <summary>Tells logged-in users (wall) and anyone else who listens (webhook).</summary>
    Task WarnUsersAsync(StopWarning warning, CancellationToken cancellationToken);

    /// <summary>Runs the final backup; true only when its snapshot committed.</summary>
    Task<bool> FinalBackupAsync(StopReason reason, CancellationToken cancellationToken);

    /// <summary>Powers the box off (the instance terminates). Called at most once after it returns.</summary>
    Task PowerOffAsync(StopReason reason, CancellationToken cancellationToken);
}
