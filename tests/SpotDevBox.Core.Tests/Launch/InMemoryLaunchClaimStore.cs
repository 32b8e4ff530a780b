using SpotDevBox.Core.Launch;

namespace SpotDevBox.Core.Tests.Launch;

/// <summary>
/// launch.json per storage prefix, with an S3-like version tag that changes on every write, and a hook that runs
/// between a launcher's read and its write: where another launcher's write lands in a lost race.
/// </summary>
internal sealed class InMemoryLaunchClaimStore : ILaunchClaimStore
{
    private readonly Dictionary<string, VersionedLaunchClaim> _claims = new(StringComparer.Ordinal);
    private int _version;

    /// <summary>Runs once, just before the next conditional write is checked: another launcher writing first.</summary>
    public Action? BeforeNextWrite { get; set; }

    public List<(LaunchClaim Claim, string? ExpectedETag, bool Written)> Writes { get; } = [];

    public LaunchClaim? this[string storage] => _claims.TryGetValue(storage, out var c) ? c.Claim : null;

    public void Put(string storage, LaunchClaim claim) => _claims[storage] = new VersionedLaunchClaim(claim, $"\"v{++_version}\"");

    public Task<VersionedLaunchClaim?> ReadAsync(string storage, CancellationToken cancellationToken) =>
        Task.FromResult(_claims.TryGetValue(storage, out var c) ? c : null);

    public Task<bool> TryWriteAsync(string storage, LaunchClaim claim, string? expectedETag, CancellationToken cancellationToken)
    {
        var before = BeforeNextWrite;
        BeforeNextWrite = null;
        before?.Invoke();
        var current = _claims.TryGetValue(storage, out var c) ? c.ETag : null;
        var written = current == expectedETag;
        if (written)
        {
            Put(storage, claim);
        }

        Writes.Add((claim, expectedETag, written));
        return Task.FromResult(written);
    }
}
