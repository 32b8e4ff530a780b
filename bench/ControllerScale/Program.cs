using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Amazon.S3.Model;
using SpotDevBox.Core.Compute;
using TestSupport;
using TestSupport.Ec2;

// One controller process over N boxes, every box up with a running instance and a status.json, the EC2 endpoint
// simulator and the S3 peer on loopback; the controller's own pass events (5112/5113) give each pass's time.
var sizes = new List<int> { 50, 100, 250, 500 };
var passes = 3;
string? binary = null;
var output = Path.Combine(S3PeerFixture.RepositoryRoot, "bench", "work", "results-controller-scale.md");
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--sizes": sizes = [.. args[++i].Split(' ', ',', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture))]; break;
        case "--passes": passes = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--binary": binary = Path.GetFullPath(args[++i]); break;
        case "--output": output = Path.GetFullPath(args[++i]); break;
        default: Console.Error.WriteLine($"controller-scale: unknown argument '{args[i]}' (--sizes \"50 100\" --passes N --binary PATH --output FILE)"); return 2;
    }
}

if (passes < 2)
{
    Console.Error.WriteLine("controller-scale: --passes must be 2 or more (the first pass opens every session; the later ones are the steady state)");
    return 2;
}

var dll = Path.Combine(S3PeerFixture.RepositoryRoot, "src", "SpotDevBox", "bin", "Release", "net10.0", "spotdevbox.dll");
if (binary is null && !File.Exists(dll))
{
    Console.Error.WriteLine($"controller-scale: build first: dotnet build src/SpotDevBox -c Release (no {Path.GetFileName(dll)})");
    return 2;
}

var peer = new S3PeerFixture();
await peer.InitializeAsync();
await using var ec2 = await Ec2QueryEndpoint.StartAsync();
ec2.AddImage(new SimulatedImage("ami-0123456789abcdef0", "debian-12-amd64-20261101", "x86_64", "2026-11-01T00:00:00.000Z"));
ec2.AddInstanceType("m6i.large", "x86_64");
ec2.SubnetZones["subnet-0aaa1111"] = "us-east-1a";
var now = TimeProvider.System.GetUtcNow();
ec2.AddSpotPrice(new SimulatedSpotPrice("m6i.large", "us-east-1a", "0.030000", now.AddDays(-1)));
using var s3 = peer.CreateClient();
var rows = new List<string>();
var work = Directory.CreateTempSubdirectory("spotdevbox-controller-scale-");
try
{
    var seeded = 0;
    foreach (var n in sizes.Order())
    {
        var bucket = peer.NewBucketName("scale");
        await peer.CreateBucketAsync(bucket);
        var boxes = Enumerable.Range(0, n).Select(i => (Box: $"b{i:000}", Owner: $"o{i % 25:00}")).ToList();
        // Earlier sizes' instances stay in the endpoint, tagged with boxes this configuration does not name:
        // DescribeInstances pages through all of them, as it would through a shared account's other instances.
        foreach (var (box, owner) in boxes)
        {
            seeded++;
            var id = $"i-{seeded:x17}";
            ec2.AddInstance(new SimulatedInstance
            {
                InstanceId = id, StateCode = 16, AvailabilityZone = "us-east-1a", SubnetId = "subnet-0aaa1111", LaunchTime = now.AddHours(-1),
                InstanceProfileArn = $"arn:aws:iam::123456789012:instance-profile/spotdevbox-box-{box}",
                Tags = new Dictionary<string, string> { [BoxTags.Box] = box, [BoxTags.Owner] = owner, [BoxTags.Session] = $"20261207T000000Z-{seeded:x6}" },
            });
            var status = string.Create(CultureInfo.InvariantCulture,
                $$"""{"box":"{{box}}","state":"Running","updated_at":"{{now:O}}","agent_version":"bench","instance_id":"{{id}}","session_start":"{{now.AddHours(-1):O}}"}""");
            await s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = $"boxes/{owner}/{box}/status.json", ContentBody = status });
        }

        var dir = Directory.CreateDirectory(Path.Combine(work.FullName, $"n{n}")).FullName;
        var log = Path.Combine(dir, "controller.clef");
        var config = new StringBuilder();
        config.Append(CultureInfo.InvariantCulture, $$"""
            {
              "Logging": { "File": "{{log}}" },
              "Serilog": { "MinimumLevel": { "Default": "Information", "Override": { "SpotDevBox.Core.Controller.Reconciler": "Debug" } } },
              "Controller": {
                "AgentBuilds": "s3://{{bucket}}/agent-builds",
                "Fleet": { "Region": "us-east-1", "StorageRoot": "s3://{{bucket}}/boxes", "RepositoryKeyArn": "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555" },
                "Database": "{{Path.Combine(dir, "controller.db")}}",
                "Reconcile": { "Interval": "00:00:30" },
                "Boxes": {
            """);
        config.AppendJoin(",\n", boxes.Select(b => $$"""
                  "{{b.Box}}": { "Owner": "{{b.Owner}}", "Region": "us-east-1", "InstanceTypes": ["m6i.large"], "Subnets": ["subnet-0aaa1111"], "ImageId": "ami-0123456789abcdef0",
                    "SecurityGroups": ["sg-0123abcd"], "InstanceProfile": "spotdevbox-box-{{b.Box}}", "Storage": "s3://{{bucket}}/boxes/{{b.Owner}}/{{b.Box}}", "User": "dev",
                    "Schedule": { "TimeZone": "UTC", "Periods": ["daily 00:00-24:00"] } }
            """));
        config.Append("\n      }\n    }\n  }\n");
        var configFile = Path.Combine(dir, "spotdevbox.json");
        await File.WriteAllTextAsync(configFile, config.ToString());

        var requestsBefore = ec2.Requests.Count;
        var start = new ProcessStartInfo(binary ?? "dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        if (binary is null)
        {
            start.ArgumentList.Add(dll);
        }

        start.ArgumentList.Add("controller");
        start.ArgumentList.Add("run");
        start.Environment["SPOTDEVBOX_CONFIG"] = configFile;
        start.Environment["SPOTDEVBOX_Storage__EndpointUrl"] = peer.Endpoint;
        start.Environment["SPOTDEVBOX_Aws__Ec2__ServiceUrl"] = ec2.ServiceUrl.ToString();
        start.Environment["AWS_ACCESS_KEY_ID"] = S3PeerFixture.AccessKey;
        start.Environment["AWS_SECRET_ACCESS_KEY"] = S3PeerFixture.SecretKey;
        start.Environment["AWS_REGION"] = "us-east-1";
        start.Environment["AWS_EC2_METADATA_DISABLED"] = "true";
        start.Environment["HOME"] = dir;
        start.Environment["XDG_STATE_HOME"] = dir;
        using var controller = Process.Start(start)!;
        _ = controller.StandardOutput.ReadToEndAsync();
        var stderr = controller.StandardError.ReadToEndAsync();
        var times = new List<double>();
        var deadline = Stopwatch.StartNew();
        while (times.Count < passes && !controller.HasExited && deadline.Elapsed < TimeSpan.FromSeconds(30 * passes + 120))
        {
            await Task.Delay(500);
            // The log file carries the day in its name (controller20261207.clef), as Logging:File documents.
            times = [.. Directory.EnumerateFiles(dir, "controller*.clef").Order(StringComparer.Ordinal).SelectMany(ReadPasses)];
        }

        var cpu = controller.HasExited ? TimeSpan.Zero : controller.TotalProcessorTime;
        if (!controller.HasExited)
        {
            controller.Kill(entireProcessTree: true);
        }

        await controller.WaitForExitAsync();
        if (times.Count < passes)
        {
            Console.Error.WriteLine($"controller-scale: {n} boxes: {times.Count} of {passes} passes seen; stderr:\n{await stderr}");
            return 1;
        }

        var describe = ec2.Requests.Skip(requestsBefore).Count(r => r.Action == "DescribeInstances");
        var steady = times.Skip(1).Order().ToList();
        var median = steady.Count % 2 == 1 ? steady[steady.Count / 2] : (steady[(steady.Count / 2) - 1] + steady[steady.Count / 2]) / 2;
        var row = string.Create(CultureInfo.InvariantCulture,
            $"| {n} | {times[0]:0.000} | {string.Join(" ", times.Skip(1).Select(t => t.ToString("0.000", CultureInfo.InvariantCulture)))} | {median:0.000} | {median / n * 1000:0.0} | {describe} | {cpu.TotalSeconds:0.0} |");
        Console.WriteLine(row);
        rows.Add(row);
    }
}
finally
{
    await peer.DisposeAsync();
    work.Delete(recursive: true);
}

var report = new StringBuilder();
report.AppendLine(CultureInfo.InvariantCulture, $"- {TimeProvider.System.GetUtcNow():yyyy-MM-dd HH:mm} UTC; {Environment.ProcessorCount} cores; load {File.ReadAllText("/proc/loadavg").Split(' ')[0]} at the end");
report.AppendLine(CultureInfo.InvariantCulture, $"- controller: {(binary is null ? "the Release build (JIT), dotnet spotdevbox.dll" : binary)}; Reconcile:Interval 30 s; {passes} passes per size");
report.AppendLine();
report.AppendLine("| boxes | first pass s | later passes s | steady pass s (median) | ms per box | DescribeInstances calls | controller CPU s |");
report.AppendLine("|---:|---:|---|---:|---:|---:|---:|");
foreach (var r in rows)
{
    report.AppendLine(r);
}

Directory.CreateDirectory(Path.GetDirectoryName(output)!);
await File.WriteAllTextAsync(output, report.ToString());
Console.WriteLine();
Console.Write(report);
return 0;

// The pass times the controller logged (events 5112 and 5113), in order.
static IEnumerable<double> ReadPasses(string log)
{
    using var stream = new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
    using var reader = new StreamReader(stream);
    while (reader.ReadLine() is { } line)
    {
        if (!line.Contains("\"Seconds\"", StringComparison.Ordinal))
        {
            continue;
        }

        using var doc = JsonDocument.Parse(line);
        if (doc.RootElement.TryGetProperty("EventId", out var e) && e.TryGetProperty("Id", out var id) && id.GetInt32() is 5112 or 5113)
        {
            yield return doc.RootElement.GetProperty("Seconds").GetDouble();
        }
    }
}
