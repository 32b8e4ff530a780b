using System.Text.Json;
using SpotDevBox.Tests.Savings;
using TestSupport;

namespace SpotDevBox.Tests.Cli;

/// <summary>
/// The real <c>spotdevbox savings</c> over a SQLite ledger written by hand (<see cref="ReportLedger"/>, where every
/// expected figure is worked out): the table, the documented CSV columns and JSON fields, unknown prices, bad arguments.
/// </summary>
public sealed class SavingsReportCommandTests : IAsyncLifetime
{
    private static readonly string[] LineFields =
    [
        "key", "from", "to", "sessions", "seconds", "hours", "paid_usd", "same_hours_on_demand_usd", "always_on_on_demand_usd",
        "spot_saving_usd", "off_hours_saving_usd", "total_saving_usd", "complete",
    ];

    private ReportLedger _ledger = null!;

    public async Task InitializeAsync() => _ledger = await ReportLedger.CreateAsync();

    public Task DisposeAsync()
    {
        _ledger.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    [Trait("Category", "Calendar")]
    public async Task Savings_Table_DaysTotalsTheBoxNotCountedAndTheRunningSession()
    {
        var result = await _ledger.SavingsAsync();

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Stdout.Split('\n');
        Assert.Equal("Savings from 2026-06-08 00:00 to 2026-06-10 00:00 (UTC), by day; USD, rounded to cents", lines[0]);
        Assert.Equal(["DAY", "PAID", "SAME", "HOURS", "ON-DEMAND", "24/7", "ON-DEMAND", "SPOT", "SAVING", "OFF-HOURS", "SAVING", "TOTAL", "SAVING", "SESSIONS", "HOURS"], Words(lines[1]));
        // Cents of: Monday 0.86155, 1.46955, 4.9824, 0.608, 3.51285, 4.12085; Tuesday 0.18635, 0.42955, 4.9824, 0.2432, 4.55285, 4.79605;
        // the two days 1.0479, 1.8991, 9.9648, 0.8512, 8.0657, 8.9169.
        Assert.Equal(["2026-06-08", "0.86", "1.47", "4.98", "0.61", "3.51", "4.12", "2", "14.00"], Words(lines[2]));
        Assert.Equal(["2026-06-09", "0.19", "0.43", "4.98", "0.24", "4.55", "4.80", "1", "4.00"], Words(lines[3]));
        Assert.Equal(["total", "1.05", "1.90", "9.96", "0.85", "8.07", "8.92", "3", "18.00"], Words(lines[4]));
        Assert.Equal("not counted: dave-dev: no session recorded before 2026-06-10T00:00:00Z", lines[5]);
        Assert.Equal("running, not in the ledger yet (costed when they end):", lines[6]);
        Assert.StartsWith($"  alice-dev  {ReportLedger.Running}  m7i.large spot  since 2026-06-09 20:00 (UTC)  ", lines[7], StringComparison.Ordinal);
        Assert.EndsWith(" h so far", lines[7], StringComparison.Ordinal);
        Assert.DoesNotContain("unknown", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Savings_Json_IsTheSameAsFormatJson()
    {
        var json = await _ledger.SavingsAsync("--json");
        var format = await _ledger.SavingsAsync("--format", "json");
        var both = await _ledger.SavingsAsync("--json", "--format", "json");

        Assert.True(json.ExitCode == 0, json.ToString());
        Assert.Equal(JsonValueKind.Object, json.Json().ValueKind);
        Assert.Equal(WithoutGeneratedAt(format.Stdout), WithoutGeneratedAt(json.Stdout));
        Assert.Equal(WithoutGeneratedAt(format.Stdout), WithoutGeneratedAt(both.Stdout));
    }

    /// <summary>The report without what depends on the time of the run: when it was made, and the running session's hours so far.</summary>
    private static string WithoutGeneratedAt(string json)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject();
        Assert.True(node.Remove("generated_at"));
        Assert.True(node.Remove("running"));
        return node.ToJsonString();
    }

    [Fact]
    public async Task Savings_JsonAndAnotherFormat_ExitsTwoNamingBoth()
    {
        var result = await _ledger.SavingsAsync("--json", "--format", "csv");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("", result.Stdout);
        Assert.Equal("spotdevbox: --json and --format csv disagree: give one of them", result.Stderr.Trim());
    }

    [Fact]
    public async Task Savings_Csv_TheDocumentedColumnsWithTheLedgersFigures()
    {
        var result = await _ledger.SavingsAsync("--format", "csv");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(
            "by,key,from,to,sessions,seconds,hours,paid_usd,same_hours_on_demand_usd,always_on_on_demand_usd,spot_saving_usd,off_hours_saving_usd,total_saving_usd,complete\n"
            + "day,2026-06-08,2026-06-08T00:00:00Z,2026-06-09T00:00:00Z,2,50400,14.00,0.861550,1.469550,4.982400,0.608000,3.512850,4.120850,true\n"
            + "day,2026-06-09,2026-06-09T00:00:00Z,2026-06-10T00:00:00Z,1,14400,4.00,0.186350,0.429550,4.982400,0.243200,4.552850,4.796050,true\n"
            + "total,total,2026-06-08T00:00:00Z,2026-06-10T00:00:00Z,3,64800,18.00,1.047900,1.899100,9.964800,0.851200,8.065700,8.916900,true\n",
            result.Stdout);
        Assert.Equal("", result.Stderr);
    }

    [Fact]
    public async Task Savings_CsvByBoxInBerlin_LocalDaysReadFromTheZoneAndAnOwnerQuoted()
    {
        var result = await _ledger.SavingsAsync("--format", "csv", "--by", "box", "--tz", "Europe/Berlin");

        Assert.True(result.ExitCode == 0, result.ToString());
        // Berlin midnights are 22:00 UTC in June; every session and its S3 gaps fall on the same days, so the figures are the same.
        Assert.Equal(
            [
                "box,alice-dev,2026-06-07T22:00:00Z,2026-06-09T22:00:00Z,2,50400,14.00,0.629800,1.481000,5.030400,0.851200,3.549400,4.400600,true",
                "box,carol-dev,2026-06-07T22:00:00Z,2026-06-09T22:00:00Z,1,14400,4.00,0.418100,0.418100,4.934400,0.000000,4.516300,4.516300,true",
                "total,total,2026-06-07T22:00:00Z,2026-06-09T22:00:00Z,3,64800,18.00,1.047900,1.899100,9.964800,0.851200,8.065700,8.916900,true",
            ],
            result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1));
    }

    [Theory]
    [InlineData("2026-06-08T00:00Z", "2026-06-10T00:00:00Z")]
    [InlineData("2026-06-08T02:00+02:00", "2026-06-10T00:00:00+00:00")]
    public async Task Savings_FromAndToWithZOrAnOffset_TakenAsGivenWhateverTheMachinesZone(string from, string to)
    {
        // The report's zone is UTC (the configuration's default); the machine's is Kolkata's (+05:30), which must not matter.
        var result = await _ledger.Cli().RunAsync(
            ["savings", "--from", from, "--to", to, "--format", "json"],
            new Dictionary<string, string?> { ["TZ"] = "Asia/Kolkata" });

        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        Assert.Equal(("2026-06-08T00:00:00Z", "2026-06-10T00:00:00Z"), (S(json, "from"), S(json, "to")));
    }

    [Fact]
    public async Task Savings_Json_TheDocumentedFieldsAndTypesWithTheLedgersFigures()
    {
        var result = await _ledger.SavingsAsync("--format", "json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        Assert.Equal(
            ["schema", "from", "to", "time_zone", "by", "box", "owner", "generated_at", "complete", "rows", "totals", "boxes", "unknowns", "not_counted", "running"],
            json.EnumerateObject().Select(p => p.Name));
        Assert.Equal((1, "2026-06-08T00:00:00Z", "2026-06-10T00:00:00Z", "UTC", "day"),
            (json.GetProperty("schema").GetInt32(), S(json, "from"), S(json, "to"), S(json, "time_zone"), S(json, "by")));
        Assert.Equal((JsonValueKind.Null, JsonValueKind.Null, JsonValueKind.True), (json.GetProperty("box").ValueKind, json.GetProperty("owner").ValueKind, json.GetProperty("complete").ValueKind));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", S(json, "generated_at"));

        var rows = json.GetProperty("rows").EnumerateArray().ToList();
        Assert.All(rows.Append(json.GetProperty("totals")), r => AssertLine(r, withOwner: false));
        Assert.Equal(("2026-06-08", "2026-06-08T00:00:00Z", "2026-06-09T00:00:00Z", 2, 50400L, "14.00"),
            (S(rows[0], "key"), S(rows[0], "from"), S(rows[0], "to"), rows[0].GetProperty("sessions").GetInt32(), rows[0].GetProperty("seconds").GetInt64(), S(rows[0], "hours")));
        Assert.Equal(["0.861550", "1.469550", "4.982400", "0.608000", "3.512850", "4.120850"], Money(rows[0]));
        Assert.Equal(["0.186350", "0.429550", "4.982400", "0.243200", "4.552850", "4.796050"], Money(rows[1]));
        Assert.Equal(["1.047900", "1.899100", "9.964800", "0.851200", "8.065700", "8.916900"], Money(json.GetProperty("totals")));

        var boxes = json.GetProperty("boxes").EnumerateArray().ToList();
        Assert.All(boxes, b => AssertLine(b, withOwner: true));
        Assert.Equal([("alice-dev", "alice"), ("carol-dev", ReportLedger.CarolsOwner)], boxes.Select(b => (S(b, "key"), S(b, "owner"))));
        Assert.Equal(["0.629800", "1.481000", "5.030400", "0.851200", "3.549400", "4.400600"], Money(boxes[0]));
        Assert.Equal(["0.418100", "0.418100", "4.934400", "0.000000", "4.516300", "4.516300"], Money(boxes[1]));

        Assert.Empty(json.GetProperty("unknowns").EnumerateArray());
        Assert.Equal(["dave-dev: no session recorded before 2026-06-10T00:00:00Z"], json.GetProperty("not_counted").EnumerateArray().Select(n => n.GetString()));
        var running = Assert.Single(json.GetProperty("running").EnumerateArray());
        Assert.Equal(["box", "owner", "instance_id", "instance_type", "lifecycle", "start", "seconds", "hours"], running.EnumerateObject().Select(p => p.Name));
        Assert.Equal(("alice-dev", "alice", ReportLedger.Running, "m7i.large", "spot", "2026-06-09T20:00:00Z"),
            (S(running, "box"), S(running, "owner"), S(running, "instance_id"), S(running, "instance_type"), S(running, "lifecycle"), S(running, "start")));
        Assert.Equal(JsonValueKind.Number, running.GetProperty("seconds").ValueKind);
        Assert.Matches(@"^\d+\.\d\d$", S(running, "hours"));
    }

    [Fact]
    public async Task Savings_OneOwner_OnlyThatOwnersBoxes()
    {
        var result = await _ledger.SavingsAsync("--format", "json", "--owner", "alice", "--by", "owner");

        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        var row = Assert.Single(json.GetProperty("rows").EnumerateArray());
        Assert.Equal("alice", S(row, "key"));
        Assert.Equal(["0.629800", "1.481000", "5.030400", "0.851200", "3.549400", "4.400600"], Money(row));
        Assert.Equal(["alice-dev"], json.GetProperty("boxes").EnumerateArray().Select(b => S(b, "key")));
        Assert.Equal("alice", S(json, "owner"));
    }

    [Fact]
    public async Task Savings_PricesUnknownInARegion_FiguresNullTotalsMarkedAndEachFixNamed()
    {
        using var ledger = await ReportLedger.CreateAsync(bob: true);

        var table = await ledger.SavingsAsync();
        var json = await ledger.SavingsAsync("--format", "json");

        Assert.True(table.ExitCode == 0, table.ToString());
        const string OnDemand = "unknown: no on-demand price table for region ap-south-2 — fix: run 'spotdevbox prices refresh --region ap-south-2', or set Prices:OnDemand:ap-south-2:m7i.large (USD per hour)";
        const string S3 = "unknown: no storage price table for region ap-south-2 — fix: set Prices:Storage:ap-south-2:s3_standard_first_50tb (USD per GB-month); 'prices refresh' reads the EC2 offer, which has no S3 prices";
        var lines = table.Stdout.Split('\n');
        Assert.Contains(OnDemand, lines);
        Assert.Contains(S3, lines);
        // Paid lacks bob's S3 between sessions; what is known of it is shown as a lower bound; no saving is computed.
        var total = Words(lines.Single(l => l.StartsWith("total", StringComparison.Ordinal)));
        Assert.Equal(["total", "*"], total[..2]);
        Assert.StartsWith(">=", total[2], StringComparison.Ordinal);
        Assert.Equal(["unknown", "unknown", "unknown"], total[5..8]);

        var report = json.Json();
        Assert.False(report.GetProperty("complete").GetBoolean());
        var totals = report.GetProperty("totals");
        Assert.False(totals.GetProperty("complete").GetBoolean());
        Assert.All(["paid_usd", "always_on_on_demand_usd", "total_saving_usd"], f => Assert.Equal(JsonValueKind.Null, totals.GetProperty(f).ValueKind));
        var unknowns = report.GetProperty("unknowns").EnumerateArray().Select(u => (S(u, "what"), S(u, "fix"))).ToList();
        Assert.Contains(("no on-demand price table for region ap-south-2", "run 'spotdevbox prices refresh --region ap-south-2', or set Prices:OnDemand:ap-south-2:m7i.large (USD per hour)"), unknowns);
        // Not in the table on stdout: a script reading JSON still tells a person on stderr.
        Assert.Contains("warning: incomplete: " + OnDemand, json.StderrLines);
        // alice's box alone is complete.
        var alice = report.GetProperty("boxes").EnumerateArray().Single(b => S(b, "key") == "alice-dev");
        Assert.True(alice.GetProperty("complete").GetBoolean());
    }

    [Theory]
    [InlineData("--by", "year", "--by 'year' is not one of day, week, month, box, owner")]
    [InlineData("--format", "xml", "--format 'xml' is not one of table, csv, json, html")]
    [InlineData("--tz", "Mars/Olympus_Mons", "--tz 'Mars/Olympus_Mons' is not a known time zone")]
    [InlineData("--to", "2026-06-31", "--to '2026-06-31' is not a date or date-time")]
    [InlineData("--box", "nobody-dev", "no box nobody-dev in Controller:Boxes")]
    public async Task Savings_BadArgument_ExitsTwoNamingIt(string option, string value, string message)
    {
        var result = await _ledger.SavingsAsync(option, value);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
        Assert.Equal("", result.Stdout);
    }

    [Fact]
    public async Task Savings_FromInTheFuture_ExitsTwo()
    {
        var result = await _ledger.Cli().RunAsync("savings", "--from", "2999-01-01");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("--from 2999-01-01 00:00 (UTC) is not in the past", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Savings_NoLedger_ExitsTwoNamingWhereItLooked()
    {
        File.Delete(_ledger.Database);

        var result = await _ledger.SavingsAsync();

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains($"no ledger at {_ledger.Database}", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Savings_LedgerOnPostgres_SameFiguresAsOnSqlite()
    {
        var server = await PostgresServer.SharedAsync();
        var name = await server.CreateDatabaseAsync();
        try
        {
            using var ledger = await ReportLedger.CreateAsync(postgres: server.ConnectionString(name));

            var result = await ledger.SavingsAsync();

            Assert.True(result.ExitCode == 0, result.ToString());
            var lines = result.Stdout.Split('\n');
            // The figures of Savings_Table_DaysTotalsTheBoxNotCountedAndTheRunningSession, from the same ledger in PostgreSQL.
            Assert.Equal(["2026-06-08", "0.86", "1.47", "4.98", "0.61", "3.51", "4.12", "2", "14.00"], Words(lines[2]));
            Assert.Equal(["2026-06-09", "0.19", "0.43", "4.98", "0.24", "4.55", "4.80", "1", "4.00"], Words(lines[3]));
            Assert.Equal(["total", "1.05", "1.90", "9.96", "0.85", "8.07", "8.92", "3", "18.00"], Words(lines[4]));
            Assert.StartsWith($"  alice-dev  {ReportLedger.Running}  m7i.large spot  since 2026-06-09 20:00 (UTC)  ", lines[7], StringComparison.Ordinal);
        }
        finally
        {
            await server.DropDatabaseAsync(name);
        }
    }

    [Fact]
    public async Task Savings_PostgresUnreachable_Exit1NamingTheSettingNeverTheConnectionString()
    {
        var database = $"Host=127.0.0.1;Port={ClosedPort()};Database=spotdevbox;Username=controller;Password=s3cret-pw;Timeout=5";

        var result = await _ledger.Cli().Set("SPOTDEVBOX_Controller__Database", database).RunAsync("savings", "--from", "2026-06-08", "--to", "2026-06-10");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("the PostgreSQL database in Controller:Database cannot be reached", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-pw", result.Stderr + result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("Username=", result.Stderr + result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Savings_InvalidPostgresDatabase_Exit2NamingTheSettingNeverTheValue()
    {
        var result = await _ledger.Cli().Set("SPOTDEVBOX_Controller__Database", "Host=db.internal;Password=s3cret-pw").RunAsync("savings", "--from", "2026-06-08", "--to", "2026-06-10");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("Controller:Database is not a valid PostgreSQL connection string (no Database)", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-pw", result.Stderr + result.Stdout, StringComparison.Ordinal);
    }

    /// <summary>A loopback port nothing listens on (taken, then given back).</summary>
    private static int ClosedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Fact]
    public async Task SavingsReconcile_StillItsOwnCommand()
    {
        var result = await _ledger.Cli().RunAsync("savings", "reconcile", "--from", "2026-06-08");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("--feed is required", result.Stderr, StringComparison.Ordinal);
    }

    private static void AssertLine(JsonElement line, bool withOwner)
    {
        Assert.Equal(withOwner ? [LineFields[0], "owner", .. LineFields[1..]] : LineFields, line.EnumerateObject().Select(p => p.Name));
        foreach (var field in new[] { "key", "from", "to", "hours" })
        {
            Assert.Equal(JsonValueKind.String, line.GetProperty(field).ValueKind);
        }

        Assert.Equal((JsonValueKind.Number, JsonValueKind.Number), (line.GetProperty("sessions").ValueKind, line.GetProperty("seconds").ValueKind));
        Assert.Contains(line.GetProperty("complete").ValueKind, new[] { JsonValueKind.True, JsonValueKind.False });
        foreach (var money in LineFields.Where(f => f.EndsWith("_usd", StringComparison.Ordinal)))
        {
            var value = line.GetProperty(money);
            Assert.True(value.ValueKind == JsonValueKind.Null || (value.ValueKind == JsonValueKind.String && System.Text.RegularExpressions.Regex.IsMatch(value.GetString()!, @"^-?\d+\.\d{6}$")), $"{money}: {value}");
        }
    }

    private static string[] Money(JsonElement line) =>
        [.. new[] { "paid_usd", "same_hours_on_demand_usd", "always_on_on_demand_usd", "spot_saving_usd", "off_hours_saving_usd", "total_saving_usd" }.Select(f => S(line, f))];

    private static string S(JsonElement element, string name) => element.GetProperty(name).GetString()!;

    private static string[] Words(string line) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
