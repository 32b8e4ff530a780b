using System.Text.Json;
using Amazon.S3.Model;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Compute;
using SpotDevBox.Tests.Agent;
using TestSupport;
using TestSupport.Ec2;

namespace SpotDevBox.Tests.Cli;

/// <summary>
/// <c>spotdevbox status</c> for the configured boxes flags an agent older than the CLI, from the AgentVersion each
/// box's agent wrote into its status.json on the S3 peer: old runs 0.0.1 (older than any release), new 999.0.0,
/// odd a version that is not SemVer, quiet has no status yet.
/// </summary>
[Collection("s3-controller")]
public sealed class StatusAgentVersionTests(S3PeerFixture peer) : IAsyncLifetime
{
    private static readonly string[] Boxes = ["new", "odd", "old", "quiet"];
    private static readonly SnapshotFloor Floor = new(new string('9', 64), new DateTimeOffset(2026, 3, 2, 12, 0, 0, TimeSpan.Zero));
    private readonly TempDir _temp = new("spotdevbox-status-version-");
    private Ec2QueryEndpoint _ec2 = null!;
    private string _bucket = "";

    public async Task InitializeAsync()
    {
        _ec2 = await Ec2QueryEndpoint.StartAsync();
        _bucket = peer.NewBucketName("status-version");
        await peer.CreateBucketAsync(_bucket);
        var now = TimeProvider.System.GetUtcNow();
        var versions = new Dictionary<string, string> { ["new"] = "999.0.0", ["odd"] = "nightly\u001b[31m", ["old"] = "0.0.1+0123abcd" };
        for (var i = 0; i < Boxes.Length; i++)
        {
            var box = Boxes[i];
            var instanceId = $"i-0{i}00000000000000a";
            _ec2.AddInstance(new SimulatedInstance
            {
                InstanceId = instanceId, StateCode = 16, LaunchTime = now.AddHours(-1), PrivateIpAddress = $"10.0.1.{10 + i}",
                Tags = new Dictionary<string, string> { [BoxTags.Box] = box, [BoxTags.Owner] = "dev" },
            });
            if (box == "old")
            {
                using var s3 = peer.CreateClient();
                await s3.PutObjectAsync(new PutObjectRequest
                {
                    BucketName = _bucket,
                    Key = $"boxes/dev/{box}/control.json",
                    ContentBody = JsonSerializer.Serialize(new ControlDocument { SnapshotFloor = Floor }, BoxJson.Default.ControlDocument),
                });
            }

            if (versions.TryGetValue(box, out var version))
            {
                var status = StatusCommandTests.IdleStatus(now) with { Box = box, InstanceId = instanceId, AgentVersion = version };
                using var s3 = peer.CreateClient();
                await s3.PutObjectAsync(new PutObjectRequest
                {
                    BucketName = _bucket,
                    Key = $"boxes/dev/{box}/status.json",
                    ContentBody = JsonSerializer.Serialize(status, BoxJson.Default.AgentStatus),
                });
            }
        }
    }

    public async Task DisposeAsync()
    {
        await _ec2.DisposeAsync();
        _temp.Dispose();
    }

    [Fact]
    public async Task Status_AgentOlderThanTheCli_MarksThatBoxAloneInTheTable()
    {
        var result = await Cli().RunAsync("status");

        Assert.True(result.ExitCode == 0, result.ToString());
        var agentLines = result.Stdout.Split('\n').Where(l => l.StartsWith("  agent ", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, agentLines.Count);
        Assert.Equal("  agent      999.0.0", agentLines[0]);
        // Shown as the agent wrote it, its control characters made visible, and without a verdict.
        Assert.DoesNotContain("\u001b", agentLines[1], StringComparison.Ordinal);
        Assert.StartsWith("  agent      nightly", agentLines[1], StringComparison.Ordinal);
        Assert.DoesNotContain("older", agentLines[1], StringComparison.Ordinal);
        Assert.Matches(
            @"^  agent      0\.0\.1\+0123abcd ! older than this CLI \([0-9]+\.[0-9]+\.[0-9]+[^)+]*\): publish this version with 'spotdevbox agent publish'; each new instance of the box runs the published build$",
            agentLines[2]);
        // quiet: no status, no agent line; every box still has its row.
        var quiet = result.Stdout[result.Stdout.IndexOf("quiet (dev, us-east-1)", StringComparison.Ordinal)..];
        Assert.DoesNotContain("  agent ", quiet, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StatusJson_FloorInControlJson_ShownAsSnapshotFloorOfThatBoxOnly()
    {
        var result = await Cli().RunAsync("status", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var document = JsonDocument.Parse(result.Stdout);
        var rows = document.RootElement.EnumerateArray().ToDictionary(r => r.GetProperty("box").GetString()!, r => r);
        var floor = rows["old"].GetProperty("snapshot_floor");
        Assert.Equal(new string('9', 64), floor.GetProperty("id").GetString());
        Assert.Equal(Floor.Time, floor.GetProperty("time").GetDateTimeOffset());
        Assert.False(rows["new"].TryGetProperty("snapshot_floor", out _));
        Assert.False(rows["quiet"].TryGetProperty("snapshot_floor", out _));
    }

    [Fact]
    public async Task StatusJson_AgentVersionAsReportedAndWhetherItIsOlderThanTheCli()
    {
        var result = await Cli().RunAsync("status", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var document = JsonDocument.Parse(result.Stdout);
        var rows = document.RootElement.EnumerateArray().ToDictionary(r => r.GetProperty("box").GetString()!, r => r);
        Assert.Equal(Boxes, rows.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(("999.0.0", false), (rows["new"].GetProperty("agent_version").GetString(), rows["new"].GetProperty("agent_outdated").GetBoolean()));
        Assert.Equal(("nightly\u001b[31m", false), (rows["odd"].GetProperty("agent_version").GetString(), rows["odd"].GetProperty("agent_outdated").GetBoolean()));
        Assert.Equal(("0.0.1+0123abcd", true), (rows["old"].GetProperty("agent_version").GetString(), rows["old"].GetProperty("agent_outdated").GetBoolean()));
        Assert.False(rows["quiet"].TryGetProperty("agent_version", out _));
        Assert.False(rows["quiet"].GetProperty("agent_outdated").GetBoolean());
    }

    private SpotDevBoxProcess Cli()
    {
        var config = _temp.Sub("spotdevbox.json");
        var boxes = Boxes.Select(name => $$"""
            "{{name}}": { "Owner": "dev", "Region": "us-east-1", "InstanceTypes": ["m6i.large"], "ImageId": "ami-0123456789abcdef0",
              "Storage": "s3://{{_bucket}}/boxes/dev/{{name}}", "User": "dev" }
            """);
        File.WriteAllText(config, $$"""{ "Controller": { "AgentBuilds": "s3://{{_bucket}}/agent-builds", "Boxes": { {{string.Join(",\n", boxes)}} } } }""");
        return new SpotDevBoxProcess(_temp.Sub("cli"), peer)
            .Set("SPOTDEVBOX_CONFIG", config)
            .Set("SPOTDEVBOX_Storage__EndpointUrl", peer.Endpoint)
            .Set("SPOTDEVBOX_Aws__Ec2__ServiceUrl", _ec2.ServiceUrl.ToString());
    }
}
