using System.Text;

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
            box.Destination,
            .. extra,
        ];
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

        if (box.HostKeys is null)
        {
            yield return "host keys not saved yet (its agent has not finished a first boot): the first key offered is accepted";
        }
    }

    /// <summary>ssh_config splits values on whitespace unless they are in double quotes.</summary>
    private static string Quote(string value) => value.Any(char.IsWhiteSpace) ? "\"" + value + "\"" : value;
}
