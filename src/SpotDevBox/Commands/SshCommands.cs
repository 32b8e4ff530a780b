using System.ComponentModel;
using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Spectre.Console;
using Spectre.Console.Cli;
using SpotDevBox.Controller;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Ssh;
using SpotDevBox.Hosting;
using SpotDevBox.Ssh;

namespace SpotDevBox.Commands;

internal sealed class SshConfigSettings : CommandSettings
{
    [CommandArgument(0, "[BOX]")]
    [Description("Only this box (a name in Controller:Boxes). Default: every configured box.")]
    public string? BoxArgument { get; set; }

    [CommandOption(Commands.BoxArgument.AliasOption, IsHidden = true)]
    [Description("The same as BOX (an alias).")]
    public string? BoxOption { get; set; }

    public string? Box => Commands.BoxArgument.Of(BoxArgument, BoxOption);

    public override ValidationResult Validate() => Commands.BoxArgument.Check("ssh-config", BoxArgument, BoxOption);

    [CommandOption("--known-hosts <FILE>")]
    [Description("The known-hosts file to write and point ssh at. Default: ~/.ssh/spotdevbox_known_hosts.")]
    public string? KnownHosts { get; set; }
}

[Description("Print ssh_config 'Host <box>' entries for the configured boxes (how each is reached, by its SshVia: a ProxyCommand through the EC2 Instance Connect Endpoint by default or Session Manager, or its address for direct; its user and pinned host keys) and write the boxes' host keys to a known-hosts file. Save the output and Include it from ~/.ssh/config; run it again when a box has a new instance.")]
internal sealed class SshConfigCommand(IConfiguration configuration, BoxConnections connections) : AsyncCommand<SshConfigSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, SshConfigSettings settings, CancellationToken cancellationToken)
    {
        var boxes = SshBoxes.Select(configuration, settings.Box);
        var knownHosts = SshBoxes.KnownHostsPath(settings.KnownHosts);
        var resolved = await connections.ResolveAsync(boxes, cancellationToken);
        KnownHostsFile.Update(knownHosts, resolved.ToDictionary(b => b.HostKeyAlias, b => b.HostKeys, StringComparer.Ordinal));

        var output = new System.Text.StringBuilder();
        output.Append("# Written by 'spotdevbox ssh-config'; the boxes' host keys are in ").Append(knownHosts).Append('\n');
        foreach (var box in resolved)
        {
            output.Append('\n').Append(SshConfigText.Entry(box, knownHosts));
        }

        Console.Out.Write(output.ToString());
        return ExitCodes.Ok;
    }
}

internal sealed class SshSettings : CommandSettings
{
    [CommandArgument(0, "<BOX>")]
    [Description("The box, as named in Controller:Boxes.")]
    public string Box { get; set; } = "";

    [CommandOption("--known-hosts <FILE>")]
    [Description("The known-hosts file to refresh and use. Default: ~/.ssh/spotdevbox_known_hosts.")]
    public string? KnownHosts { get; set; }

    [CommandOption("--ssh-command <PATH>")]
    [Description("The ssh executable (no arguments). Default: $SPOTDEVBOX_SSH, else ssh on PATH.")]
    public string? SshCommand { get; set; }
}

[Description("Connect to a running box with ssh: by its SshVia (through the EC2 Instance Connect Endpoint by default, or Session Manager; both need the AWS CLI, no open port; or direct to its address), its user, and its pinned host keys (refreshed in the known-hosts file first). Arguments after -- go to ssh. Exits with ssh's exit code; 1 when the box is not running.")]
internal sealed class SshCommand(IConfiguration configuration, BoxConnections connections) : AsyncCommand<SshSettings>
{
    public const string SshVariable = "SPOTDEVBOX_SSH";

    public override async Task<int> ExecuteAsync(CommandContext context, SshSettings settings, CancellationToken cancellationToken)
    {
        var boxes = SshBoxes.Select(configuration, settings.Box);
        var knownHosts = SshBoxes.KnownHostsPath(settings.KnownHosts);
        var ssh = settings.SshCommand is { Length: > 0 } given ? given
            : Environment.GetEnvironmentVariable(SshVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment
            : "ssh";
        var box = (await connections.ResolveAsync(boxes, cancellationToken))[0];
        if (!box.IsRunning || box.HostName is null)
        {
            Console.Error.WriteLine(box.Instance is { } instance
                ? $"spotdevbox: {box.Box} is not running yet ({instance.InstanceId} is {instance.State.ToString().ToLowerInvariant()}); try again in a minute"
                : $"spotdevbox: {box.Box} is not running; start it with: spotdevbox up {box.Box}");
            return ExitCodes.Failure;
        }

        KnownHostsFile.Update(knownHosts, new Dictionary<string, IReadOnlyList<HostPublicKey>?>(StringComparer.Ordinal) { [box.HostKeyAlias] = box.HostKeys });
        if (box.HostKeys is null)
        {
            Terminal.Warn($"{box.Box}'s host keys are not saved yet (its agent has not finished a first boot): ssh accepts the key it is offered this time");
        }

        var start = new ProcessStartInfo(ssh) { UseShellExecute = false };
        foreach (var argument in SshConfigText.SshArguments(box, knownHosts, context.Remaining.Raw))
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new IOException($"'{ssh}' did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new IOException($"cannot run '{ssh}': {e.Message} (install the OpenSSH client, or name it with --ssh-command or {SshVariable})", e);
        }

        using (process)
        {
            // ssh has the terminal: Ctrl+C reaches it, and it decides when to end; this process only waits.
            await process.WaitForExitAsync(CancellationToken.None);
            return process.ExitCode;
        }
    }
}

/// <summary>The boxes and the known-hosts file the ssh verbs work on.</summary>
internal static class SshBoxes
{
    /// <summary>Every configured box, or the one named; an unknown name is invalid input (exit code 2).</summary>
    public static IReadOnlyList<KeyValuePair<string, BoxOptions>> Select(IConfiguration configuration, string? box)
    {
        var controller = ControllerConfiguration.ReadValidated(configuration);
        if (box is null)
        {
            if (controller.Boxes.Count == 0)
            {
                throw new ArgumentException("no box is configured (Controller:Boxes)");
            }

            return [.. controller.Boxes.OrderBy(b => b.Key, StringComparer.Ordinal)];
        }

        if (controller.Boxes.TryGetValue(box, out var options))
        {
            return [new(box, options)];
        }

        throw new ArgumentException(UpCommand.UnknownBox(box, controller));
    }

    public static string KnownHostsPath(string? given) =>
        string.IsNullOrWhiteSpace(given) ? KnownHostsFile.DefaultPath : Path.GetFullPath(given);
}
