using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Cli;
using SpotDevBox.Core.Savings;
using SpotDevBox.Hosting;
using SpotDevBox.Savings;

namespace SpotDevBox.Commands;

internal sealed class PricesRefreshSettings : CommandSettings
{
    [CommandOption("--region <REGION>")]
    [Description("The AWS region whose prices to fetch, e.g. eu-central-1.")]
    public string? Region { get; set; }

    [CommandOption("--offer <FILE_OR_URL>")]
    [Description("The EC2 bulk offer CSV to read instead of AWS's current one for the region: a downloaded file, or another http(s) URL.")]
    public string? Offer { get; set; }

    [CommandOption("--json")]
    [Description("Print what was written as JSON on stdout (the progress lines stay on stderr).")]
    public bool Json { get; set; }

    public override ValidationResult Validate() =>
        StorageItems.IsRegion(Region)
            ? ValidationResult.Success()
            : ValidationResult.Error(Region is null
                ? "name the region: --region REGION (e.g. eu-central-1)"
                : $"--region: '{Region}' is not an AWS region name (e.g. eu-central-1)");
}

[Description("Fetch a region's on-demand Linux prices (and its EBS prices) from AWS's public bulk offer file, streamed, into the refreshed price tables (Prices:Directory). No AWS account needed.")]
internal sealed class PricesRefreshCommand(PriceRefresher refresher, PriceFolders folders, TimeProvider time) : AsyncCommand<PricesRefreshSettings>
{
    /// <summary>Progress lines on stderr at most this often (and one at the end).</summary>
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(2);

    public override async Task<int> ExecuteAsync(CommandContext context, PricesRefreshSettings settings, CancellationToken cancellationToken)
    {
        var region = settings.Region!.Trim();
        var source = string.IsNullOrWhiteSpace(settings.Offer) ? Ec2Offer.UrlFor(region).ToString() : settings.Offer.Trim();
        Console.Error.WriteLine($"prices refresh: reading {source}");
        var last = time.GetTimestamp();
        RefreshProgress? latest = null;
        var result = await refresher.RefreshAsync(region, settings.Offer, p =>
        {
            latest = p;
            if (time.GetElapsedTime(last) >= ProgressEvery)
            {
                last = time.GetTimestamp();
                Console.Error.WriteLine("prices refresh: " + Describe(p, final: false));
            }
        }, cancellationToken);

        Console.Error.WriteLine("prices refresh: " + Describe(latest ?? new RefreshProgress(result.Offer.Rows, result.Bytes, null), final: true));
        foreach (var conflict in result.Offer.Conflicts)
        {
            var setting = conflict.Key.StartsWith("ebs_", StringComparison.Ordinal)
                ? $"{PriceOptions.SectionName}:Storage:{region}:{conflict.Key}"
                : $"{PriceOptions.SectionName}:OnDemand:{region}:{conflict.Key}";
            Terminal.Warn($"{conflict.Key} left out: the offer gives {conflict.Prices.Count} prices ({string.Join(", ", conflict.Prices.Select(PriceTableWriter.Usd))}); set {setting} to use one");
        }

        if (settings.Json)
        {
            Console.Out.WriteLine(Json(region, source, result));
            return ExitCodes.Ok;
        }

        var published = result.Offer.PublicationDate ?? "not stated";
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wrote {result.OnDemandTable}: {result.Offer.Instances.Count} instance types (offer published {published})"));
        if (result.StorageTable is not null)
        {
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wrote {result.StorageTable}: {result.Offer.Storage.Count} EBS prices ({string.Join(", ", result.Offer.Storage.Keys)})"));
        }
        else
        {
            Console.Out.WriteLine("no EBS prices in the offer: the storage table was not changed");
        }

        Console.Out.WriteLine($"these tables now win over the shipped ones in {folders.Shipped.DisplayName}; Prices:OnDemand and Prices:Storage settings still win over both");
        return ExitCodes.Ok;
    }

    /// <summary>--json: the tables written, what they hold and where the offer came from.</summary>
    private static string Json(string region, string source, RefreshResult result)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("region", region);
            json.WriteString("offer", source);
            json.WriteString("publication_date", result.Offer.PublicationDate);
            json.WriteNumber("rows", result.Offer.Rows);
            json.WriteNumber("bytes", result.Bytes);
            json.WriteString("on_demand_table", result.OnDemandTable);
            json.WriteNumber("instance_types", result.Offer.Instances.Count);
            json.WriteString("storage_table", result.StorageTable);
            json.WriteStartArray("storage_prices");
            foreach (var key in result.Offer.Storage.Keys)
            {
                json.WriteStringValue(key);
            }

            json.WriteEndArray();
            json.WriteStartArray("left_out");
            foreach (var conflict in result.Offer.Conflicts)
            {
                json.WriteStringValue(conflict.Key);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>"1,200,000 rows, 312.4 of 412.0 MB read" (MB = 10^6 bytes).</summary>
    internal static string Describe(RefreshProgress p, bool final)
    {
        var mb = p.Bytes / 1_000_000m;
        var of = p.TotalBytes is { } t && !final ? string.Create(CultureInfo.InvariantCulture, $" of {t / 1_000_000m:0.0}") : "";
        return final
            ? string.Create(CultureInfo.InvariantCulture, $"read {p.Rows:N0} rows, {mb:0.0} MB ({p.Bytes:N0} bytes)")
            : string.Create(CultureInfo.InvariantCulture, $"{p.Rows:N0} rows, {mb:0.0}{of} MB read");
    }
}
