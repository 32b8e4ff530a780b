using SpotDevBox.Agent;
using SpotDevBox.Backup.Storage;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Controller;
using SpotDevBox.Repositories;

namespace SpotDevBox.Controller;

/// <summary>
/// The boxes' storage prefixes as the controller uses them, through the same store the agent writes
/// with (<see cref="BoxStorage"/>): status.json, control.json, and the agent's records, found by the
/// instance id that ends their names.
/// </summary>
/// <remarks>A storage failure (unreachable, denied) is thrown as <see cref="IOException"/> naming the prefix: the domain sees no storage type.</remarks>
internal sealed class ControllerBoxDocuments(RepositoryOpener opener, TimeProvider time) : IBoxDocuments
{
    public Task<AgentStatus?> ReadStatusAsync(string storage, CancellationToken cancellationToken) =>
        WithAsync(storage, box => box.ReadStatusAsync(cancellationToken));

    public Task<ControlDocument?> ReadControlAsync(string storage, CancellationToken cancellationToken) =>
        WithAsync(storage, box => box.ReadControlAsync(cancellationToken));

    public Task WriteControlAsync(string storage, ControlDocument control, CancellationToken cancellationToken) =>
        WithAsync(storage, async box =>
        {
            await box.WriteControlAsync(control, cancellationToken);
            return true;
        });

    public Task<InterruptionRecord?> FindInterruptionAsync(string storage, string instanceId, CancellationToken cancellationToken) =>
        WithAsync(storage, box => FindAsync(box, storage, "interruptions/", instanceId, BoxJson.Default.InterruptionRecord, cancellationToken));

    public Task<SessionRecord?> FindSessionRecordAsync(string storage, string instanceId, CancellationToken cancellationToken) =>
        WithAsync(storage, box => FindAsync(box, storage, "sessions/", instanceId, BoxJson.Default.SessionRecord, cancellationToken));

    public async Task<BudgetOverride?> ReadBudgetOverrideAsync(string storage, string owner, string box, CancellationToken cancellationToken)
    {
        var (root, key) = OperatorDocument(storage, owner, box);
        if (RepositoryLocation.Parse(root) is { Kind: RepositoryKind.Local } local && !Directory.Exists(local.LocalPath))
        {
            return null;
        }

        var store = opener.CreateStore(new RepositoryAddress(root));
        try
        {
            return BoxJson.Parse(await store.GetAsync(key, cancellationToken), BoxJson.Default.BudgetOverride, BudgetOverrideLocation(storage, owner, box));
        }
        catch (StorageException e) when (e.Failure is StorageFailure.NotFound or StorageFailure.ContainerMissing)
        {
            return null;
        }
        catch (StorageException e)
        {
            throw Mapped(e, BudgetOverrideLocation(storage, owner, box));
        }
        finally
        {
            (store as IDisposable)?.Dispose();
        }
    }

    public async Task WriteBudgetOverrideAsync(string storage, string owner, string box, BudgetOverride grant, CancellationToken cancellationToken)
    {
        var (root, key) = OperatorDocument(storage, owner, box);
        var store = opener.CreateStore(new RepositoryAddress(root));
        try
        {
            await store.PutAsync(key, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(grant, BoxJson.Default.BudgetOverride), cancellationToken);
        }
        catch (StorageException e)
        {
            throw Mapped(e, BudgetOverrideLocation(storage, owner, box));
        }
        finally
        {
            (store as IDisposable)?.Dispose();
        }
    }

    public string BudgetOverrideLocation(string storage, string owner, string box)
    {
        var (root, key) = OperatorDocument(storage, owner, box);
        return RepositoryLocation.Parse(root).Kind == RepositoryKind.Local ? Path.Combine(root, key) : root.TrimEnd('/') + "/" + key;
    }

    /// <summary>
    /// ROOT (the box's storage without its last two segments, <c>&lt;owner&gt;/&lt;box&gt;</c> in the S3 layout) and the
    /// document's key under it. A storage with fewer segments has the bucket (or the file system's root) as ROOT.
    /// </summary>
    internal static (string Root, string Key) OperatorDocument(string storage, string owner, string box)
    {
        var location = RepositoryLocation.Parse(storage);
        var key = BudgetOverride.KeyFor(owner, box);
        if (location.Kind == RepositoryKind.S3)
        {
            var segments = location.Prefix.Split('/', StringSplitOptions.RemoveEmptyEntries);
            var root = string.Join('/', segments.Take(Math.Max(0, segments.Length - 2)));
            return (root.Length == 0 ? $"s3://{location.Bucket}" : $"s3://{location.Bucket}/{root}", key);
        }

        var path = Path.TrimEndingDirectorySeparator(location.LocalPath);
        var parent = Path.GetDirectoryName(Path.GetDirectoryName(path) ?? path) ?? Path.GetPathRoot(path) ?? path;
        return (parent, key);
    }

    /// <summary>A refusal is the caller's missing right (<see cref="UnauthorizedAccessException"/>); anything else, storage failing.</summary>
    private static Exception Mapped(StorageException e, string what) => e.Failure == StorageFailure.AccessDenied
        ? new UnauthorizedAccessException($"{what}: {e.Message}", e)
        : new IOException($"{what}: {e.Message}", e);

    private async Task<T> WithAsync<T>(string storage, Func<BoxStorage, Task<T>> action)
    {
        using var box = BoxStorage.ForPrefix(storage, opener, time);
        try
        {
            return await action(box);
        }
        catch (Backup.Storage.StorageException e)
        {
            throw new IOException($"{storage}: {e.Message}", e);
        }
    }

    private static async Task<T?> FindAsync<T>(BoxStorage box, string storage, string prefix, string instanceId, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken cancellationToken)
        where T : class
    {
        // Records are named <UTC time>-<instance id>.json: the newest of the instance is the last in name order.
        var key = (await box.ListAsync(prefix, cancellationToken))
            .Where(k => k.EndsWith($"-{instanceId}.json", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .LastOrDefault();
        return key is null ? null : BoxJson.Parse(await box.GetAsync(key, cancellationToken), type, $"{storage}/{key}");
    }
}
