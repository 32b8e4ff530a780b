namespace SpotDevBox.Core.Idle;

/// <summary>A stop the planner is counting down to while the box is awake.</summary>
/// <param name="Postponable">False for a hard stop: maximum session length, a manual stop, a schedule past its overrun.</param>
public sealed record PendingStop(StopReason Reason, DateTimeOffset At, bool Postponable);

/// <summary>The stop planner's state, for `spotdevbox status` and status.json.</summary>
public abstract record PlannerStatus
{
    /// <summary>The status line shown on the box: "awake because ..." or "idle for 23 min, stopping in 7 min".</summary>
    public abstract string Describe();

    internal static string Words(StopReason reason) => reason switch
    {
        StopReason.Idle => "idle",
        StopReason.Schedule => "scheduled stop",
        StopReason.MaxSessionLength => "maximum session length",
        StopReason.Manual => "stop requested",
        _ => reason.ToString(),
    };
}

/// <summary>Nothing sampled yet.</summary>
public sealed record StartingStatus : PlannerStatus
{
    public override string Describe() => "starting: no activity sampled yet";
}

public sealed record AwakeStatus(IReadOnlyList<SignalReading> Because, PendingStop? Pending, TimeSpan StopIn) : PlannerStatus
{
    public override string Describe()
    {
        var line = $"awake because {Text.Join(Because.Select(r => r.Reason))}";
        return Pending switch
        {
            null => line,
            { Reason: StopReason.Schedule, Postponable: false } => $"{line}; scheduled stop overdue, forced in {Text.MinutesLeft(StopIn)}",
            { Postponable: true } => $"{line}; {Words(Pending.Reason)} in {Text.MinutesLeft(StopIn)} unless still active",
            _ => $"{line}; stopping in {Text.MinutesLeft(StopIn)} ({Words(Pending.Reason)})",
        };
    }
}

public sealed record IdleStatus(TimeSpan IdleFor, TimeSpan StoppingIn, StopReason Reason) : PlannerStatus
{
    public override string Describe() => Reason == StopReason.Idle
        ? $"idle for {Text.Minutes(IdleFor)}, stopping in {Text.MinutesLeft(StoppingIn)}"
        : $"idle for {Text.Minutes(IdleFor)}, stopping in {Text.MinutesLeft(StoppingIn)} ({Words(Reason)})";
}

/// <summary>The final backup is running; power-off follows when it commits.</summary>
public sealed record StoppingStatus(StopReason Reason) : PlannerStatus
{
    public override string Describe() => $"stopping ({Words(Reason)}): final backup running";
}

public sealed record BackupFailedStatus(StopReason Reason, int Attempts, string LastError, TimeSpan RetryIn) : PlannerStatus
{
    public override string Describe() =>
        $"stop held ({Words(Reason)}): final backup failed {Attempts} time{(Attempts == 1 ? "" : "s")} ({LastError}); trying again in {Text.MinutesLeft(RetryIn)}";
}

public sealed record PoweredOffStatus(StopReason Reason) : PlannerStatus
{
    public override string Describe() => $"powering off ({Words(Reason)})";
}
