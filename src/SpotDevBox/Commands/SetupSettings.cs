using System.ComponentModel;
using System.Net;
using System.Text.RegularExpressions;
using Spectre.Console;
using Spectre.Console.Cli;
using SpotDevBox.Core.Ssh;

namespace SpotDevBox.Commands;

internal sealed partial class SetupSettings : CommandSettings
{
    [CommandOption("--region <REGION>")]
    [Description("The region of the fleet (its bucket, and the boxes' default). Else Controller:Fleet:Region of an earlier setup, $AWS_REGION, $AWS_DEFAULT_REGION, or the AWS CLI's configured region.")]
    public string? Region { get; set; }

    [CommandOption("--stack <NAME>")]
    [Description("The fleet stack's name (default: spotdevbox, or the one an earlier setup recorded). Box stacks are named NAME-box-BOX.")]
    public string? Stack { get; set; }

    [CommandOption("--bucket <NAME>")]
    [Description("The bucket's name (default: CloudFormation makes a unique one). Fixed once the stack exists: a different name would replace the bucket.")]
    public string? Bucket { get; set; }

    [CommandOption("--ssh-via <HOW>")]
    [Description("How people reach the boxes: instance-connect (default: an EC2 Instance Connect Endpoint, no port open to the internet), ssm (Session Manager, no inbound port) or direct (TCP 22 open to --ssh-from only).")]
    public string? SshVia { get; set; }

    [CommandOption("--ssh-from <CIDR>")]
    [Description("With --ssh-via direct: the one IPv4 address or CIDR allowed on TCP 22, or my-ip (default) for this machine's public address as AWS sees it (https://checkip.amazonaws.com).")]
    public string? SshFrom { get; set; }

    [CommandOption("--vpc <VPC>")]
    [Description("The VPC of the boxes (default: the region's default VPC).")]
    public string? Vpc { get; set; }

    [CommandOption("--subnet <SUBNET>")]
    [Description("A subnet the boxes launch into, once per subnet (default: every subnet of the VPC, one per zone).")]
    public string[] Subnets { get; set; } = [];

    [CommandOption("--image-filter <PATTERN>")]
    [Description("The boxes' image: the newest whose name matches, {arch} standing for amd64 or arm64 (default: debian-12-{arch}-*, Debian 12, which the boxes' install script is written for).")]
    public string? ImageFilter { get; set; }

    [CommandOption("--image-owner <OWNER>")]
    [Description("The account whose images --image-filter may match (default: 136693071363, Debian's).")]
    public string? ImageOwner { get; set; }

    [CommandOption("--kms-key <ARN>")]
    [Description("Encrypt the bucket with this KMS key (SSE-KMS) instead of SSE-S3.")]
    public string? KmsKey { get; set; }

    [CommandOption("--agent-archive <FILE>")]
    [Description("A release archive (spotdevbox-VERSION-linux-x64.tar.gz, -linux-arm64) to publish as the boxes' agent, once per architecture. Default: this spotdevbox itself when it is a Linux release build.")]
    public string[] AgentArchives { get; set; } = [];

    [CommandOption("--no-agent")]
    [Description("Publish no agent build (one is published already, or you publish with 'spotdevbox agent publish').")]
    public bool NoAgent { get; set; }

    [CommandOption("--config <FILE>")]
    [Description("The configuration file to write (default: $SPOTDEVBOX_CONFIG, else ~/.config/spotdevbox/spotdevbox.json).")]
    public string? Config { get; set; }

    [CommandOption("--import")]
    [Description("Adopt a deployment made by hand: no stack is made; the bucket, security groups, subnets and agent builds are read from the configuration's boxes and Controller:AgentBuilds, checked, and recorded as Controller:Fleet for 'box add'.")]
    public bool Import { get; set; }

    [CommandOption("--print")]
    [Description("Look (credentials, network, images, the stack), then print the exact commands and the configuration setup would run and write, and stop: nothing is created, published or written.")]
    public bool Print { get; set; }

    public override ValidationResult Validate()
    {
        if (Region is not null && !SshRoutes.IsRegion(Region))
        {
            return ValidationResult.Error($"--region must be a region name such as eu-central-1, got '{Region}'");
        }

        if (Stack is not null && !StackName().IsMatch(Stack))
        {
            return ValidationResult.Error($"--stack must be 1-100 letters, digits and '-', starting with a letter, got '{Stack}'");
        }

        if (Bucket is not null && !BucketName().IsMatch(Bucket))
        {
            return ValidationResult.Error($"--bucket must be a bucket name (3-63 lower-case letters, digits, '.' and '-'), got '{Bucket}'");
        }

        if (SshVia is not null && SshRoutes.TryParse(SshVia) is null)
        {
            return ValidationResult.Error($"--ssh-via must be one of {SshRoutes.Names}, got '{SshVia}'");
        }

        if (SshFrom is not null && SshVia != SshRoutes.DirectName)
        {
            return ValidationResult.Error("--ssh-from opens TCP 22 and goes only with --ssh-via direct");
        }

        if (SshFrom is not null && SshFrom != "my-ip" && SshCidr(SshFrom) is null)
        {
            return ValidationResult.Error($"--ssh-from must be an IPv4 address, an IPv4 CIDR such as 203.0.113.7/32, or my-ip; got '{SshFrom}'");
        }

        if (SshFrom is not null && SshCidr(SshFrom) is { } cidr && cidr.EndsWith("/0", StringComparison.Ordinal))
        {
            return ValidationResult.Error("--ssh-from: 0.0.0.0/0 opens TCP 22 to the whole internet; give your own address (or my-ip), or use --ssh-via instance-connect or ssm");
        }

        if (Vpc is not null && !VpcId().IsMatch(Vpc))
        {
            return ValidationResult.Error($"--vpc must be a VPC id (vpc- and hex digits), got '{Vpc}'");
        }

        if (Subnets.FirstOrDefault(s => !SubnetId().IsMatch(s)) is { } bad)
        {
            return ValidationResult.Error($"--subnet must be a subnet id (subnet- and hex digits), got '{bad}'");
        }

        if (ImageFilter is not null && (!ImageFilter.Contains("{arch}", StringComparison.Ordinal) || ImageFilter.Any(char.IsWhiteSpace)))
        {
            return ValidationResult.Error($"--image-filter must name the architecture as {{arch}} (e.g. debian-12-{{arch}}-*) and hold no spaces, got '{ImageFilter}'");
        }

        if (ImageOwner is not null && ImageOwner != "amazon" && !AccountId().IsMatch(ImageOwner))
        {
            return ValidationResult.Error($"--image-owner must be a 12-digit account id or amazon, got '{ImageOwner}'");
        }

        if (KmsKey is not null && !KmsArn().IsMatch(KmsKey))
        {
            return ValidationResult.Error("--kms-key must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID; not an alias: IAM grants on an alias allow nothing)");
        }

        if (NoAgent && AgentArchives.Length > 0)
        {
            return ValidationResult.Error("--no-agent and --agent-archive contradict each other: give one");
        }

        if (AgentArchives.FirstOrDefault(a => !File.Exists(a)) is { } missing)
        {
            return ValidationResult.Error($"--agent-archive {missing}: there is no such file");
        }

        if (Import && (Bucket ?? Vpc ?? KmsKey ?? SshFrom ?? SshVia) is not null || Import && Subnets.Length > 0)
        {
            return ValidationResult.Error("--import adopts what the configuration's boxes already use: --bucket, --vpc, --subnet, --kms-key, --ssh-via and --ssh-from go with a new deployment");
        }

        return ValidationResult.Success();
    }

    /// <summary>The CIDR --ssh-from names (an address alone is /32), or null when it is none.</summary>
    internal static string? SshCidr(string value)
    {
        var slash = value.IndexOf('/', StringComparison.Ordinal);
        var address = slash < 0 ? value : value[..slash];
        if (!IPAddress.TryParse(address, out var ip) || ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork || address.Count(c => c == '.') != 3)
        {
            return null;
        }

        if (slash < 0)
        {
            return address + "/32";
        }

        return int.TryParse(value[(slash + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var bits) && bits is >= 0 and <= 32
            ? $"{address}/{bits.ToString(System.Globalization.CultureInfo.InvariantCulture)}"
            : null;
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9-]{0,99}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex StackName();

    [GeneratedRegex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\\z", RegexOptions.CultureInvariant)]
    private static partial Regex BucketName();

    [GeneratedRegex("^vpc-[0-9a-f]{8,17}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex VpcId();

    [GeneratedRegex("^subnet-[0-9a-f]{8,17}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex SubnetId();

    [GeneratedRegex("^[0-9]{12}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex AccountId();

    [GeneratedRegex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+\\z", RegexOptions.CultureInvariant)]
    private static partial Regex KmsArn();
}
