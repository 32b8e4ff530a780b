using System.Security.Cryptography;
using System.Text.Json;
using SpotDevBox.Backup.Storage;
using SpotDevBox.Hosting;

namespace SpotDevBox.Commands;

/// <summary>
/// Moves every object under one prefix to the same relative key under another, so that a box's storage can take the
/// layout s3://BUCKET/ROOT/&lt;owner&gt;/&lt;box&gt;. Safe to kill at any point and run again with the same arguments:
/// it copies (skipping objects already at TO with the same content, refusing ones with other content), reads every
/// copy back and compares size and SHA-256, writes <see cref="MarkerKey"/> at FROM, deletes FROM's objects, and
/// deletes the marker last. A rerun does the same: copies are found present, and what is left at FROM is deleted.
/// </summary>
/// <param name="from">The store rooted at FROM.</param>
/// <param name="to">The store rooted at TO.</param>
/// <param name="toUnderFrom">TO's prefix relative to FROM when TO lies inside FROM (its objects are never copied again); else null.</param>
internal sealed class PrefixMigration(IObjectStore from, IObjectStore to, string? toUnderFrom, TimeProvider time)
{
    /// <summary>Written at FROM before the first delete; names TO. Deleted last.</summary>
    public const string MarkerKey = "MOVED-TO.json";

    private long _objectsDone;
    private long _bytesDone;
    private long _objectsTotal;
    private long _bytesTotal;
    private string _phase = "listing";

    /// <summary>What the progress display shows: objects and bytes of the current phase.</summary>
    public ProgressSample Progress => new(Interlocked.Read(ref _bytesDone), Interlocked.Read(ref _bytesTotal), TotalKnown: true,
        Interlocked.Read(ref _objectsDone), Interlocked.Read(ref _objectsTotal), "object", Volatile.Read(ref _phase));

    /// <summary>What FROM holds that moves (not the marker, not TO's own objects when TO is inside FROM), by key.</summary>
    public async Task<List<StoredObject>> ListAsync(CancellationToken cancellationToken)
    {
        var objects = new List<StoredObject>();
        await foreach (var o in from.ListAsync("", cancellationToken))
        {
            if (o.Key != MarkerKey && (toUnderFrom is null || !o.Key.StartsWith(toUnderFrom + "/", StringComparison.Ordinal)))
            {
                objects.Add(o);
            }
        }

        objects.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return objects;
    }

    /// <summary>The TO named by a marker left at FROM by an earlier run, or null when there is none.</summary>
    public async Task<MovedToMarker?> ReadMarkerAsync(CancellationToken cancellationToken)
    {
        try
        {
            var bytes = await from.GetAsync(MarkerKey, cancellationToken);
            return JsonSerializer.Deserialize(bytes, CommandJson.Default.MovedToMarker)
                ?? throw new InvalidDataException($"{from.Location}/{MarkerKey} is not a migration marker (null); delete it if no migration of this prefix ran");
        }
        catch (StorageException e) when (e.Failure == StorageFailure.NotFound)
        {
            return null;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{from.Location}/{MarkerKey} is not a migration marker ({e.Message}); delete it if no migration of this prefix ran", e);
        }
    }

    /// <summary>For --dry-run: what each object would need (copy, already there, or a conflict), reading nothing but sizes and, where both exist, contents.</summary>
    public async Task<List<(StoredObject Object, MigrationStep Step)>> PlanAsync(IReadOnlyList<StoredObject> objects, CancellationToken cancellationToken)
    {
        var plan = new List<(StoredObject, MigrationStep)>();
        foreach (var o in objects)
        {
            var step = MigrationStep.Copy;
            if (await to.GetSizeAsync(o.Key, cancellationToken) is { } size)
            {
                var there = size == o.Size ? Hash(await to.GetAsync(o.Key, cancellationToken)) : [];
                var here = size == o.Size ? Hash(await from.GetAsync(o.Key, cancellationToken)) : [0];
                step = there.AsSpan().SequenceEqual(here) ? MigrationStep.AlreadyThere : MigrationStep.Conflict;
            }

            plan.Add((o, step));
        }

        return plan;
    }

    /// <summary>Runs (or resumes) the move.</summary>
    /// <exception cref="MigrationConflictException">An object at TO has other content than FROM's; nothing at FROM was deleted.</exception>
    public async Task<MigrationResult> RunAsync(IReadOnlyList<StoredObject> objects, MovedToMarker? marker, string toLocation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(objects);
        SetPhase("checking", objects);

        // Before any write: an object at TO whose size differs from FROM's is a conflict for sure.
        var atTo = new Dictionary<string, long>(StringComparer.Ordinal);
        await foreach (var o in to.ListAsync("", cancellationToken))
        {
            atTo[o.Key] = o.Size;
        }

        if (objects.FirstOrDefault(o => atTo.TryGetValue(o.Key, out var size) && size != o.Size) is { } differs)
        {
            throw new MigrationConflictException(differs.Key, $"{atTo[differs.Key]} bytes at TO, {differs.Size} at FROM");
        }

        SetPhase("copying", objects);
        long copied = 0, present = 0;
        foreach (var o in objects)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var content = await from.GetAsync(o.Key, cancellationToken);
            var hash = Hash(content);
            var wrote = !atTo.ContainsKey(o.Key) && await to.PutIfAsync(o.Key, content, expectedETag: null, cancellationToken);

            // Read back what TO now holds, whoever wrote it: only an identical copy lets FROM's object go.
            var back = await to.GetAsync(o.Key, cancellationToken);
            if (back.Length != content.Length || !Hash(back).SequenceEqual(hash))
            {
                throw new MigrationConflictException(o.Key, wrote ? "the copy read back differs" : "other content at TO");
            }

            if (wrote)
            {
                copied++;
            }
            else
            {
                present++;
            }

            Advance(o.Size);
        }

        if (marker is null && objects.Count > 0)
        {
            var document = new MovedToMarker(toLocation, time.GetUtcNow(), objects.Count, objects.Sum(o => o.Size));
            await from.PutAsync(MarkerKey, JsonSerializer.SerializeToUtf8Bytes(document, CommandJson.Default.MovedToMarker), cancellationToken);
        }

        SetPhase("deleting", objects);
        foreach (var batch in objects.Chunk(500))
        {
            await from.DeleteAsync([.. batch.Select(o => o.Key)], cancellationToken);
            foreach (var o in batch)
            {
                Advance(o.Size);
            }
        }

        // Last: until it goes, a rerun knows the deletes had begun and every object left at FROM was already verified at TO.
        await from.DeleteAsync([MarkerKey], cancellationToken);
        return new MigrationResult(copied, present, objects.Count, objects.Sum(o => o.Size));
    }

    private void SetPhase(string phase, IReadOnlyList<StoredObject> objects)
    {
        Interlocked.Exchange(ref _objectsDone, 0);
        Interlocked.Exchange(ref _bytesDone, 0);
        Interlocked.Exchange(ref _objectsTotal, objects.Count);
        Interlocked.Exchange(ref _bytesTotal, objects.Sum(o => o.Size));
        Volatile.Write(ref _phase, phase);
    }

    private void Advance(long bytes)
    {
        Interlocked.Increment(ref _objectsDone);
        Interlocked.Add(ref _bytesDone, bytes);
    }

    private static byte[] Hash(byte[] content) => SHA256.HashData(content);
}

internal enum MigrationStep
{
    Copy,
    AlreadyThere,
    Conflict,
}

/// <summary>What a finished run did: objects copied now, found already copied, and deleted from FROM.</summary>
internal sealed record MigrationResult(long Copied, long AlreadyThere, long Deleted, long Bytes);

/// <summary>FROM/MOVED-TO.json: where FROM's objects went, when, and how many.</summary>
internal sealed record MovedToMarker(string To, DateTimeOffset At, long Objects, long Bytes);

/// <summary>An object at TO has other content than FROM's: the migration stops before deleting anything.</summary>
internal sealed class MigrationConflictException(string key, string detail)
    : Exception($"{key} is already at TO with other content ({detail}): refusing to overwrite it, and this run deleted nothing at FROM; move or delete it at TO, or choose another TO, and run again")
{
    public string Key { get; } = key;
}
