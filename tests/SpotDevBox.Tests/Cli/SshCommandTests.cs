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
[Collection("s3-controller")]
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
              # direct: port 22 must be open to this machine
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
              # direct: port 22 must be open to this machine
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

    [Fact]
    public async Task SshConfig_InstanceConnectByDefaultAndSsm_ProxyCommandsWithTheInstanceIdAsHostName()
    {
        AddTunnelBoxes();

        var erin = await Cli(null, ("erin", null)).RunAsync("ssh-config", "erin");
        var frank = await Cli(null, ("frank", "ssm")).RunAsync("ssh-config", "frank");

        Assert.True(erin.ExitCode == 0, erin.ToString());
        Assert.True(frank.ExitCode == 0, frank.ToString());
        var kh = DefaultKnownHosts;
        Assert.Equal(
            $"""
            # Written by 'spotdevbox ssh-config'; the boxes' host keys are in {kh}

            Host erin
              # i-0e1e000000000000a (m6i.large in us-east-1a)
              # through the EC2 Instance Connect Endpoint of its VPC (needs the AWS CLI v2)
              HostName i-0e1e000000000000a
              ProxyCommand aws ec2-instance-connect open-tunnel --instance-id %h --remote-port %p --region us-east-1
              User erin
              HostKeyAlias spotdevbox-erin
              UserKnownHostsFile {kh}
              StrictHostKeyChecking yes

            """.ReplaceLineEndings("\n"),
            erin.Stdout);
        Assert.Equal(
            $"""
            # Written by 'spotdevbox ssh-config'; the boxes' host keys are in {kh}

            Host frank
              # i-0f2a000000000000a (m6i.large in us-east-1a)
              # through Session Manager (needs the AWS CLI and its session-manager-plugin)
              # host keys not saved yet (its agent has not finished a first boot): the first key offered is accepted
              HostName i-0f2a000000000000a
              ProxyCommand aws ssm start-session --target %h --document-name AWS-StartSSHSession --parameters portNumber=%p --region us-east-1
              User frank
              HostKeyAlias spotdevbox-frank
              UserKnownHostsFile {kh}
              StrictHostKeyChecking accept-new

            """.ReplaceLineEndings("\n"),
            frank.Stdout);

        // OpenSSH itself reads both entries: what it would dial, through what, checked against which key.
        var file = _temp.Sub("ssh_config");
        await File.WriteAllTextAsync(file, erin.Stdout + frank.Stdout);
        var erinSeen = await SshDashG("-F", file, "erin");
        Assert.Equal("i-0e1e000000000000a", erinSeen["hostname"]);
        Assert.Equal("aws ec2-instance-connect open-tunnel --instance-id %h --remote-port %p --region us-east-1", erinSeen["proxycommand"]);
        Assert.Equal(("erin", "spotdevbox-erin", kh, "true"), (erinSeen["user"], erinSeen["hostkeyalias"], erinSeen["userknownhostsfile"], erinSeen["stricthostkeychecking"]));
        var frankSeen = await SshDashG("-F", file, "frank");
        Assert.Equal("i-0f2a000000000000a", frankSeen["hostname"]);
        Assert.Equal("aws ssm start-session --target %h --document-name AWS-StartSSHSession --parameters portNumber=%p --region us-east-1", frankSeen["proxycommand"]);
        Assert.Equal("accept-new", frankSeen["stricthostkeychecking"]);
    }

    [Fact]
    public async Task SshConfig_DirectBox_OpenSshReadsTheAddressWithoutAProxyCommand()
    {
        var result = await Cli().RunAsync("ssh-config", "alice");

        Assert.True(result.ExitCode == 0, result.ToString());
        var file = _temp.Sub("ssh_config");
        await File.WriteAllTextAsync(file, result.Stdout);
        var seen = await SshDashG("-F", file, "alice");
        Assert.Equal("203.0.113.25", seen["hostname"]);
        Assert.False(seen.ContainsKey("proxycommand"), string.Join('\n', seen));
        Assert.Equal(("alice", "spotdevbox-alice", "true"), (seen["user"], seen["hostkeyalias"], seen["stricthostkeychecking"]));
    }

    [Theory]
    [InlineData("erin", null, "aws ec2-instance-connect open-tunnel --instance-id %h --remote-port %p --region us-east-1", "i-0e1e000000000000a")]
    [InlineData("frank", "ssm", "aws ssm start-session --target %h --document-name AWS-StartSSHSession --parameters portNumber=%p --region us-east-1", "i-0f2a000000000000a")]
    public async Task Ssh_TunnelRoute_RunsSshWithTheProxyCommandToTheInstanceId(string box, string? via, string proxy, string instanceId)
    {
        AddTunnelBoxes();
        var fake = FakeSsh(exitCode: 0);
        // The same arguments, given to the real ssh: it must read them as the options above, not fail to parse them.
        var parse = _temp.Sub($"ssh-G-{box}");
        File.WriteAllText(parse, "#!/bin/sh\nexec ssh -G -F /dev/null \"$@\"\n");
        File.SetUnixFileMode(parse, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var result = await Cli(null, (box, via)).RunAsync("ssh", box, "--ssh-command", fake, "--", "uptime");
        var parsed = await Cli(null, (box, via)).RunAsync("ssh", box, "--ssh-command", parse);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(
            ["-o", $"HostKeyAlias=spotdevbox-{box}", "-o", "UserKnownHostsFile=" + DefaultKnownHosts, "-o", $"StrictHostKeyChecking={(box == "erin" ? "yes" : "accept-new")}",
             "-o", "ProxyCommand=" + proxy, $"{box}@{instanceId}", "uptime"],
            await File.ReadAllLinesAsync(fake + ".args"));
        Assert.True(parsed.ExitCode == 0, parsed.ToString());
        var seen = ParseDashG(parsed.Stdout);
        Assert.Equal((instanceId, box, proxy, $"spotdevbox-{box}"), (seen["hostname"], seen["user"], seen["proxycommand"], seen["hostkeyalias"]));
    }

    [Fact]
    public async Task SshVerbs_SshViaNotAKnownRoute_Exit2NamingTheSettingNotTheValueAndCallingNothing()
    {
        var result = await Cli(null, ("erin", "Bastion;id")).RunAsync("ssh-config");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("spotdevbox: invalid configuration: Controller:Boxes:erin:SshVia must be one of instance-connect, ssm, direct", result.Stderr.Trim());
        Assert.DoesNotContain("Bastion", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(_ec2.Requests);
    }

    [Fact]
    public async Task SshConfig_Ec2ReportsAnInstanceIdThatIsNotOne_Exit1WithoutWritingAProxyCommand()
    {
        _ec2.AddInstance(Instance("i-0e1e0000;touch${IFS}pwned", "erin", 16));

        var result = await Cli(null, ("erin", null)).RunAsync("ssh-config", "erin");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(
            "spotdevbox: EC2 reported an instance of erin whose id is not an instance id (i- and 8 to 17 hex digits): it is not put into an ssh ProxyCommand; check the endpoint EC2 is reached at",
            result.Stderr.Trim());
        Assert.DoesNotContain("ProxyCommand", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SshConfig_RegionWithATrailingNewline_Exit2NamingTheRegionSetting()
    {
        // A region goes into the ProxyCommand, which ssh hands to the shell: one line, one word, or nothing.
        var result = await Cli(null, ("erin", null)).Set("SPOTDEVBOX_Controller__Boxes__erin__Region", "us-east-1\n").RunAsync("ssh-config", "erin");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Controller:Boxes:erin:Region must be an AWS region", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("ProxyCommand", result.Stdout, StringComparison.Ordinal);
        Assert.Empty(_ec2.Requests);
    }

    /// <summary>erin (default route, keys saved) and frank (ssm, no keys yet), both running.</summary>
    private void AddTunnelBoxes()
    {
        _ec2.AddInstance(Instance("i-0e1e000000000000a", "erin", 16) with { PublicIpAddress = "198.51.100.30", PrivateIpAddress = "10.0.1.30" });
        _ec2.AddInstance(Instance("i-0f2a000000000000a", "frank", 16) with { PrivateIpAddress = "10.0.1.31" });
        PutAsync("boxes/erin/erin/host-keys.pub", BobEd25519 + "\n").GetAwaiter().GetResult();
    }

    /// <summary>What <c>ssh -G</c> (OpenSSH's own reading of a configuration, without connecting) says, option by option.</summary>
    private static async Task<Dictionary<string, string>> SshDashG(params string[] arguments)
    {
        var start = new System.Diagnostics.ProcessStartInfo("ssh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-G");
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = System.Diagnostics.Process.Start(start) ?? throw new InvalidOperationException("ssh did not start (the OpenSSH client is needed by these tests)");
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"ssh -G failed: {error}");
        return ParseDashG(output);
    }

    private static Dictionary<string, string> ParseDashG(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ', 2))
            .GroupBy(p => p[0], StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First().Length > 1 ? g.First()[1] : "", StringComparer.Ordinal);

    /// <summary>alice and carol reach their boxes directly, bob by the default route; more boxes with their SshVia (null: none set).</summary>
    private SpotDevBoxProcess Cli(string? extraBox = null, params (string Name, string? Via)[] more)
    {
        var config = _temp.Sub("spotdevbox.json");
        (string Name, string? Via)[] all = [("alice", "direct"), ("bob", null), ("carol", "direct"), .. extraBox is null ? [] : new[] { (extraBox, (string?)"direct") }, .. more];
        var boxes = all.Select(b => $$"""
            "{{b.Name}}": { "Owner": "{{b.Name}}", "Region": "us-east-1", "InstanceTypes": ["m7i.large"], "ImageId": "ami-0123456789abcdef0",
              "Storage": "s3://{{_bucket}}/boxes/{{b.Name}}/{{b.Name}}", "User": "{{b.Name}}"{{(b.Name == "alice" ? ", \"ElasticIp\": \"eipalloc-0a11ce0a11ce0a11c\"" : "")}}{{(b.Via is null ? "" : $", \"SshVia\": \"{b.Via}\"")}} }
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
