using System.Text.Json.Nodes;
using static SpotDevBox.Tests.Deploy.IamEvaluator;

namespace SpotDevBox.Tests.Deploy;

/// <summary>
/// The policies of deploy/iam, rendered with example values, decided by a policy evaluator on the requests each
/// attack would send (all refused) and on the requests the code sends for its own work (all allowed). The example:
/// account 123456789012, bucket team-boxes, ROOT boxes; Alice (principal tag spotdevbox:owner=alice) owns the box
/// alice-dev at boxes/alice/alice-dev, whose role and instance profile are /spotdevbox/alice/alice-dev; Bob owns
/// bob-dev. The configured image owners are Amazon and 111122223333.
/// </summary>
public sealed class IamPolicyEvaluatorTests
{
    private const string Region = "us-east-1";
    private const string OtherImageOwner = "999988887777";

    private static string S3(string key) => $"arn:aws:s3:::{Bucket}/{key}";

    private static readonly string BucketArn = $"arn:aws:s3:::{Bucket}";
    private static readonly string ControllerArn = $"arn:aws:iam::{Account}:role/spotdevbox-controller";
    private static readonly string BoxRoleSession = $"arn:aws:sts::{Account}:assumed-role/alice-dev/i-0a1b2c3d4e5f60718";
    private static readonly string OperatorArn = $"arn:aws:iam::{Account}:user/olga";
    private static readonly string SetupArn = $"arn:aws:iam::{Account}:user/ada-admin";

    private static string Stack(string name) => $"arn:aws:cloudformation:{Region}:{Account}:stack/{name}/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9";

    private static string Person(string owner) => $"arn:aws:iam::{Account}:user/{owner}";

    private static string Profile(string owner, string box) => $"arn:aws:iam::{Account}:instance-profile/spotdevbox/{owner}/{box}";

    private static string Role(string owner, string box) => $"arn:aws:iam::{Account}:role/spotdevbox/{owner}/{box}";

    private static string Ec2(string type, string id) => $"arn:aws:ec2:{Region}:{Account}:{type}/{id}";

    private static Dictionary<string, object> Tagged(string? principalOwner, params (string Key, object Value)[] context)
    {
        var result = context.ToDictionary(c => c.Key, c => c.Value, StringComparer.Ordinal);
        if (principalOwner is not null)
        {
            result["aws:PrincipalTag/spotdevbox:owner"] = principalOwner;
        }

        return result;
    }

    /// <summary>
    /// What one RunInstances of <c>Ec2ComputeGateway</c> asks IAM, resource by resource (each must be allowed), plus the
    /// tagging on create and the role passed with the instance profile.
    /// </summary>
    private static List<IamRequest> Launch(
        string principal, string? principalOwner, string ownerTag, string box, string profileOwner, string imageOwner, string roleOwner, string roleTagOwner)
    {
        (string, object)[] tags =
        [
            ("aws:RequestTag/spotdevbox:box", box),
            ("aws:RequestTag/spotdevbox:owner", ownerTag),
            ("aws:RequestTag/spotdevbox:session", "s-20261207-0900"),
            ("aws:RequestTag/Name", box),
            ("aws:TagKeys", new[] { "spotdevbox:box", "spotdevbox:owner", "spotdevbox:session", "Name" }),
        ];
        return
        [
            new(principal, "ec2:RunInstances", Ec2("instance", "*"), Tagged(principalOwner, [.. tags, ("ec2:InstanceProfile", Profile(profileOwner, box))])),
            new(principal, "ec2:RunInstances", Ec2("volume", "*"), Tagged(principalOwner, tags)),
            new(principal, "ec2:RunInstances", $"arn:aws:ec2:{Region}::image/ami-0123456789abcdef0", Tagged(principalOwner, ("ec2:Owner", imageOwner))),
            new(principal, "ec2:RunInstances", Ec2("subnet", "subnet-0aaa1111"), Tagged(principalOwner)),
            new(principal, "ec2:RunInstances", Ec2("security-group", "sg-0bbb2222"), Tagged(principalOwner)),
            new(principal, "ec2:RunInstances", Ec2("network-interface", "*"), Tagged(principalOwner)),
            new(principal, "ec2:RunInstances", Ec2("key-pair", "alice-laptop"), Tagged(principalOwner)),
            new(principal, "ec2:RunInstances", Ec2("spot-instances-request", "*"), Tagged(principalOwner)),
            new(principal, "ec2:CreateTags", Ec2("instance", "*"), Tagged(principalOwner, [.. tags, ("ec2:CreateAction", "RunInstances")])),
            new(principal, "ec2:CreateTags", Ec2("volume", "*"), Tagged(principalOwner, [.. tags, ("ec2:CreateAction", "RunInstances")])),
            new(principal, "iam:PassRole", Role(roleOwner, box), Tagged(principalOwner,
                ("iam:PassedToService", "ec2.amazonaws.com"), ("iam:ResourceTag/spotdevbox:owner", roleTagOwner), ("aws:ResourceTag/spotdevbox:owner", roleTagOwner))),
        ];
    }

    private static List<IamRequest> PersonLaunch(string owner, string box) =>
        Launch(Person(owner), owner, owner, box, owner, "amazon", owner, owner);

    private static IamRequest Get(string principal, string? owner, string key) => new(principal, "s3:GetObject", S3(key), Tagged(owner));

    private static IamRequest Put(string principal, string? owner, string key) =>
        new(principal, "s3:PutObject", S3(key), Tagged(owner, ("s3:x-amz-server-side-encryption", "AES256")));

    private static IamRequest Delete(string principal, string? owner, string key) => new(principal, "s3:DeleteObject", S3(key), Tagged(owner));

    private static IamRequest List(string principal, string? owner, string prefix) =>
        new(principal, "s3:ListBucket", BucketArn, Tagged(owner, ("s3:prefix", prefix)));

    private static string Endpoint(string id) => Ec2("instance-connect-endpoint", id);

    /// <summary>What <c>aws ec2-instance-connect open-tunnel</c> asks IAM: the endpoint, the port, the instance's private address.</summary>
    private static IamRequest Tunnel(string principal, string owner, int port = 22, string? endpointTag = "true") =>
        new(principal, "ec2-instance-connect:OpenTunnel", Endpoint("eice-0a1b2c3d4e5f60718"), Tagged(owner,
        [
            // Context values reach IAM as strings; the evaluator compares a number given as one.
            ("ec2-instance-connect:remotePort", port.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("ec2-instance-connect:privateIpAddress", "10.0.1.30"),
            .. endpointTag is null ? Array.Empty<(string, object)>() : [("aws:ResourceTag/spotdevbox:ssh", endpointTag)],
        ]));

    /// <summary>What <c>aws ssm start-session --document-name D</c> asks IAM: the instance (with its tags) and the document.</summary>
    private static List<IamRequest> Session(string principal, string owner, string instanceOwner, string document = "AWS-StartSSHSession") =>
    [
        new(principal, "ssm:StartSession", Ec2("instance", "i-0a1b2c3d4e5f60718"), Tagged(owner,
            ("ssm:resourceTag/spotdevbox:owner", instanceOwner), ("aws:ResourceTag/spotdevbox:owner", instanceOwner), ("ssm:SessionDocumentAccessCheck", "true"))),
        // AWS's own documents are named without an account (arn:aws:ssm:REGION::document/...), which the evaluator's ARN
        // patterns do not take; the policy's arn:aws:ssm:*:*:document/ matches both forms.
        new(principal, "ssm:StartSession", $"arn:aws:ssm:{Region}:{Account}:document/{document}", Tagged(owner, ("ssm:SessionDocumentAccessCheck", "true"))),
    ];

    private static IamRequest OnBucket(string principal, string action) => new(principal, action, BucketArn, Tagged(null));

    /// <summary>An attack: the policy it runs under, and the one request of it that must be refused.</summary>
    private sealed record Attack(string Policy, IamRequest Request);

    private static readonly Dictionary<string, Attack> Attacks = new(StringComparer.Ordinal)
    {
        // A teammate (people-policy.json).
        ["bob-launches-with-alices-instance-profile"] = new("people-policy.json",
            Launch(Person("bob"), "bob", "bob", "bob-dev", profileOwner: "alice", "amazon", "bob", "bob")[0]),
        ["bob-launches-an-instance-tagged-owner-alice"] = new("people-policy.json",
            Launch(Person("bob"), "bob", ownerTag: "alice", "alice-dev", "bob", "amazon", "bob", "bob")[0]),
        ["bob-launches-a-volume-tagged-owner-alice"] = new("people-policy.json",
            Launch(Person("bob"), "bob", ownerTag: "alice", "alice-dev", "bob", "amazon", "bob", "bob")[1]),
        ["bob-launches-an-instance-without-a-box-tag"] = new("people-policy.json",
            new(Person("bob"), "ec2:RunInstances", Ec2("instance", "*"), Tagged("bob", ("aws:RequestTag/spotdevbox:owner", "bob"), ("ec2:InstanceProfile", Profile("bob", "bob-dev"))))),
        ["bob-passes-alices-role"] = new("people-policy.json",
            Launch(Person("bob"), "bob", "bob", "alice-dev", "bob", "amazon", roleOwner: "alice", roleTagOwner: "alice")[10]),
        ["bob-passes-a-role-on-his-path-tagged-owner-alice"] = new("people-policy.json",
            Launch(Person("bob"), "bob", "bob", "bob-dev", "bob", "amazon", roleOwner: "bob", roleTagOwner: "alice")[10]),
        ["bob-launches-an-image-of-an-unconfigured-owner"] = new("people-policy.json",
            Launch(Person("bob"), "bob", "bob", "bob-dev", "bob", imageOwner: OtherImageOwner, "bob", "bob")[2]),
        ["a-person-without-an-owner-tag-launches"] = new("people-policy.json",
            Launch(Person("mallory"), principalOwner: null, "alice", "alice-dev", "alice", "amazon", "alice", "alice")[0]),
        ["bob-terminates-alices-instance"] = new("people-policy.json",
            new(Person("bob"), "ec2:TerminateInstances", Ec2("instance", "i-0a1b2c3d4e5f60718"), Tagged("bob", ("aws:ResourceTag/spotdevbox:box", "alice-dev"), ("aws:ResourceTag/spotdevbox:owner", "alice")))),
        ["bob-associates-alices-elastic-ip"] = new("people-policy.json",
            new(Person("bob"), "ec2:AssociateAddress", Ec2("elastic-ip", "eipalloc-0a1b2c3d4e5f60718"), Tagged("bob", ("aws:ResourceTag/spotdevbox:owner", "alice")))),
        ["bob-associates-an-address-with-alices-instance"] = new("people-policy.json",
            new(Person("bob"), "ec2:AssociateAddress", Ec2("instance", "i-0a1b2c3d4e5f60718"), Tagged("bob", ("aws:ResourceTag/spotdevbox:owner", "alice")))),
        ["bob-writes-alices-control-json"] = new("people-policy.json", Put(Person("bob"), "bob", "boxes/alice/alice-dev/control.json")),
        ["bob-writes-alices-launch-json"] = new("people-policy.json", Put(Person("bob"), "bob", "boxes/alice/alice-dev/launch.json")),
        ["bob-reads-alices-backups"] = new("people-policy.json", Get(Person("bob"), "bob", "boxes/alice/alice-dev/repo/config")),
        ["bob-reads-alices-host-keys"] = new("people-policy.json", Get(Person("bob"), "bob", "boxes/alice/alice-dev/host-keys/config")),
        ["bob-reads-his-own-boxs-backups"] = new("people-policy.json", Get(Person("bob"), "bob", "boxes/bob/bob-dev/repo/config")),
        ["bob-lists-alices-prefix"] = new("people-policy.json", List(Person("bob"), "bob", "boxes/alice/")),
        ["bob-writes-his-own-budget-override"] = new("people-policy.json", Put(Person("bob"), "bob", "boxes/_operator/budget-overrides/bob/bob-dev.json")),
        ["bob-reads-alices-budget-override"] = new("people-policy.json", Get(Person("bob"), "bob", "boxes/_operator/budget-overrides/alice/alice-dev.json")),
        ["bob-starts-a-session-on-alices-instance"] = new("people-policy.json", Session(Person("bob"), "bob", instanceOwner: "alice")[0]),
        ["alice-starts-a-shell-session-instead-of-ssh"] = new("people-policy.json", Session(Person("alice"), "alice", "alice", document: "SSM-SessionManagerRunShell")[1]),
        ["bob-ends-alices-session"] = new("people-policy.json",
            new(Person("bob"), "ssm:TerminateSession", $"arn:aws:ssm:{Region}:{Account}:session/AIDAALICEEXAMPLE-0a1b2c3d4e5f60718", Tagged("bob", ("aws:userid", "AIDABOBEXAMPLE")))),
        ["bob-tunnels-to-a-port-other-than-ssh"] = new("people-policy.json", Tunnel(Person("bob"), "bob", port: 8080)),
        ["bob-tunnels-through-an-endpoint-not-tagged-for-the-boxes"] = new("people-policy.json", Tunnel(Person("bob"), "bob", endpointTag: null)),

        // The box's role (box-policy.json for alice-dev).
        ["box-writes-its-control-json"] = new("box-policy.json", Put(BoxRoleSession, null, "boxes/alice/alice-dev/control.json")),
        ["box-writes-its-launch-json"] = new("box-policy.json", Put(BoxRoleSession, null, "boxes/alice/alice-dev/launch.json")),
        ["box-deletes-its-control-json"] = new("box-policy.json", Delete(BoxRoleSession, null, "boxes/alice/alice-dev/control.json")),
        ["box-deletes-an-object-version"] = new("box-policy.json",
            new(BoxRoleSession, "s3:DeleteObjectVersion", S3("boxes/alice/alice-dev/repo/snapshots/0a1b"), Tagged(null))),
        ["box-changes-versioning"] = new("box-policy.json", OnBucket(BoxRoleSession, "s3:PutBucketVersioning")),
        ["box-changes-the-lifecycle"] = new("box-policy.json", OnBucket(BoxRoleSession, "s3:PutLifecycleConfiguration")),
        ["box-changes-the-bucket-policy"] = new("box-policy.json", OnBucket(BoxRoleSession, "s3:PutBucketPolicy")),
        ["box-deletes-the-bucket-policy"] = new("box-policy.json", OnBucket(BoxRoleSession, "s3:DeleteBucketPolicy")),
        ["box-writes-another-boxs-status"] = new("box-policy.json", Put(BoxRoleSession, null, "boxes/alice/alice-other/status.json")),
        ["box-writes-another-owners-repository"] = new("box-policy.json", Put(BoxRoleSession, null, "boxes/bob/bob-dev/repo/config")),
        ["box-reads-another-boxs-backups"] = new("box-policy.json", Get(BoxRoleSession, null, "boxes/bob/bob-dev/repo/config")),
        ["box-writes-a-budget-override"] = new("box-policy.json", Put(BoxRoleSession, null, "boxes/_operator/budget-overrides/alice/alice-dev.json")),
        ["box-writes-without-encryption"] = new("box-policy.json",
            new(BoxRoleSession, "s3:PutObject", S3("boxes/alice/alice-dev/status.json"), Tagged(null))),
        ["box-reads-another-boxs-ssm-parameter"] = new("box-policy.json",
            new(BoxRoleSession, "ssm:GetParameter", $"arn:aws:ssm:{Region}:{Account}:parameter/spotdevbox/bob-dev/webhook", Tagged(null))),
        ["box-writes-its-ssm-parameter"] = new("box-policy.json",
            new(BoxRoleSession, "ssm:PutParameter", $"arn:aws:ssm:{Region}:{Account}:parameter/spotdevbox/alice-dev/webhook", Tagged(null))),

        // The controller (controller-policy.json).
        ["controller-associates-an-untagged-elastic-ip"] = new("controller-policy.json",
            new(ControllerArn, "ec2:AssociateAddress", Ec2("elastic-ip", "eipalloc-0f0e0d0c0b0a09080"), Tagged(null))),
        ["controller-launches-an-image-of-another-owner"] = new("controller-policy.json",
            Launch(ControllerArn, null, "alice", "alice-dev", "alice", imageOwner: OtherImageOwner, "alice", "alice")[2]),
        ["controller-launches-with-a-profile-outside-spotdevbox"] = new("controller-policy.json",
            new(ControllerArn, "ec2:RunInstances", Ec2("instance", "*"), Tagged(null,
                ("aws:RequestTag/spotdevbox:box", "alice-dev"), ("aws:RequestTag/spotdevbox:owner", "alice"),
                ("ec2:InstanceProfile", $"arn:aws:iam::{Account}:instance-profile/admin")))),
        ["controller-passes-a-role-outside-spotdevbox"] = new("controller-policy.json",
            new(ControllerArn, "iam:PassRole", $"arn:aws:iam::{Account}:role/admin", Tagged(null, ("iam:PassedToService", "ec2.amazonaws.com")))),
        ["controller-terminates-an-untagged-instance"] = new("controller-policy.json",
            new(ControllerArn, "ec2:TerminateInstances", Ec2("instance", "i-0ffffffffffffffff"), Tagged(null))),
        ["controller-writes-a-budget-override"] = new("controller-policy.json", Put(ControllerArn, null, "boxes/_operator/budget-overrides/alice/alice-dev.json")),
        ["controller-writes-a-boxs-status"] = new("controller-policy.json", Put(ControllerArn, null, "boxes/alice/alice-dev/status.json")),
        ["controller-reads-a-boxs-backups"] = new("controller-policy.json", Get(ControllerArn, null, "boxes/alice/alice-dev/repo/config")),
        ["controller-deletes-a-boxs-backups"] = new("controller-policy.json", Delete(ControllerArn, null, "boxes/alice/alice-dev/repo/config")),

        // An operator (operator-policy.json).
        ["operator-writes-without-encryption"] = new("operator-policy.json",
            new(OperatorArn, "s3:PutObject", S3("boxes/_operator/budget-overrides/alice/alice-dev.json"), Tagged(null))),
        ["operator-deletes-an-object-version"] = new("operator-policy.json",
            new(OperatorArn, "s3:DeleteObjectVersion", S3("boxes/alice/alice-dev/repo/config"), Tagged(null))),
        ["operator-writes-outside-the-root"] = new("operator-policy.json", Put(OperatorArn, null, "spotdevbox/agent/manifest.json")),

        // Whoever runs setup and box add/remove (setup-policy.json): the fleet's stacks and what they make, nothing else.
        ["setup-deploys-another-stack"] = new("setup-policy.json", new(SetupArn, "cloudformation:CreateChangeSet", Stack("prod-database"), Tagged(null))),
        ["setup-deletes-another-stack"] = new("setup-policy.json", new(SetupArn, "cloudformation:DeleteStack", Stack("prod-database"), Tagged(null))),
        ["setup-creates-a-role-outside-spotdevbox"] = new("setup-policy.json", new(SetupArn, "iam:CreateRole", $"arn:aws:iam::{Account}:role/admin", Tagged(null))),
        ["setup-puts-a-policy-on-another-role"] = new("setup-policy.json", new(SetupArn, "iam:PutRolePolicy", $"arn:aws:iam::{Account}:role/admin", Tagged(null))),
        ["setup-attaches-a-policy-to-another-role"] = new("setup-policy.json", new(SetupArn, "iam:AttachRolePolicy", $"arn:aws:iam::{Account}:role/ci-deployer", Tagged(null))),
        ["setup-changes-another-managed-policy"] = new("setup-policy.json", new(SetupArn, "iam:CreatePolicyVersion", $"arn:aws:iam::{Account}:policy/AdministratorAccessForCi", Tagged(null))),
        ["setup-passes-another-role"] = new("setup-policy.json",
            new(SetupArn, "iam:PassRole", $"arn:aws:iam::{Account}:role/admin", Tagged(null, ("iam:PassedToService", "ec2.amazonaws.com")))),
        ["setup-passes-a-box-role-to-another-service"] = new("setup-policy.json",
            new(SetupArn, "iam:PassRole", Role("alice", "alice-dev"), Tagged(null, ("iam:PassedToService", "lambda.amazonaws.com")))),
        ["setup-creates-another-services-linked-role"] = new("setup-policy.json",
            new(SetupArn, "iam:CreateServiceLinkedRole", $"arn:aws:iam::{Account}:role/aws-service-role/elasticbeanstalk.amazonaws.com/AWSServiceRoleForElasticBeanstalk",
                Tagged(null, ("iam:AWSServiceName", "elasticbeanstalk.amazonaws.com")))),
        ["setup-writes-a-boxs-control-json"] = new("setup-policy.json", Put(SetupArn, null, "boxes/alice/alice-dev/control.json")),
        ["setup-reads-a-boxs-backups"] = new("setup-policy.json", Get(SetupArn, null, "boxes/alice/alice-dev/repo/config")),
        ["setup-publishes-without-encryption"] = new("setup-policy.json", new(SetupArn, "s3:PutObject", S3($"{AgentBuilds}/manifest.json"), Tagged(null))),
        ["setup-deletes-a-security-group-not-of-the-fleet"] = new("setup-policy.json", new(SetupArn, "ec2:DeleteSecurityGroup", Ec2("security-group", "sg-0ccc3333"), Tagged(null))),
        ["setup-opens-a-port-on-a-group-not-of-the-fleet"] = new("setup-policy.json",
            new(SetupArn, "ec2:AuthorizeSecurityGroupIngress", Ec2("security-group", "sg-0ccc3333"), Tagged(null, ("aws:ResourceTag/Name", "database")))),
        ["setup-tags-an-existing-instance"] = new("setup-policy.json", new(SetupArn, "ec2:CreateTags", Ec2("instance", "i-0a1b2c3d4e5f60718"), Tagged(null))),
    };

    /// <summary>The calls the code makes for its own work, by component: every one must be allowed.</summary>
    private static readonly Dictionary<string, (string Policy, List<IamRequest> Requests)> Legitimate = new(StringComparer.Ordinal)
    {
        // up: the launch, the Elastic IP, the launch claim, the control document, the agent builds manifest;
        // a missing document read as a 403 is confirmed by listing exactly its key.
        ["alice-up"] = ("people-policy.json",
        [
            .. PersonLaunch("alice", "alice-dev"),
            new(Person("alice"), "ec2:AssociateAddress", Ec2("elastic-ip", "eipalloc-0a1b2c3d4e5f60718"), Tagged("alice", ("aws:ResourceTag/spotdevbox:owner", "alice"), ("aws:ResourceTag/spotdevbox:box", "alice-dev"))),
            new(Person("alice"), "ec2:AssociateAddress", Ec2("instance", "i-0a1b2c3d4e5f60718"), Tagged("alice", ("aws:ResourceTag/spotdevbox:owner", "alice"), ("aws:ResourceTag/spotdevbox:box", "alice-dev"))),
            Get(Person("alice"), "alice", $"{AgentBuilds}/manifest.json"),
            Get(Person("alice"), "alice", "boxes/alice/alice-dev/launch.json"),
            Put(Person("alice"), "alice", "boxes/alice/alice-dev/launch.json"),
            Get(Person("alice"), "alice", "boxes/alice/alice-dev/control.json"),
            Put(Person("alice"), "alice", "boxes/alice/alice-dev/control.json"),
            List(Person("alice"), "alice", "boxes/alice/alice-dev/control.json"),
            Get(Person("alice"), "alice", "boxes/_operator/budget-overrides/alice/alice-dev.json"),
            List(Person("alice"), "alice", "boxes/_operator/budget-overrides/alice/alice-dev.json"),
        ]),
        // down, keepalive, status, ssh, ssh-config: describes, status.json (HEAD and GET), control.json, host-keys.pub.
        ["alice-down-keepalive-status-ssh"] = ("people-policy.json",
        [
            .. new[] { "DescribeInstances", "DescribeSpotPriceHistory", "DescribeImages", "DescribeInstanceTypes", "DescribeSubnets", "DescribeAddresses" }
                .Select(a => new IamRequest(Person("alice"), "ec2:" + a, "*", Tagged("alice"))),
            Get(Person("alice"), "alice", "boxes/alice/alice-dev/status.json"),
            Get(Person("alice"), "alice", "boxes/alice/alice-dev/control.json"),
            Put(Person("alice"), "alice", "boxes/alice/alice-dev/control.json"),
            Get(Person("alice"), "alice", "boxes/alice/alice-dev/host-keys.pub"),
            Get(Person("alice"), "alice", "boxes/alice/alice-dev/sessions/i-0a1b2c3d4e5f60718.json"),
            Get(Person("alice"), "alice", "boxes/alice/alice-dev/interruptions/i-0a1b2c3d4e5f60718.json"),
            List(Person("alice"), "alice", "boxes/alice/alice-dev/sessions/"),
            List(Person("alice"), "alice", "boxes/alice/alice-dev/status.json"),
        ]),
        // ssh and ssh-config through EC2 Instance Connect Endpoint: the describes open-tunnel makes, then the tunnel to port 22.
        ["alice-ssh-instance-connect"] = ("people-policy.json",
        [
            new(Person("alice"), "ec2:DescribeInstances", "*", Tagged("alice")),
            new(Person("alice"), "ec2:DescribeInstanceConnectEndpoints", "*", Tagged("alice")),
            Tunnel(Person("alice"), "alice"),
        ]),
        // ssh and ssh-config through Session Manager: her own instance with the SSH document, and ending her own session.
        ["alice-ssh-ssm"] = ("people-policy.json",
        [
            .. Session(Person("alice"), "alice", "alice"),
            new(Person("alice"), "ssm:TerminateSession", $"arn:aws:ssm:{Region}:{Account}:session/AIDAALICEEXAMPLE-0a1b2c3d4e5f60718", Tagged("alice", ("aws:userid", "AIDAALICEEXAMPLE"))),
        ]),
        // The agent: its repositories (list, read, write, prune), its status, host keys, records; reads what it is told.
        ["box-agent"] = ("box-policy.json",
        [
            List(BoxRoleSession, null, "boxes/alice/alice-dev/repo/index/"),
            List(BoxRoleSession, null, "boxes/alice/alice-dev/control.json"),
            Get(BoxRoleSession, null, "boxes/alice/alice-dev/repo/config"),
            Put(BoxRoleSession, null, "boxes/alice/alice-dev/repo/data/0a/0a1b2c"),
            Delete(BoxRoleSession, null, "boxes/alice/alice-dev/repo/locks/0a1b2c"),
            Delete(BoxRoleSession, null, "boxes/alice/alice-dev/repo/data/0a/0a1b2c"),
            Put(BoxRoleSession, null, "boxes/alice/alice-dev/host-keys/snapshots/0a1b2c"),
            Put(BoxRoleSession, null, "boxes/alice/alice-dev/host-keys.pub"),
            Put(BoxRoleSession, null, "boxes/alice/alice-dev/status.json"),
            Put(BoxRoleSession, null, "boxes/alice/alice-dev/sessions/i-0a1b2c3d4e5f60718.json"),
            Put(BoxRoleSession, null, "boxes/alice/alice-dev/interruptions/i-0a1b2c3d4e5f60718.json"),
            Get(BoxRoleSession, null, "boxes/alice/alice-dev/control.json"),
            Get(BoxRoleSession, null, "boxes/alice/alice-dev/launch.json"),
            Get(BoxRoleSession, null, $"{AgentBuilds}/1.0.0-955fb36e7b27-20261127T230053Z/spotdevbox-linux-x64.tar.gz"),
            new(BoxRoleSession, "ssm:GetParameter", $"arn:aws:ssm:{Region}:{Account}:parameter/spotdevbox/alice-dev/webhook", Tagged(null)),
        ]),
        // The controller: launches for any owner, terminates and moves tagged addresses, exchanges documents.
        ["controller"] = ("controller-policy.json",
        [
            .. Launch(ControllerArn, null, "alice", "alice-dev", "alice", "amazon", "alice", "alice"),
            .. Launch(ControllerArn, null, "bob", "bob-dev", "bob", "111122223333", "bob", "bob"),
            new(ControllerArn, "ec2:TerminateInstances", Ec2("instance", "i-0a1b2c3d4e5f60718"), Tagged(null, ("aws:ResourceTag/spotdevbox:box", "alice-dev"))),
            new(ControllerArn, "ec2:AssociateAddress", Ec2("elastic-ip", "eipalloc-0a1b2c3d4e5f60718"), Tagged(null, ("aws:ResourceTag/spotdevbox:box", "alice-dev"))),
            new(ControllerArn, "ec2:AssociateAddress", Ec2("instance", "i-0a1b2c3d4e5f60718"), Tagged(null, ("aws:ResourceTag/spotdevbox:box", "alice-dev"))),
            Get(ControllerArn, null, $"{AgentBuilds}/manifest.json"),
            Get(ControllerArn, null, "boxes/bob/bob-dev/control.json"),
            Put(ControllerArn, null, "boxes/bob/bob-dev/control.json"),
            Get(ControllerArn, null, "boxes/bob/bob-dev/launch.json"),
            Put(ControllerArn, null, "boxes/bob/bob-dev/launch.json"),
            Get(ControllerArn, null, "boxes/bob/bob-dev/status.json"),
            Get(ControllerArn, null, "boxes/bob/bob-dev/host-keys.pub"),
            Get(ControllerArn, null, "boxes/bob/bob-dev/sessions/i-0a1b2c3d4e5f60718.json"),
            Get(ControllerArn, null, "boxes/bob/bob-dev/interruptions/i-0a1b2c3d4e5f60718.json"),
            List(ControllerArn, null, "boxes/bob/bob-dev/sessions/"),
            Get(ControllerArn, null, "boxes/_operator/budget-overrides/bob/bob-dev.json"),
            List(ControllerArn, null, "boxes/_operator/budget-overrides/bob/bob-dev.json"),
        ]),
        // An operator: budget overrides, recover (versions), storage migrate (copy and delete under ROOT).
        ["operator"] = ("operator-policy.json",
        [
            Put(OperatorArn, null, "boxes/_operator/budget-overrides/alice/alice-dev.json"),
            Delete(OperatorArn, null, "boxes/_operator/budget-overrides/alice/alice-dev.json"),
            new(OperatorArn, "s3:ListBucketVersions", BucketArn, Tagged(null, ("s3:prefix", "boxes/alice/alice-dev/repo/"))),
            List(OperatorArn, null, "boxes/"),
            OnBucket(OperatorArn, "s3:GetBucketVersioning"),
            new(OperatorArn, "s3:GetObjectVersion", S3("boxes/alice/alice-dev/repo/snapshots/0a1b"), Tagged(null)),
            Get(OperatorArn, null, "boxes/alice-dev/repo/config"),
            Put(OperatorArn, null, "boxes/alice/alice-dev/repo/snapshots/0a1b"),
            Delete(OperatorArn, null, "boxes/alice-dev/repo/config"),
        ]),
        // setup and box add/remove: aws cloudformation deploy of fleet.yaml and box.yaml with the caller's credentials,
        // what CloudFormation then calls as the caller for each resource, and agent publish to the agent builds.
        ["setup"] = ("setup-policy.json",
        [
            new(SetupArn, "sts:GetCallerIdentity", "*", Tagged(null)),
            new(SetupArn, "ec2:DescribeVpcs", "*", Tagged(null)),
            new(SetupArn, "ec2:DescribeSubnets", "*", Tagged(null)),
            new(SetupArn, "ec2:DescribeImages", "*", Tagged(null)),
            new(SetupArn, "ec2:DescribeInstanceTypes", "*", Tagged(null)),
            .. new[] { "CreateChangeSet", "DescribeChangeSet", "ExecuteChangeSet", "DescribeStacks", "DescribeStackEvents" }
                .SelectMany(a => new[] { new IamRequest(SetupArn, "cloudformation:" + a, Stack("spotdevbox"), Tagged(null)), new IamRequest(SetupArn, "cloudformation:" + a, Stack("spotdevbox-box-alice-dev"), Tagged(null)) }),
            new(SetupArn, "cloudformation:DeleteStack", Stack("spotdevbox-box-alice-dev"), Tagged(null)),
            new(SetupArn, "iam:CreateRole", Role("alice", "alice-dev"), Tagged(null)),
            new(SetupArn, "iam:TagRole", Role("alice", "alice-dev"), Tagged(null)),
            new(SetupArn, "iam:PutRolePolicy", Role("alice", "alice-dev"), Tagged(null)),
            new(SetupArn, "iam:DeleteRole", Role("alice", "alice-dev"), Tagged(null)),
            new(SetupArn, "iam:CreateRole", $"arn:aws:iam::{Account}:role/spotdevbox-ControllerRole-1A2B3C4D5E6F", Tagged(null)),
            new(SetupArn, "iam:AttachRolePolicy", $"arn:aws:iam::{Account}:role/spotdevbox-ControllerRole-1A2B3C4D5E6F", Tagged(null)),
            new(SetupArn, "iam:CreateInstanceProfile", Profile("alice", "alice-dev"), Tagged(null)),
            new(SetupArn, "iam:AddRoleToInstanceProfile", Profile("alice", "alice-dev"), Tagged(null)),
            new(SetupArn, "iam:CreatePolicy", $"arn:aws:iam::{Account}:policy/spotdevbox-PeoplePolicy-1A2B3C4D5E6F", Tagged(null)),
            new(SetupArn, "iam:CreatePolicyVersion", $"arn:aws:iam::{Account}:policy/spotdevbox-PeoplePolicy-1A2B3C4D5E6F", Tagged(null)),
            new(SetupArn, "iam:PassRole", Role("alice", "alice-dev"), Tagged(null, ("iam:PassedToService", "ec2.amazonaws.com"))),
            new(SetupArn, "iam:CreateServiceLinkedRole", $"arn:aws:iam::{Account}:role/aws-service-role/ec2-instance-connect.amazonaws.com/AWSServiceRoleForEC2InstanceConnect",
                Tagged(null, ("iam:AWSServiceName", "ec2-instance-connect.amazonaws.com"))),
            .. new[] { "CreateBucket", "PutEncryptionConfiguration", "PutBucketPublicAccessBlock", "PutBucketOwnershipControls", "PutBucketVersioning", "PutLifecycleConfiguration", "PutBucketPolicy", "PutBucketTagging" }
                .Select(a => OnBucket(SetupArn, "s3:" + a)),
            Get(SetupArn, null, $"{AgentBuilds}/manifest.json"),
            List(SetupArn, null, $"{AgentBuilds}/manifest.json"),
            Put(SetupArn, null, $"{AgentBuilds}/1.0.0/spotdevbox-linux-x64.tar.gz"),
            Put(SetupArn, null, $"{AgentBuilds}/manifest.json"),
            new(SetupArn, "ec2:CreateSecurityGroup", Ec2("security-group", "*"), Tagged(null)),
            new(SetupArn, "ec2:CreateSecurityGroup", Ec2("vpc", "vpc-0123456789abcdef0"), Tagged(null)),
            new(SetupArn, "ec2:CreateTags", Ec2("security-group", "*"), Tagged(null, ("ec2:CreateAction", "CreateSecurityGroup"))),
            new(SetupArn, "ec2:AuthorizeSecurityGroupIngress", Ec2("security-group", "sg-0bbb2222"), Tagged(null, ("aws:ResourceTag/spotdevbox:fleet", "spotdevbox"))),
            new(SetupArn, "ec2:RevokeSecurityGroupEgress", Ec2("security-group", "sg-0bbb2222"), Tagged(null, ("aws:ResourceTag/spotdevbox:fleet", "spotdevbox"))),
            new(SetupArn, "ec2:DeleteSecurityGroup", Ec2("security-group", "sg-0bbb2222"), Tagged(null, ("aws:ResourceTag/spotdevbox:fleet", "spotdevbox"))),
            new(SetupArn, "ec2:CreateInstanceConnectEndpoint", Ec2("instance-connect-endpoint", "*"), Tagged(null)),
            new(SetupArn, "ec2:CreateInstanceConnectEndpoint", Ec2("subnet", "subnet-0aaa1111"), Tagged(null)),
            new(SetupArn, "ec2:DeleteInstanceConnectEndpoint", Ec2("instance-connect-endpoint", "eice-0a1b2c3d4e5f60718"), Tagged(null, ("aws:ResourceTag/spotdevbox:fleet", "spotdevbox"))),
        ]),
    };

    public static TheoryData<string> AttackNames() => new(Attacks.Keys);

    public static TheoryData<string> LegitimateNames() => new(Legitimate.Keys);

    [Theory]
    [MemberData(nameof(AttackNames))]
    public void Attack_IsDenied(string attack)
    {
        var (policy, request) = Attacks[attack];

        var decision = Decide(Render(policy), request);

        Assert.NotEqual("Allowed", decision);
    }

    [Theory]
    [MemberData(nameof(LegitimateNames))]
    public void CallsTheCodeMakes_AreAllowed(string component)
    {
        var (policy, requests) = Legitimate[component];

        var decisions = Decide([Render(policy)], requests);

        var refused = requests.Zip(decisions).Where(p => p.Second != "Allowed").Select(p => $"{p.First.Action} {p.First.Resource}: {p.Second}").ToList();
        Assert.Empty(refused);
    }

    [Fact]
    public void Attack_EachIsTheLegitimateCallWithOneThingChanged_SoTheDenialIsThatThingsDoing()
    {
        // Bob's own launch is allowed: the launch attacks above are refused for the one attribute they change.
        var decisions = Decide([Render("people-policy.json")], PersonLaunch("bob", "bob-dev"));

        Assert.All(decisions, d => Assert.Equal("Allowed", d));
    }

    [Fact]
    public void InstanceConnect_BobsTunnelToPort22OfAlicesInstance_IsAllowed_SoOnlyHerSshKeysKeepHimOut()
    {
        // OpenTunnel names the endpoint, never the instance: IAM sees its port and private address, not its owner tag
        // (docs/security.md). What the policy can bind to the owner is Session Manager, above.
        var decision = Decide(Render("people-policy.json"), Tunnel(Person("bob"), "bob"));

        Assert.Equal("Allowed", decision);
    }

    public static TheoryData<string, string> KmsPrincipals() => new()
    {
        { "box-policy.json", BoxRoleSession },
        { "controller-policy.json", ControllerArn },
        { "people-policy.json", Person("alice") },
        { "operator-policy.json", OperatorArn },
    };

    /// <summary>
    /// The key policy AWS gives a key by default: the account's IAM policies decide who uses it (without a key policy
    /// that says so, no identity policy can grant anything on a KMS key).
    /// </summary>
    private static readonly JsonNode DefaultKeyPolicy = JsonNode.Parse($$"""
        {"Version":"2012-10-17","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::{{Account}}:root"},"Action":"kms:*","Resource":"*"}]}
        """)!;

    private static IamRequest Kms(string principal, string action, string key, string? viaService) =>
        new(principal, action, key, viaService is null ? Tagged("alice") : Tagged("alice", ("kms:ViaService", viaService)), DefaultKeyPolicy);

    /// <summary>
    /// With SSE-KMS, S3 calls KMS as the caller: GenerateDataKey for each upload, Decrypt for each download. Every one of
    /// these principals uploads (the box its repositories and status, the controller and people control.json and
    /// launch.json, operators what they recover or migrate: S3PolicyActionsTests), so each holds kms-policy.json beside
    /// its own: both calls, only through S3 in the bucket's region, only on the bucket's key.
    /// </summary>
    [Theory]
    [MemberData(nameof(KmsPrincipals))]
    public void KmsKey_DataKeysAndDecrypt_OnlyThroughS3AndOnlyOnTheBucketsKey(string policy, string principal)
    {
        const string ViaS3 = "s3.us-east-1.amazonaws.com";
        const string OtherKey = "arn:aws:kms:us-east-1:123456789012:key/ffffffff-4e5f-6071-8293-a4b5c6d7e8f9";

        var decisions = Decide([Render(policy), Render("kms-policy.json")],
        [
            Kms(principal, "kms:GenerateDataKey", KmsKey, ViaS3),
            Kms(principal, "kms:Decrypt", KmsKey, ViaS3),
            // Directly, not through S3: the key would decrypt whatever else it encrypts.
            Kms(principal, "kms:Decrypt", KmsKey, viaService: null),
            Kms(principal, "kms:GenerateDataKey", KmsKey, viaService: null),
            // Through another service, or S3 of another region.
            Kms(principal, "kms:Decrypt", KmsKey, "ssm.us-east-1.amazonaws.com"),
            Kms(principal, "kms:Decrypt", KmsKey, "s3.eu-west-1.amazonaws.com"),
            // Another key, even through S3.
            Kms(principal, "kms:Decrypt", OtherKey, ViaS3),
            Kms(principal, "kms:GenerateDataKey", OtherKey, ViaS3),
            // Nothing but the two calls S3 makes.
            Kms(principal, "kms:Encrypt", KmsKey, ViaS3),
            Kms(principal, "kms:ReEncryptFrom", KmsKey, ViaS3),
            Kms(principal, "kms:CreateGrant", KmsKey, ViaS3),
        ]);

        Assert.Equal(["Allowed", "Allowed", .. Enumerable.Repeat("ImplicitlyDenied", 9)], decisions);
    }

    /// <summary>A bucket with SSE-S3 gets no kms-policy.json: the principals' own policies grant nothing in KMS.</summary>
    [Theory]
    [MemberData(nameof(KmsPrincipals))]
    public void KmsKey_OwnPolicyAlone_NoKmsGrantAtAll(string policy, string principal)
    {
        var decisions = Decide([Render(policy)],
        [
            Kms(principal, "kms:GenerateDataKey", KmsKey, "s3.us-east-1.amazonaws.com"),
            Kms(principal, "kms:Decrypt", KmsKey, "s3.us-east-1.amazonaws.com"),
        ]);

        Assert.Equal(["ImplicitlyDenied", "ImplicitlyDenied"], decisions);
    }

    [Fact]
    public void BoxPolicy_DeleteObjectVersionAndBucketSettings_AreExplicitlyDenied_SoNoOtherPolicyOnTheRoleCanGrantThem()
    {
        var box = Render("box-policy.json");
        var grantAll = JsonNode.Parse($$"""
            {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:DeleteObjectVersion","s3:PutBucketVersioning","s3:PutLifecycleConfiguration","s3:PutBucketPolicy"],"Resource":["arn:aws:s3:::{{Bucket}}","arn:aws:s3:::{{Bucket}}/*"]}]}
            """)!;

        var decisions = Decide([box, grantAll],
        [
            new(BoxRoleSession, "s3:DeleteObjectVersion", S3("boxes/alice/alice-dev/repo/config"), Tagged(null)),
            OnBucket(BoxRoleSession, "s3:PutBucketVersioning"),
            OnBucket(BoxRoleSession, "s3:PutLifecycleConfiguration"),
            OnBucket(BoxRoleSession, "s3:PutBucketPolicy"),
        ]);

        Assert.All(decisions, d => Assert.Equal("ExplicitlyDenied", d));
    }

    private static readonly JsonNode GrantAllKms = JsonNode.Parse("""
        {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}
        """)!;

    /// <summary>
    /// One call on the repositories' key (fleet.yaml's RepositoryKey) as KMS asks IAM: the key policy as the resource
    /// policy, the caller's ARN (a box's is its role's, with the path /spotdevbox/OWNER/) and tags, and the encryption
    /// context's keys (null: not in the request).
    /// </summary>
    private static IamRequest RepositoryKeyCall(
        string principal, string principalArn, string action, string? owner, string? boxTag, string? contextBox, string? contextRepository = "5f0c1a")
    {
        var context = Tagged(owner, ("aws:PrincipalArn", principalArn));
        if (boxTag is not null)
        {
            context["aws:PrincipalTag/spotdevbox:box"] = boxTag;
        }

        if (contextBox is not null)
        {
            context["kms:EncryptionContext:spotdevbox:box"] = contextBox;
        }

        if (contextRepository is not null)
        {
            context["kms:EncryptionContext:spotdevbox:repository"] = contextRepository;
        }

        return new(principal, action, RepositoryKey, context, Render("repository-key-policy.json"));
    }

    private static IamRequest AliceBox(string action, string? contextBox, string? contextRepository = "5f0c1a") =>
        RepositoryKeyCall(BoxRoleSession, Role("alice", "alice-dev"), action, "alice", "alice-dev", contextBox, contextRepository);

    private static IamRequest PersonCall(string owner, string action, string? contextBox) =>
        RepositoryKeyCall(Person(owner), Person(owner), action, owner, null, contextBox);

    [Fact]
    public void RepositoryKey_BoxAlice_GeneratesAndUnwrapsOnlyWithHerOwnBoxContext()
    {
        var decisions = Decide([Render("box-policy.json"), Render("box-repository-key-policy.json")],
        [
            AliceBox("kms:GenerateDataKey", "alice/alice-dev"),
            AliceBox("kms:Decrypt", "alice/alice-dev"),
            // Named attacks: bob's box's context, no context, no repository in it, another call than the two.
            AliceBox("kms:GenerateDataKey", "bob/bob-dev"),
            AliceBox("kms:Decrypt", "bob/bob-dev"),
            AliceBox("kms:Decrypt", "alice/other-box"),
            AliceBox("kms:Decrypt", contextBox: null, contextRepository: null),
            AliceBox("kms:Decrypt", "alice/alice-dev", contextRepository: null),
            AliceBox("kms:Encrypt", "alice/alice-dev"),
        ]);

        Assert.Equal(["Allowed", "Allowed", "ExplicitlyDenied", "ExplicitlyDenied", "ExplicitlyDenied", "ExplicitlyDenied", "ExplicitlyDenied", "ExplicitlyDenied"], decisions);
    }

    /// <summary>The key policy's Deny statements hold whatever a box role's IAM policies grant.</summary>
    [Fact]
    public void RepositoryKey_BoxAliceGrantedAllKms_StillNotBobsContextNorNoContext()
    {
        var decisions = Decide([GrantAllKms],
        [
            AliceBox("kms:Decrypt", "bob/bob-dev"),
            AliceBox("kms:GenerateDataKey", "bob/bob-dev"),
            AliceBox("kms:Decrypt", contextBox: null, contextRepository: null),
            AliceBox("kms:Decrypt", "alice/alice-dev"),
        ]);

        Assert.Equal(["ExplicitlyDenied", "ExplicitlyDenied", "ExplicitlyDenied", "Allowed"], decisions);
    }

    [Fact]
    public void RepositoryKey_OwnerAlice_DecryptsAndEncryptsOnlyHerOwnBoxesContexts()
    {
        var decisions = Decide([Render("people-policy.json")],
        [
            PersonCall("alice", "kms:Decrypt", "alice/alice-dev"),
            PersonCall("alice", "kms:Encrypt", "alice/alice-dev"),
            PersonCall("alice", "kms:Decrypt", "alice/another-box"),
            // Named attacks: bob restoring alice's box; an owner whose name is a prefix of hers; no context; a data key.
            PersonCall("bob", "kms:Decrypt", "alice/alice-dev"),
            PersonCall("ali", "kms:Decrypt", "alice/alice-dev"),
            PersonCall("alice", "kms:Decrypt", null),
            PersonCall("alice", "kms:GenerateDataKey", "alice/alice-dev"),
        ]);

        Assert.Equal(["Allowed", "Allowed", "Allowed", "ExplicitlyDenied", "ExplicitlyDenied", "ExplicitlyDenied", "ImplicitlyDenied"], decisions);
    }

    [Fact]
    public void RepositoryKey_PersonBobGrantedAllKms_StillNotAlicesContext()
    {
        var decisions = Decide([GrantAllKms], [PersonCall("bob", "kms:Decrypt", "alice/alice-dev"), PersonCall("bob", "kms:Decrypt", "bob/bob-dev")]);

        Assert.Equal(["ExplicitlyDenied", "Allowed"], decisions);
    }

    /// <summary>The controller never reads a home: no use of the key, whatever its IAM policies say; nor an operator (no owner tag).</summary>
    [Fact]
    public void RepositoryKey_ControllerAndOperator_NoUseEvenWhenGrantedAllKms()
    {
        var controller = $"arn:aws:sts::{Account}:assumed-role/fleet-ControllerRole-0A1B2C3D4E5F/i-0c0c0c0c0c0c0c0c0";
        var decisions = Decide([Render("controller-policy.json"), Render("operator-policy.json"), GrantAllKms],
        [
            RepositoryKeyCall(controller, ControllerRole, "kms:Decrypt", null, null, "alice/alice-dev"),
            RepositoryKeyCall(controller, ControllerRole, "kms:GenerateDataKey", null, null, "alice/alice-dev"),
            // Even a controller role someone tagged as an owner.
            RepositoryKeyCall(controller, ControllerRole, "kms:Decrypt", "alice", null, "alice/alice-dev"),
            RepositoryKeyCall(OperatorArn, OperatorArn, "kms:Decrypt", null, null, "alice/alice-dev"),
        ]);

        Assert.All(decisions, d => Assert.Equal("ExplicitlyDenied", d));
    }

    /// <summary>Without any IAM grant nobody uses the key: the key policy gives data use to no principal by itself.</summary>
    [Fact]
    public void RepositoryKey_KeyPolicyAlone_GrantsNoDataUse()
    {
        var decisions = Decide([Render("box-policy.json")],
        [
            AliceBox("kms:Decrypt", "alice/alice-dev"),
            AliceBox("kms:GenerateDataKey", "alice/alice-dev"),
        ]);

        Assert.Equal(["ImplicitlyDenied", "ImplicitlyDenied"], decisions);
    }
}
