using System.Text.Json;
using Amazon.S3.Model;
using SpotDevBox.Core.Agent;
using TestSupport;

namespace SpotDevBox.Tests.Agent;

/// <summary>
/// <c>keepalive --box</c> and <c>status --box</c> from elsewhere: they read and write the box's
/// control.json and status.json on the S3 peer, as the agent and the controller do.
/// </summary>
[Collection("s3")]
public sealed class KeepaliveAndStatusRemoteTests : IDisposable
{
    private readonly S3PeerFixture _peer;
    private readonly TempDir _temp = new("spotdevbox-remote-");
    private readonly SpotDevBoxProcess _cli;

    public KeepaliveAndStatusRemoteTests(S3PeerFixture peer)
    {
        _peer = peer;
        _cli = new SpotDevBoxProcess(_temp.Sub("cli"), peer)
            .Set("SPOTDEVBOX_Storage__EndpointUrl", peer.Endpoint)
            .Set("SPOTDEVBOX_Agent__RunDirectory", _temp.Sub("run"))
            .Set("SUDO_USER", "alice");
    }

    [Fact]
    public async Task KeepaliveBox_ExistingStop_SetsLeaseAndKeepsTheStop()
    {
        var bucket = await NewBucketAsync();
        var stopAt = new DateTimeOffset(2025, 6, 2, 19, 0, 0, TimeSpan.Zero);
        await PutAsync(bucket, "boxes/x/control.json", JsonSerializer.SerializeToUtf8Bytes(
            new ControlDocument { StopAt = stopAt, StopReason = "schedule", RequestedBy = "controller", UpdatedAt = stopAt.AddHours(-1) },
            BoxJson.Default.ControlDocument));
        var before = TimeProvider.System.GetUtcNow();

        var result = await _cli.RunAsync("keepalive", "2h", "--note", "x", "--box", $"s3://{bucket}/boxes/x");
        var after = TimeProvider.System.GetUtcNow();

        Assert.True(result.ExitCode == 0, result.ToString());
        var control = BoxJson.Parse(await GetAsync(bucket, "boxes/x/control.json"), BoxJson.Default.ControlDocument, "control.json");
        Assert.Equal(stopAt, control.StopAt);
        Assert.Equal("schedule", control.StopReason);
        Assert.Equal("controller", control.RequestedBy);
        Assert.NotNull(control.LeaseUntil);
        Assert.InRange(control.LeaseUntil.Value, before.AddHours(2).AddSeconds(-1), after.AddHours(2));
        Assert.Equal("alice", control.LeaseSetBy);
        Assert.Equal("x", control.LeaseNote);
        Assert.InRange(control.UpdatedAt, before.AddSeconds(-1), after);
        Assert.StartsWith($"s3://{bucket}/boxes/x: lease until ", result.Stdout, StringComparison.Ordinal);
        Assert.EndsWith(" UTC (set by alice: 'x'); the agent reads it within a minute\n", result.Stdout, StringComparison.Ordinal);
        // Nothing on this machine: the lease is the box's.
        Assert.False(File.Exists(Path.Combine(_temp.Sub("run"), "lease", "lease.json")));
    }

    [Fact]
    public async Task KeepaliveBox_NoControlDocument_CreatesOneWithOnlyTheLease()
    {
        var bucket = await NewBucketAsync();

        var result = await _cli.RunAsync("keepalive", "45m", "--box", $"s3://{bucket}/boxes/x");

        Assert.True(result.ExitCode == 0, result.ToString());
        var control = BoxJson.Parse(await GetAsync(bucket, "boxes/x/control.json"), BoxJson.Default.ControlDocument, "control.json");
        Assert.Null(control.StopAt);
        Assert.NotNull(control.LeaseUntil);
        Assert.Null(control.LeaseNote);
    }

    [Fact]
    public async Task KeepaliveBoxCancel_ClearsTheLeaseAndKeepsTheStop()
    {
        var bucket = await NewBucketAsync();
        var stopAt = new DateTimeOffset(2025, 6, 2, 19, 0, 0, TimeSpan.Zero);
        await PutAsync(bucket, "boxes/x/control.json", JsonSerializer.SerializeToUtf8Bytes(
            new ControlDocument { StopAt = stopAt, StopReason = "manual", LeaseUntil = stopAt.AddHours(5), LeaseSetBy = "bob", LeaseNote = "demo" },
            BoxJson.Default.ControlDocument));

        var result = await _cli.RunAsync("keepalive", "--cancel", "--box", $"s3://{bucket}/boxes/x");

        Assert.True(result.ExitCode == 0, result.ToString());
        var control = BoxJson.Parse(await GetAsync(bucket, "boxes/x/control.json"), BoxJson.Default.ControlDocument, "control.json");
        Assert.Equal(stopAt, control.StopAt);
        Assert.Equal("manual", control.StopReason);
        Assert.Null(control.LeaseUntil);
        Assert.Null(control.LeaseSetBy);
        Assert.Null(control.LeaseNote);
        Assert.Equal($"lease cancelled in s3://{bucket}/boxes/x/control.json\n", result.Stdout);
    }

    [Fact]
    public async Task StatusBox_ReadsTheRemoteStatus()
    {
        var bucket = await NewBucketAsync();
        var status = StatusCommandTests.IdleStatus(TimeProvider.System.GetUtcNow());
        await PutAsync(bucket, "boxes/x/status.json", JsonSerializer.SerializeToUtf8Bytes(status, BoxJson.Default.AgentStatus));

        var result = await _cli.RunAsync("status", "--box", $"s3://{bucket}/boxes/x");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("alice: running — idle for 23 min, stopping in 7 min", lines[0]);
        Assert.Matches(@"^  snapshot   01234567, 5m 0\ds ago$", lines[2]);
        Assert.Empty(result.Stderr);
    }

    [Fact]
    public async Task StatusBoxJson_RoundTripsTheRemoteDocument()
    {
        var bucket = await NewBucketAsync();
        var status = StatusCommandTests.IdleStatus(TimeProvider.System.GetUtcNow()) with { Notice = "stop at 2025-06-02 09:10:00Z" };
        await PutAsync(bucket, "boxes/x/status.json", JsonSerializer.SerializeToUtf8Bytes(status, BoxJson.Default.AgentStatus));

        var result = await _cli.RunAsync("status", "--box", $"s3://{bucket}/boxes/x", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var parsed = JsonSerializer.Deserialize(result.Stdout, BoxJson.Default.AgentStatus)!;
        Assert.Equal(status, parsed with { AwakeReasons = status.AwakeReasons });
    }

    [Fact]
    public async Task StatusBox_NoStatusYet_ExitsTwoSayingNoAgentEverReported()
    {
        var bucket = await NewBucketAsync();

        var result = await _cli.RunAsync("status", $"s3://{bucket}/boxes/x");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal($"spotdevbox: no status in s3://{bucket}/boxes/x: no agent ever reported there; check the box's name or prefix", Assert.Single(result.StderrLines));
        Assert.Empty(result.Stdout);
    }

    public void Dispose() => _temp.Dispose();

    private async Task<string> NewBucketAsync()
    {
        var bucket = _peer.NewBucketName("box");
        await _peer.CreateBucketAsync(bucket);
        return bucket;
    }

    private async Task PutAsync(string bucket, string key, byte[] content)
    {
        using var s3 = _peer.CreateClient();
        using var stream = new MemoryStream(content);
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, InputStream = stream });
    }

    private async Task<byte[]> GetAsync(string bucket, string key)
    {
        using var s3 = _peer.CreateClient();
        using var response = await s3.GetObjectAsync(bucket, key);
        using var buffer = new MemoryStream();
        await response.ResponseStream.CopyToAsync(buffer);
        return buffer.ToArray();
    }
}
