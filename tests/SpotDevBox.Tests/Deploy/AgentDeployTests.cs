using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using SpotDevBox.Core.Agent;
using TestSupport;

namespace SpotDevBox.Tests.Deploy;

/// <summary>The agent's deploy files: a unit systemd accepts, timeouts that leave the final backup room, a valid example config.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class AgentDeployTests : IDisposable
{
    private static readonly string DeployDir = Path.Combine(S3PeerFixture.RepositoryRoot, "deploy", "systemd");
    private readonly TempDir _temp = new("spotdevbox-deploy-");

    [Fact]
    public async Task Unit_SystemdAnalyzeVerify_ReportsNothing()
    {
        // verify also checks that ExecStart= names an executable: point it at a stand-in, keep the rest as shipped.
        var binary = Path.Combine(_temp.Path, "spotdevbox");
        await File.WriteAllTextAsync(binary, "#!/bin/sh\n");
        File.SetUnixFileMode(binary, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.UserWrite);
        var unit = Path.Combine(_temp.Path, "spotdevbox-agent.service");
        await File.WriteAllTextAsync(unit, (await File.ReadAllTextAsync(Path.Combine(DeployDir, "spotdevbox-agent.service"))).Replace("/opt/spotdevbox/spotdevbox", binary, StringComparison.Ordinal));

        var (code, output) = await RunAsync("systemd-analyze", "verify", "--man=no", unit);

        Assert.True(code == 0, output);
        Assert.DoesNotContain("spotdevbox-agent.service:", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ControllerUnit_SystemdAnalyzeVerify_ReportsNothingAndRunsTheController()
    {
        var binary = Path.Combine(_temp.Path, "spotdevbox");
        await File.WriteAllTextAsync(binary, "#!/bin/sh\n");
        File.SetUnixFileMode(binary, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.UserWrite);
        var shipped = await File.ReadAllTextAsync(Path.Combine(DeployDir, "spotdevbox-controller.service"));
        var unit = Path.Combine(_temp.Path, "spotdevbox-controller.service");
        await File.WriteAllTextAsync(unit, shipped.Replace("/opt/spotdevbox/spotdevbox", binary, StringComparison.Ordinal));

        var (code, output) = await RunAsync("systemd-analyze", "verify", "--man=no", unit);

        Assert.True(code == 0, output);
        Assert.DoesNotContain("spotdevbox-controller.service:", output, StringComparison.Ordinal);
        Assert.Matches(new Regex("^ExecStart=/opt/spotdevbox/spotdevbox controller run$", RegexOptions.Multiline), shipped);
        Assert.Matches(new Regex("^Type=notify$", RegexOptions.Multiline), shipped);
    }

    [Fact]
    public async Task Unit_RunDirectory_NotWritableByOthersAndTheLeaseDirectoryOnlyByTheGroup()
    {
        var text = await File.ReadAllTextAsync(Path.Combine(DeployDir, "spotdevbox-agent.service"));

        Assert.Equal("0755", Regex.Match(text, "^RuntimeDirectoryMode=(\\d+)$", RegexOptions.Multiline).Groups[1].Value);
        Assert.Matches(new Regex("^ExecStartPre=-/usr/bin/install -d -o root -g spotdevbox -m 2770 /run/spotdevbox/lease$", RegexOptions.Multiline), text);
    }

    [Fact]
    public void RunDirectoryEnsure_Missing_CreatedWithMode0755()
    {
        var run = Path.Combine(_temp.Path, "run");

        SpotDevBox.Agent.RunDirectory.Ensure(run);

        Assert.Equal((UnixFileMode)0b111_101_101, File.GetUnixFileMode(run));
    }

    [Fact]
    public void RunDirectoryEnsure_LeftWorldWritableByAnOlderUnit_Tightened()
    {
        var run = Path.Combine(_temp.Path, "run");
        Directory.CreateDirectory(run);
        File.SetUnixFileMode(run, (UnixFileMode)0b1_111_111_111);

        SpotDevBox.Agent.RunDirectory.Ensure(run);

        Assert.Equal((UnixFileMode)0b111_101_101, File.GetUnixFileMode(run));
    }

    [Fact]
    public void ControllerExample_IsAValidControllerConfiguration()
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(S3PeerFixture.RepositoryRoot, "config", "controller.example.json"))
            .Build();
        var options = new SpotDevBox.Core.Boxes.ControllerOptions();
        configuration.GetSection("Controller").Bind(options, o => o.ErrorOnUnknownConfiguration = true);

        var result = new SpotDevBox.Core.Boxes.ControllerOptionsValidator().Validate(null, options);

        Assert.True(result.Succeeded, result.FailureMessage);
        Assert.Equal(["alice"], options.Boxes.Keys);
        // The example shows the metrics settings too (docs/controller.md "Metrics"), each one bound.
        Assert.Equal(("https://otlp.example.com:4318/v1/metrics", "http/protobuf", "", "9464"), (options.Metrics.Otlp.Endpoint, options.Metrics.Otlp.Protocol, options.Metrics.Otlp.Headers, options.Metrics.Prometheus.Listen));
    }

    [Fact]
    public async Task Unit_Ordering_LoginsWaitForTheRestoreAndStopLeavesRoomForTheFinalBackup()
    {
        var text = await File.ReadAllTextAsync(Path.Combine(DeployDir, "spotdevbox-agent.service"));

        Assert.Matches(new Regex("^Type=notify$", RegexOptions.Multiline), text);
        Assert.Matches(new Regex("^Before=systemd-user-sessions\\.service$", RegexOptions.Multiline), text);
        Assert.Matches(new Regex("^After=network-online\\.target", RegexOptions.Multiline), text);
        var stop = TimeSpan.FromSeconds(int.Parse(Regex.Match(text, "^TimeoutStopSec=(\\d+)s$", RegexOptions.Multiline).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        // The host allows the final backup Agent:StopTimeout plus 15 s to shut down; systemd must wait longer.
        Assert.True(stop > new AgentOptions().StopTimeout + TimeSpan.FromSeconds(15), $"TimeoutStopSec={stop} leaves no room");
    }

    [Fact]
    public async Task ProfileScript_BashSyntax_IsValid()
    {
        var (code, output) = await RunAsync("bash", "-n", Path.Combine(DeployDir, "spotdevbox-profile.sh"));
        Assert.True(code == 0, output);
    }

    [Fact]
    public void ExampleConfig_BoundAsTheAgentWould_IsValid()
    {
        var configuration = new ConfigurationBuilder().AddJsonFile(Path.Combine(DeployDir, "agent.example.json")).Build();
        var options = new AgentOptions();
        configuration.GetSection(AgentOptions.SectionName).Bind(options, o => o.ErrorOnUnknownConfiguration = true);

        var result = new AgentOptionsValidator().Validate(null, options);

        Assert.True(result.Succeeded, result.FailureMessage);
        Assert.Equal("alice", options.User);
    }

    public void Dispose() => _temp.Dispose();

    // verify runs with --man=no: whether man can open systemd.service(5) (Documentation=) says something about this
    // machine's man-db (missing in slim images, failing under faketime), not about the unit.
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
