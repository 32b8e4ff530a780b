using System.Diagnostics;
using TestSupport;

namespace SpotDevBox.Tests.Deploy;

/// <summary>
/// The linux-x64 release archive and the .NET tool package, built once per test run by scripts/release (a native AOT
/// publish and a pack: minutes on two cores, in bin and obj folders of its own) for the "release build" collection. A machine without clang fails these tests with the
/// script's message rather than skipping them.
/// </summary>
public sealed class ReleaseBuildFixture : IAsyncLifetime
{
    public const string Version = "0.13.0-test.1";

    private readonly TempDir _temp = new("spotdevbox-release-build-");

    public string Directory => _temp.Sub("out");

    public string LinuxX64Archive => Path.Combine(Directory, $"spotdevbox-{Version}-linux-x64.tar.gz");

    /// <summary>The .NET tool package the same run made.</summary>
    public string ToolPackage => Path.Combine(Directory, $"spotdevbox.{Version}.nupkg");

    /// <summary>What the script printed, and how long it took.</summary>
    public string Output { get; private set; } = "";

    public TimeSpan Took { get; private set; }

    /// <summary>
    /// scripts/test starts the same build when the run begins, beside the other tests, into the folder this variable
    /// names (writing <c>release.log</c>, then <c>release.exit</c> with its exit code): the fixture then waits for it
    /// instead of building when its collection's turn comes, late in the run.
    /// </summary>
    public const string PrebuiltVariable = "SPOTDEVBOX_TEST_RELEASE_OUT";

    public async Task InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable(PrebuiltVariable) is { Length: > 0 } prebuilt)
        {
            await WaitForPrebuiltAsync(prebuilt);
            return;
        }

        var start = new ProcessStartInfo(Path.Combine(S3PeerFixture.RepositoryRoot, "scripts", "release"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in new[] { "--rid", "linux-x64", "--version", Version, "--out", Directory })
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["TMPDIR"] = _temp.Path;
        var started = Stopwatch.GetTimestamp();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(12));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            // Nothing of the build may outlive the run (its compilers would go on loading the machine).
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"scripts/release --rid linux-x64 did not finish within 12 minutes (a native AOT build takes 2-4 on two idle cores: is the machine loaded?); killed");
        }

        Took = Stopwatch.GetElapsedTime(started);
        Output = await stdout + await stderr;
        if (process.ExitCode != 0 || !File.Exists(LinuxX64Archive) || !File.Exists(ToolPackage))
        {
            throw new InvalidOperationException($"scripts/release --rid linux-x64 exited with {process.ExitCode}:\n{Output}");
        }
    }

    private async Task WaitForPrebuiltAsync(string folder)
    {
        var started = Stopwatch.GetTimestamp();
        var exitFile = Path.Combine(folder, "release.exit");
        while (!File.Exists(exitFile))
        {
            if (Stopwatch.GetElapsedTime(started) > TimeSpan.FromMinutes(15))
            {
                throw new TimeoutException($"scripts/test's release build ({PrebuiltVariable}={folder}) did not finish within 15 minutes");
            }

            await Task.Delay(TimeSpan.FromSeconds(1));
        }

        Took = Stopwatch.GetElapsedTime(started);
        Output = await File.ReadAllTextAsync(Path.Combine(folder, "release.log"));
        var exit = (await File.ReadAllTextAsync(exitFile)).Trim();
        foreach (var file in System.IO.Directory.EnumerateFiles(folder).Where(f => Path.GetFileName(f) is not ("release.log" or "release.exit")))
        {
            System.IO.Directory.CreateDirectory(Directory);
            File.Copy(file, Path.Combine(Directory, Path.GetFileName(file)), overwrite: true);
        }

        if (exit != "0" || !File.Exists(LinuxX64Archive) || !File.Exists(ToolPackage))
        {
            throw new InvalidOperationException($"scripts/release --rid linux-x64 (started by scripts/test) exited with {exit}:\n{Output}");
        }
    }

    public Task DisposeAsync()
    {
        _temp.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>The tests that use the release build: one at a time, after it.</summary>
[CollectionDefinition("release build")]
public sealed class ReleaseBuildCollection : ICollectionFixture<ReleaseBuildFixture>;
