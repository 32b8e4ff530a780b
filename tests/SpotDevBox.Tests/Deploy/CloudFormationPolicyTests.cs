using System.Text.Json.Nodes;
using TestSupport;

namespace SpotDevBox.Tests.Deploy;

/// <summary>
/// One source for the policies: every IAM policy document in deploy/cloudformation, its Ref and Fn::Sub resolved
/// with example values, is statement by statement the file of deploy/iam it stands for (the one the evaluator tests
/// prove), with its placeholders replaced as deploy/README.md says. A change to one without the other fails here.
/// </summary>
public sealed class CloudFormationPolicyTests
{
    internal const string Account = "123456789012";
    internal const string Bucket = "team-boxes";
    internal const string Root = "boxes";
    internal const string AgentBuildsPrefix = "spotdevbox/agent";
    internal const string Owner = "alice";
    internal const string Box = "alice-dev";
    internal const string Region = "us-east-1";
    internal const string KmsKey = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9";
    internal const string RepositoryKey = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-4333-8444-555555555555";
    internal const string ControllerRole = "arn:aws:iam::123456789012:role/fleet-ControllerRole-0A1B2C3D4E5F";
    internal static readonly string[] ImageOwners = ["amazon", "111122223333"];

    public static TheoryData<string, string, string> Documents() => new()
    {
        { "fleet.yaml", "ControllerPolicy", "controller-policy.json" },
        { "fleet.yaml", "PeoplePolicy", "people-policy.json" },
        { "fleet.yaml", "OperatorPolicy", "operator-policy.json" },
        { "fleet.yaml", "KmsPolicy", "kms-policy.json" },
        { "box.yaml", "Role", "box-policy.json" },
        { "box.yaml", "KmsPolicy", "kms-policy.json" },
        { "box.yaml", "RepositoryKeyPolicy", "box-repository-key-policy.json" },
    };

    [Fact]
    public async Task Templates_EveryPolicyDocument_IsOneOfTheComparedOnes()
    {
        var found = new List<string>();
        foreach (var file in new[] { "fleet.yaml", "box.yaml" })
        {
            var resources = (await CloudFormationTemplate.LoadAsync(file))["Resources"]!.AsObject();
            foreach (var (name, resource) in resources)
            {
                var properties = resource!["Properties"];
                if (properties?["PolicyDocument"] is not null && (string?)resource["Type"] != "AWS::S3::BucketPolicy")
                {
                    found.Add($"{file} {name}");
                }

                if (properties?["Policies"] is JsonArray inline)
                {
                    found.AddRange(inline.Select(_ => $"{file} {name}"));
                }
            }
        }

        Assert.Equal(["fleet.yaml ControllerPolicy", "fleet.yaml PeoplePolicy", "fleet.yaml OperatorPolicy", "fleet.yaml KmsPolicy", "box.yaml Role", "box.yaml KmsPolicy", "box.yaml RepositoryKeyPolicy"], found);
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public async Task TemplatePolicy_Resolved_IsTheDeployIamFileStatementByStatement(string template, string resource, string iamFile)
    {
        var properties = (await CloudFormationTemplate.LoadAsync(template))["Resources"]![resource]!["Properties"]!;
        var document = properties["PolicyDocument"] ?? Assert.Single(properties["Policies"]!.AsArray())!["PolicyDocument"]!;
        var resolved = CloudFormationTemplate.Resolve(document, Values())!;

        AssertSamePolicy(Rendered(iamFile), resolved);
    }

    /// <summary>The repositories' key's key policy in fleet.yaml is deploy/iam/repository-key-policy.json, statement by statement.</summary>
    [Fact]
    public async Task RepositoryKey_KeyPolicy_IsTheDeployIamFileStatementByStatement()
    {
        var key = (await CloudFormationTemplate.LoadAsync("fleet.yaml"))["Resources"]!["RepositoryKey"]!;

        var resolved = CloudFormationTemplate.Resolve(key["Properties"]!["KeyPolicy"]!, Values())!;

        AssertSamePolicy(Rendered("repository-key-policy.json"), resolved);
    }

    private static Dictionary<string, JsonNode> Values() =>
        new(StringComparer.Ordinal)
        {
            ["RepositoryKeyArn"] = RepositoryKey,
            ["RepositoryKey.Arn"] = RepositoryKey,
            ["ControllerRole.Arn"] = ControllerRole,
            ["AWS::AccountId"] = Account,
            ["AWS::Region"] = Region,
            ["KmsKeyArn"] = KmsKey,
            ["Bucket"] = Bucket,
            ["Root"] = Root,
            ["AgentBuildsPrefix"] = AgentBuildsPrefix,
            ["Owner"] = Owner,
            ["Box"] = Box,
            ["ImageOwners"] = new JsonArray([.. ImageOwners.Select(o => JsonValue.Create(o))]),
        };

    /// <summary>
    /// deploy/iam/<paramref name="file"/> with its placeholders replaced as deploy/README.md does it (AGENT_BUILDS_PREFIX
    /// before PREFIX, which it contains; "IMAGE_OWNERS" by the JSON list), for the example fleet and Alice's box.
    /// </summary>
    internal static JsonNode Rendered(
        string file, string account = Account, string bucket = Bucket, string kmsKey = KmsKey, string region = Region, string repositoryKey = RepositoryKey, string controllerRole = ControllerRole)
    {
        var text = File.ReadAllText(Path.Combine(S3PeerFixture.RepositoryRoot, "deploy", "iam", file))
            .Replace("REPOSITORY_KEY_ARN", repositoryKey, StringComparison.Ordinal)
            .Replace("CONTROLLER_ROLE_ARN", controllerRole, StringComparison.Ordinal)
            .Replace("KMS_KEY_ARN", kmsKey, StringComparison.Ordinal)
            .Replace("REGION", region, StringComparison.Ordinal)
            .Replace("\"IMAGE_OWNERS\"", string.Join(", ", ImageOwners.Select(o => $"\"{o}\"")), StringComparison.Ordinal)
            .Replace("ACCOUNT_ID", account, StringComparison.Ordinal)
            .Replace("BUCKET", bucket, StringComparison.Ordinal)
            .Replace("AGENT_BUILDS_PREFIX", AgentBuildsPrefix, StringComparison.Ordinal)
            .Replace("PREFIX", $"{Root}/{Owner}/{Box}", StringComparison.Ordinal)
            .Replace("ROOT", Root, StringComparison.Ordinal)
            .Replace("BOX", Box, StringComparison.Ordinal);
        return JsonNode.Parse(text)!;
    }

    internal static void AssertSamePolicy(JsonNode expected, JsonNode actual)
    {
        Assert.Equal((string?)expected["Version"], (string?)actual["Version"]);
        var want = expected["Statement"]!.AsArray();
        var got = actual["Statement"]!.AsArray();
        Assert.Equal(want.Select(s => (string?)s!["Sid"]), got.Select(s => (string?)s!["Sid"]));
        for (var i = 0; i < want.Count; i++)
        {
            Assert.True(JsonNode.DeepEquals(want[i], got[i]), $"statement {want[i]!["Sid"]}:\nexpected {want[i]!.ToJsonString()}\nactual   {got[i]!.ToJsonString()}");
        }

        Assert.Equal(expected.AsObject().Select(p => p.Key), actual.AsObject().Select(p => p.Key));
    }
}
