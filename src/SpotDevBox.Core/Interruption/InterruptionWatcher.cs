using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace SpotDevBox.Core.Interruption;

/// <summary>
/// Polls the metadata service for the three signals that matter to a spot dev box and hands each new
/// one to the <see cref="IInterruptionHandler"/>, once. One loop per source (notice, rebalance,
/// maintenance), each with its own interval, backoff and log state, so a slow or failing source never
/// delays another.
/// </summary>
/// <remarks>
/// The legacy <c>spot/termination-time</c> item is not read: <c>spot/instance-action</c> carries the same
/// notice, for stop and hibernate too, and is the one EC2 documents as authoritative.
/// An unknown reading (throttled, refused, timed out, unparseable) is never taken for a notice nor for
/// "no notice": the loop backs off with jitter, at most <see cref="InterruptionOptions.MaxBackoff"/>,
/// and keeps polling for as long as it runs. There is no "N errors then give up".
/// </remarks>
public sealed partial class InterruptionWatcher
{
    /// <summary>While a source stays unknown, one summary line per this interval (the first failure is logged at once).</summary>
    internal static readonly TimeSpan UnknownSummaryInterval = TimeSpan.FromMinutes(5);

    private const string NoticeSource = "spot/instance-action";
    private const string RebalanceSource = "events/recommendations/rebalance";
    private const string MaintenanceSource = "events/maintenance/scheduled";

    private readonly IMetadataClient _client;
    private readonly IInterruptionHandler _handler;
    private readonly InterruptionOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Random _random;

    // Each field is touched by one loop only. One interruption and one rebalance per instance: their
    // times are not identities (the AWS mock recomputes them on every read, and nothing promises EC2 will not).
    private InstanceAction? _notice;
    private bool _noticeMovedLaterLogged;
    private bool _noticeActionChangeLogged;
    private RebalanceRecommendation? _rebalance;
    private bool _rebalanceMovedLogged;
    private readonly HashSet<(string EventId, string State)> _seenMaintenance = [];

    public InterruptionWatcher(
        IMetadataClient client,
        IInterruptionHandler handler,
        IOptions<InterruptionOptions> options,
        TimeProvider timeProvider,
        ILogger<InterruptionWatcher> logger)
        : this(client, handler, options, timeProvider, logger, Random.Shared)
    {
    }

    /// <summary>With a chosen source of jitter, so tests can pin it.</summary>
    internal InterruptionWatcher(
        IMetadataClient client,
        IInterruptionHandler handler,
        IOptions<InterruptionOptions> options,
        TimeProvider timeProvider,
        ILogger logger,
        Random random)
    {
        ArgumentNullException.ThrowIfNull(options);
        _client = client ?? throw new ArgumentNullException(nameof(client));
        _handler = handler ?? throw new ArgumentNullException(nameof(handler));
        _options = options.Value;
        _time = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _random = random ?? throw new ArgumentNullException(nameof(random));
    }

    /// <summary>Polls until <paramref name="cancellationToken"/> is cancelled, then completes (without throwing).</summary>
    public Task RunAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(
            PollAsync(NoticeSource, _client.GetInstanceActionAsync, _options.PollInterval, _options.MaxBackoff, OnNoticeAsync, cancellationToken),
            PollAsync(RebalanceSource, _client.GetRebalanceRecommendationAsync, _options.PollInterval, _options.MaxBackoff, OnRebalanceAsync, cancellationToken),
            // Maintenance is announced days ahead: while unknown it is simply read again at its own interval.
            PollAsync(MaintenanceSource, _client.GetScheduledEventsAsync, _options.MaintenancePollInterval, _options.MaintenancePollInterval, OnScheduledEventsAsync, cancellationToken));

    /// <summary>
    /// The wait after <paramref name="consecutiveUnknowns"/> unknown readings in a row: nominally
    /// interval x 2^n, capped at <paramref name="cap"/>, with "equal jitter" (a uniform pick in the upper
    /// half) so many boxes throttled together do not retry in step. Never below the interval, never above the cap.
    /// </summary>
    internal static TimeSpan Backoff(TimeSpan interval, TimeSpan cap, int consecutiveUnknowns, double random01)
    {
        if (consecutiveUnknowns <= 0)
        {
            return interval;
        }

        var ceiling = Math.Max(interval.Ticks, cap.Ticks);
        var nominal = Math.Min(interval.Ticks * Math.Pow(2, Math.Min(consecutiveUnknowns, 30)), ceiling);
        var floor = Math.Min(Math.Max(interval.Ticks, nominal / 2), nominal);
        return TimeSpan.FromTicks((long)(floor + ((nominal - floor) * Math.Clamp(random01, 0, 1))));
    }

    /// <summary>
    /// Which scheduled events are handed to the agent: those that end this instance's session, while active.
    /// <c>instance-stop</c> and <c>instance-retirement</c> stop the instance (a spot box launched with
    /// shutdown behaviour "terminate" is gone with its disk). <c>instance-reboot</c>, <c>system-reboot</c>
    /// and <c>system-maintenance</c> keep the instance and its volumes: the periodic backup covers them,
    /// and they are logged, not announced. <c>completed</c> and <c>canceled</c> events need no action.
    /// </summary>
    public static bool IsAnnounced(MaintenanceEvent maintenanceEvent)
    {
        ArgumentNullException.ThrowIfNull(maintenanceEvent);
        var endsInstance = string.Equals(maintenanceEvent.Code, "instance-stop", StringComparison.OrdinalIgnoreCase)
            || string.Equals(maintenanceEvent.Code, "instance-retirement", StringComparison.OrdinalIgnoreCase);
        return endsInstance && string.Equals(maintenanceEvent.State, "active", StringComparison.OrdinalIgnoreCase);
    }

    private async Task PollAsync<T>(
        string source,
        Func<CancellationToken, Task<MetadataReading<T>>> read,
        TimeSpan interval,
        TimeSpan maxBackoff,
        Func<T, CancellationToken, Task> onPresent,
        CancellationToken cancellationToken)
    {
        var health = new SourceHealth();
        while (!cancellationToken.IsCancellationRequested)
        {
            MetadataReading<T> reading;
            try
            {
                reading = await read(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // The client promises not to throw; if it does anyway, that is one more unknown reading, not the end of the watch.
            catch (Exception e)
#pragma warning restore CA1031
            {
                reading = MetadataReading.Unknown<T>($"{e.GetType().Name}: {e.Message}");
            }

            TimeSpan delay;
            if (reading is MetadataReading<T>.Unknown(var reason))
            {
                RecordUnknown(source, health, reason);
                delay = Backoff(interval, maxBackoff, health.ConsecutiveUnknowns, NextJitter());
            }
            else
            {
                RecordReadable(source, health);
                if (reading is MetadataReading<T>.Present(var value))
                {
                    try
                    {
                        await onPresent(value, cancellationToken);
                    }
                    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                    {
                        return;
                    }
                }

                delay = interval;
            }

            try
            {
                await Task.Delay(delay, _time, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

#pragma warning disable CA5394 // Jitter spreads retries in time; it protects nothing.
    private double NextJitter() => _random.NextDouble();
#pragma warning restore CA5394

    /// <summary>
    /// One response per instance. A later reading can only tighten it: an earlier time moves the deadline
    /// earlier; a later time is ignored (the deadline never moves later, or a mock whose time moves on
    /// every read would push it out forever); another action (terminate to stop) is the same interruption.
    /// </summary>
    private async Task OnNoticeAsync(InstanceAction action, CancellationToken cancellationToken)
    {
        if (_notice is not { } handled)
        {
            _notice = action;
            LogNotice(_logger, action.Kind, action.Time, _options.BackupDeadline(action));
            await CallHandlerAsync(NoticeSource, () => _handler.OnInstanceActionAsync(action, cancellationToken), cancellationToken);
            return;
        }

        if (action.Kind != handled.Kind && !_noticeActionChangeLogged)
        {
            _noticeActionChangeLogged = true;
            LogNoticeActionChanged(_logger, handled.Kind, action.Kind);
        }

        if (action.Time < handled.Time)
        {
            var tightened = handled with { Time = action.Time };
            _notice = tightened;
            var deadline = _options.BackupDeadline(tightened);
            LogNoticeTightened(_logger, handled.Time, action.Time, deadline);
            await CallHandlerAsync(NoticeSource, () => _handler.OnInstanceActionTightenedAsync(tightened, cancellationToken), cancellationToken);
        }
        else if (action.Time > handled.Time && !_noticeMovedLaterLogged)
        {
            _noticeMovedLaterLogged = true;
            LogNoticeMovedLater(_logger, action.Time, handled.Time);
        }
    }

    /// <summary>
    /// One per instance: the recommendation says the risk is elevated, and it stays so until the instance
    /// ends; a new noticeTime adds nothing the periodic backups and the 2-minute notice do not cover.
    /// </summary>
    private async Task OnRebalanceAsync(RebalanceRecommendation recommendation, CancellationToken cancellationToken)
    {
        if (_rebalance is { } handled)
        {
            if (handled != recommendation && !_rebalanceMovedLogged)
            {
                _rebalanceMovedLogged = true;
                LogRebalanceMoved(_logger, recommendation.NoticeTime, handled.NoticeTime);
            }

            return;
        }

        _rebalance = recommendation;
        LogRebalance(_logger, recommendation.NoticeTime);
        await CallHandlerAsync(RebalanceSource, () => _handler.OnRebalanceRecommendationAsync(recommendation, cancellationToken), cancellationToken);
    }

    private async Task OnScheduledEventsAsync(IReadOnlyList<MaintenanceEvent> events, CancellationToken cancellationToken)
    {
        foreach (var maintenanceEvent in events)
        {
            if (!_seenMaintenance.Add((maintenanceEvent.EventId, maintenanceEvent.State.ToLowerInvariant())))
            {
                continue;
            }

            if (!IsAnnounced(maintenanceEvent))
            {
                LogMaintenanceNotAnnounced(_logger, maintenanceEvent.EventId, maintenanceEvent.Code, maintenanceEvent.State, maintenanceEvent.NotBefore);
                continue;
            }

            LogMaintenance(_logger, maintenanceEvent.EventId, maintenanceEvent.Code, maintenanceEvent.NotBefore, maintenanceEvent.Description);
            await CallHandlerAsync(MaintenanceSource, () => _handler.OnMaintenanceEventAsync(maintenanceEvent, cancellationToken), cancellationToken);
        }
    }

    /// <summary>At most once per signal: a handler that failed is not called again for the same signal (it would be, every 2 s, forever).</summary>
    private async Task CallHandlerAsync(string source, Func<Task> call, CancellationToken cancellationToken)
    {
        try
        {
            await call();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // The agent's handler failing must not end the watch; it is logged and polling goes on.
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogHandlerFailed(_logger, e, source);
        }
    }

    /// <summary>
    /// At most one warning per <see cref="UnknownSummaryInterval"/> per source, whether the source stays
    /// down (3905, then 3906 summaries) or flaps (failures within the interval of the last warning are
    /// counted, not logged, and summarised by 3908 once the interval has passed). A recovery (3907) is
    /// logged only for an outage whose warning was logged, so a flapping source logs one pair per interval.
    /// </summary>
    private void RecordUnknown(string source, SourceHealth health, string reason)
    {
        var now = _time.GetUtcNow();
        health.ConsecutiveUnknowns++;
        var quiet = health.LastWarnedAt is { } last && now - last < UnknownSummaryInterval;
        if (health.ConsecutiveUnknowns == 1)
        {
            health.FirstUnknownAt = now;
            health.OutageLogged = !quiet;
            if (quiet)
            {
                health.UnloggedOutages++;
            }
            else if (health.UnloggedOutages > 0)
            {
                LogSourceFlapping(_logger, source, health.UnloggedOutages + 1, now - health.LastWarnedAt!.Value, reason);
                health.UnloggedOutages = 0;
                health.LastWarnedAt = now;
            }
            else
            {
                LogSourceUnknown(_logger, source, reason);
                health.LastWarnedAt = now;
            }
        }
        else if (!quiet)
        {
            LogSourceStillUnknown(_logger, source, health.ConsecutiveUnknowns, now - health.FirstUnknownAt, reason);
            health.OutageLogged = true;
            health.LastWarnedAt = now;
        }
    }

    private void RecordReadable(string source, SourceHealth health)
    {
        if (health.ConsecutiveUnknowns > 0)
        {
            if (health.OutageLogged)
            {
                var duration = _time.GetUtcNow() - health.FirstUnknownAt;
                LogSourceRecovered(_logger, source, health.ConsecutiveUnknowns, duration);
            }

            health.ConsecutiveUnknowns = 0;
        }
    }

    private sealed class SourceHealth
    {
        public int ConsecutiveUnknowns { get; set; }

        public DateTimeOffset FirstUnknownAt { get; set; }

        /// <summary>The last 3905, 3906 or 3908 line for this source.</summary>
        public DateTimeOffset? LastWarnedAt { get; set; }

        /// <summary>Whether the current outage was announced, so its recovery is logged too.</summary>
        public bool OutageLogged { get; set; }

        /// <summary>Outages since <see cref="LastWarnedAt"/> that began and ended without a line.</summary>
        public int UnloggedOutages { get; set; }
    }

    [LoggerMessage(EventId = 3900, Level = LogLevel.Warning, Message = "Spot interruption notice: {Action} at {ActionTime:u}; final backup deadline {Deadline:u}")]
    private static partial void LogNotice(ILogger logger, InstanceActionKind action, DateTimeOffset actionTime, DateTimeOffset deadline);

    [LoggerMessage(EventId = 3901, Level = LogLevel.Information, Message = "Rebalance recommendation of {NoticeTime:u}: interruption risk is elevated")]
    private static partial void LogRebalance(ILogger logger, DateTimeOffset noticeTime);

    [LoggerMessage(EventId = 3902, Level = LogLevel.Warning, Message = "Scheduled event {EventId}: {Code} not before {NotBefore:u} ({Description})")]
    private static partial void LogMaintenance(ILogger logger, string eventId, string code, DateTimeOffset notBefore, string description);

    [LoggerMessage(EventId = 3903, Level = LogLevel.Information, Message = "Scheduled event {EventId} ({Code}, {State}, not before {NotBefore:u}) is not announced: it does not end the instance or is no longer active")]
    private static partial void LogMaintenanceNotAnnounced(ILogger logger, string eventId, string code, string state, DateTimeOffset notBefore);

    [LoggerMessage(EventId = 3904, Level = LogLevel.Error, Message = "The interruption handler failed on a {Source} signal; it is not called again for this signal, polling goes on")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, string source);

    [LoggerMessage(EventId = 3905, Level = LogLevel.Warning, Message = "Metadata {Source} cannot be read, polling on with backoff: {Reason}")]
    private static partial void LogSourceUnknown(ILogger logger, string source, string reason);

    [LoggerMessage(EventId = 3906, Level = LogLevel.Warning, Message = "Metadata {Source} still cannot be read: {Attempts} attempts over {Duration}, last: {Reason}")]
    private static partial void LogSourceStillUnknown(ILogger logger, string source, int attempts, TimeSpan duration, string reason);

    [LoggerMessage(EventId = 3907, Level = LogLevel.Information, Message = "Metadata {Source} readable again after {Attempts} failed attempts over {Duration}")]
    private static partial void LogSourceRecovered(ILogger logger, string source, int attempts, TimeSpan duration);

    [LoggerMessage(EventId = 3908, Level = LogLevel.Warning, Message = "Metadata {Source} keeps failing and recovering: {Outages} outages in the last {Duration}, polling on with backoff; last: {Reason}")]
    private static partial void LogSourceFlapping(ILogger logger, string source, int outages, TimeSpan duration, string reason);

    [LoggerMessage(EventId = 3909, Level = LogLevel.Information, Message = "The spot notice now gives {Time:u}, earlier than {Previous:u}: the final backup's deadline moves to {Deadline:u}")]
    private static partial void LogNoticeTightened(ILogger logger, DateTimeOffset previous, DateTimeOffset time, DateTimeOffset deadline);

    [LoggerMessage(EventId = 3910, Level = LogLevel.Debug, Message = "The spot notice now gives {Time:u}, later than {Kept:u}: ignored (a deadline never moves later; logged once)")]
    private static partial void LogNoticeMovedLater(ILogger logger, DateTimeOffset time, DateTimeOffset kept);

    [LoggerMessage(EventId = 3911, Level = LogLevel.Information, Message = "The spot notice's action changed from {First} to {Now}: the same interruption, its response goes on (logged once)")]
    private static partial void LogNoticeActionChanged(ILogger logger, InstanceActionKind first, InstanceActionKind now);

    [LoggerMessage(EventId = 3912, Level = LogLevel.Debug, Message = "Rebalance recommendation now of {NoticeTime:u}, already answered the one of {Answered:u}: one per instance (logged once)")]
    private static partial void LogRebalanceMoved(ILogger logger, DateTimeOffset noticeTime, DateTimeOffset answered);
}
