namespace SpotDevBox.Core.Compute;

/// <summary>
/// The tags that make an instance (and its root volume) a box's: the reconcile loop finds instances by
/// <see cref="Box"/> alone, and IAM policies can scope the controller to resources carrying it.
/// </summary>
public static class BoxTags
{
    public const string Box = "spotdevbox:box";
    public const string Owner = "spotdevbox:owner";
    public const string Session = "spotdevbox:session";

    /// <summary>What the console shows in its Name column.</summary>
    public const string Name = "Name";

    /// <summary>Prefix EC2 reserves for itself; such tags cannot be set.</summary>
    public const string ReservedPrefix = "aws:";
}
