using SpotDevBox.Agent;
using SpotDevBox.Core.Launch;
using SpotDevBox.Repositories;

namespace SpotDevBox.Controller;

/// <summary>
/// The launch claims (<c>launch.json</c>) in the boxes' storage prefixes, through the same store the agent and the
/// controller's other documents use (<see cref="BoxStorage"/>): S3 conditional writes, or a local directory's lock file.
/// </summary>
/// <remarks>A storage failure is thrown as <see cref="IOException"/> naming the prefix: the domain sees no storage type.</remarks>
internal sealed class BoxLaunchClaimStore(RepositoryOpener opener, TimeProvider time) : ILaunchClaimStore
{
    public Task<VersionedLaunchClaim?> ReadAsync(string storage, CancellationToken cancellationToken) =>
        WithAsync(storage, box => box.ReadLaunchClaimAsync(cancellationToken));

    public Task<bool> TryWriteAsync(string storage, LaunchClaim claim, string? expectedETag, CancellationToken cancellationToken) =>
        WithAsync(storage, box => box.TryWriteLaunchClaimAsync(claim, expectedETag, cancellationToken));

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
}
