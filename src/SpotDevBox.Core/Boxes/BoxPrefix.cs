using System.Text.RegularExpressions;

namespace SpotDevBox.Core.Boxes;

/// <summary>
/// A box's storage prefix in the layout every policy relies on: <c>s3://BUCKET/ROOT/&lt;owner&gt;/&lt;box&gt;</c>
/// (docs/security.md, "S3 layout and migration"). The owner is a key segment so that an IAM policy variable
/// (<c>ROOT/${aws:PrincipalTag/spotdevbox:owner}/*</c>) confines a person to their own boxes' documents.
/// </summary>
public sealed partial record BoxPrefix(string Bucket, string Root, string Owner, string Box)
{
    /// <summary>The shape, for messages.</summary>
    public const string Shape = "s3://BUCKET/ROOT/<Owner>/<box>";

    /// <summary>The rule owner names follow, for messages.</summary>
    public const string OwnerRule = "1-64 lower-case letters, digits, '.', '_' and '-', starting with a letter";

    /// <summary>The key prefix in the bucket, without a trailing '/': ROOT/owner/box.</summary>
    public string Prefix => $"{Root}/{Owner}/{Box}";

    /// <summary>
    /// Parses a Storage value of the layout's shape; null when it has another shape. A trailing '/' is allowed;
    /// ROOT is one or more segments, none empty, "." or "..", and no part holds white space or control characters.
    /// </summary>
    public static BoxPrefix? TryParse(string? storage)
    {
        var match = Layout().Match(storage ?? "");
        if (!match.Success)
        {
            return null;
        }

        var root = match.Groups["root"].Value;
        return root.Split('/').Any(s => s is "." or "..") ? null : new BoxPrefix(match.Groups["bucket"].Value, root, match.Groups["owner"].Value, match.Groups["box"].Value);
    }

    /// <summary>
    /// A storage root, s3://BUCKET/ROOT without a trailing '/', under which boxes live as ROOT/&lt;owner&gt;/&lt;box&gt;
    /// (Controller:Fleet:StorageRoot): its bucket and ROOT, or null when it has another shape. The same rules as
    /// <see cref="TryParse"/>'s bucket and ROOT.
    /// </summary>
    public static (string Bucket, string Root)? TryParseStorageRoot(string? storageRoot) =>
        storageRoot is null || storageRoot.EndsWith('/') || TryParse(storageRoot + "/o/b") is not { } p ? null : (p.Bucket, p.Root);

    /// <summary>The prefix of box <paramref name="box"/> of <paramref name="owner"/> under a storage root (<see cref="TryParseStorageRoot"/>); null when any part breaks the rules.</summary>
    public static BoxPrefix? Under(string storageRoot, string owner, string box) =>
        TryParseStorageRoot(storageRoot) is null ? null : TryParse($"{storageRoot}/{owner}/{box}");

    /// <summary>1-64 lower-case letters, digits, '.', '_' and '-', starting with a letter: never "_operator", always one key segment.</summary>
    public static bool IsOwnerName(string? owner) => owner is not null && OwnerName().IsMatch(owner);

    /// <summary>Whether the two prefixes share objects: the same bucket and one prefix equal to the other or inside it.</summary>
    public bool Overlaps(BoxPrefix other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (!string.Equals(Bucket, other.Bucket, StringComparison.Ordinal))
        {
            return false;
        }

        var a = Prefix + "/";
        var b = other.Prefix + "/";
        return a.StartsWith(b, StringComparison.Ordinal) || b.StartsWith(a, StringComparison.Ordinal);
    }

    public override string ToString() => $"s3://{Bucket}/{Prefix}";

    [GeneratedRegex("^[a-z][a-z0-9._-]{0,63}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex OwnerName();

    [GeneratedRegex(
        "^s3://(?<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?<root>[^/\\s\\p{C}]+(?:/[^/\\s\\p{C}]+)*)/(?<owner>[a-z][a-z0-9._-]{0,63})/(?<box>[a-z][a-z0-9-]{0,31})/?\\z",
        RegexOptions.CultureInvariant)]
    private static partial Regex Layout();
}
