namespace SpotDevBox.Core.Boxes;

/// <summary>
/// Controller:Fleet: what 'spotdevbox setup' deployed (or adopted with --import), from which 'box add' makes a box.
/// Absent (null on <see cref="ControllerOptions.Fleet"/>) means no setup has run. docs/setup.md.
/// </summary>
public sealed partial class FleetOptions
{
    /// <summary>Debian's AWS account, the owner of the official Debian images (deploy/cloud-init is written for Debian 12).</summary>
    public const string DebianImageOwner = "136693071363";

    /// <summary>The token of <see cref="ImageNameFilter"/> that becomes amd64 or arm64, the architecture of the box's instance types.</summary>
    public const string ArchToken = "{arch}";

    /// <summary>The box stacks' name prefix when <see cref="Stack"/> is empty.</summary>
    public const string DefaultStack = "spotdevbox";

    /// <summary>The instance types of a new box when <see cref="InstanceTypes"/> is empty, in order of preference.</summary>
    public static IReadOnlyList<string> DefaultInstanceTypes { get; } = ["m7i.large", "m6i.large", "m5.large"];

    /// <summary>The fleet stack's name; empty for a hand-made deployment adopted with 'setup --import'.</summary>
    public string Stack { get; set; } = "";

    /// <summary>The fleet's region (its bucket's, and its boxes').</summary>
    public string Region { get; set; } = "";

    /// <summary>s3://BUCKET/ROOT, no trailing '/': each box's Storage is StorageRoot/&lt;owner&gt;/&lt;box&gt;.</summary>
    public string StorageRoot { get; set; } = "";

    /// <summary>The boxes' security groups (sg-...).</summary>
    public IList<string> SecurityGroups { get; } = [];

    /// <summary>The subnets boxes launch into (subnet-...); empty: the default VPC's.</summary>
    public IList<string> Subnets { get; } = [];

    /// <summary>The images' owner account id (or "amazon"); default Debian's.</summary>
    public string ImageOwner { get; set; } = DebianImageOwner;

    /// <summary>The image name pattern, with {arch} replaced by amd64 or arm64; default Debian 12's.</summary>
    public string ImageNameFilter { get; set; } = "debian-12-" + ArchToken + "-*";

    /// <summary>A new box's instance types, in order of preference; empty: <see cref="DefaultInstanceTypes"/>.</summary>
    public IList<string> InstanceTypes { get; } = [];

    /// <summary>A new box's SshVia (instance-connect, ssm or direct).</summary>
    public string SshVia { get; set; } = Ssh.SshRoutes.InstanceConnectName;

    /// <summary>The KMS key of the bucket's default encryption (SSE-KMS), which each box's role may use through S3; empty for SSE-S3.</summary>
    public string KmsKeyArn { get; set; } = "";

    /// <summary>
    /// The fleet's KMS key for the repositories' master keys (fleet.yaml's RepositoryKey): each box's role may use it with
    /// its own encryption context, and each launch passes it to the agent (Agent:RepositoryKeyArn). Empty: none.
    /// </summary>
    public string RepositoryKeyArn { get; set; } = "";

    /// <summary>
    /// Why no box can be launched without <see cref="RepositoryKeyArn"/> (one line naming the setting and what to do), or
    /// null when it is set. Without it the agent cannot open the box's encrypted repositories, refuses its configuration
    /// at boot (exit 2), and the instance runs, and is paid for, doing nothing: the launch is refused instead.
    /// </summary>
    public static string? MissingRepositoryKey(FleetOptions? fleet) =>
        string.IsNullOrWhiteSpace(fleet?.RepositoryKeyArn)
            ? $"{ControllerOptions.SectionName}:{nameof(ControllerOptions.Fleet)}:{nameof(RepositoryKeyArn)} is empty: a box's repositories are encrypted with the fleet's KMS key, " +
              "which its agent needs to open them; run 'spotdevbox setup' (it writes the key's ARN) or set it to the fleet stack's RepositoryKey"
            : null;

    /// <summary><see cref="InstanceTypes"/>, else <see cref="DefaultInstanceTypes"/>.</summary>
    public IReadOnlyList<string> InstanceTypesOrDefault() => InstanceTypes.Count > 0 ? [.. InstanceTypes] : DefaultInstanceTypes;

    /// <summary>The stack of box <paramref name="box"/>: &lt;Stack or spotdevbox&gt;-box-&lt;box&gt;.</summary>
    public string BoxStackName(string box) => $"{(string.IsNullOrWhiteSpace(Stack) ? DefaultStack : Stack)}-box-{box}";

    /// <summary><see cref="ImageNameFilter"/> for an architecture: "amd64" or "arm64" (Debian's names).</summary>
    public string ImageNameFilterFor(string arch) => ImageNameFilter.Replace(ArchToken, arch, StringComparison.Ordinal);

    /// <summary>Each failure names the setting (under <paramref name="section"/>) and the rule.</summary>
    public IEnumerable<string> Validate(string section)
    {
        if (!string.IsNullOrEmpty(Stack) && !StackName().IsMatch(Stack))
        {
            yield return $"{section}:Stack must be a CloudFormation stack name (letters, digits and '-', starting with a letter, at most 100), or empty";
        }

        if (!Ssh.SshRoutes.IsRegion(Region))
        {
            yield return $"{section}:Region must be an AWS region such as eu-central-1";
        }

        if (BoxPrefix.TryParseStorageRoot(StorageRoot) is null)
        {
            yield return $"{section}:StorageRoot must be s3://BUCKET/ROOT (ROOT one or more segments such as boxes, no '/' at the end): each box's Storage is StorageRoot/<owner>/<box>";
        }

        for (var i = 0; i < SecurityGroups.Count; i++)
        {
            if (!ResourceId("sg").IsMatch(SecurityGroups[i]))
            {
                yield return $"{section}:SecurityGroups:{i} must be a security group id (sg-...)";
            }
        }

        for (var i = 0; i < Subnets.Count; i++)
        {
            if (!ResourceId("subnet").IsMatch(Subnets[i]))
            {
                yield return $"{section}:Subnets:{i} must be a subnet id (subnet-...)";
            }
        }

        if (ImageOwner != "amazon" && !AccountId().IsMatch(ImageOwner))
        {
            yield return $"{section}:ImageOwner must be an AWS account id (12 digits) or amazon";
        }

        if (!ImageNameFilter.Contains(ArchToken, StringComparison.Ordinal))
        {
            yield return $"{section}:ImageNameFilter must contain {ArchToken} (replaced by amd64 or arm64, the architecture of the box's instance types), e.g. debian-12-{ArchToken}-*";
        }

        for (var i = 0; i < InstanceTypes.Count; i++)
        {
            if (!InstanceType().IsMatch(InstanceTypes[i]))
            {
                yield return $"{section}:InstanceTypes:{i} must be an instance type such as m7i.large";
            }
        }

        if (KmsKeyArn.Length > 0 && !KmsKey().IsMatch(KmsKeyArn))
        {
            yield return $"{section}:KmsKeyArn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), or empty for SSE-S3";
        }

        if (RepositoryKeyArn.Length > 0 && !KmsKey().IsMatch(RepositoryKeyArn))
        {
            yield return $"{section}:RepositoryKeyArn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), or empty";
        }

        if (Ssh.SshRoutes.TryParse(SshVia) is null)
        {
            yield return $"{section}:SshVia must be one of {Ssh.SshRoutes.Names}";
        }
    }

    private static System.Text.RegularExpressions.Regex ResourceId(string prefix) =>
        new($"^{prefix}-[0-9a-f]{{8,17}}$", System.Text.RegularExpressions.RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    [System.Text.RegularExpressions.GeneratedRegex("^[A-Za-z][A-Za-z0-9-]{0,99}\\z", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex StackName();

    [System.Text.RegularExpressions.GeneratedRegex("^[0-9]{12}\\z", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex AccountId();

    [System.Text.RegularExpressions.GeneratedRegex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex InstanceType();

    [System.Text.RegularExpressions.GeneratedRegex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+\\z", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex KmsKey();
}
