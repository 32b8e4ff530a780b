using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon.S3.Model;
using SpotDevBox.Core.Agent;
using TestSupport;
using TestSupport.Imds;

namespace SpotDevBox.Tests.Agent;

/// <summary>
/// One box for an end-to-end test: a home directory, a bucket on the S3 peer, the metadata-service
/// simulator, and the real <c>spotdevbox agent run</c> process configured against them.
/// </summary>
internal sealed class AgentHarness : IAsyncDisposable
{
    private readonly S3PeerFixture _peer;
    private readonly TempDir _temp = new("spotdevbox-agent-");
    private readonly List<RunningCli> _agents = [];

    private AgentHarness(S3PeerFixture peer, ImdsSimulator imds, string bucket)
    {
        _peer = peer;
        Imds = imds;
        Bucket = bucket;
        Home = _temp.Sub("home/dev");
        Directory.CreateDirectory(Home);
        Cli = new SpotDevBoxProcess(_temp.Sub("cli"), peer).Set("SPOTDEVBOX_Storage__EndpointUrl", peer.Endpoint);
    }

    public ImdsSimulator Imds { get; }
    public string Bucket { get; }
    public string Home { get; }
    public string Box => $"s3://{Bucket}/boxes/e2e";
    public string Repository => Box + "/repo";
    public string StateDirectory => _temp.Sub("state");
    public string RunDirectory => _temp.Sub("run");
    public string PowerOffMarker => _temp.Sub("powered-off");
    public SpotDevBoxProcess Cli { get; }

    /// <summary>Settings a test adds or overrides, as "Agent:Idle:SampleInterval" => "00:00:05".</summary>
    public Dictionary<string, string> Settings { get; } = new(StringComparer.Ordinal);

    public static async Task<AgentHarness> StartAsync(S3PeerFixture peer)
    {
        var bucket = peer.NewBucketName("agent");
        await peer.CreateBucketAsync(bucket);
        return new AgentHarness(peer, await ImdsSimulator.StartAsync(), bucket);
    }

    /// <summary>Starts the agent and waits until it reported ready (restore done), or logged <paramref name="waitFor"/>.</summary>
    public async Task<RunningCli> StartAgentAsync(string? stateDirectory = null, string waitFor = "is ready: backups may run")
    {
        var config = Path.Combine(_temp.Path, $"agent-{_agents.Count}.json");
        await File.WriteAllTextAsync(config, ConfigJson(stateDirectory ?? StateDirectory));
        var agent = Cli.Start(["agent", "run"], new Dictionary<string, string?> { ["SPOTDEVBOX_CONFIG"] = config });
        _agents.Add(agent);
        var ready = agent.StderrLineAsync(waitFor);
        if (await Task.WhenAny(ready, Task.Delay(TimeSpan.FromSeconds(60))) != ready || agent.HasExited)
        {
            throw new TimeoutException($"the agent did not log '{waitFor}' within 60 s:\n" + agent.Stderr);
        }

        return agent;
    }

    private string ConfigJson(string stateDirectory)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["Agent:Box"] = Box,
            ["Agent:PasswordFile"] = TestKeys.WritePasswordFile(_temp.Sub("secrets/repository-password")),
            ["Agent:Paths:0"] = Home,
            ["Agent:StateDirectory"] = stateDirectory,
            ["Agent:RunDirectory"] = RunDirectory,
            ["Agent:HostKeys"] = "false",
            ["Agent:Wall"] = "false",
            ["Agent:BackupInterval"] = "01:00:00",
            ["Agent:RetentionInterval"] = "00:00:00",
            ["Agent:PowerOffCommand:0"] = "touch",
            ["Agent:PowerOffCommand:1"] = PowerOffMarker,
            ["Agent:HostRoot"] = _temp.Sub("host-root"),
            ["Agent:Metadata:BaseUrl"] = Imds.BaseUrl.ToString(),
            ["Agent:Metadata:TokenRequestTimeout"] = "00:00:01",
            ["Agent:Metadata:RequestTimeout"] = "00:00:01",
            ["Agent:Interruption:PollInterval"] = "00:00:01",
            ["Agent:Interruption:MaxBackoff"] = "00:00:02",
            ["Agent:Interruption:SafetyMargin"] = "00:00:01",
            ["Logging:File"] = "off",
        };
        foreach (var (key, value) in Settings)
        {
            settings[key] = value;
        }

        // Nested JSON from "A:B:0" keys, as the configuration providers would read it back.
        var root = new JsonObject();
        foreach (var (key, value) in settings)
        {
            var parts = key.Split(':');
            JsonNode node = root;
            for (var i = 0; i < parts.Length - 1; i++)
            {
                var next = parts[i + 1];
                var isArray = int.TryParse(next, out _);
                if (node is JsonObject o)
                {
                    node = o[parts[i]] ??= isArray ? new JsonArray() : new JsonObject();
                }
                else
                {
                    var a = (JsonArray)node;
                    var index = int.Parse(parts[i], System.Globalization.CultureInfo.InvariantCulture);
                    while (a.Count <= index)
                    {
                        a.Add(isArray ? new JsonArray() : new JsonObject());
                    }

                    node = a[index]!;
                }
            }

            if (node is JsonObject obj)
            {
                obj[parts[^1]] = value;
            }
            else
            {
                var array = (JsonArray)node;
                var index = int.Parse(parts[^1], System.Globalization.CultureInfo.InvariantCulture);
                while (array.Count <= index)
                {
                    array.Add(null);
                }

                array[index] = value;
            }
        }

        return root.ToJsonString();
    }

    public async Task<string?> GetObjectAsync(string key)
    {
        using var s3 = _peer.CreateClient();
        try
        {
            using var response = await s3.GetObjectAsync(Bucket, "boxes/e2e/" + key);
            using var reader = new StreamReader(response.ResponseStream);
            return await reader.ReadToEndAsync();
        }
        catch (Amazon.S3.AmazonS3Exception e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task PutObjectAsync(string key, string content)
    {
        using var s3 = _peer.CreateClient();
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = "boxes/e2e/" + key, ContentBody = content });
    }

    public async Task DeleteObjectAsync(string key)
    {
        using var s3 = _peer.CreateClient();
        await s3.DeleteObjectAsync(Bucket, "boxes/e2e/" + key);
    }

    /// <summary>Empties and deletes the box's bucket: storage is gone for the agent from then on.</summary>
    public async Task DeleteBucketAsync()
    {
        using var s3 = _peer.CreateClient();
        while (true)
        {
            var listed = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket });
            if (listed.S3Objects is not { Count: > 0 } objects)
            {
                break;
            }

            foreach (var o in objects)
            {
                await s3.DeleteObjectAsync(Bucket, o.Key);
            }
        }

        await s3.DeleteBucketAsync(Bucket);
    }

    public async Task<List<string>> ListAsync(string prefix)
    {
        using var s3 = _peer.CreateClient();
        var response = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, Prefix = "boxes/e2e/" + prefix });
        return [.. (response.S3Objects ?? []).Select(o => o.Key["boxes/e2e/".Length..])];
    }

    public async Task<T> ReadJsonAsync<T>(string key, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) =>
        JsonSerializer.Deserialize((await GetObjectAsync(key)) ?? throw new InvalidOperationException($"{key} does not exist"), type)!;

    /// <summary>The snapshots of the box's repository, through the CLI.</summary>
    public async Task<JsonElement> SnapshotsAsync()
    {
        var result = await Cli.RunAsync("snapshots", "--repo", Repository, "--json");
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.Json();
    }

    public string TempPath(string name) => _temp.Sub(name);

    public async ValueTask DisposeAsync()
    {
        foreach (var agent in _agents)
        {
            agent.Dispose();
        }

        await Imds.DisposeAsync();
        _temp.Dispose();
    }
}
