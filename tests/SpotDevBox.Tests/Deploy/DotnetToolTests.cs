using System.Diagnostics;
using System.IO.Compression;
using TestSupport;

namespace SpotDevBox.Tests.Deploy;

/// <summary>
/// dotnet tool install --global spotdevbox, as a .NET user would run it, from a package source that holds only the
/// package 'dotnet pack' made (no other source, so nothing comes from the network), into a tool path of its own.
/// The package is scripts/release's (ReleaseBuildFixture).
/// </summary>
[Collection("release build")]
public sealed class DotnetToolTests(ReleaseBuildFixture release) : IDisposable
{
    private readonly TempDir _temp = new("spotdevbox-tool-");

    [Fact]
    public async Task ReleasePackage_ToolInstallFromThatSourceOnly_RunsVersionAndEstimate()
    {
        // A source of its own holding only scripts/release's package: nothing else to find, on the network or here.
        var source = Directory.CreateDirectory(_temp.Sub("source")).FullName;
        File.Copy(release.ToolPackage, Path.Combine(source, Path.GetFileName(release.ToolPackage)));
        var tools = _temp.Sub("tools");
        var config = _temp.Sub("nuget.config");
        await File.WriteAllTextAsync(config, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="release" value="{source}" />
              </packageSources>
            </configuration>
            """);
        using (var zip = ZipFile.OpenRead(release.ToolPackage))
        {
            Assert.Contains(zip.Entries, e => e.FullName == "tools/net10.0/any/DotnetToolSettings.xml");
            Assert.Contains(zip.Entries, e => e.FullName == "tools/net10.0/any/config/spotdevbox.json");
        }

        var install = await RunAsync("dotnet", "tool", "install", "spotdevbox", "--version", ReleaseBuildFixture.Version, "--tool-path", tools, "--configfile", config);
        Assert.True(install.Code == 0, install.Output);

        var tool = Path.Combine(tools, "spotdevbox");
        var version = await RunAsync(tool, "--version");
        Assert.True(version.Code == 0, version.Output);
        Assert.Matches($@"^spotdevbox {ReleaseBuildFixture.Version.Replace(".", @"\.", StringComparison.Ordinal)} \(commit ([0-9a-f]{{12}}|unknown)\)\n$", version.Output);

        var estimate = await RunAsync(tool, "estimate", "--region", "us-east-1", "--type", "m7i.large", "--schedule", "Mon-Fri 09:00-18:00", "--tz", "Europe/Berlin", "--json");
        Assert.True(estimate.Code == 0, estimate.Output);
        // The shipped price tables travel in the package: read beside the tool's executable.
        Assert.Contains("\"instance_type\":\"m7i.large\"", estimate.Output, StringComparison.Ordinal);
        Assert.Contains("config/prices/ondemand-linux-us-east-1.csv", estimate.Output, StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();

    private async Task<(int Code, string Output)> RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("SPOTDEVBOX_", StringComparison.Ordinal) || k.StartsWith("AWS_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }

        // Nothing of this machine's NuGet caches or tool manifests: a package left from an earlier run of the same
        // version must not stand in for the one just packed.
        start.Environment["NUGET_PACKAGES"] = _temp.Sub("nuget-packages");
        start.Environment["DOTNET_CLI_HOME"] = _temp.Sub("cli-home");
        start.Environment["SPOTDEVBOX_Logging__File"] = "off";
        start.Environment["XDG_CACHE_HOME"] = _temp.Sub("xdg-cache");
        start.Environment["XDG_STATE_HOME"] = _temp.Sub("xdg-state");
        start.Environment["AWS_EC2_METADATA_DISABLED"] = "true";

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
