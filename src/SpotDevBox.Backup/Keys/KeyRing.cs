using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using SpotDevBox.Backup.Storage;

namespace SpotDevBox.Backup.Keys;

/// <summary>
/// The wrapped copies of a repository's master key under keys/ (docs/security.md, "Keys"): list them, add one
/// for a new passphrase or KMS key (from a master key already opened), remove one (never the last), open the
/// master key with a passphrase or through KMS. Opening writes nothing. Not yet used by the backup engine.
/// </summary>
public sealed class KeyRing(IObjectStore store, TimeProvider time, IKeyManagementService? kms = null)
{
    public const string Prefix = "keys/";
    public const int MasterKeySize = 64;

    /// <summary>The encryption context's names (the KMS key policy in deploy/cloudformation/fleet.yaml tests the box's).</summary>
    public const string RepositoryContextKey = "spotdevbox:repository";
    public const string BoxContextKey = "spotdevbox:box";

    private const int NonceSize = 12;
    private const int TagSize = 16;
    private const int WrappingKeySize = 32;
    private const int MaxKeyFileSize = 64 * 1024;

    /// <summary>The encryption context of a box's repository: {"spotdevbox:repository": id, "spotdevbox:box": "owner/box"}.</summary>
    public static IReadOnlyDictionary<string, string> BoxContext(string repositoryId, string owner, string box)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(repositoryId);
        ArgumentException.ThrowIfNullOrWhiteSpace(owner);
        ArgumentException.ThrowIfNullOrWhiteSpace(box);
        return new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            [RepositoryContextKey] = repositoryId,
            [BoxContextKey] = owner + "/" + box,
        };
    }

    public async Task<IReadOnlyList<KeyEntry>> ListAsync(CancellationToken cancellationToken)
    {
        var entries = new List<KeyEntry>();
        foreach (var (id, size) in await IdsAsync(cancellationToken))
        {
            var (file, problem) = await ReadAsync(id, size, cancellationToken);
            entries.Add(new KeyEntry(id, file?.Kind, file?.Created, file?.Label, file?.Kms?.KeyArn, file?.Kms?.Context, problem));
        }

        return entries;
    }

    /// <summary>Wraps <paramref name="masterKey"/> under a passphrase; returns the new key file's id.</summary>
    public async Task<string> AddPassphraseAsync(
        ReadOnlyMemory<byte> masterKey, string passphrase, string label, Argon2idParameters? parameters, CancellationToken cancellationToken)
    {
        CheckMasterKey(masterKey.Span);
        CheckPassphrase(passphrase);
        CheckLabel(label);
        parameters ??= Argon2idParameters.Default;
        if (parameters.Validate() is { } invalid)
        {
            throw new KeyRingException($"{invalid}; choose parameters within the bounds in docs/security.md, \"Keys\"");
        }

        var nonce = RandomNumberGenerator.GetBytes(NonceSize);
        var unsealed = new KeyFile
        {
            Version = KeyFile.CurrentVersion,
            Kind = KeyFile.PassphraseKind,
            Created = Now(),
            Label = label,
            Argon2id = new KeyFileArgon2id
            {
                MemoryKib = parameters.MemoryKib,
                Iterations = parameters.Iterations,
                Parallelism = parameters.Parallelism,
                Salt = RandomNumberGenerator.GetBytes(Argon2idParameters.SaltSize),
            },
            Nonce = nonce,
            Wrapped = [],
        };
        var wrapped = new byte[MasterKeySize + TagSize];
        var wrappingKey = DeriveWrappingKey(passphrase, unsealed.Argon2id);
        try
        {
            using var gcm = new AesGcm(wrappingKey, TagSize);
            gcm.Encrypt(nonce, masterKey.Span, wrapped.AsSpan(0, MasterKeySize), wrapped.AsSpan(MasterKeySize), unsealed.AssociatedData());
        }
        finally
        {
            CryptographicOperations.ZeroMemory(wrappingKey);
        }

        return await WriteAsync(unsealed with { Wrapped = wrapped }, cancellationToken);
    }

    /// <summary>
    /// Has KMS encrypt <paramref name="masterKey"/> under <paramref name="keyId"/> (an ARN or alias) with
    /// <paramref name="context"/>; returns the new key file's id. Nothing is written when KMS refuses.
    /// </summary>
    public async Task<string> AddKmsAsync(
        ReadOnlyMemory<byte> masterKey, string keyId, IReadOnlyDictionary<string, string> context, string label, CancellationToken cancellationToken)
    {
        CheckMasterKey(masterKey.Span);
        ArgumentException.ThrowIfNullOrWhiteSpace(keyId);
        ArgumentNullException.ThrowIfNull(context);
        CheckLabel(label);
        var service = Kms();
        var draft = KmsDraft(keyId, context, label);
        var plaintext = new byte[MasterKeySize];
        masterKey.Span.CopyTo(plaintext);
        KmsCiphertext encrypted;
        try
        {
            encrypted = await service.EncryptAsync(keyId, plaintext, draft.Kms!.Context, cancellationToken);
        }
        catch (KeyServiceException e)
        {
            throw new KeyRingException($"KMS refused to encrypt with key {keyId} and context {Describe(context)} ({e.Code}); nothing was written: check that you may use this key with this context", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }

        return await WriteKmsAsync(masterKey.Span, draft, encrypted, cancellationToken);
    }

    /// <summary>
    /// Makes a new master key with KMS GenerateDataKey under <paramref name="keyId"/> (an ARN or alias) and
    /// <paramref name="context"/>, and writes its key file exactly as <see cref="AddKmsAsync"/> would. Nothing is
    /// written when KMS refuses.
    /// </summary>
    /// <returns>The key file's id and the plaintext master key, which the caller zeroes when done.</returns>
    public async Task<CreatedKey> CreateKmsAsync(string keyId, IReadOnlyDictionary<string, string> context, string label, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(keyId);
        ArgumentNullException.ThrowIfNull(context);
        CheckLabel(label);
        var service = Kms();
        var draft = KmsDraft(keyId, context, label);
        KmsDataKey generated;
        try
        {
            generated = await service.GenerateDataKeyAsync(keyId, MasterKeySize, draft.Kms!.Context, cancellationToken);
        }
        catch (KeyServiceException e)
        {
            throw new KeyRingException($"KMS refused to generate a master key with key {keyId} and context {Describe(context)} ({e.Code}); nothing was written: check that you may use this key with this context", e);
        }

        try
        {
            if (generated.Plaintext.Length != MasterKeySize || generated.Ciphertext.Length == 0)
            {
                throw new KeyRingException(string.Create(CultureInfo.InvariantCulture,
                    $"KMS returned a data key of {generated.Plaintext.Length} bytes for key {keyId}, not {MasterKeySize}; nothing was written: check the key service"));
            }

            var id = await WriteKmsAsync(generated.Plaintext, draft, new KmsCiphertext(generated.Ciphertext, generated.KeyArn), cancellationToken);
            return new CreatedKey(id, generated.Plaintext);
        }
        catch
        {
            CryptographicOperations.ZeroMemory(generated.Plaintext);
            throw;
        }
    }

    private KeyFile KmsDraft(string keyId, IReadOnlyDictionary<string, string> context, string label) => new()
    {
        Version = KeyFile.CurrentVersion,
        Kind = KeyFile.KmsKind,
        Created = Now(),
        Label = label,
        Kms = new KeyFileKms { KeyArn = keyId, Context = Sorted(context) },
        Wrapped = [],
    };

    /// <summary>
    /// The file records the ARN KMS reports (the caller may give an alias), known only after KMS answered; the
    /// fields are then sealed with an HMAC under the master key rather than put in KMS's context, which stays
    /// exactly the two names the key policy tests.
    /// </summary>
    private Task<string> WriteKmsAsync(ReadOnlySpan<byte> masterKey, KeyFile draft, KmsCiphertext encrypted, CancellationToken cancellationToken)
    {
        var file = draft with { Kms = draft.Kms! with { KeyArn = encrypted.KeyArn } };
        var seal = Seal(masterKey, file.AssociatedData());
        return WriteAsync(file with { Wrapped = [.. encrypted.Ciphertext], Seal = seal }, cancellationToken);
    }

    /// <summary>Deletes a key file; refuses when no other intact key file would remain.</summary>
    public async Task RemoveAsync(string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        var entries = await ListAsync(cancellationToken);
        if (!entries.Any(e => e.Id == id))
        {
            throw new KeyRingException($"there is no key {id} in this repository; list the keys and give one of their ids");
        }

        if (!entries.Any(e => e.Id != id && e.Problem is null))
        {
            throw new KeyRingException($"key {id} is the repository's last usable key: add another key first, or nobody could open the repository again");
        }

        await store.DeleteAsync([Prefix + id], cancellationToken);
    }

    /// <summary>Opens the master key with a passphrase, trying each passphrase key file in id order.</summary>
    public async Task<OpenedKey> OpenWithPassphraseAsync(string passphrase, CancellationToken cancellationToken)
    {
        CheckPassphrase(passphrase);
        var problems = new List<string>();
        var tried = 0;
        foreach (var (id, size) in await IdsAsync(cancellationToken))
        {
            var (file, problem) = await ReadAsync(id, size, cancellationToken);
            if (file?.Kind != KeyFile.PassphraseKind && problem is null)
            {
                continue;
            }

            if (problem is not null)
            {
                problems.Add(problem);
                continue;
            }

            tried++;
            var wrappingKey = DeriveWrappingKey(passphrase, file!.Argon2id!);
            var master = new byte[MasterKeySize];
            try
            {
                using var gcm = new AesGcm(wrappingKey, TagSize);
                gcm.Decrypt(file.Nonce, file.Wrapped.AsSpan(0, MasterKeySize), file.Wrapped.AsSpan(MasterKeySize), master, file.AssociatedData());
                return new OpenedKey(id, master, problems);
            }
            catch (AuthenticationTagMismatchException)
            {
                CryptographicOperations.ZeroMemory(master);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(wrappingKey);
            }
        }

        throw new KeyRingException(NoKeyMessage(tried, "passphrase", "wrong passphrase, or the key file was altered: give the repository's passphrase", problems));
    }

    /// <summary>
    /// Opens the master key through KMS with <paramref name="context"/> (the box's, <see cref="BoxContext"/>):
    /// tries each KMS key file recorded for that context, asking KMS to decrypt with exactly this context.
    /// </summary>
    public async Task<OpenedKey> OpenWithKmsAsync(IReadOnlyDictionary<string, string> context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var service = Kms();
        var wanted = Sorted(context);
        var problems = new List<string>();
        KeyServiceException? refusal = null;
        string? refusedArn = null;
        foreach (var (id, size) in await IdsAsync(cancellationToken))
        {
            var (file, problem) = await ReadAsync(id, size, cancellationToken);
            if (problem is not null)
            {
                problems.Add(problem);
                continue;
            }

            if (file!.Kind != KeyFile.KmsKind || !SameContext(file.Kms!.Context, wanted))
            {
                continue;
            }

            byte[] master;
            try
            {
                master = await service.DecryptAsync(file.Kms.KeyArn, file.Wrapped, wanted, cancellationToken);
            }
            catch (KeyServiceException e)
            {
                refusal ??= e;
                refusedArn ??= file.Kms.KeyArn;
                continue;
            }

            if (master.Length != MasterKeySize || !CryptographicOperations.FixedTimeEquals(Seal(master, file.AssociatedData()), file.Seal))
            {
                CryptographicOperations.ZeroMemory(master);
                problems.Add($"key file {Prefix}{id} was altered (its fields do not match what KMS decrypted): remove it and add the key again");
                continue;
            }

            return new OpenedKey(id, master, problems);
        }

        if (refusal is not null)
        {
            throw new KeyRingException(
                $"KMS refused to decrypt with key {refusedArn} and context {Describe(wanted)} ({refusal.Code}): check that the key policy lets you use this key with this context",
                refusal);
        }

        throw new KeyRingException(problems.Count > 0
            ? problems[0]
            : $"no KMS key file is recorded for context {Describe(wanted)}: open the repository another way and add one");
    }

    private static byte[] Seal(ReadOnlySpan<byte> masterKey, byte[] associatedData) => HMACSHA256.HashData(masterKey, associatedData);

    private static string NoKeyMessage(int tried, string kind, string reason, List<string> problems) =>
        tried > 0 || problems.Count == 0
            ? string.Create(CultureInfo.InvariantCulture, $"no {kind} key opens this repository ({tried} tried): {(tried > 0 ? reason : $"it has no {kind} key")}")
              + (problems.Count > 0 ? "; also " + problems[0] : "")
            : problems[0];

    /// <summary>The key files' ids and sizes, from one listing (its sizes spare a request per key file).</summary>
    private async Task<List<(string Id, long Size)>> IdsAsync(CancellationToken cancellationToken)
    {
        var ids = new List<(string Id, long Size)>();
        await foreach (var obj in store.ListAsync(Prefix, cancellationToken))
        {
            ids.Add((obj.Key[Prefix.Length..], obj.Size));
        }

        ids.Sort((a, b) => string.CompareOrdinal(a.Id, b.Id));
        return ids;
    }

    /// <summary>
    /// Reads and checks a key file: its name is its content's hash, its fields are complete and in bounds. A file the
    /// listing shows larger than <see cref="MaxKeyFileSize"/> is not read at all; one that grew since is refused when read.
    /// </summary>
    private async Task<(KeyFile? File, string? Problem)> ReadAsync(string id, long listedSize, CancellationToken cancellationToken)
    {
        if (listedSize > MaxKeyFileSize)
        {
            return (null, $"key file {Prefix}{id} is too large: remove it");
        }

        byte[] bytes;
        try
        {
            bytes = await store.GetAsync(Prefix + id, cancellationToken);
        }
        catch (StorageException e) when (e.Failure == StorageFailure.NotFound)
        {
            return (null, $"key file {Prefix}{id} is gone: remove it");
        }

        if (bytes.Length > MaxKeyFileSize)
        {
            return (null, $"key file {Prefix}{id} is too large: remove it");
        }

        if (!string.Equals(Convert.ToHexStringLower(SHA256.HashData(bytes)), id, StringComparison.Ordinal))
        {
            return (null, $"key file {Prefix}{id} was altered or moved (its content does not match its name): remove it and add the key again");
        }

        KeyFile? file;
        try
        {
            file = JsonSerializer.Deserialize(bytes, KeyJson.Default.KeyFile);
        }
        catch (JsonException)
        {
            file = null;
        }

        var problem = file is null ? "is not a key file" : Check(file);
        return problem is null ? (file, null) : (null, $"key file {Prefix}{id} {problem}");
    }

    private static string? Check(KeyFile file)
    {
        if (file.Version != KeyFile.CurrentVersion)
        {
            return string.Create(CultureInfo.InvariantCulture, $"has version {file.Version}, this spotdevbox reads version {KeyFile.CurrentVersion}: use a newer spotdevbox");
        }

        switch (file.Kind)
        {
            case KeyFile.PassphraseKind when file.Argon2id is { } a && file.Kms is null && file.Seal is null:
                if (a.Parameters.Validate() is { } invalid)
                {
                    return "is refused: " + invalid;
                }

                return a.Salt.Length != Argon2idParameters.SaltSize || file.Nonce?.Length != NonceSize || file.Wrapped.Length != MasterKeySize + TagSize
                    ? "is malformed (salt, nonce or wrapped key of the wrong size)"
                    : null;
            case KeyFile.KmsKind when file.Kms is { } k && file.Argon2id is null && file.Nonce is null:
                return string.IsNullOrWhiteSpace(k.KeyArn) || file.Seal?.Length != 32 || file.Wrapped.Length == 0
                    ? "is malformed (key ARN, seal or wrapped key missing)"
                    : null;
            default:
                return "is malformed (unknown kind, or fields of another kind)";
        }
    }

    private async Task<string> WriteAsync(KeyFile file, CancellationToken cancellationToken)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(file, KeyJson.Default.KeyFile);
        var id = Convert.ToHexStringLower(SHA256.HashData(bytes));

        // If-absent: a file of the same name has the same bytes, so "already there" is success too.
        await store.PutIfAsync(Prefix + id, bytes, null, cancellationToken);
        return id;
    }

    private static byte[] DeriveWrappingKey(string passphrase, KeyFileArgon2id argon)
    {
        var password = Encoding.UTF8.GetBytes(passphrase);
        try
        {
            return Keys.Argon2id.Derive(password, argon.Salt, argon.Parameters, WrappingKeySize);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(password);
        }
    }

    private IKeyManagementService Kms() =>
        kms ?? throw new KeyRingException("KMS keys need AWS (a region and credentials); this command has no KMS client");

    private DateTimeOffset Now()
    {
        // Whole seconds, UTC: the time is part of the associated data and must survive the JSON round trip.
        var now = time.GetUtcNow();
        return new DateTimeOffset(now.Ticks - (now.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
    }

    private static void CheckMasterKey(ReadOnlySpan<byte> masterKey)
    {
        if (masterKey.Length != MasterKeySize)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"a master key has {MasterKeySize} bytes, got {masterKey.Length}"), nameof(masterKey));
        }
    }

    private static void CheckPassphrase(string passphrase)
    {
        if (string.IsNullOrEmpty(passphrase))
        {
            throw new KeyRingException("the passphrase is empty: give a non-empty passphrase");
        }
    }

    private static void CheckLabel(string label)
    {
        if (string.IsNullOrWhiteSpace(label) || label.Length > 200 || label.Any(char.IsControl))
        {
            throw new KeyRingException("a key's label (who added it) must be 1 to 200 printable characters");
        }
    }

    private static SortedDictionary<string, string> Sorted(IReadOnlyDictionary<string, string> context) =>
        new(context.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal), StringComparer.Ordinal);

    private static bool SameContext(IReadOnlyDictionary<string, string> a, SortedDictionary<string, string> b) =>
        a.Count == b.Count && a.All(p => b.TryGetValue(p.Key, out var v) && string.Equals(v, p.Value, StringComparison.Ordinal));

    private static string Describe(IReadOnlyDictionary<string, string> context) =>
        "{" + string.Join(", ", context.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}")) + "}";
}

/// <summary>A key file as listed; <see cref="Problem"/> says why it cannot be used (then the other fields may be null).</summary>
public sealed record KeyEntry(
    string Id,
    string? Kind,
    DateTimeOffset? Created,
    string? Label,
    string? KeyArn,
    IReadOnlyDictionary<string, string>? Context,
    string? Problem);

/// <summary>The opened master key and the key files that could not be used on the way (to show, not to fail on).</summary>
public sealed record OpenedKey(string KeyId, byte[] MasterKey, IReadOnlyList<string> Problems);

/// <summary>A master key just made through KMS and the id of the key file that wraps it; the caller zeroes <see cref="MasterKey"/>.</summary>
public sealed record CreatedKey(string KeyId, byte[] MasterKey);
