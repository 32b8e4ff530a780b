using System.Text;
using SpotDevBox.Core.Ssh;

namespace SpotDevBox.Ssh;

/// <summary>The ssh_config entries ssh-config prints and the options ssh runs with: the same decisions in both.</summary>
internal static class SshConfigText
{
    /// <summary>
    /// Where a box that is not running points: a name under <c>.invalid</c> never resolves (RFC 6761), so
    /// <c>ssh &lt;box&gt;</c> fails at once with a message that says why, instead of reaching whatever a bare box
    /// name resolves to.
    /// </summary>
    public static string NotRunningHostName(string box) => box + ".not-running.invalid";

    /// <summary>
    /// <c>yes</c> when the box's keys are known; <c>accept-new</c> before its agent published any, so the first
    /// connection records the key it is offered (and later ones to the same instance are checked against it).
    /// </summary>
    public static string StrictHostKeyChecking(BoxConnection box) => box.HostKeys is null ? "accept-new" : "yes";

    public static string Entry(BoxConnection box, string knownHostsPath)
    {
        ArgumentNullException.ThrowIfNull(box);
        var text = new StringBuilder();
        text.Append("Host ").Append(box.Box).Append('\n');
        foreach (var comment in Comments(box))
        {
            text.Append("  # ").Append(comment).Append('\n');
        }

        text.Append("  HostName ").Append(box.HostName ?? NotRunningHostName(box.Box)).Append('\n');
        if (ProxyCommand(box) is { } proxy)
        {
            text.Append("  ProxyCommand ").Append(proxy).Append('\n');
        }
        if (!string.IsNullOrWhiteSpace(box.Options.User))
        {
            text.Append("  User ").Append(box.Options.User).Append('\n');
        }

        text.Append("  HostKeyAlias ").Append(box.HostKeyAlias).Append('\n');
        text.Append("  UserKnownHostsFile ").Append(Quote(knownHostsPath)).Append('\n');
        text.Append("  StrictHostKeyChecking ").Append(StrictHostKeyChecking(box)).Append('\n');
        return text.ToString();
    }

    /// <summary><c>-o</c> options, then <c>user@host</c>, then the caller's own arguments (ssh reads options after the destination too).</summary>
    public static IReadOnlyList<string> SshArguments(BoxConnection box, string knownHostsPath, IReadOnlyList<string> extra)
    {
        ArgumentNullException.ThrowIfNull(box);
        ArgumentNullException.ThrowIfNull(extra);
        return
        [
            "-o", "HostKeyAlias=" + box.HostKeyAlias,
            "-o", "UserKnownHostsFile=" + Quote(knownHostsPath),
            "-o", "StrictHostKeyChecking=" + StrictHostKeyChecking(box),
            .. ProxyCommand(box) is { } proxy ? (string[])["-o", "ProxyCommand=" + proxy] : [],
            box.Destination,
            .. extra,
        ];
    }

    /// <summary>
    /// The command ssh runs to reach a box through a tunnel, with the instance id as the host name (%h) and the
    /// port (%p); null for direct, and for a box without an instance (its host name never resolves). ssh hands
    /// the line to the shell, so only an instance id (i- and hex digits) and a region name (letters, digits,
    /// dashes) go into it: anything else is refused here, whatever EC2 or the configuration said.
    /// </summary>
    public static string? ProxyCommand(BoxConnection box)
    {
        ArgumentNullException.ThrowIfNull(box);
        if (box.Route == SshRoute.Direct || box.Instance is not { } instance)
        {
            return null;
        }

        if (!SshRoutes.IsInstanceId(instance.InstanceId))
        {
            throw new InvalidDataException($"EC2 reported an instance of {box.Box} whose id is not an instance id (i- and 8 to 17 hex digits): it is not put into an ssh ProxyCommand; check the endpoint EC2 is reached at");
        }

        if (!SshRoutes.IsRegion(box.Options.Region))
        {
            throw new ArgumentException($"Controller:Boxes:{box.Box}:Region must be an AWS region such as eu-central-1");
        }

        return box.Route switch
        {
            // AWS CLI v2 only: it looks up the instance's private address and its VPC's endpoint itself.
            SshRoute.InstanceConnect => $"aws ec2-instance-connect open-tunnel --instance-id %h --remote-port %p --region {box.Options.Region}",
            // AWS CLI (v1 or v2) with the session-manager-plugin.
            SshRoute.Ssm => $"aws ssm start-session --target %h --document-name AWS-StartSSHSession --parameters portNumber=%p --region {box.Options.Region}",
            _ => throw new ArgumentOutOfRangeException(nameof(box), box.Route, "not a tunnel route"),
        };
    }

    private static IEnumerable<string> Comments(BoxConnection box)
    {
        if (box.Instance is not { } instance)
        {
            yield return $"not running: start it with 'spotdevbox up {box.Box}', then run ssh-config again";
        }
        else if (!box.IsRunning)
        {
            yield return $"{instance.InstanceId} is {instance.State.ToString().ToLowerInvariant()}, not running yet";
        }
        else
        {
            yield return $"{instance.InstanceId} ({instance.InstanceType} in {instance.AvailabilityZone})";
        }

        if (box.Instance is not null)
        {
            yield return box.Route switch
            {
                SshRoute.InstanceConnect => "through the EC2 Instance Connect Endpoint of its VPC (needs the AWS CLI v2)",
                SshRoute.Ssm => "through Session Manager (needs the AWS CLI and its session-manager-plugin)",
                _ => "direct: port 22 must be open to this machine",
            };
        }

        if (box.HostKeys is null)
        {
            yield return "host keys not saved yet (its agent has not finished a first boot): the first key offered is accepted";
        }
    }

    /// <summary>ssh_config splits values on whitespace unless they are in double quotes.</summary>
    private static string Quote(string value) => value.Any(char.IsWhiteSpace) ? "\"" + value + "\"" : value;
}
