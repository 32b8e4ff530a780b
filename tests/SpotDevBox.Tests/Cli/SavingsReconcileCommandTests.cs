using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging.Abstractions;
using SpotDevBox.Controller;
using SpotDevBox.Core.Savings;
using TestSupport;

namespace SpotDevBox.Tests.Cli;

/// <summary>
/// The real <c>spotdevbox savings reconcile</c> against feed files in a bucket on the S3 peer, written by hand from
/// the documented format, and a ledger in the controller's SQLite file. The ledger, worked out by hand:
/// alice's i-0a1100000000000aa ran 09:20-11:05 at 0.036/h until 10:30, then 0.030/h: 0.024 (40 min), 0.018 + 0.015 = 0.033,
/// 0.0025 (5 min at 0.030); bob's i-0b2200000000000bb ran 09:20-10:10 and EC2 reclaimed it: nothing charged.
/// </summary>
[Collection("s3-crash")]
public sealed class SavingsReconcileCommandTests(S3PeerFixture peer) : IAsyncLifetime
{
    private const string Alice = "i-0a1100000000000aa";
    private const string Bob = "i-0b2200000000000bb";
    private const string Stranger = "i-0c3300000000000cc";
    private const string Header = "#Version: 1.0\n#Fields: Timestamp UsageType Operation InstanceID MyBidID MyMaxPrice MarketPrice Charge Version\n";
    private static readonly DateTimeOffset Nine = new(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);

    private readonly TempDir _temp = new("spotdevbox-reconcile-");
    private string _bucket = "";

    private string Feed => $"s3://{_bucket}/spot-feed";

    public async Task InitializeAsync()
    {
        _bucket = peer.NewBucketName("feed");
        await peer.CreateBucketAsync(_bucket);

        using (var store = new ControllerStore(_temp.Sub("state/controller.db"), NullLogger<ControllerStore>.Instance))
        {
            await store.InitializeAsync(CancellationToken.None);
            await store.RecordAsync(Entry("alice", Alice, Nine.AddMinutes(20), Nine.AddHours(2).AddMinutes(5), interrupted: false,
                new PriceSegment(Nine.AddMinutes(20), Nine.AddHours(1).AddMinutes(30), 0.036m), new PriceSegment(Nine.AddHours(1).AddMinutes(30), Nine.AddHours(2).AddMinutes(5), 0.030m)), CancellationToken.None);
            await store.RecordAsync(Entry("bob", Bob, Nine.AddMinutes(20), Nine.AddHours(1).AddMinutes(10), interrupted: true,
                new PriceSegment(Nine.AddMinutes(20), Nine.AddHours(1).AddMinutes(10), 0.036m)), CancellationToken.None);
        }

        await PutFeedAsync("123456789012.2026-11-27-09.001.a1b2c3d4.gz",
            Data("2026-11-27 09:00:00 UTC", "USE1-SpotUsage:m7i.large", Alice, "0.0360 USD", "0.0240 USD")
            + Data("2026-11-27 09:00:00 UTC", "USE1-SpotUsage:m7i.large", Bob, "0.0360 USD", "0.0000 USD")
            // Not a box, in the older form without a region prefix.
            + Data("2026-11-27 09:00:00 UTC", "SpotUsage:m7i.large", Stranger, "0.0416 USD", "0.0416 USD"));
        await PutFeedAsync("123456789012.2026-11-27-10.001.e5f6a7b8.gz", Data("2026-11-27 10:00:00 UTC", "USE1-SpotUsage:m7i.large", Alice, "0.0300 USD", "0.0330 USD"));
        await PutFeedAsync("123456789012.2026-11-27-11.001.c9d0e1f2.gz", Data("2026-11-27 11:00:00 UTC", "USE1-SpotUsage:m7i.large", Alice, "0.0300 USD", "0.0025 USD"));
        // Outside the window (its name says 26 Nov, 23:00): were it read, alice would be off by 50 cents.
        await PutFeedAsync("123456789012.2026-11-26-23.001.00ff00ff.gz", Data("2026-11-27 10:00:00 UTC", "USE1-SpotUsage:m7i.large", Alice, "0.0300 USD", "0.5000 USD"));
        // AWS writes this object when the feed is set up; it is not a feed file.
        await PutAsync("spot-feed/aws-programmatic-access-test-object", Encoding.UTF8.GetBytes("test"));
    }

    public Task DisposeAsync()
    {
        _temp.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Reconcile_FeedAgreesWithTheLedger_TableShowsEveryInstanceHourAndExitsZero()
    {
        var result = await ReconcileAsync();

        Assert.True(result.ExitCode == 0, result.ToString());
        var rows = result.Stdout.Split('\n').Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(t => t.Length > 1 && t[1].StartsWith("i-", StringComparison.Ordinal)).Select(t => string.Join(' ', t)).ToList();
        Assert.Equal(
            [
                $"alice {Alice} 2026-11-27 09:00 0.024000 0.0240 0.000000 match",
                $"alice {Alice} 2026-11-27 10:00 0.033000 0.0330 0.000000 match",
                $"alice {Alice} 2026-11-27 11:00 0.002500 0.0025 0.000000 match",
                $"bob {Bob} 2026-11-27 09:00 0.000000 0.0000 0.000000 match",
                $"bob {Bob} 2026-11-27 10:00 0.000000 - 0.000000 ledger-only",
                $"- {Stranger} 2026-11-27 09:00 - 0.0416 - not-in-ledger",
            ],
            rows);
        Assert.Contains("6 instance-hours: 4 match, 0 differ, 1 ledger-only, 0 feed-only, 0 unpriced, 1 not in the ledger ($0.0416)", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("total: ledger $0.059500, feed $0.0595, difference $0.000000", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("3 files for [2026-11-27 00:00, 2026-11-28 00:00) UTC", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("all matched", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reconcile_Json_IsTheSameAsFormatJson()
    {
        var json = await ReconcileAsync("--json");
        var format = await ReconcileAsync("--format", "json");
        var disagreeing = await ReconcileAsync("--json", "--format", "table");

        Assert.True(json.ExitCode == 0, json.ToString());
        Assert.Equal(JsonValueKind.Object, json.Json().ValueKind);
        Assert.Equal(format.Stdout, json.Stdout);
        Assert.Equal(2, disagreeing.ExitCode);
        Assert.Equal("spotdevbox: --json and --format table disagree: give one of them", disagreeing.Stderr.Trim());
    }

    [Fact]
    public async Task Reconcile_Csv_TheDocumentedColumnsRowByRow()
    {
        var result = await ReconcileAsync("--format", "csv");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(
            "instance_id,box,hour,ledger_usd,feed_usd,difference_usd,status,exceeds\n"
            + $"{Alice},alice,2026-11-27T09:00:00Z,0.024000,0.0240,0.000000,match,false\n"
            + $"{Alice},alice,2026-11-27T10:00:00Z,0.033000,0.0330,0.000000,match,false\n"
            + $"{Alice},alice,2026-11-27T11:00:00Z,0.002500,0.0025,0.000000,match,false\n"
            + $"{Bob},bob,2026-11-27T09:00:00Z,0.000000,0.0000,0.000000,match,false\n"
            + $"{Bob},bob,2026-11-27T10:00:00Z,0.000000,,0.000000,ledger-only,false\n"
            + $"{Stranger},,2026-11-27T09:00:00Z,,0.0416,,not-in-ledger,false\n",
            result.Stdout);
    }

    [Fact]
    public async Task Reconcile_JsonForOneBox_ThatBoxsRowsAndTotals()
    {
        var result = await ReconcileAsync("--format", "json", "--box", "alice");

        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        Assert.True(json.GetProperty("all_matched").GetBoolean());
        Assert.Equal(("2026-11-27T00:00:00Z", "2026-11-28T00:00:00Z", Feed, 3), (json.GetProperty("from").GetString(), json.GetProperty("to").GetString(), json.GetProperty("feed").GetString(), json.GetProperty("files").GetInt32()));
        Assert.Equal(0.0001m, json.GetProperty("tolerance_usd").GetDecimal());
        var rows = json.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(3, rows.Count);
        Assert.All(rows, r => Assert.Equal((Alice, "alice", "match", false), (r.GetProperty("instance_id").GetString(), r.GetProperty("box").GetString(), r.GetProperty("status").GetString(), r.GetProperty("exceeds").GetBoolean())));
        Assert.Equal(("2026-11-27T10:00:00Z", 0.033m, 0.0330m, 0m), (rows[1].GetProperty("hour").GetString(), rows[1].GetProperty("ledger_usd").GetDecimal(), rows[1].GetProperty("feed_usd").GetDecimal(), rows[1].GetProperty("difference_usd").GetDecimal()));
        var totals = json.GetProperty("totals");
        Assert.Equal((0.0595m, 0.0595m, 0m, 3, 3, 0), (totals.GetProperty("ledger_usd").GetDecimal(), totals.GetProperty("feed_usd").GetDecimal(), totals.GetProperty("difference_usd").GetDecimal(), totals.GetProperty("rows").GetInt32(), totals.GetProperty("match").GetInt32(), totals.GetProperty("not_in_ledger").GetInt32()));
    }

    [Fact]
    public async Task Reconcile_OneHourOffByACent_ExitsOneNamingTheInstanceAndHour()
    {
        await PutFeedAsync("123456789012.2026-11-27-10.001.e5f6a7b8.gz", Data("2026-11-27 10:00:00 UTC", "USE1-SpotUsage:m7i.large", Alice, "0.0300 USD", "0.0430 USD"));

        var result = await ReconcileAsync();

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains(result.Stdout.Split('\n'), l => l.Contains(Alice, StringComparison.Ordinal) && l.Contains("2026-11-27 10:00", StringComparison.Ordinal) && l.TrimEnd().EndsWith("-0.010000  differs", StringComparison.Ordinal));
        Assert.Equal(
            [
                "spotdevbox: 1 of 6 instance-hours differ by more than $0.0001 (ledger minus feed)",
                $"spotdevbox: {Alice} (alice) 2026-11-27 10:00 UTC: ledger 0.033000, feed 0.0430, difference -0.010000 (differs)",
            ],
            result.StderrLines.Where(l => l.StartsWith("spotdevbox:", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Reconcile_MalformedFeedLine_ExitsTwoNamingTheFileAndLine()
    {
        await PutFeedAsync("123456789012.2026-11-27-11.001.c9d0e1f2.gz", Data("2026-11-27 11:00:00 UTC", "USE1-SpotUsage:m7i.large", Alice, "0.0300 USD", "0,0025 USD"));

        var result = await ReconcileAsync();

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains($"{Feed}/123456789012.2026-11-27-11.001.c9d0e1f2.gz line 3: Charge '0,0025 USD' is not an amount in USD", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("", result.Stdout);
    }

    [Fact]
    public async Task Reconcile_NoSuchBucket_ExitsTwo()
    {
        var result = await Cli().RunAsync("savings", "reconcile", "--feed", $"s3://{peer.NewBucketName("absent")}/spot-feed", "--from", "2026-11-27", "--to", "2026-11-28");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("cannot list the Spot data feed at s3://", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--from", "2026-11-31", "--from '2026-11-31' is not a UTC date")]
    [InlineData("--to", "yesterday", "--to 'yesterday' is not a UTC date")]
    [InlineData("--format", "xml", "--format 'xml' is not one of table, csv, json")]
    public async Task Reconcile_BadArgument_ExitsTwoNamingIt(string option, string value, string message)
    {
        var result = await Cli().RunAsync("savings", "reconcile", "--feed", Feed, option, value);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reconcile_ToNotAfterFrom_ExitsTwo()
    {
        var result = await Cli().RunAsync("savings", "reconcile", "--feed", Feed, "--from", "2026-11-28", "--to", "2026-11-27T23:30");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("--from 2026-11-28 00:00 is not before --to 2026-11-28 00:00", result.Stderr, StringComparison.Ordinal);
    }

    private Task<CliResult> ReconcileAsync(params string[] more) =>
        Cli().RunAsync(["savings", "reconcile", "--feed", Feed, "--from", "2026-11-27", "--to", "2026-11-28", .. more], new Dictionary<string, string?>());

    private SpotDevBoxProcess Cli()
    {
        var config = _temp.Sub("spotdevbox.json");
        File.WriteAllText(config, $$"""
            { "Logging": { "File": "off" }, "Controller": { "Database": "{{_temp.Sub("state/controller.db")}}" } }
            """);
        return new SpotDevBoxProcess(_temp.Sub("cli"), peer)
            .Set("SPOTDEVBOX_CONFIG", config)
            .Set("SPOTDEVBOX_Storage__EndpointUrl", peer.Endpoint);
    }

    private static LedgerEntry Entry(string box, string instanceId, DateTimeOffset start, DateTimeOffset end, bool interrupted, params PriceSegment[] segments) => new(
        box, box, instanceId, "us-east-1", "m7i.large", "us-east-1a", "spot", start, end, interrupted ? "interruption" : "idle", interrupted,
        (long)(end - start).TotalSeconds, interrupted ? 0 : (long)(end - start).TotalSeconds, null, null, null, null, null, 30, 0.1008m, segments, [], end);

    private static string Data(string timestamp, string usageType, string instanceId, string marketPrice, string charge) =>
        string.Join('\t', timestamp, usageType, "RunInstances:SV001", instanceId, "sir-" + instanceId[2..10], "0.100 USD", marketPrice, charge, "1") + "\n";

    private Task PutFeedAsync(string name, string lines)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(Encoding.UTF8.GetBytes(Header + lines));
        }

        return PutAsync("spot-feed/" + name, buffer.ToArray());
    }

    private async Task PutAsync(string key, byte[] content)
    {
        using var s3 = peer.CreateClient();
        using var body = new MemoryStream(content);
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = _bucket, Key = key, InputStream = body });
    }
}
