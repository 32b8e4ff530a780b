namespace SpotDevBox.Core.Ssh;

/// <summary>How ssh reaches a box (<c>Controller:Boxes:&lt;box&gt;:SshVia</c>).</summary>
public enum SshRoute
{
    /// <summary>Through the EC2 Instance Connect Endpoint of the box's VPC: no port open to the internet, no public address needed.</summary>
    InstanceConnect,

    /// <summary>Through Session Manager (AWS-StartSSHSession): no inbound port at all; the box runs the SSM agent.</summary>
    Ssm,

    /// <summary>To the box's public (or Elastic) IP, else its private IP: port 22 must be open to the caller.</summary>
    Direct,
}

/// <summary>The names <c>SshVia</c> takes, and the checks that make a value safe to put in a ProxyCommand.</summary>
public static partial class SshRoutes
{
    public const string InstanceConnectName = "instance-connect";
    public const string SsmName = "ssm";
    public const string DirectName = "direct";

    /// <summary>"instance-connect, ssm, direct", for messages.</summary>
    public static string Names => $"{InstanceConnectName}, {SsmName}, {DirectName}";

    /// <summary>The route a setting names (exactly, in lower case), or null.</summary>
    public static SshRoute? TryParse(string? value) => value switch
    {
        InstanceConnectName => SshRoute.InstanceConnect,
        SsmName => SshRoute.Ssm,
        DirectName => SshRoute.Direct,
        _ => null,
    };

    /// <summary>An EC2 instance id, i- and 8 to 17 hex digits: nothing a shell would read as more than one word.</summary>
    public static bool IsInstanceId(string? value) => value is not null && InstanceId().IsMatch(value);

    /// <summary>An AWS region name such as eu-central-1 or us-gov-west-1.</summary>
    public static bool IsRegion(string? value) => value is not null && Region().IsMatch(value);

    [System.Text.RegularExpressions.GeneratedRegex("^i-[0-9a-f]{8,17}\\z", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex InstanceId();

    [System.Text.RegularExpressions.GeneratedRegex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]\\z", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex Region();
}
