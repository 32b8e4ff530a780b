namespace SpotDevBox.Core.Compute;

/// <summary>
/// Which instances carrying a box's tag are the box's: those whose IAM instance profile is the box's own
/// (<c>Controller:Boxes:&lt;box&gt;:InstanceProfile</c>, a name or an ARN). Anyone who can launch an instance can
/// put the tag on it; only the box's launcher gives it the box's profile. An instance with another profile (or
/// none) is foreign: not adopted, not terminated, not addressed, not shown as the box. A box configured without a
/// profile owns only instances without one. See docs/security.md "Instances the controller adopts".
/// </summary>
public static class InstanceProfiles
{
    /// <summary>
    /// Whether <paramref name="instanceProfileArn"/> (as EC2 reports it, <c>arn:…:instance-profile/&lt;path/&gt;name</c>)
    /// is <paramref name="configured"/>: the same ARN, or a name equal to the ARN's last path segment.
    /// </summary>
    public static bool Matches(string? configured, string? instanceProfileArn)
    {
        var want = configured?.Trim();
        if (string.IsNullOrEmpty(want))
        {
            return string.IsNullOrEmpty(instanceProfileArn);
        }

        if (string.IsNullOrEmpty(instanceProfileArn))
        {
            return false;
        }

        if (want.StartsWith("arn:", StringComparison.Ordinal))
        {
            return string.Equals(want, instanceProfileArn, StringComparison.Ordinal);
        }

        const string Resource = ":instance-profile/";
        var resource = instanceProfileArn.IndexOf(Resource, StringComparison.Ordinal);
        if (!instanceProfileArn.StartsWith("arn:", StringComparison.Ordinal) || resource < 0)
        {
            return false;
        }

        var name = instanceProfileArn[(instanceProfileArn.LastIndexOf('/') + 1)..];
        return string.Equals(want, name, StringComparison.Ordinal);
    }

    /// <summary>Whether <paramref name="instance"/> is the box's own: its profile is <paramref name="configured"/>.</summary>
    public static bool IsOwnedBy(this BoxInstance instance, string? configured)
    {
        ArgumentNullException.ThrowIfNull(instance);
        return Matches(configured, instance.InstanceProfileArn);
    }

    /// <summary>The instances that are the box's own; the others (<see cref="Foreign"/>) are left alone.</summary>
    public static IReadOnlyList<BoxInstance> Owned(this IEnumerable<BoxInstance> instances, string? configured) =>
        [.. instances.Where(i => i.IsOwnedBy(configured))];

    /// <summary>The instances carrying the box's tag whose profile is not the box's own.</summary>
    public static IReadOnlyList<BoxInstance> Foreign(this IEnumerable<BoxInstance> instances, string? configured) =>
        [.. instances.Where(i => !i.IsOwnedBy(configured))];

    /// <summary>How a log line or decision names an instance's profile: its ARN, or "none".</summary>
    public static string Describe(string? instanceProfileArn) => string.IsNullOrEmpty(instanceProfileArn) ? "none" : instanceProfileArn;
}
