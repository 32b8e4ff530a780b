using System.Globalization;

namespace TestSupport.Ec2;

/// <summary>
/// One request as the endpoint decoded it from the form body: the action and every flattened pair
/// (<c>TagSpecification.1.Tag.2.Key</c>, <c>Filter.1.Value.1</c>, ...), exactly as the SDK sent them.
/// </summary>
public sealed record Ec2Request(string Action, IReadOnlyDictionary<string, string> Parameters)
{
    public string? this[string key] => Parameters.GetValueOrDefault(key);

    /// <summary>The values of <c>prefix.1</c>, <c>prefix.2</c>, ... in index order.</summary>
    public IReadOnlyList<string> Values(string prefix)
    {
        var values = new List<string>();
        for (var i = 1; Parameters.TryGetValue(prefix + "." + i.ToString(CultureInfo.InvariantCulture), out var value); i++)
        {
            values.Add(value);
        }

        return values;
    }

    /// <summary><c>Filter.N.Name</c> with its <c>Filter.N.Value.M</c>.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Filters()
    {
        var filters = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        for (var i = 1; Parameters.TryGetValue($"Filter.{i}.Name", out var name); i++)
        {
            filters[name] = Values($"Filter.{i}.Value");
        }

        return filters;
    }

    /// <summary>The tags of the <c>TagSpecification</c> for <paramref name="resourceType"/> (<c>instance</c>, <c>volume</c>); null when there is none.</summary>
    public IReadOnlyDictionary<string, string>? TagsFor(string resourceType)
    {
        for (var i = 1; Parameters.TryGetValue($"TagSpecification.{i}.ResourceType", out var type); i++)
        {
            if (type != resourceType)
            {
                continue;
            }

            var tags = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var j = 1; Parameters.TryGetValue($"TagSpecification.{i}.Tag.{j}.Key", out var key); j++)
            {
                tags[key] = Parameters.GetValueOrDefault($"TagSpecification.{i}.Tag.{j}.Value", "");
            }

            return tags;
        }

        return null;
    }
}

/// <summary>An EC2 error answer: <c>&lt;Response&gt;&lt;Errors&gt;&lt;Error&gt;</c> with this code and message, at <paramref name="Status"/>.</summary>
public sealed record Ec2Error(string Code, string Message, int Status = 400);

/// <summary>An instance the endpoint knows, as DescribeInstances reports it.</summary>
public sealed record SimulatedInstance
{
    public required string InstanceId { get; init; }

    public string ImageId { get; init; } = "ami-0123456789abcdef0";

    public string InstanceType { get; init; } = "m6i.large";

    public string AvailabilityZone { get; init; } = "us-east-1a";

    public string? SubnetId { get; init; }

    /// <summary>EC2's state code: 0 pending, 16 running, 32 shutting-down, 48 terminated, 64 stopping, 80 stopped.</summary>
    public int StateCode { get; init; } = 16;

    /// <summary><c>spot</c>, or null for on-demand (EC2 leaves the element out).</summary>
    public string? Lifecycle { get; init; } = "spot";

    public DateTimeOffset LaunchTime { get; init; } = new(2026, 11, 27, 8, 30, 0, TimeSpan.Zero);

    public string? PrivateIpAddress { get; init; } = "10.0.1.23";

    public string? PublicIpAddress { get; init; }

    public string? PublicDnsName { get; init; }

    public string? StateReasonCode { get; init; }

    public string? StateReasonMessage { get; init; }

    /// <summary>EC2's <c>StateTransitionReason</c> (the <c>reason</c> element): empty while running, "User initiated (2026-12-07 10:00:40 GMT)" once ended.</summary>
    public string? StateTransitionReason { get; init; }

    public string? ClientToken { get; init; }

    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    /// <summary>The instance profile ARN DescribeInstances reports (<c>iamInstanceProfile</c>); RunInstances sets it from its request.</summary>
    public string? InstanceProfileArn { get; init; }

    public static string StateName(int code) => (code & 0xFF) switch
    {
        0 => "pending",
        16 => "running",
        32 => "shutting-down",
        48 => "terminated",
        64 => "stopping",
        80 => "stopped",
        _ => "unknown",
    };
}

/// <summary>One row of spot price history. <paramref name="Price"/> is the string EC2 sends (<c>0.041200</c>).</summary>
public sealed record SimulatedSpotPrice(string InstanceType, string AvailabilityZone, string Price, DateTimeOffset Timestamp, string ProductDescription = "Linux/UNIX");

/// <summary>An image. <paramref name="CreationDate"/> is EC2's string (<c>2026-10-01T12:00:00.000Z</c>).</summary>
public sealed record SimulatedImage(
    string ImageId,
    string Name,
    string Architecture,
    string CreationDate,
    string OwnerId = "123456789012",
    string RootDeviceName = "/dev/xvda",
    string State = "available");

/// <summary>
/// An Elastic IP in a VPC, as DescribeAddresses reports it. <paramref name="InstanceId"/> and
/// <paramref name="AssociationId"/> are null while it is on no instance.
/// </summary>
public sealed record SimulatedAddress(
    string AllocationId,
    string PublicIp,
    string? InstanceId = null,
    string? AssociationId = null,
    string? PrivateIpAddress = null);
