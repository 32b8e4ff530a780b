using Microsoft.Extensions.Logging;

namespace SpotDevBox.Core.Controller;

/// <summary>
/// The reconciler's log events, in one place so that no event id is reused. Every part of the reconciler logs
/// through the <see cref="Reconciler"/>'s logger, so the category stays the one operators filter on.
/// </summary>
internal static partial class ReconcilerLog
{
    [LoggerMessage(EventId = 5100, Level = LogLevel.Information, Message = "Controller reconciling {BoxCount} boxes; it last ran at {PreviousRun}")]
    internal static partial void LogStarted(ILogger logger, int boxCount, string previousRun);

    [LoggerMessage(EventId = 5101, Level = LogLevel.Information, Message = "Box {Box}: {Action}: {Reason}")]
    internal static partial void LogDecision(ILogger logger, string box, string action, string reason);

    [LoggerMessage(EventId = 5102, Level = LogLevel.Warning, Message = "Box {Box}: {Action}: {Reason}")]
    internal static partial void LogDecisionWarning(ILogger logger, string box, string action, string reason);

    [LoggerMessage(EventId = 5103, Level = LogLevel.Debug, Message = "Box {Box}: {Action} (unchanged): {Reason}")]
    internal static partial void LogDecisionRepeated(ILogger logger, string box, string action, string reason);

    [LoggerMessage(EventId = 5104, Level = LogLevel.Error, Message = "EC2 in {Region} could not be asked for the boxes' instances ({Failure}); its boxes wait for the next pass: {Reason}")]
    internal static partial void LogRegionUnreachable(ILogger logger, string region, string failure, string reason);

    [LoggerMessage(EventId = 5105, Level = LogLevel.Warning, Message = "Box {Box}: terminated duplicate instance {InstanceId}, keeping {Kept}")]
    internal static partial void LogDuplicateTerminated(ILogger logger, string box, string instanceId, string kept);

    [LoggerMessage(EventId = 5106, Level = LogLevel.Warning, Message = "The spot price in effect at the start of {InstanceId} is unknown: {Reason}")]
    internal static partial void LogPriceUnknown(ILogger logger, string instanceId, string reason);

    [LoggerMessage(EventId = 5108, Level = LogLevel.Error, Message = "Box {Box}: the cost of {InstanceId}'s session could not be recorded: {Reason}")]
    internal static partial void LogCostNotRecorded(ILogger logger, string box, string instanceId, string reason);

    [LoggerMessage(EventId = 5109, Level = LogLevel.Error, Message = "Security: box {Box}: instance {InstanceId} carries the box's tag with instance profile {InstanceProfile}, not the box's; left alone: {Reason}")]
    internal static partial void LogForeignInstance(ILogger logger, string box, string instanceId, string instanceProfile, string reason);

    [LoggerMessage(EventId = 5112, Level = LogLevel.Debug, Message = "Reconcile pass over {BoxCount} boxes took {Seconds} s")]
    public static partial void LogPassTook(ILogger logger, int boxCount, double seconds);

    [LoggerMessage(EventId = 5113, Level = LogLevel.Warning, Message = "Reconcile pass over {BoxCount} boxes took {Seconds} s, more than half of Controller:Reconcile:Interval ({Interval}): boxes wait longer for their decisions; see docs/controller.md")]
    public static partial void LogPassSlow(ILogger logger, int boxCount, double seconds, string interval);

    [LoggerMessage(EventId = 5111, Level = LogLevel.Warning, Message = "No box can be launched: {Problem}; boxes already running are still stopped on schedule")]
    internal static partial void LogNoRepositoryKey(ILogger logger, string problem);

    [LoggerMessage(EventId = 5110, Level = LogLevel.Warning, Message = "Box {Box} has no InstanceProfile: any instance without a profile that carries its tag is taken as the box's; configure the box's own profile so a tagged instance someone else launched is not adopted")]
    internal static partial void LogNoInstanceProfile(ILogger logger, string box);

    [LoggerMessage(EventId = 5130, Level = LogLevel.Warning, Message = "Security: box {Box}: {Record} ignored: {Problem}; the ledger uses only what EC2 reports ({Bound})")]
    internal static partial void LogUntrustedRecord(ILogger logger, string box, string record, string problem, string bound);

    [LoggerMessage(EventId = 5132, Level = LogLevel.Warning, Message = "Security: box {Box}: the last snapshot in status.json is not taken as the rollback floor: {Problem} ({Bound})")]
    internal static partial void LogUntrustedStatus(ILogger logger, string box, string problem, string bound);

    [LoggerMessage(EventId = 5133, Level = LogLevel.Information, Message = "Box {Box}: rollback floor raised to snapshot {SnapshotId} of {Time}; the next launch refuses to restore anything older")]
    internal static partial void LogFloorRaised(ILogger logger, string box, string snapshotId, DateTimeOffset time);

    [LoggerMessage(EventId = 5131, Level = LogLevel.Warning, Message = "Box {Box}: the budget override in control.json is ignored: overrides are granted by an operator and live in {Location} ('spotdevbox up BOX --over-budget' writes one, with the operator's right)")]
    internal static partial void LogControlOverrideIgnored(ILogger logger, string box, string location);

    [LoggerMessage(EventId = 5134, Level = LogLevel.Warning, Message = "Security: box {Box}: {Field} in status.json is out of bounds and not exported as a metric; said once per box and field")]
    internal static partial void LogUntrustedFigure(ILogger logger, string box, string field);

    [LoggerMessage(EventId = 5107, Level = LogLevel.Warning, Message = "Box {Box}: {Document} could not be read, going on without it: {Reason}")]
    internal static partial void LogDocumentUnreadable(ILogger logger, string box, string document, string reason);
}
