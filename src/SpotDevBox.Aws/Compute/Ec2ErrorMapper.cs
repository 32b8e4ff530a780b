using System.Net.Sockets;
using Amazon.Runtime;
using SpotDevBox.Core.Compute;

namespace SpotDevBox.Aws.Compute;

/// <summary>
/// Turns what the AWS SDK or the network throws into the compute domain's terms: a
/// <see cref="LaunchOutcome"/> for RunInstances, a <see cref="ComputeException"/> for every other call,
/// so the controller decides on them without seeing an Amazon type.
/// </summary>
internal static class Ec2ErrorMapper
{
    private static readonly HashSet<string> NoCapacityCodes = new(StringComparer.Ordinal)
    {
        "InsufficientInstanceCapacity", "InsufficientHostCapacity", "InsufficientCapacity",
    };

    private static readonly HashSet<string> QuotaCodes = new(StringComparer.Ordinal)
    {
        "MaxSpotInstanceCountExceeded", "VcpuLimitExceeded", "InstanceLimitExceeded",
    };

    private static readonly HashSet<string> UnauthorizedCodes = new(StringComparer.Ordinal)
    {
        "UnauthorizedOperation", "AuthFailure", "InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken",
        "RequestExpired", "OptInRequired", "Blocked", "PendingVerification", "AccessDenied", "AccessDeniedException",
    };

    private static readonly HashSet<string> ThrottlingCodes = new(StringComparer.Ordinal)
    {
        "RequestLimitExceeded", "Throttling", "ThrottlingException", "TooManyRequestsException",
    };

    public static LaunchOutcome MapLaunch(Exception exception, string region)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (exception is AmazonServiceException service && !string.IsNullOrEmpty(service.ErrorCode))
        {
            var code = service.ErrorCode;
            var message = service.Message ?? "";
            return code switch
            {
                _ when NoCapacityCodes.Contains(code) => new LaunchOutcome.NoCapacity($"{code}: {message}"),
                "SpotMaxPriceTooLow" => new LaunchOutcome.PriceTooLow($"{code}: {message}"),
                _ when QuotaCodes.Contains(code) => new LaunchOutcome.QuotaExceeded(code, message),
                "InsufficientFreeAddressesInSubnet" => new LaunchOutcome.NoFreeAddresses($"{code}: {message}"),
                "Unsupported" => new LaunchOutcome.UnsupportedInAz($"{code}: {message}"),
                _ when UnauthorizedCodes.Contains(code) => new LaunchOutcome.Unauthorized($"{code}: {message}"),
                _ when ThrottlingCodes.Contains(code) => new LaunchOutcome.Throttled($"{code} after retries: {message}"),
                // InternalError, Unavailable, ServiceUnavailable: EC2's side failed, perhaps after starting the instance.
                _ when (int)service.StatusCode >= 500 => new LaunchOutcome.Indeterminate($"EC2 in {region} failed (HTTP {(int)service.StatusCode} {code}): {message}"),
                // InvalidParameterValue, InvalidParameterCombination, InvalidAMIID.*, InvalidSubnetID.NotFound,
                // InvalidGroup.NotFound, InvalidKeyPair.NotFound, IdempotentParameterMismatch, ...:
                // the same request will be refused again.
                _ => new LaunchOutcome.InvalidRequest(code, message),
            };
        }

        if (CredentialProblem(exception) is { } credentials)
        {
            return new LaunchOutcome.Unauthorized(credentials);
        }

        return new LaunchOutcome.Indeterminate(FindNetworkFailure(exception) is { } network
            ? $"cannot reach EC2 in {region}: {network.Message}"
            : $"RunInstances in {region} failed: {exception.Message}");
    }

    public static ComputeException Map(Exception exception, string operation, string region)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (exception is AmazonServiceException service && !string.IsNullOrEmpty(service.ErrorCode))
        {
            var code = service.ErrorCode;
            var detail = $"{operation} in {region}: HTTP {(int)service.StatusCode} {code}: {service.Message}";
            var failure = code switch
            {
                _ when UnauthorizedCodes.Contains(code) => ComputeFailure.Unauthorized,
                _ when ThrottlingCodes.Contains(code) => ComputeFailure.Throttled,
                _ when code.EndsWith(".NotFound", StringComparison.Ordinal) => ComputeFailure.NotFound,
                // A pending instance (AssociateAddress before it runs): the same call works once it is running.
                "IncorrectInstanceState" => ComputeFailure.NotReady,
                _ when (int)service.StatusCode >= 500 => ComputeFailure.Unavailable,
                _ => ComputeFailure.Rejected,
            };
            return new ComputeException(failure, failure == ComputeFailure.Throttled ? detail + " (after retries)" : detail, exception);
        }

        if (CredentialProblem(exception) is { } credentials)
        {
            return new ComputeException(ComputeFailure.Unauthorized, $"{operation} in {region}: {credentials}", exception);
        }

        return FindNetworkFailure(exception) is { } network
            ? new ComputeException(ComputeFailure.Unavailable, $"{operation}: cannot reach EC2 in {region}: {network.Message}", exception)
            : new ComputeException(ComputeFailure.Unavailable, $"{operation} in {region} failed: {exception.Message}", exception);
    }

    private static string? CredentialProblem(Exception exception) =>
        exception is AmazonClientException
        && exception.Message.Contains("credentials", StringComparison.OrdinalIgnoreCase)
            ? "no usable AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or run where an instance role applies"
            : null;

    /// <summary>A connection-level failure somewhere in the chain: DNS, refused or reset connection, time-out.</summary>
    private static Exception? FindNetworkFailure(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException or SocketException or TimeoutException or IOException or OperationCanceledException)
            {
                return e;
            }
        }

        return null;
    }
}
