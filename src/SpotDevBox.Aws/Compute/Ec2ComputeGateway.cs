using System.Globalization;
using System.Text;
using Amazon.EC2;
using Amazon.EC2.Model;
using SpotDevBox.Core.Compute;
using BoxInstanceState = SpotDevBox.Core.Compute.InstanceState;
using Ec2Instance = Amazon.EC2.Model.Instance;
using Ec2InstanceState = Amazon.EC2.Model.InstanceState;
using InstanceLifecycle = SpotDevBox.Core.Compute.InstanceLifecycle;
using StateReason = SpotDevBox.Core.Compute.StateReason;

namespace SpotDevBox.Aws.Compute;

/// <summary>EC2 in one region through the AWS SDK. Launch options every box gets are fixed here; see docs/ec2-adapter.md.</summary>
/// <remarks>
/// The SDK client is built on the first call, not here: the EC2 client resolves credentials in its
/// constructor, and a missing credential must become <see cref="ComputeFailure.Unauthorized"/> (or a
/// launch outcome) like any other failure, and be tried again on the next call.
/// </remarks>
internal sealed class Ec2ComputeGateway(Func<IAmazonEC2> createClient, string region) : IComputeGateway, IDisposable
{
    private readonly Lazy<IAmazonEC2> _client = new(createClient, LazyThreadSafetyMode.PublicationOnly);

    /// <summary>The largest page DescribeInstances and DescribeSpotPriceHistory serve.</summary>
    internal const int PageSize = 1000;

    /// <summary>DescribeInstanceTypes takes at most 100 types per call.</summary>
    internal const int InstanceTypesPerCall = 100;

    /// <summary>
    /// One hop: the agent on the host reaches the metadata service, a container on Docker's bridge network
    /// (one more hop) does not, so a throwaway container cannot take the box's role credentials.
    /// </summary>
    internal const int MetadataHopLimit = 1;

    public string Region { get; } = region;

    public async Task<SpotPriceHistory> DescribeSpotPricesAsync(SpotPriceQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var request = new DescribeSpotPriceHistoryRequest
        {
            InstanceTypes = [.. query.InstanceTypes],
            ProductDescriptions = [query.ProductDescription],
            StartTime = query.Since.UtcDateTime,
            EndTime = query.Until?.UtcDateTime,
            MaxResults = PageSize,
        };
        if (query.AvailabilityZones is { Count: > 0 } zones)
        {
            request.Filters = [new Filter("availability-zone", [.. zones])];
        }

        var points = new List<SpotPricePoint>();
        await foreach (var page in PagesAsync(
            "DescribeSpotPriceHistory",
            token => { request.NextToken = token; return _client.Value.DescribeSpotPriceHistoryAsync(request, cancellationToken); },
            r => r.NextToken,
            cancellationToken))
        {
            foreach (var price in page.SpotPriceHistory ?? [])
            {
                points.Add(ToPoint(price));
            }
        }

        return new SpotPriceHistory([.. points.OrderBy(p => p.Timestamp)]);
    }

    public async Task<IReadOnlyList<BoxInstance>> FindBoxInstancesAsync(string? box, CancellationToken cancellationToken)
    {
        var request = new DescribeInstancesRequest
        {
            Filters = box is null
                ? [new Filter("tag-key", [BoxTags.Box])]
                : [new Filter("tag:" + BoxTags.Box, [box])],
            MaxResults = PageSize,
        };
        var instances = new List<BoxInstance>();
        await foreach (var page in PagesAsync(
            "DescribeInstances",
            token => { request.NextToken = token; return _client.Value.DescribeInstancesAsync(request, cancellationToken); },
            r => r.NextToken,
            cancellationToken))
        {
            foreach (var instance in (page.Reservations ?? []).SelectMany(r => r.Instances ?? []))
            {
                var tags = TagsOf(instance);
                if (tags.TryGetValue(BoxTags.Box, out var boxName))
                {
                    instances.Add(ToBoxInstance(instance, tags, boxName, owner: null, sessionId: null));
                }
            }
        }

        return instances;
    }

    public async Task<LaunchOutcome> LaunchAsync(LaunchRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var problems = request.Problems();
        if (problems.Count > 0)
        {
            return new LaunchOutcome.InvalidRequest("SpotDevBox.InvalidLaunchRequest", string.Join("; ", problems));
        }

        RunInstancesResponse response;
        try
        {
            response = await _client.Value.RunInstancesAsync(ToRunInstancesRequest(request), cancellationToken);
        }
        catch (Exception e) when (!(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            return Ec2ErrorMapper.MapLaunch(e, Region);
        }

        var instance = response.Reservation?.Instances?.FirstOrDefault();
        if (instance?.InstanceId is null)
        {
            return new LaunchOutcome.Indeterminate($"RunInstances in {Region} answered without an instance (request {response.ResponseMetadata?.RequestId})");
        }

        return new LaunchOutcome.Launched(ToBoxInstance(instance, TagsOf(instance), request.Box, request.Owner, request.SessionId));
    }

    public async Task<BoxInstanceState> TerminateAsync(string instanceId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(instanceId);
        var response = await RunAsync(
            "TerminateInstances",
            () => _client.Value.TerminateInstancesAsync(new TerminateInstancesRequest { InstanceIds = [instanceId] }, cancellationToken),
            cancellationToken);
        var change = response.TerminatingInstances?.FirstOrDefault(c => c.InstanceId == instanceId)
            ?? throw new ComputeException(ComputeFailure.Unavailable, $"TerminateInstances in {Region} did not report {instanceId}");
        return ToState(change.CurrentState, instanceId);
    }

    public async Task<string> AssociateAddressAsync(string allocationId, string instanceId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(allocationId);
        ArgumentException.ThrowIfNullOrWhiteSpace(instanceId);

        // Look first: the public address comes from here either way (association does not change it), and an
        // address already on this instance needs no AssociateAddress, which EC2 may charge for as a remap.
        DescribeAddressesResponse described;
        try
        {
            described = await RunAsync(
                "DescribeAddresses",
                () => _client.Value.DescribeAddressesAsync(new DescribeAddressesRequest { AllocationIds = [allocationId] }, cancellationToken),
                cancellationToken);
        }
        catch (ComputeException e) when (e.Failure == ComputeFailure.NotFound)
        {
            // InvalidAllocationID.NotFound: EC2's message may not say which id, and the caller's configuration names it.
            throw new ComputeException(ComputeFailure.NotFound, $"there is no Elastic IP allocation {allocationId} in {Region} ({e.Message})", e);
        }

        var address = described.Addresses?.FirstOrDefault(a => a.AllocationId == allocationId);
        if (address is null)
        {
            throw new ComputeException(ComputeFailure.NotFound, $"there is no Elastic IP allocation {allocationId} in {Region} (DescribeAddresses answered without it)");
        }

        if (string.IsNullOrEmpty(address.PublicIp))
        {
            throw new ComputeException(ComputeFailure.Unavailable, $"DescribeAddresses in {Region} reported {allocationId} without a public address");
        }

        if (address.InstanceId == instanceId)
        {
            return address.PublicIp;
        }

        // AllowReassociation: the box's previous instance (or anything else) may still hold the address; the box's
        // newest instance takes it. In a VPC EC2 reassociates anyway; saying so keeps that from depending on the account.
        await RunAsync(
            "AssociateAddress",
            () => _client.Value.AssociateAddressAsync(
                new AssociateAddressRequest { AllocationId = allocationId, InstanceId = instanceId, AllowReassociation = true },
                cancellationToken),
            cancellationToken);
        return address.PublicIp;
    }

    public async Task<MachineImage?> DescribeImageAsync(ImageSelector selector, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(selector);
        if (selector.ImageId is { } imageId)
        {
            try
            {
                var byId = await RunAsync(
                    "DescribeImages",
                    () => _client.Value.DescribeImagesAsync(new DescribeImagesRequest { ImageIds = [imageId] }, cancellationToken),
                    cancellationToken);
                return byId.Images?.FirstOrDefault(i => i.ImageId == imageId) is { } image ? ToMachineImage(image) : null;
            }
            catch (ComputeException e) when (e.Failure == ComputeFailure.NotFound)
            {
                // InvalidAMIID.NotFound: the id names no image this account can see.
                return null;
            }
        }

        var request = new DescribeImagesRequest
        {
            Owners = [.. selector.Owners],
            Filters = [new Filter("name", [selector.NamePattern]), new Filter("state", ["available"])],
            MaxResults = PageSize,
        };
        var images = new List<Image>();
        await foreach (var page in PagesAsync(
            "DescribeImages",
            token => { request.NextToken = token; return _client.Value.DescribeImagesAsync(request, cancellationToken); },
            r => r.NextToken,
            cancellationToken))
        {
            images.AddRange(page.Images ?? []);
        }

        // Newest first; the id breaks a tie so the choice does not depend on EC2's order.
        return images
            .Select(ToMachineImage)
            .OrderByDescending(i => i.CreationDate ?? DateTimeOffset.MinValue)
            .ThenByDescending(i => i.ImageId, StringComparer.Ordinal)
            .FirstOrDefault();
    }

    public async Task<IReadOnlyDictionary<string, IReadOnlySet<CpuArchitecture>>> DescribeInstanceTypeArchitecturesAsync(
        IReadOnlyCollection<string> instanceTypes,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instanceTypes);
        var result = new Dictionary<string, IReadOnlySet<CpuArchitecture>>(StringComparer.Ordinal);
        foreach (var batch in instanceTypes.Distinct(StringComparer.Ordinal).Chunk(InstanceTypesPerCall))
        {
            var request = new DescribeInstanceTypesRequest { InstanceTypes = [.. batch] };
            await foreach (var page in PagesAsync(
                "DescribeInstanceTypes",
                token => { request.NextToken = token; return _client.Value.DescribeInstanceTypesAsync(request, cancellationToken); },
                r => r.NextToken,
                cancellationToken))
            {
                foreach (var info in page.InstanceTypes ?? [])
                {
                    var architectures = (info.ProcessorInfo?.SupportedArchitectures ?? [])
                        .Select(ParseArchitecture)
                        .OfType<CpuArchitecture>()
                        .ToHashSet();
                    result[info.InstanceType?.Value ?? ""] = architectures;
                }
            }
        }

        result.Remove("");
        return result;
    }

    public async Task<IReadOnlyDictionary<string, string>> DescribeSubnetZonesAsync(
        IReadOnlyList<string> subnetIds,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subnetIds);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var ids = subnetIds.Distinct(StringComparer.Ordinal).ToList();
        if (ids.Count == 0)
        {
            return result;
        }

        // No MaxResults: a box lists a handful of subnets, and EC2 answers an id list in one page; NextToken is followed anyway.
        var request = new DescribeSubnetsRequest { SubnetIds = ids };
        await foreach (var page in PagesAsync(
            "DescribeSubnets",
            token => { request.NextToken = token; return _client.Value.DescribeSubnetsAsync(request, cancellationToken); },
            r => r.NextToken,
            cancellationToken))
        {
            foreach (var subnet in page.Subnets ?? [])
            {
                if (!string.IsNullOrEmpty(subnet.SubnetId) && !string.IsNullOrEmpty(subnet.AvailabilityZone))
                {
                    result[subnet.SubnetId] = subnet.AvailabilityZone;
                }
            }
        }

        return result;
    }

    public async Task<VpcNetwork?> DescribeVpcAsync(string? vpcId, CancellationToken cancellationToken)
    {
        var vpcs = new DescribeVpcsRequest();
        if (vpcId is null)
        {
            vpcs.Filters = [new Filter("is-default", ["true"])];
        }
        else
        {
            vpcs.VpcIds = [vpcId];
        }

        var found = await RunAsync("DescribeVpcs", () => _client.Value.DescribeVpcsAsync(vpcs, cancellationToken), cancellationToken);
        if (found.Vpcs?.FirstOrDefault(v => vpcId is null ? v.IsDefault == true : v.VpcId == vpcId) is not { VpcId.Length: > 0 } vpc)
        {
            return vpcId is null ? null : throw new ComputeException(ComputeFailure.NotFound, $"the VPC {vpcId} does not exist in {Region}");
        }

        var request = new DescribeSubnetsRequest { Filters = [new Filter("vpc-id", [vpc.VpcId])] };
        var subnets = new List<VpcSubnet>();
        await foreach (var page in PagesAsync(
            "DescribeSubnets",
            token => { request.NextToken = token; return _client.Value.DescribeSubnetsAsync(request, cancellationToken); },
            r => r.NextToken,
            cancellationToken))
        {
            subnets.AddRange((page.Subnets ?? [])
                .Where(s => !string.IsNullOrEmpty(s.SubnetId) && !string.IsNullOrEmpty(s.AvailabilityZone))
                .Select(s => new VpcSubnet(s.SubnetId, s.AvailabilityZone, s.DefaultForAz == true)));
        }

        return new VpcNetwork(
            vpc.VpcId,
            vpc.IsDefault == true,
            [.. subnets.OrderBy(s => s.AvailabilityZone, StringComparer.Ordinal).ThenBy(s => s.SubnetId, StringComparer.Ordinal)]);
    }

    public void Dispose()
    {
        if (_client.IsValueCreated)
        {
            _client.Value.Dispose();
        }
    }

    internal static RunInstancesRequest ToRunInstancesRequest(LaunchRequest launch)
    {
        var tags = new List<Tag>
        {
            new(BoxTags.Box, launch.Box),
            new(BoxTags.Owner, launch.Owner),
            new(BoxTags.Session, launch.SessionId),
            new(BoxTags.Name, launch.Box),
        };
        tags.AddRange(launch.Tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => new Tag(t.Key, t.Value)));

        var request = new RunInstancesRequest
        {
            ImageId = launch.ImageId,
            InstanceType = InstanceType.FindValue(launch.InstanceType),
            MinCount = 1,
            MaxCount = 1,
            ClientToken = launch.ClientToken,
            // A power-off on the box (idle, schedule, the agent's stop) ends the instance and its billing;
            // a one-time spot instance could not be started again anyway.
            InstanceInitiatedShutdownBehavior = ShutdownBehavior.Terminate,
            MetadataOptions = new InstanceMetadataOptionsRequest
            {
                HttpTokens = HttpTokensState.Required,
                HttpEndpoint = InstanceMetadataEndpointState.Enabled,
                HttpPutResponseHopLimit = MetadataHopLimit,
            },
            BlockDeviceMappings =
            [
                new BlockDeviceMapping
                {
                    DeviceName = launch.RootVolume.DeviceName,
                    Ebs = new EbsBlockDevice
                    {
                        VolumeSize = launch.RootVolume.SizeGiB,
                        VolumeType = VolumeType.FindValue(launch.RootVolume.VolumeType),
                        // The work lives in S3; the volume is scratch that must not outlive the session.
                        DeleteOnTermination = true,
                        Encrypted = true,
                    },
                },
            ],
            TagSpecifications =
            [
                new TagSpecification { ResourceType = ResourceType.Instance, Tags = tags },
                new TagSpecification { ResourceType = ResourceType.Volume, Tags = [.. tags.Select(t => new Tag(t.Key, t.Value))] },
            ],
        };

        if (launch.Market == InstanceLifecycle.Spot)
        {
            request.InstanceMarketOptions = new InstanceMarketOptionsRequest
            {
                MarketType = MarketType.Spot,
                SpotOptions = new SpotMarketOptions
                {
                    SpotInstanceType = SpotInstanceType.OneTime,
                    InstanceInterruptionBehavior = InstanceInterruptionBehavior.Terminate,
                    MaxPrice = launch.MaxPricePerHour?.ToString(CultureInfo.InvariantCulture),
                },
            };
        }

        if (!string.IsNullOrEmpty(launch.SubnetId))
        {
            request.SubnetId = launch.SubnetId;
        }
        else if (!string.IsNullOrEmpty(launch.AvailabilityZone))
        {
            request.Placement = new Placement { AvailabilityZone = launch.AvailabilityZone };
        }

        if (launch.SecurityGroupIds.Count > 0)
        {
            request.SecurityGroupIds = [.. launch.SecurityGroupIds];
        }

        if (!string.IsNullOrEmpty(launch.KeyName))
        {
            request.KeyName = launch.KeyName;
        }

        if (!string.IsNullOrEmpty(launch.InstanceProfile))
        {
            request.IamInstanceProfile = launch.InstanceProfile.StartsWith("arn:", StringComparison.Ordinal)
                ? new IamInstanceProfileSpecification { Arn = launch.InstanceProfile }
                : new IamInstanceProfileSpecification { Name = launch.InstanceProfile };
        }

        if (launch.UserData.Length > 0)
        {
            request.UserData = Convert.ToBase64String(Encoding.UTF8.GetBytes(launch.UserData));
        }

        return request;
    }

    private SpotPricePoint ToPoint(SpotPrice price)
    {
        // EC2 sends the price as a string ("0.041200"); decimal keeps it exact for the ledger.
        if (!decimal.TryParse(price.Price, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var usdPerHour))
        {
            throw new ComputeException(ComputeFailure.Unavailable, $"DescribeSpotPriceHistory in {Region}: price '{price.Price}' for {price.InstanceType?.Value} in {price.AvailabilityZone} is not a number");
        }

        return new SpotPricePoint(
            price.InstanceType?.Value ?? "",
            price.AvailabilityZone ?? "",
            price.ProductDescription?.Value ?? "",
            usdPerHour,
            ToUtcOffset(price.Timestamp));
    }

    private BoxInstance ToBoxInstance(Ec2Instance instance, Dictionary<string, string> tags, string box, string? owner, string? sessionId) =>
        new(
            instance.InstanceId,
            tags.GetValueOrDefault(BoxTags.Box, box),
            tags.GetValueOrDefault(BoxTags.Owner) ?? owner,
            tags.GetValueOrDefault(BoxTags.Session) ?? sessionId,
            instance.InstanceType?.Value ?? "",
            instance.Placement?.AvailabilityZone ?? "",
            instance.InstanceLifecycle?.Value == "spot" ? InstanceLifecycle.Spot : InstanceLifecycle.OnDemand,
            ToState(instance.State, instance.InstanceId),
            string.IsNullOrEmpty(instance.StateReason?.Code) ? null : new StateReason(instance.StateReason.Code, instance.StateReason.Message ?? ""),
            ToUtcOffset(instance.LaunchTime),
            NullIfEmpty(instance.PrivateIpAddress),
            NullIfEmpty(instance.PublicIpAddress),
            NullIfEmpty(instance.PublicDnsName),
            TransitionTime(instance.StateTransitionReason),
            NullIfEmpty(instance.IamInstanceProfile?.Arn));

    /// <summary>
    /// The time in EC2's <c>StateTransitionReason</c>, e.g. "User initiated (2026-12-07 10:00:40 GMT)" or
    /// "Service initiated (2026-12-07 10:00:40 GMT)"; null when the reason carries none (running instances
    /// have an empty reason). The text is EC2's, not a documented format: anything else is no time.
    /// </summary>
    internal static DateTimeOffset? TransitionTime(string? reason)
    {
        const string Suffix = " GMT)";
        if (string.IsNullOrEmpty(reason) || !reason.EndsWith(Suffix, StringComparison.Ordinal))
        {
            return null;
        }

        var open = reason.LastIndexOf('(');
        if (open < 0)
        {
            return null;
        }

        var text = reason[(open + 1)..^Suffix.Length];
        return DateTimeOffset.TryParseExact(text, "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
            ? at
            : null;
    }

    private BoxInstanceState ToState(Ec2InstanceState? state, string instanceId)
    {
        // The high byte of the code is internal to EC2; the low byte is the state.
        if (state?.Code is { } code && Enum.IsDefined((BoxInstanceState)(code & 0xFF)))
        {
            return (BoxInstanceState)(code & 0xFF);
        }

        return state?.Name?.Value switch
        {
            "pending" => BoxInstanceState.Pending,
            "running" => BoxInstanceState.Running,
            "shutting-down" => BoxInstanceState.ShuttingDown,
            "terminated" => BoxInstanceState.Terminated,
            "stopping" => BoxInstanceState.Stopping,
            "stopped" => BoxInstanceState.Stopped,
            var other => throw new ComputeException(ComputeFailure.Unavailable, $"EC2 in {Region} reported state '{other}' (code {state?.Code}) for {instanceId}, which SpotDevBox does not know"),
        };
    }

    private static MachineImage ToMachineImage(Image image) =>
        new(
            image.ImageId,
            image.Name ?? "",
            ParseArchitecture(image.Architecture?.Value),
            image.RootDeviceName ?? "",
            DateTimeOffset.TryParse(image.CreationDate, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var created) ? created : null);

    private static CpuArchitecture? ParseArchitecture(string? value) => value switch
    {
        "x86_64" => CpuArchitecture.X64,
        "arm64" => CpuArchitecture.Arm64,
        _ => null,
    };

    private static Dictionary<string, string> TagsOf(Ec2Instance instance) =>
        (instance.Tags ?? [])
            .Where(t => t.Key is not null)
            .GroupBy(t => t.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Last().Value ?? "", StringComparer.Ordinal);

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static DateTimeOffset ToUtcOffset(DateTime? value) => value switch
    {
        null => DateTimeOffset.MinValue,
        { Kind: DateTimeKind.Unspecified } v => new DateTimeOffset(DateTime.SpecifyKind(v, DateTimeKind.Utc)),
        { } v => new DateTimeOffset(v.ToUniversalTime()),
    };

    /// <summary>Every page of a NextToken listing; a token EC2 repeats ends it rather than looping forever.</summary>
    private async IAsyncEnumerable<TResponse> PagesAsync<TResponse>(
        string operation,
        Func<string?, Task<TResponse>> call,
        Func<TResponse, string?> nextToken,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? token = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            var current = token;
            var page = await RunAsync(operation, () => call(current), cancellationToken);
            yield return page;
            token = nextToken(page);
            if (string.IsNullOrEmpty(token) || !seen.Add(token))
            {
                yield break;
            }
        }
    }

    private async Task<T> RunAsync<T>(string operation, Func<Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call();
        }
        catch (Exception e) when (e is not ComputeException && !(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            throw Ec2ErrorMapper.Map(e, operation, Region);
        }
    }
}
