using System.Text.Json;
using System.Text.Json.Nodes;
using TestSupport;

namespace SpotDevBox.Tests.Deploy;

/// <summary>
/// Every policy in deploy/iam: valid JSON in the current policy language, no wildcard action, writes
/// only with server-side encryption; and the box's policy reaches nothing outside its own prefix but the
/// agent builds. (controller-policy.json's EC2 actions are held to the gateway's calls in
/// SpotDevBox.Aws.Tests, ControllerPolicyTests.)
/// </summary>
public sealed class IamPolicyTests
{
    private static readonly string IamDir = Path.Combine(S3PeerFixture.RepositoryRoot, "deploy", "iam");

    public static TheoryData<string> PolicyFiles() => new(Files());

    [Fact]
    public void PolicyFiles_AreTheFourDocumentedOnes() =>
        Assert.Equal(["backup-repository-policy.json", "box-policy.json", "controller-policy.json", "init-policy.json"], Files());

    [Theory]
    [MemberData(nameof(PolicyFiles))]
    public void Policy_IsJsonWithVersion20121017AndStatementsThatAllowOrDeny(string file)
    {
        var policy = JsonNode.Parse(File.ReadAllText(Path.Combine(IamDir, file)), documentOptions: new JsonDocumentOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow })!;

        // 2012-10-17 is the language version that has policy variables; the older 2008-10-17 does not.
        Assert.Equal("2012-10-17", (string?)policy["Version"]);
        var statements = policy["Statement"]!.AsArray();
        Assert.NotEmpty(statements);
        Assert.All(statements, s =>
        {
            Assert.Contains((string?)s!["Effect"], new[] { "Allow", "Deny" });
            Assert.NotNull(s["Action"]);
            Assert.NotNull(s["Resource"]);
            Assert.Null(s["NotAction"]);
            Assert.Null(s["NotResource"]);
        });
        Assert.Equal(statements.Count, statements.Select(s => (string?)s!["Sid"]).Distinct(StringComparer.Ordinal).Count());
    }

    [Theory]
    [MemberData(nameof(PolicyFiles))]
    public void Policy_NoStatement_HasAWildcardAction(string file)
    {
        Assert.All(Statements(file), s => Assert.All(Strings(s["Action"]), a => Assert.DoesNotContain("*", a, StringComparison.Ordinal)));
    }

    [Theory]
    [MemberData(nameof(PolicyFiles))]
    public void Policy_AllowingPutObject_DeniesItWithoutServerSideEncryptionOnTheSameObjects(string file)
    {
        var statements = Statements(file);
        var puts = statements.Where(s => (string?)s["Effect"] == "Allow" && Strings(s["Action"]).Contains("s3:PutObject")).SelectMany(s => Strings(s["Resource"])).ToList();
        var deny = statements.SingleOrDefault(s => (string?)s["Effect"] == "Deny" && Strings(s["Action"]).SequenceEqual(["s3:PutObject"]));
        if (puts.Count == 0)
        {
            Assert.Null(deny);
            return;
        }

        Assert.NotNull(deny);
        Assert.Equal("true", (string?)deny["Condition"]!["Null"]!["s3:x-amz-server-side-encryption"]);
        var denied = Assert.Single(Strings(deny["Resource"]));
        Assert.All(puts, r => Assert.StartsWith(denied.TrimEnd('*'), r, StringComparison.Ordinal));
    }

    [Fact]
    public void BoxPolicy_OutsideItsPrefix_AllowsTheAgentBuildsAndItsWebhookParameterAndNothingElse()
    {
        var outside = new List<(string Action, string Resource)>();
        foreach (var s in Statements("box-policy.json").Where(s => (string?)s["Effect"] == "Allow"))
        {
            foreach (var resource in Strings(s["Resource"]))
            {
                var ownObjects = resource == "arn:aws:s3:::BUCKET/PREFIX/*";
                var ownListing = resource == "arn:aws:s3:::BUCKET"
                    && Strings(s["Action"]).SequenceEqual(["s3:ListBucket"])
                    && Strings(s["Condition"]?["StringLike"]?["s3:prefix"]).All(p => p is "PREFIX" or "PREFIX/*");
                if (!ownObjects && !ownListing)
                {
                    outside.AddRange(Strings(s["Action"]).Select(a => (a, resource)));
                }
            }
        }

        Assert.Equal(
            [
                ("s3:GetObject", "arn:aws:s3:::BUCKET/AGENT_BUILDS_PREFIX/*"),
                // The webhook URL's SecureString (Agent:WebhookParameter), under the box's own path only; SsmSecretParameters makes only this call.
                ("ssm:GetParameter", "arn:aws:ssm:*:ACCOUNT_ID:parameter/spotdevbox/BOX/*"),
            ],
            outside);
    }

    [Fact]
    public void BoxPolicy_Ssm_OnlyGetParameterUnderTheBoxsOwnPath()
    {
        var ssm = Statements("box-policy.json").Where(s => Strings(s["Action"]).Any(a => a.StartsWith("ssm:", StringComparison.Ordinal))).ToList();

        var statement = Assert.Single(ssm);
        Assert.Equal("Allow", (string?)statement["Effect"]);
        Assert.Equal(["ssm:GetParameter"], Strings(statement["Action"]));
        Assert.Equal(["arn:aws:ssm:*:ACCOUNT_ID:parameter/spotdevbox/BOX/*"], Strings(statement["Resource"]));
        Assert.Null(statement["Condition"]);
    }

    [Fact]
    public void BoxPolicy_ItsOwnPrefix_IsExactlyTheBackupRepositoryPolicy()
    {
        var box = Statements("box-policy.json").Where(s => (string?)s["Sid"] is not ("ReadTheAgentBuilds" or "ReadOwnWebhookParameter")).Select(s => s.ToJsonString());

        Assert.Equal(Statements("backup-repository-policy.json").Select(s => s.ToJsonString()), box);
    }

    private static List<string> Files() => [.. Directory.EnumerateFiles(IamDir, "*.json").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)];

    private static List<JsonNode> Statements(string file) =>
        [.. JsonNode.Parse(File.ReadAllText(Path.Combine(IamDir, file)))!["Statement"]!.AsArray().Select(s => s!)];

    private static IReadOnlyList<string> Strings(JsonNode? value) => value switch
    {
        null => [],
        JsonArray array => [.. array.Select(v => (string)v!)],
        _ => [(string)value!],
    };
}
