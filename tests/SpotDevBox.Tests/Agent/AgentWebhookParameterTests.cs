using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Compute;
using TestSupport;
using TestSupport.Imds;

namespace SpotDevBox.Tests.Agent;

/// <summary>
/// The real <c>spotdevbox agent run</c> started with the agent configuration a launch's user data writes for a box
/// with Controller:Boxes:&lt;box&gt;:Agent settings: it runs with those settings, reads the webhook URL from the SSM
/// SecureString the configuration names (moto stands in for SSM), and never writes the URL to stderr or its log file.
/// </summary>
[Collection("moto")]
public sealed class AgentWebhookParameterTests(MotoFixture moto) : IAsyncLifetime
{
    private const string Parameter = "/spotdevbox/dev/webhook";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private readonly TempDir _temp = new("spotdevbox-agent-ssm-");
    private readonly WebhookRecorder _hook = new();
    private ImdsSimulator _imds = null!;

    public async Task InitializeAsync()
    {
        await moto.ResetAsync();
        _imds = await ImdsSimulator.StartAsync();
        Directory.CreateDirectory(_temp.Sub("home"));
    }

    public async Task DisposeAsync()
    {
        await _imds.DisposeAsync();
        _hook.Dispose();
        _temp.Dispose();
    }

    [Fact]
    public async Task AgentRun_UserDataWithAgentSettingsAndWebhookParameter_UsesThemAndPostsWithoutEverPrintingTheUrl()
    {
        using (var ssm = SsmClient())
        {
            await ssm.PutParameterAsync(new PutParameterRequest { Name = Parameter, Value = _hook.Url, Type = ParameterType.SecureString });
        }

        using var agent = StartAgent();
        var settings = agent.StderrLineAsync("Agent settings: ");
        var read = agent.StderrLineAsync("Webhook URL read from SSM parameter " + Parameter);
        await ReadyAsync(agent);
        var both = Task.WhenAll(settings, read);
        Assert.True(await Task.WhenAny(both, Task.Delay(Wait)) == both, agent.Stderr);
        Assert.Contains("idle timeout 00:45:00, backup every 00:20:00, keep last 10, daily 14, weekly 8, within 45.00:00:00", agent.Stderr, StringComparison.Ordinal);
        Assert.Contains("webhook from SSM parameter " + Parameter, agent.Stderr, StringComparison.Ordinal);

        _imds.ArmRebalance(TimeProvider.System.GetUtcNow());
        var deadline = TimeProvider.System.GetUtcNow() + Wait;
        while (_hook.Received.Count == 0 && TimeProvider.System.GetUtcNow() < deadline)
        {
            await Task.Delay(200);
        }

        var (_, body) = Assert.Single(_hook.Received);
        Assert.Equal("Rebalance", body.GetProperty("kind").GetString());
        Assert.Equal("dev", body.GetProperty("box").GetString());

        agent.Terminate();
        var exit = await agent.WaitAsync(Wait);
        Assert.True(exit.ExitCode == 0, exit.ToString());
        AssertUrlNowhere(exit.Stderr);
    }

    [Fact]
    public async Task AgentRun_WebhookParameterMissing_WarnsNamingItAndRunsWithoutWebhook()
    {
        using var agent = StartAgent();
        var warning = agent.StderrLineAsync("No webhook: SSM parameter " + Parameter + " is unusable: it does not exist");
        await ReadyAsync(agent);
        Assert.True(await Task.WhenAny(warning, Task.Delay(Wait)) == warning, agent.Stderr);

        // Still notifying (the log, wall): a rebalance is told and backed up, the box keeps running.
        var told = agent.StderrLineAsync("Telling users (Rebalance)");
        _imds.ArmRebalance(TimeProvider.System.GetUtcNow());
        Assert.True(await Task.WhenAny(told, Task.Delay(Wait)) == told, agent.Stderr);
        Assert.False(agent.HasExited, agent.Stderr);
        Assert.Empty(_hook.Received);

        agent.Terminate();
        var exit = await agent.WaitAsync(Wait);
        Assert.True(exit.ExitCode == 0, exit.ToString());
    }

    private static async Task ReadyAsync(RunningCli agent)
    {
        var ready = agent.StderrLineAsync("is ready: backups may run");
        Assert.True(await Task.WhenAny(ready, Task.Delay(Wait)) == ready && !agent.HasExited, agent.Stderr);
    }

    /// <summary>The URL (its secret path above all) is in neither stderr nor any log file.</summary>
    private void AssertUrlNowhere(string stderr)
    {
        var secretPath = new Uri(_hook.Url).AbsolutePath;
        Assert.DoesNotContain(_hook.Url, stderr, StringComparison.Ordinal);
        var logs = Directory.GetFiles(_temp.Sub("logs"));
        Assert.NotEmpty(logs);
        var text = string.Concat(logs.Select(File.ReadAllText));
        Assert.Contains("Webhook URL read from SSM parameter", text, StringComparison.Ordinal);
        Assert.DoesNotContain(_hook.Url, text, StringComparison.Ordinal);
        Assert.DoesNotContain(secretPath.TrimEnd('/'), text.Replace(Parameter, "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    private AmazonSimpleSystemsManagementClient SsmClient() =>
        new(S3PeerFixture.Credentials, new AmazonSimpleSystemsManagementConfig { ServiceURL = moto.Endpoint, AuthenticationRegion = MotoFixture.Region });

    /// <summary>
    /// The agent with /etc/spotdevbox/agent.json as the user data of a box with Agent settings writes it; the
    /// environment points what a test cannot have (S3, /home/dev, the host's metadata service, sshd) at local stand-ins.
    /// </summary>
    private RunningCli StartAgent()
    {
        var box = new BoxOptions { Owner = "dev", Region = "us-east-1", Storage = "s3://spotdevbox-test/boxes/dev/dev", User = "dev" };
        box.InstanceTypes.Add("m7i.large");
        box.Agent.IdleTimeout = TimeSpan.FromMinutes(45);
        box.Agent.BackupInterval = TimeSpan.FromMinutes(20);
        box.Agent.KeepLast = 10;
        box.Agent.KeepWithin = TimeSpan.FromDays(45);
        box.Agent.KeepDaily = 14;
        box.Agent.KeepWeekly = 8;
        box.Agent.WebhookParameter = Parameter;
        var userData = UserDataTemplate.Render(box, "dev", new AgentArtifact("spotdevbox-artifacts", "agent/spotdevbox-linux-x64.tar.gz", new string('a', 64), CpuArchitecture.X64));
        var config = _temp.Sub("agent.json");
        File.WriteAllText(config, AgentJsonFile(userData));

        var cli = new SpotDevBoxProcess(_temp.Sub("cli"))
            .Set("AWS_ACCESS_KEY_ID", S3PeerFixture.AccessKey)
            .Set("AWS_SECRET_ACCESS_KEY", S3PeerFixture.SecretKey)
            .Set("AWS_REGION", MotoFixture.Region)
            .Set("AWS_ENDPOINT_URL_SSM", moto.Endpoint)
            .Set("SPOTDEVBOX_CONFIG", config)
            .Set("SPOTDEVBOX_Logging__File", Path.Combine(_temp.Sub("logs"), "agent.log"))
            .Set("SPOTDEVBOX_Agent__Box", _temp.Sub("box"))
            .Set("SPOTDEVBOX_Agent__PasswordFile", TestKeys.WritePasswordFile(_temp.Sub("secrets/repository-password")))
            .Set("SPOTDEVBOX_Agent__Paths__0", _temp.Sub("home"))
            .Set("SPOTDEVBOX_Agent__StateDirectory", _temp.Sub("state"))
            .Set("SPOTDEVBOX_Agent__RunDirectory", _temp.Sub("run"))
            .Set("SPOTDEVBOX_Agent__HostKeys", "false")
            .Set("SPOTDEVBOX_Agent__Wall", "false")
            .Set("SPOTDEVBOX_Agent__HostRoot", _temp.Sub("host-root"))
            .Set("SPOTDEVBOX_Agent__PowerOffCommand__0", "touch")
            .Set("SPOTDEVBOX_Agent__PowerOffCommand__1", _temp.Sub("powered-off"))
            .Set("SPOTDEVBOX_Agent__Metadata__BaseUrl", _imds.BaseUrl.ToString())
            .Set("SPOTDEVBOX_Agent__Metadata__TokenRequestTimeout", "00:00:01")
            .Set("SPOTDEVBOX_Agent__Metadata__RequestTimeout", "00:00:01")
            .Set("SPOTDEVBOX_Agent__Interruption__PollInterval", "00:00:01")
            .Set("SPOTDEVBOX_Agent__Interruption__MaxBackoff", "00:00:02");
        return cli.Start(["agent", "run"]);
    }

    /// <summary>The content of /etc/spotdevbox/agent.json in rendered user data (its literal block, unindented).</summary>
    internal static string AgentJsonFile(string userData)
    {
        var start = userData.IndexOf("- path: /etc/spotdevbox/agent.json", StringComparison.Ordinal);
        Assert.True(start >= 0, userData);
        const string content = "content: |\n";
        var block = userData[(userData.IndexOf(content, start, StringComparison.Ordinal) + content.Length)..];
        return string.Join('\n', block.Split('\n').TakeWhile(l => l.StartsWith("      ", StringComparison.Ordinal)).Select(l => l[6..]));
    }
}
