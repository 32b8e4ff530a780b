using System.Text.Json;
using TestSupport;
using TestSupport.Ec2;

namespace SpotDevBox.Tests.Cli;

/// <summary>
/// spotdevbox estimate, the real binary with the shipped tables. Dollars worked by hand from the documented rules:
/// a month is 730 h; m7i.large in us-east-1 is 0.1008 USD/h, gp3 0.08 USD per GB-month, the advisor's saving 68 %
/// (band 15-20%, data of 2025-06-28); Mon-Fri 09:00-18:00 is 180 h of the 672 h from Mon 2026-06-01.
/// </summary>
public sealed class EstimateCommandTests : IDisposable
{
    private static readonly string[] WeekdaysBerlin = ["--schedule", "Mon-Fri 09:00-18:00", "--tz", "Europe/Berlin", "--from", "2026-06-01"];

    private readonly TempDir _temp = new("spotdevbox-estimate-");
    private readonly SpotDevBoxProcess _cli;

    public EstimateCommandTests() => _cli = new SpotDevBoxProcess(_temp.Path);

    public void Dispose() => _temp.Dispose();

    private Task<CliResult> Estimate(params string[] args) => _cli.RunAsync(["estimate", .. args]);

    private static JsonElement Row(JsonElement json, string id) =>
        json.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("id").GetString() == id);

    private static decimal Total(JsonElement json, string id) => Row(json, id).GetProperty("total_usd").GetDecimal();

    [Fact]
    [Trait("Category", "Calendar")]
    public async Task Estimate_M7iLargeWeekdaysBerlin_JsonDollarsWorkedByHand()
    {
        var result = await Estimate(["--region", "us-east-1", "--type", "m7i.large", .. WeekdaysBerlin, "--json"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        Assert.Equal(730m, json.GetProperty("month_hours").GetDecimal());
        var period = json.GetProperty("period");
        Assert.Equal((672m, 180m, 20, 195.54m), (period.GetProperty("hours").GetDecimal(), period.GetProperty("up_hours").GetDecimal(), period.GetProperty("scheduled_days").GetInt32(), period.GetProperty("hours_per_month").GetDecimal()));
        Assert.Equal("2026-06-01T00:00:00+02:00", period.GetProperty("from").GetString());
        // 0.1008 x 730 = 73.584 and 30 GiB x 0.08 = 2.40: 75.98.
        Assert.Equal((73.58m, 2.40m, 75.98m), (Row(json, "on-demand-24x7").GetProperty("instance_usd").GetDecimal(), Row(json, "on-demand-24x7").GetProperty("root_volume_usd").GetDecimal(), Total(json, "on-demand-24x7")));
        // 0.1008 x 180 x 730 / 672 = 19.71; the volume while up, 2.40 x 180 / 672 = 0.64: 20.35.
        Assert.Equal((19.71m, 0.64m, 20.35m), (Row(json, "on-demand-scheduled").GetProperty("instance_usd").GetDecimal(), Row(json, "on-demand-scheduled").GetProperty("root_volume_usd").GetDecimal(), Total(json, "on-demand-scheduled")));
        // Spot 68 % off: 19.71 x 0.32 = 6.3072 -> 6.31; with the volume 6.9500... -> 6.95; 1 - 6.9500571 / 75.984 = 90.85 %.
        Assert.Equal((6.31m, 6.95m, 90.85m), (Row(json, "spot-scheduled").GetProperty("instance_usd").GetDecimal(), Total(json, "spot-scheduled"), Row(json, "spot-scheduled").GetProperty("saving_vs_always_on_percent").GetDecimal()));
        var spot = json.GetProperty("spot");
        Assert.Equal(("spot-advisor", 0.032256m, "15-20%", "2025-06-28"), (spot.GetProperty("method").GetString(), spot.GetProperty("usd_per_hour").GetDecimal(), spot.GetProperty("interruption_band").GetString(), spot.GetProperty("as_of").GetString()));
        Assert.Equal("config/prices/ondemand-linux-us-east-1.csv (AWS Price List API, 2026-07-20)", json.GetProperty("on_demand").GetProperty("source").GetString());
        Assert.Equal(("Mon-Fri 09:00-18:00", "Europe/Berlin"), (json.GetProperty("schedule").GetProperty("rules").GetString(), json.GetProperty("schedule").GetProperty("time_zone").GetString()));
    }

    [Fact]
    public async Task Estimate_FourWeeksAcrossSpringForward_ScaledBy671Hours()
    {
        var result = await Estimate("--region", "us-east-1", "--type", "m7i.large", "--schedule", "Mon-Fri 09:00-18:00", "--tz", "Europe/Berlin", "--from", "2026-03-23", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        // Berlin moves its clocks on 2026-03-29: the 28 days have 671 h; 180 x 730 / 671 = 195.83 h; x 0.1008 = 19.7394 -> 19.74.
        Assert.Equal((671m, 180m, 195.83m), (json.GetProperty("period").GetProperty("hours").GetDecimal(), json.GetProperty("period").GetProperty("up_hours").GetDecimal(), json.GetProperty("period").GetProperty("hours_per_month").GetDecimal()));
        Assert.Equal(19.74m, Row(json, "on-demand-scheduled").GetProperty("instance_usd").GetDecimal());
    }

    [Fact]
    public async Task Estimate_IdleHoursAndGivenDiscount_ComeOffTheScheduledRows()
    {
        var result = await Estimate(["--region", "us-east-1", "--type", "m7i.large", .. WeekdaysBerlin, "--idle-hours-per-day", "1", "--spot-discount", "60", "--volume-gib", "0", "--json"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        // 20 days x 8 h = 160 h: 0.1008 x 160 x 730 / 672 = 17.52 on-demand; 40 % of it, 7.008 -> 7.01, on spot. No volume.
        Assert.Equal((73.58m, 17.52m, 7.01m), (Total(json, "on-demand-24x7"), Total(json, "on-demand-scheduled"), Total(json, "spot-scheduled")));
        Assert.Equal(("given", 0.04032m), (json.GetProperty("spot").GetProperty("method").GetString(), json.GetProperty("spot").GetProperty("usd_per_hour").GetDecimal()));
        Assert.Equal(JsonValueKind.Null, json.GetProperty("root_volume").ValueKind);
    }

    [Fact]
    public async Task Estimate_Text_TableRowsAndSources()
    {
        var result = await Estimate(["--region", "us-east-1", "--type", "m7i.large", .. WeekdaysBerlin]);

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Stdout.Split('\n').Select(l => l.Trim()).ToList();
        Assert.Equal("m7i.large in us-east-1, Linux; a month is 730 h (8760 h / 12)", lines[0]);
        Assert.Equal("schedule     Mon-Fri 09:00-18:00 (Europe/Berlin): 180 h up in the 28 days from Mon 2026-06-01 (672 h); 195.54 h a month", lines[1]);
        Assert.Matches(@"^on-demand 24/7\s+730\.00\s+0\.1008\s+73\.58\s+2\.40\s+75\.98$", lines.Single(l => l.StartsWith("on-demand 24/7", StringComparison.Ordinal)));
        Assert.Matches(@"^on-demand on the schedule\s+195\.54\s+0\.1008\s+19\.71\s+0\.64\s+20\.35\s+-73\.2 %$", lines.Single(l => l.StartsWith("on-demand on the schedule", StringComparison.Ordinal)));
        Assert.Matches(@"^spot on the schedule\s+195\.54\s+0\.032256\s+6\.31\s+0\.64\s+6\.95\s+-90\.9 %$", lines.Single(l => l.StartsWith("spot on the schedule", StringComparison.Ordinal)));
        Assert.Contains("spot         an estimate: the Spot Instance Advisor's average saving for m7i.large in us-east-1, 68 % (interruption band 15-20%), advisor data of 2025-06-28", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("on-demand    0.1008 USD/h from config/prices/ondemand-linux-us-east-1.csv (AWS Price List API, 2026-07-20)", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Estimate_RegionWithoutTable_Exit2NamingRefreshAndSetting()
    {
        var result = await Estimate("--region", "eu-west-3", "--type", "m7i.large");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("spotdevbox: no on-demand price table for region eu-west-3: run 'spotdevbox prices refresh --region eu-west-3', or set Prices:OnDemand:eu-west-3:m7i.large (USD per hour)", result.Stderr.Trim());
        Assert.Equal("", result.Stdout);
    }

    [Fact]
    public async Task Estimate_UnknownType_Exit2NamingTheTable()
    {
        var result = await Estimate("--region", "us-east-1", "--type", "m7i.huge");

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("spotdevbox: no on-demand Linux price for m7i.huge in us-east-1 in config/prices/ondemand-linux-us-east-1.csv", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Estimate_OverrideWithoutStoragePrice_Exit2NamingTheStorageSetting()
    {
        var result = await _cli.RunAsync(["estimate", "--region", "eu-west-3", "--type", "m7i.large"], new Dictionary<string, string?> { ["SPOTDEVBOX_Prices__OnDemand__eu-west-3__m7i.large"] = "0.1176" });

        Assert.Equal(2, result.ExitCode);
        Assert.Equal(
            "spotdevbox: no storage price table for region eu-west-3: run 'spotdevbox prices refresh --region eu-west-3' (EBS prices come with the EC2 offer), or set Prices:Storage:eu-west-3:ebs_gp3_storage (USD per GB-month); or leave the root volume out with --volume-gib 0",
            result.Stderr.Trim());
    }

    [Fact]
    public async Task Estimate_OverridesInConfigFile_WinOverTheTables()
    {
        var config = _temp.Sub("prices.json");
        File.WriteAllText(config, """{ "Prices": { "OnDemand": { "us-east-1": { "m7i.large": 0.09 } }, "Storage": { "us-east-1": { "ebs_gp3_storage": "0.1" } } } }""");

        var result = await _cli.RunAsync(["estimate", "--region", "us-east-1", "--type", "m7i.large", "--json"], new Dictionary<string, string?> { ["SPOTDEVBOX_CONFIG"] = config });

        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        Assert.Equal("Prices:OnDemand:us-east-1:m7i.large (configuration)", json.GetProperty("on_demand").GetProperty("source").GetString());
        // 0.09 x 730 = 65.70; 30 GiB x 0.1 = 3.00.
        Assert.Equal((65.70m, 3.00m, 68.70m), (Row(json, "on-demand-24x7").GetProperty("instance_usd").GetDecimal(), Row(json, "on-demand-24x7").GetProperty("root_volume_usd").GetDecimal(), Total(json, "on-demand-24x7")));
    }

    [Theory]
    [InlineData("abc", "Prices:OnDemand:us-east-1:m7i.large must be a price in USD per instance hour (e.g. 0.1134), got 'abc'")]
    [InlineData("-0.1", "Prices:OnDemand:us-east-1:m7i.large must not be negative, got -0.1")]
    public async Task Estimate_BadOverride_Exit2NamingTheSetting(string price, string message)
    {
        var result = await _cli.RunAsync(["estimate", "--region", "us-east-1", "--type", "m7i.large"], new Dictionary<string, string?> { ["SPOTDEVBOX_Prices__OnDemand__us-east-1__m7i.large"] = price });

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("spotdevbox: invalid configuration: " + message, result.Stderr.Trim());
    }

    [Theory]
    [InlineData("--schedule|Mon-Fri 09:00-18:00", "--schedule needs --tz ZONE")]
    [InlineData("--schedule|Mon-Fri 09:00-18:00|--tz|Mars/Olympus", "not an IANA time zone")]
    [InlineData("--schedule|Mon-Fir 09:00-18:00|--tz|UTC", "unknown weekday 'Fir'")]
    [InlineData("--spot-discount|60|--live", "give --spot-discount or --live, not both")]
    [InlineData("--spot-discount|100", "--spot-discount: '100' is not a percentage")]
    [InlineData("--idle-hours-per-day|24", "--idle-hours-per-day: '24' is not a number of hours")]
    [InlineData("--volume-gib|20000", "--volume-gib must be from 0 to 16384, got 20000")]
    [InlineData("--from|2026-02-30", "--from: '2026-02-30' is not a date")]
    public async Task Estimate_BadArguments_Exit2(string args, string message)
    {
        var result = await Estimate(["--region", "us-east-1", "--type", "m7i.large", .. args.Split('|')]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
        Assert.Equal("", result.Stdout);
    }

    [Fact]
    public async Task Estimate_Live_CheapestZoneOfEc2sLatestPricesWithTheMedian()
    {
        await using var ec2 = await Ec2QueryEndpoint.StartAsync();
        var earlier = new DateTimeOffset(2025, 1, 6, 8, 0, 0, TimeSpan.Zero);
        ec2.AddSpotPrice(new SimulatedSpotPrice("m7i.large", "us-east-1a", "0.0300", earlier));
        ec2.AddSpotPrice(new SimulatedSpotPrice("m7i.large", "us-east-1a", "0.0400", earlier.AddHours(5)));
        ec2.AddSpotPrice(new SimulatedSpotPrice("m7i.large", "us-east-1b", "0.0420", earlier));
        ec2.AddSpotPrice(new SimulatedSpotPrice("m7i.large", "us-east-1c", "0.0380", earlier));
        ec2.AddSpotPrice(new SimulatedSpotPrice("m7i.large", "us-east-1d", "0.0336", earlier));
        ec2.AddSpotPrice(new SimulatedSpotPrice("m7i.xlarge", "us-east-1d", "0.0100", earlier));

        var result = await _cli
            .Set("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
            .Set("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
            .Set("SPOTDEVBOX_Aws__Ec2__ServiceUrl", ec2.ServiceUrl.ToString())
            .RunAsync(["estimate", "--region", "us-east-1", "--type", "m7i.large", .. WeekdaysBerlin, "--live", "--json"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        var spot = result.Json().GetProperty("spot");
        // Latest per zone: 1a 0.0400 (not its older 0.0300), 1b 0.0420, 1c 0.0380, 1d 0.0336; median (0.0380 + 0.0400) / 2.
        Assert.Equal(("live-cheapest-zone", 0.0336m, "us-east-1d", 0.0390m), (spot.GetProperty("method").GetString(), spot.GetProperty("usd_per_hour").GetDecimal(), spot.GetProperty("availability_zone").GetString(), spot.GetProperty("median_usd_per_hour").GetDecimal()));
        Assert.Equal(4, spot.GetProperty("zones").GetArrayLength());
        // 0.0336 x 180 x 730 / 672 = 6.57.
        Assert.Equal(6.57m, Row(result.Json(), "spot-scheduled").GetProperty("instance_usd").GetDecimal());
        Assert.Single(ec2.RequestsFor("DescribeSpotPriceHistory"));
    }

    [Fact]
    public async Task Help_Estimate_ListsItsOptions()
    {
        var result = await Estimate("--help");

        Assert.True(result.ExitCode == 0, result.ToString());
        foreach (var option in new[] { "--region", "--type", "--schedule", "--tz", "--from", "--idle-hours-per-day", "--spot-discount", "--live", "--volume-gib", "--json" })
        {
            Assert.Contains(option, result.Stdout, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Help_NoVerb_ListsEstimateAndPrices()
    {
        var result = await _cli.RunAsync("--help");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("    estimate ", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("    prices ", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Estimate_LiveWithoutCredentials_WarnsAndUsesTheAdvisor()
    {
        var result = await Estimate("--region", "us-east-1", "--type", "m7i.large", "--live", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith("warning: --live: no spot prices from EC2 (", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("spot-advisor", result.Json().GetProperty("spot").GetProperty("method").GetString());
    }
}
