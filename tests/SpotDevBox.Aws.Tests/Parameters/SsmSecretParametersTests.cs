using Amazon;
using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;
using SpotDevBox.Aws.Parameters;
using SpotDevBox.Core.Agent;
using TestSupport;

namespace SpotDevBox.Aws.Tests.Parameters;

/// <summary>The SSM adapter against moto: a SecureString comes back decrypted; a missing one, or no SSM at all, is an outcome whose reason holds no value.</summary>
[Collection("moto")]
public sealed class SsmSecretParametersTests(MotoFixture moto) : IAsyncLifetime
{
    private const string Secret = "https://hooks.example.com/services/T000/B000/SECRETPATH";

    public Task InitializeAsync() => moto.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task ReadAsync_SecureString_ReturnsTheDecryptedValue()
    {
        using (var ssm = new AmazonSimpleSystemsManagementClient(S3PeerFixture.Credentials, new AmazonSimpleSystemsManagementConfig { ServiceURL = moto.Endpoint, AuthenticationRegion = MotoFixture.Region }))
        {
            await ssm.PutParameterAsync(new PutParameterRequest { Name = "/spotdevbox/alice/webhook", Value = Secret, Type = ParameterType.SecureString });
        }

        using var parameters = Parameters(moto.Endpoint);

        var read = await parameters.ReadAsync("/spotdevbox/alice/webhook", CancellationToken.None);

        Assert.Equal((SecretParameterOutcome.Found, Secret), (read.Outcome, read.Value));
    }

    [Fact]
    public async Task ReadAsync_Missing_NotFoundWithTheErrorCode()
    {
        using var parameters = Parameters(moto.Endpoint);

        var read = await parameters.ReadAsync("/spotdevbox/alice/webhook", CancellationToken.None);

        Assert.Equal(new SecretParameter(SecretParameterOutcome.NotFound, null, "ParameterNotFound"), read);
    }

    [Fact]
    public async Task ReadAsync_NothingListens_FailedNamingNoAddress()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var parameters = Parameters($"http://127.0.0.1:{port}");

        var read = await parameters.ReadAsync("/spotdevbox/alice/webhook", CancellationToken.None);

        Assert.Equal(SecretParameterOutcome.Failed, read.Outcome);
        Assert.Null(read.Value);
        Assert.DoesNotContain(port.ToString(System.Globalization.CultureInfo.InvariantCulture), read.Reason, StringComparison.Ordinal);
    }

    private static SsmSecretParameters Parameters(string endpoint) =>
        new(name => name == "AWS_ENDPOINT_URL_SSM" ? endpoint : null, _ => RegionEndpoint.GetBySystemName(MotoFixture.Region), S3PeerFixture.Credentials);
}
