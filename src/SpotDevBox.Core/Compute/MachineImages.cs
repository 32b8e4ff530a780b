namespace SpotDevBox.Core.Compute;

/// <summary>The processor architectures a box can run on; the agent is published for both.</summary>
public enum CpuArchitecture
{
    /// <summary>EC2's <c>x86_64</c>.</summary>
    X64,

    /// <summary>EC2's <c>arm64</c>.</summary>
    Arm64,
}

/// <summary>
/// An image by id, or the newest available image whose name matches <see cref="NamePattern"/> (EC2's
/// wildcards <c>*</c> and <c>?</c>) among those owned by <see cref="Owners"/>. A name search needs owners:
/// anyone can publish an image with a matching name.
/// </summary>
public sealed record ImageSelector
{
    private ImageSelector(string? imageId, string? namePattern, IReadOnlyList<string> owners)
    {
        ImageId = imageId;
        NamePattern = namePattern;
        Owners = owners;
    }

    public string? ImageId { get; }

    public string? NamePattern { get; }

    /// <summary>Account ids or aliases (<c>self</c>, <c>amazon</c>).</summary>
    public IReadOnlyList<string> Owners { get; }

    public static ImageSelector ById(string imageId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(imageId);
        return new ImageSelector(imageId.Trim(), null, []);
    }

    public static ImageSelector ByName(string namePattern, IReadOnlyList<string> owners)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(namePattern);
        ArgumentNullException.ThrowIfNull(owners);
        if (owners.Count == 0 || owners.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException($"an image name pattern ('{namePattern}') needs at least one owner (an account id, 'self' or 'amazon')", nameof(owners));
        }

        return new ImageSelector(null, namePattern.Trim(), [.. owners.Select(o => o.Trim())]);
    }

    public override string ToString() =>
        ImageId ?? $"newest image named '{NamePattern}' owned by {string.Join(", ", Owners)}";
}

/// <summary>
/// A resolved image. <paramref name="Architecture"/> is null for one the agent is not built for (i386,
/// Mac). <paramref name="RootDeviceName"/> is where the launch maps the root volume (<c>/dev/xvda</c>,
/// <c>/dev/sda1</c>): a mapping under another name would add a second volume instead.
/// </summary>
public sealed record MachineImage(
    string ImageId,
    string Name,
    CpuArchitecture? Architecture,
    string RootDeviceName,
    DateTimeOffset? CreationDate);
