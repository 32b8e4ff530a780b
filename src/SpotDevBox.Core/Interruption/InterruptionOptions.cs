namespace SpotDevBox.Core.Interruption;

/// <summary>How the agent watches for interruption signals; bound from "Agent:Interruption".</summary>
public sealed class InterruptionOptions
{
    public const string SectionName = "Agent:Interruption";

    /// <summary>How often the interruption notice and the rebalance recommendation are read (1 to 5 s; AWS suggests 5 s, NTH uses 2 s).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How often scheduled maintenance events are read; they are announced days ahead.</summary>
    public TimeSpan MaintenancePollInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The longest wait between two reads of the notice while the service cannot be read. Kept well
    /// under the notice's lead time (about 120 s, 108 s seen) so a backoff never hides a notice.
    /// </summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The final backup must be done this long before the notice's time: deadline = notice time - margin.</summary>
    public TimeSpan SafetyMargin { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The backup deadline for a notice.</summary>
    public DateTimeOffset BackupDeadline(InstanceAction action)
    {
        ArgumentNullException.ThrowIfNull(action);
        return action.Time - SafetyMargin;
    }
}
