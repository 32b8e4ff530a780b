using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using SpotDevBox.Backup.Format;
using SpotDevBox.Backup.Storage;

namespace SpotDevBox.Backup.Repository;

/// <summary>
/// Lock objects under locks/. Backups hold a shared lock, prune an exclusive one: prune never runs
/// while a backup might be about to reference data that prune would delete. Each side writes its
/// lock first and then lists the others (S3 lists are strongly consistent), so at least one of two
/// racing clients sees the other and backs off. A lock is refreshed every few minutes while held; one
/// not refreshed within <see cref="BackupEngineOptions.StaleLockAfter"/>, or held by a dead process on
/// this host, is stale and ignored.
/// </summary>
public sealed class RepositoryLock : IAsyncDisposable
{
    private readonly BackupRepository _repository;
    private readonly LockRecord _record;
    private readonly ITimer _refresh;
    private bool _released;

    private RepositoryLock(BackupRepository repository, string key, LockRecord record)
    {
        _repository = repository;
        Key = key;
        _record = record;
        var period = TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(1).Ticks, repository.Options.StaleLockAfter.Ticks / 6));
        _refresh = repository.Time.CreateTimer(_ => _ = RefreshAsync(), null, period, period);
    }

    public string Key { get; }

    public const string Prefix = "locks/";

    /// <summary>A lock's name as <see cref="AcquireAsync"/> writes it: the prefix and 32 lowercase hex digits.</summary>
    internal static bool IsLockKey(string key) =>
        key.Length == Prefix.Length + 32 && key.StartsWith(Prefix, StringComparison.Ordinal) && key[Prefix.Length..].All(char.IsAsciiHexDigitLower);

    public static async Task<RepositoryLock> AcquireAsync(BackupRepository repository, bool exclusive, string operation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(repository);
        var record = new LockRecord
        {
            Hostname = Environment.MachineName,
            Pid = Environment.ProcessId,
            Exclusive = exclusive,
            Operation = operation,
            Time = repository.Time.GetUtcNow(),
        };
        var key = Prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        await repository.Store.PutAsync(key, JsonSerializer.SerializeToUtf8Bytes(record, FormatJson.Default.LockRecord), cancellationToken);

        var conflicts = new List<LockRecord>();
        foreach (var (otherKey, other) in await ListAsync(repository, cancellationToken))
        {
            if (otherKey == key || IsStale(repository, other))
            {
                continue;
            }

            if (exclusive || other.Exclusive)
            {
                conflicts.Add(other);
            }
        }

        if (conflicts.Count > 0)
        {
            await repository.Store.DeleteAsync([key], CancellationToken.None);
            var c = conflicts[0];
            throw new RepositoryException(
                $"the repository is locked by '{c.Operation}' on {c.Hostname} (pid {c.Pid}, since {c.Time:u}); " +
                $"try again when it has finished, or after {Core.Text.Counted.Of((long)Math.Round(repository.Options.StaleLockAfter.TotalMinutes), "minute")} without refresh the lock is considered stale " +
                "('spotdevbox unlock' removes stale locks)");
        }

        return new RepositoryLock(repository, key, record);
    }

    public static async Task<IReadOnlyList<(string Key, LockRecord Record)>> ListAsync(BackupRepository repository, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(repository);
        var result = new List<(string, LockRecord)>();
        await foreach (var obj in repository.Store.ListAsync(Prefix, cancellationToken))
        {
            if (!IsLockKey(obj.Key))
            {
                // Not a lock any client writes: neither honoured nor removed (a delete by that name could reach another object).
                repository.ReportForeignName(obj.Key);
                continue;
            }

            try
            {
                var bytes = await repository.Store.GetAsync(obj.Key, cancellationToken);
                var record = JsonSerializer.Deserialize(bytes, FormatJson.Default.LockRecord);
                if (record is not null)
                {
                    result.Add((obj.Key, record));
                }
            }
            catch (StorageException e) when (e.Failure == StorageFailure.NotFound)
            {
                // released between list and get
            }
            catch (JsonException)
            {
                // an unreadable lock cannot name its holder; treat it as held until it goes stale by age
                result.Add((obj.Key, new LockRecord { Hostname = "?", Pid = 0, Exclusive = true, Operation = "unknown", Time = obj.LastModified }));
            }
        }

        return result;
    }

    public static bool IsStale(BackupRepository repository, LockRecord record)
    {
        ArgumentNullException.ThrowIfNull(repository);
        ArgumentNullException.ThrowIfNull(record);
        if (repository.Time.GetUtcNow() - record.Time > repository.Options.StaleLockAfter)
        {
            return true;
        }

        if (record.Hostname == Environment.MachineName && record.Pid > 0 && record.Pid != Environment.ProcessId)
        {
            try
            {
                using var process = Process.GetProcessById(record.Pid);
                return process.HasExited;
            }
            catch (ArgumentException)
            {
                return true; // no such process on this host
            }
        }

        return false;
    }

    /// <summary>Removes locks that are stale; returns how many.</summary>
    public static async Task<int> RemoveStaleAsync(BackupRepository repository, CancellationToken cancellationToken)
    {
        var stale = (await ListAsync(repository, cancellationToken)).Where(l => IsStale(repository, l.Record)).Select(l => l.Key).ToList();
        await repository.Store.DeleteAsync(stale, cancellationToken);
        return stale.Count;
    }

    private async Task RefreshAsync()
    {
        if (_released)
        {
            return;
        }

        try
        {
            var refreshed = _record with { Time = _repository.Time.GetUtcNow() };
            await _repository.Store.PutAsync(Key, JsonSerializer.SerializeToUtf8Bytes(refreshed, FormatJson.Default.LockRecord), CancellationToken.None);
        }
        catch (StorageException)
        {
            // the next refresh tries again; a lock that misses refreshes only becomes stale, never wrong
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_released)
        {
            return;
        }

        _released = true;
        await _refresh.DisposeAsync();
        try
        {
            await _repository.Store.DeleteAsync([Key], CancellationToken.None);
        }
        catch (StorageException)
        {
            // a lock left behind goes stale by itself
        }
    }
}
