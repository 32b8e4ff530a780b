using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SpotDevBox.Core.Agent;

namespace SpotDevBox.Agent;

internal enum NotificationKind
{
    Notice,
    Rebalance,
    Maintenance,
    StopWarning,
    BackupFailed,
    Stopping,
}

/// <summary>
/// Tells people: wall(1) for terminals on the box, and a webhook for those in an IDE or elsewhere
/// (a JSON POST whose "text" field Slack and most chat tools display). Failures are logged, never thrown:
/// a missing wall or an unreachable chat service must not stop a backup or a stop. The webhook URL is a secret:
/// failures are logged by their kind, never with the URL or an exception message that may quote it.
/// </summary>
/// <param name="webhook">Where the URL comes from (Agent:WebhookUrl or Agent:WebhookParameter); null: Agent:WebhookUrl only.</param>
internal sealed partial class Notifier(IOptions<AgentOptions> options, ILogger<Notifier> logger, WebhookTarget? webhook = null) : IDisposable
{
    // One client for the agent's life: the webhook is the only HTTP this class does.
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public void Dispose() => _http.Dispose();

    public async Task NotifyAsync(NotificationKind kind, string message, CancellationToken cancellationToken)
    {
        var o = options.Value;
        LogNotification(logger, kind, message);
        var text = $"[spotdevbox {o.ResolveBoxName()}] {message}";
        if (o.Wall)
        {
            await WallAsync(text, cancellationToken);
        }

        var url = webhook is null ? o.WebhookUrl : await webhook.GetAsync(cancellationToken);
        if (!string.IsNullOrWhiteSpace(url))
        {
            try
            {
                using var response = await _http.PostAsJsonAsync(url, new WebhookBody(text, kind.ToString(), o.ResolveBoxName()), WebhookJson.Default.WebhookBody, cancellationToken);
                if (!response.IsSuccessStatusCode)
                {
                    LogWebhookFailed(logger, kind, $"HTTP {(int)response.StatusCode}");
                }
            }
            catch (HttpRequestException e)
            {
                // Its message may name the URL's host and port: the kind of error says enough.
                LogWebhookFailed(logger, kind, $"HTTP request failed ({e.HttpRequestError})");
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                LogWebhookFailed(logger, kind, "no answer within its 10 s timeout");
            }
        }
    }

    private async Task WallAsync(string text, CancellationToken cancellationToken)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("wall") { RedirectStandardInput = true, RedirectStandardError = true, UseShellExecute = false })!;
            await process.StandardInput.WriteLineAsync(text.AsMemory(), cancellationToken);
            process.StandardInput.Close();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            LogWallFailed(logger, e.Message);
        }
    }

    [LoggerMessage(EventId = 3300, Level = LogLevel.Information, Message = "Telling users ({Kind}): {Message}")]
    private static partial void LogNotification(ILogger logger, NotificationKind kind, string message);

    [LoggerMessage(EventId = 3301, Level = LogLevel.Warning, Message = "The {Kind} webhook was not delivered: {Reason}")]
    private static partial void LogWebhookFailed(ILogger logger, NotificationKind kind, string reason);

    [LoggerMessage(EventId = 3302, Level = LogLevel.Warning, Message = "wall failed; terminal users were not told: {Reason}")]
    private static partial void LogWallFailed(ILogger logger, string reason);
}

internal sealed record WebhookBody(string Text, string Kind, string Box);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(WebhookBody))]
internal sealed partial class WebhookJson : JsonSerializerContext;
