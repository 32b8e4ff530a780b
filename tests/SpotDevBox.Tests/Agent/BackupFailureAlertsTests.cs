using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SpotDevBox.Agent;
using SpotDevBox.Core.Agent;

namespace SpotDevBox.Tests.Agent;

/// <summary>Backup failures reach people once when they start and once when backups work again, not at every attempt.</summary>
public sealed class BackupFailureAlertsTests : IDisposable
{
    private readonly WebhookRecorder _hook = new();

    [Fact]
    public async Task BoardChanges_FailingTwiceThenRecovering_AnnouncesTheFailureOnceAndTheRecovery()
    {
        var options = Options.Create(new AgentOptions { Box = "s3://bucket/boxes/alice", Wall = false, WebhookUrl = _hook.Url });
        var board = new AgentStatusBoard(options, TimeProvider.System);
        using var notifier = new Notifier(options, NullLogger<Notifier>.Instance);
        var alerts = new BackupFailureAlerts(board, notifier);
        await alerts.StartAsync(CancellationToken.None);

        board.Update(s => s with { LastBackupError = "access denied" });
        board.Update(s => s with { LastBackupError = "access denied" });
        board.Update(s => s with { State = AgentState.BackingUp });
        board.Update(s => s with { LastBackupError = null, LastSnapshotId = "0123456789" });
        await alerts.StopAsync(CancellationToken.None);
        board.Update(s => s with { LastBackupError = "after stop: not announced" });

        var received = await WaitForAsync(2);
        Assert.Equal(2, received.Count);
        Assert.StartsWith("[spotdevbox alice] Backups are failing: access denied. Your last snapshot is from never", received[0], StringComparison.Ordinal);
        Assert.Equal("[spotdevbox alice] Backups work again.", received[1]);
    }

    private async Task<List<string>> WaitForAsync(int count)
    {
        for (var i = 0; i < 100 && _hook.Received.Count < count; i++)
        {
            await Task.Delay(50);
        }

        await Task.Delay(200);
        // Sent from separate tasks: the order of arrival is not the order of sending, so sort failure first.
        return [.. _hook.Received.Select(r => r.Body.GetProperty("text").GetString()!).OrderBy(t => t.Contains("work again", StringComparison.Ordinal))];
    }

    public void Dispose() => _hook.Dispose();
}
