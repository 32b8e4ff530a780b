using Amazon;
using Amazon.Runtime;
using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;
using SpotDevBox.Core.Agent;

namespace SpotDevBox.Aws.Parameters;

/// <summary>
/// SSM Parameter Store through the box's role (the SDK's standard credential chain): GetParameter with
/// WithDecryption, the only SSM call the code makes (deploy/iam/box-policy.json allows just it). The endpoint is
/// AWS_ENDPOINT_URL_SSM, then AWS_ENDPOINT_URL, else AWS itself; the region is the SDK's (AWS_REGION, the profile,
/// the instance's metadata). Errors become outcomes named by their code: an SDK message is never passed on, so no
/// value can reach a log through it.
/// </summary>
public sealed class SsmSecretParameters : ISecretParameters, IDisposable
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(15);

    private readonly Lazy<AmazonSimpleSystemsManagementClient?> _client;
    private string _unavailable = "";

    public SsmSecretParameters()
        : this(Environment.GetEnvironmentVariable, includeInstanceMetadata => FallbackRegionFactory.GetRegionEndpoint(includeInstanceMetadata))
    {
    }

    /// <param name="credentials">Null uses the SDK's standard chain.</param>
    internal SsmSecretParameters(Func<string, string?> environment, Func<bool, RegionEndpoint?> regionChain, AWSCredentials? credentials = null) =>
        _client = new Lazy<AmazonSimpleSystemsManagementClient?>(() => Create(environment, regionChain, credentials));

    public async Task<SecretParameter> ReadAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (_client.Value is not { } client)
        {
            return new SecretParameter(SecretParameterOutcome.Failed, null, _unavailable);
        }

        try
        {
            var response = await client.GetParameterAsync(new GetParameterRequest { Name = name, WithDecryption = true }, cancellationToken);
            var value = response.Parameter?.Value;
            return string.IsNullOrEmpty(value)
                ? new SecretParameter(SecretParameterOutcome.NotFound, null, "the parameter has no value")
                : new SecretParameter(SecretParameterOutcome.Found, value, "");
        }
        catch (ParameterNotFoundException)
        {
            return new SecretParameter(SecretParameterOutcome.NotFound, null, "ParameterNotFound");
        }
        catch (AmazonSimpleSystemsManagementException e) when (e.ErrorCode is "AccessDeniedException" or "AccessDenied" or "UnrecognizedClientException" or "KMSAccessDeniedException" or "InvalidKeyId")
        {
            return new SecretParameter(SecretParameterOutcome.AccessDenied, null, e.ErrorCode);
        }
        catch (AmazonServiceException e)
        {
            return new SecretParameter(SecretParameterOutcome.Failed, null, string.IsNullOrEmpty(e.ErrorCode) ? $"HTTP {(int)e.StatusCode}" : e.ErrorCode);
        }
        catch (Exception e) when (e is AmazonClientException or HttpRequestException or IOException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return new SecretParameter(SecretParameterOutcome.Failed, null, $"SSM could not be reached ({e.GetType().Name})");
        }
    }

    public void Dispose()
    {
        if (_client.IsValueCreated)
        {
            _client.Value?.Dispose();
        }
    }

    private AmazonSimpleSystemsManagementClient? Create(Func<string, string?> environment, Func<bool, RegionEndpoint?> regionChain, AWSCredentials? credentials)
    {
        var config = new AmazonSimpleSystemsManagementConfig();
        if (ServiceEndpoints.Configure(config, "SSM", RequestTimeout, environment, regionChain) is { } unavailable)
        {
            _unavailable = unavailable;
            return null;
        }

        return credentials is null ? new AmazonSimpleSystemsManagementClient(config) : new AmazonSimpleSystemsManagementClient(credentials, config);
    }
}
