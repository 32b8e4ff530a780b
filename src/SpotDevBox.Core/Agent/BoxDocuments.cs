using System.Text.Json;
using System.Text.Json.Serialization;
using SpotDevBox.Core.Schedules;

namespace SpotDevBox.Core.Agent;

/// <summary>What the agent is doing; written to <c>status.json</c> in the box's prefix and read by the CLI and the controller.</summary>
public enum AgentState
{
    Starting,
    Restoring,
    RestoreFailed,
    Running,
    BackingUp,
    Stopping,
    Interrupted,
    Stopped,
}

/// <summary>How a session ended, as the savings ledger and ops people need it.</summary>
public enum SessionEnd
{
    Idle,
    Schedule,
    MaxSessionLength,
    Manual,
    Interruption,
    SystemShutdown,
    ServiceStopped,
}

/// <summary><c>status.json</c>: the box as its agent sees it, rewritten on every change and at least every few minutes.</summary>
public sealed record AgentStatus
{
    public required string Box { get; init; }
    public required AgentState State { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
    public required string AgentVersion { get; init; }
    public string? InstanceId { get; init; }
    public string? InstanceType { get; init; }
    public string? AvailabilityZone { get; init; }
    public string? Lifecycle { get; init; }
    public DateTimeOffset SessionStart { get; init; }
    public string? LastSnapshotId { get; init; }
    public DateTimeOffset? LastSnapshotTime { get; init; }
    public bool LastSnapshotPartial { get; init; }
    public string? LastBackupError { get; init; }
    /// <summary>The idle decision in one line: "awake because ..." or "idle for 23 min, stopping in 7 min".</summary>
    public string? Activity { get; init; }
    public IReadOnlyList<string> AwakeReasons { get; init; } = [];
    public DateTimeOffset? IdleSince { get; init; }
    public DateTimeOffset? LeaseUntil { get; init; }
    public string? LeaseSetBy { get; init; }
    public string? StopReason { get; init; }
    public string? Notice { get; init; }
    /// <summary>How long the last committed backup took, in seconds; absent in documents of older agents.</summary>
    public double? LastBackupSeconds { get; init; }
    /// <summary>Bytes the last committed backup uploaded (after deduplication and compression).</summary>
    public long? LastBackupBytesUploaded { get; init; }
    /// <summary>The last spot notice: seconds from the agent seeing it to its final snapshot being durable.</summary>
    public double? NoticeToDurableSeconds { get; init; }
}

/// <summary>
/// <c>control.json</c>: what someone off the box asks of it (the CLI's <c>down</c> and <c>keepalive</c>, the
/// controller's scheduled stop). The agent reads it every minute; no port is open on the box.
/// </summary>
public sealed record ControlDocument
{
    /// <summary>Stop the box (warn, back up, power off) at this time; null: no stop requested.</summary>
    public DateTimeOffset? StopAt { get; init; }
    /// <summary>"manual" (spotdevbox down) or "schedule" (the controller's schedule).</summary>
    public string? StopReason { get; init; }
    /// <summary>
    /// The instance the stop is meant for; another instance of the box ignores it. Without it, a stop
    /// requested before the agent started is ignored: it was meant for an earlier instance.
    /// </summary>
    public string? StopInstanceId { get; init; }
    public string? RequestedBy { get; init; }
    /// <summary>Keep the box awake until then, whatever the idle signals say.</summary>
    public DateTimeOffset? LeaseUntil { get; init; }
    public string? LeaseSetBy { get; init; }
    public string? LeaseNote { get; init; }
    /// <summary>
    /// Ignored: earlier versions kept the budget override here, where the box's owner (and the box itself) could
    /// write it. Overrides live in the operator-only <see cref="Controller.BudgetOverride"/> document now; one still
    /// found here is read only to say, once, that it is ignored.
    /// </summary>
    public DateTimeOffset? BudgetOverrideUntil { get; init; }
    public string? BudgetOverrideBy { get; init; }
    /// <summary>A person's exception to the schedule (<c>up --for</c>, <c>down --until</c>), read by the controller.</summary>
    public OverrideDocument? Override { get; init; }
    /// <summary>
    /// The newest snapshot the box was seen to report, written by the controller (the box cannot write this document):
    /// what <c>up</c> passes as the rollback floor when no controller database is at hand. Never lowered by SpotDevBox.
    /// </summary>
    public SnapshotFloor? SnapshotFloor { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>Whether the stop in this document is meant for the agent of <paramref name="instanceId"/> that started at <paramref name="sessionStart"/>.</summary>
    public bool StopAppliesTo(string? instanceId, DateTimeOffset sessionStart) =>
        StopAt is { } at && (StopInstanceId is { } meant ? string.Equals(meant, instanceId, StringComparison.Ordinal) : at >= sessionStart);
}

/// <summary>A schedule override as <c>control.json</c> keeps it; see <see cref="ScheduleOverride"/>.</summary>
public sealed record OverrideDocument
{
    public required OverrideKind Kind { get; init; }
    public required DateTimeOffset From { get; init; }
    public required DateTimeOffset Until { get; init; }
    public required string SetBy { get; init; }
    public string? Note { get; init; }

    public static OverrideDocument Of(ScheduleOverride o)
    {
        ArgumentNullException.ThrowIfNull(o);
        return new() { Kind = o.Kind, From = o.From, Until = o.Until, SetBy = o.SetBy, Note = o.Note };
    }

    /// <summary>The override, or null when the document is inconsistent (ends before it starts).</summary>
    public ScheduleOverride? ToOverride() => Until > From && !string.IsNullOrWhiteSpace(SetBy) ? new ScheduleOverride(Kind, From, Until, SetBy, Note) : null;
}

/// <summary><c>sessions/&lt;start&gt;-&lt;instance&gt;.json</c>: one instance's life, written when the agent stops.</summary>
public sealed record SessionRecord
{
    public required string Box { get; init; }
    public string? InstanceId { get; init; }
    public string? InstanceType { get; init; }
    public string? AvailabilityZone { get; init; }
    public string? Lifecycle { get; init; }
    public required DateTimeOffset Start { get; init; }
    public required DateTimeOffset End { get; init; }
    public required SessionEnd EndedBy { get; init; }
    public string? Detail { get; init; }
    public string? LastSnapshotId { get; init; }
    public bool LastSnapshotPartial { get; init; }
}

/// <summary><c>interruptions/&lt;time&gt;-&lt;instance&gt;.json</c>: a spot notice and what the agent saved before it.</summary>
public sealed record InterruptionRecord
{
    public required string Box { get; init; }
    public string? InstanceId { get; init; }
    public required string Action { get; init; }
    public required DateTimeOffset NoticeTime { get; init; }
    public required DateTimeOffset SeenAt { get; init; }
    public required DateTimeOffset Deadline { get; init; }
    public DateTimeOffset? SnapshotDurableAt { get; init; }
    public string? SnapshotId { get; init; }
    public bool SnapshotPartial { get; init; }
    public int IncompleteFiles { get; init; }
    public double? SecondsToSpare { get; init; }
    public string? Error { get; init; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true,
    WriteIndented = true)]
[JsonSerializable(typeof(AgentStatus))]
[JsonSerializable(typeof(ControlDocument))]
[JsonSerializable(typeof(SessionRecord))]
[JsonSerializable(typeof(InterruptionRecord))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(SpotDevBox.Core.Controller.BudgetOverride))]
[JsonSerializable(typeof(SpotDevBox.Core.Launch.LaunchClaim))]
public sealed partial class BoxJson : JsonSerializerContext
{
    /// <summary>Parses a document, naming the object when it is not valid JSON of the expected shape.</summary>
    public static T Parse<T>(ReadOnlySpan<byte> json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, string what)
    {
        try
        {
            return JsonSerializer.Deserialize(json, type) ?? throw new InvalidDataException($"{what} is empty (null)");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{what} is not valid: {e.Message}", e);
        }
    }
}
