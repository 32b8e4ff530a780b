using System.Collections.Concurrent;
using Amazon;
using Amazon.EC2;
using Amazon.Runtime;
using SpotDevBox.Core.Compute;

namespace SpotDevBox.Aws.Compute;

/// <summary>How the controller reaches EC2.</summary>
/// <param name="ServiceUrl">An EC2-compatible endpoint (a local test endpoint); null for AWS itself.</param>
/// <param name="MaxErrorRetry">
/// How often the SDK retries throttling, 5xx and network errors (with its own backoff) before a call
/// reports them. With a client token a retried RunInstances cannot start a second instance.
/// </param>
public sealed record Ec2GatewayOptions(string? ServiceUrl = null, int MaxErrorRetry = Ec2GatewayOptions.DefaultMaxErrorRetry)
{
    public const int DefaultMaxErrorRetry = 3;
}

/// <summary>
/// One <see cref="IComputeGateway"/> per region, each with its own SDK client, kept for the factory's
/// lifetime. Credentials come from the SDK's standard chain (environment, profile, SSO, instance role)
/// on a gateway's first call; without any, calls fail as unauthorized.
/// </summary>
public sealed class Ec2ComputeGatewayFactory(Ec2GatewayOptions options) : IComputeGatewayFactory, IDisposable
{
    internal static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

    // RunInstances answers in a few seconds; a stalled connection must not hold a launch for minutes.
    internal static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, Lazy<Ec2ComputeGateway>> _gateways = new(StringComparer.Ordinal);

    public IComputeGateway ForRegion(string region)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(region);
        return _gateways.GetOrAdd(region.Trim(), r => new Lazy<Ec2ComputeGateway>(() => Create(r, options, credentials: null))).Value;
    }

    public void Dispose()
    {
        foreach (var gateway in _gateways.Values.Where(g => g.IsValueCreated))
        {
            gateway.Value.Dispose();
        }

        _gateways.Clear();
    }

    /// <param name="credentials">Null uses the SDK's standard chain.</param>
    internal static Ec2ComputeGateway Create(string region, Ec2GatewayOptions options, AWSCredentials? credentials)
    {
        ArgumentNullException.ThrowIfNull(options);
        var config = CreateConfig(region, options);
        return new Ec2ComputeGateway(() => credentials is null ? new AmazonEC2Client(config) : new AmazonEC2Client(credentials, config), region);
    }

    internal static AmazonEC2Config CreateConfig(string region, Ec2GatewayOptions options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(region);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxErrorRetry);
        var config = new AmazonEC2Config
        {
            ConnectTimeout = ConnectTimeout,
            Timeout = RequestTimeout,
            MaxErrorRetry = options.MaxErrorRetry,
            RetryMode = RequestRetryMode.Standard,
        };
        if (string.IsNullOrWhiteSpace(options.ServiceUrl))
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
        }
        else
        {
            if (!Uri.TryCreate(options.ServiceUrl.Trim(), UriKind.Absolute, out var endpoint) || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
            {
                throw new ArgumentException($"EC2 endpoint '{options.ServiceUrl}' is not an http:// or https:// URL", nameof(options));
            }

            // Setting RegionEndpoint would replace ServiceURL, so the region only names the signing scope.
            config.ServiceURL = endpoint.ToString();
            config.AuthenticationRegion = region;
        }

        return config;
    }
}
