using SpotDevBox.Backup.Crypto;
using SpotDevBox.Backup.Storage;

namespace SpotDevBox.Backup.Keys;

/// <summary>
/// How a client gets an encrypted repository's master key: it makes a new one (and writes its first key file)
/// when a repository is created, and opens the existing one from the repository's key files otherwise.
/// Asked only for an encrypted repository: a version 1 or 2 repository opens without it.
/// </summary>
public interface IRepositoryKeySource
{
    /// <summary>What the key is opened with, for messages ("a passphrase", "KMS key arn:…"); never a secret.</summary>
    string Description { get; }

    /// <summary>
    /// Gathers what creating a key needs from the person (a passphrase) before anything is written, so that a
    /// missing or mistyped one leaves no trace: a new repository's place is prepared only after this succeeds.
    /// </summary>
    Task PrepareAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Makes the master key of a new repository and writes its first key file under keys/.</summary>
    Task<MasterKey> CreateAsync(IObjectStore store, string repositoryId, CancellationToken cancellationToken);

    /// <summary>Opens the master key from the key files under keys/; throws <see cref="KeyRingException"/> naming why not.</summary>
    Task<MasterKey> OpenAsync(IObjectStore store, string repositoryId, CancellationToken cancellationToken);
}

/// <summary>A passphrase (Argon2id) key source; the passphrase is asked for only when a key is needed.</summary>
public sealed class PassphraseKeySource(
    Func<CancellationToken, Task<string>> passphrase, TimeProvider time, Argon2idParameters? creation = null, string label = "passphrase") : IRepositoryKeySource
{
    private string? asked;

    public string Description => "a passphrase";

    public async Task PrepareAsync(CancellationToken cancellationToken) => asked ??= await passphrase(cancellationToken);

    public async Task<MasterKey> CreateAsync(IObjectStore store, string repositoryId, CancellationToken cancellationToken)
    {
        var secret = asked ??= await passphrase(cancellationToken);
        var key = MasterKey.Generate();
        var bytes = new byte[MasterKey.Size];
        try
        {
            key.CopyTo(bytes);
            await new KeyRing(store, time).AddPassphraseAsync(bytes, secret, label, creation, cancellationToken);
            return key;
        }
        catch
        {
            key.Dispose();
            throw;
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(bytes);
        }
    }

    public async Task<MasterKey> OpenAsync(IObjectStore store, string repositoryId, CancellationToken cancellationToken)
    {
        var opened = await new KeyRing(store, time).OpenWithPassphraseAsync(await passphrase(cancellationToken), cancellationToken);
        return KeyBytes.Take(opened.MasterKey);
    }

}

/// <summary>
/// An AWS KMS key source for a box's repository: the master key is wrapped under <paramref name="keyArn"/> with the
/// box's encryption context (<see cref="KeyRing.BoxContext"/>), so only a principal the key policy lets use that
/// context can open it.
/// </summary>
public sealed class KmsKeySource(IKeyManagementService kms, string keyArn, string owner, string box, TimeProvider time, string label = "kms") : IRepositoryKeySource
{
    public string Description => $"KMS key {keyArn} for box {owner}/{box}";

    /// <summary>The master key is made by KMS (GenerateDataKey under the box's context) and written wrapped.</summary>
    public async Task<MasterKey> CreateAsync(IObjectStore store, string repositoryId, CancellationToken cancellationToken)
    {
        var created = await new KeyRing(store, time, kms).CreateKmsAsync(keyArn, KeyRing.BoxContext(repositoryId, owner, box), label, cancellationToken);
        return KeyBytes.Take(created.MasterKey);
    }

    public async Task<MasterKey> OpenAsync(IObjectStore store, string repositoryId, CancellationToken cancellationToken) =>
        KeyBytes.Take((await new KeyRing(store, time, kms).OpenWithKmsAsync(KeyRing.BoxContext(repositoryId, owner, box), cancellationToken)).MasterKey);
}

/// <summary>
/// A key source for a long-running process (the agent) that opens the same repositories again and again: each
/// repository's master key is opened (or made) once through <paramref name="inner"/> and kept in this process's
/// memory, pinned, until <see cref="Dispose"/> zeroes it. A backup every few minutes then costs no KMS call and no
/// passphrase derivation. The process holds the key while it works anyway.
/// </summary>
public sealed class CachedKeySource(IRepositoryKeySource inner) : IRepositoryKeySource, IDisposable
{
    private readonly Dictionary<string, byte[]> keys = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim gate = new(1, 1);

    public string Description => inner.Description;

    public async Task<MasterKey> CreateAsync(IObjectStore store, string repositoryId, CancellationToken cancellationToken)
    {
        var key = await inner.CreateAsync(store, repositoryId, cancellationToken);
        await RememberAsync(repositoryId, key, cancellationToken);
        return key;
    }

    public async Task<MasterKey> OpenAsync(IObjectStore store, string repositoryId, CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (keys.TryGetValue(repositoryId, out var known))
            {
                return MasterKey.FromBytes(known);
            }

            var key = await inner.OpenAsync(store, repositoryId, cancellationToken);
            keys[repositoryId] = Copy(key);
            return key;
        }
        finally
        {
            gate.Release();
        }
    }

    public void Dispose()
    {
        foreach (var bytes in keys.Values)
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(bytes);
        }

        keys.Clear();
        gate.Dispose();
    }

    private async Task RememberAsync(string repositoryId, MasterKey key, CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken);
        try
        {
            keys[repositoryId] = Copy(key);
        }
        finally
        {
            gate.Release();
        }
    }

    private static byte[] Copy(MasterKey key)
    {
        var bytes = GC.AllocateUninitializedArray<byte>(MasterKey.Size, pinned: true);
        key.CopyTo(bytes);
        return bytes;
    }
}

/// <summary>What every key source does with the bytes a key ring hands it.</summary>
internal static class KeyBytes
{
    /// <summary>The master key of these bytes, which are zeroed: a key ring's bytes never outlive the call.</summary>
    public static MasterKey Take(byte[] masterKeyBytes)
    {
        try
        {
            return MasterKey.FromBytes(masterKeyBytes);
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(masterKeyBytes);
        }
    }
}
