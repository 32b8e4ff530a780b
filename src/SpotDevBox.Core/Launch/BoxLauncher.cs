using Microsoft.Extensions.Logging;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Compute;

namespace SpotDevBox.Core.Launch;

/// <summary>One launch of a box for a session.</summary>
/// <param name="Box">The box's name (its key under Controller:Boxes).</param>
/// <param name="SessionId">Part of every client token: a relaunch after the box's instance ended needs a new one.</param>
/// <param name="UserData">
/// The cloud-init text for the image's architecture, which the launcher learns (the agent binary and its
/// pinned SHA-256 differ between linux-x64 and linux-arm64). No secrets: it is readable from the box.
/// </param>
/// <param name="Interrupted">After a spot interruption, the pool it came from: other types and zones are tried first.</param>
public sealed record BoxLaunch(string Box, BoxOptions Options, string SessionId, Func<CpuArchitecture, string> UserData, InterruptedPlacement? Interrupted = null);

/// <summary>
/// Launches a box on the cheapest spot capacity it allows: refuses when the box has a live instance,
/// reads the image, the types' architectures, the subnets' zones and the spot prices, chooses the
/// candidates (<see cref="LaunchCandidates"/>) and tries them in order until one launches. Every candidate
/// and every decision is logged with its reason. See docs/launch.md.
/// </summary>
public sealed partial class BoxLauncher(
    IComputeGatewayFactory gateways,
    BoxLaunchGate gate,
    TimeProvider timeProvider,
    ILogger<BoxLauncher> logger)
{
    /// <summary>EC2 adds the change in effect before the start, so an hour back is enough to have the current price everywhere.</summary>
    internal static readonly TimeSpan SpotPriceLookback = TimeSpan.FromHours(1);

    /// <summary>
    /// Waits before repeating a throttled or indeterminate RunInstances with the same client token, on top
    /// of the SDK's own quick retries: an instance may exist, and only the same token is sure to find it.
    /// </summary>
    internal static readonly IReadOnlyList<TimeSpan> SameCandidateBackoff = [TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(8)];

    public async Task<LaunchResult> LaunchAsync(BoxLaunch launch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(launch);
        ArgumentException.ThrowIfNullOrWhiteSpace(launch.SessionId);
        using var held = await gate.EnterAsync(launch.Box, () => LogWaitingForGate(logger, launch.Box), cancellationToken);
        var gateway = gateways.ForRegion(launch.Options.Region);
        LogStarting(logger, launch.Box, gateway.Region, launch.SessionId);
        try
        {
            return await LaunchHeldAsync(gateway, launch, cancellationToken);
        }
        catch (ComputeException e)
        {
            // A lookup before any RunInstances failed, so nothing was launched.
            var failure = e.Failure is ComputeFailure.Throttled or ComputeFailure.Unavailable ? LaunchFailure.Unavailable : LaunchFailure.Rejected;
            var kind = e.Failure.ToString();
            LogLookupFailed(logger, launch.Box, kind, e.Message);
            return new LaunchResult.Failed(failure, $"box {launch.Box} not launched: {e.Message}", []);
        }
    }

    private async Task<LaunchResult> LaunchHeldAsync(IComputeGateway gateway, BoxLaunch launch, CancellationToken cancellationToken)
    {
        var (box, options) = (launch.Box, launch.Options);
        // Only the box's own instances (its instance profile) count: a tagged instance someone else launched is not the box.
        var live = (await gateway.FindBoxInstancesAsync(box, cancellationToken))
            .Owned(options.InstanceProfile)
            .Where(i => i.IsLive)
            .OrderByDescending(i => i.LaunchTime)
            .FirstOrDefault();
        if (live is not null)
        {
            LogAlreadyRunning(logger, box, live.InstanceId, live.State, live.InstanceType, live.AvailabilityZone);
            return new LaunchResult.AlreadyRunning(live);
        }

        var selector = string.IsNullOrWhiteSpace(options.ImageId)
            ? ImageSelector.ByName(options.ImageNameFilter, [options.ImageOwner])
            : ImageSelector.ById(options.ImageId);
        var image = await gateway.DescribeImageAsync(selector, cancellationToken);
        if (image is null)
        {
            return Rejected(box, $"no image: {selector} does not exist in {gateway.Region} or is not available to this account");
        }

        if (image.Architecture is not { } architecture)
        {
            return Rejected(box, $"image {image.ImageId} ('{image.Name}') is for an architecture the agent is not built for (it runs on x86_64 and arm64)");
        }

        var architectureName = LaunchCandidates.Name(architecture);
        LogImage(logger, box, image.ImageId, image.Name, architectureName);
        var types = options.InstanceTypes.Distinct(StringComparer.Ordinal).ToList();
        var typeArchitectures = await gateway.DescribeInstanceTypeArchitecturesAsync(types, cancellationToken);
        if (!types.Any(t => typeArchitectures.TryGetValue(t, out var a) && a.Contains(architecture)))
        {
            // Not a capacity question that another pass may answer: the configuration must change.
            var described = string.Join(", ", types.Select(t => typeArchitectures.TryGetValue(t, out var a)
                ? $"{t} is {string.Join(" and ", a.Order().Select(LaunchCandidates.Name))}"
                : $"{t} is unknown to EC2 in {gateway.Region}"));
            return Rejected(box, $"no type in Controller:Boxes:{box}:InstanceTypes runs the image's {architectureName} ({image.ImageId}): {described}; list {architectureName} types, or choose an image for theirs");
        }

        var placements = new List<LaunchPlacement>();
        if (options.Subnets.Count > 0)
        {
            var zones = await gateway.DescribeSubnetZonesAsync([.. options.Subnets], cancellationToken);
            foreach (var subnet in options.Subnets.Distinct(StringComparer.Ordinal))
            {
                if (!zones.TryGetValue(subnet, out var zone))
                {
                    return Rejected(box, $"subnet {subnet}: EC2 did not report its availability zone in {gateway.Region}");
                }

                placements.Add(new LaunchPlacement(zone, subnet));
            }
        }

        var prices = await gateway.DescribeSpotPricesAsync(
            new SpotPriceQuery(
                types,
                SpotPriceQuery.LinuxUnix,
                timeProvider.GetUtcNow() - SpotPriceLookback,
                AvailabilityZones: placements.Count > 0 ? [.. placements.Select(p => p.AvailabilityZone).Distinct(StringComparer.Ordinal)] : null),
            cancellationToken);

        var plan = LaunchCandidates.Choose(new CandidateInputs
        {
            InstanceTypes = types,
            Placements = placements,
            SpotPrices = prices.Latest,
            ImageArchitecture = architecture,
            TypeArchitectures = typeArchitectures,
            MaxPricePerHour = options.MaxPrice,
            OnDemandFallback = options.OnDemandFallback,
            Interrupted = launch.Interrupted,
        });
        LogPlan(logger, box, plan.Candidates.Count, plan.PassedOver.Count, plan.PriceCap, plan.OnDemandFallback);
        foreach (var passed in plan.PassedOver)
        {
            var market = passed.Market?.ToString() ?? "any market";
            LogPassedOver(logger, box, passed.InstanceType, passed.AvailabilityZone ?? "every zone", market, passed.Reason);
        }

        for (var i = 0; i < plan.Candidates.Count; i++)
        {
            var c = plan.Candidates[i];
            var (where, price) = (Where(c), c.SpotPricePerHour is { } p ? Usd.PerHour(p) : "on-demand price");
            LogCandidate(logger, box, i + 1, plan.Candidates.Count, c.InstanceType, where, c.Market, price);
        }

        var userData = launch.UserData(architecture);
        var reasons = new List<PassedOver>(plan.PassedOver);
        for (var i = 0; i < plan.Candidates.Count; i++)
        {
            var candidate = plan.Candidates[i];
            var request = Request(launch, candidate, image, userData);
            var where = Where(candidate);
            LogTrying(logger, box, i + 1, candidate.InstanceType, where, candidate.Market, request.ClientToken);
            var (outcome, attempts) = await LaunchSameCandidateAsync(gateway, box, candidate, request, cancellationToken);
            var failed = new PassedOver(candidate.InstanceType, candidate.AvailabilityZone, candidate.Market, $"{candidate}: {outcome.Reason}");
            switch (outcome)
            {
                case LaunchOutcome.Launched launched:
                    LogLaunched(logger, box, launched.Instance.InstanceId, candidate.InstanceType, where, candidate.Market, i);
                    return new LaunchResult.Launched(launched.Instance, candidate, reasons);

                case { TryAnotherCandidate: true }:
                    LogNextCandidate(logger, box, candidate.InstanceType, where, candidate.Market, outcome.Reason);
                    reasons.Add(failed);
                    continue;

                case LaunchOutcome.Throttled:
                    reasons.Add(failed);
                    LogThrottled(logger, box, candidate.InstanceType, where, attempts, outcome.Reason);
                    return new LaunchResult.Failed(LaunchFailure.Unavailable, $"box {box} not launched: EC2 kept throttling RunInstances ({attempts} attempts); try later", reasons);

                case LaunchOutcome.Indeterminate:
                    reasons.Add(failed);
                    LogIndeterminate(logger, box, candidate.InstanceType, where, attempts, request.ClientToken, outcome.Reason);
                    return new LaunchResult.Failed(LaunchFailure.Indeterminate, $"box {box}: whether {candidate} started is unknown after {attempts} attempts; an instance may exist (client token {request.ClientToken})", reasons);

                default:
                    // InvalidRequest, Unauthorized: the request or the permissions are wrong, for every candidate alike.
                    reasons.Add(failed);
                    LogRejected(logger, box, candidate.InstanceType, where, candidate.Market, outcome.Reason);
                    return new LaunchResult.Failed(LaunchFailure.Rejected, $"box {box} not launched: EC2 refused {candidate}: {outcome.Reason}", reasons);
            }
        }

        var why = plan.Candidates.Count == 0
            ? $"box {box} not launched: every allowed type and zone was passed over ({plan.PriceCap})"
            : $"box {box} not launched: none of its {plan.Candidates.Count} candidates could be launched";
        if (!plan.OnDemandFallback)
        {
            why += "; on-demand fallback is off for this box";
        }

        LogNoCandidateLaunched(logger, box, why);
        return new LaunchResult.Failed(LaunchFailure.NoCandidateLaunched, why, reasons);
    }

    /// <summary>One candidate: repeated with the same request (and client token) while the outcome is throttled or unknown.</summary>
    private async Task<(LaunchOutcome Outcome, int Attempts)> LaunchSameCandidateAsync(
        IComputeGateway gateway,
        string box,
        LaunchCandidate candidate,
        LaunchRequest request,
        CancellationToken cancellationToken)
    {
        var outcome = await gateway.LaunchAsync(request, cancellationToken);
        var attempts = 1;
        while (outcome is LaunchOutcome.Throttled or LaunchOutcome.Indeterminate && attempts <= SameCandidateBackoff.Count)
        {
            var (delay, kind, where) = (SameCandidateBackoff[attempts - 1], outcome.GetType().Name, Where(candidate));
            LogRetrying(logger, box, kind, candidate.InstanceType, where, delay, attempts, SameCandidateBackoff.Count, outcome.Reason);
            await Task.Delay(delay, timeProvider, cancellationToken);
            outcome = await gateway.LaunchAsync(request, cancellationToken);
            attempts++;
        }

        return (outcome, attempts);
    }

    private LaunchResult.Failed Rejected(string box, string reason)
    {
        LogLookupFailed(logger, box, nameof(LaunchFailure.Rejected), reason);
        return new LaunchResult.Failed(LaunchFailure.Rejected, $"box {box} not launched: {reason}", []);
    }

    private static LaunchRequest Request(BoxLaunch launch, LaunchCandidate candidate, MachineImage image, string userData)
    {
        var options = launch.Options;
        return new LaunchRequest
        {
            Box = launch.Box,
            Owner = options.Owner,
            SessionId = launch.SessionId,
            InstanceType = candidate.InstanceType,
            ImageId = image.ImageId,
            SubnetId = candidate.SubnetId,
            AvailabilityZone = candidate.SubnetId is null ? candidate.AvailabilityZone : null,
            SecurityGroupIds = [.. options.SecurityGroups],
            KeyName = NullIfBlank(options.KeyPair),
            InstanceProfile = NullIfBlank(options.InstanceProfile),
            RootVolume = new RootVolume(image.RootDeviceName, options.RootVolumeGiB, options.RootVolumeType),
            Market = candidate.Market,
            MaxPricePerHour = candidate.Market == InstanceLifecycle.Spot ? options.MaxPrice : null,
            UserData = userData,
            ClientToken = ClientTokens.Derive(launch.Box, launch.SessionId, candidate.InstanceType, candidate.PlacementKey, candidate.Market),
        };
    }

    private static string Where(LaunchCandidate c) =>
        c.AvailabilityZone is null ? "a zone EC2 chooses" : c.SubnetId is null ? c.AvailabilityZone : $"{c.AvailabilityZone} ({c.SubnetId})";

    private static string? NullIfBlank(string value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    [LoggerMessage(EventId = 5000, Level = LogLevel.Information, Message = "Launching box {Box} in {Region} for session {SessionId}")]
    private static partial void LogStarting(ILogger logger, string box, string region, string sessionId);

    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Another launch of box {Box} is in progress in this process: waiting for it")]
    private static partial void LogWaitingForGate(ILogger logger, string box);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "Box {Box} already has live instance {InstanceId} ({State}, {InstanceType} in {AvailabilityZone}): not launching another")]
    private static partial void LogAlreadyRunning(ILogger logger, string box, string instanceId, InstanceState state, string instanceType, string availabilityZone);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Information, Message = "Box {Box}: image {ImageId} ('{ImageName}', {Architecture})")]
    private static partial void LogImage(ILogger logger, string box, string imageId, string imageName, string architecture);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Information, Message = "Box {Box}: {CandidateCount} candidates to try, {PassedOverCount} passed over; {PriceCap}; on-demand fallback allowed: {OnDemandFallback}")]
    private static partial void LogPlan(ILogger logger, string box, int candidateCount, int passedOverCount, string priceCap, bool onDemandFallback);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Information, Message = "Box {Box}: passed over {InstanceType} ({AvailabilityZone}, {Market}): {Reason}")]
    private static partial void LogPassedOver(ILogger logger, string box, string instanceType, string availabilityZone, string market, string reason);

    [LoggerMessage(EventId = 5006, Level = LogLevel.Information, Message = "Box {Box}: candidate {Rank} of {Count}: {InstanceType} in {Placement}, {Market} at {Price}")]
    private static partial void LogCandidate(ILogger logger, string box, int rank, int count, string instanceType, string placement, InstanceLifecycle market, string price);

    [LoggerMessage(EventId = 5007, Level = LogLevel.Information, Message = "Box {Box}: trying candidate {Rank}: {InstanceType} in {Placement} ({Market}), client token {ClientToken}")]
    private static partial void LogTrying(ILogger logger, string box, int rank, string instanceType, string placement, InstanceLifecycle market, string clientToken);

    [LoggerMessage(EventId = 5008, Level = LogLevel.Warning, Message = "Box {Box}: {InstanceType} in {Placement} ({Market}) not launched, trying the next candidate: {Reason}")]
    private static partial void LogNextCandidate(ILogger logger, string box, string instanceType, string placement, InstanceLifecycle market, string reason);

    [LoggerMessage(EventId = 5009, Level = LogLevel.Warning, Message = "Box {Box}: {Outcome} for {InstanceType} in {Placement}; repeating it with the same client token in {Delay} (retry {Retry} of {MaxRetries}): {Reason}")]
    private static partial void LogRetrying(ILogger logger, string box, string outcome, string instanceType, string placement, TimeSpan delay, int retry, int maxRetries, string reason);

    [LoggerMessage(EventId = 5010, Level = LogLevel.Information, Message = "Box {Box} launched {InstanceId}: {InstanceType} in {Placement} ({Market}), after {FailedCandidates} candidates that failed")]
    private static partial void LogLaunched(ILogger logger, string box, string instanceId, string instanceType, string placement, InstanceLifecycle market, int failedCandidates);

    [LoggerMessage(EventId = 5011, Level = LogLevel.Error, Message = "Box {Box}: EC2 refused {InstanceType} in {Placement} ({Market}); not trying other candidates, the box's configuration or the permissions would fail everywhere: {Reason}")]
    private static partial void LogRejected(ILogger logger, string box, string instanceType, string placement, InstanceLifecycle market, string reason);

    [LoggerMessage(EventId = 5012, Level = LogLevel.Error, Message = "Box {Box}: EC2 throttled RunInstances for {InstanceType} in {Placement} through {Attempts} attempts; nothing launched, not trying other candidates now: {Reason}")]
    private static partial void LogThrottled(ILogger logger, string box, string instanceType, string placement, int attempts, string reason);

    [LoggerMessage(EventId = 5013, Level = LogLevel.Error, Message = "Box {Box}: outcome of {InstanceType} in {Placement} unknown after {Attempts} attempts with client token {ClientToken}; an instance may exist, so no other candidate is tried: {Reason}")]
    private static partial void LogIndeterminate(ILogger logger, string box, string instanceType, string placement, int attempts, string clientToken, string reason);

    [LoggerMessage(EventId = 5014, Level = LogLevel.Error, Message = "Box {Box}: {Reason}")]
    private static partial void LogNoCandidateLaunched(ILogger logger, string box, string reason);

    [LoggerMessage(EventId = 5015, Level = LogLevel.Error, Message = "Box {Box}: launch inputs could not be read ({Failure}): {Reason}")]
    private static partial void LogLookupFailed(ILogger logger, string box, string failure, string reason);
}
