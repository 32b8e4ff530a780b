namespace SpotDevBox.Backup.Storage;

public enum RecoveryAction
{
    /// <summary>The key is as it was at the time: nothing to do.</summary>
    Unchanged,
    /// <summary>The version current at the time is copied over today's (or over its delete marker).</summary>
    Restore,
    /// <summary>The key did not exist at the time: a delete marker hides today's version.</summary>
    Remove,
}

/// <param name="Target">The version current at the time; null when the key did not exist then (no version yet, or a delete marker).</param>
public sealed record RecoveryStep(string Key, RecoveryAction Action, ObjectVersion? Target);

public sealed record RecoveryResult(IReadOnlyList<RecoveryStep> Steps, bool DryRun)
{
    public int Restored => Steps.Count(s => s.Action == RecoveryAction.Restore);
    public int Removed => Steps.Count(s => s.Action == RecoveryAction.Remove);
    public int Unchanged => Steps.Count(s => s.Action == RecoveryAction.Unchanged);
}

/// <summary>
/// Brings every key under a prefix back to its state at a time, from a versioned bucket's history: for each key the
/// version current then is the newest with LastModified at or before the time; none, or a delete marker, means the key must not exist. Every change adds a version or a delete
/// marker, so nothing is lost, and a second run finds every key as it should be and changes nothing: a run that was
/// killed is finished by running it again.
/// </summary>
public static class HistoryRecovery
{
    public static IReadOnlyList<RecoveryStep> Plan(IEnumerable<ObjectVersion> versions, DateTimeOffset asOf)
    {
        ArgumentNullException.ThrowIfNull(versions);
        var steps = new List<RecoveryStep>();
        foreach (var key in versions.GroupBy(v => v.Key, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            // Newest first by LastModified, which S3 gives in whole seconds. Within one second the listing's order is not
            // to be trusted (S3 interleaves versions and delete markers newest first, some compatible servers list the
            // markers after every version), so today's version (IsLatest) comes first, then a delete marker: an object
            // created and deleted in the same second (a backup's lock) was deleted last. The sort is stable, so the
            // listing's order decides between two versions of one second.
            var list = key.OrderByDescending(v => v.LastModified).ThenByDescending(v => v.IsLatest).ThenByDescending(v => v.IsDeleteMarker).ToList();
            var current = list.FirstOrDefault(v => v.IsLatest) ?? list[0];
            var then = list.FirstOrDefault(v => v.LastModified <= asOf);
            var target = then is null || then.IsDeleteMarker ? null : then;
            var action = target is null
                ? (current.IsDeleteMarker ? RecoveryAction.Unchanged : RecoveryAction.Remove)
                : (!current.IsDeleteMarker && (current.VersionId == target.VersionId || (current.ETag == target.ETag && current.Size == target.Size))
                    ? RecoveryAction.Unchanged
                    : RecoveryAction.Restore);
            steps.Add(new RecoveryStep(key.Key, action, target));
        }

        return steps;
    }

    /// <summary>Plans and, unless <paramref name="dryRun"/>, carries the plan out: copies first, then the delete markers.</summary>
    public static async Task<RecoveryResult> RecoverAsync(IObjectStore store, IObjectHistory history, DateTimeOffset asOf, bool dryRun, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(history);
        var versions = new List<ObjectVersion>();
        await foreach (var v in history.ListVersionsAsync("", cancellationToken))
        {
            versions.Add(v);
        }

        var steps = Plan(versions, asOf);
        if (!dryRun)
        {
            // Restores before removals: a repository that had its files back and still some extra ones is one that
            // check accepts (extra snapshots and packs are garbage), while the reverse order could leave it empty for a while.
            foreach (var step in steps.Where(s => s.Action == RecoveryAction.Restore))
            {
                await history.RestoreVersionAsync(step.Key, step.Target!.VersionId, cancellationToken);
            }

            await store.DeleteAsync([.. steps.Where(s => s.Action == RecoveryAction.Remove).Select(s => s.Key)], cancellationToken);
        }

        return new RecoveryResult(steps, dryRun);
    }
}
