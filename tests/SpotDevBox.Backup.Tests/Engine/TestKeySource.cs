using System.Security.Cryptography;
using SpotDevBox.Backup.Crypto;
using SpotDevBox.Backup.Keys;
using SpotDevBox.Backup.Storage;

namespace SpotDevBox.Backup.Tests.Engine;

/// <summary>
/// The engine tests' key source: a real passphrase key file is written when the repository is created (so the
/// repository is what a user gets), but later opens hand back the master key held in memory instead of running
/// Argon2id for every operation. The key ring and the passphrase source have their own tests.
/// </summary>
internal sealed class TestKeySource : IRepositoryKeySource
{
    public const string Passphrase = "engine harness passphrase";

    private static readonly Argon2idParameters Cheap = new(Argon2idParameters.MinMemoryKib, Argon2idParameters.MinIterations);

    private byte[]? _master;

    /// <summary>
    /// A key source that makes its repository with the same master key as <paramref name="other"/>'s (no key file is
    /// written): two repositories under one master key, so that only the repository id in the associated data tells
    /// their objects apart. Random master keys never coincide; this is the worst case, made on purpose.
    /// </summary>
    public static TestKeySource SharingMasterKeyOf(TestKeySource other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new TestKeySource { _master = (byte[])(other._master ?? throw new InvalidOperationException("the other key source made no key yet")).Clone() };
    }

    public string Description => "the test harness's key";

    public int Opens { get; private set; }

    public async Task<MasterKey> CreateAsync(IObjectStore store, string repositoryId, CancellationToken cancellationToken)
    {
        if (_master is not null)
        {
            return MasterKey.FromBytes(_master);
        }

        var key = await new PassphraseKeySource(_ => Task.FromResult(Passphrase), TimeProvider.System, Cheap).CreateAsync(store, repositoryId, cancellationToken);
        _master = new byte[MasterKey.Size];
        key.CopyTo(_master);
        return key;
    }

    public Task<MasterKey> OpenAsync(IObjectStore store, string repositoryId, CancellationToken cancellationToken)
    {
        Opens++;
        return Task.FromResult(_master is null
            ? throw new KeyRingException("the test harness made no key for this repository")
            : MasterKey.FromBytes(_master));
    }

    /// <summary>Another master key of the right size: what a wrong key looks like to the engine.</summary>
    public void ReplaceWithAnotherKey() => RandomNumberGenerator.Fill(_master);
}
