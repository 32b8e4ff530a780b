using Amazon;
using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using Amazon.Runtime;
using SpotDevBox.Backup.Keys;

namespace SpotDevBox.Aws.Keys;

/// <summary>
/// AWS KMS for the key ring: Encrypt, Decrypt and GenerateDataKey with an encryption context, through the SDK's standard
/// credential chain. The endpoint is AWS_ENDPOINT_URL_KMS, then AWS_ENDPOINT_URL, else AWS itself. Errors become
/// <see cref="KeyServiceException"/> named by their code only: an SDK message is never passed on.
/// </summary>
public sealed class KmsKeyService : IKeyManagementService, IDisposable
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(15);

    private readonly Lazy<AmazonKeyManagementServiceClient?> _client;
    private string _unavailable = "";

    public KmsKeyService()
        : this(Environment.GetEnvironmentVariable, includeInstanceMetadata => FallbackRegionFactory.GetRegionEndpoint(includeInstanceMetadata))
    {
    }

    /// <param name="credentials">Null uses the SDK's standard chain.</param>
    internal KmsKeyService(Func<string, string?> environment, Func<bool, RegionEndpoint?> regionChain, AWSCredentials? credentials = null) =>
        _client = new Lazy<AmazonKeyManagementServiceClient?>(() => Create(environment, regionChain, credentials));

    public async Task<KmsCiphertext> EncryptAsync(string keyId, ReadOnlyMemory<byte> plaintext, IReadOnlyDictionary<string, string> context, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(keyId);
        ArgumentNullException.ThrowIfNull(context);
        var client = Client();
        using var plain = new MemoryStream(plaintext.ToArray(), writable: false);
        var response = await CallAsync(() => client.EncryptAsync(
            new EncryptRequest { KeyId = keyId, Plaintext = plain, EncryptionContext = new Dictionary<string, string>(context) },
            cancellationToken), cancellationToken);
        return new KmsCiphertext(response.CiphertextBlob.ToArray(), response.KeyId);
    }

    public async Task<byte[]> DecryptAsync(string keyId, ReadOnlyMemory<byte> ciphertext, IReadOnlyDictionary<string, string> context, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(keyId);
        ArgumentNullException.ThrowIfNull(context);
        var client = Client();
        using var blob = new MemoryStream(ciphertext.ToArray(), writable: false);

        // KeyId pins the key: KMS refuses a blob made under any other key instead of using whichever made it.
        var response = await CallAsync(() => client.DecryptAsync(
            new DecryptRequest { KeyId = keyId, CiphertextBlob = blob, EncryptionContext = new Dictionary<string, string>(context) },
            cancellationToken), cancellationToken);
        using var plaintext = response.Plaintext;
        return plaintext.ToArray();
    }

    public async Task<KmsDataKey> GenerateDataKeyAsync(string keyId, int numberOfBytes, IReadOnlyDictionary<string, string> context, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(keyId);
        ArgumentOutOfRangeException.ThrowIfLessThan(numberOfBytes, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(numberOfBytes, 1024);
        ArgumentNullException.ThrowIfNull(context);
        var client = Client();
        var response = await CallAsync(() => client.GenerateDataKeyAsync(
            new GenerateDataKeyRequest { KeyId = keyId, NumberOfBytes = numberOfBytes, EncryptionContext = new Dictionary<string, string>(context) },
            cancellationToken), cancellationToken);
        using var plaintext = response.Plaintext;
        using var blob = response.CiphertextBlob;
        return new KmsDataKey(plaintext.ToArray(), blob.ToArray(), response.KeyId);
    }

    public void Dispose()
    {
        if (_client.IsValueCreated)
        {
            _client.Value?.Dispose();
        }
    }

    private static async Task<T> CallAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call();
        }
        catch (InvalidCiphertextException e)
        {
            throw new KeyServiceException(KeyServiceFailure.InvalidCiphertext, e.ErrorCode ?? "InvalidCiphertextException", e);
        }
        catch (AmazonKeyManagementServiceException e) when (e.ErrorCode is "AccessDeniedException" or "AccessDenied" or "UnrecognizedClientException"
            or "NotFoundException" or "DisabledException" or "KMSInvalidStateException" or "IncorrectKeyException" or "InvalidKeyUsageException")
        {
            throw new KeyServiceException(KeyServiceFailure.AccessDenied, e.ErrorCode, e);
        }
        catch (AmazonServiceException e)
        {
            throw new KeyServiceException(KeyServiceFailure.Other, string.IsNullOrEmpty(e.ErrorCode) ? $"HTTP {(int)e.StatusCode}" : e.ErrorCode, e);
        }
        catch (Exception e) when (e is AmazonClientException or HttpRequestException or IOException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new KeyServiceException(KeyServiceFailure.Unavailable, $"KMS could not be reached ({e.GetType().Name})", e);
        }
    }

    private AmazonKeyManagementServiceClient Client() =>
        _client.Value ?? throw new KeyServiceException(KeyServiceFailure.Unavailable, _unavailable);

    private AmazonKeyManagementServiceClient? Create(Func<string, string?> environment, Func<bool, RegionEndpoint?> regionChain, AWSCredentials? credentials)
    {
        var config = new AmazonKeyManagementServiceConfig();
        if (ServiceEndpoints.Configure(config, "KMS", RequestTimeout, environment, regionChain) is { } unavailable)
        {
            _unavailable = unavailable;
            return null;
        }

        return credentials is null ? new AmazonKeyManagementServiceClient(config) : new AmazonKeyManagementServiceClient(credentials, config);
    }
}
