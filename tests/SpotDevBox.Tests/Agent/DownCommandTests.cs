using System.Text.Json;
using Amazon.S3.Model;
using SpotDevBox.Core.Agent;
using TestSupport;

namespace SpotDevBox.Tests.Agent;

/// <summary>spotdevbox down: a stop request in the box's control document, by box name or prefix.</summary>
[Collection("s3")]
public sealed class DownCommandTests(S3PeerFixture peer) : IDisposable
{
    private readonly TempDir _temp = new("spotdevbox-down-");

    [Fact]
    public async Task Down_ConfiguredBoxName_WritesAManualStopAndDropsTheLease()
    {
        var bucket = peer.NewBucketName("down");
        await peer.CreateBucketAsync(bucket);
        using (var s3 = peer.CreateClient())
        {
            var existing = new ControlDocument { LeaseUntil = new DateTimeOffset(2099, 1, 1, 0, 0, 0, TimeSpan.Zero), LeaseSetBy = "bob" };
            await s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "boxes/alice/alice/control.json", ContentBody = JsonSerializer.Serialize(existing, BoxJson.Default.ControlDocument) });
            // Its agent has reported: there is something to stop.
            await s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "boxes/alice/alice/status.json", ContentBody = "{}" });
        }

        var config = Path.Combine(_temp.Path, "controller.json");
        await File.WriteAllTextAsync(config, $$"""
            { "Controller": { "AgentBuilds": "s3://{{bucket}}/agent", "Boxes": { "alice": { "Owner": "alice", "Region": "eu-central-1", "InstanceTypes": ["m7i.large"],
              "ImageId": "ami-0123456789abcdef0", "Storage": "s3://{{bucket}}/boxes/alice/alice", "User": "alice" } } } }
            """);
        var cli = new SpotDevBoxProcess(_temp.Sub("cli"), peer).Set("SPOTDEVBOX_Storage__EndpointUrl", peer.Endpoint).Set("SUDO_USER", "carol");
        var before = TimeProvider.System.GetUtcNow();

        var result = await cli.RunAsync(["down", "--box", "alice", "--note", "done for today"], new Dictionary<string, string?> { ["SPOTDEVBOX_CONFIG"] = config });
        var after = TimeProvider.System.GetUtcNow();

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith($"asked s3://{bucket}/boxes/alice/alice to stop", result.Stdout, StringComparison.Ordinal);
        using var client = peer.CreateClient();
        using var response = await client.GetObjectAsync(bucket, "boxes/alice/alice/control.json");
        using var reader = new StreamReader(response.ResponseStream);
        var control = JsonSerializer.Deserialize(await reader.ReadToEndAsync(), BoxJson.Default.ControlDocument)!;
        Assert.InRange(control.StopAt!.Value, before.AddSeconds(-1), after.AddSeconds(1));
        Assert.Equal("manual", control.StopReason);
        Assert.Equal("carol: done for today", control.RequestedBy);
        Assert.Null(control.LeaseUntil);
    }

    [Fact]
    public async Task Down_S3PrefixWhereNoAgentEverReported_Exit2AndWritesNothing()
    {
        var bucket = peer.NewBucketName("downtypo");
        await peer.CreateBucketAsync(bucket);
        var cli = new SpotDevBoxProcess(_temp.Sub("cli"), peer).Set("SPOTDEVBOX_Storage__EndpointUrl", peer.Endpoint);

        var result = await cli.RunAsync("down", "--box", $"s3://{bucket}/boxes/typo");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal($"spotdevbox: nothing runs at s3://{bucket}/boxes/typo: no agent ever reported there (no status.json); check the box's name or prefix; nothing was written", result.Stderr.Trim());
        Assert.Empty(result.Stdout);
        using var client = peer.CreateClient();
        var listed = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket });
        Assert.Empty(listed.S3Objects ?? []);
    }

    [Fact]
    public async Task Down_LocalPrefixWhereNoAgentEverReported_Exit2AndWritesNothing()
    {
        var prefix = _temp.Sub("boxes");
        Directory.CreateDirectory(prefix);
        var typo = Path.Combine(prefix, "alcie");

        var result = await new SpotDevBoxProcess(_temp.Sub("cli")).RunAsync("down", "--box", typo);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal($"spotdevbox: nothing runs at {typo}: no agent ever reported there (no status.json); check the box's name or prefix; nothing was written", result.Stderr.Trim());
        Assert.Empty(Directory.GetFileSystemEntries(prefix));
    }

    [Fact]
    public async Task Down_LocalPrefixWhereTheAgentReported_AsksItToStop()
    {
        var box = _temp.Sub("box");
        Directory.CreateDirectory(box);
        await File.WriteAllTextAsync(Path.Combine(box, "status.json"), "{}");

        var result = await new SpotDevBoxProcess(_temp.Sub("cli")).RunAsync("down", "--box", box);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith($"asked {box} to stop", result.Stdout, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(box, "control.json")));
    }

    [Fact]
    public async Task DownUntil_UnderAnExplicitTimeZone_PrintsTheLocalTimeWithItsOffset()
    {
        var bucket = peer.NewBucketName("downtz");
        await peer.CreateBucketAsync(bucket);
        var config = Path.Combine(_temp.Path, "controller.json");
        await File.WriteAllTextAsync(config, $$"""
            { "Controller": { "AgentBuilds": "s3://{{bucket}}/agent", "Boxes": { "alice": { "Owner": "alice", "Region": "eu-central-1", "InstanceTypes": ["m7i.large"],
              "ImageId": "ami-0123456789abcdef0", "Storage": "s3://{{bucket}}/boxes/alice/alice", "User": "alice",
              "Schedule": { "TimeZone": "Europe/Berlin", "Periods": ["Mon-Fri 09:00-18:00"] } } } } }
            """);
        var cli = new SpotDevBoxProcess(_temp.Sub("cli"), peer).Set("SPOTDEVBOX_Storage__EndpointUrl", peer.Endpoint);

        // 2099-01-05 is a Monday: its first start is 09:00 in Berlin (CET, +01:00) = 08:00 UTC = 13:30 in Kolkata (+05:30).
        var result = await cli.RunAsync(["down", "--box", "alice", "--until", "2099-01-05"], new Dictionary<string, string?> { ["SPOTDEVBOX_CONFIG"] = config, ["TZ"] = "Asia/Kolkata" });

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("it stays down until Mon 2099-01-05 13:30 +05:30 (the controller will not start it before", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Down_UnknownBoxName_Exit2NamingIt()
    {
        var cli = new SpotDevBoxProcess(_temp.Sub("cli"), peer);

        var result = await cli.RunAsync("down", "--box", "nobody");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("spotdevbox: there is no box 'nobody' (none is configured (Controller:Boxes)); name one, or give its storage prefix s3://bucket/ROOT/OWNER/BOX", result.Stderr.Trim());
    }

    [Fact]
    public async Task Down_NoBox_Exit2()
    {
        var result = await new SpotDevBoxProcess(_temp.Sub("cli")).RunAsync("down");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("name the box", result.Stderr, StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();
}
