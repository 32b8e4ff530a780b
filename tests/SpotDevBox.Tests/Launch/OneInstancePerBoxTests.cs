using Amazon.EC2;
using Amazon.EC2.Model;
using PutObjectRequest = Amazon.S3.Model.PutObjectRequest;
using SpotDevBox.Core.Compute;
using TestSupport;

namespace SpotDevBox.Tests.Launch;

/// <summary>
/// Two real <c>spotdevbox up</c> processes at the same moment, as from two laptops, against moto: EC2 and the box's
/// storage (S3, with conditional writes) both on moto, an independent implementation of the AWS APIs. Exactly
/// one instance must start, and both must name it (docs/controller.md, "One instance per box"). Likewise a
/// `controller run` whose first pass launches the box and an `up` started with it.
/// </summary>
[Collection("moto")]
public sealed class OneInstancePerBoxTests(MotoFixture moto) : IAsyncLifetime
{
    private const string Bucket = "oneup";
    private readonly TempDir _temp = new("spotdevbox-oneup-");
    private string _securityGroup = "";

    public async Task InitializeAsync()
    {
        await moto.ResetAsync();
        await moto.CreateBucketAsync(Bucket);
        using (var ec2 = Ec2())
        {
            _securityGroup = (await ec2.CreateSecurityGroupAsync(new CreateSecurityGroupRequest { GroupName = "spotdevbox-box", Description = "boxes" })).GroupId;
        }

        // What `spotdevbox agent publish` writes: the box pins this SHA-256 in its user data.
        using var s3 = moto.CreateS3Client();
        await s3.PutObjectAsync(new PutObjectRequest
        {
            BucketName = Bucket,
            Key = "agent-builds/manifest.json",
            ContentBody = $$"""
                {"version":"1.0.0-test","published_at":"2026-11-27T00:00:00Z","builds":[
                  {"rid":"linux-x64","architecture":"x86_64","key":"1.0.0-test/spotdevbox-linux-x64.tar.gz","sha256":"{{new string('a', 64)}}","size":1}]}
                """,
        });
    }

    public Task DisposeAsync()
    {
        _temp.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Up_TwoAtTheSameMomentFiveRoundsOver_StartOneInstanceAndBothNameIt()
    {
        var cli = Cli();
        using var ec2 = Ec2();
        for (var round = 1; round <= 5; round++)
        {
            var both = await Task.WhenAll(cli.RunAsync("up", "alice", "--no-wait"), cli.RunAsync("up", "alice", "--no-wait"));

            Assert.All(both, r => Assert.True(r.ExitCode == 0, $"round {round}: {r}"));
            var live = await LiveInstancesAsync(ec2);
            Assert.True(live.Count == 1, $"round {round}: {live.Count} live instances ({string.Join(", ", live)}):\n{both[0]}\n{both[1]}");
            Assert.Equal([live[0], live[0]], both.Select(r => r.Stdout.Trim()));

            // Ended between rounds (a `down`): the next round must launch again, once.
            await ec2.TerminateInstancesAsync(new TerminateInstancesRequest { InstanceIds = [live[0]] });
        }

        var all = await ec2.DescribeInstancesAsync(new DescribeInstancesRequest { Filters = [new Filter("tag:" + BoxTags.Box, ["alice"])] });
        Assert.Equal(5, all.Reservations.SelectMany(r => r.Instances).Count());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public async Task ControllerRunAndUp_StartedTogether_StartOneInstance(int attempt)
    {
        var cli = Cli();
        using var ec2 = Ec2();

        // The box's schedule is up around the clock: the controller's first pass wants to launch it too.
        using var controller = cli.Start("controller", "run");
        var up = await cli.RunAsync("up", "alice", "--no-wait");
        var pass = controller.StderrLineAsync("Box alice: ");
        Assert.True(await Task.WhenAny(pass, Task.Delay(TimeSpan.FromSeconds(60))) == pass, $"attempt {attempt}: no decision logged:\n{controller.Stderr}");
        controller.Terminate();
        var stopped = await controller.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(up.ExitCode == 0, $"attempt {attempt}: {up}");
        var live = await LiveInstancesAsync(ec2);
        Assert.True(live.Count == 1, $"attempt {attempt}: {live.Count} live instances ({string.Join(", ", live)}):\n{up}\n{stopped}");
        Assert.Equal(live[0], up.Stdout.Trim());
    }

    private static async Task<List<string>> LiveInstancesAsync(AmazonEC2Client ec2)
    {
        var response = await ec2.DescribeInstancesAsync(new DescribeInstancesRequest
        {
            Filters = [new Filter("tag:" + BoxTags.Box, ["alice"]), new Filter("instance-state-name", ["pending", "running"])],
        });
        return [.. (response.Reservations ?? []).SelectMany(r => r.Instances ?? []).Select(i => i.InstanceId)];
    }

    private AmazonEC2Client Ec2() =>
        new(S3PeerFixture.Credentials, new AmazonEC2Config { ServiceURL = moto.Endpoint, AuthenticationRegion = MotoFixture.Region });

    private SpotDevBoxProcess Cli()
    {
        var config = _temp.Sub("spotdevbox.json");
        File.WriteAllText(config, $$"""
            {
              "Logging": { "File": "off" },
              "Controller": {
                "AgentBuilds": "s3://{{Bucket}}/agent-builds",
                "Fleet": { "Region": "us-east-1", "StorageRoot": "s3://{{Bucket}}/boxes", "RepositoryKeyArn": "arn:aws:kms:us-east-1:123456789012:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0" },
                "Database": "{{_temp.Sub("state/controller.db")}}",
                "Boxes": {
                  "alice": {
                    "Owner": "alice", "Region": "us-east-1", "InstanceTypes": ["m5.large"],
                    "ImageId": "ami-760aaa0f", "SecurityGroups": ["{{_securityGroup}}"], "MaxPrice": 5,
                    "Storage": "s3://{{Bucket}}/boxes/alice/alice", "User": "alice",
                    "Schedule": { "TimeZone": "UTC", "Periods": ["daily 00:00-24:00"] }
                  }
                }
              }
            }
            """);
        return new SpotDevBoxProcess(_temp.Sub("cli"))
            .Set("AWS_ACCESS_KEY_ID", S3PeerFixture.AccessKey)
            .Set("AWS_SECRET_ACCESS_KEY", S3PeerFixture.SecretKey)
            .Set("AWS_REGION", MotoFixture.Region)
            .Set("SPOTDEVBOX_CONFIG", config)
            .Set("SPOTDEVBOX_Storage__EndpointUrl", moto.Endpoint)
            .Set("SPOTDEVBOX_Aws__Ec2__ServiceUrl", moto.Endpoint);
    }
}
