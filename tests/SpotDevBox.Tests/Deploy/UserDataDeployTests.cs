using System.Diagnostics;
using System.Text.Json;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Compute;
using TestSupport;

namespace SpotDevBox.Tests.Deploy;

/// <summary>
/// The rendered user data as cloud-init sees it: Debian's `cloud-init schema` accepts it, PyYAML (the
/// parser cloud-init uses) reads every value back unchanged, and the scripts in it pass `bash -n`.
/// scripts/test provides cloud-init (see its install_cloud_init); without it these tests fail, they
/// do not skip.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class UserDataDeployTests : IDisposable
{
    private const string Sha = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
    private const string AwkwardPath = "/srv/it's \"here\" $(reboot) `id` \\ #x: y, [z] {w} &a *b !c % @d";

    private static readonly AgentArtifact Artifact = new("spotdevbox-artifacts", "agent/1.4.0/spotdevbox-linux-x64.tar.gz", Sha, CpuArchitecture.X64);

    private readonly TempDir _temp = new("spotdevbox-userdata-");

    public static TheoryData<string> Variants => ["sample", "docker-arm64-stop", "paths-only", "awkward-path", "agent-settings", "rollback-floor"];

    private static readonly SpotDevBox.Core.Agent.SnapshotFloor Floor = new(new string('7', 64), new DateTimeOffset(2026, 3, 2, 12, 30, 0, TimeSpan.Zero));

    [Theory]
    [MemberData(nameof(Variants))]
    public async Task CloudInitSchema_RenderedUserData_Valid(string variant)
    {
        var file = await WriteAsync(variant, Render(variant));

        var (code, output) = await RunAsync(CloudInit(), "schema", "--config-file", file);

        Assert.True(code == 0, output);
        Assert.Contains("Valid cloud-config: " + file, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CloudInitSchema_BrokenUserData_Invalid()
    {
        // Proves the check checks: the same document with a write_files entry of the wrong type.
        var broken = Render("sample").Replace("    permissions: \"0755\"\n", "    permissions: [0755]\n", StringComparison.Ordinal);
        var file = await WriteAsync("broken", broken);

        var (code, output) = await RunAsync(CloudInit(), "schema", "--config-file", file);

        Assert.True(code != 0, output);
        Assert.Contains("write_files.3.permissions", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PyYaml_AwkwardValues_ReadBackUnchanged()
    {
        using var doc = await ParseAsync(await WriteAsync("awkward", Render("awkward-path")));
        var root = doc.RootElement;

        var command = root.GetProperty("runcmd")[0].EnumerateArray().Select(e => e.GetString()!).ToArray();
        Assert.Equal(
            [
                "/usr/local/sbin/spotdevbox-install", "--bucket", "spotdevbox-artifacts", "--key", "agent/it's(1)*.tar.gz",
                "--sha256", Sha, "--arch", "x64", "--region", "eu-central-1", "--user", "alice", "--docker", "no",
            ],
            command);

        using var agent = JsonDocument.Parse(File(root, "/etc/spotdevbox/agent.json").GetProperty("content").GetString()!);
        var options = agent.RootElement.GetProperty("Agent");
        Assert.Equal("s3://my-bucket/boxes/alice/alice", options.GetProperty("Box").GetString());
        Assert.Equal("alice", options.GetProperty("BoxName").GetString());
        Assert.Equal("alice", options.GetProperty("User").GetString());
        Assert.Equal<string>(["/home/alice", AwkwardPath], options.GetProperty("Paths").EnumerateArray().Select(e => e.GetString()!));
        Assert.Equal<string>(["systemctl", "try-reload-or-restart", "ssh.service", "sshd.service"], options.GetProperty("HostKeyReloadCommand").EnumerateArray().Select(e => e.GetString()!));

        var users = root.GetProperty("users");
        Assert.Equal("default", users[0].GetString());
        Assert.Equal("alice", users[1].GetProperty("name").GetString());
        Assert.Equal("ALL=(ALL) NOPASSWD:ALL", users[1].GetProperty("sudo").GetString());
        Assert.True(users[1].GetProperty("lock_passwd").GetBoolean());
    }

    [Fact]
    public async Task PyYaml_RollbackFloor_ReadBackAsAgentMinimumSnapshotAndAllowRollback()
    {
        using var doc = await ParseAsync(await WriteAsync("rollback", Render("rollback-floor")));

        using var agent = JsonDocument.Parse(File(doc.RootElement, "/etc/spotdevbox/agent.json").GetProperty("content").GetString()!);
        var options = agent.RootElement.GetProperty("Agent");
        Assert.Equal(new string('7', 64), options.GetProperty("MinimumSnapshot").GetProperty("Id").GetString());
        Assert.Equal("2026-03-02T12:30:00.0000000Z", options.GetProperty("MinimumSnapshot").GetProperty("Time").GetString());
        Assert.True(options.GetProperty("AllowRollback").GetBoolean());
    }

    [Theory]
    [InlineData("deploy/systemd/spotdevbox-agent.service", "/etc/systemd/system/spotdevbox-agent.service", "0644")]
    [InlineData("deploy/systemd/spotdevbox-profile.sh", "/etc/profile.d/spotdevbox.sh", "0644")]
    [InlineData("deploy/cloud-init/spotdevbox-install.sh", "/usr/local/sbin/spotdevbox-install", "0755")]
    public async Task PyYaml_DeployFiles_ReadBackAsShipped(string source, string path, string mode)
    {
        using var doc = await ParseAsync(await WriteAsync("sample", Render("sample")));

        var entry = File(doc.RootElement, path);

        Assert.Equal(await System.IO.File.ReadAllTextAsync(Path.Combine(S3PeerFixture.RepositoryRoot, source)), entry.GetProperty("content").GetString());
        Assert.Equal(mode, entry.GetProperty("permissions").GetString());
        Assert.Equal("root:root", entry.GetProperty("owner").GetString());
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public async Task BashSyntax_ScriptsInTheUserData_Valid(string variant)
    {
        using var doc = await ParseAsync(await WriteAsync(variant, Render(variant)));
        var scripts = doc.RootElement.GetProperty("write_files").EnumerateArray()
            .Where(f => f.GetProperty("path").GetString() is "/usr/local/sbin/spotdevbox-install" or "/etc/profile.d/spotdevbox.sh")
            .ToList();
        Assert.Equal(2, scripts.Count);

        foreach (var script in scripts)
        {
            var file = await WriteAsync(Path.GetFileName(script.GetProperty("path").GetString()!), script.GetProperty("content").GetString()!);
            var (code, output) = await RunAsync("bash", "-n", file);
            Assert.True(code == 0, $"{script.GetProperty("path").GetString()}: {output}");
        }
    }

    public void Dispose() => _temp.Dispose();

    private static string Render(string variant)
    {
        var box = new BoxOptions { Owner = "alice", Region = "eu-central-1", Storage = "s3://my-bucket/boxes/alice/alice", User = "alice" };
        box.InstanceTypes.Add("m7i.large");
        switch (variant)
        {
            case "docker-arm64-stop":
                box.Docker = true;
                return UserDataTemplate.Render(box, "alice", Artifact with { Architecture = CpuArchitecture.Arm64 }, new AgentStopTime("19:00", "Europe/Berlin"));
            case "paths-only":
                box.User = "";
                box.Paths.Add("/srv/data");
                return UserDataTemplate.Render(box, "data", Artifact);
            case "awkward-path":
                box.Paths.Add("/home/alice");
                box.Paths.Add(AwkwardPath);
                return UserDataTemplate.Render(box, "alice", Artifact with { Key = "agent/it's(1)*.tar.gz" });
            case "agent-settings":
                box.Agent.IdleTimeout = TimeSpan.FromMinutes(45);
                box.Agent.BackupInterval = TimeSpan.FromMinutes(20);
                box.Agent.KeepLast = 10;
                box.Agent.WebhookParameter = "/spotdevbox/alice/webhook";
                return UserDataTemplate.Render(box, "alice", Artifact);
            case "rollback-floor":
                return UserDataTemplate.Render(box, "alice", Artifact, rollback: new SpotDevBox.Core.Agent.RollbackGuard(Floor, AllowRollback: true));
            default:
                return UserDataTemplate.Render(box, "alice", Artifact);
        }
    }

    private static JsonElement File(JsonElement root, string path) =>
        Assert.Single(root.GetProperty("write_files").EnumerateArray(), f => f.GetProperty("path").GetString() == path);

    private async Task<string> WriteAsync(string name, string text)
    {
        var file = Path.Combine(_temp.Path, name);
        await System.IO.File.WriteAllTextAsync(file, text);
        return file;
    }

    /// <summary>The document as cloud-init reads it: PyYAML's safe_load, handed over as JSON.</summary>
    private static async Task<JsonDocument> ParseAsync(string file)
    {
        var python = System.IO.File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        var (code, output) = await RunAsync(python, "-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1], encoding='utf-8'))))", file);
        Assert.True(code == 0, output);
        return JsonDocument.Parse(output);
    }

    /// <summary>cloud-init on PATH, or the one scripts/test unpacked; a missing tool fails the test.</summary>
    private static string CloudInit()
    {
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "cloud-init"))
            .FirstOrDefault(System.IO.File.Exists);
        var unpacked = Path.Combine(S3PeerFixture.RepositoryRoot, "tests", "peers", "cloud-init", "bin", "cloud-init");
        var tool = onPath ?? (System.IO.File.Exists(unpacked) ? unpacked : null);
        Assert.True(tool is not null, "cloud-init is not installed: run scripts/test, which unpacks it into tests/peers/cloud-init");
        return tool;
    }

    private static async Task<(int Code, string Output)> RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }
}
