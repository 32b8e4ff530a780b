using Amazon;
using Amazon.Runtime;

namespace SpotDevBox.Aws;

/// <summary>
/// Where an AWS client of a small service (SSM, KMS) sends its calls: AWS_ENDPOINT_URL_&lt;SERVICE&gt; or
/// AWS_ENDPOINT_URL when set (a test peer, a VPC endpoint), else AWS in the region the SDK's chain finds.
/// </summary>
internal static class ServiceEndpoints
{
    /// <summary>
    /// Fills in <paramref name="config"/>'s endpoint or region and standard retries; null when done, else why the
    /// service cannot be reached (an endpoint that is not an http(s) URL, or no region): the client then reports that.
    /// </summary>
    /// <param name="service">The service's name in messages and its variable: "SSM" reads AWS_ENDPOINT_URL_SSM.</param>
    public static string? Configure(ClientConfig config, string service, TimeSpan timeout, Func<string, string?> environment, Func<bool, RegionEndpoint?> regionChain)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(regionChain);
        config.Timeout = timeout;
        config.MaxErrorRetry = 2;
        config.RetryMode = RequestRetryMode.Standard;
        var variable = "AWS_ENDPOINT_URL_" + service;
        var endpoint = environment(variable) is { Length: > 0 } own ? own : environment("AWS_ENDPOINT_URL");
        if (!string.IsNullOrWhiteSpace(endpoint))
        {
            if (!Uri.TryCreate(endpoint.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                return $"the {service} endpoint ({variable} or AWS_ENDPOINT_URL) is not an http(s) URL";
            }

            config.ServiceURL = uri.ToString();
            config.AuthenticationRegion = regionChain(false)?.SystemName ?? "us-east-1";
            return null;
        }

        if (regionChain(true) is { } region)
        {
            config.RegionEndpoint = region;
            return null;
        }

        return $"no AWS region for {service} (AWS_REGION, the AWS profile or the instance metadata)";
    }
}
