using System.Text.Json.Nodes;

namespace SpotDevBox.Tests.Deploy;

/// <summary>
/// What the templates of deploy/cloudformation declare where moto 5.2.2 cannot show it after a deploy
/// (<see cref="CloudFormationDeployTests"/> deploys them): moto's AWS::S3::Bucket applies only BucketEncryption and
/// Tags (not VersioningConfiguration, PublicAccessBlockConfiguration nor LifecycleConfiguration), it does not
/// implement AWS::S3::BucketPolicy, and it computes no Outputs for a stack made through a change set, which is how
/// <c>aws cloudformation deploy</c> makes one. Expected values are written from the brief of each setting.
/// </summary>
public sealed class CloudFormationTemplateTests
{
    private static async Task<JsonObject> FleetAsync() => await CloudFormationTemplate.LoadAsync("fleet.yaml");

    private static JsonNode Parse(string json) => JsonNode.Parse(json)!;

    private static void AssertJson(string expected, JsonNode? actual) =>
        Assert.True(JsonNode.DeepEquals(Parse(expected), actual), $"expected {Parse(expected).ToJsonString()}\nactual   {actual?.ToJsonString()}");

    [Fact]
    public async Task FleetBucket_DeletingOrReplacingTheStack_RetainsTheBucket()
    {
        var bucket = (await FleetAsync())["Resources"]!["Bucket"]!;

        Assert.Equal("AWS::S3::Bucket", (string?)bucket["Type"]);
        Assert.Equal("Retain", (string?)bucket["DeletionPolicy"]);
        Assert.Equal("Retain", (string?)bucket["UpdateReplacePolicy"]);
    }

    [Fact]
    public async Task FleetBucket_VersionedPrivateAndExpiresOnlyOldVersionsAndIncompleteUploads()
    {
        var fleet = await FleetAsync();
        var properties = fleet["Resources"]!["Bucket"]!["Properties"]!;

        AssertJson("""{ "Status": "Enabled" }""", properties["VersioningConfiguration"]);
        AssertJson("""{ "BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true }""", properties["PublicAccessBlockConfiguration"]);
        AssertJson("""{ "Rules": [ { "ObjectOwnership": "BucketOwnerEnforced" } ] }""", properties["OwnershipControls"]);
        // Bucket-wide (no Filter or Prefix): no current version ever expires; an old one after HistoryDays.
        AssertJson(
            """
            { "Rules": [
                { "Id": "spotdevbox-abort-incomplete-uploads", "Status": "Enabled", "AbortIncompleteMultipartUpload": { "DaysAfterInitiation": 1 } },
                { "Id": "spotdevbox-expire-old-versions", "Status": "Enabled", "NoncurrentVersionExpiration": { "NoncurrentDays": { "Ref": "HistoryDays" } } }
            ] }
            """,
            properties["LifecycleConfiguration"]);
        AssertJson("""{ "Type": "Number", "Default": 30, "MinValue": 1, "Description": "Days an overwritten or deleted object's old version is kept before the lifecycle rule expires it (what 'recover' can reach)." }""", fleet["Parameters"]!["HistoryDays"]);
    }

    [Fact]
    public async Task FleetBucket_Encryption_SseS3UnlessAKmsKeyIsGiven()
    {
        var fleet = await FleetAsync();

        AssertJson("""{ "Fn::Not": [ { "Fn::Equals": [ { "Ref": "KmsKeyArn" }, "" ] } ] }""", fleet["Conditions"]!["UseKms"]);
        Assert.Equal("", (string?)fleet["Parameters"]!["KmsKeyArn"]!["Default"]);
        AssertJson(
            """
            { "ServerSideEncryptionConfiguration": [ {
                "ServerSideEncryptionByDefault": { "Fn::If": [ "UseKms", { "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": { "Ref": "KmsKeyArn" } }, { "SSEAlgorithm": "AES256" } ] },
                "BucketKeyEnabled": { "Fn::If": [ "UseKms", true, { "Ref": "AWS::NoValue" } ] } } ] }
            """,
            fleet["Resources"]!["Bucket"]!["Properties"]!["BucketEncryption"]);
    }

    [Fact]
    public async Task FleetBucketPolicy_DeniesEveryoneWithoutTlsAndUploadsWithoutEncryption()
    {
        var policy = (await FleetAsync())["Resources"]!["BucketPolicy"]!;

        Assert.Equal("AWS::S3::BucketPolicy", (string?)policy["Type"]);
        AssertJson("""{ "Ref": "Bucket" }""", policy["Properties"]!["Bucket"]);
        AssertJson(
            """
            { "Version": "2012-10-17", "Statement": [
                { "Sid": "DenyWithoutTls", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                  "Resource": [ { "Fn::Sub": "arn:aws:s3:::${Bucket}" }, { "Fn::Sub": "arn:aws:s3:::${Bucket}/*" } ],
                  "Condition": { "Bool": { "aws:SecureTransport": "false" } } },
                { "Sid": "DenyUnencryptedPuts", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
                  "Resource": { "Fn::Sub": "arn:aws:s3:::${Bucket}/*" },
                  "Condition": { "Null": { "s3:x-amz-server-side-encryption": "true" } } }
            ] }
            """,
            policy["Properties"]!["PolicyDocument"]);
    }

    /// <summary>
    /// The bucket policy decided by the policy evaluator for a principal whose own policy allows every S3 action (an
    /// administrator): its Deny statements name every principal ("*"), so they decide as the requester's own would.
    /// </summary>
    [Fact]
    public async Task FleetBucketPolicy_Evaluated_RefusesPlainHttpAndUnencryptedUploadsEvenToAnAdministrator()
    {
        var document = (await FleetAsync())["Resources"]!["BucketPolicy"]!["Properties"]!["PolicyDocument"]!;
        var resolved = CloudFormationTemplate.Resolve(document, new Dictionary<string, JsonNode>(StringComparer.Ordinal) { ["Bucket"] = IamEvaluator.Bucket })!;
        foreach (var statement in resolved["Statement"]!.AsArray())
        {
            Assert.Equal("*", (string?)statement!["Principal"]);
            statement.AsObject().Remove("Principal");
        }

        var administrator = Parse("""{ "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": "s3:*", "Resource": "*" } ] }""");
        const string Principal = "arn:aws:iam::123456789012:user/admin";
        var key = $"arn:aws:s3:::{IamEvaluator.Bucket}/boxes/alice/alice-dev/repo/config";
        var bucket = $"arn:aws:s3:::{IamEvaluator.Bucket}";
        static Dictionary<string, object> Context(bool tls, string? sse = null)
        {
            var context = new Dictionary<string, object>(StringComparer.Ordinal) { ["aws:SecureTransport"] = tls ? "true" : "false" };
            if (sse is not null)
            {
                context["s3:x-amz-server-side-encryption"] = sse;
            }

            return context;
        }

        var decisions = IamEvaluator.Decide(
            [administrator, resolved],
            [
                new(Principal, "s3:GetObject", key, Context(tls: true)),
                new(Principal, "s3:PutObject", key, Context(tls: true, sse: "AES256")),
                new(Principal, "s3:PutObject", key, Context(tls: true, sse: "aws:kms")),
                new(Principal, "s3:ListBucket", bucket, Context(tls: true)),
                new(Principal, "s3:GetObject", key, Context(tls: false)),
                new(Principal, "s3:ListBucket", bucket, Context(tls: false)),
                new(Principal, "s3:PutObject", key, Context(tls: false, sse: "AES256")),
                new(Principal, "s3:PutObject", key, Context(tls: true)),
            ]);

        Assert.Equal(
            ["Allowed", "Allowed", "Allowed", "Allowed", "ExplicitlyDenied", "ExplicitlyDenied", "ExplicitlyDenied", "ExplicitlyDenied"],
            decisions);
    }

    [Fact]
    public async Task FleetParameters_OnlyTheVpcHasNoDefault_AndNoPortIsOpenByDefault()
    {
        var parameters = (await FleetAsync())["Parameters"]!.AsObject();

        Assert.Equal(["VpcId"], parameters.Where(p => p.Value!["Default"] is null).Select(p => p.Key));
        Assert.Equal("", (string?)parameters["SshCidr"]!["Default"]);
        Assert.Equal("false", (string?)parameters["ControllerOnEc2"]!["Default"]);
        Assert.Equal("amazon", (string?)parameters["ImageOwners"]!["Default"]);
        Assert.Equal("boxes", (string?)parameters["Root"]!["Default"]);
        Assert.Equal("spotdevbox/agent", (string?)parameters["AgentBuildsPrefix"]!["Default"]);
    }

    [Fact]
    public async Task FleetOutputs_WhatTheConfigurationAndBoxStacksNeed()
    {
        var outputs = (await FleetAsync())["Outputs"]!.AsObject();

        AssertJson(
            """
            {
              "Bucket": { "Ref": "Bucket" },
              "Root": { "Ref": "Root" },
              "AgentBuildsPrefix": { "Ref": "AgentBuildsPrefix" },
              "AgentBuilds": { "Fn::Sub": "s3://${Bucket}/${AgentBuildsPrefix}" },
              "StorageRoot": { "Fn::Sub": "s3://${Bucket}/${Root}" },
              "SecurityGroupId": { "Ref": "BoxSecurityGroup" },
              "ControllerRoleArn": { "Fn::GetAtt": [ "ControllerRole", "Arn" ] },
              "ControllerInstanceProfileName": { "Ref": "ControllerInstanceProfile" },
              "ControllerPolicyArn": { "Ref": "ControllerPolicy" },
              "PeoplePolicyArn": { "Ref": "PeoplePolicy" },
              "OperatorPolicyArn": { "Ref": "OperatorPolicy" }
            }
            """,
            new JsonObject(outputs.Select(o => KeyValuePair.Create(o.Key, o.Value!["Value"]?.DeepClone()))));
        Assert.Equal("ControllerRunsOnEc2", (string?)outputs["ControllerInstanceProfileName"]!["Condition"]);
    }

    [Fact]
    public async Task BoxTemplate_HoldsNoData_AndOutputsItsInstanceProfileAndStorage()
    {
        var box = await CloudFormationTemplate.LoadAsync("box.yaml");

        Assert.Equal(["AWS::IAM::Role", "AWS::IAM::InstanceProfile"], box["Resources"]!.AsObject().Select(r => (string?)r.Value!["Type"]));
        AssertJson(
            """
            {
              "InstanceProfileName": { "Ref": "InstanceProfile" },
              "InstanceProfileArn": { "Fn::GetAtt": [ "InstanceProfile", "Arn" ] },
              "RoleArn": { "Fn::GetAtt": [ "Role", "Arn" ] },
              "Storage": { "Fn::Sub": "s3://${Bucket}/${Root}/${Owner}/${Box}" },
              "WebhookParameterPath": { "Fn::Sub": "/spotdevbox/${Box}/" }
            }
            """,
            new JsonObject(box["Outputs"]!.AsObject().Select(o => KeyValuePair.Create(o.Key, o.Value!["Value"]?.DeepClone()))));
    }
}
