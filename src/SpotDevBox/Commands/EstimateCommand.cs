using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Cli;
using SpotDevBox.Core.Compute;
using SpotDevBox.Core.Savings;
using SpotDevBox.Core.Schedules;
using SpotDevBox.Hosting;

namespace SpotDevBox.Commands;

internal sealed class EstimateSettings : CommandSettings
{
    [CommandOption("--region <REGION>")]
    [Description("The AWS region, e.g. us-east-1.")]
    public string? Region { get; set; }

    [CommandOption("--type <TYPE>")]
    [Description("The instance type, e.g. m7i.large.")]
    public string? InstanceType { get; set; }

    [CommandOption("--schedule <RULES>")]
    [Description("When the box is up, in the schedule language of docs/schedules.md: \"Mon-Fri 09:00-18:00\". Needs --tz. Without it: around the clock.")]
    public string? Schedule { get; set; }

    [CommandOption("--tz <ZONE>")]
    [Description("The IANA time zone the schedule is written in: Europe/Berlin, America/New_York, UTC.")]
    public string? TimeZone { get; set; }

    [CommandOption("--from <DATE>")]
    [Description("First day (yyyy-MM-dd, in the zone) of the four weeks the schedule is measured over. Default: next Monday.")]
    public string? From { get; set; }

    [CommandOption("--idle-hours-per-day <HOURS>")]
    [Description("Hours of a scheduled day the box is stopped because nobody uses it (idle shutdown), e.g. 1.5. Default: 0.")]
    public string? IdleHoursPerDay { get; set; }

    [CommandOption("--spot-discount <PERCENT>")]
    [Description("Spot's saving over on-demand in percent, e.g. 65. Default: the Spot Instance Advisor's average for the region and type.")]
    public string? SpotDiscount { get; set; }

    [CommandOption("--live")]
    [Description("Use EC2's current spot prices (DescribeSpotPriceHistory; needs AWS credentials): the cheapest zone's, with the median shown.")]
    public bool Live { get; set; }

    [CommandOption("--volume-gib <GIB>")]
    [Description("The root volume (EBS gp3) in GiB; 0 leaves it out. Default: 30, the boxes' default.")]
    public int VolumeGiB { get; set; } = 30;

    [CommandOption("--json")]
    [Description("Print the estimate as JSON (schema: docs/savings.md).")]
    public bool Json { get; set; }

    public override ValidationResult Validate()
    {
        if (Region is null || InstanceType is null)
        {
            return ValidationResult.Error("name the region and the instance type: --region REGION --type TYPE (e.g. --region us-east-1 --type m7i.large)");
        }

        if (!StorageItems.IsRegion(Region.Trim()))
        {
            return ValidationResult.Error($"--region: '{Region}' is not an AWS region name (e.g. us-east-1)");
        }

        if (string.IsNullOrWhiteSpace(InstanceType))
        {
            return ValidationResult.Error("--type: name an instance type, e.g. m7i.large");
        }

        if (Schedule is not null && string.IsNullOrWhiteSpace(TimeZone))
        {
            return ValidationResult.Error("--schedule needs --tz ZONE, the IANA time zone its times are in (e.g. Europe/Berlin or UTC)");
        }

        if (Schedule is null && TimeZone is not null)
        {
            return ValidationResult.Error("--tz goes with --schedule (e.g. --schedule \"Mon-Fri 09:00-18:00\" --tz Europe/Berlin)");
        }

        if (From is not null && !TryParseDate(From, out _))
        {
            return ValidationResult.Error($"--from: '{From}' is not a date yyyy-MM-dd");
        }

        if (IdleHoursPerDay is not null && !TryParseIdle(IdleHoursPerDay, out _))
        {
            return ValidationResult.Error($"--idle-hours-per-day: '{IdleHoursPerDay}' is not a number of hours from 0 to less than 24 (e.g. 1.5)");
        }

        if (SpotDiscount is not null && Live)
        {
            return ValidationResult.Error("give --spot-discount or --live, not both");
        }

        if (SpotDiscount is not null && !TryParseDiscount(SpotDiscount, out _))
        {
            return ValidationResult.Error($"--spot-discount: '{SpotDiscount}' is not a percentage above -100 and below 100 (e.g. 65)");
        }

        return VolumeGiB is < 0 or > 16384
            ? ValidationResult.Error($"--volume-gib must be from 0 to 16384, got {VolumeGiB}")
            : ValidationResult.Success();
    }

    internal static bool TryParseDate(string text, out DateOnly date) =>
        DateOnly.TryParseExact(text.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out date);

    internal static bool TryParseIdle(string text, out decimal hours) =>
        decimal.TryParse(text.Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out hours) && hours < 24;

    internal static bool TryParseDiscount(string text, out decimal percent) =>
        decimal.TryParse(text.Trim().TrimEnd('%').TrimEnd(), NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out percent)
        && percent > -100 && percent < 100;
}

[Description("Estimate a box's monthly cost offline: on-demand 24/7, on-demand on a schedule, and spot on the schedule, with the root volume; prices from the shipped or refreshed tables (docs/savings.md).")]
internal sealed class EstimateCommand(
    IOnDemandPrices onDemandPrices,
    IStoragePrices storagePrices,
    ISpotAdvisor advisor,
    IComputeGatewayFactory compute,
    TimeProvider time) : AsyncCommand<EstimateSettings>
{
    private const string VolumeType = "gp3";

    public override async Task<int> ExecuteAsync(CommandContext context, EstimateSettings settings, CancellationToken cancellationToken)
    {
        var region = settings.Region!.Trim().ToLowerInvariant();
        var type = settings.InstanceType!.Trim().ToLowerInvariant();
        var schedule = settings.Schedule is { } rules
            ? ParseSchedule(settings.TimeZone!, rules)
            : BoxSchedule.Parse("UTC", "daily 00:00-24:00");
        var idle = settings.IdleHoursPerDay is { } idleText && EstimateSettings.TryParseIdle(idleText, out var i) ? i : 0m;

        var onDemand = onDemandPrices.PerHour(region, type);
        if (onDemand.UsdPerUnit is not { } onDemandUsd)
        {
            // A type or region mistyped, or a price not configured: the command or the configuration must change.
            Console.Error.WriteLine("spotdevbox: " + onDemand.Missing);
            return ExitCodes.InvalidInput;
        }

        var ebs = settings.VolumeGiB > 0 ? storagePrices.EbsPerGbMonth(region, VolumeType) : null;
        if (ebs is { IsKnown: false })
        {
            Console.Error.WriteLine($"spotdevbox: {ebs.Missing}; or leave the root volume out with --volume-gib 0");
            return ExitCodes.InvalidInput;
        }

        var first = settings.From is { } fromText && EstimateSettings.TryParseDate(fromText, out var from)
            ? from
            : ScheduleHours.NextMonday(schedule.Zone, time.GetUtcNow());
        var hours = ScheduleHours.Measure(schedule, first, idle);
        var (spot, spotMissing) = await SpotAsync(settings, region, type, onDemandUsd, cancellationToken);
        var rows = MonthlyEstimate.Rows(onDemandUsd, spot, settings.VolumeGiB, ebs?.UsdPerUnit ?? 0m, hours);
        var s3 = storagePrices.S3StandardPerGbMonth(region);
        var notIncluded = new List<string>
        {
            s3.UsdPerUnit is { } s3Usd
                ? $"the backups in S3 Standard at {Usd(s3Usd)} USD per GB-month from {s3.Source}"
                : "the backups in S3 Standard, whose price is unknown: " + s3.Missing,
            "EBS snapshots, data transfer, public IPv4 addresses, requests, taxes, credits and discounts",
        };

        if (settings.Json)
        {
            WriteJson(settings, region, type, schedule, hours, onDemand, ebs, spot, spotMissing, rows, notIncluded);
        }
        else
        {
            WriteText(settings, region, type, schedule, hours, onDemand, ebs, spot, spotMissing, rows, notIncluded);
        }

        return ExitCodes.Ok;
    }

    private static BoxSchedule ParseSchedule(string zone, string rules)
    {
        try
        {
            return BoxSchedule.Parse(zone, rules);
        }
        catch (ScheduleFormatException e)
        {
            throw new ArgumentException($"--schedule/--tz: {e.Message}", e);
        }
    }

    /// <summary>--spot-discount, else --live (falling back to the advisor, and saying why, when EC2 cannot answer), else the advisor.</summary>
    private async Task<(SpotRate? Rate, string? Missing)> SpotAsync(EstimateSettings settings, string region, string type, decimal onDemandUsd, CancellationToken cancellationToken)
    {
        if (settings.SpotDiscount is { } text && EstimateSettings.TryParseDiscount(text, out var percent))
        {
            return (SpotRate.FromDiscount(onDemandUsd, percent), null);
        }

        if (settings.Live)
        {
            try
            {
                var history = await compute.ForRegion(region).DescribeSpotPricesAsync(
                    new SpotPriceQuery([type], SpotPriceQuery.LinuxUnix, time.GetUtcNow()), cancellationToken);
                var latest = history.Latest.Where(p => string.Equals(p.InstanceType, type, StringComparison.OrdinalIgnoreCase)).ToList();
                if (latest.Count > 0)
                {
                    return (SpotRate.FromLive(onDemandUsd, latest, region), null);
                }

                Terminal.Warn($"--live: EC2 has no current Linux spot price for {type} in {region}; using the Spot Instance Advisor's estimate instead");
            }
            catch (ComputeException e)
            {
                Terminal.Warn($"--live: no spot prices from EC2 ({e.Message}); using the Spot Instance Advisor's estimate instead");
            }
        }

        return advisor.Find(region, type) is { } advice
            ? (SpotRate.FromAdvice(onDemandUsd, advice), null)
            : (null, $"the Spot Instance Advisor has no figure for {type} in {region}: give --spot-discount PERCENT, or --live with AWS credentials");
    }

    private static void WriteText(
        EstimateSettings settings,
        string region,
        string type,
        BoxSchedule schedule,
        ScheduledHours hours,
        PriceQuote onDemand,
        PriceQuote? ebs,
        SpotRate? spot,
        string? spotMissing,
        IReadOnlyList<EstimateRow> rows,
        IReadOnlyList<string> notIncluded)
    {
        var output = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        if (Console.IsOutputRedirected)
        {
            // A pipe or a file: no terminal width to fit, so no wrapped cells.
            output.Profile.Width = 120;
        }

        var period = Invariant($"{hours.From:ddd yyyy-MM-dd}");
        var stdout = Console.Out;
        stdout.WriteLine(Invariant($"{type} in {region}, Linux; a month is {ScheduleHours.MonthHours:0} h (8760 h / 12)"));
        var idle = hours.IdleHoursPerDay > 0
            ? Invariant($", less {hours.IdleHoursPerDay:0.##} idle h on each of the {hours.ScheduledDays} scheduled days = {hours.RunHours:0.##} h")
            : "";
        stdout.WriteLine(settings.Schedule is null
            ? Invariant($"schedule     none: up around the clock{idle}; {Hours(hours.HoursPerMonth)} h a month")
            : Invariant($"schedule     {schedule} ({schedule.Zone.Id}): {hours.UpHours:0.##} h up in the 28 days from {period} ({hours.PeriodHours:0.##} h){idle}; {Hours(hours.HoursPerMonth)} h a month"));

        var table = new Table().Border(TableBorder.Simple)
            .AddColumn("per month")
            .AddColumn(new TableColumn("hours").RightAligned())
            .AddColumn(new TableColumn("USD/h").RightAligned())
            .AddColumn(new TableColumn("instance").RightAligned())
            .AddColumn(new TableColumn("root volume").RightAligned())
            .AddColumn(new TableColumn("total USD").RightAligned())
            .AddColumn(new TableColumn("vs 24/7").RightAligned());
        var alwaysOn = rows[0].TotalUsd!.Value;
        foreach (var row in rows)
        {
            table.AddRow(
                Markup.Escape(Label(row.Id, settings.Schedule is not null)),
                Hours(row.HoursPerMonth),
                row.UsdPerHour is { } rate ? Usd(rate) : "unknown",
                row.InstanceUsd is { } instance ? Cents(instance) : "unknown",
                Cents(row.VolumeUsd),
                row.TotalUsd is { } total ? Cents(total) : "unknown",
                row == rows[0] || row.TotalUsd is null ? "" : Invariant($"{-SavingPercent(row.TotalUsd.Value, alwaysOn):0.0} %"));
        }

        output.Write(table);
        stdout.WriteLine($"on-demand    {Usd(onDemand.UsdPerUnit!.Value)} USD/h from {onDemand.Source}");
        stdout.WriteLine(ebs is null
            ? "root volume  left out (--volume-gib 0)"
            : $"root volume  {settings.VolumeGiB} GiB {VolumeType} at {Usd(ebs.UsdPerUnit!.Value)} USD per GB-month from {ebs.Source}; all month for 24/7, otherwise only while an instance runs (spotdevbox deletes it with the instance; the work is in S3)");
        stdout.WriteLine("spot         " + (spot is null ? "unknown: " + spotMissing : DescribeSpot(spot, type, region)));
        stdout.WriteLine("not included " + string.Join("; ", notIncluded));
    }

    /// <summary>The row's name in the table; JSON carries the <see cref="EstimateRow.Id"/>, which does not change.</summary>
    private static string Label(string id, bool scheduled) => id switch
    {
        MonthlyEstimate.OnDemandAlwaysOn => "on-demand 24/7",
        MonthlyEstimate.OnDemandScheduled => scheduled ? "on-demand on the schedule" : "on-demand, no schedule",
        _ => scheduled ? "spot on the schedule" : "spot, no schedule",
    };

    private static string DescribeSpot(SpotRate spot, string type, string region) => spot.Method switch
    {
        SpotRateMethod.Given => Invariant($"{spot.DiscountPercent:0.##} % below on-demand, as given by --spot-discount"),
        SpotRateMethod.LiveCheapestZone => Invariant(
            $"EC2's current price in the cheapest zone, {spot.AvailabilityZone}: {Usd(spot.UsdPerHour)} USD/h ({spot.DiscountPercent:0.#} % below on-demand); median of {spot.Zones.Count} zones {Usd(spot.MedianUsdPerHour!.Value)} USD/h. Spot prices change: this is today's"),
        _ => Invariant(
            $"an estimate: the Spot Instance Advisor's average saving for {type} in {region}, {spot.DiscountPercent:0} % (interruption band {spot.InterruptionBand}), advisor data of {spot.AsOf:yyyy-MM-dd}, from {spot.Source}"),
    };

    private static void WriteJson(
        EstimateSettings settings,
        string region,
        string type,
        BoxSchedule schedule,
        ScheduledHours hours,
        PriceQuote onDemand,
        PriceQuote? ebs,
        SpotRate? spot,
        string? spotMissing,
        IReadOnlyList<EstimateRow> rows,
        IReadOnlyList<string> notIncluded)
    {
        var alwaysOn = rows[0].TotalUsd!.Value;
        // Built as a JsonObject (no reflection: the agent binary is native AOT); null members are written as null.
        var json = new JsonObject
        {
            ["region"] = region,
            ["instance_type"] = type,
            ["month_hours"] = ScheduleHours.MonthHours,
            ["schedule"] = settings.Schedule is null ? null : new JsonObject { ["rules"] = schedule.ToString(), ["time_zone"] = schedule.Zone.Id },
            ["period"] = new JsonObject
            {
                ["from"] = hours.From,
                ["to"] = hours.To,
                ["hours"] = hours.PeriodHours,
                ["up_hours"] = Round(hours.UpHours),
                ["idle_hours_per_day"] = hours.IdleHoursPerDay,
                ["scheduled_days"] = hours.ScheduledDays,
                ["run_hours"] = Round(hours.RunHours),
                ["hours_per_month"] = Round(hours.HoursPerMonth),
            },
            ["on_demand"] = new JsonObject { ["usd_per_hour"] = onDemand.UsdPerUnit, ["source"] = onDemand.Source },
            ["root_volume"] = ebs is null
                ? null
                : new JsonObject { ["gib"] = settings.VolumeGiB, ["type"] = VolumeType, ["usd_per_gb_month"] = ebs.UsdPerUnit, ["source"] = ebs.Source },
            ["spot"] = spot is null
                ? null
                : new JsonObject
                {
                    ["method"] = spot.Method switch
                    {
                        SpotRateMethod.Given => "given",
                        SpotRateMethod.LiveCheapestZone => "live-cheapest-zone",
                        _ => "spot-advisor",
                    },
                    ["usd_per_hour"] = spot.UsdPerHour,
                    ["discount_percent"] = Round(spot.DiscountPercent),
                    ["source"] = spot.Source,
                    ["interruption_band"] = spot.InterruptionBand,
                    ["as_of"] = spot.AsOf?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    ["availability_zone"] = spot.AvailabilityZone,
                    ["median_usd_per_hour"] = spot.MedianUsdPerHour,
                    ["zones"] = new JsonArray([.. spot.Zones.Select(z => (JsonNode)new JsonObject { ["availability_zone"] = z.AvailabilityZone, ["usd_per_hour"] = z.UsdPerHour, ["since"] = z.Timestamp })]),
                },
            ["spot_missing"] = spotMissing,
            ["rows"] = new JsonArray([.. rows.Select(r => (JsonNode)new JsonObject
            {
                ["id"] = r.Id,
                ["name"] = Label(r.Id, settings.Schedule is not null),
                ["hours_per_month"] = Round(r.HoursPerMonth),
                ["usd_per_hour"] = r.UsdPerHour,
                ["instance_usd"] = r.InstanceUsd is { } instance ? Round(instance) : null,
                ["root_volume_usd"] = Round(r.VolumeUsd),
                ["total_usd"] = r.TotalUsd is { } total ? Round(total) : null,
                ["saving_vs_always_on_percent"] = r.TotalUsd is { } t ? Round(SavingPercent(t, alwaysOn)) : null,
            })]),
            ["not_included"] = new JsonArray([.. notIncluded.Select(n => (JsonNode)JsonValue.Create(n))]),
        };
        Console.Out.WriteLine(json.ToJsonString());
    }

    private static decimal SavingPercent(decimal total, decimal alwaysOn) => alwaysOn == 0 ? 0 : (1m - (total / alwaysOn)) * 100m;

    private static decimal Round(decimal value) => Math.Round(value, 2, MidpointRounding.AwayFromZero);

    private static string Cents(decimal usd) => Round(usd).ToString("0.00", CultureInfo.InvariantCulture);

    private static string Hours(decimal hours) => Round(hours).ToString("0.00", CultureInfo.InvariantCulture);

    private static string Usd(decimal usd) => PriceTableWriter.Usd(usd);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
