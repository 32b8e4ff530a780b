using SpotDevBox.Core.Interruption;
using TestSupport;

namespace SpotDevBox.Tests.Agent;

/// <summary>
/// The real <c>spotdevbox agent run</c> through a whole session (restore, host keys, backups, a spot notice,
/// the stop), with every S3 request it sends passing through a recording gate in front of the S3 peer: each key
/// it writes or deletes is one of the keys the box's role may write (docs/security.md, the S3 layout), and it
/// never writes or deletes control.json or launch.json, which its owner and the controller write for it.
/// </summary>
[Collection("s3")]
public sealed class AgentWritesOnlyItsOwnKeysTests(S3PeerFixture peer)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);

    // A public key in ssh-keygen's format (its private half is not needed: the agent copies files).
    private const string Ed25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJM8Nz4yV2sIrC07ILVxZNJrbJq5WBq8PFxERZsKv+YI";

    /// <summary>What the box writes, under its prefix (the contract of the S3 layout, docs/security.md).</summary>
    private static readonly string[] BoxWrittenPrefixes = ["repo/", "host-keys/", "sessions/", "interruptions/"];
    private static readonly string[] BoxWrittenKeys = ["status.json", "host-keys.pub"];

    [Fact]
    public async Task AgentRun_WholeSessionWithANotice_WritesAndDeletesOnlyTheBoxsOwnKeys()
    {
        await using var box = await AgentHarness.StartAsync(peer);
        var keys = box.TempPath("host-keys");
        Directory.CreateDirectory(keys);
        await File.WriteAllTextAsync(Path.Combine(keys, "ssh_host_ed25519_key"), "-----BEGIN OPENSSH PRIVATE KEY-----\nsecret\n-----END OPENSSH PRIVATE KEY-----\n");
        await File.WriteAllTextAsync(Path.Combine(keys, "ssh_host_ed25519_key.pub"), Ed25519 + " root@ip-10-0-1-23\n");
        box.Settings["Agent:HostKeys"] = "true";
        box.Settings["Agent:HostKeyDirectory"] = keys;
        box.Settings["Agent:ControlPollInterval"] = "00:00:05";
        // The work of an earlier session, so this one restores; and what the owner and the controller wrote for it.
        await File.WriteAllTextAsync(Path.Combine(box.Home, "notes.txt"), "from the last session\n");
        var earlier = await box.Cli.RunAsync("backup", "--repo", box.Repository, "--init", box.Home);
        Assert.True(earlier.ExitCode == 0, earlier.ToString());
        // The host-keys repository does not exist yet: the agent creates it on this first boot, without the bucket's
        // set-up (HeadBucket, lifecycle, versioning), which the gate refuses as the box's role is refused them.
        Directory.Delete(box.Home, recursive: true);
        Directory.CreateDirectory(box.Home);
        var lease = TimeProvider.System.GetUtcNow().AddHours(1).ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        var control = $$"""{"lease_until":"{{lease}}","lease_set_by":"dev","updated_at":"{{lease}}"}""";
        var launch = """{"box":"e2e","session_id":"20261127T072955Z-0a1b2c","claimed_by":"controller","claimed_at":"2026-11-27T07:29:55+00:00","expires_at":"2026-11-27T07:44:55+00:00","instance_id":"i-0123456789abcdef0"}""";
        await box.PutObjectAsync("control.json", control);
        await box.PutObjectAsync("launch.json", launch);

        await using var gate = await S3Gate.StartAsync(peer.Endpoint);
        var bucketPath = "/" + box.Bucket;
        gate.DenyRequest = (method, path, query) => path.TrimEnd('/') == bucketPath
            && (method == "HEAD" || query.Contains("lifecycle", StringComparison.Ordinal) || query.Contains("versioning", StringComparison.Ordinal) || query.Contains("policy", StringComparison.Ordinal));
        box.Cli.Set("SPOTDEVBOX_Storage__EndpointUrl", gate.Endpoint);
        using var agent = await box.StartAgentAsync();
        Assert.Equal("from the last session\n", await File.ReadAllTextAsync(Path.Combine(box.Home, "notes.txt")));
        await File.WriteAllTextAsync(Path.Combine(box.Home, "notes.txt"), "from the last session\nand from this one\n");
        var prefix = $"/{box.Bucket}/boxes/e2e/";
        // It reads what its owner and the controller wrote for it (every Agent:ControlPollInterval).
        for (var i = 0; i < 60 && !gate.Requests.Any(r => r.Method == "GET" && r.Path == prefix + "control.json"); i++)
        {
            await Task.Delay(500);
        }

        Assert.Contains(gate.Requests, r => r.Method == "GET" && r.Path == prefix + "control.json");
        box.Imds.ArmNotice(InstanceActionKind.Terminate, TimeSpan.FromSeconds(60));
        var handled = agent.StderrLineAsync("Interruption handled; waiting for EC2");
        Assert.True(await Task.WhenAny(handled, Task.Delay(Wait)) == handled, agent.Stderr);
        agent.Terminate();
        var exit = await agent.WaitAsync(Wait);
        Assert.True(exit.ExitCode == 0, exit.ToString());

        var writes = gate.Requests.Where(r => r.Method is "PUT" or "POST" or "DELETE").ToList();
        var written = writes
            .SelectMany(r => r.DeletedKeys.Count > 0 ? r.DeletedKeys.Select(k => (r.Method, Key: "/" + box.Bucket + "/" + k)) : [(r.Method, Key: r.Path)])
            .ToList();
        // Every write, delete and multipart upload is under the box's prefix, on a key the box may write.
        Assert.All(written, w => Assert.True(
            w.Key.StartsWith(prefix, StringComparison.Ordinal) && IsBoxWritten(w.Key[prefix.Length..]),
            $"{w.Method} {w.Key} is not a key the box writes"));
        var relative = written.Select(w => w.Key[prefix.Length..]).ToList();
        Assert.DoesNotContain("control.json", relative);
        Assert.DoesNotContain("launch.json", relative);
        // The session did write each kind of its own keys, so the check above covered them.
        Assert.Contains("status.json", relative);
        Assert.Contains("host-keys.pub", relative);
        foreach (var kind in BoxWrittenPrefixes)
        {
            Assert.Contains(relative, k => k.StartsWith(kind, StringComparison.Ordinal));
        }

        // The first boot created the host-keys repository although the bucket's set-up was refused, and said so.
        Assert.Contains(gate.Requests, r => r.Method == "HEAD" && r.Path.TrimEnd('/') == bucketPath && r.Status == 403);
        Assert.Contains("host-keys/config", relative);
        Assert.Contains("without the bucket's set-up", agent.Stderr, StringComparison.Ordinal);

        // What was written for it is as it was.
        Assert.Equal(control, await box.GetObjectAsync("control.json"));
        Assert.Equal(launch, await box.GetObjectAsync("launch.json"));
    }

    private static bool IsBoxWritten(string key) =>
        BoxWrittenKeys.Contains(key, StringComparer.Ordinal) || BoxWrittenPrefixes.Any(p => key.StartsWith(p, StringComparison.Ordinal) && key.Length > p.Length);
}
