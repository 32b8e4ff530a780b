using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using SpotDevBox.Core.Tests.Savings;
using TestSupport;

namespace SpotDevBox.Tests.Cli;

/// <summary>
/// spotdevbox prices refresh, the real binary, on the hand-written offer (<see cref="OfferFixture"/>) from a file or a
/// loopback HTTP server; never the network. Tables land in $XDG_STATE_HOME/spotdevbox/prices of the child.
/// </summary>
/// <remarks>IAsyncLifetime, not IAsyncDisposable: xunit 2 never calls DisposeAsync of a test class that only implements the latter.</remarks>
public sealed class PricesRefreshCommandTests : IAsyncLifetime
{
    private readonly TempDir _temp = new("spotdevbox-prices-");
    private readonly SpotDevBoxProcess _cli;
    private WebApplication? _server;

    public PricesRefreshCommandTests() => _cli = new SpotDevBoxProcess(_temp.Path);

    private string Tables => Path.Combine(_temp.Path, "xdg-state", "spotdevbox", "prices");

    private string OnDemandTable => Path.Combine(Tables, "ondemand-linux-eu-west-3.csv");

    private string StorageTable => Path.Combine(Tables, "storage-eu-west-3.csv");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _temp.Dispose();
    }

    private string OfferFile(string? text = null)
    {
        var path = _temp.Sub("index.csv");
        File.WriteAllText(path, text ?? OfferFixture.Csv);
        return path;
    }

    private async Task<Uri> ServeAsync(RequestDelegate handler)
    {
        (_server, var url) = await LoopbackHttpServer.StartAsync(handler, CancellationToken.None);
        return new Uri(url, "offers/v1.0/aws/AmazonEC2/current/eu-west-3/index.csv");
    }

    private static string[] Lines(string path) => [.. File.ReadAllLines(path).Where(l => !l.StartsWith("# by 'spotdevbox prices refresh' at ", StringComparison.Ordinal))];

    [Fact]
    public async Task Refresh_LocalOffer_WritesBothTablesWithTheOffersDateAndReportsRowsAndBytes()
    {
        var offer = OfferFile();

        var result = await _cli.RunAsync("prices", "refresh", "--region", "eu-west-3", "--offer", offer);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(
            [
                "# On-demand price, Linux, shared tenancy, USD per hour, region eu-west-3.",
                "# Source: the AWS Price List bulk offer file, Publication Date 2026-07-01T12:00:00Z, version 20260701120000,",
                $"# read from {offer}",
                "instance_type,usd_per_hour",
                "c7g.xlarge,0.154",
                "m7i.large,0.1176",
                "m7i.metal-24xl,5.6448",
                "t3.micro,0.0118",
            ],
            Lines(OnDemandTable));
        Assert.Matches(@"^# by 'spotdevbox prices refresh' at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\.$", File.ReadAllLines(OnDemandTable)[3]);
        Assert.Equal(
            ["item,unit,usd", "ebs_gp2_storage,GB-month,0.116", "ebs_gp3_storage,GB-month,0.0928", "ebs_snapshot_standard,GB-month,0.053"],
            Lines(StorageTable).Where(l => !l.StartsWith('#')));
        var bytes = new FileInfo(offer).Length;
        Assert.Contains($"prices refresh: read 23 rows, 0.0 MB ({bytes:N0} bytes)", result.StderrLines);
        Assert.Contains("warning: r7i.large left out: the offer gives 2 prices (0.1764, 0.182); set Prices:OnDemand:eu-west-3:r7i.large to use one", result.StderrLines);
        Assert.StartsWith($"wrote {OnDemandTable}: 4 instance types (offer published 2026-07-01T12:00:00Z)", result.Stdout, StringComparison.Ordinal);
        Assert.Equal(["ondemand-linux-eu-west-3.csv", "storage-eu-west-3.csv"], Directory.GetFiles(Tables).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Refresh_ThenEstimate_TheRegionIsKnownFromTheRefreshedTables()
    {
        var refresh = await _cli.RunAsync("prices", "refresh", "--region", "eu-west-3", "--offer", OfferFile());
        Assert.True(refresh.ExitCode == 0, refresh.ToString());

        var result = await _cli.RunAsync("estimate", "--region", "eu-west-3", "--type", "m7i.large", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        Assert.Equal($"{OnDemandTable} (AWS Price List bulk offer file, 2026-07-01)", json.GetProperty("on_demand").GetProperty("source").GetString());
        // 0.1176 x 730 = 85.848; 30 GiB x 0.0928 = 2.784; 88.632.
        var alwaysOn = json.GetProperty("rows")[0];
        Assert.Equal((85.85m, 2.78m, 88.63m), (alwaysOn.GetProperty("instance_usd").GetDecimal(), alwaysOn.GetProperty("root_volume_usd").GetDecimal(), alwaysOn.GetProperty("total_usd").GetDecimal()));
    }

    [Fact]
    public async Task Refresh_FromUrl_StreamsTheOfferAndNamesTheUrl()
    {
        var url = await ServeAsync(async context =>
        {
            context.Response.ContentType = "text/csv";
            await context.Response.WriteAsync(OfferFixture.Csv);
        });

        var result = await _cli.RunAsync("prices", "refresh", "--region", "eu-west-3", "--offer", url.ToString());

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal($"# read from {url}", File.ReadAllLines(OnDemandTable)[2]);
        Assert.Equal("m7i.large,0.1176", File.ReadAllLines(OnDemandTable)[6]);
    }

    [Fact]
    public async Task Refresh_ServerSays404_Exit1AndNothingWritten()
    {
        var url = await ServeAsync(context =>
        {
            context.Response.StatusCode = 404;
            return Task.CompletedTask;
        });

        var result = await _cli.RunAsync("prices", "refresh", "--region", "eu-west-3", "--offer", url.ToString());

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"spotdevbox: cannot fetch the offer {url}: HTTP 404 Not Found", result.StderrLines);
        Assert.False(Directory.Exists(Tables));
    }

    [Fact]
    public async Task Refresh_DownloadBreaksOff_Exit1AndTheOldTablesStayWhole()
    {
        Directory.CreateDirectory(Tables);
        File.WriteAllText(OnDemandTable, "instance_type,usd_per_hour\nm7i.large,0.1\n");
        var url = await ServeAsync(async context =>
        {
            var body = Encoding.UTF8.GetBytes(OfferFixture.Csv);
            context.Response.ContentLength = body.Length;
            await context.Response.Body.WriteAsync(body.AsMemory(0, body.Length / 2));
            await context.Response.Body.FlushAsync();
            // Let the headers and the first half reach the client before the connection drops.
            await Task.Delay(TimeSpan.FromMilliseconds(300));
            context.Abort();
        });

        var result = await _cli.RunAsync("prices", "refresh", "--region", "eu-west-3", "--offer", url.ToString());

        Assert.Equal(1, result.ExitCode);
        Assert.True(result.StderrLines[^1].StartsWith($"spotdevbox: reading the offer from {url} failed after ", StringComparison.Ordinal), result.ToString());
        Assert.Equal("instance_type,usd_per_hour\nm7i.large,0.1\n", File.ReadAllText(OnDemandTable));
        Assert.Equal(["ondemand-linux-eu-west-3.csv"], Directory.GetFiles(Tables).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Refresh_FileCutInsideAQuotedField_Exit1AndTheOldTableStays()
    {
        Directory.CreateDirectory(Tables);
        File.WriteAllText(OnDemandTable, "instance_type,usd_per_hour\nm7i.large,0.1\n");
        var cut = OfferFixture.Csv[..OfferFixture.Csv.IndexOf("Intel AVX, Intel AVX2, Intel Turbo", StringComparison.Ordinal)];

        var result = await _cli.RunAsync("prices", "refresh", "--region", "eu-west-3", "--offer", OfferFile(cut));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("a quoted field is not closed before the end of the input", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("instance_type,usd_per_hour\nm7i.large,0.1\n", File.ReadAllText(OnDemandTable));
        Assert.Single(Directory.GetFiles(Tables));
    }

    [Fact]
    public async Task Refresh_OfferOfAnotherRegion_Exit2NothingWritten()
    {
        var result = await _cli.RunAsync("prices", "refresh", "--region", "eu-central-1", "--offer", OfferFile());

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("spotdevbox: the offer holds no Linux on-demand instance price for eu-central-1 (its rows are for eu-west-2, eu-west-3); nothing was written", result.StderrLines[^1]);
        Assert.False(Directory.Exists(Tables));
    }

    [Theory]
    [InlineData("--region|eu-west-3|--offer|{temp}/missing.csv", "spotdevbox: --offer: there is no file {temp}/missing.csv")]
    [InlineData("--region|Paris", "spotdevbox: --region: 'Paris' is not an AWS region name (e.g. eu-central-1)")]
    [InlineData("", "spotdevbox: name the region: --region REGION (e.g. eu-central-1)")]
    public async Task Refresh_BadArguments_Exit2(string args, string message)
    {
        var result = await _cli.RunAsync(["prices", "refresh", .. args.Replace("{temp}", _temp.Path, StringComparison.Ordinal).Split('|', StringSplitOptions.RemoveEmptyEntries)]);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal(message.Replace("{temp}", _temp.Path, StringComparison.Ordinal), result.StderrLines[^1]);
        Assert.False(Directory.Exists(Tables));
    }

    [Fact]
    public async Task Refresh_PricesDirectorySetting_TablesGoThere()
    {
        var elsewhere = _temp.Sub("my-prices");

        var result = await _cli.RunAsync(["prices", "refresh", "--region", "eu-west-3", "--offer", OfferFile()], new Dictionary<string, string?> { ["SPOTDEVBOX_Prices__Directory"] = elsewhere });

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.True(File.Exists(Path.Combine(elsewhere, "ondemand-linux-eu-west-3.csv")));
        Assert.False(Directory.Exists(Tables));
    }
}
