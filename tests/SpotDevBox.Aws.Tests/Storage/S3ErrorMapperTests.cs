using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;
using Amazon.S3;
using SpotDevBox.Aws.Storage;
using SpotDevBox.Backup.Storage;

namespace SpotDevBox.Aws.Tests.Storage;

/// <summary>
/// The mapping on the SDK's own exception types, constructed as the SDK raises them. The S3 peer
/// accepts any credentials, so this is where credential errors are covered.
/// </summary>
public sealed class S3ErrorMapperTests
{
    private static readonly S3CallContext ObjectCall = new("backups", "s3://backups/box", "http://127.0.0.1:9000/", "box/data/ab01");
    private static readonly S3CallContext BucketCall = ObjectCall with { Key = null };

    [Theory]
    [InlineData("InvalidAccessKeyId", HttpStatusCode.Forbidden)]
    [InlineData("SignatureDoesNotMatch", HttpStatusCode.Forbidden)]
    [InlineData("AccessDenied", HttpStatusCode.Forbidden)]
    [InlineData("ExpiredToken", HttpStatusCode.BadRequest)]
    [InlineData("", HttpStatusCode.Forbidden)]
    public void Map_CredentialOrPermissionError_IsAccessDenied(string code, HttpStatusCode status)
    {
        var result = S3ErrorMapper.Map(ServiceError(code, status), ObjectCall);

        Assert.Equal(StorageFailure.AccessDenied, result.Failure);
    }

    [Fact]
    public void Map_NoCredentialsFound_IsAccessDenied()
    {
        // The message the SDK's default chain raises when no provider has credentials.
        var e = new AmazonClientException("Failed to resolve AWS credentials. The credential providers used to search for credentials returned the following errors:\n\nException 1 of 4: ...");

        var result = S3ErrorMapper.Map(e, ObjectCall);

        Assert.Equal(StorageFailure.AccessDenied, result.Failure);
        Assert.Contains("credentials", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Map_NoSuchBucket_IsContainerMissingNamingTheBucket()
    {
        var result = S3ErrorMapper.Map(ServiceError("NoSuchBucket", HttpStatusCode.NotFound), ObjectCall);

        Assert.Equal(StorageFailure.ContainerMissing, result.Failure);
        Assert.Contains("bucket 'backups' does not exist", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Map_BodylessNotFoundOnABucketCall_IsContainerMissing()
    {
        // HeadBucket on a missing bucket: 404 without a body, so the SDK reports code "NotFound".
        var result = S3ErrorMapper.Map(ServiceError("NotFound", HttpStatusCode.NotFound), BucketCall);

        Assert.Equal(StorageFailure.ContainerMissing, result.Failure);
    }

    [Fact]
    public void Map_NoSuchKey_IsNotFoundNamingTheKey()
    {
        var result = S3ErrorMapper.Map(ServiceError("NoSuchKey", HttpStatusCode.NotFound), ObjectCall);

        Assert.Equal(StorageFailure.NotFound, result.Failure);
        Assert.Contains("box/data/ab01", result.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("EntityTooLarge", HttpStatusCode.RequestEntityTooLarge)]
    [InlineData("", HttpStatusCode.RequestEntityTooLarge)]
    [InlineData("EntityTooLarge", HttpStatusCode.BadRequest)]
    [InlineData("InvalidRange", HttpStatusCode.RequestedRangeNotSatisfiable)]
    [InlineData("InvalidArgument", HttpStatusCode.BadRequest)]
    [InlineData("PermanentRedirect", HttpStatusCode.MovedPermanently)]
    public void Map_RequestTheServiceWillAlwaysRefuse_IsRejected(string code, HttpStatusCode status)
    {
        var result = S3ErrorMapper.Map(ServiceError(code, status), ObjectCall);

        Assert.Equal(StorageFailure.Rejected, result.Failure);
    }

    [Theory]
    [InlineData("InternalError", HttpStatusCode.InternalServerError)]
    [InlineData("SlowDown", HttpStatusCode.ServiceUnavailable)]
    [InlineData("RequestTimeout", HttpStatusCode.BadRequest)]
    [InlineData("", HttpStatusCode.TooManyRequests)]
    public void Map_ServerOrThrottlingError_IsOther(string code, HttpStatusCode status)
    {
        var result = S3ErrorMapper.Map(ServiceError(code, status), ObjectCall);

        Assert.Equal(StorageFailure.Other, result.Failure);
    }

    [Fact]
    public void Map_ConnectionRefused_IsUnreachableNamingTheEndpoint()
    {
        var e = new HttpRequestException("Connection refused (127.0.0.1:9000)", new SocketException((int)SocketError.ConnectionRefused));

        var result = S3ErrorMapper.Map(e, ObjectCall);

        Assert.Equal(StorageFailure.Unreachable, result.Failure);
        Assert.Contains("http://127.0.0.1:9000/", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Map_DnsFailureInsideAnSdkException_IsUnreachable()
    {
        var e = new AmazonClientException("request failed", new HttpRequestException("Name or service not known", new SocketException((int)SocketError.HostNotFound)));

        Assert.Equal(StorageFailure.Unreachable, S3ErrorMapper.Map(e, ObjectCall).Failure);
    }

    [Fact]
    public void Map_HttpClientTimeout_IsUnreachable()
    {
        var e = new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout of 120 seconds elapsing.", new TimeoutException());

        Assert.Equal(StorageFailure.Unreachable, S3ErrorMapper.Map(e, ObjectCall).Failure);
    }

    [Fact]
    public void Map_AnythingElse_IsOtherAndKeepsTheCause()
    {
        var cause = new InvalidOperationException("surprise");

        var result = S3ErrorMapper.Map(cause, ObjectCall);

        Assert.Equal(StorageFailure.Other, result.Failure);
        Assert.Same(cause, result.InnerException);
    }

    private static AmazonS3Exception ServiceError(string code, HttpStatusCode status) =>
        new($"{code} from the service", ErrorType.Sender, code, "request-id", status);
}
