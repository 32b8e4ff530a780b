using System.Globalization;
using Amazon.S3.Model;
using Npgsql;
using TestSupport;
using TestSupport.Ec2;

namespace SpotDevBox.Tests.Controller;

/// <summary>
/// Two real <c>controller run</c> processes on one PostgreSQL database (a cluster through Quartz's clustered job
/// store), the EC2 query endpoint and the S3 peer. The controller in the middle of RunInstances is killed with SIGKILL
/// (the endpoint holds RunInstances' answer after making the instance, as EC2 may); the other takes the box over
/// within the cluster's check-in limit, and EC2 ends with one instance, the store with one session and one ledger row.
/// How long the takeover takes is a benchmark figure (bench/controller-failover), not asserted here beyond a generous bound.
/// </summary>
[Collection("s3-cluster")]
public sealed class ControllerClusterTests(S3PeerFixture peer) : IAsyncLifetime
{
    /// <summary>Generous: a takeover needs about two check-ins (2 s here) plus Quartz's 7.5 s, and a pass.</summary>
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(120);
    private const string RepositoryKeyArn = "arn:aws:kms:us-east-1:123456789012:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
    private readonly TempDir _temp = new("spotdevbox-cluster-");
    private readonly List<RunningCli> _running = [];
    private Ec2QueryEndpoint _ec2 = null!;
    private PostgresServer _postgres = null!;
    private string _database = "";
    private string _bucket = "";

    public async Task InitializeAsync()
    {
        _postgres = await PostgresServer.SharedAsync();
        _database = await _postgres.CreateDatabaseAsync();
        _ec2 = await Ec2QueryEndpoint.StartAsync();
        _bucket = peer.NewBucketName("cluster");
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
        using var s3 = peer.CreateClient();
        await s3.PutObjectAsync(new PutObjectRequest
        {
            BucketName = _bucket,
            Key = "agent-builds/manifest.json",
            ContentBody = $$"""
                {"version":"1.0.0-test","published_at":"2026-11-27T00:00:00Z","builds":[
                  {"rid":"linux-x64","architecture":"x86_64","key":"1.0.0-test/spotdevbox-linux-x64.tar.gz","sha256":"{{new string('a', 64)}}","size":1}]}
                """,
        });
    }

    public async Task DisposeAsync()
    {
        foreach (var process in _running)
        {
            process.Kill();
            await process.TryWaitForExitAsync(TimeSpan.FromSeconds(10));
            process.Dispose();
        }

        await _ec2.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await _postgres.DropDatabaseAsync(_database);
        _temp.Dispose();
    }

    [Fact]
    public async Task KilledDuringAWindowOpening_TheOtherTakesTheBoxOverWithTheSameClientTokenAndEc2HasOneInstance()
    {
        // A window that opens in the next minute or so, after both controllers' first passes left the box down.
        var now = TimeProvider.System.GetUtcNow();
        if (now.UtcDateTime.TimeOfDay > new TimeSpan(23, 57, 0))
        {
            // Not across midnight: "daily HH:MM-24:00" must open after both controllers started.
            await Task.Delay(TimeSpan.FromDays(1) - now.UtcDateTime.TimeOfDay + TimeSpan.FromSeconds(5));
            now = TimeProvider.System.GetUtcNow();
        }

        var opening = new DateTime(now.UtcDateTime.Ticks - (now.UtcDateTime.Ticks % TimeSpan.TicksPerMinute), DateTimeKind.Utc).AddMinutes(now.UtcDateTime.Second < 35 ? 1 : 2);
        WriteConfig($"daily {opening:HH:mm}-24:00");
        // EC2 receives the first RunInstances but makes its instance only later, after its caller is dead.
        var hold = _ec2.HoldRunInstances(beforeMaking: true);
        var a = Start("a");
        var b = Start("b");
        await Task.WhenAll(WaitForAsync(a, "Controller "), WaitForAsync(b, "Controller "));

        // The window opens: one controller's trigger fires (the cluster fires it once) and it calls RunInstances.
        await hold.Arrived.WaitAsync(Wait);
        var (launcher, other) = Launcher(a, b);
        Assert.Empty(_ec2.Instances);
        launcher.Kill();
        await launcher.TryWaitForExitAsync(TimeSpan.FromSeconds(10));

        // The other recovers the killed one's trigger and launches with the session id stored before RunInstances, so
        // with the same client token; when EC2 then acts on the dead controller's request, it makes no second instance.
        await PollAsync(() => Task.FromResult(_ec2.Instances.Count == 1), "the survivor's launch");
        hold.Release();
        await PollAsync(async () => (await QueryAsync("SELECT instance_id FROM sessions")).Count == 1, "the session of the box's one instance");
        var made = Assert.Single(_ec2.Instances).InstanceId;
        // The survivor's call and the dead one's, in either order: one token.
        Assert.Equal(2, _ec2.RequestsFor("RunInstances").Count);
        Assert.Single(_ec2.RequestsFor("RunInstances").Select(r => r["ClientToken"]).Distinct());
        Assert.Equal([[made]], await QueryAsync("SELECT instance_id FROM sessions"));
        await PollAsync(async () => (await QueryAsync("SELECT 1 FROM box_state WHERE box = 'e2e' AND pending_session_id IS NULL")).Count == 1, "the launch's session id cleared once its instance was seen");
        Assert.DoesNotContain(["launch-failed"], await QueryAsync("SELECT action FROM decisions WHERE box = 'e2e'"));

        // controller status: the survivor alive, the killed one not once the cluster's limit has passed (the survivor's own
        // pass may have launched before that); the box's next trigger is the window's end.
        CliResult status = null!;
        await PollAsync(
            async () =>
            {
                status = await Cli().RunAsync("controller", "status", "--json");
                Assert.True(status.ExitCode == 0, status.ToString());
                return status.Json().GetProperty("members").EnumerateArray().Any(m => m.GetProperty("process_id").GetInt32() == launcher.ProcessId && !m.GetProperty("alive").GetBoolean());
            },
            "controller status showing the killed controller as not alive");
        var json = status.Json();
        Assert.True(json.GetProperty("clustered").GetBoolean());
        var members = json.GetProperty("members").EnumerateArray().ToDictionary(m => m.GetProperty("process_id").GetInt32(), m => m.GetProperty("alive").GetBoolean());
        Assert.Equal(2, members.Count);
        Assert.True(members[other.ProcessId], status.Stdout);
        Assert.False(members[launcher.ProcessId], status.Stdout);
        var trigger = Assert.Single(json.GetProperty("triggers").EnumerateArray());
        Assert.Equal("e2e", trigger.GetProperty("box").GetString());
        Assert.Equal(opening.Date.AddDays(1), trigger.GetProperty("change_at").GetDateTimeOffset().UtcDateTime);

        var text = await Cli().RunAsync("controller", "status");
        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Contains("a cluster, 1 of 2 alive", text.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KilledDuringARelaunch_TheOtherRelaunchesOnceAndTheInterruptedSessionIsCostedOnce()
    {
        WriteConfig("daily 00:00-24:00");
        var a = Start("a");
        var b = Start("b");
        await PollAsync(async () => (await QueryAsync("SELECT instance_id FROM sessions")).Count == 1, "the first launch's session");
        var first = Assert.Single(_ec2.Instances).InstanceId;

        var hold = _ec2.HoldRunInstances();
        var ended = TimeProvider.System.GetUtcNow().UtcDateTime;
        _ec2.UpdateInstance(first, i => i with
        {
            StateCode = 48, StateReasonCode = "Server.SpotInstanceTermination", StateReasonMessage = "Server.SpotInstanceTermination: Spot instance termination",
            StateTransitionReason = $"Service initiated ({ended:yyyy-MM-dd HH:mm:ss} GMT)",
        });

        // The next pass (within the 30 s interval) closes the session, costs it, and relaunches: killed inside RunInstances.
        var made = await hold.Arrived.WaitAsync(Wait);
        var (launcher, _) = Launcher(a, b);
        launcher.Kill();
        await launcher.TryWaitForExitAsync(TimeSpan.FromSeconds(10));
        hold.Release();

        await PollAsync(async () => (await QueryAsync("SELECT instance_id FROM sessions")).Count == 2, "the relaunched instance's session");
        Assert.Equal(2, _ec2.Instances.Count);
        var relaunches = _ec2.RequestsFor("RunInstances").Skip(1).ToList();
        Assert.NotEmpty(relaunches);
        Assert.Single(relaunches.Select(r => r["ClientToken"]).Distinct());
        Assert.Equal([[made]], await QueryAsync($"SELECT instance_id FROM sessions WHERE instance_id <> '{first}'"));
        Assert.Equal([["interruption"]], await QueryAsync($"SELECT ended_by FROM sessions WHERE instance_id = '{first}'"));
        Assert.Equal([["1"]], await QueryAsync($"SELECT count(*) FROM ledger WHERE instance_id = '{first}'"));
        Assert.Equal([["1"]], await QueryAsync($"SELECT count(*) FROM decisions WHERE box = 'e2e' AND action = 'session-end' AND instance_id = '{first}'"));
    }

    /// <summary>The controller that called RunInstances (its log says which candidate it tried), and the other.</summary>
    private static (RunningCli Launcher, RunningCli Other) Launcher(RunningCli a, RunningCli b)
    {
        static bool Tried(RunningCli c) => c.Stderr.Contains("Box e2e: trying candidate", StringComparison.Ordinal);
        return (Tried(a), Tried(b)) switch
        {
            (true, false) => (a, b),
            (false, true) => (b, a),
            var both => throw new InvalidOperationException($"expected one controller to try a candidate, got {both}:\n--- a:\n{a.Stderr}\n--- b:\n{b.Stderr}"),
        };
    }

    private RunningCli Start(string name)
    {
        var process = Cli(name).Start("controller", "run");
        _running.Add(process);
        return process;
    }

    private string ConnectionString => _postgres.ConnectionString(_database);

    private void WriteConfig(string period) =>
        File.WriteAllText(_temp.Sub("spotdevbox.json"), $$"""
            {
              "Logging": { "File": "off" },
              "Controller": {
                "AgentBuilds": "s3://{{_bucket}}/agent-builds",
                "Fleet": { "Region": "us-east-1", "StorageRoot": "s3://{{_bucket}}/boxes", "RepositoryKeyArn": "{{RepositoryKeyArn}}" },
                "Database": "{{ConnectionString}}",
                "Cluster": { "CheckinInterval": "00:00:02" },
                "Reconcile": { "Interval": "00:00:30" },
                "Boxes": {
                  "e2e": {
                    "Owner": "dev", "Region": "us-east-1", "InstanceTypes": ["m7i.large", "m6i.large"],
                    "Subnets": ["subnet-0aaa1111", "subnet-0bbb2222"], "ImageId": "ami-0123456789abcdef0",
                    "SecurityGroups": ["sg-0123abcd"], "InstanceProfile": "spotdevbox-box", "MaxPrice": 0.05,
                    "Storage": "s3://{{_bucket}}/boxes/dev/e2e", "User": "dev",
                    "Schedule": { "TimeZone": "UTC", "Periods": ["{{period}}"] }
                  }
                }
              }
            }
            """);

    private SpotDevBoxProcess Cli(string name = "cli") =>
        new SpotDevBoxProcess(_temp.Sub(name), peer)
            .Set("SPOTDEVBOX_Logging__File", null)
            .Set("SPOTDEVBOX_CONFIG", _temp.Sub("spotdevbox.json"))
            .Set("SPOTDEVBOX_Storage__EndpointUrl", peer.Endpoint)
            .Set("SPOTDEVBOX_Aws__Ec2__ServiceUrl", _ec2.ServiceUrl.ToString());

    private static async Task WaitForAsync(RunningCli process, string text)
    {
        var line = process.StderrLineAsync(text);
        if (await Task.WhenAny(line, Task.Delay(Wait)) != line)
        {
            throw new TimeoutException($"'{text}' not logged within {Wait}:\n{process.Stderr}");
        }
    }

    private async Task PollAsync(Func<Task<bool>> done, string what)
    {
        var deadline = TimeProvider.System.GetUtcNow() + Wait;
        while (!await done())
        {
            if (TimeProvider.System.GetUtcNow() > deadline)
            {
                throw new TimeoutException($"{what}: not within {Wait}:\n{string.Join("\n---\n", _running.Select(r => r.Stderr))}");
            }

            await Task.Delay(250);
        }
    }

    private async Task<List<string?[]>> QueryAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        NpgsqlDataReader reader;
        try
        {
            reader = await command.ExecuteReaderAsync();
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            // No controller has migrated the database yet.
            return [];
        }

        await using var _ = reader;
        var rows = new List<string?[]>();
        while (await reader.ReadAsync())
        {
            rows.Add([.. Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? null : Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture))]);
        }

        return rows;
    }
}
