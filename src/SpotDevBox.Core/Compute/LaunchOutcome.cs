namespace SpotDevBox.Core.Compute;

/// <summary>
/// What one RunInstances call came to. The launcher moves to its next candidate on the cases where
/// <see cref="TryAnotherCandidate"/> is true; the others would fail the same way anywhere.
/// </summary>
public abstract record LaunchOutcome
{
    // The cases below are the only ones.
    private LaunchOutcome(string reason) => Reason = reason;

    /// <summary>For people and the log: EC2's code and message, or what happened.</summary>
    public string Reason { get; }

    /// <summary>Capacity, price, quota, addresses or an unsupported placement: another type, zone or market may work.</summary>
    public bool TryAnotherCandidate => this is NoCapacity or PriceTooLow or QuotaExceeded or NoFreeAddresses or UnsupportedInAz;

    public sealed record Launched(BoxInstance Instance) : LaunchOutcome($"launched {Instance.InstanceId}");

    /// <summary>InsufficientInstanceCapacity: no capacity for this type in this zone (and market) now.</summary>
    public sealed record NoCapacity(string Message) : LaunchOutcome(Message);

    /// <summary>SpotMaxPriceTooLow: the max price is under the current spot price.</summary>
    public sealed record PriceTooLow(string Message) : LaunchOutcome(Message);

    /// <summary>
    /// MaxSpotInstanceCountExceeded (spot), VcpuLimitExceeded or InstanceLimitExceeded (on-demand): an
    /// account quota. Spot and on-demand quotas are separate, so the other market may still work.
    /// </summary>
    public sealed record QuotaExceeded(string Code, string Message) : LaunchOutcome($"{Code}: {Message}");

    /// <summary>InsufficientFreeAddressesInSubnet: the subnet has no free private address.</summary>
    public sealed record NoFreeAddresses(string Message) : LaunchOutcome(Message);

    /// <summary>Unsupported: the type is not offered in this zone (or not with these options).</summary>
    public sealed record UnsupportedInAz(string Message) : LaunchOutcome(Message);

    /// <summary>EC2 refused the request as wrong (parameter, image, subnet, group, key, profile, token reuse).</summary>
    public sealed record InvalidRequest(string Code, string Message) : LaunchOutcome($"{Code}: {Message}");

    /// <summary>The credentials are missing, invalid, or not allowed to launch with these parameters.</summary>
    public sealed record Unauthorized(string Message) : LaunchOutcome(Message);

    /// <summary>RequestLimitExceeded after the SDK's own retries: try again later.</summary>
    public sealed record Throttled(string Message) : LaunchOutcome(Message);

    /// <summary>
    /// EC2 was unreachable, timed out, or failed on its side: whether an instance started is unknown.
    /// Look for it by tag, or repeat the call with the same client token, which cannot start a second one.
    /// </summary>
    public sealed record Indeterminate(string Message) : LaunchOutcome(Message);
}
