using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using TestSupport;

namespace SpotDevBox.Tests.Deploy;

/// <summary>
/// scripts/publish-agent: its syntax, its arguments, and one run with a stand-in 'dotnet' on PATH whose
/// 'publish' writes a small publish directory (an ELF header for the RID) and whose 'run' starts the
/// real CLI, on a machine that is not Linux (a stand-in uname), so the whole script runs in seconds.
/// The real run (dotnet publish of both RIDs) is measured in deploy/README.md, "Agent builds".
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class PublishAgentScriptTests : IDisposable
{
    private static readonly string Script = Path.Combine(S3PeerFixture.RepositoryRoot, "scripts", "publish-agent");
    private readonly TempDir _temp = new("spotdevbox-publish-script-");

    [Fact]
    public async Task Script_BashSyntax_IsValid()
    {
        var (code, output) = await RunAsync("bash", [], "-n", Script);

        Assert.True(code == 0, output);
    }

    [Fact]
    public async Task Script_Help_SaysWhatItBuildsAndWhereItGoes()
    {
        var (code, output) = await RunAsync(Script, [], "--help");

        Assert.True(code == 0, output);
        Assert.Contains("Usage: scripts/publish-agent --to PREFIX [--rid RID ...]", output, StringComparison.Ordinal);
        Assert.Contains("--self-contained true", output, StringComparison.Ordinal);
        Assert.Contains("Controller:AgentBuilds", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new string[0], "--to PREFIX is required")]
    [InlineData(new[] { "--to", "/tmp/x", "--rid", "win-x64" }, "--rid must be linux-x64 or linux-arm64, got 'win-x64'")]
    [InlineData(new[] { "--to" }, "--to needs a value")]
    [InlineData(new[] { "--to", "/tmp/x", "--fast" }, "unknown argument '--fast'")]
    public async Task Script_BadArguments_Exit2BeforeBuilding(string[] args, string expected)
    {
        var (code, output) = await RunAsync(Script, [], args);

        Assert.Equal(2, code);
        Assert.Contains("publish-agent: " + expected, output, StringComparison.Ordinal);
    }

    public static TheoryData<string[], string, string[]> Kinds => new()
    {
        // The native AOT build is the default; its symbols stay out of the archive.
        { [], "-p:PublishAot=true", ["./", "./config/", "./config/spotdevbox.json", "./spotdevbox"] },
        { ["--ready-to-run", "--aot"], "-p:PublishAot=true", ["./", "./config/", "./config/spotdevbox.json", "./spotdevbox"] },
        // ReadyToRun: the publish directory packed as it is.
        { ["--ready-to-run"], "-o", ["./", "./SpotDevBox.Core.pdb", "./config/", "./config/spotdevbox.json", "./spotdevbox", "./spotdevbox.dbg"] },
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Script_BothRids_PublishesEachAndPacksSpotdevboxAtTheTop(string[] kind, string afterSelfContained, string[] entries)
    {
        var bin = _temp.Sub("bin");
        var log = _temp.Sub("dotnet.log");
        await StubDotnetAsync(bin, log, failNative: false);
        var target = _temp.Sub("agent-builds");
        var kept = _temp.Sub("kept");

        var (code, output) = await RunAsync(Script, [("PATH", bin + ":" + Environment.GetEnvironmentVariable("PATH"))],
            ["--to", target, "--agent-version", "v1", "--out", kept, .. kind]);

        Assert.True(code == 0, output);
        var calls = await File.ReadAllLinesAsync(log);
        Assert.Equal($"publish {S3PeerFixture.RepositoryRoot}/src/SpotDevBox -c Release -r linux-x64 --self-contained true {afterSelfContained}", string.Join(' ', calls[0].Split(' ').Take(9)));
        Assert.Equal($"publish {S3PeerFixture.RepositoryRoot}/src/SpotDevBox -c Release -r linux-arm64 --self-contained true {afterSelfContained}", string.Join(' ', calls[1].Split(' ').Take(9)));
        Assert.StartsWith($"run --project {S3PeerFixture.RepositoryRoot}/src/SpotDevBox -c Release -- agent publish --to {target} --build linux-x64=", calls[2], StringComparison.Ordinal);
        Assert.Equal(3, calls.Length);

        using var manifest = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(target, "manifest.json")));
        Assert.Equal(["x86_64", "arm64"], manifest.RootElement.GetProperty("builds").EnumerateArray().Select(b => b.GetProperty("architecture").GetString()));
        foreach (var rid in new[] { "linux-x64", "linux-arm64" })
        {
            var published = Path.Combine(target, "v1", $"spotdevbox-{rid}.tar.gz");
            Assert.Equal(entries, await EntriesAsync(published));
            Assert.Equal(await File.ReadAllBytesAsync(published), await File.ReadAllBytesAsync(Path.Combine(kept, $"spotdevbox-{rid}.tar.gz")));
        }
    }

    [Fact]
    public async Task Script_NativeBuildFails_Exit1NamingWhatItNeedsAndPublishesNothing()
    {
        var bin = _temp.Sub("bin");
        await StubDotnetAsync(bin, _temp.Sub("dotnet.log"), failNative: true);
        var target = _temp.Sub("agent-builds");

        var (code, output) = await RunAsync(Script, [("PATH", bin + ":" + Environment.GetEnvironmentVariable("PATH"))], "--to", target, "--rid", "linux-arm64");

        Assert.Equal(1, code);
        Assert.Contains("publish-agent: the native AOT build for linux-arm64 failed: it needs clang (or gcc), and a cross toolchain", output, StringComparison.Ordinal);
        Assert.Contains("--ready-to-run needs neither", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(target), "something was published");
    }

    /// <summary>
    /// A stand-in 'dotnet' whose publish writes a small publish directory (an ELF header for the RID, the
    /// configuration, and the symbol files a real publish leaves) and whose run starts the real CLI; with
    /// <paramref name="failNative"/> a native AOT publish fails as one without a linker does. The stand-in
    /// uname says Darwin, so the script uploads through 'dotnet run'.
    /// </summary>
    private static async Task StubDotnetAsync(string bin, string log, bool failNative)
    {
        Directory.CreateDirectory(bin);
        // The ELF header of an x86_64 or aarch64 executable (e_machine 62 or 183) is all that 'agent publish' reads of it.
        await StubAsync(bin, "dotnet", $$"""
            echo "$*" >> '{{log}}'
            case "$1" in
                publish)
                    case "$*" in *-p:PublishAot=true*) {{(failNative ? "echo 'error : Platform linker not found' >&2; exit 1" : ":")}} ;; esac
                    while [ $# -gt 0 ]; do
                        case "$1" in -r) rid="$2"; shift ;; -o) out="$2"; shift ;; esac
                        shift
                    done
                    mkdir -p "$out/config"
                    if [ "$rid" = linux-x64 ]; then machine='\076'; else machine='\267'; fi
                    printf "\177ELF\002\001\001\000\000\000\000\000\000\000\000\000\002\000$machine\000" > "$out/spotdevbox"
                    chmod 755 "$out/spotdevbox"
                    echo '{}' > "$out/config/spotdevbox.json"
                    echo symbols > "$out/spotdevbox.dbg"
                    echo symbols > "$out/SpotDevBox.Core.pdb"
                    ;;
                run)
                    while [ "$1" != -- ]; do shift; done
                    shift
                    exec '{{DotnetHost()}}' '{{SpotDevBoxProcess.Dll}}' "$@"
                    ;;
            esac
            """);
        await StubAsync(bin, "uname", "echo Darwin");
    }

    public void Dispose() => _temp.Dispose();

    private static async Task<List<string>> EntriesAsync(string archive)
    {
        await using var file = File.OpenRead(archive);
        await using var gzip = new GZipStream(file, CompressionMode.Decompress);
        await using var tar = new TarReader(gzip);
        var names = new List<string>();
        while (await tar.GetNextEntryAsync() is { } entry)
        {
            names.Add(entry.Name);
        }

        return [.. names.Order(StringComparer.Ordinal)];
    }

    /// <summary>The dotnet host the tests run on: the stand-in named 'dotnet' must not call itself.</summary>
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)
            ? host
            : (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "dotnet")).First(File.Exists);

    private static async Task StubAsync(string bin, string name, string body)
    {
        var path = Path.Combine(bin, name);
        await File.WriteAllTextAsync(path, "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    private async Task<(int Code, string Output)> RunAsync(string file, (string Name, string Value)[] environment, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        // The CLI that the script starts sees none of this machine's settings, caches or logs.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("SPOTDEVBOX_", StringComparison.Ordinal) || k.StartsWith("AWS_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }

        start.Environment["SPOTDEVBOX_Logging__File"] = "off";
        start.Environment["XDG_CACHE_HOME"] = _temp.Sub("xdg-cache");
        start.Environment["XDG_STATE_HOME"] = _temp.Sub("xdg-state");
        start.Environment["TMPDIR"] = _temp.Path;
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
