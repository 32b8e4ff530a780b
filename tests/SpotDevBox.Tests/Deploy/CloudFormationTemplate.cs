using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TestSupport;

namespace SpotDevBox.Tests.Deploy;

/// <summary>
/// A template of deploy/cloudformation as CloudFormation reads it (the YAML short forms written out, by
/// tests/peers/cfn-template-json.py with Debian's PyYAML), and the two intrinsic functions the policy documents use,
/// <c>Ref</c> and <c>Fn::Sub</c>, resolved the way CloudFormation documents them: <c>${Name}</c> is the parameter's
/// value or the resource's physical id, <c>${AWS::AccountId}</c> the account, <c>${!Text}</c> the literal <c>${Text}</c>.
/// </summary>
internal static partial class CloudFormationTemplate
{
    public static readonly string Directory = Path.Combine(S3PeerFixture.RepositoryRoot, "deploy", "cloudformation");

    public static string PathOf(string file) => Path.Combine(Directory, file);

    public static async Task<JsonObject> LoadAsync(string file)
    {
        var script = Path.Combine(S3PeerFixture.RepositoryRoot, "tests", "peers", "cfn-template-json.py");
        var python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(PathOf(file));
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{file} is not YAML PyYAML reads (python3-yaml; scripts/test installs it with moto's dependencies): {await stderr}");
        return JsonNode.Parse(await stdout)!.AsObject();
    }

    /// <summary>A copy of <paramref name="node"/> with every Ref and Fn::Sub replaced by its value; any other intrinsic function fails.</summary>
    public static JsonNode? Resolve(JsonNode? node, IReadOnlyDictionary<string, JsonNode> values)
    {
        switch (node)
        {
            case JsonObject o when o.Count == 1 && o.ContainsKey("Ref"):
                var name = (string)o["Ref"]!;
                Assert.True(values.TryGetValue(name, out var value), $"the test gives no value for Ref {name}");
                return value.DeepClone();
            case JsonObject o when o.Count == 1 && o.ContainsKey("Fn::Sub"):
                var template = o["Fn::Sub"]!;
                Assert.True(template is JsonValue, "only the one-argument form of Fn::Sub is resolved here");
                return JsonValue.Create(Substitute((string)template!, values));
            case JsonObject o when o.Count == 1 && o.First().Key.StartsWith("Fn::", StringComparison.Ordinal):
                Assert.Fail($"{o.First().Key} is not resolved by the test; the policy documents use only Ref and Fn::Sub");
                return null;
            case JsonObject o:
                var copy = new JsonObject();
                foreach (var (key, child) in o)
                {
                    copy[key] = Resolve(child, values);
                }

                return copy;
            case JsonArray a:
                return new JsonArray([.. a.Select(child => Resolve(child, values))]);
            default:
                return node?.DeepClone();
        }
    }

    private static string Substitute(string template, IReadOnlyDictionary<string, JsonNode> values) =>
        Variable().Replace(template, m =>
        {
            var name = m.Groups["name"].Value;
            if (name.StartsWith('!'))
            {
                return "${" + name[1..] + "}";
            }

            Assert.True(values.TryGetValue(name, out var value) && value is JsonValue, $"the test gives no string value for ${{{name}}}");
            return (string)value!;
        });

    [GeneratedRegex(@"\$\{(?<name>[^}]+)\}", RegexOptions.CultureInvariant)]
    private static partial Regex Variable();
}
