using System.Text;
using System.Text.RegularExpressions;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Compute;

namespace SpotDevBox.Core.Tests.Boxes;

/// <summary>
/// The rendered user data as text: values where the template puts them, quoted as YAML and JSON
/// require, hostile values refused, the deploy files embedded as shipped, and EC2's size limit.
/// cloud-init's own parser and schema check the same output in SpotDevBox.Tests (Deploy/UserDataDeployTests).
/// </summary>
public sealed class UserDataTemplateTests
{
    private const string Sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    private static readonly AgentArtifact Artifact = new("spotdevbox-artifacts", "agent/1.4.0/spotdevbox-linux-x64.tar.gz", Sha, CpuArchitecture.X64);

    internal static BoxOptions SampleBox(string user = "alice")
    {
        var box = new BoxOptions { Owner = "alice", Region = "eu-central-1", Storage = "s3://my-bucket/boxes/alice/alice", User = user };
        box.InstanceTypes.Add("m7i.large");
        return box;
    }

    [Fact]
    public void Render_SampleBox_IsCloudConfigWithTheInstallCommandAndThePinnedSha256()
    {
        var text = UserDataTemplate.Render(SampleBox(), "alice", Artifact);

        Assert.StartsWith("#cloud-config\n", text, StringComparison.Ordinal);
        Assert.Contains(
            "  - [/usr/local/sbin/spotdevbox-install, --bucket, \"spotdevbox-artifacts\", --key, \"agent/1.4.0/spotdevbox-linux-x64.tar.gz\", "
            + "--sha256, \"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\", --arch, \"x64\", --region, \"eu-central-1\", "
            + "--user, \"alice\", --docker, \"no\"]\n",
            text, StringComparison.Ordinal);
        Assert.DoesNotContain("{{", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_SampleBox_WritesAgentJsonWithBoxUserAndHostKeyReload()
    {
        var text = UserDataTemplate.Render(SampleBox(), "alice", Artifact);

        const string expected = """
              - path: /etc/spotdevbox/agent.json
                owner: root:root
                permissions: "0640"
                content: |
                  {
                    "Agent": {
                      "Box": "s3://my-bucket/boxes/alice/alice",
                      "BoxName": "alice",
                      "Owner": "alice",
                      "User": "alice",
                      "HostKeyReloadCommand": [
                        "systemctl",
                        "try-reload-or-restart",
                        "ssh.service",
                        "sshd.service"
                      ]
                    }
                  }

            """;
        Assert.Contains(expected, text, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_SampleBox_CreatesTheDeveloperWithSudoAfterTheDefaultUser()
    {
        var text = UserDataTemplate.Render(SampleBox(), "alice", Artifact);

        const string expected = """
            users:
              - default
              - name: "alice"
                gecos: SpotDevBox developer
                shell: /bin/bash
                lock_passwd: true
                sudo: "ALL=(ALL) NOPASSWD:ALL"

            write_files:
            """;
        Assert.Contains(expected, text, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_PathsOnlyBox_HasOnlyTheDefaultUserAndNoAgentUser()
    {
        var box = SampleBox(user: "");
        box.Paths.Add("/srv/data");

        var text = UserDataTemplate.Render(box, "data", Artifact);

        Assert.Contains("users:\n  - default\n\nwrite_files:\n", text, StringComparison.Ordinal);
        Assert.Contains("\"Paths\": [\n            \"/srv/data\"\n          ],", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\"User\"", text, StringComparison.Ordinal);
        Assert.Contains("--user, \"\", --docker", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_DockerArm64AndStopTime_PassedToTheScriptAndTheAgent()
    {
        var box = SampleBox();
        box.Docker = true;

        var text = UserDataTemplate.Render(box, "alice", Artifact with { Architecture = CpuArchitecture.Arm64, Sha256 = Sha.ToUpperInvariant() }, new AgentStopTime("19:00", "Europe/Berlin"));

        Assert.Contains("--sha256, \"" + Sha + "\", --arch, \"arm64\",", text, StringComparison.Ordinal);
        Assert.Contains("--docker, \"yes\"]", text, StringComparison.Ordinal);
        Assert.Contains("        ],\n          \"StopTime\": \"19:00\",\n          \"TimeZone\": \"Europe/Berlin\"\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_BoxWithAgentSettings_WritesThemUnderTheAgentsNames()
    {
        var box = SampleBox();
        box.Agent.IdleTimeout = TimeSpan.FromMinutes(45);
        box.Agent.BackupInterval = TimeSpan.FromMinutes(20);
        box.Agent.KeepLast = 10;
        box.Agent.KeepDaily = 14;
        box.Agent.KeepWeekly = 8;
        box.Agent.KeepWithin = TimeSpan.FromDays(30);
        box.Agent.WebhookParameter = "/spotdevbox/alice/webhook";

        var text = UserDataTemplate.Render(box, "alice", Artifact);

        const string expected = """
                      ],
                      "BackupInterval": "00:20:00",
                      "KeepLast": 10,
                      "KeepDaily": 14,
                      "KeepWeekly": 8,
                      "KeepWithin": "30.00:00:00",
                      "WebhookParameter": "/spotdevbox/alice/webhook",
                      "Idle": {
                        "IdleTimeout": "00:45:00"
                      }
                    }
                  }

            """;
        Assert.Contains(expected, text, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_RollbackFloorAndAllowRollback_WrittenAsAgentMinimumSnapshotAndAllowRollback()
    {
        var floor = new SnapshotFloor("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", new DateTimeOffset(2026, 3, 2, 13, 0, 0, TimeSpan.FromHours(1)));

        var text = UserDataTemplate.Render(SampleBox(), "alice", Artifact, rollback: new RollbackGuard(floor, AllowRollback: true));

        const string expected = """
                      ],
                      "MinimumSnapshot": {
                        "Id": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                        "Time": "2026-03-02T12:00:00.0000000Z"
                      },
                      "AllowRollback": true
                    }
                  }

            """;
        Assert.Contains(expected, text, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_RepositoryKeyArn_WrittenAsAgentRepositoryKeyArn()
    {
        const string Key = "arn:aws:kms:eu-central-1:123456789012:key/11111111-2222-4333-8444-555555555555";

        var text = UserDataTemplate.Render(SampleBox(), "alice", Artifact, repositoryKeyArn: Key);

        Assert.Contains($"\n          \"RepositoryKeyArn\": \"{Key}\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("RepositoryKeyArn", UserDataTemplate.Render(SampleBox(), "alice", Artifact), StringComparison.Ordinal);
    }

    [Fact]
    public void Render_NoFloorAndNoPermission_WritesNeither()
    {
        var text = UserDataTemplate.Render(SampleBox(), "alice", Artifact, rollback: RollbackGuard.None);

        Assert.DoesNotContain("MinimumSnapshot", text, StringComparison.Ordinal);
        Assert.DoesNotContain("AllowRollback", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_BoxSettingAllowRollback_WrittenWithoutAOneShotPermission()
    {
        var box = SampleBox();
        box.Agent.AllowRollback = true;

        var text = UserDataTemplate.Render(box, "alice", Artifact);

        Assert.Contains("      ],\n          \"AllowRollback\": true\n        }\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_FloorIdThatIsNotAnId_RefusedWithoutPlacingIt()
    {
        var floor = new SnapshotFloor("aaaa\nruncmd: [reboot]", new DateTimeOffset(2026, 3, 2, 12, 0, 0, TimeSpan.Zero));

        var e = Assert.Throws<UserDataException>(() => UserDataTemplate.Render(SampleBox(), "alice", Artifact, rollback: new RollbackGuard(floor, false)));

        Assert.Contains("the rollback floor's snapshot id must be 64 lower-case hex digits", Assert.Single(e.Problems), StringComparison.Ordinal);
        Assert.DoesNotContain("reboot", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_BoxWithSomeAgentSettings_WritesOnlyThose()
    {
        var box = SampleBox();
        box.Agent.KeepDaily = 0;

        var text = UserDataTemplate.Render(box, "alice", Artifact);

        Assert.Contains("      ],\n          \"KeepDaily\": 0\n        }\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("BackupInterval", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Idle", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Webhook", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/spotdevbox/alice/webhook\nruncmd: [reboot]")]
    [InlineData("/spotdevbox/alice/\"webhook")]
    [InlineData("/spotdevbox/$(reboot)")]
    [InlineData("https://hooks.example.com/services/T000/B000/XXXX")]
    [InlineData("spotdevbox/bob/hook")]
    [InlineData("/spotdevbox//webhook")]
    public void Render_UnsafeWebhookParameter_RefusedWithoutPrintingIt(string parameter)
    {
        var box = SampleBox();
        box.Agent.WebhookParameter = parameter;

        var e = Assert.Throws<UserDataException>(() => UserDataTemplate.Render(box, "alice", Artifact));

        Assert.Equal(["Agent:WebhookParameter must be the name of an SSM parameter such as /spotdevbox/alice/webhook ('/' then letters, digits and _ . - /, at most 1011 characters)"], e.Problems);
        Assert.DoesNotContain(parameter, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_AnotherBoxsWebhookParameter_Refused()
    {
        var box = SampleBox();
        box.Agent.WebhookParameter = "/spotdevbox/bob/webhook";

        var e = Assert.Throws<UserDataException>(() => UserDataTemplate.Render(box, "alice", Artifact));

        Assert.Equal(["Agent:WebhookParameter must be under /spotdevbox/alice/ (the box's role may read only its own parameters, deploy/iam/box-policy.json)"], e.Problems);
    }

    [Fact]
    public void Render_AgentSettingsOutOfTheAgentsLimits_RefusedNamingEach()
    {
        var box = SampleBox();
        box.Agent.IdleTimeout = TimeSpan.FromMinutes(5);
        box.Agent.BackupInterval = TimeSpan.FromDays(2);
        box.Agent.KeepLast = -1;

        var e = Assert.Throws<UserDataException>(() => UserDataTemplate.Render(box, "alice", Artifact));

        Assert.Equal(
            [
                "Agent:IdleTimeout must be between 00:15:00 and 7.00:00:00, got 00:05:00",
                "Agent:BackupInterval must be between 00:01:00 and 1.00:00:00, got 2.00:00:00",
                "Agent:KeepLast must be between 0 and 10000, got -1",
            ],
            e.Problems);
    }

    [Fact]
    public void Render_AllKeepsZero_RefusedAsRetentionThatDeletesEverything()
    {
        var box = SampleBox();
        box.Agent.KeepLast = 0;
        box.Agent.KeepDaily = 0;
        box.Agent.KeepWeekly = 0;
        box.Agent.KeepWithin = TimeSpan.Zero;

        var e = Assert.Throws<UserDataException>(() => UserDataTemplate.Render(box, "alice", Artifact));

        Assert.Equal(["Agent:KeepLast, KeepDaily, KeepWeekly and KeepWithin are all 0: retention would delete every snapshot"], e.Problems);
    }

    [Fact]
    public void Render_AllCountsZeroWithTheAgentsDefaultKeepWithin_IsARetentionByTimeAndAccepted()
    {
        var box = SampleBox();
        box.Agent.KeepLast = 0;
        box.Agent.KeepDaily = 0;
        box.Agent.KeepWeekly = 0;

        var text = UserDataTemplate.Render(box, "alice", Artifact);

        Assert.Contains("\"KeepWeekly\": 0", text, StringComparison.Ordinal);
        Assert.DoesNotContain("KeepWithin", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_PathWithQuotesBackslashAndShellSyntax_IsJsonEscapedInsideTheLiteralBlock()
    {
        var box = SampleBox();
        box.Paths.Add("/srv/it's \"here\" $(reboot) `id` \\ #x: y");

        var text = UserDataTemplate.Render(box, "alice", Artifact);

        // A literal block takes the JSON as it is; JSON escapes the quote and the backslash.
        Assert.Contains("\n            \"/srv/it's \\\"here\\\" $(reboot) `id` \\\\ #x: y\"\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_ArtifactKeyWithQuoteAndParentheses_IsYamlDoubleQuoted()
    {
        var text = UserDataTemplate.Render(SampleBox(), "alice", Artifact with { Key = "agent/it's(1)*.tar.gz" });

        Assert.Contains("--key, \"agent/it's(1)*.tar.gz\", --sha256", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ali\nce", "User must be a Linux user name", "\"ali\\nce\"")]
    [InlineData("alice\n", "User must be a Linux user name", "\"alice\\n\"")]
    [InlineData("al\"ice", "User must be a Linux user name", "\"al\\\"ice\"")]
    [InlineData("alice: x", "User must be a Linux user name", "\"alice: x\"")]
    [InlineData("root", "User must be a Linux user name other than root", "\"root\"")]
    public void Render_HostileUser_RefusedNamingTheSettingAndTheEscapedValue(string user, string reason, string shown)
    {
        var e = Assert.Throws<UserDataException>(() => UserDataTemplate.Render(SampleBox(user), "alice", Artifact));

        Assert.StartsWith("Cannot render the user data of box \"alice\": ", e.Message, StringComparison.Ordinal);
        var problem = Assert.Single(e.Problems);
        Assert.StartsWith(reason, problem, StringComparison.Ordinal);
        Assert.EndsWith("got " + shown, problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/srv/a\nruncmd: [reboot]")]
    [InlineData("/srv/a\rb")]
    [InlineData("/srv/a\u2028b")]
    [InlineData("/srv/a\u0085b")]
    [InlineData("/srv/a\tb")]
    [InlineData("/srv/a\0b")]
    [InlineData("relative/path")]
    public void Render_PathWithLineBreakControlOrRelative_Refused(string path)
    {
        var box = SampleBox();
        box.Paths.Add("/home/alice/ok");
        box.Paths.Add(path);

        var e = Assert.Throws<UserDataException>(() => UserDataTemplate.Render(box, "alice", Artifact));

        Assert.StartsWith("Paths:1 must be an absolute path without control or line-break characters, got ", Assert.Single(e.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void Render_SeveralBadValues_NamesEach()
    {
        var box = SampleBox();
        box.Storage = "s3://my-bucket/boxes/alice/alice\n";
        box.Region = "eu central 1";

        var e = Assert.Throws<UserDataException>(() => UserDataTemplate.Render(box, "Alice", Artifact with { Sha256 = "abc", Key = "/agent.tar.gz", Bucket = "My_Bucket" }));

        Assert.Equal(
            [
                "the box name must be 1-32 lower-case letters, digits and '-', starting with a letter, got \"Alice\"",
                "Region must be an AWS region such as eu-central-1, got \"eu central 1\"",
                "Storage must be the box's prefix in a bucket, s3://bucket/prefix, without control or line-break characters, got \"s3://my-bucket/boxes/alice/alice\\n\"",
                "the agent's bucket must be an S3 bucket name, got \"My_Bucket\"",
                "the agent's key must be an S3 key of letters, digits and ! - _ . * ' ( ) /, not starting with '/', got \"/agent.tar.gz\"",
                "the agent's SHA-256 must be 64 hex digits, got \"abc\"",
            ],
            e.Problems);
    }

    [Fact]
    public void Render_BadStopTime_Refused()
    {
        var e = Assert.Throws<UserDataException>(() => UserDataTemplate.Render(SampleBox(), "alice", Artifact, new AgentStopTime("7pm", "Europe/Berlin\nx")));

        Assert.Equal(["StopTime must be a time of day as HH:mm, got \"7pm\"", "TimeZone must be an IANA time zone such as Europe/Berlin, got \"Europe/Berlin\\nx\""], e.Problems);
    }

    [Fact]
    public void Render_OverSixteenKilobytes_RefusedWithTheSize()
    {
        var box = SampleBox();
        for (var i = 0; i < 100; i++)
        {
            box.Paths.Add("/srv/" + new string('p', 95) + i.ToString("D3", System.Globalization.CultureInfo.InvariantCulture));
        }

        var e = Assert.Throws<UserDataException>(() => UserDataTemplate.Render(box, "alice", Artifact));

        var problem = Assert.Single(e.Problems);
        Assert.Matches(new Regex("^the user data is [0-9]+ bytes and EC2 takes at most 16384; 100 Paths take 10300 bytes of it$"), problem);
    }

    private const int LaunchRequestLimit = SpotDevBox.Core.Compute.LaunchRequest.MaxUserDataBytes;

    [Fact]
    public void Render_SampleBox_FitsWithRoomForPaths()
    {
        var bytes = Encoding.UTF8.GetByteCount(UserDataTemplate.Render(SampleBox(), "alice", Artifact));

        // The deploy files take most of it; at least 3 KB of EC2's 16 KB must be left for a box's Paths.
        Assert.InRange(bytes, 4_000, LaunchRequestLimit - 3_000);
    }

    [Fact]
    public void Render_SampleBox_CarriesNoSecret()
    {
        var box = SampleBox();
        box.Docker = true;

        var text = UserDataTemplate.Render(box, "alice", Artifact, new AgentStopTime("19:00", "UTC"));

        foreach (var word in new[] { "aws_secret", "secret_access_key", "SecretAccessKey", "aws_session_token", "X-Amz-Signature", "X-Amz-Credential", "password", "hashed_passwd", "plain_text_passwd", "chpasswd", "ssh_authorized_keys", "WebhookUrl", "BEGIN" })
        {
            Assert.DoesNotContain(word, text, StringComparison.OrdinalIgnoreCase);
        }

        // No access key id (long-term AKIA or temporary ASIA).
        Assert.DoesNotMatch(new Regex("(AKIA|ASIA)[A-Z0-9]{16}"), text);
    }

    [Theory]
    [InlineData("deploy/systemd/spotdevbox-agent.service", "/etc/systemd/system/spotdevbox-agent.service", "0644")]
    [InlineData("deploy/systemd/spotdevbox-profile.sh", "/etc/profile.d/spotdevbox.sh", "0644")]
    [InlineData("deploy/cloud-init/spotdevbox-install.sh", "/usr/local/sbin/spotdevbox-install", "0755")]
    public void Render_DeployFile_EmbeddedAsShippedIndentedInItsLiteralBlock(string source, string path, string mode)
    {
        var shipped = File.ReadAllText(Path.Combine(RepositoryRoot(), source));
        var block = string.Concat(shipped.Split('\n').SkipLast(1).Select(l => (l.Length == 0 ? "" : "      " + l) + "\n"));

        var text = UserDataTemplate.Render(SampleBox(), "alice", Artifact);

        Assert.Contains($"  - path: {path}\n    owner: root:root\n    permissions: \"{mode}\"\n    content: |\n{block}", text, StringComparison.Ordinal);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SpotDevBox.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("SpotDevBox.sln not found above " + AppContext.BaseDirectory);
    }
}
