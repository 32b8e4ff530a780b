using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using SpotDevBox.Backup.Storage;

namespace SpotDevBox.Backup.Tests.Repository;

/// <summary>
/// A store that lists whatever keys it holds, as S3 does: any byte string is a key there, including
/// "index/../../x" or one with a NUL. Records every key it was asked to delete.
/// </summary>
internal sealed class InMemoryObjectStore : IObjectStore
{
    private readonly ConcurrentDictionary<string, byte[]> _objects = new(StringComparer.Ordinal);

    public string Location => "memory://test";

    public ConcurrentQueue<string> Deleted { get; } = new();

    public IReadOnlyCollection<string> Keys => [.. _objects.Keys];

    /// <summary>Puts an object under a key no client of the repository would write.</summary>
    public void Plant(string key, byte[] content) => _objects[key] = content;

    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        _objects[key] = content.ToArray();
        return Task.CompletedTask;
    }

    /// <summary>Every GET and HEAD asked of this store, in order ("GET key", "HEAD key"): what a round trip to S3 would cost.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    public Task<byte[]> GetAsync(string key, CancellationToken cancellationToken)
    {
        Requests.Enqueue("GET " + key);
        return _objects.TryGetValue(key, out var bytes)
            ? Task.FromResult(bytes.ToArray())
            : throw new StorageException(StorageFailure.NotFound, $"object '{key}' does not exist");
    }

    public async Task<byte[]> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken)
    {
        var buffer = new byte[length];
        await ReadRangeAsync(key, offset, buffer, cancellationToken);
        return buffer;
    }

    public async Task ReadRangeAsync(string key, long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        var bytes = await GetAsync(key, cancellationToken);
        if (offset < 0 || offset + destination.Length > bytes.Length)
        {
            throw new StorageException(StorageFailure.Rejected, $"range {offset}+{destination.Length} is outside '{key}'");
        }

        bytes.AsMemory((int)offset, destination.Length).CopyTo(destination);
    }

    public Task<long?> GetSizeAsync(string key, CancellationToken cancellationToken)
    {
        Requests.Enqueue("HEAD " + key);
        return Task.FromResult(_objects.TryGetValue(key, out var bytes) ? bytes.Length : (long?)null);
    }

    public async IAsyncEnumerable<StoredObject> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Yield();
        foreach (var (key, bytes) in _objects.ToArray())
        {
            if (key.StartsWith(prefix, StringComparison.Ordinal))
            {
                yield return new StoredObject(key, bytes.Length, DateTimeOffset.UnixEpoch);
            }
        }
    }

    public Task DeleteAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        foreach (var key in keys)
        {
            Deleted.Enqueue(key);
            _objects.TryRemove(key, out _);
        }

        return Task.CompletedTask;
    }

    public Task<VersionedObject?> GetVersionedAsync(string key, CancellationToken cancellationToken) =>
        Task.FromResult(_objects.TryGetValue(key, out var bytes) ? new VersionedObject(bytes.ToArray(), Convert.ToHexStringLower(SHA256.HashData(bytes))) : null);

    public Task<bool> PutIfAsync(string key, ReadOnlyMemory<byte> content, string? expectedETag, CancellationToken cancellationToken)
    {
        lock (_objects)
        {
            var current = _objects.TryGetValue(key, out var bytes) ? Convert.ToHexStringLower(SHA256.HashData(bytes)) : null;
            if (current != expectedETag)
            {
                return Task.FromResult(false);
            }

            _objects[key] = content.ToArray();
            return Task.FromResult(true);
        }
    }
}
