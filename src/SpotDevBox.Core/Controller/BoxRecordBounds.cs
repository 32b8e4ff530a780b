using System.Globalization;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Compute;

namespace SpotDevBox.Core.Controller;

/// <summary>
/// What the controller accepts from the records a box writes about its own life (<c>sessions/…</c>,
/// <c>interruptions/…</c>) when it closes the box's session: the box's role writes them, so root on the box can
/// write anything there, and the ledger must not take its word for money (docs/savings.md, "What the ledger
/// accepts from a box"). A record is accepted only when it names this box and this instance and its times lie
/// within the instance's life as EC2 reports it: from its launch time to the time EC2 reports it stopped or
/// terminated (or now, when EC2 reports no such time). An interruption record is also refused when EC2 reports
/// another reason for the instance's end. A record outside the bounds is ignored whole (not clamped: a record
/// caught lying about one thing is not believed about the rest), and the session is closed from what EC2 and
/// the controller itself saw.
/// </summary>
/// <param name="Launched">EC2's launch time of the instance (the session's start).</param>
/// <param name="Ended">EC2's state transition time of the ended instance, or now when EC2 reports none.</param>
/// <param name="Reason">EC2's state reason for the ended instance, when it still lists it.</param>
internal sealed record BoxRecordBounds(string Box, string InstanceId, DateTimeOffset Launched, DateTimeOffset Ended, bool EndedByEc2sWord, StateReason? Reason)
{
    /// <summary>
    /// A notice's time is when EC2 said it would act; EC2 may end the instance a little before that instant, so
    /// the notice time may lie this much after the end EC2 reports (it is the lead of a spot notice).
    /// </summary>
    internal static readonly TimeSpan NoticeLead = TimeSpan.FromMinutes(2);

    public static BoxRecordBounds Of(SessionRow row, BoxInstance? instance, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(row);
        var reported = instance is { IsLive: false, StateTransitionTime: { } t } && t <= now && t >= row.Start ? t : (DateTimeOffset?)null;
        return new(row.Box, row.InstanceId, row.Start, reported ?? now, reported is not null, instance is { IsLive: false } ? instance.StateReason : null);
    }

    /// <summary>Why the session record is not accepted, or null when it is.</summary>
    public string? Check(SessionRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return Names(record.Box, record.InstanceId)
            ?? (record.End < Launched ? $"its end {Utc(record.End)} is before EC2 launched the instance"
                : record.End > Ended ? $"its end {Utc(record.End)} is after {(EndedByEc2sWord ? "EC2 ended the instance" : "now, and EC2 reports no end")}"
                : null);
    }

    /// <summary>Why the interruption record is not accepted, or null when it is.</summary>
    public string? Check(InterruptionRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (Names(record.Box, record.InstanceId) is { } other)
        {
            return other;
        }

        if (Reason is { } reason && !reason.Code.StartsWith("Server.Spot", StringComparison.Ordinal))
        {
            return $"EC2 reports the instance ended by {Quote(reason.Code)}, not by a spot interruption";
        }

        if (record.SeenAt < Launched || record.SeenAt > Ended)
        {
            return $"the notice was seen at {Utc(record.SeenAt)}, outside the instance's life";
        }

        return record.NoticeTime < Launched || record.NoticeTime > Ended + NoticeLead
            ? $"its notice time {Utc(record.NoticeTime)} is outside the instance's life"
            : null;
    }

    /// <summary>
    /// Why the last snapshot a status reports is not taken as the box's rollback floor, or null when it is: the status
    /// names this box and this instance, and the snapshot's time lies within the instance's life. A snapshot restored
    /// at boot (older than the launch) adds nothing the floor does not have; one dated later than now would make
    /// every later boot refuse.
    /// </summary>
    public string? Check(AgentStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        return Names(status.Box, status.InstanceId)
            ?? (!SnapshotFloor.IsSnapshotId(status.LastSnapshotId) ? "its snapshot id is not 64 lower-case hex digits"
                : status.LastSnapshotTime is not { } at ? "it reports no snapshot time"
                : at < Launched ? $"its snapshot time {Utc(at)} is before EC2 launched the instance"
                : at > Ended ? $"its snapshot time {Utc(at)} is after {(EndedByEc2sWord ? "EC2 ended the instance" : "now")}"
                : null);
    }

    /// <summary>The bound, for the security event.</summary>
    public string Describe() =>
        $"{InstanceId} launched {Utc(Launched)}, {(EndedByEc2sWord ? "ended" : "no end reported by EC2; now")} {Utc(Ended)}{(Reason is { } r ? $" ({Quote(r.Code)})" : "")}";

    public static string SessionRecordName(string instanceId) => $"sessions/…-{instanceId}.json";

    public static string InterruptionRecordName(string instanceId) => $"interruptions/…-{instanceId}.json";

    public static string NameOf(object record, string instanceId) =>
        record is InterruptionRecord ? InterruptionRecordName(instanceId) : SessionRecordName(instanceId);

    private string? Names(string box, string? instanceId) =>
        !string.Equals(box, Box, StringComparison.Ordinal) ? $"it names another box, {Quote(box)}"
            : !string.Equals(instanceId, InstanceId, StringComparison.Ordinal) ? $"it names another instance, {Quote(instanceId ?? "none")}"
            : null;

    private static string Utc(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>Text the box wrote, quoted and escaped (no control sequence reaches a log reader's terminal), at most 64 characters.</summary>
    private static string Quote(string text) =>
        System.Text.Json.JsonSerializer.Serialize(text.Length > 64 ? text[..64] + "…" : text, BoxJson.Default.String);
}
