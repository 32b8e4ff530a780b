using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SpotDevBox.Backup.Engine;
using SpotDevBox.Backup.FileSystem;
using SpotDevBox.Backup.Repository;
using SpotDevBox.Backup.Storage;
using SpotDevBox.Core.Agent;

namespace SpotDevBox.Agent;

internal enum BackupKind
{
    Periodic,
    Rebalance,
    Interruption,
    Final,
    /// <summary>forget + prune: shares the queue so it never holds the repository's exclusive lock under an urgent backup.</summary>
    Retention,
}

/// <param name="DurableAt">When the snapshot manifest was stored: from then on the snapshot survives the box.</param>
internal sealed record BackupOutcome(BackupKind Kind, bool Committed, string? SnapshotId, bool Partial, int IncompleteFiles, DateTimeOffset? DurableAt, string? Error)
{
    public static BackupOutcome Skipped(BackupKind kind, string why) => new(kind, false, null, false, 0, null, why);
}

/// <summary>
/// Runs the box's backups one at a time. A periodic backup is skipped while another runs; an urgent one
/// (a spot notice, the final backup before power-off) cancels a running periodic backup — what it
/// uploaded is reused — and goes next. Nothing is backed up before the start-up restore has finished,
/// so an empty home on a fresh box can never become the latest snapshot: other kinds are refused then,
/// but a spot notice's backup waits for the restore and runs as soon as it is done.
/// </summary>
internal sealed partial class AgentBackups(
    BoxStorage storage,
    AgentStatusBoard board,
    IOptions<AgentOptions> agentOptions,
    IOptions<BackupEngineOptions> engineOptions,
    IFileSystemMetadata fileSystem,
    TimeProvider time,
    SpotDevBox.Core.Idle.SelfActivityTracker self,
    ILoggerFactory loggers) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ILogger _logger = loggers.CreateLogger<AgentBackups>();
    private readonly Lock _runningGate = new();
    private CancellationTokenSource? _running;
    private bool _preemptRequested;
    private BackupKind _runningKind;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsRunning => _gate.CurrentCount == 0;

    /// <summary>Set once the start-up restore is done (or found nothing to do): backups may run from then on.</summary>
    public void MarkReady() => _ready.TrySetResult();

    public bool IsReady => _ready.Task.IsCompleted;

    public IReadOnlyList<string> ResolvePaths()
    {
        var o = agentOptions.Value;
        if (o.Paths.Count > 0)
        {
            return [.. o.Paths];
        }

        return [new Mono.Unix.UnixUserInfo(o.User).HomeDirectory];
    }

    /// <param name="deadline">When the snapshot must be durable (a partial one, newest changes first, if need be); the caller may move it earlier while the backup runs.</param>
    public async Task<BackupOutcome> RunAsync(BackupKind kind, string reason, BackupDeadline? deadline, CancellationToken cancellationToken)
    {
        if (!IsReady)
        {
            if (kind != BackupKind.Interruption)
            {
                LogBackupRefused(_logger, kind, "the start-up restore has not completed");
                return BackupOutcome.Skipped(kind, "the start-up restore has not completed");
            }

            // A notice during the restore: the restored work is what must be saved, so after the restore it is.
            LogWaitingForRestore(_logger, kind);
            await _ready.Task.WaitAsync(cancellationToken);
        }

        var urgent = kind is BackupKind.Interruption or BackupKind.Final;
        using var run = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (!urgent)
        {
            if (!await _gate.WaitAsync(TimeSpan.Zero, cancellationToken))
            {
                LogBackupSkipped(_logger, kind, _runningKind);
                return BackupOutcome.Skipped(kind, $"a {_runningKind} backup is running");
            }

            lock (_runningGate)
            {
                _running = run;
                _runningKind = kind;
                if (_preemptRequested)
                {
                    // An urgent backup asked in the instant between taking the queue and getting here.
                    _preemptRequested = false;
                    run.Cancel();
                }
            }
        }
        else
        {
            lock (_runningGate)
            {
                if (_running is not null && _runningKind is BackupKind.Periodic or BackupKind.Rebalance or BackupKind.Retention)
                {
                    LogPreempting(_logger, kind, _runningKind);
                    _running.Cancel();
                }
                else if (_running is null && _gate.CurrentCount == 0)
                {
                    _preemptRequested = true;
                }
            }

            await _gate.WaitAsync(cancellationToken);
            lock (_runningGate)
            {
                _preemptRequested = false;
                _running = run;
                _runningKind = kind;
            }
        }

        // The agent's own uploads and CPU must not count as someone using the box.
        using var busy = self.BeginWork();
        try
        {
            return kind == BackupKind.Retention
                ? await RetentionAsync(run.Token, cancellationToken)
                : await BackupAsync(kind, reason, deadline, run.Token, cancellationToken);
        }
        finally
        {
            lock (_runningGate)
            {
                _running = null;
            }

            _gate.Release();
            // The one place every backup and retention run ends: give its memory back here, unless the
            // agent is about to stop (urgent kinds) or another backup already took the queue.
            if (!urgent && !IsRunning)
            {
                AgentMemory.GiveBack(_logger, kind.ToString().ToLowerInvariant() + " backup");
            }
        }
    }

    private async Task<BackupOutcome> BackupAsync(BackupKind kind, string reason, BackupDeadline? deadline, CancellationToken runToken, CancellationToken callerToken)
    {
        var previous = board.Current.State;
        board.SetState(AgentState.BackingUp);
        LogBackupStarting(_logger, kind, reason, deadline?.Value);
        var started = time.GetTimestamp();
        try
        {
            var repository = await storage.OpenRepositoryAsync("repo", runToken);
            var engine = new BackupEngine(repository, fileSystem, loggers.CreateLogger<BackupEngine>());
            var result = await engine.RunAsync(
                new BackupRequest
                {
                    Paths = ResolvePaths(),
                    Excludes = agentOptions.Value.ResolveExcludes(engineOptions.Value.Excludes),
                    Tags = ["agent", kind.ToString().ToLowerInvariant()],
                    Hostname = storage.BoxName,
                    Deadline = deadline,
                },
                runToken);
            var durable = time.GetUtcNow();
            board.Update(s => s with
            {
                State = previous == AgentState.BackingUp ? AgentState.Running : previous,
                LastSnapshotId = result.SnapshotId,
                LastSnapshotTime = durable,
                LastSnapshotPartial = result.Manifest.Partial,
                LastBackupError = null,
                LastBackupSeconds = time.GetElapsedTime(started).TotalSeconds,
                LastBackupBytesUploaded = result.Manifest.Summary?.BytesUploaded,
            });
            LogBackupCommitted(_logger, kind, result.SnapshotId[..8], result.Manifest.Partial, result.Manifest.IncompleteFiles.Count, result.Manifest.Summary?.BytesUploaded ?? 0);
            return new BackupOutcome(kind, true, result.SnapshotId, result.Manifest.Partial, result.Manifest.IncompleteFiles.Count, durable, null);
        }
        catch (OperationCanceledException) when (!callerToken.IsCancellationRequested)
        {
            LogBackupPreempted(_logger, kind);
            board.Update(s => s with { State = s.State == AgentState.BackingUp ? AgentState.Running : s.State });
            return BackupOutcome.Skipped(kind, "stopped to make way for an urgent backup");
        }
        catch (Exception e) when (e is StorageException or RepositoryException or IOException or UnauthorizedAccessException or InvalidDataException or ArgumentException)
        {
            LogBackupFailed(_logger, kind, e.Message);
            board.Update(s => s with { State = s.State == AgentState.BackingUp ? AgentState.Running : s.State, LastBackupError = e.Message });
            return new BackupOutcome(kind, false, null, false, 0, null, e.Message);
        }
    }

    private async Task<BackupOutcome> RetentionAsync(CancellationToken runToken, CancellationToken callerToken)
    {
        var o = agentOptions.Value;
        try
        {
            var repository = await storage.OpenRepositoryAsync("repo", runToken);
            var maintenance = new Maintenance(repository, loggers.CreateLogger<Maintenance>());
            var forget = await maintenance.ForgetAsync(new RetentionPolicy(o.KeepLast, o.KeepDaily, o.KeepWeekly, o.KeepWithin), dryRun: false, runToken);
            var removed = forget.Decisions.Count(d => !d.Keep);
            if (removed > 0)
            {
                await maintenance.PruneAsync(dryRun: false, runToken);
            }

            LogRetentionDone(_logger, removed, forget.Decisions.Count - removed);
            return new BackupOutcome(BackupKind.Retention, true, null, false, 0, null, null);
        }
        catch (OperationCanceledException) when (!callerToken.IsCancellationRequested)
        {
            LogBackupPreempted(_logger, BackupKind.Retention);
            return BackupOutcome.Skipped(BackupKind.Retention, "stopped to make way for an urgent backup");
        }
        catch (Exception e) when (e is StorageException or RepositoryException or IOException or InvalidDataException)
        {
            LogBackupFailed(_logger, BackupKind.Retention, e.Message);
            return new BackupOutcome(BackupKind.Retention, false, null, false, 0, null, e.Message);
        }
    }

    public void Dispose() => _gate.Dispose();

    [LoggerMessage(EventId = 3007, Level = LogLevel.Information, Message = "Retention: forgot {Removed} snapshots, kept {Kept}")]
    private static partial void LogRetentionDone(ILogger logger, int removed, int kept);

    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "Backup ({Kind}) starting: {Reason}; deadline {Deadline}")]
    private static partial void LogBackupStarting(ILogger logger, BackupKind kind, string reason, DateTimeOffset? deadline);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Backup ({Kind}) committed snapshot {SnapshotId} (partial: {Partial}, {Incomplete} entries left at an older version), {BytesUploaded} bytes uploaded")]
    private static partial void LogBackupCommitted(ILogger logger, BackupKind kind, string snapshotId, bool partial, int incomplete, long bytesUploaded);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "Backup ({Kind}) skipped: a {Running} backup is still running")]
    private static partial void LogBackupSkipped(ILogger logger, BackupKind kind, BackupKind running);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Backup ({Kind}) refused: {Reason}")]
    private static partial void LogBackupRefused(ILogger logger, BackupKind kind, string reason);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Information, Message = "Cancelling the running {Running} backup for an urgent {Kind} backup; what it uploaded is reused")]
    private static partial void LogPreempting(ILogger logger, BackupKind kind, BackupKind running);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Information, Message = "Backup ({Kind}) stopped to make way for an urgent backup")]
    private static partial void LogBackupPreempted(ILogger logger, BackupKind kind);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Information, Message = "Backup ({Kind}) waits for the start-up restore to finish, then runs")]
    private static partial void LogWaitingForRestore(ILogger logger, BackupKind kind);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Error, Message = "Backup ({Kind}) failed: {Reason}")]
    private static partial void LogBackupFailed(ILogger logger, BackupKind kind, string reason);
}
