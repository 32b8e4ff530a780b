using System.Text.Json;
using System.Text.Json.Nodes;
using TestSupport;

namespace SpotDevBox.Tests.Deploy;

/// <summary>
/// Every policy in deploy/iam, by its structure: valid JSON in the current policy language, no wildcard action,
/// writes only with server-side encryption, every statement that needs a condition has it, people's grants bound
/// to their owner tag; the box's policy reaches nothing outside its own prefix but the agent builds and writes only
/// the keys the layout gives the box. What each policy allows and refuses is decided by a policy evaluator in
/// <see cref="IamPolicyEvaluatorTests"/>; the actions are held to the code's calls in SpotDevBox.Aws.Tests
/// (ControllerPolicyTests for EC2, S3PolicyActionsTests for S3 and SSM).
/// </summary>
public sealed class IamPolicyTests
{
    private static readonly string IamDir = Path.Combine(S3PeerFixture.RepositoryRoot, "deploy", "iam");

    public static TheoryData<string> PolicyFiles() => new(Files());

    [Fact]
    public void PolicyFiles_AreTheFourDocumentedOnes() =>
        Assert.Equal(["backup-repository-policy.json", "box-policy.json", "box-repository-key-policy.json", "controller-policy.json", "init-policy.json", "kms-policy.json", "operator-policy.json", "people-policy.json", "setup-policy.json"], Files());

    /// <summary>The one resource policy of deploy/iam (a KMS key policy, with principals and Deny statements for kms:*), which the identity-policy rules here do not fit.</summary>
    private const string KeyPolicyFile = "repository-key-policy.json";

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
                var ownObjects = resource.StartsWith("arn:aws:s3:::BUCKET/PREFIX/", StringComparison.Ordinal);
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
    public void BoxPolicy_WritesAndDeletes_OnlyTheKeysTheLayoutGivesTheBox()
    {
        var writes = Statements("box-policy.json")
            .Where(s => (string?)s["Effect"] == "Allow" && Strings(s["Action"]).Any(a => a is "s3:PutObject" or "s3:DeleteObject"))
            .ToList();

        var statement = Assert.Single(writes);
        // No s3:AbortMultipartUpload: every upload is a single PUT (S3PolicyActionsTests holds the actions to the SDK calls).
        Assert.Equal(["s3:PutObject", "s3:DeleteObject"], Strings(statement["Action"]));
        // Not control.json nor launch.json: the owner and the controller write those, the box only reads them.
        Assert.Equal(
            [
                "arn:aws:s3:::BUCKET/PREFIX/repo/*",
                "arn:aws:s3:::BUCKET/PREFIX/host-keys/*",
                "arn:aws:s3:::BUCKET/PREFIX/status.json",
                "arn:aws:s3:::BUCKET/PREFIX/host-keys.pub",
                "arn:aws:s3:::BUCKET/PREFIX/sessions/*",
                "arn:aws:s3:::BUCKET/PREFIX/interruptions/*",
            ],
            Strings(statement["Resource"]));
    }

    [Fact]
    public void BoxPolicy_HistoryAndBucketSettings_AreDeniedOnTheWholeBucket()
    {
        var deny = Assert.Single(Statements("box-policy.json"), s => (string?)s["Sid"] == "NeverTheHistoryNorTheBucketsSettings");

        Assert.Equal("Deny", (string?)deny["Effect"]);
        Assert.Null(deny["Condition"]);
        Assert.Equal(["arn:aws:s3:::BUCKET", "arn:aws:s3:::BUCKET/*"], Strings(deny["Resource"]));
        Assert.Subset(Strings(deny["Action"]).ToHashSet(), new HashSet<string> { "s3:DeleteObjectVersion", "s3:PutBucketVersioning", "s3:PutLifecycleConfiguration", "s3:PutBucketPolicy" });
    }

    [Theory]
    [MemberData(nameof(PolicyFiles))]
    public void Policy_EveryStatementThatNeedsACondition_HasIt(string file)
    {
        // (action, resource suffix) -> a condition key that must be present on every Allow statement granting it.
        (string Action, string ResourcePart, string Key)[] required =
        [
            ("s3:ListBucket", ":::BUCKET", "s3:prefix"),
            ("s3:ListBucketVersions", ":::BUCKET", "s3:prefix"),
            ("ec2:RunInstances", ":instance/", "ec2:InstanceProfile"),
            ("ec2:RunInstances", ":instance/", "aws:RequestTag/spotdevbox:box"),
            ("ec2:RunInstances", ":volume/", "aws:RequestTag/spotdevbox:box"),
            ("ec2:RunInstances", ":image/", "ec2:Owner"),
            ("ec2:CreateTags", "", "ec2:CreateAction"),
            ("ec2:TerminateInstances", "", "aws:ResourceTag/spotdevbox:"),
            ("ec2:AssociateAddress", "", "aws:ResourceTag/spotdevbox:"),
            ("iam:PassRole", "", "iam:PassedToService"),
            ("kms:Decrypt", "KMS_KEY_ARN", "kms:ViaService"),
            ("kms:GenerateDataKey", "KMS_KEY_ARN", "kms:ViaService"),
            ("kms:Decrypt", "REPOSITORY_KEY_ARN", "kms:EncryptionContext:spotdevbox:box"),
            ("kms:GenerateDataKey", "REPOSITORY_KEY_ARN", "kms:EncryptionContext:spotdevbox:box"),
            ("kms:Encrypt", "REPOSITORY_KEY_ARN", "kms:EncryptionContext:spotdevbox:box"),
            ("kms:Decrypt", "REPOSITORY_KEY_ARN", "kms:EncryptionContext:spotdevbox:repository"),
            ("kms:GenerateDataKey", "REPOSITORY_KEY_ARN", "kms:EncryptionContext:spotdevbox:repository"),
            ("kms:Encrypt", "REPOSITORY_KEY_ARN", "kms:EncryptionContext:spotdevbox:repository"),
        ];
        var missing = new List<string>();
        foreach (var s in Statements(file).Where(s => (string?)s["Effect"] == "Allow"))
        {
            var keys = (s["Condition"] as JsonObject)?.SelectMany(op => op.Value!.AsObject().Select(k => k.Key)).ToList() ?? [];
            foreach (var (action, part, key) in required)
            {
                // HeadBucket, init's existence check, is allowed by s3:ListBucket only without a prefix condition
                // (it sends no prefix); init-policy.json is used once, by whoever creates the repository.
                if (file == "init-policy.json" && action == "s3:ListBucket")
                {
                    continue;
                }

                if (Strings(s["Action"]).Contains(action) && Strings(s["Resource"]).Any(r => r.Contains(part, StringComparison.Ordinal))
                    && !keys.Any(k => k.StartsWith(key, StringComparison.Ordinal)))
                {
                    missing.Add($"{s["Sid"]}: {action} without {key}");
                }
            }
        }

        Assert.Empty(missing);
    }

    [Fact]
    public void KmsPolicy_TheTwoCallsS3MakesOnTheBucketsKeyThroughS3Only()
    {
        var statement = Assert.Single(Statements("kms-policy.json"));

        Assert.Equal("Allow", (string?)statement["Effect"]);
        // Every principal of the fleet uploads (S3PolicyActionsTests): GenerateDataKey for uploads, Decrypt for downloads.
        Assert.Equal(["kms:Decrypt", "kms:GenerateDataKey"], Strings(statement["Action"]));
        Assert.Equal(["KMS_KEY_ARN"], Strings(statement["Resource"]));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{ "StringEquals": { "kms:ViaService": "s3.REGION.amazonaws.com" } }"""), statement["Condition"]), statement.ToJsonString());
        // Any other KMS grant is on the repositories' key (docs/security.md, "Keys"), or setup's making of it.
        Assert.All(Files().Where(f => f is not "kms-policy.json" and not "setup-policy.json"), f => Assert.DoesNotContain(
            Statements(f), s => Strings(s["Action"]).Any(a => a.StartsWith("kms:", StringComparison.Ordinal)) && !Strings(s["Resource"]).SequenceEqual(["REPOSITORY_KEY_ARN"])));
    }

    /// <summary>
    /// What CloudFormation calls, as the person running setup or box add/remove, to create, update and delete each
    /// resource type of the templates (AWS's resource type reference, "Permissions" of each handler, trimmed to the
    /// properties the templates use). A type the templates start to use fails here until it is added, and then until
    /// setup-policy.json allows its calls. The bucket is never deleted (DeletionPolicy Retain).
    /// </summary>
    private static readonly Dictionary<string, string[]> ResourceTypeActions = new(StringComparer.Ordinal)
    {
        ["AWS::S3::Bucket"] =
        [
            "s3:CreateBucket", "s3:PutEncryptionConfiguration", "s3:GetEncryptionConfiguration", "s3:PutBucketPublicAccessBlock",
            "s3:PutBucketOwnershipControls", "s3:PutBucketVersioning", "s3:PutLifecycleConfiguration", "s3:PutBucketTagging",
        ],
        ["AWS::S3::BucketPolicy"] = ["s3:PutBucketPolicy", "s3:GetBucketPolicy", "s3:DeleteBucketPolicy"],
        ["AWS::IAM::Role"] = ["iam:CreateRole", "iam:GetRole", "iam:TagRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:DeleteRole"],
        ["AWS::IAM::InstanceProfile"] = ["iam:CreateInstanceProfile", "iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile", "iam:DeleteInstanceProfile"],
        ["AWS::IAM::ManagedPolicy"] = ["iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:DeletePolicyVersion", "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:DeletePolicy"],
        ["AWS::IAM::Policy"] = ["iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy"],
        ["AWS::EC2::SecurityGroup"] =
        [
            "ec2:CreateSecurityGroup", "ec2:DescribeSecurityGroups", "ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupEgress",
            "ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:CreateTags", "ec2:DeleteSecurityGroup",
        ],
        ["AWS::KMS::Key"] =
        [
            "kms:CreateKey", "kms:DescribeKey", "kms:EnableKeyRotation", "kms:GetKeyRotationStatus", "kms:GetKeyPolicy", "kms:PutKeyPolicy",
            "kms:ListResourceTags", "kms:TagResource", "kms:UpdateKeyDescription",
        ],
        ["AWS::KMS::Alias"] = ["kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias", "kms:ListAliases"],
        ["AWS::EC2::SecurityGroupIngress"] = ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:DescribeSecurityGroups"],
        ["AWS::EC2::InstanceConnectEndpoint"] =
        [
            "ec2:CreateInstanceConnectEndpoint", "ec2:CreateNetworkInterface", "ec2:CreateTags", "iam:CreateServiceLinkedRole",
            "ec2:DescribeInstanceConnectEndpoints", "ec2:DeleteInstanceConnectEndpoint",
        ],
    };

    [Fact]
    public async Task SetupPolicy_EveryResourceTypeOfTheTemplates_ItsCloudFormationCallsAreAllowed()
    {
        var types = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var file in new[] { "fleet.yaml", "box.yaml" })
        {
            foreach (var (_, resource) in (await CloudFormationTemplate.LoadAsync(file))["Resources"]!.AsObject())
            {
                types.Add((string)resource!["Type"]!);
            }
        }

        Assert.DoesNotContain(types, t => !ResourceTypeActions.ContainsKey(t));
        var allowed = Statements("setup-policy.json").Where(s => (string?)s["Effect"] == "Allow").SelectMany(s => Strings(s["Action"])).ToHashSet(StringComparer.Ordinal);
        var missing = types.SelectMany(t => ResourceTypeActions[t].Where(a => !allowed.Contains(a)).Select(a => $"{t}: {a}")).ToList();
        Assert.Empty(missing);
        // aws cloudformation deploy (a change set, waited on), setup's progress (the stack's events) and box remove.
        Assert.Subset(allowed, new HashSet<string>(StringComparer.Ordinal)
        {
            "cloudformation:CreateChangeSet", "cloudformation:DescribeChangeSet", "cloudformation:ExecuteChangeSet", "cloudformation:DescribeStacks",
            "cloudformation:DescribeStackEvents", "cloudformation:DeleteStack", "sts:GetCallerIdentity", "ec2:DescribeVpcs", "ec2:DescribeSubnets",
            "ec2:DescribeImages", "ec2:DescribeInstanceTypes",
        });
    }

    [Fact]
    public void SetupPolicy_NothingButWhatTheTemplatesAndSetupUse_AndNeverAWildcardResourceOnAWrite()
    {
        var readOnly = new HashSet<string>(StringComparer.Ordinal)
        {
            "sts:GetCallerIdentity", "ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeImages", "ec2:DescribeInstanceTypes",
            "ec2:DescribeSecurityGroups", "ec2:DescribeInstanceConnectEndpoints", "ec2:DescribeNetworkInterfaces", "cloudformation:ValidateTemplate",
            "kms:ListAliases",
        };

        // CreateKey names no key yet: it is bound to the fleet's tag on the request instead.
        var unscoped = Statements("setup-policy.json")
            .Where(s => (string?)s["Effect"] == "Allow" && Strings(s["Resource"]).Contains("*")
                && !(Strings(s["Action"]).SequenceEqual(["kms:CreateKey"]) && (s["Condition"]?.ToJsonString() ?? "").Contains("aws:RequestTag/spotdevbox:fleet", StringComparison.Ordinal)))
            .SelectMany(s => Strings(s["Action"]))
            .ToList();

        Assert.All(unscoped, a => Assert.Contains(a, readOnly));
        // Never the account's other stacks, roles or policies: every IAM and CloudFormation grant names spotdevbox.
        Assert.All(
            Statements("setup-policy.json").Where(s => Strings(s["Action"]).Any(a => a.StartsWith("iam:", StringComparison.Ordinal) || (a.StartsWith("cloudformation:", StringComparison.Ordinal) && a != "cloudformation:ValidateTemplate"))),
            s => Assert.All(Strings(s["Resource"]), r => Assert.Matches(@":(stack|role|instance-profile|policy)/(spotdevbox|aws-service-role/ec2-instance-connect\.amazonaws\.com/)", r)));
    }

    [Fact]
    public void PeoplePolicy_EveryGrantOnSomethingOwned_IsBoundToThePrincipalsOwnerTag()
    {
        const string variable = "${aws:PrincipalTag/spotdevbox:owner}";
        // Describes take no resource; the manifest is everyone's; subnets, groups and images carry no owner (images
        // are bound to the configured image owners instead); the SSH document is AWS's; an Instance Connect
        // Endpoint is shared and OpenTunnel never names the instance (docs/security.md: only the box's ssh keys
        // keep Bob out there). Sessions are bound to the caller's own user id. Everything else names the
        // principal's owner tag.
        const string userId = "${aws:userid}";
        var unowned = new HashSet<string>(StringComparer.Ordinal)
        {
            "DescribeCallsHaveNoResourceScope", "ReadTheAgentBuildsManifest", "LaunchUsesTheseWithoutTags", "LaunchOnlyImagesOfTheConfiguredOwners",
            "SessionsOnlyWithTheSshDocument", "TunnelOnlyToSshThroughTheBoxesEndpoints",
        };

        var unbound = Statements("people-policy.json")
            .Where(s => (string?)s["Effect"] == "Allow" && !unowned.Contains((string)s["Sid"]!))
            .Where(s => !(s["Condition"]?.ToJsonString() ?? "").Contains(variable, StringComparison.Ordinal)
                && !Strings(s["Resource"]).All(r => r.Contains(variable, StringComparison.Ordinal) || r.Contains(userId, StringComparison.Ordinal)))
            .Select(s => (string?)s["Sid"])
            .ToList();

        Assert.Empty(unbound);
        Assert.Equal(unowned.Order(StringComparer.Ordinal), Statements("people-policy.json").Select(s => (string)s["Sid"]!).Where(unowned.Contains).Order(StringComparer.Ordinal));
    }

    private static List<string> Files() =>
        [.. Directory.EnumerateFiles(IamDir, "*.json").Select(f => Path.GetFileName(f)).Where(f => f != KeyPolicyFile).Order(StringComparer.Ordinal)];

    private static List<JsonNode> Statements(string file) =>
        [.. JsonNode.Parse(File.ReadAllText(Path.Combine(IamDir, file)))!["Statement"]!.AsArray().Select(s => s!)];

    private static IReadOnlyList<string> Strings(JsonNode? value) => value switch
    {
        null => [],
        JsonArray array => [.. array.Select(v => (string)v!)],
        _ => [(string)value!],
    };
}
