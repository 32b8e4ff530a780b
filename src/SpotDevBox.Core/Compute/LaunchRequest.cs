using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace SpotDevBox.Core.Compute;

/// <summary>
/// The root EBS volume. <paramref name="DeviceName"/> must be the image's root device
/// (<see cref="MachineImage.RootDeviceName"/>), or EC2 attaches a second volume instead of resizing the root.
/// </summary>
public sealed record RootVolume(string DeviceName, int SizeGiB, string VolumeType = "gp3");

/// <summary>
/// One instance for one box session, in one placement and market. The adapter adds the box's tags
/// (<see cref="BoxTags"/>) to the instance and its root volume, base64-encodes <see cref="UserData"/>, and
/// fixes what every box gets (IMDSv2 only, shutdown terminates, one-time spot that terminates on
/// interruption, an encrypted root volume deleted with the instance).
/// </summary>
public sealed record LaunchRequest
{
    /// <summary>EC2 accepts up to 16 KB of user data before base64.</summary>
    public const int MaxUserDataBytes = 16 * 1024;

    public required string Box { get; init; }

    public required string Owner { get; init; }

    public required string SessionId { get; init; }

    public required string InstanceType { get; init; }

    public required string ImageId { get; init; }

    /// <summary>The subnet, which fixes the availability zone. Null launches into <see cref="AvailabilityZone"/> of the default VPC.</summary>
    public string? SubnetId { get; init; }

    /// <summary>Used only without a subnet; null lets EC2 choose.</summary>
    public string? AvailabilityZone { get; init; }

    /// <summary>Security group ids (<c>sg-...</c>); empty for the VPC's default group.</summary>
    public IReadOnlyList<string> SecurityGroupIds { get; init; } = [];

    public string? KeyName { get; init; }

    /// <summary>An instance profile name, or its ARN (<c>arn:aws:iam::...:instance-profile/...</c>).</summary>
    public string? InstanceProfile { get; init; }

    public required RootVolume RootVolume { get; init; }

    public InstanceLifecycle Market { get; init; } = InstanceLifecycle.Spot;

    /// <summary>Spot only: the most to pay per hour. Null means EC2's default, the on-demand price.</summary>
    public decimal? MaxPricePerHour { get; init; }

    /// <summary>Cloud-init user data as text. It is readable from the instance and the console: no secrets.</summary>
    public string UserData { get; init; } = "";

    /// <summary>Extra tags for instance and volume; the box, owner, session and Name tags are added and cannot be overridden.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    /// <summary>From <see cref="ClientTokens.Derive"/>: a repeated call with it returns the instance the first one started.</summary>
    public required string ClientToken { get; init; }

    /// <summary>What is wrong with the request before EC2 sees it; empty when nothing is.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        foreach (var (name, value) in new[] { (nameof(Box), Box), (nameof(Owner), Owner), (nameof(SessionId), SessionId), (nameof(InstanceType), InstanceType), (nameof(ImageId), ImageId) })
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                problems.Add($"{name} is empty");
            }
        }

        if (string.IsNullOrEmpty(ClientToken) || ClientToken.Length > ClientTokens.MaxLength || !Ascii.IsValid(ClientToken))
        {
            problems.Add($"ClientToken must be 1 to {ClientTokens.MaxLength} ASCII characters (got {ClientToken?.Length ?? 0})");
        }

        if (RootVolume is null || string.IsNullOrWhiteSpace(RootVolume.DeviceName) || RootVolume.SizeGiB < 1 || string.IsNullOrWhiteSpace(RootVolume.VolumeType))
        {
            problems.Add("RootVolume needs a device name, a size of at least 1 GiB and a volume type");
        }

        if (MaxPricePerHour is { } max && (Market != InstanceLifecycle.Spot || max <= 0))
        {
            problems.Add(Market != InstanceLifecycle.Spot
                ? "MaxPricePerHour applies only to spot launches"
                : $"MaxPricePerHour must be positive (got {max.ToString(CultureInfo.InvariantCulture)})");
        }

        var userDataBytes = Encoding.UTF8.GetByteCount(UserData ?? "");
        if (userDataBytes > MaxUserDataBytes)
        {
            problems.Add($"UserData is {userDataBytes} bytes; EC2 takes at most {MaxUserDataBytes}");
        }

        foreach (var key in (Tags ?? new Dictionary<string, string>()).Keys)
        {
            if (key.StartsWith(BoxTags.ReservedPrefix, StringComparison.OrdinalIgnoreCase))
            {
                problems.Add($"tag '{key}': the aws: prefix is reserved");
            }
            else if (key is BoxTags.Box or BoxTags.Owner or BoxTags.Session or BoxTags.Name)
            {
                problems.Add($"tag '{key}' is set from the box and cannot be overridden");
            }
        }

        return problems;
    }
}

/// <summary>Client tokens that make a retried RunInstances return the instance the first call started.</summary>
public static class ClientTokens
{
    public const int MaxLength = 64;

    /// <summary>
    /// A token for one launch attempt: the box, its session, and the candidate (instance type, subnet or
    /// zone, market). The candidate is part of it because EC2 answers a reused token with different
    /// parameters with IdempotentParameterMismatch, so moving to the next candidate needs a new token,
    /// while retrying the same candidate (a timeout, a controller restart) reuses it. EC2 remembers a
    /// token for at least 24 hours after the instance ends: a relaunch needs a new session id.
    /// </summary>
    /// <returns><c>sdb-</c> and 40 hex digits: 44 ASCII characters.</returns>
    public static string Derive(string box, string sessionId, string instanceType, string placement, InstanceLifecycle market)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(box);
        ArgumentException.ThrowIfNullOrWhiteSpace(sessionId);
        ArgumentException.ThrowIfNullOrWhiteSpace(instanceType);
        ArgumentNullException.ThrowIfNull(placement);

        // A separator no part can contain, so ("a", "bc") and ("ab", "c") differ.
        var material = string.Join('\0', "v1", box, sessionId, instanceType, placement, market == InstanceLifecycle.Spot ? "spot" : "on-demand");
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(material));
        return "sdb-" + Convert.ToHexStringLower(hash.AsSpan(0, 20));
    }
}
