namespace SpotDevBox.Backup.Keys;

/// <summary>
/// What a key ring needs from a key management service (AWS KMS): encrypt and decrypt a small secret under a
/// named key, bound to an encryption context that must be given again to decrypt. The AWS adapter is
/// SpotDevBox.Aws.Keys.KmsKeyService; failures surface as <see cref="KeyServiceException"/>.
/// </summary>
public interface IKeyManagementService
{
    /// <returns>The ciphertext and the ARN of the key that made it (the caller may name the key by alias).</returns>
    Task<KmsCiphertext> EncryptAsync(string keyId, ReadOnlyMemory<byte> plaintext, IReadOnlyDictionary<string, string> context, CancellationToken cancellationToken);

    Task<byte[]> DecryptAsync(string keyId, ReadOnlyMemory<byte> ciphertext, IReadOnlyDictionary<string, string> context, CancellationToken cancellationToken);

    /// <summary>
    /// Has the service make <paramref name="numberOfBytes"/> random bytes and return them both in plaintext and
    /// encrypted under <paramref name="keyId"/> with <paramref name="context"/> (KMS GenerateDataKey).
    /// </summary>
    /// <returns>The plaintext (the caller zeroes it), the ciphertext and the ARN of the key that made it.</returns>
    Task<KmsDataKey> GenerateDataKeyAsync(string keyId, int numberOfBytes, IReadOnlyDictionary<string, string> context, CancellationToken cancellationToken);
}

public sealed record KmsCiphertext(byte[] Ciphertext, string KeyArn);

/// <summary>A data key from the service: <see cref="Plaintext"/> is a secret the caller zeroes when done.</summary>
public sealed record KmsDataKey(byte[] Plaintext, byte[] Ciphertext, string KeyArn);

public enum KeyServiceFailure
{
    /// <summary>The caller may not use the key (key policy, IAM), or the key is disabled or missing.</summary>
    AccessDenied,
    /// <summary>The ciphertext does not open with this key and context (another context, another key, altered).</summary>
    InvalidCiphertext,
    /// <summary>The service cannot be reached or is not configured (region, endpoint).</summary>
    Unavailable,
    /// <summary>Anything else the service refused.</summary>
    Other,
}

/// <summary>A key service's refusal, by kind and by the service's error code; never holds a key or plaintext.</summary>
public sealed class KeyServiceException : Exception
{
    public KeyServiceException(KeyServiceFailure failure, string code, Exception? innerException = null)
        : base(code, innerException)
    {
        Failure = failure;
        Code = code;
    }

    public KeyServiceException() : this(KeyServiceFailure.Other, "unknown") { }

    public KeyServiceException(string message) : this(KeyServiceFailure.Other, message) { }

    public KeyServiceException(string message, Exception innerException) : this(KeyServiceFailure.Other, message, innerException) { }

    public KeyServiceFailure Failure { get; }

    public string Code { get; } = "";
}

/// <summary>A key ring refused: one line naming what was wrong and what to do, never a key or a passphrase.</summary>
public sealed class KeyRingException : Exception
{
    public KeyRingException() : base("the key ring refused") { }

    public KeyRingException(string message) : base(message) { }

    public KeyRingException(string message, Exception innerException) : base(message, innerException) { }
}
