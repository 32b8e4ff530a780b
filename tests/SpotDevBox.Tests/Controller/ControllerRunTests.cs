using System.Globalization;
using System.Text.Json;
using Amazon.S3.Model;
using Microsoft.Data.Sqlite;
using SpotDevBox.Core.Compute;
using TestSupport;
using TestSupport.Ec2;

namespace SpotDevBox.Tests.Controller;

/// <summary>
/// The real <c>spotdevbox controller run</c>, <c>up</c>, <c>down --until</c> and <c>status</c> processes against
/// the EC2 query endpoint (the real SDK on the wire) and the S3 peer: a box whose schedule is up around
/// the clock in UTC, m7i.large and m6i.large in two subnets, m6i.large in us-east-1a the cheapest.
/// </summary>
[Collection("s3-controller")]
public sealed class ControllerRunTests(S3PeerFixture peer) : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    /// <summary>The profile the box's configuration names ("spotdevbox-box"), as DescribeInstances reports it.</summary>
    private const string BoxProfileArn = "arn:aws:iam::123456789012:instance-profile/spotdevbox-box";
    /// <summary>The fleet's repository key (what 'spotdevbox setup' writes to Controller:Fleet:RepositoryKeyArn): every launch needs it.</summary>
    private const string RepositoryKeyArn = "arn:aws:kms:us-east-1:123456789012:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
    private readonly TempDir _temp = new("spotdevbox-controller-");
    private Ec2QueryEndpoint _ec2 = null!;
    private string _bucket = "";

    private string Database => _temp.Sub("state/controller.db");

    public async Task InitializeAsync()
    {
        _ec2 = await Ec2QueryEndpoint.StartAsync();
        _bucket = peer.NewBucketName("ctl");
        await peer.CreateBucketAsync(_bucket);
        _ec2.AddImage(new SimulatedImage("ami-0123456789abcdef0", "debian-12-amd64-20261101", "x86_64", "2026-11-01T00:00:00.000Z"));
        _ec2.AddInstanceType("m7i.large", "x86_64");
        _ec2.AddInstanceType("m6i.large", "x86_64");
        _ec2.SubnetZones["subnet-0aaa1111"] = "us-east-1a";
        _ec2.SubnetZones["subnet-0bbb2222"] = "us-east-1b";
        var earlier = TimeProvider.System.GetUtcNow().AddHours(-3);
        _ec2.AddSpotPrice(new SimulatedSpotPrice("m6i.large", "us-east-1a", "0.030000", earlier));
        _ec2.AddSpotPrice(new SimulatedSpotPrice("m6i.large", "us-east-1b", "0.032000", earlier));
        _ec2.AddSpotPrice(new SimulatedSpotPrice("m7i.large", "us-east-1a", "0.035000", earlier));
        _ec2.AddSpotPrice(new SimulatedSpotPrice("m7i.large", "us-east-1b", "0.036000", earlier));
        // What `spotdevbox agent publish` writes: the box pins this SHA-256 in its user data.
        await PutAsync("agent-builds/manifest.json", $$"""
            {"version":"1.0.0-test","published_at":"2026-11-27T00:00:00Z","builds":[
              {"rid":"linux-x64","architecture":"x86_64","key":"1.0.0-test/spotdevbox-linux-x64.tar.gz","sha256":"{{new string('a', 64)}}","size":1}]}
            """);
    }

    public async Task DisposeAsync()
    {
        await _ec2.DisposeAsync();
        _temp.Dispose();
    }

    [Fact]
    public async Task ControllerRun_InsideTheWindow_LaunchesOnceWithTheBoxsRequestAndRecordsTheSession()
    {
        using (var controller = Cli().Start("controller", "run"))
        {
            await WaitForAsync(controller, "Box e2e: launch: start: inside Mon-Sun 00:00-24:00 (UTC): launched");
            controller.Terminate();
            var exit = await controller.WaitAsync(Wait);
            Assert.True(exit.ExitCode == 0, exit.ToString());
        }

        var run = Assert.Single(_ec2.RequestsFor("RunInstances"));
        Assert.Equal(("m6i.large", "subnet-0aaa1111", "spot", "one-time", "terminate", "required"), (run["InstanceType"], run["SubnetId"], run["InstanceMarketOptions.MarketType"], run["InstanceMarketOptions.SpotOptions.SpotInstanceType"], run["InstanceMarketOptions.SpotOptions.InstanceInterruptionBehavior"], run["MetadataOptions.HttpTokens"]));
        Assert.Equal("e2e", run.TagsFor("instance")![BoxTags.Box]);
        var userData = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(run["UserData"]!));
        Assert.Contains(new string('a', 64), userData, StringComparison.Ordinal);
        Assert.Contains("agent-builds/1.0.0-test/spotdevbox-linux-x64.tar.gz", userData, StringComparison.Ordinal);

        var instance = Assert.Single(_ec2.Instances);
        var session = await QueryAsync($"SELECT instance_id, instance_type, availability_zone, lifecycle, price_per_hour FROM sessions");
        Assert.Equal(string.Join('|', instance.InstanceId, "m6i.large", "us-east-1a", "spot", "0.030000"), string.Join('|', session.Single()));
        var decisions = await QueryAsync("SELECT action FROM decisions WHERE box = 'e2e' ORDER BY id");
        Assert.Contains(["launch"], decisions);
        // Every decision about the instance names its session, the one its launch tagged it with.
        var sessionId = run.TagsFor("instance")![BoxTags.Session];
        Assert.False(string.IsNullOrEmpty(sessionId));
        Assert.Equal([[sessionId]], await QueryAsync("SELECT session_id FROM sessions"));
        var aboutTheInstance = await QueryAsync($"SELECT action, session_id FROM decisions WHERE instance_id = '{instance.InstanceId}' ORDER BY id");
        Assert.Contains(["launch", sessionId], aboutTheInstance);
        Assert.All(aboutTheInstance, d => Assert.Equal(sessionId, d[1]));
    }

    [Fact]
    public async Task ControllerRun_AfterASpotInterruption_RelaunchesAwayFromThePoolAndAtStopTimeAsksTheAgent()
    {
        using (var first = Cli().Start("controller", "run"))
        {
            await WaitForAsync(first, "Box e2e: launch:");
            first.Terminate();
            await first.WaitAsync(Wait);
        }

        var interrupted = Assert.Single(_ec2.Instances).InstanceId;
        _ec2.UpdateInstance(interrupted, i => i with { StateCode = 48, StateReasonCode = "Server.SpotInstanceTermination", StateReasonMessage = "Server.SpotInstanceTermination: Spot instance termination" });

        // The controller comes back: its first pass sees the interruption and relaunches in the window.
        using (var second = Cli().Start("controller", "run"))
        {
            await WaitForAsync(second, "Box e2e: relaunch:");
            second.Terminate();
            await second.WaitAsync(Wait);
        }

        var runs = _ec2.RequestsFor("RunInstances");
        Assert.Equal(2, runs.Count);
        // Neither m6i.large nor us-east-1a first: m7i.large in us-east-1b.
        Assert.Equal(("m7i.large", "subnet-0bbb2222"), (runs[1]["InstanceType"], runs[1]["SubnetId"]));
        Assert.NotEqual(runs[0]["ClientToken"], runs[1]["ClientToken"]);
        Assert.Equal([["interruption"]], await QueryAsync($"SELECT ended_by FROM sessions WHERE instance_id = '{interrupted}'"));
        // Its cost, recorded as it closed: EC2 interrupted it within its first hour, so the instance cost nothing;
        // the on-demand comparison comes from the shipped us-east-1 table (m6i.large: 0.096 per hour).
        var ledger = (await QueryAsync($"SELECT instance_cost, ended_by, interrupted_by_ec2, on_demand_per_hour FROM ledger WHERE instance_id = '{interrupted}'")).Single();
        Assert.Equal("0|interruption|1|0.096000", string.Join('|', ledger));
        var relaunched = _ec2.Instances.Single(i => i.StateCode != 48).InstanceId;

        // A person takes the box down until a date: the controller asks the running instance's agent to stop.
        var down = await Cli().RunAsync("down", "--box", "e2e", "--until", TimeProvider.System.GetUtcNow().UtcDateTime.AddDays(3).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(down.ExitCode == 0, down.ToString());
        using (var third = Cli().Start("controller", "run"))
        {
            await WaitForAsync(third, "Box e2e: request-stop: down (down until");
            third.Terminate();
            await third.WaitAsync(Wait);
        }

        using var control = JsonDocument.Parse(await GetAsync("boxes/dev/e2e/control.json"));
        Assert.Equal(relaunched, control.RootElement.GetProperty("stop_instance_id").GetString());
        Assert.Equal("schedule", control.RootElement.GetProperty("stop_reason").GetString());
        Assert.Equal("Down", control.RootElement.GetProperty("override").GetProperty("kind").GetString());
        Assert.Equal(2, _ec2.RequestsFor("RunInstances").Count);
    }

    [Fact]
    public async Task ControllerRun_LogFile_DocumentedJqFiltersAgreeWithTheLedger()
    {
        var logs = _temp.Sub("logs");
        var logFile = Path.Combine(logs, "spotdevbox-.clef");
        using (var first = Cli(logFile: logFile).Start("controller", "run"))
        {
            await WaitForAsync(first, "Box e2e: launch:");
            first.Terminate();
            await first.WaitAsync(Wait);
        }

        var interrupted = Assert.Single(_ec2.Instances).InstanceId;
        // With the time EC2 gives (its StateTransitionReason), so the session's end is known and every figure priced.
        var ended = TimeProvider.System.GetUtcNow().UtcDateTime;
        _ec2.UpdateInstance(interrupted, i => i with
        {
            StateCode = 48, StateReasonCode = "Server.SpotInstanceTermination", StateReasonMessage = "Server.SpotInstanceTermination: Spot instance termination",
            StateTransitionReason = $"Service initiated ({ended:yyyy-MM-dd HH:mm:ss} GMT)",
        });
        using (var second = Cli(logFile: logFile).Start("controller", "run"))
        {
            await WaitForAsync(second, "Box e2e: relaunch:");
            second.Terminate();
            await second.WaitAsync(Wait);
        }

        var costed = (await QueryAsync($"SELECT paid, ended_at FROM ledger WHERE instance_id = '{interrupted}'")).Single();
        Assert.NotNull(costed[0]);
        var day = DateOnly.ParseExact(costed[1]![..10], "yyyy-MM-dd", CultureInfo.InvariantCulture);
        var dayText = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        // The next day at 00:04:55 UTC a controller logs that day's DailySavingsSummary at 00:05. The clock is
        // libfaketime's (as in ScheduleCommandClockTests), preloaded into the controller itself rather than through
        // the faketime program, which forks and would take the SIGTERM meant for the controller. It runs at the wall
        // clock's pace from the start of the process, and the cron trigger is computed when Quartz starts (about 1 s in,
        // measured): 5 s leaves room for a loaded machine. The schedule itself (00:05, the day before, not sooner) is
        // ControllerSchedulingTests', on a fake clock; this checks the real process's log line and the jq filters.
        var clock = day.AddDays(1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + " 00:04:55";
        var fake = new Dictionary<string, string?> { ["TZ"] = "UTC", ["FAKETIME"] = "@" + clock, ["LD_PRELOAD"] = LibFaketime() };
        using (var third = Cli(logFile: logFile).Start(["controller", "run"], fake))
        {
            await WaitForAsync(third, $"Savings on {dayText} (UTC) for *:");
            third.Terminate();
            await third.WaitAsync(Wait);
        }

        // The report at the same hour, when the day is over (it ends a period at its "now").
        var report = await Cli().RunAsync(["savings", "--from", dayText, "--to", day.AddDays(1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), "--by", "box", "--format", "json"], fake);
        Assert.True(report.ExitCode == 0, report.ToString());
        var json = report.Json();
        var boxLine = json.GetProperty("boxes").EnumerateArray().Single(b => b.GetProperty("key").GetString() == "e2e");

        var filters = JqFilters();
        Assert.Equal(3, filters.Count);
        var files = Directory.GetFiles(logs, "*.clef");
        Assert.NotEmpty(files);
        // Every event twice, as if two controllers had logged them: the filters must still count each once.
        foreach (var input in new[] { files, [.. files, .. files] })
        {
            var sessions = await JqAsync(filters[0], input);
            var ledger = await QueryAsync("SELECT instance_id, box, paid, on_demand_cost FROM ledger ORDER BY instance_id");
            Assert.Equal(
                ledger.Select(r => $"{r[0]} {r[1]} paid {Usd(r[2])} on-demand {Usd(r[3])}"),
                sessions.Select(e => $"{e.GetProperty("InstanceId").GetString()} {e.GetProperty("Box").GetString()} paid {Usd(e.GetProperty("Paid"))} on-demand {Usd(e.GetProperty("OnDemandCost"))}").Order(StringComparer.Ordinal));
            Assert.Contains(sessions, e => e.GetProperty("InstanceId").GetString() == interrupted);

            var perBox = (await JqAsync(filters[1], input)).Single(e => e.GetProperty("Day").GetString() == dayText);
            Assert.Equal(
                ("e2e", boxLine.GetProperty("sessions").GetInt32(), Usd(boxLine.GetProperty("paid_usd")), Usd(boxLine.GetProperty("same_hours_on_demand_usd")), Usd(boxLine.GetProperty("total_saving_usd"))),
                (perBox.GetProperty("Box").GetString(), perBox.GetProperty("Sessions").GetInt32(), Usd(perBox.GetProperty("Paid")), Usd(perBox.GetProperty("SameHoursOnDemand")), Usd(perBox.GetProperty("TotalSaving"))));

            var fleet = (await JqAsync(filters[2], input)).Single(e => e.GetProperty("Day").GetString() == dayText);
            var totals = json.GetProperty("totals");
            Assert.Equal(
                (totals.GetProperty("sessions").GetInt32(), Usd(totals.GetProperty("paid_usd")), Usd(totals.GetProperty("same_hours_on_demand_usd")), Usd(totals.GetProperty("total_saving_usd"))),
                (fleet.GetProperty("Sessions").GetInt32(), Usd(fleet.GetProperty("Paid")), Usd(fleet.GetProperty("SameHoursOnDemand")), Usd(fleet.GetProperty("TotalSaving"))));
        }
    }

    [Fact]
    public async Task Up_NoWait_LaunchesRecordsTheOverrideAndAConcurrentUpFindsTheSameInstance()
    {
        var up = await Cli().RunAsync("up", "e2e", "--for", "3h", "--no-wait");

        Assert.True(up.ExitCode == 0, up.ToString());
        var instance = Assert.Single(_ec2.Instances);
        Assert.Equal(instance.InstanceId, up.Stdout.Trim());
        Assert.Contains("launched " + instance.InstanceId, up.Stderr, StringComparison.Ordinal);
        using (var control = JsonDocument.Parse(await GetAsync("boxes/dev/e2e/control.json")))
        {
            Assert.Equal("Up", control.RootElement.GetProperty("override").GetProperty("kind").GetString());
        }

        // Two more at once, from "other laptops": both find the live instance; EC2 starts nothing more.
        // One Cli(): each call rewrites the configuration file, which a fast-starting first process may be reading.
        var cli = Cli();
        var again = await Task.WhenAll(cli.RunAsync("up", "e2e", "--no-wait"), cli.RunAsync("up", "e2e", "--no-wait"));
        Assert.All(again, r => Assert.True(r.ExitCode == 0, r.ToString()));
        Assert.All(again, r => Assert.Contains($"already has {instance.InstanceId}", r.Stderr, StringComparison.Ordinal));
        Assert.Single(_ec2.RequestsFor("RunInstances"));
    }

    [Fact]
    public async Task Up_NoRepositoryKeyArn_Exit2NamingTheSettingAndLaunchesNothing()
    {
        var up = await Cli(repositoryKeyArn: "").RunAsync("up", "e2e", "--for", "3h", "--no-wait");

        Assert.True(up.ExitCode == 2, up.ToString());
        var line = Assert.Single(ErrorLines(up.Stderr));
        Assert.Contains("Controller:Fleet:RepositoryKeyArn is empty", line, StringComparison.Ordinal);
        Assert.Contains("spotdevbox setup", line, StringComparison.Ordinal);
        Assert.Empty(_ec2.RequestsFor("RunInstances"));
        Assert.Empty(_ec2.Instances);
        // Nothing written: no override that a controller would launch the box on, no launch claim.
        Assert.Null(await TryGetAsync("boxes/dev/e2e/control.json"));
        Assert.Null(await TryGetAsync("boxes/dev/e2e/launch.json"));
    }

    [Fact]
    public async Task ControllerRun_PrometheusListenOnALoopbackPort_ServesTheMetricsOnSlashMetrics()
    {
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }

        string body = "";
        using (var controller = Cli().Set("SPOTDEVBOX_Controller__Metrics__Prometheus__Listen", port.ToString(CultureInfo.InvariantCulture)).Start("controller", "run"))
        {
            await WaitForAsync(controller, "Box e2e: launch: start:");
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            var until = TimeProvider.System.GetUtcNow() + Wait;
            while (!body.Contains("spotdevbox_reconcile_duration", StringComparison.Ordinal) && TimeProvider.System.GetUtcNow() < until)
            {
                try
                {
                    // The pass's duration is recorded once the whole pass is done, a moment after the launch is logged.
                    body = await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics"));
                }
                catch (HttpRequestException)
                {
                }

                await Task.Delay(200);
            }

            controller.Terminate();
            var exit = await controller.WaitAsync(Wait);
            Assert.True(exit.ExitCode == 0, exit.ToString());
        }

        Assert.Contains("spotdevbox_reconcile_duration_seconds_count{otel_scope_name=\"SpotDevBox.Controller\"} 1", body, StringComparison.Ordinal);
        // The buckets are seconds' (the instrument's advice), not the SDK's default milliseconds'.
        Assert.Contains("spotdevbox_reconcile_duration_seconds_bucket{otel_scope_name=\"SpotDevBox.Controller\",le=\"0.25\"}", body, StringComparison.Ordinal);
        Assert.Contains("spotdevbox_launches_total{otel_scope_name=\"SpotDevBox.Controller\",box=\"e2e\",outcome=\"launched\",owner=\"dev\",region=\"us-east-1\"} 1", body, StringComparison.Ordinal);
        Assert.Contains("spotdevbox_boxes{otel_scope_name=\"SpotDevBox.Controller\",region=\"us-east-1\",state=\"pending\"} 1", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SPOTDEVBOX_Controller__Metrics__Prometheus__Listen", "everywhere", "Controller:Metrics:Prometheus:Listen must be")]
    [InlineData("SPOTDEVBOX_Controller__Metrics__Otlp__Endpoint", "https://ops:s3cret@collector.example.com", "Controller:Metrics:Otlp:Endpoint must be")]
    // The standard variable reaches the SDK through the host's configuration, and is checked there as the setting is.
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "https://ops:s3cret@collector.example.com", "OTEL_EXPORTER_OTLP_ENDPOINT must be")]
    public async Task ControllerRun_InvalidMetricsSetting_Exit2NamingTheSettingAndLaunchesNothing(string variable, string value, string expected)
    {
        var run = await Cli().Set(variable, value).RunAsync("controller", "run");

        Assert.True(run.ExitCode == 2, run.ToString());
        var line = Assert.Single(ErrorLines(run.Stderr));
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", run.Stderr + run.Stdout, StringComparison.Ordinal);
        Assert.Empty(_ec2.RequestsFor("RunInstances"));
    }

    [Fact]
    public async Task ControllerRun_NoRepositoryKeyArn_WarnsAtStartRecordsWhyAndLaunchesNothing()
    {
        using (var controller = Cli(repositoryKeyArn: "").Start("controller", "run"))
        {
            await WaitForAsync(controller, "Box e2e: launch-failed:");
            controller.Terminate();
            var exit = await controller.WaitAsync(Wait);
            Assert.True(exit.ExitCode == 0, exit.ToString());
            Assert.Contains("No box can be launched: Controller:Fleet:RepositoryKeyArn is empty", exit.Stderr, StringComparison.Ordinal);
        }

        Assert.Empty(_ec2.RequestsFor("RunInstances"));
        Assert.Empty(_ec2.Instances);
        var reason = Assert.Single(await QueryAsync("SELECT reason FROM decisions WHERE box = 'e2e' AND action = 'launch-failed'"));
        Assert.Contains("Controller:Fleet:RepositoryKeyArn is empty", reason[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("direct")]
    public async Task Up_Waits_ShowsEachStepUntilTheAgentRestoredTheWorkThenHowToConnect(string? sshVia)
    {
        using var up = Cli(sshVia: sshVia).Start("up", "e2e", "--timeout", "3m");
        await WaitForAsync(up, "e2e: pending: EC2 is starting the instance");
        var id = Assert.Single(_ec2.Instances).InstanceId;

        _ec2.UpdateInstance(id, i => i with { StateCode = 16, PublicIpAddress = "198.51.100.30" });
        await WaitForAsync(up, "e2e: running: installing the agent");
        await PutAsync("boxes/dev/e2e/status.json", Status(id, "Restoring"));
        await WaitForAsync(up, "e2e: running: the agent is restoring the work");
        await PutAsync("boxes/dev/e2e/status.json", Status(id, "Running"));
        var exit = await up.WaitAsync(Wait);

        Assert.True(exit.ExitCode == 0, exit.ToString());
        Assert.Contains($"e2e is ready: {id} (m6i.large in us-east-1a) at 198.51.100.30", exit.Stdout, StringComparison.Ordinal);
        if (sshVia == "direct")
        {
            Assert.Contains("  connect: spotdevbox ssh e2e   (or: ssh dev@198.51.100.30)", exit.Stdout, StringComparison.Ordinal);
        }
        else
        {
            // Through the Instance Connect Endpoint (the default) the address is not what ssh dials.
            Assert.Contains("  connect: spotdevbox ssh e2e   (or, with the entries below: ssh e2e)", exit.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("ssh dev@", exit.Stdout, StringComparison.Ordinal);
        }

        // README's way: a file of its own, replaced each time and included once; appending to ~/.ssh/config
        // leaves a second Host block per run, and ssh takes the first, the dead address.
        Assert.Contains("spotdevbox ssh-config > ~/.ssh/spotdevbox_config", exit.Stdout, StringComparison.Ordinal);
        Assert.Contains("Include spotdevbox_config", exit.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(">> ~/.ssh/config", exit.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpJson_Waits_PrintsTheReadyInstanceThenDownJsonPrintsTheStop()
    {
        using var up = Cli().Start("up", "e2e", "--timeout", "3m", "--json");
        await WaitForAsync(up, "e2e: pending: EC2 is starting the instance");
        var id = Assert.Single(_ec2.Instances).InstanceId;
        _ec2.UpdateInstance(id, i => i with { StateCode = 16, PublicIpAddress = "198.51.100.31" });
        await WaitForAsync(up, "e2e: running: installing the agent");
        await PutAsync("boxes/dev/e2e/status.json", Status(id, "Running"));
        var exit = await up.WaitAsync(Wait);

        Assert.True(exit.ExitCode == 0, exit.ToString());
        // stdout is the JSON alone (the steps stay on stderr), for scripts.
        var json = exit.Json();
        Assert.Equal(
            ("e2e", id, "running", true, "m6i.large", "us-east-1a", "198.51.100.31", "dev"),
            (json.GetProperty("box").GetString(), json.GetProperty("instance_id").GetString(), json.GetProperty("state").GetString(), json.GetProperty("ready").GetBoolean(),
                json.GetProperty("instance_type").GetString(), json.GetProperty("availability_zone").GetString(), json.GetProperty("address").GetString(), json.GetProperty("user").GetString()));
        Assert.False(string.IsNullOrEmpty(json.GetProperty("session_id").GetString()));

        var down = await Cli().RunAsync("down", "e2e", "--note", "done", "--json");

        Assert.True(down.ExitCode == 0, down.ToString());
        var stop = down.Json();
        Assert.Equal(("e2e", $"s3://{_bucket}/boxes/dev/e2e"), (stop.GetProperty("box").GetString(), stop.GetProperty("storage").GetString()));
        Assert.EndsWith(": done", stop.GetProperty("requested_by").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, stop.GetProperty("down_until").ValueKind);
        using var control = JsonDocument.Parse((await TryGetAsync("boxes/dev/e2e/control.json"))!);
        Assert.Equal(stop.GetProperty("stop_requested_at").GetDateTimeOffset(), control.RootElement.GetProperty("stop_at").GetDateTimeOffset());
    }

    [Fact]
    public async Task Up_EveryCandidateFails_Exit1AndLeavesNoOverrideBehind()
    {
        _ec2.FailNextRunInstances(new Ec2Error("InsufficientInstanceCapacity", "We currently do not have sufficient capacity."), times: 10);

        var up = await Cli().RunAsync("up", "e2e", "--for", "3h", "--no-wait");

        Assert.True(up.ExitCode == 1, up.ToString());
        Assert.Empty(_ec2.Instances);
        // Nothing written: an override left behind would have a controller started later launch the box.
        Assert.Null(await TryGetAsync("boxes/dev/e2e/control.json"));
    }

    [Fact]
    public async Task Up_AfterAFailedUp_KeepsTheStopItDidNotWithdraw()
    {
        await PutAsync("boxes/dev/e2e/control.json", """{"stop_at":"2026-11-27T18:00:00Z","stop_reason":"manual","requested_by":"dev"}""");
        _ec2.FailNextRunInstances(new Ec2Error("InsufficientInstanceCapacity", "We currently do not have sufficient capacity."), times: 10);

        var up = await Cli().RunAsync("up", "e2e", "--for", "3h", "--no-wait");

        Assert.True(up.ExitCode == 1, up.ToString());
        using var control = JsonDocument.Parse((await TryGetAsync("boxes/dev/e2e/control.json"))!);
        Assert.Equal("manual", control.RootElement.GetProperty("stop_reason").GetString());
        Assert.False(control.RootElement.TryGetProperty("override", out var o) && o.ValueKind != JsonValueKind.Null, control.RootElement.ToString());
    }

    [Fact]
    public async Task Up_NoAgentBuildPublished_Exit2WithOneLineSayingWhatToRun()
    {
        using (var s3 = peer.CreateClient())
        {
            await s3.DeleteObjectAsync(_bucket, "agent-builds/manifest.json");
        }

        var up = await Cli().RunAsync("up", "e2e", "--no-wait");

        Assert.True(up.ExitCode == 2, up.ToString());
        var line = Assert.Single(ErrorLines(up.Stderr));
        Assert.Contains($"no agent build at s3://{_bucket}/agent-builds", line, StringComparison.Ordinal);
        Assert.Contains($"run 'scripts/publish-agent --to s3://{_bucket}/agent-builds' first", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", up.Stderr, StringComparison.Ordinal);
        Assert.Empty(_ec2.RequestsFor("RunInstances"));
        Assert.Null(await TryGetAsync("boxes/dev/e2e/control.json"));
    }

    [Fact]
    public async Task Up_InstanceTypesFitNoArchitectureOfTheImage_Exit2WithOneLineNamingTheSetting()
    {
        _ec2.AddInstanceType("m7g.large", "arm64");

        var up = await Cli(instanceTypes: """["m7g.large"]""").RunAsync("up", "e2e", "--no-wait");

        Assert.True(up.ExitCode == 2, up.ToString());
        var line = Assert.Single(ErrorLines(up.Stderr));
        Assert.Contains("Controller:Boxes:e2e:InstanceTypes", line, StringComparison.Ordinal);
        Assert.Contains("m7g.large is arm64", line, StringComparison.Ordinal);
        Assert.Empty(_ec2.RequestsFor("RunInstances"));
    }

    [Fact]
    public async Task Up_NoAgentBuildForTheImagesArchitecture_Exit2WithOneLine()
    {
        // The manifest has linux-x64 only; the image and the type are arm64.
        _ec2.AddImage(new SimulatedImage("ami-0a400000000000001", "debian-12-arm64-20261101", "arm64", "2026-11-01T00:00:00.000Z"));
        _ec2.AddInstanceType("m7g.large", "arm64");
        _ec2.AddSpotPrice(new SimulatedSpotPrice("m7g.large", "us-east-1a", "0.020000", TimeProvider.System.GetUtcNow().AddHours(-3)));

        var up = await Cli(instanceTypes: """["m7g.large"]""", imageId: "ami-0a400000000000001").RunAsync("up", "e2e", "--no-wait");

        Assert.True(up.ExitCode == 2, up.ToString());
        var line = Assert.Single(ErrorLines(up.Stderr));
        Assert.Contains("Arm64", line, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("   at ", up.Stderr, StringComparison.Ordinal);
        Assert.Empty(_ec2.RequestsFor("RunInstances"));
    }

    [Fact]
    public async Task Up_BoxWithABudgetBeforeAnyControllerRan_LaunchesWithNothingSpent()
    {
        // No controller has created the database yet: nothing is spent, and up must say so rather than fail.
        Assert.False(File.Exists(Database));

        var up = await Cli(monthlyBudget: "50").RunAsync("up", "e2e", "--no-wait");

        Assert.True(up.ExitCode == 0, up.ToString());
        Assert.Single(_ec2.Instances);
    }

    // Budget overrides are an operator's document (ROOT/_operator/budget-overrides/<owner>/<box>.json); the box's
    // Storage here is s3://BUCKET/boxes/e2e, so ROOT is the bucket itself.
    private const string OverrideKey = "boxes/_operator/budget-overrides/dev/e2e.json";

    [Fact]
    public async Task Up_OverBudgetWithTheOperatorsRight_WritesTheOverrideOnlyInTheOperatorsDocumentAndLaunches()
    {
        await SpendTheBudgetAsync();
        var before = TimeProvider.System.GetUtcNow();

        var up = await Cli(monthlyBudget: "50").RunAsync("up", "e2e", "--over-budget", "--no-wait");

        Assert.True(up.ExitCode == 0, up.ToString());
        Assert.Single(_ec2.RequestsFor("RunInstances"));
        using (var grant = JsonDocument.Parse(await GetAsync(OverrideKey)))
        {
            var root = grant.RootElement;
            var when = root.GetProperty("when").GetDateTimeOffset();
            var nextMonth = new DateTimeOffset(when.Year, when.Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(1);
            Assert.Equal(nextMonth, root.GetProperty("until").GetDateTimeOffset());
            Assert.InRange(when, before.AddSeconds(-1), TimeProvider.System.GetUtcNow());
            Assert.False(string.IsNullOrEmpty(root.GetProperty("by").GetString()));
        }

        // Nowhere else: control.json (which the owner and the box can write) carries no budget override.
        using var control = JsonDocument.Parse(await GetAsync("boxes/dev/e2e/control.json"));
        Assert.False(control.RootElement.TryGetProperty("budget_override_until", out _));
        Assert.False(control.RootElement.TryGetProperty("budget_override_by", out _));
    }

    [Fact]
    public async Task Up_OverBudgetWithoutTheOperatorsRight_Exit1OneLineSayingWhoToAskAndNothingLaunchedOrWritten()
    {
        await SpendTheBudgetAsync();
        // S3 refuses the operator's document to this person, as the people's policy does (AccessDenied, 403).
        await using var gate = await S3Gate.StartAsync(peer.Endpoint);
        gate.Deny = (method, path) => method is "PUT" or "POST" or "DELETE" && path.Contains("/_operator/", StringComparison.Ordinal);

        var up = await Cli(monthlyBudget: "50").Set("SPOTDEVBOX_Storage__EndpointUrl", gate.Endpoint).RunAsync("up", "e2e", "--over-budget", "--no-wait");

        Assert.True(up.ExitCode == 1, up.ToString());
        // Besides the budget's own warning ("box e2e: $... of its $50.00 budget ...: spent"), one line.
        var line = Assert.Single(ErrorLines(up.Stderr), l => !l.StartsWith("spotdevbox: warning: box e2e: ", StringComparison.Ordinal));
        Assert.Equal(
            $"spotdevbox: not launched: e2e is over its budget, and launching it anyway needs an operator's right, which these credentials do not hold " +
            $"(the store refused writing s3://{_bucket}/{OverrideKey}); ask an operator to run 'spotdevbox up e2e --over-budget', or to grant you the operator policy (deploy/iam/operator-policy.json)",
            line);
        Assert.Empty(_ec2.RequestsFor("RunInstances"));
        Assert.Contains(gate.Requests, r => r is { Method: "PUT", Status: 403 } && r.Path.EndsWith(OverrideKey, StringComparison.Ordinal));
        // It changed nothing: no write reached the store (no override, no launch claim, no control.json).
        Assert.DoesNotContain(gate.Requests, r => r.Method is "PUT" or "POST" or "DELETE" && r.Status < 300);
        Assert.Null(await TryGetAsync(OverrideKey));
        Assert.Null(await TryGetAsync("boxes/dev/e2e/control.json"));
    }

    [Fact]
    public async Task Up_BudgetSpentAndAnOverrideInControlJson_NotLaunchedAndWarnsWhereOverridesLive()
    {
        await SpendTheBudgetAsync();
        var nextMonth = TimeProvider.System.GetUtcNow().AddMonths(2);
        await PutAsync("boxes/dev/e2e/control.json", $$"""{"budget_override_until":"{{nextMonth:O}}","budget_override_by":"dev","updated_at":"{{TimeProvider.System.GetUtcNow():O}}"}""");

        var up = await Cli(monthlyBudget: "50").RunAsync("up", "e2e", "--no-wait");

        Assert.True(up.ExitCode == 1, up.ToString());
        Assert.Empty(_ec2.RequestsFor("RunInstances"));
        var lines = ErrorLines(up.Stderr);
        Assert.Contains(
            $"spotdevbox: warning: the budget override in control.json is ignored: overrides are granted by an operator and live in s3://{_bucket}/{OverrideKey} ('spotdevbox up e2e --over-budget' writes one, with the operator's right)",
            lines);
        Assert.Contains(lines, l => l.StartsWith("spotdevbox: not launched: box e2e: ", StringComparison.Ordinal) && l.EndsWith("spent; a launch needs 'spotdevbox up e2e --over-budget', or a higher Controller:Boxes:e2e:MonthlyBudget", StringComparison.Ordinal));
    }

    /// <summary>An open session in the controller's database at a price that has spent any budget within a second.</summary>
    private async Task SpendTheBudgetAsync()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Database)!);
        using var store = new SpotDevBox.Controller.ControllerStore(Database, Microsoft.Extensions.Logging.Abstractions.NullLogger<SpotDevBox.Controller.ControllerStore>.Instance);
        await store.InitializeAsync(CancellationToken.None);
        await store.UpsertSessionAsync(
            new SpotDevBox.Core.Controller.SessionRow("e2e", "i-0e2e0000000000aa", "s-spent", "us-east-1", "dev", "m6i.large", "us-east-1a", InstanceLifecycle.Spot, 1_000_000m, TimeProvider.System.GetUtcNow().AddDays(-2)),
            CancellationToken.None);
    }

    [Fact]
    public async Task Up_DatabaseFileIsNotADatabase_Exit1WithOneLineNamingTheFile()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Database)!);
        await File.WriteAllTextAsync(Database, "this is not an SQLite file, but long enough for SQLite to read its header and say so.");

        var up = await Cli(monthlyBudget: "50").RunAsync("up", "e2e", "--no-wait");

        Assert.True(up.ExitCode == 1, up.ToString());
        var line = Assert.Single(ErrorLines(up.Stderr));
        Assert.Contains(Database, line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", up.Stderr, StringComparison.Ordinal);
        Assert.Empty(_ec2.RequestsFor("RunInstances"));
    }

    [Fact]
    public async Task Down_AfterUpFor_EndsTheUpOverride()
    {
        var up = await Cli().RunAsync("up", "e2e", "--for", "3h", "--no-wait");
        Assert.True(up.ExitCode == 0, up.ToString());

        var down = await Cli().RunAsync("down", "--box", "e2e");

        Assert.True(down.ExitCode == 0, down.ToString());
        using var control = JsonDocument.Parse(await GetAsync("boxes/dev/e2e/control.json"));
        Assert.Equal("manual", control.RootElement.GetProperty("stop_reason").GetString());
        Assert.False(control.RootElement.TryGetProperty("override", out var o) && o.ValueKind != JsonValueKind.Null, control.RootElement.ToString());
    }

    [Fact]
    public async Task Up_InstanceEndsWhileStarting_Exit1SayingWhy()
    {
        using var up = Cli().Start("up", "e2e");
        await WaitForAsync(up, "e2e: pending");
        var id = Assert.Single(_ec2.Instances).InstanceId;

        _ec2.UpdateInstance(id, i => i with { StateCode = 48, StateReasonCode = "Server.SpotInstanceTermination", StateReasonMessage = "Server.SpotInstanceTermination: Spot instance termination" });
        var exit = await up.WaitAsync(Wait);

        Assert.Equal(1, exit.ExitCode);
        Assert.Contains($"{id} ended before it was ready (Server.SpotInstanceTermination: Spot instance termination)", exit.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_BoxWithTwoLiveInstances_ListsBothInTheTableAndTheJson()
    {
        // Two launches that got past each other: both instances cost money, and status must show both.
        var now = TimeProvider.System.GetUtcNow();
        _ec2.AddInstance(new SimulatedInstance
        {
            InstanceId = "i-0e2e000000000001", InstanceType = "m6i.large", AvailabilityZone = "us-east-1a", StateCode = 16,
            LaunchTime = now.AddHours(-2), PublicIpAddress = "198.51.100.20",
            InstanceProfileArn = BoxProfileArn,
            Tags = new Dictionary<string, string> { [BoxTags.Box] = "e2e", [BoxTags.Owner] = "dev", [BoxTags.Session] = "20261127T063000Z-aaaaaa" },
        });
        _ec2.AddInstance(new SimulatedInstance
        {
            InstanceId = "i-0e2e000000000002", InstanceType = "m7i.large", AvailabilityZone = "us-east-1b", StateCode = 0,
            LaunchTime = now.AddMinutes(-1), PublicIpAddress = "198.51.100.21",
            InstanceProfileArn = BoxProfileArn,
            Tags = new Dictionary<string, string> { [BoxTags.Box] = "e2e", [BoxTags.Owner] = "dev", [BoxTags.Session] = "20261127T082900Z-bbbbbb" },
        });
        _ec2.AddInstance(new SimulatedInstance
        {
            InstanceId = "i-0e2e000000000003", StateCode = 48, LaunchTime = now.AddHours(-5),
            InstanceProfileArn = BoxProfileArn,
            Tags = new Dictionary<string, string> { [BoxTags.Box] = "e2e", [BoxTags.Owner] = "dev" },
        });

        var json = await Cli().RunAsync("status", "--json");
        var text = await Cli().RunAsync("status");

        Assert.True(json.ExitCode == 0, json.ToString());
        using var document = JsonDocument.Parse(json.Stdout);
        var row = Assert.Single(document.RootElement.EnumerateArray());
        var listed = row.GetProperty("instances").EnumerateArray()
            .Select(i => string.Join('|', i.GetProperty("instance_id").GetString(), i.GetProperty("state").GetString(), i.GetProperty("instance_type").GetString(), i.GetProperty("availability_zone").GetString(), i.GetProperty("session_id").GetString(), i.GetProperty("address").GetString()))
            .ToList();
        Assert.Equal(
            ["i-0e2e000000000001|running|m6i.large|us-east-1a|20261127T063000Z-aaaaaa|198.51.100.20", "i-0e2e000000000002|pending|m7i.large|us-east-1b|20261127T082900Z-bbbbbb|198.51.100.21"],
            listed);
        Assert.Equal(0.030m, row.GetProperty("instances")[0].GetProperty("price_per_hour").GetDecimal());
        Assert.Equal(0.036m, row.GetProperty("instances")[1].GetProperty("price_per_hour").GetDecimal());
        // The row's own instance is the oldest, the one a controller keeps.
        Assert.Equal("i-0e2e000000000001", row.GetProperty("instance_id").GetString());
        Assert.False(row.TryGetProperty("problem", out _));

        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Contains("  instance   i-0e2e000000000001 (running) m6i.large in us-east-1a, spot at $0.03/h; up 2h", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("  instance   i-0e2e000000000002 (pending) m7i.large in us-east-1b, spot at $0.036/h; up 1m", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("  address    198.51.100.21", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("  duplicate  2 live instances: a controller keeps the oldest, i-0e2e000000000001, and terminates the others", text.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("i-0e2e000000000003", text.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ControllerRun_TaggedInstanceWithAnotherProfile_LaunchesTheBoxLeavesItAloneAndStatusFlagsIt()
    {
        // A teammate who can launch instances tagged the box's name onto one under their own instance profile.
        _ec2.AddInstance(new SimulatedInstance
        {
            InstanceId = "i-0f0e000000000001", InstanceType = "m6i.large", AvailabilityZone = "us-east-1a", StateCode = 16,
            LaunchTime = TimeProvider.System.GetUtcNow().AddHours(-1), PublicIpAddress = "198.51.100.66",
            InstanceProfileArn = "arn:aws:iam::123456789012:instance-profile/teammate",
            Tags = new Dictionary<string, string> { [BoxTags.Box] = "e2e", [BoxTags.Owner] = "dev" },
        });

        using (var controller = Cli().Start("controller", "run"))
        {
            await WaitForAsync(controller, "Box e2e: launch: start: inside Mon-Sun 00:00-24:00 (UTC): launched");
            controller.Terminate();
            var exit = await controller.WaitAsync(Wait);
            Assert.True(exit.ExitCode == 0, exit.ToString());
            Assert.Contains("Security: box e2e: instance i-0f0e000000000001", exit.ToString(), StringComparison.Ordinal);
        }

        Assert.Single(_ec2.RequestsFor("RunInstances"));
        Assert.Empty(_ec2.RequestsFor("TerminateInstances"));
        Assert.Equal(16, _ec2.Instances.Single(i => i.InstanceId == "i-0f0e000000000001").StateCode);
        Assert.Empty(await QueryAsync("SELECT instance_id FROM sessions WHERE instance_id = 'i-0f0e000000000001'"));
        Assert.Equal([["foreign-instance"]], await QueryAsync("SELECT action FROM decisions WHERE instance_id = 'i-0f0e000000000001'"));
        var ours = _ec2.Instances.Single(i => i.InstanceId != "i-0f0e000000000001");
        Assert.Equal(BoxProfileArn, ours.InstanceProfileArn);

        var json = await Cli().RunAsync("status", "--json");
        Assert.True(json.ExitCode == 0, json.ToString());
        using var document = JsonDocument.Parse(json.Stdout);
        var row = Assert.Single(document.RootElement.EnumerateArray());
        Assert.Equal(ours.InstanceId, row.GetProperty("instance_id").GetString());
        Assert.NotEqual("198.51.100.66", row.TryGetProperty("address", out var address) ? address.GetString() : null);
        Assert.Equal([ours.InstanceId], row.GetProperty("instances").EnumerateArray().Select(i => i.GetProperty("instance_id").GetString()));
        var foreign = Assert.Single(row.GetProperty("foreign").EnumerateArray());
        Assert.Equal(("i-0f0e000000000001", "arn:aws:iam::123456789012:instance-profile/teammate"), (foreign.GetProperty("instance_id").GetString(), foreign.GetProperty("instance_profile").GetString()));
        var text = await Cli().RunAsync("status", "--box", "e2e");
        Assert.Contains("  foreign    i-0f0e000000000001 (running) carries the box's tag but its instance profile is arn:aws:iam::123456789012:instance-profile/teammate", text.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_Fleet_ShowsEc2sViewThePriceAndTheNextTransitions()
    {
        _ec2.AddInstance(new SimulatedInstance
        {
            InstanceId = "i-0e2e000000000001",
            InstanceType = "m6i.large",
            AvailabilityZone = "us-east-1a",
            StateCode = 16,
            LaunchTime = TimeProvider.System.GetUtcNow().AddHours(-2),
            PublicIpAddress = "198.51.100.20",
            InstanceProfileArn = BoxProfileArn,
            Tags = new Dictionary<string, string> { [BoxTags.Box] = "e2e", [BoxTags.Owner] = "dev" },
        });

        var status = await Cli().RunAsync("status", "--json");

        Assert.True(status.ExitCode == 0, status.ToString());
        using var json = JsonDocument.Parse(status.Stdout);
        var row = Assert.Single(json.RootElement.EnumerateArray());
        Assert.Equal("running", row.GetProperty("state").GetString());
        Assert.Equal("198.51.100.20", row.GetProperty("address").GetString());
        Assert.Equal(0.030m, row.GetProperty("price_per_hour").GetDecimal());
        // 2 h at $0.03/h.
        Assert.InRange(row.GetProperty("cost_so_far").GetDecimal(), 0.0599m, 0.0602m);
        Assert.False(row.TryGetProperty("next_start", out _));
        Assert.False(row.TryGetProperty("next_stop", out _));

        var text = await Cli().RunAsync("status", "--box", "e2e");
        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Contains("e2e (dev, us-east-1): running", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("i-0e2e000000000001 m6i.large in us-east-1a, spot at $0.03/h; up 2h", text.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ControllerRun_InvalidBox_Exit2NamingTheSettingAndCallsNothing()
    {
        var result = await Cli(maxPrice: "-1").RunAsync("controller", "run");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Controller:Boxes:e2e:MaxPrice must be more than 0", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(_ec2.Requests);
    }

    private const string BoxAgentSettings = """{ "IdleTimeout": "00:45:00", "BackupInterval": "00:20:00", "KeepLast": 10, "KeepDaily": 14, "KeepWeekly": 8, "KeepWithin": "10.00:00:00", "WebhookParameter": "/spotdevbox/e2e/webhook" }""";

    [Fact]
    public async Task ControllerRun_BoxWithAgentSettings_UserDataWritesThemIntoTheAgentsConfiguration()
    {
        using (var controller = Cli(agent: BoxAgentSettings).Start("controller", "run"))
        {
            await WaitForAsync(controller, "Box e2e: launch: start: inside Mon-Sun 00:00-24:00 (UTC): launched");
            controller.Terminate();
            await controller.WaitAsync(Wait);
        }

        var agent = AgentJsonOf(Assert.Single(_ec2.RequestsFor("RunInstances"))["UserData"]!);
        Assert.Equal("00:45:00", agent.GetProperty("Idle").GetProperty("IdleTimeout").GetString());
        Assert.Equal("00:20:00", agent.GetProperty("BackupInterval").GetString());
        Assert.Equal((10, 14, 8), (agent.GetProperty("KeepLast").GetInt32(), agent.GetProperty("KeepDaily").GetInt32(), agent.GetProperty("KeepWeekly").GetInt32()));
        Assert.Equal("10.00:00:00", agent.GetProperty("KeepWithin").GetString());
        Assert.Equal("/spotdevbox/e2e/webhook", agent.GetProperty("WebhookParameter").GetString());
        Assert.False(agent.TryGetProperty("WebhookUrl", out _), agent.ToString());
    }

    [Fact]
    public async Task Up_BoxWithAgentSettings_UserDataWritesThemIntoTheAgentsConfiguration()
    {
        var up = await Cli(agent: BoxAgentSettings).RunAsync("up", "e2e", "--for", "3h", "--no-wait");

        Assert.True(up.ExitCode == 0, up.ToString());
        var agent = AgentJsonOf(Assert.Single(_ec2.RequestsFor("RunInstances"))["UserData"]!);
        Assert.Equal("00:45:00", agent.GetProperty("Idle").GetProperty("IdleTimeout").GetString());
        Assert.Equal("00:20:00", agent.GetProperty("BackupInterval").GetString());
        Assert.Equal("/spotdevbox/e2e/webhook", agent.GetProperty("WebhookParameter").GetString());
    }

    [Fact]
    public async Task Up_FloorInControlJsonAndAllowRollback_UserDataCarriesBothAndUpWarns()
    {
        await PutAsync("boxes/dev/e2e/control.json", "{\"snapshot_floor\":{\"id\":\"" + new string('a', 64) + "\",\"time\":\"2026-03-02T12:00:00Z\"}}");

        var up = await Cli().RunAsync("up", "e2e", "--for", "3h", "--no-wait", "--allow-rollback");

        Assert.True(up.ExitCode == 0, up.ToString());
        Assert.Contains("spotdevbox: warning: --allow-rollback: e2e restores its latest snapshot even if it is older than the newest one it reported (snapshot aaaaaaaa of 2026-03-02 12:00:00 UTC)", up.Stderr, StringComparison.Ordinal);
        var agent = AgentJsonOf(Assert.Single(_ec2.RequestsFor("RunInstances"))["UserData"]!);
        Assert.Equal(new string('a', 64), agent.GetProperty("MinimumSnapshot").GetProperty("Id").GetString());
        Assert.Equal("2026-03-02T12:00:00.0000000Z", agent.GetProperty("MinimumSnapshot").GetProperty("Time").GetString());
        Assert.True(agent.GetProperty("AllowRollback").GetBoolean());
        // up keeps the controller's floor in control.json as it found it.
        using var control = JsonDocument.Parse(await GetAsync("boxes/dev/e2e/control.json"));
        Assert.Equal(new string('a', 64), control.RootElement.GetProperty("snapshot_floor").GetProperty("id").GetString());
    }

    [Fact]
    public async Task Up_DatabaseHereHasANewerFloorThanControlJson_UserDataCarriesTheNewerAndNoAllowRollback()
    {
        await PutAsync("boxes/dev/e2e/control.json", "{\"snapshot_floor\":{\"id\":\"" + new string('a', 64) + "\",\"time\":\"2026-03-02T12:00:00Z\"}}");
        Directory.CreateDirectory(Path.GetDirectoryName(Database)!);
        using (var store = new SpotDevBox.Controller.ControllerStore(Database, Microsoft.Extensions.Logging.Abstractions.NullLogger<SpotDevBox.Controller.ControllerStore>.Instance))
        {
            await store.InitializeAsync(CancellationToken.None);
            await store.RaiseSnapshotFloorAsync("e2e", new SpotDevBox.Core.Agent.SnapshotFloor(new string('b', 64), new DateTimeOffset(2026, 3, 2, 13, 0, 0, TimeSpan.Zero)), CancellationToken.None);
        }

        SqliteConnection.ClearAllPools();
        var up = await Cli().RunAsync("up", "e2e", "--for", "3h", "--no-wait");

        Assert.True(up.ExitCode == 0, up.ToString());
        var agent = AgentJsonOf(Assert.Single(_ec2.RequestsFor("RunInstances"))["UserData"]!);
        Assert.Equal(new string('b', 64), agent.GetProperty("MinimumSnapshot").GetProperty("Id").GetString());
        Assert.False(agent.TryGetProperty("AllowRollback", out _));
    }

    [Fact]
    public async Task Up_BoxSettingAllowRollback_UserDataAllowsItWithoutTheFlag()
    {
        var up = await Cli(agent: """{ "AllowRollback": true }""").RunAsync("up", "e2e", "--for", "3h", "--no-wait");

        Assert.True(up.ExitCode == 0, up.ToString());
        var agent = AgentJsonOf(Assert.Single(_ec2.RequestsFor("RunInstances"))["UserData"]!);
        Assert.True(agent.GetProperty("AllowRollback").GetBoolean());
        Assert.False(agent.TryGetProperty("MinimumSnapshot", out _));
    }

    [Theory]
    [InlineData("""{ "IdleTimeout": "00:01:00" }""", "Controller:Boxes:e2e:Agent:IdleTimeout must be between 00:15:00 and 7.00:00:00, got 00:01:00")]
    [InlineData("""{ "BackupInterval": "2.00:00:00" }""", "Controller:Boxes:e2e:Agent:BackupInterval must be between 00:01:00 and 1.00:00:00, got 2.00:00:00")]
    [InlineData("""{ "KeepLast": 0, "KeepDaily": 0, "KeepWeekly": 0, "KeepWithin": "00:00:00" }""", "Controller:Boxes:e2e:Agent:KeepLast, KeepDaily, KeepWeekly and KeepWithin are all 0")]
    [InlineData("""{ "KeepWithin": "-1.00:00:00" }""", "Controller:Boxes:e2e:Agent:KeepWithin must be between 00:00:00 and 36525.00:00:00, got -1.00:00:00")]
    [InlineData("""{ "WebhookParameter": "https://hooks.example.com/services/T0/B0/SECRET" }""", "Controller:Boxes:e2e:Agent:WebhookParameter must be the name of an SSM parameter")]
    [InlineData("""{ "WebhookParameter": "/spotdevbox/bob/webhook" }""", "Controller:Boxes:e2e:Agent:WebhookParameter must be under /spotdevbox/e2e/ (the box's role may read only its own parameters")]
    [InlineData("""{ "WebhookUrl": "https://hooks.example.com/services/T0/B0/SECRET" }""", "Controller:Boxes:e2e:Agent:WebhookUrl is not a setting")]
    [InlineData("""{ "StateDirectory": "/tmp" }""", "Controller:Boxes:e2e:Agent:StateDirectory is not a setting")]
    public async Task ControllerRun_InvalidOrUnknownAgentSetting_Exit2NamingItWithoutTheSecretAndCallsNothing(string agent, string expected)
    {
        var result = await Cli(agent: agent).RunAsync("controller", "run");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(expected, result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(_ec2.Requests);
    }

    [Theory]
    [InlineData("Host=db.internal;Username=controller;Password=s3cret-pw")]
    [InlineData("Host=db.internal;Database=spotdevbox;Password=s3cret-pw;Colour=blue")]
    [InlineData("postgresql://controller:s3cret-pw@db.internal")]
    public async Task ControllerRun_InvalidPostgresDatabase_Exit2NamingTheSettingNeverTheValueAndCallsNothing(string database)
    {
        var result = await Cli().Set("SPOTDEVBOX_Controller__Database", database).RunAsync("controller", "run");

        Assert.True(result.ExitCode == 2, result.ToString());
        var line = Assert.Single(ErrorLines(result.Stderr));
        Assert.Contains("Controller:Database is not a valid PostgreSQL connection string", line, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-pw", result.Stderr + result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("db.internal", result.Stderr + result.Stdout, StringComparison.Ordinal);
        Assert.Empty(_ec2.Requests);
    }

    /// <summary>The "Agent" object of /etc/spotdevbox/agent.json in a launch's user data (the literal block after its path).</summary>
    private static JsonElement AgentJsonOf(string base64)
    {
        var userData = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(base64));
        var start = userData.IndexOf("- path: /etc/spotdevbox/agent.json", StringComparison.Ordinal);
        Assert.True(start >= 0, userData);
        var block = userData[(userData.IndexOf("content: |\n", start, StringComparison.Ordinal) + "content: |\n".Length)..];
        var json = string.Join('\n', block.Split('\n').TakeWhile(l => l.StartsWith("      ", StringComparison.Ordinal) || l.Length == 0).Select(l => l.Trim()));
        using var document = JsonDocument.Parse(json);
        return document.RootElement.GetProperty("Agent").Clone();
    }

    private SpotDevBoxProcess Cli(string maxPrice = "0.05", string instanceTypes = """["m7i.large", "m6i.large"]""", string imageId = "ami-0123456789abcdef0", string? monthlyBudget = null, string logFile = "off", string? agent = null, string? sshVia = null, string repositoryKeyArn = RepositoryKeyArn)
    {
        var config = _temp.Sub("spotdevbox.json");
        File.WriteAllText(config, $$"""
            {
              "Logging": { "File": "{{logFile}}" },
              "Controller": {
                "AgentBuilds": "s3://{{_bucket}}/agent-builds",
                "Fleet": { "Region": "us-east-1", "StorageRoot": "s3://{{_bucket}}/boxes", "RepositoryKeyArn": "{{repositoryKeyArn}}" },
                "Database": "{{Database}}",
                "Boxes": {
                  "e2e": {
                    "Owner": "dev", "Region": "us-east-1", "InstanceTypes": {{instanceTypes}},
                    "Subnets": ["subnet-0aaa1111", "subnet-0bbb2222"], "ImageId": "{{imageId}}",
                    "SecurityGroups": ["sg-0123abcd"], "InstanceProfile": "spotdevbox-box", "MaxPrice": {{maxPrice}},{{(monthlyBudget is null ? "" : $" \"MonthlyBudget\": {monthlyBudget},")}}{{(agent is null ? "" : $" \"Agent\": {agent},")}}{{(sshVia is null ? "" : $" \"SshVia\": \"{sshVia}\",")}}
                    "Storage": "s3://{{_bucket}}/boxes/dev/e2e", "User": "dev",
                    "Schedule": { "TimeZone": "UTC", "Periods": ["daily 00:00-24:00"] }
                  }
                }
              }
            }
            """);
        return new SpotDevBoxProcess(_temp.Sub("cli"), peer)
            .Set("SPOTDEVBOX_Logging__File", null)
            .Set("SPOTDEVBOX_CONFIG", config)
            .Set("SPOTDEVBOX_Storage__EndpointUrl", peer.Endpoint)
            .Set("SPOTDEVBOX_Aws__Ec2__ServiceUrl", _ec2.ServiceUrl.ToString());
    }

    private static string Status(string instanceId, string state) => $$"""
        {"box":"e2e","state":"{{state}}","updated_at":"{{TimeProvider.System.GetUtcNow():O}}","agent_version":"test","instance_id":"{{instanceId}}","session_start":"{{TimeProvider.System.GetUtcNow():O}}"}
        """;

    /// <summary>The jq filters docs/savings.md documents (its "Reading the events with jq" section), as written there.</summary>
    private static List<string> JqFilters()
    {
        var doc = File.ReadAllText(Path.Combine(S3PeerFixture.RepositoryRoot, "docs", "savings.md"));
        var section = doc[doc.IndexOf("### Reading the events with jq", StringComparison.Ordinal)..];
        section = section[..section.IndexOf("\n## ", StringComparison.Ordinal)];
        return [.. section.Split('\n')
            .Where(l => l.StartsWith("jq -s -c '", StringComparison.Ordinal))
            .Select(l => l["jq -s -c '".Length..l.LastIndexOf('\'')])];
    }

    /// <summary>jq as the doc runs it (-s -c, the filter, the files), one JSON value per output line.</summary>
    private static async Task<List<JsonElement>> JqAsync(string filter, IEnumerable<string> files)
    {
        var start = new System.Diagnostics.ProcessStartInfo("jq") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "-s", "-c", filter }.Concat(files))
        {
            start.ArgumentList.Add(arg);
        }

        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Any(d => File.Exists(Path.Combine(d, "jq")));
        Assert.True(onPath, Environment.GetEnvironmentVariable("SPOTDEVBOX_TEST_JQ_MISSING") is { Length: > 0 } why ? why : "jq is not on PATH (Debian/Ubuntu: apt-get install jq; scripts/test installs it)");
        using var jq = System.Diagnostics.Process.Start(start)!;
        var output = jq.StandardOutput.ReadToEndAsync();
        var error = jq.StandardError.ReadToEndAsync();
        await jq.WaitForExitAsync();
        Assert.True(jq.ExitCode == 0, $"jq failed ({jq.ExitCode}): {await error}");
        return [.. (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone())];
    }

    /// <summary>An amount in USD to the ledger's micro-dollar, from the ledger's text or the report's; "unknown" for null.</summary>
    private static string Usd(string? text) =>
        text is null ? "unknown" : Math.Round(decimal.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture), 6).ToString("0.000000", CultureInfo.InvariantCulture);

    /// <summary>The same from JSON: jq's number (which may read 1.2e-05), the report's string, or null.</summary>
    private static string Usd(JsonElement value) => Usd(value.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.String => value.GetString(),
        _ => value.GetRawText(),
    });

    /// <summary>libfaketime for LD_PRELOAD (Debian's faketime package; scripts/test installs it).</summary>
    private static string LibFaketime()
    {
        _ = SpotDevBox.Tests.Cli.Faketime.Path; // fails saying how to install it when it is missing
        return Directory.EnumerateFiles("/usr/lib", "libfaketime.so.1", new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 2, IgnoreInaccessible = true }).First();
    }

    private static async Task WaitForAsync(RunningCli process, string text)
    {
        var line = process.StderrLineAsync(text);
        if (await Task.WhenAny(line, Task.Delay(Wait)) != line)
        {
            throw new TimeoutException($"'{text}' not logged within {Wait}:\n{process.Stderr}");
        }
    }

    private async Task<List<string?[]>> QueryAsync(string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={Database};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string?[]>();
        while (await reader.ReadAsync())
        {
            rows.Add([.. Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? null : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))]);
        }

        return rows;
    }

    private async Task PutAsync(string key, string content)
    {
        using var s3 = peer.CreateClient();
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = _bucket, Key = key, ContentBody = content });
    }

    /// <summary>The CLI's own error lines ("spotdevbox: ..."), not the log's.</summary>
    private static List<string> ErrorLines(string stderr) =>
        [.. stderr.Split('\n').Where(l => l.StartsWith("spotdevbox:", StringComparison.Ordinal) || l.StartsWith("  ", StringComparison.Ordinal) || l.StartsWith("Unhandled", StringComparison.Ordinal))];

    private async Task<string?> TryGetAsync(string key)
    {
        try
        {
            return await GetAsync(key);
        }
        catch (Amazon.S3.AmazonS3Exception e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    private async Task<string> GetAsync(string key)
    {
        using var s3 = peer.CreateClient();
        using var response = await s3.GetObjectAsync(_bucket, key);
        using var reader = new StreamReader(response.ResponseStream);
        return await reader.ReadToEndAsync();
    }
}
