namespace SpotDevBox.Core.Compute;

/// <summary>
/// EC2 in one region, shaped by what the controller needs: prices to choose a placement, the boxes'
/// instances to reconcile, a launch whose failures are outcomes the launcher decides on, and the
/// lookups that keep the candidates compatible with the image.
/// </summary>
/// <remarks>
/// <see cref="LaunchAsync"/> never throws for an EC2 or network failure; it returns a
/// <see cref="LaunchOutcome"/>. Every other method throws <see cref="ComputeException"/> for those, so
/// a caller that can decide (an instance that is already gone, throttling) catches it on
/// <see cref="ComputeException.Failure"/>. Only the caller's cancellation ends a call with
/// <see cref="OperationCanceledException"/>.
/// </remarks>
public interface IComputeGateway
{
    /// <summary>The region every call goes to, e.g. <c>eu-central-1</c>.</summary>
    string Region { get; }

    /// <summary>
    /// Spot price changes in the query's range, all pages, plus the last change before its start (the
    /// price in effect then), so <see cref="SpotPriceHistory.Latest"/> is the current price per placement.
    /// </summary>
    Task<SpotPriceHistory> DescribeSpotPricesAsync(SpotPriceQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// Every instance tagged <see cref="BoxTags.Box"/> (or only <paramref name="box"/>'s), in every state
    /// EC2 still lists (terminated instances stay visible for about an hour), all pages, in one call.
    /// </summary>
    Task<IReadOnlyList<BoxInstance>> FindBoxInstancesAsync(string? box, CancellationToken cancellationToken);

    /// <summary>One <c>RunInstances</c> call for one instance; see <see cref="LaunchRequest"/>.</summary>
    Task<LaunchOutcome> LaunchAsync(LaunchRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Asks EC2 to terminate the instance and returns its state right after (shutting-down, or terminated
    /// when it already was). Repeating it is harmless. An unknown id throws with
    /// <see cref="ComputeFailure.NotFound"/>.
    /// </summary>
    Task<InstanceState> TerminateAsync(string instanceId, CancellationToken cancellationToken);

    /// <summary>
    /// Puts the Elastic IP <paramref name="allocationId"/> (<c>eipalloc-...</c>) on the instance and returns its
    /// public address. An address already on another instance (the box's previous one) moves to this one; an
    /// address already on this one is left as it is (EC2 may charge for every remap), so repeating the call is
    /// harmless and cheap. An unknown allocation throws <see cref="ComputeFailure.NotFound"/> naming it, an
    /// unknown instance <see cref="ComputeFailure.NotFound"/>, and an instance that is still pending
    /// <see cref="ComputeFailure.NotReady"/>: call again once it is running.
    /// </summary>
    Task<string> AssociateAddressAsync(string allocationId, string instanceId, CancellationToken cancellationToken);

    /// <summary>The image an id names, or the newest available one matching a name pattern; null when none matches.</summary>
    Task<MachineImage?> DescribeImageAsync(ImageSelector selector, CancellationToken cancellationToken);

    /// <summary>
    /// The architectures each instance type runs (x86_64, arm64). A type the region does not offer makes
    /// EC2 refuse the whole call (<see cref="ComputeFailure.Rejected"/> naming it).
    /// </summary>
    Task<IReadOnlyDictionary<string, IReadOnlySet<CpuArchitecture>>> DescribeInstanceTypeArchitecturesAsync(
        IReadOnlyCollection<string> instanceTypes,
        CancellationToken cancellationToken);

    /// <summary>
    /// The availability zone (e.g. <c>eu-central-1b</c>) of each subnet, keyed by subnet id; none for an
    /// empty list. A subnet that does not exist (or is in another region) throws with
    /// <see cref="ComputeFailure.NotFound"/> naming it.
    /// </summary>
    Task<IReadOnlyDictionary<string, string>> DescribeSubnetZonesAsync(
        IReadOnlyList<string> subnetIds,
        CancellationToken cancellationToken);

    /// <summary>
    /// A VPC and its subnets (each with its zone, ordered by zone then id): <paramref name="vpcId"/>, or the region's
    /// default VPC when it is null. Null when there is no default VPC; an unknown id throws with
    /// <see cref="ComputeFailure.NotFound"/> naming it.
    /// </summary>
    Task<VpcNetwork?> DescribeVpcAsync(string? vpcId, CancellationToken cancellationToken);
}

/// <summary>A VPC as <c>setup</c> shows and uses it: the boxes' security group lives in it, the boxes launch into its subnets.</summary>
public sealed record VpcNetwork(string VpcId, bool IsDefault, IReadOnlyList<VpcSubnet> Subnets);

/// <summary>A subnet of a <see cref="VpcNetwork"/>; <paramref name="DefaultForZone"/> marks a default VPC's subnet of its zone.</summary>
public sealed record VpcSubnet(string SubnetId, string AvailabilityZone, bool DefaultForZone);

/// <summary>Hands out the gateway for a region; boxes in several regions share one controller.</summary>
public interface IComputeGatewayFactory
{
    IComputeGateway ForRegion(string region);
}
