using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;
using Amazon.S3;
using SpotDevBox.Backup.Storage;

namespace SpotDevBox.Aws.Storage;

/// <summary>What an S3 call was about, so an error message can name it.</summary>
/// <param name="Key">The full object key, or null for a bucket-level call.</param>
internal sealed record S3CallContext(string Bucket, string Location, string Endpoint, string? Key);

/// <summary>
/// Turns whatever the AWS SDK or the network throws into a <see cref="StorageException"/>, so the engine
/// decides on <see cref="StorageFailure"/> and never sees an Amazon type.
/// </summary>
internal static class S3ErrorMapper
{
    private static readonly HashSet<string> AccessDeniedCodes = new(StringComparer.Ordinal)
    {
        "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken",
        "TokenRefreshRequired", "AllAccessDisabled", "AccountProblem", "InvalidSecurity", "KMS.AccessDeniedException",
    };

    // 4xx codes that mean "try again later" rather than "this request is wrong".
    private static readonly HashSet<string> TransientClientCodes = new(StringComparer.Ordinal)
    {
        "RequestTimeout", "SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequests",
    };

    public static StorageException Map(Exception exception, S3CallContext context)
    {
        ArgumentNullException.ThrowIfNull(exception);
        ArgumentNullException.ThrowIfNull(context);
        return exception switch
        {
            AmazonServiceException service when service.StatusCode != 0 || !string.IsNullOrEmpty(service.ErrorCode) =>
                MapService(service, context),
            _ when FindNetworkFailure(exception) is { } network =>
                new StorageException(StorageFailure.Unreachable, $"cannot reach S3 endpoint {context.Endpoint}: {network.Message}", exception),
            AmazonClientException client when client.Message.Contains("credentials", StringComparison.OrdinalIgnoreCase) =>
                new StorageException(StorageFailure.AccessDenied, $"no usable AWS credentials for {context.Location}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or run where an instance role applies", exception),
            _ => new StorageException(StorageFailure.Other, $"S3 call on {Subject(context)} failed: {exception.Message}", exception),
        };
    }

    private static StorageException MapService(AmazonServiceException e, S3CallContext context)
    {
        var code = e.ErrorCode ?? "";
        var status = (int)e.StatusCode;
        var detail = $"HTTP {status} {code}: {e.Message}";
        if (code == "NoSuchBucket" || (context.Key is null && e.StatusCode == HttpStatusCode.NotFound && code is "" or "NotFound"))
        {
            return new StorageException(StorageFailure.ContainerMissing, $"bucket '{context.Bucket}' does not exist at {context.Endpoint}", e);
        }

        if (AccessDeniedCodes.Contains(code) || e.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized)
        {
            return new StorageException(StorageFailure.AccessDenied, $"access to {Subject(context)} denied ({detail}); check the AWS credentials and their permissions", e);
        }

        if (code == "NoSuchKey" || e.StatusCode == HttpStatusCode.NotFound)
        {
            return new StorageException(StorageFailure.NotFound, $"{Subject(context)} does not exist", e);
        }

        if (TransientClientCodes.Contains(code) || e.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests)
        {
            return new StorageException(StorageFailure.Other, $"S3 kept refusing {Subject(context)} after retries ({detail})", e);
        }

        // 413 EntityTooLarge, 416 InvalidRange, 400 InvalidArgument, 301 wrong region...: the same
        // request will be refused again, so the engine must not retry it.
        if (code == "EntityTooLarge" || status is >= 300 and < 500)
        {
            return new StorageException(StorageFailure.Rejected, $"S3 refused {Subject(context)} ({detail})", e);
        }

        return new StorageException(StorageFailure.Other, $"S3 failed on {Subject(context)} ({detail})", e);
    }

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

    private static string Subject(S3CallContext context) =>
        context.Key is null ? $"bucket '{context.Bucket}'" : $"object '{context.Key}' in bucket '{context.Bucket}'";

}
