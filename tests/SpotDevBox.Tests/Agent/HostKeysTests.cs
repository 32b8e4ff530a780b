using TestSupport;

namespace SpotDevBox.Tests.Agent;

/// <summary>
/// The agent's SSH host keys: the first boot saves them, a later boot (a new instance with keys of its own)
/// restores them, and after either the box's prefix holds host-keys.pub with the public halves of the keys
/// now in place, one "&lt;keytype&gt; &lt;base64&gt;" line each, for ssh-config to pin.
/// </summary>
[Collection("s3")]
public sealed class HostKeysTests(S3PeerFixture peer)
{
    // Generated once with ssh-keygen for these tests; the comment is what a cloud image's keys carry.
    private const string Ed25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJM8Nz4yV2sIrC07ILVxZNJrbJq5WBq8PFxERZsKv+YI";
    private const string Ecdsa = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBAKu16kmyDq3H+HuIASZf0/gIjokI2d5z3KyIGiCd//wuo5w/lOutoGeHkLm/Ps2k89C8SSOZInCBYvXQa8+FcM=";
    private const string OtherEd25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINQC3WW6Xi2fTKp13w2qoGQDW1NbtXHHNk+ZGnuhWMqK";

    [Fact]
    public async Task AgentRun_FirstBoot_PublishesThePublicKeysOnly()
    {
        await using var box = await AgentHarness.StartAsync(peer);
        var keys = HostKeyDirectory(box, "keys-first");
        WriteKey(keys, "ed25519", Ed25519 + " root@ip-10-0-1-23", "first-instance-ed25519-secret");
        WriteKey(keys, "ecdsa", Ecdsa + " root@ip-10-0-1-23", "first-instance-ecdsa-secret");
        // A private key without its public half: nothing of it may reach host-keys.pub.
        await File.WriteAllTextAsync(Path.Combine(keys, "ssh_host_rsa_key"), PrivateKey("first-instance-rsa-secret"));

        using var agent = await box.StartAgentAsync();

        var published = await box.GetObjectAsync("host-keys.pub");
        Assert.Equal(Ecdsa + "\n" + Ed25519 + "\n", published);
        Assert.DoesNotContain("PRIVATE", published, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", published, StringComparison.Ordinal);
        Assert.NotEmpty(await box.ListAsync("host-keys/snapshots/"));
        Assert.Contains("Published 2 SSH host public keys", agent.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AgentRun_LaterBootWithNewKeys_RestoresAndPublishesTheSavedKeys()
    {
        await using var box = await AgentHarness.StartAsync(peer);
        var keys = HostKeyDirectory(box, "keys-first");
        WriteKey(keys, "ed25519", Ed25519 + " root@ip-10-0-1-23", "first-instance-ed25519-secret");
        WriteKey(keys, "ecdsa", Ecdsa + " root@ip-10-0-1-23", "first-instance-ecdsa-secret");
        using (var first = await box.StartAgentAsync())
        {
            first.Terminate();
            var stopped = await first.WaitAsync(TimeSpan.FromSeconds(90));
            Assert.True(stopped.ExitCode == 0, stopped.ToString());
        }

        await box.DeleteObjectAsync("host-keys.pub");
        // The next instance: its image generated an ed25519 key of its own, and no ecdsa key.
        var next = HostKeyDirectory(box, "keys-next");
        WriteKey(next, "ed25519", OtherEd25519 + " root@ip-10-0-2-99", "next-instance-ed25519-secret");

        using var agent = await box.StartAgentAsync(stateDirectory: box.TempPath("state-next"));

        Assert.Equal(Ecdsa + "\n" + Ed25519 + "\n", await box.GetObjectAsync("host-keys.pub"));
        Assert.Equal(Ed25519 + " root@ip-10-0-1-23\n", await File.ReadAllTextAsync(Path.Combine(next, "ssh_host_ed25519_key.pub")));
        Assert.Contains("Restored 4 SSH host key files", agent.Stderr, StringComparison.Ordinal);
    }

    private static string HostKeyDirectory(AgentHarness box, string name)
    {
        var directory = box.TempPath(name);
        Directory.CreateDirectory(directory);
        box.Settings["Agent:HostKeys"] = "true";
        box.Settings["Agent:HostKeyDirectory"] = directory;
        return directory;
    }

    private static void WriteKey(string directory, string type, string publicLine, string secret)
    {
        File.WriteAllText(Path.Combine(directory, $"ssh_host_{type}_key"), PrivateKey(secret));
        File.WriteAllText(Path.Combine(directory, $"ssh_host_{type}_key.pub"), publicLine + "\n");
    }

    private static string PrivateKey(string secret) =>
        $"-----BEGIN OPENSSH PRIVATE KEY-----\n{secret}\n-----END OPENSSH PRIVATE KEY-----\n";
}
