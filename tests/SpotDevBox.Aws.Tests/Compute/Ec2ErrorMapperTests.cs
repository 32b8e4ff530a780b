using Amazon.Runtime;
using SpotDevBox.Aws.Compute;
using SpotDevBox.Core.Compute;

namespace SpotDevBox.Aws.Tests.Compute;

/// <summary>Failures that never reach the wire, so the endpoint cannot produce them.</summary>
public sealed class Ec2ErrorMapperTests
{
    private static readonly AmazonClientException NoCredentials =
        new("Failed to resolve AWS credentials. The credential providers used to search for credentials returned the following errors: ...");

    [Fact]
    public void MapLaunch_NoCredentials_IsUnauthorizedSayingHowToProvideThem()
    {
        var outcome = Ec2ErrorMapper.MapLaunch(NoCredentials, "us-east-1");

        Assert.Contains("AWS_PROFILE", Assert.IsType<LaunchOutcome.Unauthorized>(outcome).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Map_NoCredentials_IsUnauthorized()
    {
        var e = Ec2ErrorMapper.Map(NoCredentials, "DescribeInstances", "us-east-1");

        Assert.Equal(ComputeFailure.Unauthorized, e.Failure);
        Assert.Same(NoCredentials, e.InnerException);
    }

    [Fact]
    public void MapLaunch_TimeoutWithoutCallerCancellation_IsIndeterminate()
    {
        var outcome = Ec2ErrorMapper.MapLaunch(new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout"), "us-east-1");

        Assert.IsType<LaunchOutcome.Indeterminate>(outcome);
    }

    [Fact]
    public async Task Gateway_NoCredentialsAnywhere_FailsOnTheCallNotOnConstruction()
    {
        var attempts = 0;
        using var gateway = new Ec2ComputeGateway(() => { attempts++; throw NoCredentials; }, "us-east-1");

        var e = await Assert.ThrowsAsync<ComputeException>(() => gateway.FindBoxInstancesAsync(null, CancellationToken.None));
        var outcome = await gateway.LaunchAsync(new LaunchRequest
        {
            Box = "b",
            Owner = "o",
            SessionId = "s",
            InstanceType = "m6i.large",
            ImageId = "ami-1",
            RootVolume = new RootVolume("/dev/xvda", 8),
            ClientToken = "t",
        }, CancellationToken.None);

        Assert.Equal(ComputeFailure.Unauthorized, e.Failure);
        Assert.IsType<LaunchOutcome.Unauthorized>(outcome);
        Assert.Equal(2, attempts);
    }
}
