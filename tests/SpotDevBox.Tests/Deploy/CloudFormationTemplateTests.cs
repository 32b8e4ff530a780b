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

    /// <summary>Deleting the key would make every repository it wraps unreadable: it stays, and its ARN is an output.</summary>
    [Fact]
    public async Task RepositoryKey_DeletingOrReplacingTheStack_RetainsTheKey_ArnIsAnOutput()
    {
        var fleet = await FleetAsync();
        var key = fleet["Resources"]!["RepositoryKey"]!;

        Assert.Equal("AWS::KMS::Key", (string?)key["Type"]);
        Assert.Equal("Retain", (string?)key["DeletionPolicy"]);
        Assert.Equal("Retain", (string?)key["UpdateReplacePolicy"]);
        Assert.Equal(true, (bool?)key["Properties"]!["EnableKeyRotation"]);
        AssertJson("""{"Fn::Sub":"alias/spotdevbox/${AWS::StackName}/repositories"}""", fleet["Resources"]!["RepositoryKeyAlias"]!["Properties"]!["AliasName"]);
        AssertJson("""{"Fn::GetAtt":["RepositoryKey","Arn"]}""", fleet["Outputs"]!["RepositoryKeyArn"]!["Value"]);
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
              "KmsKeyArn": { "Ref": "KmsKeyArn" },
              "RepositoryKeyArn": { "Fn::GetAtt": [ "RepositoryKey", "Arn" ] },
              "RepositoryKeyAlias": { "Ref": "RepositoryKeyAlias" },
              "SshVia": { "Ref": "SshVia" },
              "InstanceConnectEndpointId": { "Ref": "InstanceConnectEndpoint" },
              "ControllerRoleArn": { "Fn::GetAtt": [ "ControllerRole", "Arn" ] },
              "ControllerInstanceProfileName": { "Ref": "ControllerInstanceProfile" },
              "ControllerPolicyArn": { "Ref": "ControllerPolicy" },
              "KmsPolicyArn": { "Ref": "KmsPolicy" },
              "PeoplePolicyArn": { "Ref": "PeoplePolicy" },
              "OperatorPolicyArn": { "Ref": "OperatorPolicy" }
            }
            """,
            new JsonObject(outputs.Select(o => KeyValuePair.Create(o.Key, o.Value!["Value"]?.DeepClone()))));
        Assert.Equal("ControllerRunsOnEc2", (string?)outputs["ControllerInstanceProfileName"]!["Condition"]);
        Assert.Equal("ViaInstanceConnect", (string?)outputs["InstanceConnectEndpointId"]!["Condition"]);
        Assert.Equal("UseKms", (string?)outputs["KmsPolicyArn"]!["Condition"]);
        Assert.Equal("UseKms", (string?)outputs["KmsKeyArn"]!["Condition"]);
    }

    /// <summary>
    /// moto 5.2.2 skips AWS::EC2::InstanceConnectEndpoint (listing it with an empty physical id), so its properties are
    /// held here; the two security groups and the rule between them are deployed in CloudFormationDeployTests.
    /// </summary>
    [Fact]
    public async Task FleetInstanceConnectEndpoint_InTheGivenSubnet_TaggedForTunnels_BehindItsOwnSecurityGroup()
    {
        var fleet = await FleetAsync();
        var resources = fleet["Resources"]!;

        AssertJson(
            """
            { "Type": "AWS::EC2::InstanceConnectEndpoint", "Condition": "ViaInstanceConnect",
              "Properties": {
                "SubnetId": { "Ref": "EndpointSubnetId" },
                "SecurityGroupIds": [ { "Fn::GetAtt": [ "InstanceConnectEndpointSecurityGroup", "GroupId" ] } ],
                "PreserveClientIp": false,
                "Tags": [ { "Key": "spotdevbox:ssh", "Value": "true" }, { "Key": "spotdevbox:fleet", "Value": { "Ref": "AWS::StackName" } } ] } }
            """,
            resources["InstanceConnectEndpoint"]);
        AssertJson(
            """
            [ { "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "DestinationSecurityGroupId": { "Fn::GetAtt": [ "BoxSecurityGroup", "GroupId" ] },
                "Description": "SSH to the boxes only" } ]
            """,
            resources["InstanceConnectEndpointSecurityGroup"]!["Properties"]!["SecurityGroupEgress"]);
        Assert.Null(resources["InstanceConnectEndpointSecurityGroup"]!["Properties"]!["SecurityGroupIngress"]);
        Assert.Equal("ViaInstanceConnect", (string?)resources["InstanceConnectEndpointSecurityGroup"]!["Condition"]);
        AssertJson(
            """
            { "Type": "AWS::EC2::SecurityGroupIngress", "Condition": "ViaInstanceConnect",
              "Properties": { "GroupId": { "Fn::GetAtt": [ "BoxSecurityGroup", "GroupId" ] }, "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                "SourceSecurityGroupId": { "Fn::GetAtt": [ "InstanceConnectEndpointSecurityGroup", "GroupId" ] },
                "Description": "SSH from the Instance Connect Endpoint only" } }
            """,
            resources["BoxSshFromInstanceConnectEndpoint"]);
        AssertJson("""{ "Fn::Equals": [ { "Ref": "SshVia" }, "instance-connect" ] }""", fleet["Conditions"]!["ViaInstanceConnect"]);
    }

    [Fact]
    public async Task FleetSshVia_DefaultInstanceConnect_SshCidrOnlyWithDirect()
    {
        var fleet = await FleetAsync();
        var parameters = fleet["Parameters"]!;

        Assert.Equal("instance-connect", (string?)parameters["SshVia"]!["Default"]);
        AssertJson("""[ "instance-connect", "ssm", "direct" ]""", parameters["SshVia"]!["AllowedValues"]);
        Assert.Equal("", (string?)parameters["EndpointSubnetId"]!["Default"]);
        Assert.Contains("Required when SshVia is instance-connect", (string?)parameters["EndpointSubnetId"]!["Description"], StringComparison.Ordinal);
        Assert.Contains("Required when SshVia is direct", (string?)parameters["SshCidr"]!["Description"], StringComparison.Ordinal);
        AssertJson("""{ "Fn::Equals": [ { "Ref": "SshVia" }, "direct" ] }""", fleet["Conditions"]!["ViaDirect"]);
        AssertJson(
            """
            { "Fn::If": [ "ViaDirect",
                [ { "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": { "Ref": "SshCidr" }, "Description": "SSH from SshCidr only" } ],
                { "Ref": "AWS::NoValue" } ] }
            """,
            fleet["Resources"]!["BoxSecurityGroup"]!["Properties"]!["SecurityGroupIngress"]);
        // SshCidr is read nowhere else: with instance-connect or ssm it opens nothing.
        var uses = fleet["Resources"]!.ToJsonString().Split("\"Ref\":\"SshCidr\"").Length - 1;
        Assert.Equal(1, uses);
    }

    /// <summary>CloudFormation refuses the parameters before it makes anything when a Rule's assertion fails.</summary>
    [Fact]
    public async Task FleetRules_RefuseInstanceConnectWithoutASubnetAndDirectWithoutACidr()
    {
        AssertJson(
            """
            {
              "InstanceConnectNeedsAnEndpointSubnet": {
                "RuleCondition": { "Fn::Equals": [ { "Ref": "SshVia" }, "instance-connect" ] },
                "Assertions": [ { "Assert": { "Fn::Not": [ { "Fn::Equals": [ { "Ref": "EndpointSubnetId" }, "" ] } ] },
                  "AssertDescription": "SshVia instance-connect needs EndpointSubnetId, a subnet of VpcId for the EC2 Instance Connect Endpoint." } ]
              },
              "DirectNeedsSshCidr": {
                "RuleCondition": { "Fn::Equals": [ { "Ref": "SshVia" }, "direct" ] },
                "Assertions": [ { "Assert": { "Fn::Not": [ { "Fn::Equals": [ { "Ref": "SshCidr" }, "" ] } ] },
                  "AssertDescription": "SshVia direct needs SshCidr, the one IPv4 CIDR port 22 is opened to." } ]
              }
            }
            """,
            (await FleetAsync())["Rules"]);
    }

    /// <summary>Only with KmsKeyArn; the fleet's on the controller's role, the box's inline on the box's role (CloudFormationPolicyTests compares the documents).</summary>
    [Fact]
    public async Task Templates_KmsPolicy_OnlyWithAKey_OnTheControllersAndTheBoxsRoles()
    {
        var fleet = (await FleetAsync())["Resources"]!["KmsPolicy"]!;
        var box = (await CloudFormationTemplate.LoadAsync("box.yaml"))["Resources"]!["KmsPolicy"]!;

        Assert.Equal(("AWS::IAM::ManagedPolicy", "UseKms"), ((string?)fleet["Type"], (string?)fleet["Condition"]));
        AssertJson("""[ { "Ref": "ControllerRole" } ]""", fleet["Properties"]!["Roles"]);
        Assert.Equal(("AWS::IAM::Policy", "UseKms"), ((string?)box["Type"], (string?)box["Condition"]));
        Assert.Equal("spotdevbox-box-kms", (string?)box["Properties"]!["PolicyName"]);
        AssertJson("""[ { "Ref": "Role" } ]""", box["Properties"]!["Roles"]);
    }

    [Fact]
    public async Task Templates_KmsKeyArn_OnlyAKeyArnNeverAnAlias_TheKeyTheGrantsName()
    {
        foreach (var file in new[] { "fleet.yaml", "box.yaml" })
        {
            var parameter = (await CloudFormationTemplate.LoadAsync(file))["Parameters"]!["KmsKeyArn"]!;
            var pattern = new System.Text.RegularExpressions.Regex((string)parameter["AllowedPattern"]!);

            Assert.Equal("", (string?)parameter["Default"]);
            Assert.Matches(pattern, "");
            Assert.Matches(pattern, "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9");
            Assert.DoesNotMatch(pattern, "arn:aws:kms:us-east-1:123456789012:alias/spotdevbox");
        }
    }

    [Fact]
    public async Task BoxTemplate_HoldsNoData_AndOutputsItsInstanceProfileAndStorage()
    {
        var box = await CloudFormationTemplate.LoadAsync("box.yaml");

        Assert.Equal(["AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::Policy", "AWS::IAM::InstanceProfile"], box["Resources"]!.AsObject().Select(r => (string?)r.Value!["Type"]));
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
