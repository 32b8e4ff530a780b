using System.Diagnostics;
using TestSupport;

namespace SpotDevBox.Tests.Deploy;

/// <summary>
/// scripts/release's arguments and toolchain checks, which stop it before anything is built; its real run is
/// ReleaseBuildFixture's (the linux-x64 archive), measured in deploy/README.md, "Release archives".
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ReleaseScriptTests : IDisposable
{
    private static readonly string Script = Path.Combine(S3PeerFixture.RepositoryRoot, "scripts", "release");
    private readonly TempDir _temp = new("spotdevbox-release-script-");

    [Fact]
    public async Task Script_BashSyntax_IsValid()
    {
        var (code, output) = await RunAsync("bash", null, "-n", Script);

        Assert.True(code == 0, output);
    }

    [Theory]
    [InlineData(new[] { "--rid", "win-x86" }, "release: unknown --rid 'win-x86': the release builds are linux-x64 linux-arm64 osx-arm64 osx-x64 win-x64")]
    [InlineData(new[] { "--rid", "linux-x64", "--rid", "linux-musl-x64" }, "release: unknown --rid 'linux-musl-x64': the release builds are")]
    [InlineData(new[] { "--version", "latest" }, "release: --version must be a version such as 1.2.0 or 1.2.0-rc.1")]
    [InlineData(new[] { "--out" }, "release: --out needs a value")]
    [InlineData(new[] { "--fast" }, "release: unknown argument '--fast' (see --help)")]
    public async Task Script_BadArguments_Exit2BeforeBuilding(string[] args, string expected)
    {
        var (code, output) = await RunAsync(Script, null, args);

        Assert.Equal(2, code);
        Assert.StartsWith(expected, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Script_NoCCompiler_Exit2NamingWhatToInstall()
    {
        var bin = Tools("x86_64", withGcc: false);

        var (code, output) = await RunAsync(Script, bin, "--rid", "osx-arm64", "--rid", "linux-x64");

        Assert.Equal(2, code);
        Assert.Equal("release: the native AOT build for linux-x64 needs clang (or gcc), which is not on PATH: on Debian, apt-get install clang\n", output);
    }

    [Fact]
    public async Task Script_Arm64OnX8664WithoutCrossToolchain_Exit2NamingThePackages()
    {
        var bin = Tools("x86_64", withGcc: true);

        var (code, output) = await RunAsync(Script, bin, "--rid", "linux-arm64");

        Assert.Equal(2, code);
        Assert.Equal(
            "release: the native AOT build for linux-arm64 on x86_64 needs a cross toolchain (aarch64-linux-gnu-gcc is not on PATH): " +
            "on Debian 12, apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross\n",
            output);
    }

    [Fact]
    public async Task Script_Help_NamesEveryBuildAndSaysTheOtherSystemsAreNotRunHere()
    {
        var (code, output) = await RunAsync(Script, null, "--help");

        Assert.True(code == 0, output);
        Assert.Contains("Usage: scripts/release [--rid RID ...] [--out DIR] [--version V] [--no-tool]", output, StringComparison.Ordinal);
        Assert.Contains("spotdevbox-V-win-x64.zip", output, StringComparison.Ordinal);
        Assert.Contains("The macOS and Windows builds are not run on this project's machines.", output, StringComparison.Ordinal);
    }

    /// <summary>A PATH of bash, dirname, a stand-in uname answering <paramref name="machine"/>, and gcc only when asked: no clang, no cross gcc.</summary>
    private string Tools(string machine, bool withGcc)
    {
        var bin = Directory.CreateDirectory(_temp.Sub("bin")).FullName;
        File.CreateSymbolicLink(Path.Combine(bin, "bash"), "/bin/bash");
        File.CreateSymbolicLink(Path.Combine(bin, "dirname"), "/usr/bin/dirname");
        var uname = Path.Combine(bin, "uname");
        File.WriteAllText(uname, $"#!/bin/bash\necho {machine}\n");
        File.SetUnixFileMode(uname, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (withGcc)
        {
            File.CreateSymbolicLink(Path.Combine(bin, "gcc"), "/bin/true");
        }

        return bin;
    }

    public void Dispose() => _temp.Dispose();

    private async Task<(int Code, string Output)> RunAsync(string file, string? path, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        if (path is not null)
        {
            start.Environment["PATH"] = path;
        }

        start.Environment["TMPDIR"] = _temp.Path;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }
}
