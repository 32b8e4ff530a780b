using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Idle;

namespace SpotDevBox.Agent;

/// <summary>
/// Where the webhook goes: Agent:WebhookUrl as configured, or the SecureString named by Agent:WebhookParameter,
/// read once with the box's role. The URL is a secret (its path is the credential): nothing here logs it; a
/// parameter that is missing or refused is logged by its name and the agent runs without a webhook. A failure
/// that may pass (SSM unreachable) is tried again at the next notification.
/// </summary>
internal sealed partial class WebhookTarget(IOptions<AgentOptions> options, ISecretParameters parameters, ILogger<WebhookTarget> logger) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private string? _url;
    private bool _settled;

    public void Dispose() => _gate.Dispose();

    /// <summary>The webhook URL, or null when there is none (not configured, or its parameter could not be read).</summary>
    public async Task<string?> GetAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (!string.IsNullOrWhiteSpace(o.WebhookUrl))
        {
            return o.WebhookUrl;
        }

        if (string.IsNullOrWhiteSpace(o.WebhookParameter))
        {
            return null;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_settled)
            {
                return _url;
            }

            var read = await parameters.ReadAsync(o.WebhookParameter, cancellationToken);
            switch (read.Outcome)
            {
                case SecretParameterOutcome.Found when Uri.TryCreate(read.Value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp):
                    _url = read.Value;
                    _settled = true;
                    LogWebhookRead(logger, o.WebhookParameter);
                    break;
                case SecretParameterOutcome.Found:
                    _settled = true;
                    LogWebhookUnusable(logger, o.WebhookParameter, "its value is not an http(s) URL (the value is not printed)");
                    break;
                case SecretParameterOutcome.NotFound or SecretParameterOutcome.AccessDenied:
                    _settled = true;
                    LogWebhookUnusable(logger, o.WebhookParameter, read.Outcome == SecretParameterOutcome.NotFound
                        ? $"it does not exist ({read.Reason}); create it as a SecureString"
                        : $"the box's role may not read or decrypt it ({read.Reason}); see deploy/README.md");
                    break;
                default:
                    LogWebhookNotYet(logger, o.WebhookParameter, read.Reason);
                    break;
            }

            return _url;
        }
        finally
        {
            _gate.Release();
        }
    }

    [LoggerMessage(EventId = 3310, Level = LogLevel.Information, Message = "Webhook URL read from SSM parameter {Parameter}")]
    private static partial void LogWebhookRead(ILogger logger, string parameter);

    [LoggerMessage(EventId = 3311, Level = LogLevel.Warning, Message = "No webhook: SSM parameter {Parameter} is unusable: {Reason}. Notices go to wall and the log only")]
    private static partial void LogWebhookUnusable(ILogger logger, string parameter, string reason);

    [LoggerMessage(EventId = 3312, Level = LogLevel.Warning, Message = "SSM parameter {Parameter} could not be read yet ({Reason}); trying again at the next notice")]
    private static partial void LogWebhookNotYet(ILogger logger, string parameter, string reason);
}

/// <summary>At start: one line with the settings that shape the box's session, and the webhook read before the first notice may need it.</summary>
internal sealed partial class AgentSettingsAnnouncer(
    IOptions<AgentOptions> agent, IOptions<IdleOptions> idle, WebhookTarget webhook, ILogger<AgentSettingsAnnouncer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var a = agent.Value;
        var source = !string.IsNullOrWhiteSpace(a.WebhookUrl) ? "configured"
            : !string.IsNullOrWhiteSpace(a.WebhookParameter) ? "from SSM parameter " + a.WebhookParameter
            : "none";
        LogSettings(logger, idle.Value.IdleTimeout, a.BackupInterval, a.KeepLast, a.KeepDaily, a.KeepWeekly, a.KeepWithin, a.RetentionInterval, source);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            _ = await webhook.GetAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // SSM did not answer in time: the next notice tries again; the agent's start does not wait for a chat service.
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 3313, Level = LogLevel.Information,
        Message = "Agent settings: idle timeout {IdleTimeout}, backup every {BackupInterval}, keep last {KeepLast}, daily {KeepDaily}, weekly {KeepWeekly}, within {KeepWithin} (retention every {RetentionInterval}), webhook {Webhook}")]
    private static partial void LogSettings(ILogger logger, TimeSpan idleTimeout, TimeSpan backupInterval, int keepLast, int keepDaily, int keepWeekly, TimeSpan keepWithin, TimeSpan retentionInterval, string webhook);
}
