using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using SpotDevBox.Backup.Storage;

namespace SpotDevBox.Aws.Storage;

/// <summary>Builds the S3 <see cref="IObjectStore"/> for an <c>s3://bucket/prefix</c> repository.</summary>
public static class S3ObjectStoreFactory
{
    /// <summary>The region S3-compatible servers conventionally sign with when none is configured.</summary>
    internal const string DefaultCustomEndpointRegion = "us-east-1";

    // Connection refused fails at once, but a black-holed address waits for the connect timeout on
    // every attempt: three attempts of 3 s keep "the endpoint is unreachable" to about ten seconds.
    internal static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(3);
    internal const int MaxErrorRetry = 2;

    // Bounds a server that accepts the connection and then stalls. A whole request legitimately takes
    // longer than connecting: 60 s still lets an 11 MiB PUT through at about 200 KB/s.
    internal static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(60);

    // The engine runs about 8 requests at once; leave head room so pooling never serializes them.
    internal const int MaxConnectionsPerServer = 64;

    /// <summary>
    /// The store for <paramref name="location"/>. Credentials come from the SDK's standard chain
    /// (environment, profile, instance role) when a request first needs them. The store owns an SDK
    /// client and is <see cref="IDisposable"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The location is not S3, the endpoint is not an http(s) URL, or no region can be found.</exception>
    public static IObjectStore Create(RepositoryLocation location, S3StoreOptions options) =>
        Create(location, options, credentials: null, Environment.GetEnvironmentVariable, RegionFromSdkChain);

    /// <param name="credentials">Null uses the SDK's standard chain (environment, profile, instance role).</param>
    internal static S3ObjectStore Create(
        RepositoryLocation location,
        S3StoreOptions options,
        AWSCredentials? credentials,
        Func<string, string?> environment,
        Func<bool, RegionEndpoint?> regionChain)
    {
        ArgumentNullException.ThrowIfNull(location);
        ArgumentNullException.ThrowIfNull(options);
        if (location.Kind != RepositoryKind.S3)
        {
            throw new ArgumentException($"'{location}' is not an S3 repository", nameof(location));
        }

        var endpoint = ResolveEndpoint(options.EndpointUrl, environment);
        var region = ResolveRegion(options.Region, endpoint is not null, regionChain);
        var config = CreateConfig(endpoint, region);
        var client = credentials is null ? new AmazonS3Client(config) : new AmazonS3Client(credentials, config);
        var endpointDescription = endpoint?.ToString() ?? $"S3 in {region.SystemName}";
        var kmsKeyId = string.IsNullOrWhiteSpace(options.KmsKeyId) ? null : options.KmsKeyId.Trim();
        return new S3ObjectStore(client, location, kmsKeyId, endpointDescription, options.HistoryDays);
    }

    /// <summary>The explicit option wins, then AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL; null means AWS itself.</summary>
    internal static Uri? ResolveEndpoint(string? option, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var (value, source) = !string.IsNullOrWhiteSpace(option) ? (option, "the endpoint option")
            : !string.IsNullOrWhiteSpace(environment("AWS_ENDPOINT_URL_S3")) ? (environment("AWS_ENDPOINT_URL_S3"), "AWS_ENDPOINT_URL_S3")
            : !string.IsNullOrWhiteSpace(environment("AWS_ENDPOINT_URL")) ? (environment("AWS_ENDPOINT_URL"), "AWS_ENDPOINT_URL")
            : (null, null);
        if (value is null)
        {
            return null;
        }

        if (!Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"S3 endpoint '{value}' from {source} is not an http:// or https:// URL");
        }

        return uri;
    }

    /// <summary>
    /// The explicit option wins, then the SDK's chain; a custom endpoint falls back to us-east-1 because
    /// S3-compatible servers accept any signing region, while AWS itself needs the bucket's real one.
    /// </summary>
    /// <param name="regionChain">The SDK's region chain; its argument says whether it may ask the instance metadata service.</param>
    internal static RegionEndpoint ResolveRegion(string? option, bool customEndpoint, Func<bool, RegionEndpoint?> regionChain)
    {
        ArgumentNullException.ThrowIfNull(regionChain);
        if (!string.IsNullOrWhiteSpace(option))
        {
            return RegionEndpoint.GetBySystemName(option.Trim());
        }

        // With a custom endpoint the EC2 metadata region says nothing about the server, so do not
        // spend a metadata round trip (or its time-out off EC2) on it.
        var fromChain = regionChain(!customEndpoint);
        if (fromChain is not null)
        {
            return fromChain;
        }

        return customEndpoint
            ? RegionEndpoint.GetBySystemName(DefaultCustomEndpointRegion)
            : throw new ArgumentException("no AWS region for S3: set the region option, AWS_REGION, or a region in the AWS profile");
    }

    internal static AmazonS3Config CreateConfig(Uri? endpoint, RegionEndpoint region)
    {
        ArgumentNullException.ThrowIfNull(region);
        var config = new AmazonS3Config
        {
            ConnectTimeout = ConnectTimeout,
            Timeout = RequestTimeout,
            MaxErrorRetry = MaxErrorRetry,
            RetryMode = RequestRetryMode.Standard,
            MaxConnectionsPerServer = MaxConnectionsPerServer,
        };
        if (endpoint is null)
        {
            config.RegionEndpoint = region;
        }
        else
        {
            // Setting RegionEndpoint would replace ServiceURL, so the region only names the signing scope.
            config.ServiceURL = endpoint.ToString();
            config.AuthenticationRegion = region.SystemName;
            config.ForcePathStyle = true;
        }

        return config;
    }

    private static RegionEndpoint? RegionFromSdkChain(bool includeInstanceMetadata) =>
        FallbackRegionFactory.GetRegionEndpoint(includeInstanceMetadata);
}
