using SpotDevBox.Agent;
using SpotDevBox.Commands;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Controller;

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
