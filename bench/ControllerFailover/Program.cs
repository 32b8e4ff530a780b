using System.Diagnostics;
using System.Globalization;
using System.Text;
using Amazon.S3.Model;
using TestSupport;
using TestSupport.Ec2;

// Two `controller run` processes on one PostgreSQL database (a Quartz cluster), one box whose window opens at a minute
// boundary, the first RunInstances held by the EC2 endpoint before it makes the instance. The controller that called it
// is killed with SIGKILL; the figure is how long until the survivor's RunInstances reaches the endpoint.
var runs = 3;
var checkins = new List<int> { 10, 5 };
var target = 30.0;
string? binary = null;
var output = Path.Combine(S3PeerFixture.RepositoryRoot, "bench", "work", "results-controller-failover.md");
const string Usage = "(--runs N --checkin \"10 5\" --target SECONDS --binary PATH --output FILE)";
try
{
    for (var i = 0; i < args.Length; i++)
    {
        if (args[i] is not ("--runs" or "--checkin" or "--target" or "--binary" or "--output"))
        {
            throw new FormatException($"unknown argument '{args[i]}'");
        }

        var value = i + 1 < args.Length ? args[i + 1] : throw new FormatException($"{args[i]} needs a value");
        try
        {
            switch (args[i])
            {
                case "--runs": runs = int.Parse(value, NumberStyles.None, CultureInfo.InvariantCulture); break;
                case "--checkin": checkins = [.. value.Split(' ', ',', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture))]; break;
                case "--target": target = double.Parse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture); break;
                case "--binary": binary = Path.GetFullPath(value); break;
                case "--output": output = Path.GetFullPath(value); break;
                default: throw new UnreachableException(args[i]);
            }
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new FormatException($"{args[i]} takes a number, not '{value}'", e);
        }

        i++;
    }
}
catch (FormatException e)
{
    Console.Error.WriteLine($"controller-failover: {e.Message} {Usage}");
    return 2;
}
if (runs < 1 || checkins.Count == 0 || checkins.Any(c => c is < 2 or > 60) || target <= 0)
{
    Console.Error.WriteLine("controller-failover: --runs must be 1 or more, --checkin whole seconds from 2 to 60 (Controller:Cluster:CheckinInterval's range), --target above 0");
    return 2;
}

if (binary is not null && !File.Exists(binary))
{
    Console.Error.WriteLine($"controller-failover: --binary names {binary}, which does not exist: give a spotdevbox executable");
    return 2;
}

var dll = Path.Combine(S3PeerFixture.RepositoryRoot, "src", "SpotDevBox", "bin", "Release", "net10.0", "spotdevbox.dll");
if (binary is null && !File.Exists(dll))
{
    Console.Error.WriteLine($"controller-failover: build first: dotnet build src/SpotDevBox -c Release (no {Path.GetFileName(dll)})");
    return 2;
}

var load = File.ReadAllText("/proc/loadavg").Split(' ');
var startedAt = TimeProvider.System.GetUtcNow();
var logs = Path.Combine(Path.GetDirectoryName(output)!, "controller-failover-logs");
Directory.CreateDirectory(logs);
var peer = new S3PeerFixture();
await peer.InitializeAsync();
var postgres = await PostgresServer.SharedAsync();
var results = new List<RunResult>();
var work = Directory.CreateTempSubdirectory("spotdevbox-controller-failover-");
try
{
    foreach (var checkin in checkins)
    {
        for (var run = 1; run <= runs; run++)
        {
            var result = await RunOnceAsync(checkin, run);
            results.Add(result);
            Console.WriteLine(Row(result));
        }
    }
}
finally
{
    await peer.DisposeAsync();
    work.Delete(recursive: true);
}

var report = new StringBuilder();
report.AppendLine(CultureInfo.InvariantCulture, $"- {startedAt:yyyy-MM-dd HH:mm} UTC; {Environment.ProcessorCount} cores; load average {load[0]} {load[1]} {load[2]} at the start");
report.AppendLine(CultureInfo.InvariantCulture, $"- controllers: {(binary is null ? "the Release build (JIT), dotnet spotdevbox.dll" : binary)}; two on one PostgreSQL database; Reconcile:Interval 60 s; target {target:0.#} s");
report.AppendLine("- lateness: the window's opening -> the first RunInstances at the endpoint (no failure; the trigger is set 1 s after the change)");
report.AppendLine("- failover: SIGKILL of the controller inside that RunInstances -> the survivor's RunInstances at the endpoint; instance: -> the endpoint holds the instance");
report.AppendLine("- survivor's path: recovery = Quartz found the dead member and recovered its job; pass = the survivor's own reconcile pass launched first");
report.AppendLine("- Quartz bound: interval + 7.5 s (a member silent that long is dead) + up to one interval (until the survivor's next check-in)");
report.AppendLine();
report.AppendLine("| check-in s | run | killed | lateness s | failover s | instance s | survivor's path | Quartz bound s | instances | result |");
report.AppendLine("|---:|---:|---|---:|---:|---:|---|---:|---:|---|");
foreach (var r in results)
{
    report.AppendLine(Row(r));
}

foreach (var group in results.GroupBy(r => r.Checkin))
{
    var ok = group.Where(r => r.Failover is not null).ToList();
    report.AppendLine(string.Create(CultureInfo.InvariantCulture,
        $"| **{group.Key}** | median of {ok.Count} | | {Median(ok.Select(r => r.Lateness!.Value))} | **{Median(ok.Select(r => r.Failover!.Value))}** | {Median(ok.Select(r => r.Instance!.Value))} | | {Bound(group.Key):0.0} | | |"));
}

Directory.CreateDirectory(Path.GetDirectoryName(output)!);
await File.WriteAllTextAsync(output, report.ToString());
Console.WriteLine();
Console.Write(report);
return results.Any(r => !r.Verdict.StartsWith("ok", StringComparison.Ordinal)) ? 1 : 0;

async Task<RunResult> RunOnceAsync(int checkin, int run)
{
    var database = await postgres.CreateDatabaseAsync();
    var ec2 = await Ec2QueryEndpoint.StartAsync();
    var controllers = new List<Controller>();
    try
    {
        ec2.AddImage(new SimulatedImage("ami-0123456789abcdef0", "debian-12-amd64-20261101", "x86_64", "2026-11-01T00:00:00.000Z"));
        ec2.AddInstanceType("m6i.large", "x86_64");
        ec2.SubnetZones["subnet-0aaa1111"] = "us-east-1a";
        ec2.AddSpotPrice(new SimulatedSpotPrice("m6i.large", "us-east-1a", "0.030000", TimeProvider.System.GetUtcNow().AddHours(-3)));
        var bucket = peer.NewBucketName("failover");
        await peer.CreateBucketAsync(bucket);
        using (var s3 = peer.CreateClient())
        {
            await s3.PutObjectAsync(new PutObjectRequest
            {
                BucketName = bucket,
                Key = "agent-builds/manifest.json",
                ContentBody = $$"""
                    {"version":"1.0.0-bench","published_at":"2026-11-27T00:00:00Z","builds":[
                      {"rid":"linux-x64","architecture":"x86_64","key":"1.0.0-bench/spotdevbox-linux-x64.tar.gz","sha256":"{{new string('a', 64)}}","size":1}]}
                    """,
            });
        }

        // The window opens at a minute boundary M; the controllers start at M - 25 s, so both have started and passed once
        // with the box down, and their next pass (Reconcile:Interval 60 s, the longest allowed) comes at about M + 35 s:
        // the survivor's own pass would launch the box too, and is kept out of the way of the trigger's recovery.
        // Never across midnight ("daily HH:MM-24:00" would then be open already).
        var now = TimeProvider.System.GetUtcNow().UtcDateTime;
        var opening = NextOpening(now);
        if (opening.Date != now.Date)
        {
            await Task.Delay(opening.Date - now + TimeSpan.FromSeconds(5));
            now = TimeProvider.System.GetUtcNow().UtcDateTime;
            opening = NextOpening(now);
        }

        var dir = Directory.CreateDirectory(Path.Combine(work.FullName, $"c{checkin}-r{run}")).FullName;
        var config = Path.Combine(dir, "spotdevbox.json");
        await File.WriteAllTextAsync(config, $$"""
            {
              "Logging": { "File": "off" },
              "Controller": {
                "AgentBuilds": "s3://{{bucket}}/agent-builds",
                "Fleet": { "Region": "us-east-1", "StorageRoot": "s3://{{bucket}}/boxes", "RepositoryKeyArn": "arn:aws:kms:us-east-1:123456789012:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0" },
                "Database": "{{postgres.ConnectionString(database)}}",
                "Cluster": { "CheckinInterval": "{{TimeSpan.FromSeconds(checkin):c}}" },
                "Reconcile": { "Interval": "00:01:00" },
                "Boxes": {
                  "e2e": {
                    "Owner": "dev", "Region": "us-east-1", "InstanceTypes": ["m6i.large"], "Subnets": ["subnet-0aaa1111"],
                    "ImageId": "ami-0123456789abcdef0", "SecurityGroups": ["sg-0123abcd"], "InstanceProfile": "spotdevbox-box",
                    "Storage": "s3://{{bucket}}/boxes/dev/e2e", "User": "dev",
                    "Schedule": { "TimeZone": "UTC", "Periods": ["daily {{opening:HH:mm}}-24:00"] }
                  }
                }
              }
            }
            """);

        var hold = ec2.HoldRunInstances(beforeMaking: true);
        if (opening - LeadIn - TimeProvider.System.GetUtcNow().UtcDateTime is { Ticks: > 0 } wait)
        {
            await Task.Delay(wait);
        }

        controllers.Add(Controller.Start("a", binary, dll, dir, config, peer.Endpoint, ec2.ServiceUrl.ToString()));
        controllers.Add(Controller.Start("b", binary, dll, dir, config, peer.Endpoint, ec2.ServiceUrl.ToString()));
        var fail = (string why) => new RunResult(checkin, run, "", null, null, null, "-", ec2.Instances.Count, "FAIL: " + why);
        if (!await WaitAsync(() => controllers.All(c => c.Started), TimeSpan.FromSeconds(120)))
        {
            return fail("a controller did not start within 120 s");
        }

        if (TimeProvider.System.GetUtcNow().UtcDateTime > opening)
        {
            return fail("the controllers started after the window opened (machine too loaded?)");
        }

        var first = await Task.WhenAny(hold.Arrived, Task.Delay(opening - TimeProvider.System.GetUtcNow().UtcDateTime + TimeSpan.FromSeconds(120)));
        if (first != hold.Arrived)
        {
            return fail("no RunInstances within 120 s of the window's opening");
        }

        var arrived = TimeProvider.System.GetUtcNow().UtcDateTime;
        var lateness = (arrived - opening).TotalSeconds;
        // Its log line comes just before the call; the pipe may lag a little behind the endpoint.
        await WaitAsync(() => controllers.Any(c => c.Tried), TimeSpan.FromSeconds(5));
        var tried = controllers.Where(c => c.Tried).ToList();
        if (tried.Count != 1)
        {
            return fail($"{tried.Count} controllers logged a candidate, not one");
        }

        var launcher = tried[0];
        var survivor = controllers.Single(c => c != launcher);
        var killedAt = TimeProvider.System.GetUtcNow().UtcDateTime;
        var killed = Stopwatch.GetTimestamp();
        launcher.Kill();
        await launcher.Process.WaitForExitAsync();

        double? failover = null, instance = null;
        var deadline = TimeSpan.FromSeconds(180);
        while (Stopwatch.GetElapsedTime(killed) < deadline && instance is null)
        {
            // The held call is recorded only when released: any RunInstances recorded now is the survivor's.
            if (failover is null && ec2.RequestsFor("RunInstances").Count > 0)
            {
                failover = Stopwatch.GetElapsedTime(killed).TotalSeconds;
            }

            if (ec2.Instances.Count > 0)
            {
                instance = Stopwatch.GetElapsedTime(killed).TotalSeconds;
                failover ??= instance;
            }

            await Task.Delay(10);
        }

        hold.Release();
        // The dead controller's request, carried out now: the same client token, so no second instance.
        await WaitAsync(() => ec2.RequestsFor("RunInstances").Count >= 2, TimeSpan.FromSeconds(10));
        await Task.Delay(TimeSpan.FromSeconds(2));
        var instances = ec2.Instances.Count;
        var verdict = instance is null ? $"FAIL: no instance within {deadline.TotalSeconds:0} s of the kill"
            : instances != 1 ? $"FAIL: {instances} instances, not 1"
            : failover > target ? $"over the {target:0.#} s target" : "ok";
        return new RunResult(checkin, run, launcher.Name, lateness, failover, instance, survivor.LaunchedBy(opening, killedAt), instances, verdict);
    }
    finally
    {
        foreach (var c in controllers)
        {
            c.Kill();
            await c.Process.WaitForExitAsync();
            await File.WriteAllTextAsync(Path.Combine(logs, $"c{checkin}-r{run}-{c.Name}.log"), c.Stderr);
            c.Process.Dispose();
        }

        await ec2.DisposeAsync();
        Npgsql.NpgsqlConnection.ClearAllPools();
        await postgres.DropDatabaseAsync(database);
    }
}

static DateTime NextOpening(DateTime now)
{
    var earliest = now + LeadIn;
    var minute = new DateTime(earliest.Ticks - (earliest.Ticks % TimeSpan.TicksPerMinute), DateTimeKind.Utc);
    return minute < earliest ? minute.AddMinutes(1) : minute;
}

static async Task<bool> WaitAsync(Func<bool> done, TimeSpan within)
{
    var watch = Stopwatch.StartNew();
    while (!done())
    {
        if (watch.Elapsed > within)
        {
            return false;
        }

        await Task.Delay(50);
    }

    return true;
}

static double Bound(int checkin) => checkin + 7.5 + checkin;

static string Seconds(double? s) => s is { } v ? v.ToString("0.00", CultureInfo.InvariantCulture) : "-";

static string Median(IEnumerable<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count == 0 ? "-"
        : Seconds(sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2);
}

static string Row(RunResult r) => string.Create(CultureInfo.InvariantCulture,
    $"| {r.Checkin} | {r.Run} | {(r.Killed == "" ? "-" : r.Killed)} | {Seconds(r.Lateness)} | {Seconds(r.Failover)} | {Seconds(r.Instance)} | {r.Path} | {Bound(r.Checkin):0.0} | {r.Instances} | {r.Verdict} |");

internal sealed record RunResult(int Checkin, int Run, string Killed, double? Lateness, double? Failover, double? Instance, string Path, int Instances, string Verdict);

/// <summary>One <c>controller run</c> process, its stderr kept (the log, as Logging:File is off).</summary>
internal sealed class Controller
{
    private readonly StringBuilder _stderr = new();

    private Controller(string name, Process process)
    {
        Name = name;
        Process = process;
    }

    public string Name { get; }

    public Process Process { get; }

    public string Stderr
    {
        get { lock (_stderr) { return _stderr.ToString(); } }
    }

    public bool Started => Stderr.Split('\n').Any(l => l.Contains("Controller ", StringComparison.Ordinal) && l.Contains(" started, ", StringComparison.Ordinal));

    /// <summary>
    /// "recovery" if Quartz's cluster manager in this controller found the killed member (its log says so) between the
    /// kill and this controller's launch, else "pass" (its own reconcile pass launched the box first).
    /// </summary>
    public string LaunchedBy(DateTime opening, DateTime killed)
    {
        var lines = Stderr.Split('\n').Select(l => (At: Stamp(l, opening), Line: l)).ToList();
        var launch = lines.FindIndex(l => l.At >= killed && l.Line.Contains("Launching box e2e", StringComparison.Ordinal));
        return launch < 0 ? "-"
            : lines.Take(launch).Any(l => l.At >= killed && l.Line.Contains("ClusterManager: detected", StringComparison.Ordinal)) ? "recovery" : "pass";
    }

    // The wall-clock time the line was read (HH:mm:ss.fff), on the opening's day.
    private static DateTime Stamp(string line, DateTime opening) =>
        line.Length > 12 && TimeSpan.TryParseExact(line[..12], @"hh\:mm\:ss\.fff", CultureInfo.InvariantCulture, out var t) ? opening.Date + t : DateTime.MinValue;

    public bool Tried => Stderr.Contains("Box e2e: trying candidate", StringComparison.Ordinal);

    public static Controller Start(string name, string? binary, string dll, string dir, string config, string s3, string ec2)
    {
        var home = Directory.CreateDirectory(Path.Combine(dir, name)).FullName;
        var start = new ProcessStartInfo(binary ?? "dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        if (binary is null)
        {
            start.ArgumentList.Add(dll);
        }

        start.ArgumentList.Add("controller");
        start.ArgumentList.Add("run");
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("SPOTDEVBOX_", StringComparison.Ordinal) || k.StartsWith("AWS_", StringComparison.Ordinal) || k.StartsWith("OTEL_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }

        start.Environment["SPOTDEVBOX_CONFIG"] = config;
        start.Environment["SPOTDEVBOX_Storage__EndpointUrl"] = s3;
        start.Environment["SPOTDEVBOX_Aws__Ec2__ServiceUrl"] = ec2;
        start.Environment["AWS_ACCESS_KEY_ID"] = S3PeerFixture.AccessKey;
        start.Environment["AWS_SECRET_ACCESS_KEY"] = S3PeerFixture.SecretKey;
        start.Environment["AWS_REGION"] = S3PeerFixture.Region;
        start.Environment["AWS_EC2_METADATA_DISABLED"] = "true";
        start.Environment["AWS_SHARED_CREDENTIALS_FILE"] = Path.Combine(home, "no-aws", "credentials");
        start.Environment["AWS_CONFIG_FILE"] = Path.Combine(home, "no-aws", "config");
        start.Environment["HOME"] = home;
        start.Environment["XDG_STATE_HOME"] = Path.Combine(home, "state");
        start.Environment["XDG_CACHE_HOME"] = Path.Combine(home, "cache");
        start.Environment["XDG_CONFIG_HOME"] = Path.Combine(home, "config");
        var process = new Process { StartInfo = start };
        var controller = new Controller(name, process);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                lock (controller._stderr)
                {
                    controller._stderr.Append(CultureInfo.InvariantCulture, $"{TimeProvider.System.GetUtcNow():HH:mm:ss.fff} ").AppendLine(line);
                }
            }
        };
        process.OutputDataReceived += (_, _) => { };
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return controller;
    }

    /// <summary>SIGKILL (Process.Kill on Unix): no shutdown, no last check-in.</summary>
    public void Kill()
    {
        if (!Process.HasExited)
        {
            Process.Kill();
        }
    }
}

internal static partial class Program
{
    /// <summary>From the controllers' start to the window's opening.</summary>
    private static readonly TimeSpan LeadIn = TimeSpan.FromSeconds(25);
}
