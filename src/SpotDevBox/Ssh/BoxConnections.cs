using SpotDevBox.Agent;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Compute;
using SpotDevBox.Core.Ssh;
using SpotDevBox.Hosting;
using SpotDevBox.Repositories;

namespace SpotDevBox.Ssh;

/// <summary>
/// What a machine needs to reach one box over SSH: its current instance (null when none is live), the address
/// to dial, and the host keys its agent published (null before it saved any).
/// </summary>
internal sealed record BoxConnection(string Box, BoxOptions Options, BoxInstance? Instance, IReadOnlyList<HostPublicKey>? HostKeys)
{
    /// <summary>The name the box's keys have in the known-hosts file, the same for every instance of the box.</summary>
    public string HostKeyAlias => "spotdevbox-" + Box;

    public bool IsRunning => Instance?.State == InstanceState.Running;

    /// <summary>How ssh reaches the box (its SshVia; the options were validated).</summary>
    public SshRoute Route => SshRoutes.TryParse(Options.SshVia) ?? throw new ArgumentException($"Controller:Boxes:{Box}:SshVia must be one of {SshRoutes.Names}");

    /// <summary>
    /// What ssh dials. Through a tunnel (instance-connect, ssm): the instance id, which the ProxyCommand gets as %h.
    /// Direct: the public IP, else the public DNS name, else the private IP. An Elastic IP on the instance is its
    /// public IP (EC2 reports it so), so a box with one gets it here once the controller associated it.
    /// </summary>
    public string? HostName => Instance is null ? null
        : Route == SshRoute.Direct ? Instance.PublicIpAddress ?? Instance.PublicDnsName ?? Instance.PrivateIpAddress
        : Instance.InstanceId;

    /// <summary><c>user@host</c>, or the host alone for a box without a configured user.</summary>
    public string Destination => string.IsNullOrWhiteSpace(Options.User) ? HostName! : Options.User + "@" + HostName;
}

/// <summary>
/// Looks up boxes for ssh and ssh-config: one FindBoxInstancesAsync per region (all of its boxes at once), and
/// one read of host-keys.pub per box, all at the same time.
/// </summary>
internal sealed class BoxConnections(IComputeGatewayFactory compute, RepositoryOpener opener, TimeProvider time)
{
    public async Task<IReadOnlyList<BoxConnection>> ResolveAsync(IReadOnlyList<KeyValuePair<string, BoxOptions>> boxes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(boxes);
        var instances = boxes
            .GroupBy(b => b.Value.Region, StringComparer.Ordinal)
            .Select(region => compute.ForRegion(region.Key).FindBoxInstancesAsync(region.Count() == 1 ? region.First().Key : null, cancellationToken))
            .ToList();
        var keys = boxes.Select(b => ReadHostKeysAsync(b.Key, b.Value, cancellationToken)).ToList();
        await Task.WhenAll(instances.Cast<Task>().Concat(keys));

        var byBox = instances.SelectMany(t => t.Result).ToLookup(i => i.Box, StringComparer.Ordinal);
        return [.. boxes.Select((b, n) => new BoxConnection(b.Key, b.Value, Current(byBox[b.Key].Owned(b.Value.InstanceProfile)), keys[n].Result))];
    }

    /// <summary>
    /// The instance the box is on (only its own: its instance profile is the box's, docs/security.md): running before pending before stopping or stopped, then the newest. Ending and
    /// ended instances do not count: there is nothing to connect to.
    /// </summary>
    private static BoxInstance? Current(IEnumerable<BoxInstance> instances) =>
        instances
            .Where(i => i.IsLive)
            .OrderBy(i => i.State switch { InstanceState.Running => 0, InstanceState.Pending => 1, _ => 2 })
            .ThenByDescending(i => i.LaunchTime)
            .FirstOrDefault();

    private async Task<IReadOnlyList<HostPublicKey>?> ReadHostKeysAsync(string box, BoxOptions options, CancellationToken cancellationToken)
    {
        using var storage = BoxStorage.ForPrefix(options.Storage, opener, time);
        if (await storage.ReadHostPublicKeysAsync(cancellationToken) is not { } text)
        {
            return null;
        }

        var (keys, bad) = HostPublicKey.ParseList(text);
        if (bad.Count > 0)
        {
            Terminal.Warn($"{box}: {storage.Location}/{BoxStorage.HostPublicKeysName} line {string.Join(", ", bad)} is not '<keytype> <base64>'; left out");
        }

        return keys.Count > 0 ? keys : null;
    }
}
