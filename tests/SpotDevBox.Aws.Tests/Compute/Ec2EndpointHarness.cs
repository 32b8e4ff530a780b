using Amazon.Runtime;
using Microsoft.Extensions.Time.Testing;
using SpotDevBox.Aws.Compute;
using SpotDevBox.Core.Compute;
using TestSupport.Ec2;

namespace SpotDevBox.Aws.Tests.Compute;

/// <summary>
/// A fresh EC2 query endpoint per test and the real SDK client pointed at it (us-east-1, made-up
/// credentials). Retries are off unless a test asks for them, so scripted errors never wait through
/// the SDK's backoff.
/// </summary>
public abstract class Ec2EndpointHarness : IAsyncLifetime
{
    protected static readonly DateTimeOffset Now = new(2026, 11, 27, 10, 0, 0, TimeSpan.Zero);

    private readonly List<Ec2ComputeGateway> _gateways = [];

    protected FakeTimeProvider Time { get; } = new(Now);

    protected Ec2QueryEndpoint Endpoint { get; private set; } = null!;

    public async Task InitializeAsync() => Endpoint = await Ec2QueryEndpoint.StartAsync(Time);

    public async Task DisposeAsync()
    {
        foreach (var gateway in _gateways)
        {
            gateway.Dispose();
        }

        await Endpoint.DisposeAsync();
    }

    protected IComputeGateway Gateway(int maxErrorRetry = 0)
    {
        var gateway = Ec2ComputeGatewayFactory.Create(
            "us-east-1",
            new Ec2GatewayOptions(Endpoint.ServiceUrl.ToString(), maxErrorRetry),
            new BasicAWSCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"));
        _gateways.Add(gateway);
        return gateway;
    }

    protected static LaunchRequest Launch(
        string instanceType = "m6i.large",
        string? subnetId = "subnet-0aaa1111",
        InstanceLifecycle market = InstanceLifecycle.Spot,
        decimal? maxPrice = null) =>
        new()
        {
            Box = "alice-dev",
            Owner = "alice",
            SessionId = "2026-11-27T08-30-00Z",
            InstanceType = instanceType,
            ImageId = "ami-0abcdef1234567890",
            SubnetId = subnetId,
            SecurityGroupIds = ["sg-0123", "sg-0456"],
            KeyName = "alice-laptop",
            InstanceProfile = "spotdevbox-box",
            RootVolume = new RootVolume("/dev/xvda", 40, "gp3"),
            Market = market,
            MaxPricePerHour = maxPrice,
            UserData = "#cloud-config\nruncmd:\n  - [ systemctl, start, spotdevbox-agent ]\n",
            Tags = new Dictionary<string, string> { ["team"] = "platform" },
            ClientToken = ClientTokens.Derive("alice-dev", "2026-11-27T08-30-00Z", instanceType, subnetId ?? "", market),
        };
}
