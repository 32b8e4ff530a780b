using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SpotDevBox.Backup.Storage;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.FileSystem;
using SpotDevBox.Core.Idle;
using SpotDevBox.Core.Interruption;

namespace SpotDevBox.Agent;

/// <summary>
/// Gives the memory of a large piece of work (the start-up restore, a backup) back to the system. The GC
/// keeps what a restore or a backup grew its heap to — hundreds of MB for a big home — and at rest the
/// agent needs a few: one aggressive, compacting collection after the work decommits the free space.
/// Called once per piece of work, never on a timer.
/// </summary>
internal static partial class AgentMemory
{
    public static void GiveBack(ILogger logger, string after)
    {
        var before = GC.GetGCMemoryInfo().TotalCommittedBytes;
        var started = Stopwatch.GetTimestamp();
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        if (logger.IsEnabled(LogLevel.Debug))
        {
            var info = GC.GetGCMemoryInfo();
            var milliseconds = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            LogGivenBack(logger, after, before / 1048576.0, info.TotalCommittedBytes / 1048576.0, info.HeapSizeBytes / 1048576.0, milliseconds);
        }
    }

    [LoggerMessage(EventId = 3710, Level = LogLevel.Debug, Message = "Memory given back after {After}: GC committed {BeforeMiB:0.0} -> {AfterMiB:0.0} MiB (heap {HeapMiB:0.0} MiB) in {Milliseconds:0} ms")]
    private static partial void LogGivenBack(ILogger logger, string after, double beforeMiB, double afterMiB, double heapMiB, double milliseconds);
}

/// <summary>Runs the interruption watcher for the agent's whole life (it starts before the restore, so a notice is never missed).</summary>
internal sealed class InterruptionWatcherService(InterruptionWatcher watcher) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => watcher.RunAsync(stoppingToken);
}

/// <summary>Writes status.json to the box's prefix on every change (within a few seconds) and at least every StatusInterval, and a copy on the box for <c>spotdevbox status</c>.</summary>
internal sealed partial class StatusPublisher(AgentStatusBoard board, BoxStorage storage, IOptions<AgentOptions> options, TimeProvider time, ILogger<StatusPublisher> logger) : BackgroundService
{
    private long _written = -1;
    private DateTimeOffset _writtenAt = DateTimeOffset.MinValue;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(5), time);
        try
        {
            do
            {
                if (board.Version != _written || time.GetUtcNow() - _writtenAt >= options.Value.StatusInterval)
                {
                    await PublishAsync(stoppingToken);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping: the agent's lifetime writes the last status
        }
    }

    public async Task PublishAsync(CancellationToken cancellationToken)
    {
        var version = board.Version;
        var status = board.Current;
        WriteLocal(status);
        try
        {
            await storage.WriteStatusAsync(status, cancellationToken);
            _written = version;
            _writtenAt = time.GetUtcNow();
        }
        catch (StorageException e)
        {
            LogStatusNotWritten(logger, e.Message);
        }
    }

    private void WriteLocal(AgentStatus status)
    {
        var path = Path.Combine(options.Value.RunDirectory, "status.json");
        try
        {
            RunDirectory.Ensure(options.Value.RunDirectory);
            AtomicFile.Write(path, JsonSerializer.SerializeToUtf8Bytes(status, BoxJson.Default.AgentStatus), AtomicFile.WorldReadable);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogLocalStatusNotWritten(logger, path, e.Message);
        }
    }

    [LoggerMessage(EventId = 3700, Level = LogLevel.Warning, Message = "status.json could not be written to the box's prefix: {Reason}")]
    private static partial void LogStatusNotWritten(ILogger logger, string reason);

    [LoggerMessage(EventId = 3701, Level = LogLevel.Warning, Message = "The local status {Path} could not be written: {Reason}")]
    private static partial void LogLocalStatusNotWritten(ILogger logger, string path, string reason);
}

/// <summary>
/// The agent's last act when it is stopped (systemctl stop, a user's poweroff, or its own power-off): unless
/// a final backup already ran (the idle or schedule stop, or the spot notice, whose backup it waits for),
/// take one, in the notice's deadline mode: newest changes first, committed (partial if need be) before
/// Agent:StopTimeout runs out. Then write the session record and the last status. The reason is logged;
/// a final backup that committed nothing sets <see cref="FinalBackupLost"/> (<c>agent run</c> exits 1).
/// </summary>
internal sealed partial class AgentLifetime(
    AgentBackups backups,
    AgentStatusBoard board,
    InterruptionResponder responder,
    SessionRecorder sessions,
    StatusPublisher status,
    ICommandRunner commands,
    IOptions<AgentOptions> options,
    TimeProvider time,
    ILogger<AgentLifetime> logger) : IHostedService
{
    /// <summary>True once a final backup (at stop, or the spot notice's) committed nothing: the session's last changes are lost.</summary>
    public bool FinalBackupLost { get; private set; }

    /// <summary>
    /// Kept between the final backup's deadline and Agent:StopTimeout, which cancels it outright: a fifth of
    /// the timeout, at most 10 s. The engine itself stops reading its commit reserve (5 s) before the deadline.
    /// </summary>
    internal static TimeSpan StopMargin(TimeSpan stopTimeout) => TimeSpan.FromTicks(Math.Min(stopTimeout.Ticks / 5, TimeSpan.FromSeconds(10).Ticks));

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var stopTimeout = options.Value.StopTimeout;
        var deadline = time.GetUtcNow() + stopTimeout - StopMargin(stopTimeout);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(stopTimeout);
        var finalBackupRunning = false;
        try
        {
            if (!backups.IsReady)
            {
                // Nothing was restored yet, so nothing new can be lost; a notice's backup still waiting for the restore is let go.
                LogStopBeforeReady(logger);
                await responder.DrainAsync(new CancellationToken(canceled: true));
            }
            else if (responder.FinalBackup is not null)
            {
                LogStopAfterNotice(logger);
                finalBackupRunning = true;
                await responder.DrainAsync(limit.Token);
                FinalBackupLost = responder.FinalBackupFailed;
            }
            else if (board.Current.State == AgentState.Stopping && board.EndReason is not null)
            {
                LogStopAfterPlannedStop(logger, board.EndReason.Value);
            }
            else
            {
                var (reason, detail) = await WhyStoppedAsync(limit.Token);
                board.DecideEnd(reason, detail);
                LogStopping(logger, reason, detail);
                board.SetState(AgentState.Stopping);
                finalBackupRunning = true;
                var outcome = await backups.RunAsync(BackupKind.Final, detail, deadline, limit.Token);
                if (!outcome.Committed)
                {
                    FinalBackupLost = true;
                    LogFinalBackupFailed(logger, outcome.Error ?? "unknown");
                }
            }
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested)
        {
            FinalBackupLost |= finalBackupRunning;
            LogStopTimedOut(logger, options.Value.StopTimeout);
        }

        board.SetState(board.EndReason == SessionEnd.Interruption ? AgentState.Interrupted : AgentState.Stopped);
        using var last = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await sessions.RecordAsync(last.Token);
        await status.PublishAsync(last.Token);
    }

    private async Task<(SessionEnd Reason, string Detail)> WhyStoppedAsync(CancellationToken cancellationToken)
    {
        // "stopping" means the whole system is going down (a user's poweroff or reboot), not just this service.
        var result = await commands.RunAsync("systemctl", ["is-system-running"], TimeSpan.FromSeconds(2), cancellationToken);
        return result.Outcome == CommandOutcome.Exited && result.StandardOutput.Trim() == "stopping"
            ? (SessionEnd.SystemShutdown, "the system is shutting down (poweroff or reboot on the box)")
            : (SessionEnd.ServiceStopped, "the agent was stopped (systemctl stop, or a signal)");
    }

    [LoggerMessage(EventId = 3800, Level = LogLevel.Warning, Message = "Agent stopping ({Reason}): {Detail}; taking a final backup")]
    private static partial void LogStopping(ILogger logger, SessionEnd reason, string detail);

    [LoggerMessage(EventId = 3801, Level = LogLevel.Information, Message = "Agent stopping after a spot notice: waiting for the interruption's backup")]
    private static partial void LogStopAfterNotice(ILogger logger);

    [LoggerMessage(EventId = 3802, Level = LogLevel.Information, Message = "Agent stopping after its own {Reason} stop: the final backup already committed")]
    private static partial void LogStopAfterPlannedStop(ILogger logger, SessionEnd reason);

    [LoggerMessage(EventId = 3803, Level = LogLevel.Warning, Message = "Agent stopping before the start-up restore finished: no final backup (it would save an incomplete home)")]
    private static partial void LogStopBeforeReady(ILogger logger);

    [LoggerMessage(EventId = 3804, Level = LogLevel.Error, Message = "The final backup at stop did not commit: {Reason}")]
    private static partial void LogFinalBackupFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 3805, Level = LogLevel.Error, Message = "The final backup did not finish within Agent:StopTimeout ({Timeout}); the last snapshot is the one before")]
    private static partial void LogStopTimedOut(ILogger logger, TimeSpan timeout);
}

/// <summary>
/// Tells people when backups start failing (and once they work again): wall sees it on a terminal,
/// the webhook in chat. Only the change is announced, not every failed attempt.
/// </summary>
internal sealed class BackupFailureAlerts(AgentStatusBoard board, Notifier notifier) : IHostedService
{
    private readonly Lock _gate = new();
    private string? _lastError;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        board.Changed += OnChanged;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        board.Changed -= OnChanged;
        return Task.CompletedTask;
    }

    private void OnChanged()
    {
        var status = board.Current;
        string? message = null;
        lock (_gate)
        {
            if (status.LastBackupError is { } error && _lastError is null)
            {
                message = $"Backups are failing: {error}. Your last snapshot is from {(status.LastSnapshotTime is { } t ? t.ToString("u", System.Globalization.CultureInfo.InvariantCulture) : "never")}; the agent keeps trying.";
            }
            else if (status.LastBackupError is null && _lastError is not null)
            {
                message = "Backups work again.";
            }

            _lastError = status.LastBackupError;
        }

        if (message is not null)
        {
            _ = notifier.NotifyAsync(NotificationKind.BackupFailed, message, CancellationToken.None);
        }
    }
}
