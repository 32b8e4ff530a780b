using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace SpotDevBox.Core.Savings;

/// <summary>The "Prices" section: where refreshed tables go, and prices set by hand, which win over every table.</summary>
public sealed class PriceOptions
{
    public const string SectionName = "Prices";

    /// <summary>Refreshed tables (<c>prices refresh</c> writes here; they win over the shipped ones). Empty: <c>$XDG_STATE_HOME/spotdevbox/prices</c>.</summary>
    public string Directory { get; set; } = "";

    /// <summary>Region, then instance type, then USD per instance hour: <c>Prices:OnDemand:eu-central-1:m7i.large = 0.1134</c>.</summary>
    /// <remarks>Strings, so a mistyped price reaches the validator (which names the setting) instead of the binder's generic error.</remarks>
    public Dictionary<string, Dictionary<string, string>> OnDemand { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Region, then a <see cref="StorageItems"/> name, then USD per its unit: <c>Prices:Storage:eu-central-1:ebs_gp3_storage = 0.0952</c>.</summary>
    public Dictionary<string, Dictionary<string, string>> Storage { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}

/// <summary>The storage items a table or an override may hold, with their units (as in <c>storage-us-east-1.csv</c>).</summary>
public static partial class StorageItems
{
    public const string S3Standard = "s3_standard_first_50tb";
    public const string S3PutCopyPostList = "s3_put_copy_post_list";
    public const string S3GetSelect = "s3_get_select";
    public const string EbsSnapshot = "ebs_snapshot_standard";
    public const string Gp3Iops = "ebs_gp3_iops_above_3000";
    public const string Gp3Throughput = "ebs_gp3_throughput_above_125";

    /// <summary>The EBS volume types whose storage is priced per GB-month (<c>Volume API Name</c> in the offer).</summary>
    public static IReadOnlyList<string> VolumeTypes { get; } = ["gp2", "gp3", "io1", "io2", "st1", "sc1", "standard"];

    /// <summary><c>ebs_gp3_storage</c>: the item of a volume type's storage, per GB-month.</summary>
    public static string EbsStorage(string volumeType) => $"ebs_{volumeType.Trim().ToLowerInvariant()}_storage";

    public static IReadOnlyList<string> All { get; } =
        [.. VolumeTypes.Select(EbsStorage), Gp3Iops, Gp3Throughput, EbsSnapshot, S3Standard, S3PutCopyPostList, S3GetSelect];

    public static string UnitOf(string item) => item switch
    {
        Gp3Iops => "IOPS-month",
        Gp3Throughput => "MBps-month",
        S3PutCopyPostList or S3GetSelect => "per-1000-requests",
        _ => "GB-month",
    };

    public static bool IsKnown(string item) => All.Contains(item, StringComparer.OrdinalIgnoreCase);

    /// <summary>us-east-1, eu-central-1, ap-southeast-2, us-gov-west-1, cn-north-1: also keeps file names built from it plain.</summary>
    public static bool IsRegion(string? region) => region is not null && RegionPattern().IsMatch(region);

    [GeneratedRegex(@"^[a-z]{2}(-[a-z]+)+-\d{1,2}$", RegexOptions.CultureInvariant)]
    private static partial Regex RegionPattern();
}

/// <summary>Names the setting and the value: a price that is not a number, or is negative, or a region or item that cannot be one.</summary>
public sealed class PriceOptionsValidator : IValidateOptions<PriceOptions>
{
    public ValidateOptionsResult Validate(string? name, PriceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        var s = PriceOptions.SectionName;
        foreach (var (region, prices) in options.OnDemand)
        {
            CheckRegion(failures, $"{s}:OnDemand:{region}", region);
            foreach (var (type, price) in prices ?? [])
            {
                CheckPrice(failures, $"{s}:OnDemand:{region}:{type}", price, "USD per instance hour (e.g. 0.1134)");
            }
        }

        foreach (var (region, prices) in options.Storage)
        {
            CheckRegion(failures, $"{s}:Storage:{region}", region);
            foreach (var (item, price) in prices ?? [])
            {
                if (!StorageItems.IsKnown(item))
                {
                    failures.Add($"{s}:Storage:{region}:{item} is not a storage price; known items: {string.Join(", ", StorageItems.All)}");
                    continue;
                }

                CheckPrice(failures, $"{s}:Storage:{region}:{item}", price, $"USD per {StorageItems.UnitOf(item).Replace("per-1000-requests", "1000 requests", StringComparison.Ordinal)} (e.g. 0.08)");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void CheckRegion(List<string> failures, string setting, string region)
    {
        if (!StorageItems.IsRegion(region))
        {
            failures.Add($"{setting}: '{region}' is not an AWS region name (e.g. eu-central-1)");
        }
    }

    private static void CheckPrice(List<string> failures, string setting, string? price, string unit)
    {
        if (!PriceTableFile.TryParseUsd(price, out var value))
        {
            failures.Add($"{setting} must be a price in {unit}, got '{price}'");
        }
        else if (value < 0)
        {
            failures.Add($"{setting} must not be negative, got {price}");
        }
    }
}
