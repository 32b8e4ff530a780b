using System.Diagnostics;
using System.Security.Cryptography;
using TestSupport;

namespace SpotDevBox.Tests.Deploy;

/// <summary>
/// deploy/cloud-init/spotdevbox-install.sh run for real under a scratch root (SPOTDEVBOX_INSTALL_ROOT),
/// with stand-ins for uname, apt-get, aws, systemctl and logger on PATH: the pinned SHA-256 decides
/// whether the agent is unpacked and started.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class InstallScriptTests : IDisposable
{
    private static readonly string Script = Path.Combine(S3PeerFixture.RepositoryRoot, "deploy", "cloud-init", "spotdevbox-install.sh");
    private readonly TempDir _temp = new("spotdevbox-install-");

    [Fact]
    public async Task Install_Sha256AsPinned_UnpacksAndStartsTheAgentThenOpensLogins()
    {
        var (archive, sha) = await ArchiveAsync();

        var (code, output) = await InstallAsync(archive, sha, "x64");

        Assert.True(code == 0, output);
        Assert.True(File.Exists(Path.Combine(_temp.Path, "root", "opt", "spotdevbox", "spotdevbox")), output);
        Assert.Equal(["daemon-reload", "enable --now spotdevbox-agent.service"], await File.ReadAllLinesAsync(Path.Combine(_temp.Path, "systemctl.log")));
        Assert.False(File.Exists(Path.Combine(_temp.Path, "root", "run", "nologin")));
        Assert.Contains($"downloaded s3://artifacts/agent/spotdevbox.tar.gz (SHA-256 {sha}, as pinned)", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Install_Sha256Differs_RefusesBeforeUnpackingOrStartingAndOpensLogins()
    {
        var (archive, sha) = await ArchiveAsync();
        const string pinned = "0000000000000000000000000000000000000000000000000000000000000000";

        var (code, output) = await InstallAsync(archive, pinned, "x64");

        Assert.Equal(1, code);
        Assert.Contains($"spotdevbox-install: FAILED: s3://artifacts/agent/spotdevbox.tar.gz has SHA-256 {sha} but the user data pins {pinned}: not installing it", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_temp.Path, "root", "opt", "spotdevbox")));
        Assert.False(File.Exists(Path.Combine(_temp.Path, "systemctl.log")));
        Assert.False(File.Exists(Path.Combine(_temp.Path, "root", "run", "nologin")));
    }

    [Fact]
    public async Task Install_ArchitectureDiffers_RefusesBeforeDownloading()
    {
        var (archive, sha) = await ArchiveAsync();

        var (code, output) = await InstallAsync(archive, sha, "arm64");

        Assert.Equal(1, code);
        Assert.Contains("FAILED: the user data pins the agent for arm64 but this instance is x86_64", output, StringComparison.Ordinal);
        Assert.DoesNotContain("downloaded", output, StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();

    private async Task<(string Path, string Sha256)> ArchiveAsync()
    {
        var content = Path.Combine(_temp.Path, "publish");
        Directory.CreateDirectory(content);
        var binary = Path.Combine(content, "spotdevbox");
        await File.WriteAllTextAsync(binary, "#!/bin/sh\n");
        File.SetUnixFileMode(binary, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var archive = Path.Combine(_temp.Path, "spotdevbox.tar.gz");
        var (code, output) = await RunAsync("tar", [], "-czf", archive, "-C", content, ".");
        Assert.True(code == 0, output);
        return (archive, Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(archive))));
    }

    private async Task<(int Code, string Output)> InstallAsync(string archive, string sha256, string arch)
    {
        var bin = Path.Combine(_temp.Path, "bin");
        Directory.CreateDirectory(bin);
        Directory.CreateDirectory(Path.Combine(_temp.Path, "root", "run"));
        var log = Path.Combine(_temp.Path, "systemctl.log");
        await StubAsync(bin, "uname", "echo x86_64");
        await StubAsync(bin, "apt-get", "exit 0");
        await StubAsync(bin, "logger", "exit 0");
        await StubAsync(bin, "systemctl", $"echo \"$*\" >> '{log}'");
        // aws s3 cp --only-show-errors --region R s3://... DEST: the object is the test's archive.
        await StubAsync(bin, "aws", $"[ \"$1 $2 $6\" = 's3 cp s3://artifacts/agent/spotdevbox.tar.gz' ] && cp '{archive}' \"$7\"");

        return await RunAsync("bash",
            [("SPOTDEVBOX_INSTALL_ROOT", Path.Combine(_temp.Path, "root")), ("PATH", bin + ":" + Environment.GetEnvironmentVariable("PATH"))],
            Script, "--bucket", "artifacts", "--key", "agent/spotdevbox.tar.gz", "--sha256", sha256, "--arch", arch,
            "--region", "eu-central-1", "--user", "", "--docker", "no");
    }

    private static async Task StubAsync(string bin, string name, string body)
    {
        var path = Path.Combine(bin, name);
        await File.WriteAllTextAsync(path, "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    private static async Task<(int Code, string Output)> RunAsync(string file, (string Name, string Value)[] environment, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }
}
