using System.Diagnostics;
using System.Text.Json;
using TestSupport;

namespace SpotDevBox.Tests.Deploy;

/// <summary>
/// The linux-x64 release archive as a person with no .NET gets it: checked against SHA256SUMS, unpacked into an empty
/// folder and run with an environment that holds nothing but a PATH without dotnet; and the same archive published as
/// the boxes' agent build. The archive is scripts/release's own (ReleaseBuildFixture, built once per run).
/// </summary>
[Collection("release build")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ReleaseArchiveTests(ReleaseBuildFixture release) : IDisposable
{
    private readonly TempDir _temp = new("spotdevbox-release-");

    [Fact]
    public async Task Release_LinuxX64_ArchiveListedInSha256SumsWithTheExecutableAtItsTop()
    {
        var sums = await RunAsync("sha256sum", ["-c", "SHA256SUMS"], release.Directory, Environment.GetEnvironmentVariable("PATH")!);
        var entries = await RunAsync("tar", ["-tzf", release.LinuxX64Archive], release.Directory, Environment.GetEnvironmentVariable("PATH")!);

        Assert.True(sums.Code == 0, sums.Output);
        Assert.Equal($"spotdevbox-{ReleaseBuildFixture.Version}-linux-x64.tar.gz: OK\nspotdevbox.{ReleaseBuildFixture.Version}.nupkg: OK\n", sums.Output);
        Assert.True(entries.Code == 0, entries.Output);
        var names = entries.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("./spotdevbox", names);
        Assert.Contains("./config/spotdevbox.json", names);
        Assert.Contains("./config/prices/ondemand-linux-us-east-1.csv", names);
        // What setup and box add deploy.
        Assert.Contains("./deploy/cloudformation/fleet.yaml", names);
        Assert.Contains("./deploy/cloudformation/box.yaml", names);
        // The native build's symbols (tens of MiB) stay out.
        Assert.DoesNotContain(names, n => n.EndsWith(".dbg", StringComparison.Ordinal) || n.EndsWith(".pdb", StringComparison.Ordinal));
        Assert.Matches($@"release: linux-x64: spotdevbox-{ReleaseBuildFixture.Version.Replace(".", @"\.", StringComparison.Ordinal)}-linux-x64\.tar\.gz, \d+ KiB \(\d+ KiB unpacked\), built in \d+ s", release.Output);
    }

    [Fact]
    public async Task Release_LinuxX64_UnpackedRunsVersionEstimateAndABackupRoundTripWithoutDotnet()
    {
        var install = Directory.CreateDirectory(_temp.Sub("install")).FullName;
        var unpack = await RunAsync("tar", ["-xzf", release.LinuxX64Archive, "-C", install], _temp.Path, Environment.GetEnvironmentVariable("PATH")!);
        Assert.True(unpack.Code == 0, unpack.Output);
        // A PATH with nothing on it: no dotnet (nor anything else) to fall back on, and no DOTNET_ROOT.
        var path = Directory.CreateDirectory(_temp.Sub("empty-bin")).FullName;
        var work = Directory.CreateDirectory(_temp.Sub("work")).FullName;
        var spotdevbox = Path.Combine(install, "spotdevbox");

        var version = await RunAsync(spotdevbox, ["--version"], work, path);
        Assert.True(version.Code == 0, version.Output);
        Assert.StartsWith($"spotdevbox {ReleaseBuildFixture.Version} (commit ", version.Output, StringComparison.Ordinal);

        var estimate = await RunAsync(spotdevbox, ["estimate", "--region", "us-east-1", "--type", "m7i.large", "--schedule", "Mon-Fri 09:00-18:00", "--tz", "Europe/Berlin", "--json"], work, path);
        Assert.True(estimate.Code == 0, estimate.Output);
        using (var json = JsonDocument.Parse(estimate.Stdout))
        {
            Assert.Equal("m7i.large", json.RootElement.GetProperty("instance_type").GetString());
            Assert.StartsWith("config/prices/ondemand-linux-us-east-1.csv", json.RootElement.GetProperty("on_demand").GetProperty("source").GetString(), StringComparison.Ordinal);
        }

        var source = Directory.CreateDirectory(Path.Combine(work, "src", "nested")).Parent!.FullName;
        await File.WriteAllTextAsync(Path.Combine(source, "a.txt"), "alpha\n");
        var random = new byte[300_000];
        new Random(13).NextBytes(random);
        await File.WriteAllBytesAsync(Path.Combine(source, "nested", "b.bin"), random);
        File.CreateSymbolicLink(Path.Combine(source, "link"), "a.txt");

        var init = await RunAsync(spotdevbox, ["init", "--repo", "repo"], work, path);
        Assert.True(init.Code == 0, init.Output);
        var backup = await RunAsync(spotdevbox, ["backup", "--repo", "repo", "src"], work, path);
        Assert.True(backup.Code == 0, backup.Output);
        var restore = await RunAsync(spotdevbox, ["restore", "--repo", "repo", "--target", "restored"], work, path);
        Assert.True(restore.Code == 0, restore.Output);

        Assert.Empty(TreeComparer.Compare(source, Path.Combine(work, "restored", "src")));
        Assert.Equal(random, await File.ReadAllBytesAsync(Path.Combine(work, "restored", "src", "nested", "b.bin")));
    }

    [Fact]
    public async Task AgentPublish_ReleaseArchiveAsTheBuild_IsAcceptedAndPublished()
    {
        var target = _temp.Sub("agent-builds");

        // --agent-archive: the runtime is read from the real native executable's ELF header.
        var result = await new SpotDevBoxProcess(_temp.Sub("state")).RunAsync(
            "agent", "publish", "--to", target, "--agent-archive", release.LinuxX64Archive, "--agent-version", "v1", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var build = Assert.Single(result.Json().GetProperty("builds").EnumerateArray());
        Assert.Equal("linux-x64", build.GetProperty("rid").GetString());
        Assert.Equal("x86_64", build.GetProperty("architecture").GetString());
        Assert.Equal(await File.ReadAllBytesAsync(release.LinuxX64Archive), await File.ReadAllBytesAsync(Path.Combine(target, "v1", "spotdevbox-linux-x64.tar.gz")));
    }

    [Fact]
    public async Task AgentPublish_WithNoBuildNamed_TheReleaseBuildPublishesItselfAndTheJitBuildRefuses()
    {
        var install = Directory.CreateDirectory(_temp.Sub("self")).FullName;
        var unpack = await RunAsync("tar", ["-xzf", release.LinuxX64Archive, "-C", install], _temp.Path, Environment.GetEnvironmentVariable("PATH")!);
        Assert.True(unpack.Code == 0, unpack.Output);
        var work = Directory.CreateDirectory(_temp.Sub("self-work")).FullName;

        var result = await RunAsync(Path.Combine(install, "spotdevbox"), ["agent", "publish", "--to", "builds", "--agent-version", "v1", "--json"], work, Directory.CreateDirectory(_temp.Sub("self-bin")).FullName);

        Assert.True(result.Code == 0, result.Output);
        using (var json = JsonDocument.Parse(result.Stdout))
        {
            var build = Assert.Single(json.RootElement.GetProperty("builds").EnumerateArray());
            Assert.Equal("linux-x64", build.GetProperty("rid").GetString());
        }

        // The build is this very executable, with its config/ beside it, as the box's install script unpacks it.
        var published = Directory.CreateDirectory(_temp.Sub("self-published")).FullName;
        var open = await RunAsync("tar", ["-xzf", Path.Combine(work, "builds", "v1", "spotdevbox-linux-x64.tar.gz"), "-C", published], _temp.Path, Environment.GetEnvironmentVariable("PATH")!);
        Assert.True(open.Code == 0, open.Output);
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(install, "spotdevbox")), await File.ReadAllBytesAsync(Path.Combine(published, "spotdevbox")));
        Assert.True((File.GetUnixFileMode(Path.Combine(published, "spotdevbox")) & UnixFileMode.UserExecute) != 0);
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(install, "config", "spotdevbox.json")), await File.ReadAllBytesAsync(Path.Combine(published, "config", "spotdevbox.json")));

        // The build the tests run on the .NET runtime is no agent: it says so and names the options.
        var jit = await new SpotDevBoxProcess(_temp.Sub("state")).RunAsync("agent", "publish", "--to", _temp.Sub("jit-builds"));

        Assert.Equal(2, jit.ExitCode);
        Assert.Contains("give at least one --agent-archive FILE", jit.Stderr, StringComparison.Ordinal);
        Assert.Contains("runs on the .NET runtime", jit.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_temp.Sub("jit-builds")));
    }

    public void Dispose() => _temp.Dispose();

    /// <summary>Runs with an environment of its own only: PATH, HOME, the XDG folders and no log file.</summary>
    private async Task<(int Code, string Output, string Stdout)> RunAsync(string file, string[] args, string directory, string path)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = directory };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        start.Environment.Clear();
        start.Environment["PATH"] = path;
        start.Environment["HOME"] = _temp.Sub("home");
        start.Environment["TMPDIR"] = _temp.Path;
        start.Environment["XDG_CACHE_HOME"] = _temp.Sub("xdg-cache");
        start.Environment["XDG_STATE_HOME"] = _temp.Sub("xdg-state");
        start.Environment["SPOTDEVBOX_Logging__File"] = "off";
        // The repository init makes is encrypted: the native build derives its key (Argon2id) and seals as the JIT build does.
        foreach (var (name, value) in TestKeys.Environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr, await stdout);
    }
}
