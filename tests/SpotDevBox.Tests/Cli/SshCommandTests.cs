using System.Runtime.Versioning;
using Amazon.S3.Model;
using SpotDevBox.Core.Compute;
using TestSupport;
using TestSupport.Ec2;

namespace SpotDevBox.Tests.Cli;

/// <summary>
/// spotdevbox ssh-config and ssh, the real binary against the EC2 query endpoint (instances by tag) and the S3
/// peer (each box's host-keys.pub): alice runs with her Elastic IP and saved keys, bob is not running (his
/// keys are saved), carol runs with only a private address and no keys saved yet.
/// </summary>
[Collection("s3")]
[SupportedOSPlatform("linux")]
public sealed class SshCommandTests(S3PeerFixture peer) : IAsyncLifetime
{
    // Generated with ssh-keygen for these tests.
    private const string AliceEd25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJM8Nz4yV2sIrC07ILVxZNJrbJq5WBq8PFxERZsKv+YI";
    private const string AliceEcdsa = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBAKu16kmyDq3H+HuIASZf0/gIjokI2d5z3KyIGiCd//wuo5w/lOutoGeHkLm/Ps2k89C8SSOZInCBYvXQa8+FcM=";
    private const string BobEd25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINQC3WW6Xi2fTKp13w2qoGQDW1NbtXHHNk+ZGnuhWMqK";

    private readonly TempDir _temp = new("spotdevbox-ssh-");
    private Ec2QueryEndpoint _ec2 = null!;
    private string _bucket = "";

    private string Home => _temp.Sub("home");

    private string DefaultKnownHosts => Path.Combine(Home, ".ssh", "spotdevbox_known_hosts");

    public async Task InitializeAsync()
    {
        _ec2 = await Ec2QueryEndpoint.StartAsync();
        _bucket = peer.NewBucketName("ssh");
        await peer.CreateBucketAsync(_bucket);
        Directory.CreateDirectory(Home);

        // alice: the instance of her last session has ended; the current one holds her Elastic IP.
        _ec2.AddInstance(Instance("i-0a11ce0000000000a", "alice", 48) with { PublicIpAddress = "198.51.100.7", InstanceType = "m7i.large" });
        _ec2.AddInstance(Instance("i-0a11ce0000000000b", "alice", 16) with { InstanceType = "m7i.large", PublicDnsName = "ec2-203-0-113-25.compute-1.amazonaws.com" });
        _ec2.AddAddress(new SimulatedAddress("eipalloc-0a11ce0a11ce0a11c", "203.0.113.25", InstanceId: "i-0a11ce0000000000b", AssociationId: "eipassoc-0a11ce0a11ce0a11c"));
        // bob: only an ended instance.
        _ec2.AddInstance(Instance("i-0b0b00000000000a", "bob", 48) with { PublicIpAddress = "198.51.100.8" });
        // carol: running, without a public address.
        _ec2.AddInstance(Instance("i-0ca2010000000000a", "carol", 16) with { PrivateIpAddress = "10.0.1.77" });

        await PutAsync("boxes/alice/alice/host-keys.pub", AliceEcdsa + "\n" + AliceEd25519 + "\n");
        await PutAsync("boxes/bob/bob/host-keys.pub", BobEd25519 + "\n");
    }

    public async Task DisposeAsync()
    {
        await _ec2.DisposeAsync();
        _temp.Dispose();
    }

    [Fact]
    public async Task SshConfig_ThreeBoxes_PrintsAnEntryPerBoxAndWritesTheirKeys()
    {
        var result = await Cli().RunAsync("ssh-config");

        Assert.True(result.ExitCode == 0, result.ToString());
        var kh = DefaultKnownHosts;
        Assert.Equal(
            $"""
            # Written by 'spotdevbox ssh-config'; the boxes' host keys are in {kh}

            Host alice
              # i-0a11ce0000000000b (m7i.large in us-east-1a)
              HostName 203.0.113.25
              User alice
              HostKeyAlias spotdevbox-alice
              UserKnownHostsFile {kh}
              StrictHostKeyChecking yes

            Host bob
              # not running: start it with 'spotdevbox up bob', then run ssh-config again
              HostName bob.not-running.invalid
              User bob
              HostKeyAlias spotdevbox-bob
              UserKnownHostsFile {kh}
              StrictHostKeyChecking yes

            Host carol
              # i-0ca2010000000000a (m6i.large in us-east-1a)
              # host keys not saved yet (its agent has not finished a first boot): the first key offered is accepted
              HostName 10.0.1.77
              User carol
              HostKeyAlias spotdevbox-carol
              UserKnownHostsFile {kh}
              StrictHostKeyChecking accept-new

            """.ReplaceLineEndings("\n"),
            result.Stdout);
        Assert.Equal(
            $"spotdevbox-alice {AliceEcdsa}\nspotdevbox-alice {AliceEd25519}\nspotdevbox-bob {BobEd25519}\n",
            await File.ReadAllTextAsync(kh));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(kh));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(kh)!));
        // Written through a temporary file that is gone now.
        Assert.Equal(["spotdevbox_known_hosts"], Directory.GetFileSystemEntries(Path.Combine(Home, ".ssh")).Select(Path.GetFileName));
        // One region: one DescribeInstances for every box, and no other EC2 call.
        var describe = Assert.Single(_ec2.Requests);
        Assert.Equal("DescribeInstances", describe.Action);
        Assert.Equal(("tag-key", BoxTags.Box), (describe["Filter.1.Name"], describe["Filter.1.Value.1"]));
    }

    [Fact]
    public async Task SshConfig_OneBoxIntoAnExistingFile_ReplacesOnlyThatBoxsLines()
    {
        var kh = _temp.Sub("known hosts/work");
        Directory.CreateDirectory(Path.GetDirectoryName(kh)!);
        const string Kept = "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"
            + "|1|Zvp08heS18KweFASqElTGWGYKmw=|lrsM6Jeh3BVttz+N4b6FTNMpDHk= ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJM8Nz4yV2sIrC07ILVxZNJrbJq5WBq8PFxERZsKv+YI\n"
            + "spotdevbox-bob ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC0ldbob\n";
        await File.WriteAllTextAsync(kh, Kept + "spotdevbox-alice ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC0oldalice\n");

        var result = await Cli().RunAsync("ssh-config", "--box", "alice", "--known-hosts", kh);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(Kept + $"spotdevbox-alice {AliceEcdsa}\nspotdevbox-alice {AliceEd25519}\n", await File.ReadAllTextAsync(kh));
        Assert.Contains("Host alice\n", result.Stdout, StringComparison.Ordinal);
        Assert.Contains($"  UserKnownHostsFile \"{kh}\"\n", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("Host bob", result.Stdout, StringComparison.Ordinal);
        Assert.Equal(("tag:" + BoxTags.Box, "alice"), (_ec2.Requests.Single()["Filter.1.Name"], _ec2.Requests.Single()["Filter.1.Value.1"]));
    }

    [Fact]
    public async Task SshConfig_BoxWithoutSavedKeys_DropsTheKeysAcceptedBefore()
    {
        // What ssh (HashKnownHosts yes) wrote for carol when accept-new took an earlier instance's key.
        const string CarolHashed = "|1|16BxacOZK5xJebN1Aaf1z+xGY4s=|PUlAALkDgR5u8fNi50itNFkfOng= ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINQC3WW6Xi2fTKp13w2qoGQDW1NbtXHHNk+ZGnuhWMqK\n";
        Directory.CreateDirectory(Path.GetDirectoryName(DefaultKnownHosts)!);
        await File.WriteAllTextAsync(DefaultKnownHosts, CarolHashed + "spotdevbox-carol ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY\n");

        var result = await Cli().RunAsync("ssh-config", "--box", "carol");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("", await File.ReadAllTextAsync(DefaultKnownHosts));
        Assert.Contains("  StrictHostKeyChecking accept-new\n", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ssh_RunningBox_RunsSshWithThePinnedKeysAndReturnsItsExitCode()
    {
        var ssh = FakeSsh(exitCode: 7);

        var result = await Cli().Set("SPOTDEVBOX_SSH", ssh).RunAsync("ssh", "alice", "--", "-L", "8080:localhost:8080", "uptime");

        Assert.True(result.ExitCode == 7, result.ToString());
        Assert.Equal(
            ["-o", "HostKeyAlias=spotdevbox-alice", "-o", "UserKnownHostsFile=" + DefaultKnownHosts, "-o", "StrictHostKeyChecking=yes", "alice@203.0.113.25", "-L", "8080:localhost:8080", "uptime"],
            await File.ReadAllLinesAsync(ssh + ".args"));
        Assert.Equal($"spotdevbox-alice {AliceEcdsa}\nspotdevbox-alice {AliceEd25519}\n", await File.ReadAllTextAsync(DefaultKnownHosts));
        Assert.Equal("", result.Stdout);
    }

    [Fact]
    public async Task Ssh_KeysNotSavedYet_AcceptsTheFirstKeyAndSaysSo()
    {
        var ssh = FakeSsh(exitCode: 0);

        var result = await Cli().RunAsync("ssh", "carol", "--ssh-command", ssh, "--known-hosts", _temp.Sub("kh"));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(
            ["-o", "HostKeyAlias=spotdevbox-carol", "-o", "UserKnownHostsFile=" + _temp.Sub("kh"), "-o", "StrictHostKeyChecking=accept-new", "carol@10.0.1.77"],
            await File.ReadAllLinesAsync(ssh + ".args"));
        Assert.Contains("warning: carol's host keys are not saved yet", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("", await File.ReadAllTextAsync(_temp.Sub("kh")));
    }

    [Fact]
    public async Task Ssh_BoxNotRunning_Exit1SuggestingUpWithoutRunningSsh()
    {
        var ssh = FakeSsh(exitCode: 0);

        var result = await Cli().Set("SPOTDEVBOX_SSH", ssh).RunAsync("ssh", "bob");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("spotdevbox: bob is not running; start it with: spotdevbox up bob", result.Stderr.Trim());
        Assert.False(File.Exists(ssh + ".args"));
    }

    [Fact]
    public async Task Ssh_PendingInstance_Exit1SayingItIsStarting()
    {
        _ec2.AddInstance(Instance("i-0d0d00000000000a", "dave", 0) with { PublicIpAddress = "203.0.113.40" });
        var ssh = FakeSsh(exitCode: 0);

        var result = await Cli(extraBox: "dave").Set("SPOTDEVBOX_SSH", ssh).RunAsync("ssh", "dave");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("spotdevbox: dave is not running yet (i-0d0d00000000000a is pending); try again in a minute", result.Stderr.Trim());
        Assert.False(File.Exists(ssh + ".args"));
    }

    [Theory]
    [InlineData("ssh zed")]
    [InlineData("ssh-config --box zed")]
    public async Task SshVerbs_UnknownBox_Exit2NamingTheConfiguredOnesAndCallingNothing(string commandLine)
    {
        var result = await Cli().RunAsync(commandLine.Split(' '));

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("spotdevbox: there is no box 'zed' (configured: alice, bob, carol)", result.Stderr.Trim());
        Assert.Empty(_ec2.Requests);
        Assert.False(File.Exists(DefaultKnownHosts));
    }

    [Fact]
    public async Task SshConfig_Ec2ServiceUrlNotAUrl_Exit2NamingTheSetting()
    {
        var result = await Cli().Set("SPOTDEVBOX_Aws__Ec2__ServiceUrl", "ftp://127.0.0.1:1").RunAsync("ssh-config");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("spotdevbox: invalid configuration: Aws:Ec2:ServiceUrl must be an http(s) URL (the value is not printed: a URL may carry a secret)", result.Stderr.Trim());
        Assert.Empty(_ec2.Requests);
    }

    private SpotDevBoxProcess Cli(string? extraBox = null)
    {
        var config = _temp.Sub("spotdevbox.json");
        var boxes = new[] { "alice", "bob", "carol" }.Concat(extraBox is null ? [] : [extraBox]).Select(name => $$"""
            "{{name}}": { "Owner": "{{name}}", "Region": "us-east-1", "InstanceTypes": ["m7i.large"], "ImageId": "ami-0123456789abcdef0",
              "Storage": "s3://{{_bucket}}/boxes/{{name}}/{{name}}", "User": "{{name}}"{{(name == "alice" ? ", \"ElasticIp\": \"eipalloc-0a11ce0a11ce0a11c\"" : "")}} }
            """);
        File.WriteAllText(config, $$"""{ "Controller": { "AgentBuilds": "s3://{{_bucket}}/agent-builds", "Boxes": { {{string.Join(",\n", boxes)}} } } }""");
        return new SpotDevBoxProcess(_temp.Sub("cli"), peer)
            .Set("SPOTDEVBOX_CONFIG", config)
            .Set("SPOTDEVBOX_Storage__EndpointUrl", peer.Endpoint)
            .Set("SPOTDEVBOX_Aws__Ec2__ServiceUrl", _ec2.ServiceUrl.ToString())
            .Set("HOME", Home);
    }

    /// <summary>An ssh that writes its arguments, one a line, next to itself and exits with <paramref name="exitCode"/>.</summary>
    private string FakeSsh(int exitCode)
    {
        var path = _temp.Sub($"fake-ssh-{Guid.NewGuid():N}");
        File.WriteAllText(path, $"#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$0.args\"\nexit {exitCode}\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private async Task PutAsync(string key, string content)
    {
        using var s3 = peer.CreateClient();
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = _bucket, Key = key, ContentBody = content });
    }

    private static SimulatedInstance Instance(string instanceId, string box, int state) =>
        new() { InstanceId = instanceId, StateCode = state, Tags = new Dictionary<string, string> { [BoxTags.Box] = box, [BoxTags.Owner] = box } };
}
