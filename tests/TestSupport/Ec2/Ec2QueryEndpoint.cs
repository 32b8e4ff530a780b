using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace TestSupport.Ec2;

/// <summary>
/// EC2's query protocol on a loopback port, for the real AWSSDK.EC2 client: it decodes each form body,
/// records it, and answers RunInstances, DescribeInstances, DescribeSpotPriceHistory, TerminateInstances,
/// DescribeImages, DescribeInstanceTypes, DescribeSubnets, DescribeAddresses and AssociateAddress in the XML
/// shapes of the API reference (2016-11-15), with <c>nextToken</c> paging, client-token idempotency, and
/// scripted errors per call.
/// </summary>
public sealed class Ec2QueryEndpoint : IAsyncDisposable
{
    public const string Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/";

    private static readonly XNamespace Ns = Namespace;

    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly List<Ec2Request> _requests = [];
    private readonly List<ScriptedError> _errors = [];
    private readonly List<SimulatedInstance> _instances = [];
    private readonly List<SimulatedSpotPrice> _prices = [];
    private readonly List<SimulatedImage> _images = [];
    private readonly List<SimulatedAddress> _addresses = [];
    private readonly Dictionary<string, string[]> _architectures = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Fingerprint, string InstanceId)> _clientTokens = new(StringComparer.Ordinal);
    private WebApplication? _app;
    private int _nextInstance;
    private int _nextAssociation;
    private int _nextRequest;

    private Ec2QueryEndpoint(TimeProvider timeProvider)
    {
        _time = timeProvider;
    }

    /// <summary>e.g. <c>http://127.0.0.1:41234/</c>; what <c>AmazonEC2Config.ServiceURL</c> is set to.</summary>
    public Uri ServiceUrl { get; private set; } = null!;

    /// <summary>
    /// The most items a page holds, below the request's MaxResults, so a test can force paging with a
    /// handful of items. Real EC2 pages at MaxResults.
    /// </summary>
    public int PageSize
    {
        get { lock (_gate) { return field; } }
        set { lock (_gate) { field = value; } }
    } = 1000;

    /// <summary>Where an instance lands when RunInstances names only a subnet; also the subnets DescribeSubnets knows.</summary>
    public Dictionary<string, string> SubnetZones { get; } = new(StringComparer.Ordinal);

    public string DefaultZone { get; set; } = "us-east-1a";

    /// <summary>Every request so far, in arrival order (scripted errors included).</summary>
    public IReadOnlyList<Ec2Request> Requests
    {
        get { lock (_gate) { return [.. _requests]; } }
    }

    public IReadOnlyList<Ec2Request> RequestsFor(string action) => [.. Requests.Where(r => r.Action == action)];

    /// <summary>The endpoint's current view of its instances (launched ones included).</summary>
    public IReadOnlyList<SimulatedInstance> Instances
    {
        get { lock (_gate) { return [.. _instances]; } }
    }

    /// <summary>The endpoint's current view of its Elastic IPs (associations included).</summary>
    public IReadOnlyList<SimulatedAddress> Addresses
    {
        get { lock (_gate) { return [.. _addresses]; } }
    }

    public static async Task<Ec2QueryEndpoint> StartAsync(TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        var endpoint = new Ec2QueryEndpoint(timeProvider ?? TimeProvider.System);
        var (app, url) = await LoopbackHttpServer.StartAsync(endpoint.HandleAsync, cancellationToken);
        endpoint.ServiceUrl = url;
        endpoint._app = app;
        return endpoint;
    }

    public void AddInstance(SimulatedInstance instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        lock (_gate)
        {
            _instances.Add(instance);
        }
    }

    /// <summary>
    /// An Elastic IP of the account. One with an <see cref="SimulatedAddress.InstanceId"/> is on that instance,
    /// which then reports it as its public address, as EC2 does.
    /// </summary>
    public void AddAddress(SimulatedAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        lock (_gate)
        {
            _addresses.Add(address);
            if (address.InstanceId is { } id && _instances.FindIndex(i => i.InstanceId == id) is var index and >= 0)
            {
                _instances[index] = _instances[index] with { PublicIpAddress = address.PublicIp };
            }
        }
    }

    /// <summary>Changes an instance as EC2 would (a state, a state reason); the id must exist.</summary>
    public void UpdateInstance(string instanceId, Func<SimulatedInstance, SimulatedInstance> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        lock (_gate)
        {
            var i = _instances.FindIndex(x => x.InstanceId == instanceId);
            if (i < 0)
            {
                throw new ArgumentException($"no instance {instanceId}", nameof(instanceId));
            }

            _instances[i] = change(_instances[i]);
        }
    }

    public void AddSpotPrice(SimulatedSpotPrice price)
    {
        ArgumentNullException.ThrowIfNull(price);
        lock (_gate)
        {
            _prices.Add(price);
        }
    }

    public void AddImage(SimulatedImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        lock (_gate)
        {
            _images.Add(image);
        }
    }

    /// <summary>What DescribeInstanceTypes reports as <c>processorInfo/supportedArchitectures</c> for <paramref name="instanceType"/>.</summary>
    public void AddInstanceType(string instanceType, params string[] architectures)
    {
        lock (_gate)
        {
            _architectures[instanceType] = architectures;
        }
    }

    /// <summary>
    /// The next <paramref name="times"/> calls of <paramref name="action"/> that match <paramref name="when"/>
    /// (null: any) answer with <paramref name="error"/> instead.
    /// </summary>
    public void FailNext(string action, Ec2Error error, Func<Ec2Request, bool>? when = null, int times = 1)
    {
        ArgumentNullException.ThrowIfNull(error);
        lock (_gate)
        {
            _errors.Add(new ScriptedError(action, error, when) { Remaining = times });
        }
    }

    /// <summary>E.g. "the next RunInstances in us-east-1a answers InsufficientInstanceCapacity".</summary>
    public void FailNextRunInstances(Ec2Error error, string? availabilityZone = null, string? instanceType = null, int times = 1) =>
        FailNext(
            "RunInstances",
            error,
            r => (availabilityZone is null || ZoneOf(r) == availabilityZone) && (instanceType is null || r["InstanceType"] == instanceType),
            times);

    private RunInstancesHold? _hold;

    /// <summary>
    /// From now on, each RunInstances is carried out (the instance exists, as EC2 would have made it) but its answer is
    /// held until <see cref="RunInstancesHold.Release"/>: a caller killed meanwhile dies in the middle of the call.
    /// With <paramref name="beforeMaking"/>, only the next call is held, before it is carried out: EC2 has received it
    /// and makes the instance only when released, whether its caller is still there or not (as a request EC2 was slow
    /// to act on).
    /// </summary>
    public RunInstancesHold HoldRunInstances(bool beforeMaking = false)
    {
        var hold = new RunInstancesHold { BeforeMaking = beforeMaking };
        lock (_gate)
        {
            _hold = hold;
        }

        return hold;
    }

    /// <summary>What <see cref="HoldRunInstances"/> returns.</summary>
    public sealed class RunInstancesHold
    {
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource<string> _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);

        internal bool BeforeMaking { get; init; }

        /// <summary>Completes with the instance id when the first held call arrives ("" when held before making it).</summary>
        public Task<string> Arrived => _arrived.Task;

        public void Release() => _released.TrySetResult();

        internal Task HoldAsync(string instanceId)
        {
            _arrived.TrySetResult(instanceId);
            return _released.Task;
        }
    }

    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            _hold?.Release();
        }

        if (_app is not null)
        {
            using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _app.StopAsync(stopTimeout.Token);
            await _app.DisposeAsync();
        }
    }

    private string ZoneOf(Ec2Request request) =>
        request["Placement.AvailabilityZone"]
        ?? (request["SubnetId"] is { } subnet && SubnetZones.TryGetValue(subnet, out var zone) ? zone : DefaultZone);

    private async Task HandleAsync(HttpContext context)
    {
        var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
        if (context.Request.HasFormContentType)
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            foreach (var (key, value) in form)
            {
                pairs[key] = value.ToString();
            }
        }

        foreach (var (key, value) in context.Request.Query)
        {
            pairs.TryAdd(key, value.ToString());
        }

        var request = new Ec2Request(pairs.GetValueOrDefault("Action", ""), pairs);
        RunInstancesHold? hold;
        lock (_gate)
        {
            hold = _hold;
            if (hold is { BeforeMaking: true } && request.Action == "RunInstances")
            {
                _hold = null;
            }
            else if (hold is { BeforeMaking: true })
            {
                hold = null;
            }
        }

        if (hold is { BeforeMaking: true })
        {
            // Received: carried out when released, the caller gone or not.
            await hold.HoldAsync("");
            hold = null;
        }

        var (status, body) = Answer(request);

        if (hold is not null && request.Action == "RunInstances" && status == 200
            && XDocument.Parse(body).Descendants(Ns + "instanceId").FirstOrDefault()?.Value is { } launched)
        {
            // The caller may die meanwhile: the instance exists all the same, as it would in EC2.
            await hold.HoldAsync(launched).WaitAsync(context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            if (context.RequestAborted.IsCancellationRequested)
            {
                return;
            }
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = "text/xml;charset=UTF-8";
        await context.Response.WriteAsync(body, Encoding.UTF8, context.RequestAborted);
    }

    private (int Status, string Body) Answer(Ec2Request request)
    {
        lock (_gate)
        {
            _requests.Add(request);
            var requestId = $"00000000-0000-4000-8000-{++_nextRequest:D12}";
            if (TakeScriptedError(request) is { } scripted)
            {
                return ErrorReply(scripted, requestId);
            }

            try
            {
                var body = request.Action switch
                {
                    "RunInstances" => RunInstances(request, requestId),
                    "DescribeInstances" => DescribeInstances(request, requestId),
                    "DescribeSpotPriceHistory" => DescribeSpotPriceHistory(request, requestId),
                    "TerminateInstances" => TerminateInstances(request, requestId),
                    "DescribeImages" => DescribeImages(request, requestId),
                    "DescribeInstanceTypes" => DescribeInstanceTypes(request, requestId),
                    "DescribeSubnets" => DescribeSubnets(request, requestId),
                    "DescribeAddresses" => DescribeAddresses(request, requestId),
                    "AssociateAddress" => AssociateAddress(request, requestId),
                    _ => throw new Ec2Fault(new Ec2Error("InvalidAction", $"The action {request.Action} is not valid for this web service.")),
                };
                return (200, body.ToString(SaveOptions.DisableFormatting));
            }
            catch (Ec2Fault fault)
            {
                return ErrorReply(fault.Error, requestId);
            }
            catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException or KeyNotFoundException or OverflowException)
            {
                // A bug in the endpoint or a request it cannot read: say so in the answer, as EC2 would.
                return ErrorReply(new Ec2Error("InternalError", $"test endpoint failed on {request.Action}: {e.Message}", 500), requestId);
            }
        }
    }

    private Ec2Error? TakeScriptedError(Ec2Request request)
    {
        foreach (var scripted in _errors)
        {
            if (scripted.Remaining > 0 && scripted.Action == request.Action && (scripted.When is null || scripted.When(request)))
            {
                scripted.Remaining--;
                return scripted.Error;
            }
        }

        return null;
    }

    private static (int Status, string Body) ErrorReply(Ec2Error error, string requestId) =>
        (error.Status, new XElement(
            "Response",
            new XElement("Errors", new XElement("Error", new XElement("Code", error.Code), new XElement("Message", error.Message))),
            new XElement("RequestID", requestId)).ToString(SaveOptions.DisableFormatting));

    private XElement RunInstances(Ec2Request request, string requestId)
    {
        if (request["MinCount"] != "1" || request["MaxCount"] != "1")
        {
            throw new Ec2Fault(new Ec2Error("InvalidParameterValue", "this endpoint launches exactly one instance"));
        }

        var fingerprint = string.Join('&', request.Parameters.Where(p => p.Key != "Action" && p.Key != "Version").OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + "=" + p.Value));
        var token = request["ClientToken"];
        SimulatedInstance instance;
        if (token is not null && _clientTokens.TryGetValue(token, out var earlier))
        {
            if (earlier.Fingerprint != fingerprint)
            {
                throw new Ec2Fault(new Ec2Error("IdempotentParameterMismatch", "Arguments on this idempotent request are inconsistent with arguments used in previous request(s)."));
            }

            instance = _instances.First(i => i.InstanceId == earlier.InstanceId);
        }
        else
        {
            var spot = request["InstanceMarketOptions.MarketType"] == "spot";
            instance = new SimulatedInstance
            {
                InstanceId = $"i-0{++_nextInstance:x16}",
                ImageId = request["ImageId"] ?? "",
                InstanceType = request["InstanceType"] ?? "",
                AvailabilityZone = ZoneOf(request),
                SubnetId = request["SubnetId"],
                StateCode = 0,
                Lifecycle = spot ? "spot" : null,
                LaunchTime = _time.GetUtcNow(),
                PrivateIpAddress = $"10.0.1.{10 + _nextInstance}",
                ClientToken = token,
                Tags = request.TagsFor("instance") ?? new Dictionary<string, string>(),
                InstanceProfileArn = request["IamInstanceProfile.Arn"]
                    ?? (request["IamInstanceProfile.Name"] is { } profile ? $"arn:aws:iam::123456789012:instance-profile/{profile}" : null),
            };
            _instances.Add(instance);
            if (token is not null)
            {
                _clientTokens[token] = (fingerprint, instance.InstanceId);
            }
        }

        return Element(
            "RunInstancesResponse",
            E("requestId", requestId),
            E("reservationId", "r-" + instance.InstanceId[2..]),
            E("ownerId", "123456789012"),
            E("groupSet"),
            E("instancesSet", InstanceItem(instance)));
    }

    private XElement DescribeInstances(Ec2Request request, string requestId)
    {
        var filters = request.Filters();
        var matching = _instances.Where(i => filters.All(f => InstanceMatches(i, f.Key, f.Value))).ToList();
        var (page, next) = Page(matching, request);
        return Element(
            "DescribeInstancesResponse",
            E("requestId", requestId),
            E("reservationSet", page.Select(i => E(
                "item",
                E("reservationId", "r-" + i.InstanceId[2..]),
                E("ownerId", "123456789012"),
                E("groupSet"),
                E("instancesSet", InstanceItem(i))))),
            next is null ? null : E("nextToken", next));
    }

    private XElement DescribeSpotPriceHistory(Ec2Request request, string requestId)
    {
        var types = request.Values("InstanceType");
        var products = request.Values("ProductDescription");
        var zones = request.Filters().GetValueOrDefault("availability-zone");
        var start = request["StartTime"] is { } s ? DateTimeOffset.Parse(s, CultureInfo.InvariantCulture) : (DateTimeOffset?)null;
        var end = request["EndTime"] is { } e ? DateTimeOffset.Parse(e, CultureInfo.InvariantCulture) : (DateTimeOffset?)null;
        var candidates = _prices
            .Where(p => (types.Count == 0 || types.Contains(p.InstanceType))
                && (products.Count == 0 || products.Contains(p.ProductDescription))
                && (zones is null || zones.Contains(p.AvailabilityZone)))
            .ToList();

        // As EC2 does: the changes in range plus, per placement, the last change before the start.
        var selected = candidates
            .GroupBy(p => (p.InstanceType, p.AvailabilityZone, p.ProductDescription))
            .SelectMany(g =>
            {
                var inRange = g.Where(p => (start is null || p.Timestamp >= start) && (end is null || p.Timestamp <= end)).ToList();
                var before = start is null ? null : g.Where(p => p.Timestamp < start).MaxBy(p => p.Timestamp);
                return before is null ? inRange : inRange.Append(before);
            })
            .OrderByDescending(p => p.Timestamp)
            .ThenBy(p => p.InstanceType, StringComparer.Ordinal)
            .ThenBy(p => p.AvailabilityZone, StringComparer.Ordinal)
            .ToList();
        var (page, next) = Page(selected, request);
        return Element(
            "DescribeSpotPriceHistoryResponse",
            E("requestId", requestId),
            E("spotPriceHistorySet", page.Select(p => E(
                "item",
                E("instanceType", p.InstanceType),
                E("productDescription", p.ProductDescription),
                E("spotPrice", p.Price),
                E("timestamp", FormatTime(p.Timestamp)),
                E("availabilityZone", p.AvailabilityZone)))),
            E("nextToken", next ?? ""));
    }

    private XElement TerminateInstances(Ec2Request request, string requestId)
    {
        var ids = request.Values("InstanceId");
        var unknown = ids.Where(id => _instances.All(i => i.InstanceId != id)).ToList();
        if (unknown.Count > 0)
        {
            throw new Ec2Fault(new Ec2Error("InvalidInstanceID.NotFound", $"The instance ID '{string.Join(", ", unknown)}' does not exist"));
        }

        var items = new List<XElement>();
        foreach (var id in ids)
        {
            var index = _instances.FindIndex(i => i.InstanceId == id);
            var previous = _instances[index];
            var current = previous.StateCode == 48 ? 48 : 32;
            _instances[index] = previous with
            {
                StateCode = current,
                StateReasonCode = previous.StateCode == 48 ? previous.StateReasonCode : "Client.UserInitiatedShutdown",
                StateReasonMessage = previous.StateCode == 48 ? previous.StateReasonMessage : "Client.UserInitiatedShutdown: User initiated shutdown",
                StateTransitionReason = previous.StateCode == 48
                    ? previous.StateTransitionReason
                    : string.Create(CultureInfo.InvariantCulture, $"User initiated ({_time.GetUtcNow().UtcDateTime:yyyy-MM-dd HH:mm:ss} GMT)"),
            };
            items.Add(E("item", E("instanceId", id), StateElement("currentState", current), StateElement("previousState", previous.StateCode)));
        }

        return Element("TerminateInstancesResponse", E("requestId", requestId), E("instancesSet", items));
    }

    private XElement DescribeImages(Ec2Request request, string requestId)
    {
        var ids = request.Values("ImageId");
        var owners = request.Values("Owner");
        var filters = request.Filters();
        var missing = ids.Where(id => _images.All(i => i.ImageId != id)).ToList();
        if (missing.Count > 0)
        {
            throw new Ec2Fault(new Ec2Error("InvalidAMIID.NotFound", $"The image id '[{string.Join(", ", missing)}]' does not exist"));
        }

        var matching = _images
            .Where(i => (ids.Count == 0 || ids.Contains(i.ImageId))
                && (owners.Count == 0 || owners.Contains(i.OwnerId) || (owners.Contains("self") && i.OwnerId == "123456789012"))
                && (!filters.TryGetValue("name", out var names) || names.Any(n => Wildcard(n).IsMatch(i.Name)))
                && (!filters.TryGetValue("state", out var states) || states.Contains(i.State)))
            .ToList();
        var (page, next) = Page(matching, request);
        return Element(
            "DescribeImagesResponse",
            E("requestId", requestId),
            E("imagesSet", page.Select(i => E(
                "item",
                E("imageId", i.ImageId),
                E("imageLocation", i.OwnerId + "/" + i.Name),
                E("imageState", i.State),
                E("imageOwnerId", i.OwnerId),
                E("creationDate", i.CreationDate),
                E("isPublic", "false"),
                E("architecture", i.Architecture),
                E("imageType", "machine"),
                E("name", i.Name),
                E("rootDeviceType", "ebs"),
                E("rootDeviceName", i.RootDeviceName),
                E("virtualizationType", "hvm")))),
            next is null ? null : E("nextToken", next));
    }

    private XElement DescribeInstanceTypes(Ec2Request request, string requestId)
    {
        var types = request.Values("InstanceType");
        var unknown = types.Where(t => !_architectures.ContainsKey(t)).ToList();
        if (unknown.Count > 0)
        {
            throw new Ec2Fault(new Ec2Error("InvalidInstanceType", $"The following supplied instance types do not exist: [{string.Join(", ", unknown)}]"));
        }

        var selected = (types.Count == 0 ? _architectures.Keys.Order(StringComparer.Ordinal) : types.AsEnumerable()).ToList();
        var (page, next) = Page(selected, request);
        return Element(
            "DescribeInstanceTypesResponse",
            E("requestId", requestId),
            E("instanceTypeSet", page.Select(t => E(
                "item",
                E("instanceType", t),
                E("currentGeneration", "true"),
                E("processorInfo", E("supportedArchitectures", _architectures[t].Select(a => E("item", a))))))),
            next is null ? null : E("nextToken", next));
    }

    private XElement DescribeSubnets(Ec2Request request, string requestId)
    {
        var ids = request.Values("SubnetId");
        var missing = ids.Where(id => !SubnetZones.ContainsKey(id)).ToList();
        if (missing.Count > 0)
        {
            // EC2 names one unknown id per error, the first it meets.
            throw new Ec2Fault(new Ec2Error("InvalidSubnetID.NotFound", $"The subnet ID '{missing[0]}' does not exist"));
        }

        var selected = (ids.Count == 0 ? SubnetZones.Keys.Order(StringComparer.Ordinal) : ids.AsEnumerable()).ToList();
        var (page, next) = Page(selected, request);
        return Element(
            "DescribeSubnetsResponse",
            E("requestId", requestId),
            E("subnetSet", page.Select(id => E(
                "item",
                E("subnetId", id),
                E("subnetArn", "arn:aws:ec2:us-east-1:123456789012:subnet/" + id),
                E("state", "available"),
                E("ownerId", "123456789012"),
                E("vpcId", "vpc-0a1b2c3d"),
                E("cidrBlock", "10.0.1.0/24"),
                E("availableIpAddressCount", "251"),
                E("availabilityZone", SubnetZones[id]),
                E("defaultForAz", "false"),
                E("mapPublicIpOnLaunch", "false")))),
            next is null ? null : E("nextToken", next));
    }

    private XElement DescribeAddresses(Ec2Request request, string requestId)
    {
        var ids = request.Values("AllocationId");
        var missing = ids.Where(id => _addresses.All(a => a.AllocationId != id)).ToList();
        if (missing.Count > 0)
        {
            throw new Ec2Fault(new Ec2Error("InvalidAllocationID.NotFound", $"The allocation ID '{missing[0]}' does not exist"));
        }

        var filters = request.Filters();
        var matching = _addresses
            .Where(a => (ids.Count == 0 || ids.Contains(a.AllocationId)) && filters.All(f => AddressMatches(a, f.Key, f.Value)))
            .ToList();

        // DescribeAddresses has no paging: every address in one answer.
        return Element(
            "DescribeAddressesResponse",
            E("requestId", requestId),
            E("addressesSet", matching.Select(a => E(
                "item",
                E("publicIp", a.PublicIp),
                E("allocationId", a.AllocationId),
                E("domain", "vpc"),
                a.InstanceId is null ? null : E("instanceId", a.InstanceId),
                a.AssociationId is null ? null : E("associationId", a.AssociationId),
                a.InstanceId is null ? null : E("networkInterfaceId", "eni-" + a.InstanceId[2..]),
                a.InstanceId is null ? null : E("networkInterfaceOwnerId", "123456789012"),
                a.PrivateIpAddress is null ? null : E("privateIpAddress", a.PrivateIpAddress),
                E("publicIpv4Pool", "amazon"),
                E("networkBorderGroup", "us-east-1")))));
    }

    private XElement AssociateAddress(Ec2Request request, string requestId)
    {
        var allocationId = request["AllocationId"]
            ?? throw new Ec2Fault(new Ec2Error("MissingParameter", "The request must contain the parameter AllocationId"));
        var instanceId = request["InstanceId"]
            ?? throw new Ec2Fault(new Ec2Error("MissingParameter", "The request must contain the parameter InstanceId"));
        var addressIndex = _addresses.FindIndex(a => a.AllocationId == allocationId);
        if (addressIndex < 0)
        {
            throw new Ec2Fault(new Ec2Error("InvalidAllocationID.NotFound", $"The allocation ID '{allocationId}' does not exist"));
        }

        var instanceIndex = _instances.FindIndex(i => i.InstanceId == instanceId);
        if (instanceIndex < 0)
        {
            throw new Ec2Fault(new Ec2Error("InvalidInstanceID.NotFound", $"The instance ID '{instanceId}' does not exist"));
        }

        var instance = _instances[instanceIndex];
        // A stopped instance in a VPC may take an address; one without a network interface yet, or one ending, may not.
        if (instance.StateCode is not (16 or 64 or 80))
        {
            throw new Ec2Fault(new Ec2Error("IncorrectInstanceState", $"The instance '{instanceId}' is not in a valid state for this operation."));
        }

        var address = _addresses[addressIndex];
        if (address.InstanceId is { } holder && holder != instanceId && request["AllowReassociation"] == "false")
        {
            throw new Ec2Fault(new Ec2Error("Resource.AlreadyAssociated", $"resource {allocationId} is already associated with associate-id {address.AssociationId}"));
        }

        if (address.InstanceId is { } previous && previous != instanceId && _instances.FindIndex(i => i.InstanceId == previous) is var previousIndex and >= 0)
        {
            // The instance it leaves has no public address of its own any more (a new one would come only from a restart).
            _instances[previousIndex] = _instances[previousIndex] with { PublicIpAddress = null };
        }

        var associationId = $"eipassoc-0{++_nextAssociation:x16}";
        _addresses[addressIndex] = address with { InstanceId = instanceId, AssociationId = associationId, PrivateIpAddress = instance.PrivateIpAddress };
        _instances[instanceIndex] = instance with { PublicIpAddress = address.PublicIp };
        return Element(
            "AssociateAddressResponse",
            E("requestId", requestId),
            E("return", "true"),
            E("associationId", associationId));
    }

    private static bool AddressMatches(SimulatedAddress address, string filter, IReadOnlyList<string> values) => filter switch
    {
        "allocation-id" => values.Contains(address.AllocationId),
        "public-ip" => values.Contains(address.PublicIp),
        "instance-id" => address.InstanceId is not null && values.Contains(address.InstanceId),
        "association-id" => address.AssociationId is not null && values.Contains(address.AssociationId),
        "domain" => values.Contains("vpc"),
        _ => throw new Ec2Fault(new Ec2Error("InvalidParameterValue", $"The filter '{filter}' is invalid")),
    };

    private static bool InstanceMatches(SimulatedInstance instance, string filter, IReadOnlyList<string> values) => filter switch
    {
        "tag-key" => values.Any(instance.Tags.ContainsKey),
        _ when filter.StartsWith("tag:", StringComparison.Ordinal) =>
            instance.Tags.TryGetValue(filter[4..], out var value) && values.Contains(value),
        "instance-state-name" => values.Contains(SimulatedInstance.StateName(instance.StateCode)),
        "availability-zone" => values.Contains(instance.AvailabilityZone),
        _ => throw new Ec2Fault(new Ec2Error("InvalidParameterValue", $"The filter '{filter}' is invalid")),
    };

    /// <summary>One page from the opaque <c>NextToken</c> (an offset here) and the smaller of MaxResults and <see cref="PageSize"/>.</summary>
    private (IReadOnlyList<T> Page, string? NextToken) Page<T>(IReadOnlyList<T> items, Ec2Request request)
    {
        var offset = 0;
        if (request["NextToken"] is { Length: > 0 } token)
        {
            if (!token.StartsWith("page-", StringComparison.Ordinal) || !int.TryParse(token.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out offset))
            {
                throw new Ec2Fault(new Ec2Error("InvalidPaginationToken", $"The pagination token '{token}' is invalid"));
            }
        }

        var maxResults = request["MaxResults"] is { } m ? int.Parse(m, CultureInfo.InvariantCulture) : int.MaxValue;
        var size = Math.Min(maxResults, PageSize);
        var page = items.Skip(offset).Take(size).ToList();
        var end = offset + page.Count;
        return (page, end < items.Count ? "page-" + end.ToString(CultureInfo.InvariantCulture) : null);
    }

    private static XElement InstanceItem(SimulatedInstance i) =>
        E(
            "item",
            E("instanceId", i.InstanceId),
            E("imageId", i.ImageId),
            StateElement("instanceState", i.StateCode),
            E("privateDnsName", i.PrivateIpAddress is null ? "" : "ip-" + i.PrivateIpAddress.Replace('.', '-') + ".ec2.internal"),
            E("dnsName", i.PublicDnsName ?? ""),
            E("reason", i.StateTransitionReason ?? ""),
            E("amiLaunchIndex", "0"),
            E("instanceType", i.InstanceType),
            E("launchTime", FormatTime(i.LaunchTime)),
            E("placement", E("availabilityZone", i.AvailabilityZone), E("tenancy", "default")),
            i.SubnetId is null ? null : E("subnetId", i.SubnetId),
            i.PrivateIpAddress is null ? null : E("privateIpAddress", i.PrivateIpAddress),
            i.PublicIpAddress is null ? null : E("ipAddress", i.PublicIpAddress),
            i.StateReasonCode is null ? null : E("stateReason", E("code", i.StateReasonCode), E("message", i.StateReasonMessage ?? "")),
            i.Lifecycle is null ? null : E("instanceLifecycle", i.Lifecycle),
            i.Lifecycle == "spot" ? E("spotInstanceRequestId", "sir-" + i.InstanceId[2..]) : null,
            i.ClientToken is null ? null : E("clientToken", i.ClientToken),
            i.InstanceProfileArn is null ? null : E("iamInstanceProfile", E("arn", i.InstanceProfileArn), E("id", "AIPA" + i.InstanceId[2..].ToUpperInvariant())),
            E("tagSet", i.Tags.Select(t => E("item", E("key", t.Key), E("value", t.Value)))));

    private static XElement StateElement(string name, int code) =>
        E(name, E("code", code.ToString(CultureInfo.InvariantCulture)), E("name", SimulatedInstance.StateName(code)));

    private static Regex Wildcard(string pattern) =>
        new("^" + Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal) + "$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    private static string FormatTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static XElement Element(string name, params object?[] content) => new(Ns + name, content);

    private static XElement E(string name, params object?[] content) => new(Ns + name, content);

    private sealed class ScriptedError(string action, Ec2Error error, Func<Ec2Request, bool>? when)
    {
        public string Action { get; } = action;

        public Ec2Error Error { get; } = error;

        public Func<Ec2Request, bool>? When { get; } = when;

        public int Remaining { get; set; }
    }

    private sealed class Ec2Fault(Ec2Error error) : Exception(error.Code)
    {
        public Ec2Error Error { get; } = error;
    }
}
