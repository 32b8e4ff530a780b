using System.Net;
using Microsoft.Extensions.Logging;
using Moq;
using SpotDevBox.Agent;
using SpotDevBox.Core.Agent;

namespace SpotDevBox.Tests.Agent;

/// <summary>The webhook half of the notifier against a loopback HTTP listener (wall is off).</summary>
public sealed class NotifierTests : IDisposable
{
    private readonly WebhookRecorder _hook = new();
    private readonly RecordingLoggerFactory _loggers = new();

    [Fact]
    public async Task NotifyAsync_Webhook_PostsSlackCompatibleJsonWithKindAndBox()
    {
        using var notifier = Notifier(_hook.Url);

        await notifier.NotifyAsync(NotificationKind.StopWarning, "Idle for 25 min: stopping in 5 min.", CancellationToken.None);

        var (contentType, body) = Assert.Single(_hook.Received);
        Assert.StartsWith("application/json", contentType, StringComparison.Ordinal);
        Assert.Equal("[spotdevbox alice] Idle for 25 min: stopping in 5 min.", body.GetProperty("text").GetString());
        Assert.Equal("StopWarning", body.GetProperty("kind").GetString());
        Assert.Equal("alice", body.GetProperty("box").GetString());
        Assert.Equal(3, body.EnumerateObject().Count());
    }

    [Fact]
    public async Task NotifyAsync_BoxNameSet_UsesTheName()
    {
        using var notifier = Notifier(_hook.Url, boxName: "alice-gpu");

        await notifier.NotifyAsync(NotificationKind.Notice, "Saving your work now.", CancellationToken.None);

        var (_, body) = Assert.Single(_hook.Received);
        Assert.Equal("[spotdevbox alice-gpu] Saving your work now.", body.GetProperty("text").GetString());
        Assert.Equal("alice-gpu", body.GetProperty("box").GetString());
        Assert.Equal("Notice", body.GetProperty("kind").GetString());
    }

    [Fact]
    public async Task NotifyAsync_WebhookAnswers500_LoggedNotThrown()
    {
        _hook.Status = HttpStatusCode.InternalServerError;
        using var notifier = Notifier(_hook.Url);

        await notifier.NotifyAsync(NotificationKind.BackupFailed, "The backup failed.", CancellationToken.None);

        Assert.Single(_hook.Received);
        var warning = Assert.Single(_loggers.Entries, e => e.EventId == 3301);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("HTTP 500", warning.Message, StringComparison.Ordinal);
        Assert.Contains("BackupFailed", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NotifyAsync_WebhookUnreachable_LoggedNotThrown()
    {
        using var notifier = Notifier($"http://127.0.0.1:{WebhookRecorder.FreePort()}/hook");

        await notifier.NotifyAsync(NotificationKind.Stopping, "Powering off.", CancellationToken.None);

        var warning = Assert.Single(_loggers.Entries, e => e.EventId == 3301);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("Stopping", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NotifyAsync_WebhookUnreachable_WarningShowsNeitherTheAddressNorThePath()
    {
        var port = WebhookRecorder.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var notifier = Notifier($"http://127.0.0.1:{port}/services/T000/B000/SECRETPATH");

        await notifier.NotifyAsync(NotificationKind.Stopping, "Powering off.", CancellationToken.None);

        var warning = Assert.Single(_loggers.Entries, e => e.EventId == 3301);
        Assert.Equal("The Stopping webhook was not delivered: HTTP request failed (ConnectionError)", warning.Message);
        Assert.DoesNotContain(port, string.Concat(_loggers.Entries.Select(e => e.Message)), StringComparison.Ordinal);
        Assert.DoesNotContain("SECRETPATH", string.Concat(_loggers.Entries.Select(e => e.Message)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task NotifyAsync_WebhookFromParameter_PostsToTheParametersUrl()
    {
        var parameters = new Mock<ISecretParameters>();
        parameters.Setup(p => p.ReadAsync("/spotdevbox/alice/webhook", It.IsAny<CancellationToken>()))
            .ReturnsAsync(new SecretParameter(SecretParameterOutcome.Found, _hook.Url, ""));
        var options = Microsoft.Extensions.Options.Options.Create(new AgentOptions { Box = "s3://bucket/boxes/alice", Wall = false, WebhookParameter = "/spotdevbox/alice/webhook" });
        using var target = new WebhookTarget(options, parameters.Object, _loggers.CreateLogger<WebhookTarget>());
        using var notifier = new Notifier(options, _loggers.CreateLogger<Notifier>(), target);

        await notifier.NotifyAsync(NotificationKind.Notice, "Saving your work now.", CancellationToken.None);
        await notifier.NotifyAsync(NotificationKind.Stopping, "Powering off.", CancellationToken.None);

        Assert.Equal(["Notice", "Stopping"], _hook.Received.Select(r => r.Body.GetProperty("kind").GetString()));
        // Read once for the agent's life.
        parameters.Verify(p => p.ReadAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()), Times.Once);
        Assert.DoesNotContain(_hook.Url, string.Concat(_loggers.Entries.Select(e => e.Message)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task NotifyAsync_NoWebhook_OnlyLogsTheNotification()
    {
        using var notifier = Notifier("");

        await notifier.NotifyAsync(NotificationKind.Rebalance, "Backing up early.", CancellationToken.None);

        Assert.Empty(_hook.Received);
        var entry = Assert.Single(_loggers.Entries);
        Assert.Equal(3300, entry.EventId);
        Assert.Equal("Telling users (Rebalance): Backing up early.", entry.Message);
    }

    public void Dispose() => _hook.Dispose();

    private Notifier Notifier(string webhook, string boxName = "") =>
        new(
            Microsoft.Extensions.Options.Options.Create(new AgentOptions { Box = "s3://bucket/boxes/alice", BoxName = boxName, Wall = false, WebhookUrl = webhook }),
            _loggers.CreateLogger<Notifier>());
}
